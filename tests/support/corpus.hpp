// The bundled corpus of real kernel objects: every committed ELF object under corpus/<arch>/ (xz-compressed
// ones decompressed once into the test work directory), and the optional cache of full module sets that
// corpus/regenerate fetches.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "support/process.hpp"
#include "support/test_objects.hpp"

namespace elfsieve::test {

struct corpus_object {
  std::filesystem::path path;  // readable ELF file (decompressed copy for .xz)
  std::string arch;            // corpus/<arch>/
  std::string name;            // path relative to corpus/, without .xz
};

inline std::filesystem::path corpus_dir() { return std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "corpus"; }
inline std::filesystem::path corpus_cache_dir() { return corpus_dir() / "cache"; }

namespace detail {

inline std::vector<corpus_object> list_corpus() {
  std::vector<corpus_object> out;
  std::error_code ec;
  const auto root = corpus_dir();
  std::vector<std::filesystem::path> arch_dirs;
  for (std::filesystem::directory_iterator arch(root, ec), end; !ec && arch != end; arch.increment(ec))
    if (arch->is_directory() && arch->path().filename() != "cache") arch_dirs.push_back(arch->path());
  std::sort(arch_dirs.begin(), arch_dirs.end());
  for (const auto& arch : arch_dirs) {
    std::vector<std::filesystem::path> files;
    for (const auto& f : std::filesystem::directory_iterator(arch)) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string arch_name = arch.filename().string();
      std::filesystem::path readable = f;
      std::string name = arch_name + "/" + f.filename().string();
      if (f.extension() == ".xz") {
        name.resize(name.size() - 3);
        readable = test_work_dir() / "corpus" / name;
        if (!std::filesystem::exists(readable) ||
            std::filesystem::last_write_time(readable) < std::filesystem::last_write_time(f)) {
          std::filesystem::create_directories(readable.parent_path());
          // A name of its own per process: ctest runs several test processes at once.
          const std::string tmp = readable.string() + ".tmp." + std::to_string(::getpid());
          auto r = run_process({"sh", "-c", "xz -dc \"$1\" > \"$2\"", "sh", f.string(), tmp});
          if (!r.ok()) {  // keep it listed: every test that opens it then fails, naming it
            out.push_back({readable, arch_name, name});
            continue;
          }
          std::filesystem::rename(tmp, readable);
        }
      }
      if (!has_elf_magic(readable)) continue;  // .config, System.map, Module.symvers, bzImage
      out.push_back({readable, arch_name, name});
    }
  }
  return out;
}

}  // namespace detail

// Every committed ELF object, in a stable order (architecture, then file name).
inline const std::vector<corpus_object>& corpus_objects() {
  static std::once_flag once;
  static std::vector<corpus_object> all;
  std::call_once(once, [] { all = detail::list_corpus(); });
  return all;
}

inline std::vector<corpus_object> corpus_objects_of(std::string_view arch) {
  std::vector<corpus_object> out;
  for (const auto& o : corpus_objects())
    if (o.arch == arch) out.push_back(o);
  return out;
}

inline std::vector<std::string> corpus_architectures() {
  std::vector<std::string> out;
  for (const auto& o : corpus_objects())
    if (out.empty() || out.back() != o.arch) out.push_back(o.arch);
  return out;
}

}  // namespace elfsieve::test
