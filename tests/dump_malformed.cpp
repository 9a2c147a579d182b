// Writes every case of the malformed suite to a directory (one file per case, named after it), so the fuzz
// harness can replay them: `dump_malformed DIR && fuzz_view DIR`.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "support/malformed_cases.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  std::size_t written = 0;
  for (const auto& c : elfsieve::testing::all_malformed_cases()) {
    const auto bytes = c.make().bytes;
    std::ofstream out(dir / c.name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "%s: cannot write\n", (dir / c.name).c_str());
      return 1;
    }
    ++written;
  }
  std::printf("wrote %zu malformed inputs to %s\n", written, argv[1]);
  return 0;
}
