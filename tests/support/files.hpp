// Whole-file reads for tests (the library's mapped_file is what is under test elsewhere).
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <ios>
#include <vector>

namespace elfsieve::test {

// The bytes of file `p`, in a buffer of exactly its size (so ASan sees a read one past the end).
inline std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::byte> out(std::filesystem::file_size(p));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace elfsieve::test
