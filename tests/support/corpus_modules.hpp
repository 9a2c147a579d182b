// Every kernel module of the corpus: the committed corpus/<arch>/*.ko files (btrfs.ko.xz decompressed) and the
// dependencies some builds carry in corpus/<build>/deps/ (*.ko or *.ko.xz).
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "support/corpus.hpp"
#include "support/process.hpp"

namespace elfsieve::test {

// Every corpus module: the committed .ko files (btrfs.ko.xz decompressed) and corpus/<build>/deps/*.ko[.xz].
inline std::vector<corpus_object> corpus_modules() {
  std::vector<corpus_object> out;
  for (const auto& o : corpus_objects())
    if (o.name.ends_with(".ko")) out.push_back(o);
  std::error_code ec;
  for (const auto& arch : corpus_architectures()) {
    const auto deps = corpus_dir() / arch / "deps";
    if (!std::filesystem::is_directory(deps, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& f : std::filesystem::directory_iterator(deps, ec)) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string file = f.filename().string();
      if (file.ends_with(".ko")) {
        out.push_back({f, arch, arch + "/deps/" + file});
      } else if (file.ends_with(".ko.xz")) {
        const std::string name = arch + "/deps/" + file.substr(0, file.size() - 3);
        const auto readable = test_work_dir() / "corpus" / name;
        std::filesystem::create_directories(readable.parent_path());
        const std::string tmp = readable.string() + ".tmp." + std::to_string(::getpid());
        if ((!std::filesystem::exists(readable) ||
             std::filesystem::last_write_time(readable) < std::filesystem::last_write_time(f)) &&
            run_process({"sh", "-c", "xz -dc \"$1\" > \"$2\"", "sh", f.string(), tmp}).ok())
          std::filesystem::rename(tmp, readable);
        out.push_back({readable, arch, name});
      }
    }
  }
  return out;
}

// The modules of one corpus directory (deps/ included).
inline std::vector<corpus_object> corpus_modules_of(const std::string& arch) {
  std::vector<corpus_object> out;
  for (auto& m : corpus_modules())
    if (m.arch == arch) out.push_back(std::move(m));
  return out;
}

}  // namespace elfsieve::test
