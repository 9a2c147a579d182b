// Objects for the differential tests: the sources in tests/data compiled by every installed compiler into
// relocatable objects, an executable and a shared library, cached in ELFSIEVE_TEST_WORK_DIR; plus a lister for
// the ELF files under a directory (a corpus).
//
// Source roles, by file name:
//   exe_*.c          only in the executable
//   so_*.c           only in the shared library
//   libc_*.c         linked only when the toolchain has a C library (always compiled to an object)
//   nostdlib_*.c     the entry point of executables linked without a C library
//   *.cpp            compiled only by toolchains with a C++ compiler; linked with it
//   other *.c        everywhere
// versions.map is the shared library's version script.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "support/process.hpp"

namespace elfsieve::test {

enum class object_kind : std::uint8_t { relocatable, executable, shared_library };

struct test_object {
  std::filesystem::path path;
  std::string toolchain;  // toolchain::name
  object_kind kind = object_kind::relocatable;
};

struct toolchain {
  std::string name;  // short, used in paths and test names: "x86_64", "i686", "ppc32", "ppc64"
  std::string cc;    // C compiler driver
  std::string cxx;   // C++ compiler driver; empty or missing means the C++ sources are skipped
  // Extra variants of one source compiled to one more relocatable object each (not linked).
  struct variant {
    std::string source;  // file name in tests/data
    std::string suffix;  // output is <stem>.<suffix>.o
    std::vector<std::string> flags;
  };
  std::vector<variant> variants;
  // Extra shared libraries linked from the same objects with more flags: libsieve.<suffix>.so.
  struct link_variant {
    std::string suffix;
    std::vector<std::string> flags;
  };
  std::vector<link_variant> shared_variants;
};

// Host gcc and the cross compilers the differential tests use when they are installed.
inline const std::vector<toolchain>& known_toolchains() {
  const toolchain::link_variant relr{"relr", {"-Wl,-z,pack-relative-relocs"}};  // SHT_RELR (binutils >= 2.38)
  static const std::vector<toolchain> all{
      {"x86_64",
       "gcc",
       "g++",
       {{"symbols.c", "large", {"-mcmodel=medium", "-mlarge-data-threshold=0"}},
        {"sections.c", "O0", {"-O0", "-fno-function-sections", "-fno-data-sections"}}},
       {relr}},
      {"i686", "i686-linux-gnu-gcc", "i686-linux-gnu-g++", {}, {relr}},
      {"ppc32",
       "powerpc-linux-gnu-gcc",
       "powerpc-linux-gnu-g++",
       {{"symbols.c", "sdata", {"-msdata=sysv", "-G", "8", "-fno-pic", "-fno-data-sections"}}},
       {}},
      {"ppc64", "powerpc64-linux-gnu-gcc", "powerpc64-linux-gnu-g++", {}, {relr}},
      {"ppc64le", "powerpc64le-linux-gnu-gcc", "powerpc64le-linux-gnu-g++", {}, {relr}},
  };
  return all;
}

inline std::filesystem::path test_data_dir() { return std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "tests" / "data"; }
inline std::filesystem::path test_work_dir() { return std::filesystem::path(ELFSIEVE_TEST_WORK_DIR); }

struct toolchain_build {
  const toolchain* chain = nullptr;
  bool available = false;
  bool has_libc = false;  // linked against the C library (else -nostdlib)
  std::vector<test_object> objects;
  std::vector<std::string> failures;  // compiler or linker errors: the tests must report them
};

namespace detail {

inline std::string join(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

inline bool newer_than_all(const std::filesystem::path& output, const std::vector<std::filesystem::path>& inputs) {
  std::error_code ec;
  const auto built = std::filesystem::last_write_time(output, ec);
  if (ec) return false;
  for (const auto& input : inputs) {
    const auto t = std::filesystem::last_write_time(input, ec);
    if (ec || t > built) return false;
  }
  return true;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `command` (which writes `output`, given with the OUTPUT placeholder) unless `output` is newer than every
// input and was made by the same command. Writes to a temporary name and renames, so concurrent test processes
// never see half-written files. Returns an error text, or empty on success.
inline std::string build_cached(const std::filesystem::path& output, const std::vector<std::filesystem::path>& inputs,
                                std::vector<std::string> command) {
  const std::filesystem::path stamp = output.string() + ".cmd";
  const std::string described = join(command);
  if (newer_than_all(output, inputs) && read_text(stamp) == described) return {};
  const std::filesystem::path temporary = output.string() + ".tmp" + std::to_string(::getpid());
  for (std::string& a : command)
    if (a == "OUTPUT") a = temporary.string();
  const process_result r = run_process(command);
  std::error_code ec;
  if (!r.ok()) {
    std::filesystem::remove(temporary, ec);
    return described + "\n" + r.err + r.out;
  }
  std::filesystem::rename(temporary, output, ec);
  if (ec) return "rename " + temporary.string() + ": " + ec.message();
  const std::filesystem::path stamp_temporary = stamp.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream s(stamp_temporary, std::ios::binary | std::ios::trunc);
    s << described;
  }
  std::filesystem::rename(stamp_temporary, stamp, ec);
  return {};
}

inline bool starts_with(const std::filesystem::path& p, std::string_view prefix) {
  return p.filename().string().starts_with(prefix);
}

// -ffunction-sections -fdata-sections give one section a function or datum (many sections, many relocations);
// -g adds debug sections and their relocations.
inline std::vector<std::string> common_flags() {
  return {"-O1", "-g", "-ffunction-sections", "-fdata-sections", "-Wall"};
}

inline toolchain_build build_toolchain(const toolchain& chain) {
  namespace fs = std::filesystem;
  toolchain_build out;
  out.chain = &chain;
  out.available = program_available(chain.cc);
  if (!out.available) return out;
  const bool has_cxx = !chain.cxx.empty() && program_available(chain.cxx);

  const fs::path data = test_data_dir();
  const fs::path dir = test_work_dir() / "objects" / chain.name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    out.failures.push_back("cannot create " + dir.string() + ": " + ec.message());
    return out;
  }

  std::vector<fs::path> sources;
  for (const auto& entry : fs::directory_iterator(data, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".c" || (p.extension() == ".cpp" && has_cxx)) sources.push_back(p);
  }
  std::sort(sources.begin(), sources.end());

  auto compile = [&](const fs::path& source, const fs::path& object, std::vector<std::string> extra) {
    const bool is_cxx = source.extension() == ".cpp";
    std::vector<std::string> command{is_cxx ? chain.cxx : chain.cc, "-c"};
    for (const std::string& f : common_flags()) command.push_back(f);
    for (std::string& f : extra) command.push_back(std::move(f));
    command.insert(command.end(), {source.string(), "-o", "OUTPUT"});
    std::string error = build_cached(object, {source}, command);
    if (!error.empty()) out.failures.push_back(std::move(error));
    return error.empty();
  };

  // Relocatable objects: one per source (position-dependent and PIC), plus the toolchain's variants.
  std::vector<fs::path> exe_inputs, so_inputs, libc_inputs, libc_pic_inputs, start_inputs;
  for (const fs::path& source : sources) {
    const std::string stem = source.stem().string();
    const fs::path object = dir / (stem + ".o");
    const fs::path pic = dir / (stem + ".pic.o");
    if (!compile(source, object, {}) || !compile(source, pic, {"-fPIC"})) continue;
    out.objects.push_back({object, chain.name, object_kind::relocatable});
    out.objects.push_back({pic, chain.name, object_kind::relocatable});
    if (starts_with(source, "nostdlib_")) {
      start_inputs.push_back(object);
    } else if (starts_with(source, "libc_")) {
      libc_inputs.push_back(object);
      libc_pic_inputs.push_back(pic);
    } else if (starts_with(source, "exe_")) {
      exe_inputs.push_back(object);
    } else if (starts_with(source, "so_")) {
      so_inputs.push_back(pic);
    } else {
      exe_inputs.push_back(object);
      so_inputs.push_back(pic);
    }
  }
  for (const toolchain::variant& v : chain.variants) {
    const fs::path source = data / v.source;
    const fs::path object = dir / (source.stem().string() + "." + v.suffix + ".o");
    if (compile(source, object, v.flags)) out.objects.push_back({object, chain.name, object_kind::relocatable});
  }

  // Links: with the C library when the toolchain has one, else -nostdlib (Debian cross compilers may lack libc).
  const bool links_cxx =
      std::any_of(sources.begin(), sources.end(), [](const fs::path& p) { return p.extension() == ".cpp"; });
  const std::string driver = links_cxx ? chain.cxx : chain.cc;
  const fs::path version_script = data / "versions.map";
  auto link = [&](const fs::path& output, std::vector<std::string> flags, const std::vector<fs::path>& inputs,
                  bool record_failure) {
    std::vector<std::string> command{driver};
    for (std::string& f : flags) command.push_back(std::move(f));
    command.insert(command.end(), {"-o", "OUTPUT"});
    std::vector<fs::path> dependencies(inputs);
    dependencies.push_back(version_script);
    for (const fs::path& p : inputs) command.push_back(p.string());
    std::string error = build_cached(output, dependencies, command);
    if (!error.empty() && record_failure) out.failures.push_back(std::move(error));
    return error.empty();
  };

  const fs::path executable = dir / "sieve_exe";
  const fs::path shared = dir / "libsieve.so";
  std::vector<fs::path> exe_with_libc(exe_inputs);
  exe_with_libc.insert(exe_with_libc.end(), libc_inputs.begin(), libc_inputs.end());
  out.has_libc = link(executable, {}, exe_with_libc, false);
  if (!out.has_libc) {
    // No C library: a static executable with our own _start, and the C++ objects left out (they need libstdc++).
    std::vector<fs::path> bare(start_inputs);
    for (const fs::path& p : exe_inputs)
      if (p.filename().string().find("cxx") == std::string::npos) bare.push_back(p);
    if (!link(executable, {"-nostdlib", "-static"}, bare, true)) return out;
  }
  out.objects.push_back({executable, chain.name, object_kind::executable});

  std::vector<fs::path> so_all(so_inputs);
  std::vector<std::string> so_flags{"-shared", "-Wl,--version-script=" + version_script.string()};
  if (out.has_libc) {
    so_all.insert(so_all.end(), libc_pic_inputs.begin(), libc_pic_inputs.end());
  } else {
    so_flags.push_back("-nostdlib");
    std::erase_if(so_all, [](const fs::path& p) { return p.filename().string().find("cxx") != std::string::npos; });
  }
  if (link(shared, so_flags, so_all, true)) out.objects.push_back({shared, chain.name, object_kind::shared_library});
  for (const toolchain::link_variant& v : chain.shared_variants) {
    std::vector<std::string> flags(so_flags);
    flags.insert(flags.end(), v.flags.begin(), v.flags.end());
    const fs::path variant = dir / ("libsieve." + v.suffix + ".so");
    if (link(variant, flags, so_all, true)) out.objects.push_back({variant, chain.name, object_kind::shared_library});
  }
  return out;
}

}  // namespace detail

// Every known toolchain, built once per process (and cached on disk across processes and runs).
inline const std::vector<toolchain_build>& test_object_builds() {
  static const std::vector<toolchain_build> builds = [] {
    std::vector<toolchain_build> all;
    for (const toolchain& chain : known_toolchains()) all.push_back(detail::build_toolchain(chain));
    return all;
  }();
  return builds;
}

inline const toolchain_build* find_build(std::string_view name) {
  for (const toolchain_build& b : test_object_builds())
    if (b.chain->name == name) return &b;
  return nullptr;
}

// Every compiled object of every available toolchain.
inline std::vector<test_object> compiled_test_objects() {
  std::vector<test_object> all;
  for (const toolchain_build& b : test_object_builds()) all.insert(all.end(), b.objects.begin(), b.objects.end());
  return all;
}

inline bool has_elf_magic(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// The ELF files under `dir` (recursively, symlinks not followed), sorted: for pointing the harness at a corpus,
// e.g. elf_files_under(ELFSIEVE_SOURCE_DIR "/corpus/x86_64").
inline std::vector<std::filesystem::path> elf_files_under(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec) && has_elf_magic(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace elfsieve::test
