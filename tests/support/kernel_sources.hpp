// The kernel's own scripts as oracles: scripts/mksysmap, scripts/kallsyms.c (and 6.12's scripts/include/) taken
// from Debian's linux-source-6.1 / linux-source-6.12 packages (/usr/src/linux-source-<v>.tar.xz), extracted once
// into kernel_scripts_base(). Absent packages give an empty path: the tests that need them skip and say so.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

#include "support/process.hpp"
#include "support/test_objects.hpp"

namespace elfsieve::test {

// "6.1" or "6.12".
inline std::filesystem::path kernel_source_tarball(const std::string& version) {
  return std::filesystem::path("/usr/src") / ("linux-source-" + version + ".tar.xz");
}

// Where the extracted scripts (and the scripts/kallsyms built from them) are kept: $ELFSIEVE_KERNEL_SCRIPTS_DIR when
// set (scripts/test.sh shares one across its two builds: decompressing a tarball takes 7 s), else the test work
// directory. tests/tools/kallsyms_reference.sh uses the same place and names.
inline std::filesystem::path kernel_scripts_base() {
  const char* shared = std::getenv("ELFSIEVE_KERNEL_SCRIPTS_DIR");  // NOLINT(concurrency-mt-unsafe): read only
  if (shared != nullptr && *shared != '\0') return shared;
  return test_work_dir();
}

// The directory holding scripts/{mksysmap,kallsyms.c,include} of `version`, extracted on first use (a private
// temporary directory renamed into place, so concurrent test processes never see half a tree); empty when the
// tarball is missing or cannot be read.
inline std::filesystem::path kernel_scripts(const std::string& version) {
  namespace fs = std::filesystem;
  const fs::path tarball = kernel_source_tarball(version);
  const fs::path base = kernel_scripts_base();
  const fs::path dir = base / ("kernel-scripts-" + version);
  std::error_code ec;
  if (fs::exists(dir / "scripts" / "kallsyms.c", ec)) return dir;
  if (!fs::exists(tarball, ec)) return {};
  const fs::path tmp = base / ("kernel-scripts-" + version + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  const std::string top = "linux-source-" + version;
  std::vector<std::string> argv = {"tar",
                                   "-xJf",
                                   tarball.string(),
                                   "-C",
                                   tmp.string(),
                                   "--strip-components=1",
                                   top + "/scripts/mksysmap",
                                   top + "/scripts/kallsyms.c"};
  if (version != "6.1") argv.push_back(top + "/scripts/include");
  const auto r = run_process(argv);
  if (!r.ok() || !fs::exists(tmp / "scripts" / "kallsyms.c", ec)) {
    fs::remove_all(tmp, ec);
    return {};
  }
  fs::rename(tmp, dir, ec);
  if (ec) fs::remove_all(tmp, ec);  // another process was first: use its copy
  return fs::exists(dir / "scripts" / "kallsyms.c", ec) ? dir : fs::path{};
}

}  // namespace elfsieve::test
