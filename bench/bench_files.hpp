// The objects the benchmarks run over: a representative set from every corpus architecture (xz-compressed ones
// decompressed once into the build tree), or the files given with --files=F1,F2,...
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

// `corpus/<arch>/<name>.xz` decompressed into the build tree once (xz -dc), or the file itself.
std::string materialize(const fs::path& source) {
  if (source.extension() != ".xz") return source.string();
  const fs::path out = fs::path(ELFSIEVE_BENCH_WORK_DIR) / source.parent_path().filename() / source.stem();
  std::error_code ec;
  if (fs::exists(out, ec) && fs::last_write_time(out, ec) >= fs::last_write_time(source, ec)) return out.string();
  fs::create_directories(out.parent_path(), ec);
  const fs::path partial = out.string() + ".part";
  const std::string command = "xz -dc '" + source.string() + "' > '" + partial.string() + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "bench: cannot decompress %s (skipped)\n", source.c_str());
    return {};
  }
  fs::rename(partial, out, ec);
  return ec ? std::string{} : out.string();
}

std::vector<std::string> default_files() {
  const fs::path corpus = fs::path(ELFSIEVE_SOURCE_DIR) / "corpus";
  const std::vector<std::pair<const char*, std::vector<const char*>>> sets = {
      {"x86_64", {"crc7.ko", "vfat.ko", "usbcore.ko", "libata.ko", "kvm.ko", "btrfs.ko"}},
      {"i386", {"crc7.ko", "vfat.ko", "usbcore.ko", "libata.ko", "kvm.ko", "nouveau.ko"}},
      {"ppc64le", {"crc7.ko", "vfat.ko", "usbcore.ko", "kvm.ko", "btrfs.ko"}},
      {"ppc32", {"crc7.ko", "vfat.ko", "fat.ko", "btrfs.ko.xz", "vmlinux.xz"}},
      {"ppc64", {"crc7.ko", "vfat.ko", "fat.ko", "btrfs.ko.xz", "vmlinux.xz"}},
      {"x86_64-tiny", {"vfat.ko", "btrfs.ko.xz", "vmlinux.xz"}},
  };
  std::vector<std::string> files;
  for (const auto& [arch, names] : sets)
    for (const char* name : names) {
      const auto p = corpus / arch / name;
      if (!fs::exists(p)) continue;
      auto usable = materialize(p);
      if (!usable.empty()) files.push_back(usable);
    }
  return files;
}

// Takes --files=... out of argv; the other arguments (Google Benchmark's) are left in `rest`.
std::vector<std::string> bench_files(int argc, char** argv, std::vector<char*>& rest) {
  std::vector<std::string> files;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with("--files=")) {
      rest.push_back(argv[i]);
      continue;
    }
    std::string_view list = arg.substr(8);
    while (!list.empty()) {
      const auto comma = list.find(',');
      files.emplace_back(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  return files.empty() ? default_files() : files;
}

}  // namespace
