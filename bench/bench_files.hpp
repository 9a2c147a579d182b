// The objects the benchmarks run over, and what every benchmark program shares: a representative set from every
// corpus architecture (xz-compressed ones decompressed once into the build tree) plus, when corpus/regenerate
// cached them, Debian's 45 MB ppc64le vmlinux and a few amd64 modules from 6 KB to 19 MB; or the files given with
// --files=F1,F2,... The files are mapped once, before any benchmark runs, so no timed loop opens or reads a file
// (the first iteration of each benchmark faults the pages in; Google Benchmark's estimate runs absorb that).
// A benchmark that fails calls fail(): the program then exits 1, which is what the ctest smoke runs check.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include "elfsieve/io/mapped_file.hpp"

namespace elfsieve_bench {

namespace fs = std::filesystem;

inline int bench_failures = 0;

// SkipWithError, and the program's exit status becomes 1 (Google Benchmark 1.7 itself exits 0 after an error).
inline void fail(benchmark::State& state, const char* why) {
  ++bench_failures;
  state.SkipWithError(why);
}

// `corpus/<arch>/<name>.xz` decompressed into the build tree once (xz -dc), or the file itself.
inline std::string materialize(const fs::path& source) {
  if (source.extension() != ".xz") return source.string();
  const fs::path out = fs::path(ELFSIEVE_BENCH_WORK_DIR) / source.parent_path().filename() / source.stem();
  std::error_code ec;
  if (fs::exists(out, ec) && fs::last_write_time(out, ec) >= fs::last_write_time(source, ec)) return out.string();
  fs::create_directories(out.parent_path(), ec);
  const fs::path partial = out.string() + ".part";
  const std::string command = "xz -dc '" + source.string() + "' > '" + partial.string() + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "bench: cannot decompress %s (skipped)\n", source.c_str());
    ++bench_failures;
    return {};
  }
  fs::rename(partial, out, ec);
  return ec ? std::string{} : out.string();
}

// corpus/cache (corpus/regenerate --cache), when present: the largest image and modules of every size.
inline std::vector<std::string> cache_files(const fs::path& corpus) {
  const fs::path cache = corpus / "cache";
  const fs::path modules = cache / "x86_64" / "lib" / "modules" / "6.1.0-56-amd64" / "kernel";
  const fs::path chosen[] = {
      cache / "ppc64le" / "boot" / "vmlinux-6.1.0-50-powerpc64le",           // 45 MB
      modules / "lib" / "crc7.ko",                                           // 6 KB
      modules / "drivers" / "usb" / "serial" / "visor.ko",                   // 35 KB
      modules / "fs" / "nfsd" / "nfsd.ko",                                   // 1.6 MB
      modules / "drivers" / "gpu" / "drm" / "i915" / "i915.ko",              // 6.8 MB
      modules / "drivers" / "gpu" / "drm" / "amd" / "amdgpu" / "amdgpu.ko",  // 19 MB
  };
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& p : chosen)
    if (fs::is_regular_file(p, ec)) out.push_back(p.string());
  return out;
}

inline std::vector<std::string> default_files() {
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
  for (auto& p : cache_files(corpus)) files.push_back(std::move(p));
  return files;
}

// Takes --files=... out of argv (.xz files are decompressed as above); the other arguments (Google Benchmark's) are
// left in `rest`.
inline std::vector<std::string> bench_files(int argc, char** argv, std::vector<char*>& rest) {
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
      auto usable = materialize(fs::path(list.substr(0, comma)));
      if (!usable.empty()) files.push_back(std::move(usable));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  return files.empty() ? default_files() : files;
}

// "x86_64/vfat.ko", "cache-x86_64/amdgpu.ko", "cache-ppc64le/vmlinux-6.1.0-50-powerpc64le": the benchmark name's
// last part.
inline std::string label_of(const std::string& path) {
  const fs::path p(path);
  const std::string name = p.filename().string();
  std::string arch = p.parent_path().filename().string();
  const std::string_view full(path);
  if (full.find("/cache/") != std::string_view::npos) {
    const auto after = full.substr(full.find("/cache/") + 7);
    arch = "cache-" + std::string(after.substr(0, after.find('/')));
  }
  return arch + "/" + name;
}

// One input, mapped for the whole run.
struct input {
  std::string path;
  std::string label;
  elfsieve::mapped_file mapped;
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return mapped.bytes(); }
};

// Maps every file once; a file that cannot be mapped is reported and makes the run fail. Each mapped file keeps its
// descriptor open, so the soft limit on descriptors is raised to the hard one first (thousands of modules).
inline std::vector<std::unique_ptr<input>> load_inputs(const std::vector<std::string>& files) {
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<std::unique_ptr<input>> out;
  for (const auto& f : files) {
    auto mapped = elfsieve::mapped_file::open(f.c_str());
    if (!mapped) {
      std::fprintf(stderr, "bench: cannot open %s: %s\n", f.c_str(), elfsieve::to_string(mapped.error()).c_str());
      ++bench_failures;
      continue;
    }
    out.push_back(std::make_unique<input>(input{f, label_of(f), std::move(mapped.value())}));
  }
  return out;
}

// Google Benchmark's main, with unknown flags refused and fail() turned into the exit status.
inline int run_benchmarks(std::vector<char*>& args) {
  int argc = static_cast<int>(args.size());
  benchmark::Initialize(&argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(argc, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return bench_failures == 0 ? 0 : 1;
}

}  // namespace elfsieve_bench

using namespace elfsieve_bench;  // NOLINT(google-build-using-namespace): the programs' own helpers
