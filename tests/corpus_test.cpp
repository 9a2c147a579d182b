// Corpus-wide differential tests (issue 3): over every committed kernel object in corpus/ (modules and vmlinux
// images of x86_64, i386, ppc64le, ppc32 and ppc64), sections, symbols and relocations read by the views equal
// `readelf -W -S -s -r`, and `elfsieve-nm`, `-n` and `-u` equal GNU `nm` byte for byte (stdout, stderr modulo the
// program name, exit status).
//
// The opt-in extended run does the same over the cache that `corpus/regenerate --cache` fills: every module of the
// three Debian images (about 11,000) and the 45 MB unstripped ppc64le vmlinux. It is a hidden Catch2 test, so
// catch_discover_tests does not register it with ctest and CI never runs it. Run it from a Release build:
//
//   corpus/regenerate --cache                       # once, as root (fills corpus/cache/, ignored by git)
//   build/bin/elfsieve_tests '[.extended]'          # ~11,300 objects in about 75 s on 2 cores; prints the counts
//
// ELFSIEVE_CORPUS_CACHE=<dir> points it at a cache elsewhere, ELFSIEVE_EXTENDED_JOBS=<n> sets the number of worker
// threads (default 2), ELFSIEVE_EXTENDED_LIMIT=<n> compares only the first n modules of each architecture.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/modinfo.hpp"
#include "elfsieve/read/open.hpp"
#include "support/corpus.hpp"
#include "support/oracle.hpp"
#include "support/test_objects.hpp"

namespace {

// Whether the module at `path` carries kbuild's intree=Y .modinfo tag (modules built in the tree do).
bool is_in_tree_module(const std::filesystem::path& path) {
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  if (!mapped) return false;
  auto tag = elfsieve::visit(mapped->bytes(), [](const auto& f) -> elfsieve::result<bool> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    return elfsieve::kernel::modinfo_value(elfsieve::kernel::read_module_facts(sections).modinfo, "intree") == "Y";
  });
  return tag && *tag;
}

using namespace elfsieve::test;
namespace elf = elfsieve::elf;

// The nm command lines issue 3 names.
const std::vector<std::vector<std::string>>& nm_option_sets() {
  static const std::vector<std::vector<std::string>> sets{{}, {"-n"}, {"-u"}};
  return sets;
}

void append(std::vector<mismatch>& to, std::vector<mismatch> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

bool is_vmlinux(const std::filesystem::path& p) { return p.filename().string().starts_with("vmlinux"); }

// What the ELF header of a file says, read through the views.
struct elf_facts {
  bool readable = false;
  bool is64 = false;
  bool little = false;
  std::uint16_t type = 0;
  std::uint16_t machine = 0;
};

elf_facts facts_of(const std::filesystem::path& path) {
  elf_facts out;
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  if (!mapped) return out;
  auto visited = elfsieve::visit(mapped->bytes(), [&](const auto& f) {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    out.is64 = L::is64;
    out.little = L::endianness == std::endian::little;
    out.type = f.type();
    out.machine = f.machine();
  });
  out.readable = static_cast<bool>(visited);
  return out;
}

#ifdef ELFSIEVE_NM_PATH
const nm_tools& tools() {
  static const nm_tools t{"nm", ELFSIEVE_NM_PATH};
  return t;
}

// `nm OPTIONS files...` against elfsieve-nm on all files in one command line (one process pair for many files).
// When the outputs differ, each file is compared alone so the report names the culprit rather than the whole
// command line; only when no file differs alone is the combined difference reported as it is. Files with a
// mismatch are added to `culprits`.
std::vector<mismatch> compare_nm_batch(const std::vector<std::string>& options, const std::vector<std::string>& files,
                                       std::set<std::string>& culprits) {
  std::vector<mismatch> together = compare_nm(tools(), options, files);
  if (together.empty()) return together;
  std::vector<mismatch> out;
  if (files.size() > 1) {
    for (const std::string& file : files) {
      std::vector<mismatch> alone = compare_nm(tools(), options, {file});
      if (alone.empty()) continue;
      culprits.insert(file);
      append(out, std::move(alone));
    }
  }
  if (out.empty()) {
    culprits.insert(files.begin(), files.end());
    out = std::move(together);
  }
  return out;
}
#endif

// ---------------------------------------------------------------------------------------------------------------
// The committed corpus.

// corpus/<build>/deps/ of a cross build: the rest of its modules, --strip-debug (small; other layouts than the 13
// committed with DWARF: raid6, xor, lzo, zstd, nls tables, crypto algorithms).
std::vector<corpus_object> deps_of(const char* arch) {
  std::vector<corpus_object> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator f(corpus_dir() / arch / "deps", ec), end; !ec && f != end; f.increment(ec))
    out.push_back({f->path(), arch, std::string(arch) + "/deps/" + f->path().filename().string()});
  std::sort(out.begin(), out.end(), [](const corpus_object& a, const corpus_object& b) { return a.path < b.path; });
  return out;
}

// readelf on every object of one corpus directory (with its deps/); nm, nm -n and nm -u on all its modules in one
// command line (GNU prints a heading per file, so a report names the module) and on its vmlinux alone (the
// single-file code path; the big image is run once per option set, which keeps the ASan build fast).
void check_corpus_directory(const char* arch) {
  std::vector<corpus_object> objects = corpus_objects_of(arch);
  if (objects.empty()) FAIL("corpus/" << arch << " has no ELF objects: is the corpus checked out? (corpus/regenerate)");
  const std::vector<corpus_object> deps = deps_of(arch);
  objects.insert(objects.end(), deps.begin(), deps.end());

  std::size_t compared = 0;
  for (const corpus_object& object : objects) {
    CAPTURE(object.name);
    const std::vector<mismatch> found = compare_readelf(object.path);
    INFO(describe(found));
    CHECK(found.empty());
    ++compared;
  }
  CHECK(compared == objects.size());

#ifdef ELFSIEVE_NM_PATH
  std::vector<std::string> modules;
  std::vector<std::string> images;
  for (const corpus_object& object : objects)
    (is_vmlinux(object.path) ? images : modules).push_back(object.path.string());
  REQUIRE_FALSE(modules.empty());
  std::vector<mismatch> found;
  std::set<std::string> culprits;
  std::size_t commands = 0;
  for (const auto& options : nm_option_sets()) {
    append(found, compare_nm_batch(options, modules, culprits));
    ++commands;
    for (const std::string& image : images) {
      append(found, compare_nm_batch(options, {image}, culprits));
      ++commands;
    }
  }
  INFO(commands << " nm command lines over " << modules.size() << " modules and " << images.size() << " vmlinux; "
                << culprits.size() << " objects differ; first differences:\n"
                << describe(found, 40));
  CHECK(found.empty());
#else
  WARN("elfsieve-nm is not built (ELFSIEVE_BUILD_EXAMPLES=OFF): the nm comparisons of corpus/" << arch
                                                                                               << " are not run");
#endif
}

struct manifest_row {
  std::string path, arch, elf_class, endianness, kind;
};

std::vector<manifest_row> read_manifest() {
  std::vector<manifest_row> rows;
  std::ifstream in(corpus_dir() / "MANIFEST.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> columns;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      columns.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (columns.size() < 6) continue;
    rows.push_back({columns[0], columns[2], columns[3], columns[4], columns[5]});
  }
  return rows;
}

std::uint16_t machine_of_arch(const std::string& arch) {
  if (arch == "x86_64") return elf::EM_X86_64;
  if (arch == "i386") return elf::EM_386;
  if (arch == "ppc32") return elf::EM_PPC;
  if (arch == "ppc64" || arch == "ppc64le") return elf::EM_PPC64;
  return 0;
}

}  // namespace

TEST_CASE("corpus.coverage: the committed corpus has modules of all five architectures and three vmlinux images",
          "[corpus]") {
  // A missing or truncated corpus must fail here rather than make the differential tests below pass on nothing.
  const std::vector<manifest_row> manifest = read_manifest();
  if (manifest.empty()) FAIL("corpus/MANIFEST.tsv is missing or empty");

  std::map<std::string, const corpus_object*> objects;
  for (const corpus_object& o : corpus_objects()) objects[o.name] = &o;

  std::set<std::string> listed, deps_listed;
  std::map<std::string, std::size_t> modules_per_arch, vmlinux_per_arch;
  for (const manifest_row& row : manifest) {
    if (row.elf_class != "ELF32" && row.elf_class != "ELF64") continue;  // config, System.map, bzImage, ...
    // corpus/<build>/deps/: the rest of a cross build's modules (--strip-debug). The differential tests below list
    // corpus/<arch>/ without its subdirectories, so only their headers are checked here.
    if (row.path.find("/deps/") != std::string::npos) {
      CAPTURE(row.path, row.arch, row.elf_class, row.endianness, row.kind);
      deps_listed.insert(row.path);
      const elf_facts facts = facts_of(corpus_dir() / row.path);
      CHECK(facts.readable);
      CHECK(facts.is64 == (row.elf_class == "ELF64"));
      CHECK(facts.little == (row.endianness == "LE"));
      CHECK(facts.machine == machine_of_arch(row.arch));
      CHECK(row.kind == "module");
      CHECK(facts.type == elf::ET_REL);
      continue;
    }
    // corpus/<arch>/passes/: the kallsyms link passes of one build, read by kernel/kallsyms_diff_test.cpp only.
    if (std::count(row.path.begin(), row.path.end(), '/') > 1) continue;
    std::string name = row.path;
    if (name.ends_with(".xz")) name.resize(name.size() - 3);
    listed.insert(name);
    CAPTURE(name, row.arch, row.elf_class, row.endianness, row.kind);
    const auto found = objects.find(name);
    CHECK(found != objects.end());
    if (found == objects.end()) continue;
    const elf_facts facts = facts_of(found->second->path);
    REQUIRE(facts.readable);
    CHECK(facts.is64 == (row.elf_class == "ELF64"));
    CHECK(facts.little == (row.endianness == "LE"));
    CHECK(facts.machine == machine_of_arch(row.arch));
    if (row.kind == "module") {
      CHECK(facts.type == elf::ET_REL);
      ++modules_per_arch[row.arch];
    } else {
      CHECK(row.kind == "vmlinux");
      CHECK(facts.type == elf::ET_EXEC);
      ++vmlinux_per_arch[row.arch];
    }
  }
  // The reverse: nothing in corpus/<arch>/ escapes the manifest (and so the architecture checks above).
  for (const auto& [name, object] : objects) {
    CAPTURE(name);
    CHECK(listed.count(name) == 1);
  }
  std::size_t deps_files = 0;
  for (const char* build : {"ppc32", "ppc64", "x86_64-tiny"}) {
    std::error_code ec;
    for (std::filesystem::directory_iterator f(corpus_dir() / build / "deps", ec), end; !ec && f != end;
         f.increment(ec)) {
      const std::string name = std::string(build) + "/deps/" + f->path().filename().string();
      CAPTURE(name);
      CHECK(deps_listed.count(name) == 1);
      ++deps_files;
    }
  }
  CHECK(deps_files == deps_listed.size());

  for (const char* arch : {"x86_64", "i386", "ppc64le", "ppc32", "ppc64"}) {
    CAPTURE(arch);
    CHECK(modules_per_arch[arch] >= 12);
  }
  // Issue 3: at least 20 Debian modules each for x86_64 (plus the tiny build's), i386 and ppc64le.
  CHECK(modules_per_arch["i386"] >= 20);
  CHECK(modules_per_arch["ppc64le"] >= 20);
  CHECK(modules_per_arch["x86_64"] >= 30);
  for (const char* arch : {"x86_64", "ppc32", "ppc64"}) {
    CAPTURE(arch);
    CHECK(vmlinux_per_arch[arch] == 1);
  }
  std::vector<std::string> directories = corpus_architectures();
  std::sort(directories.begin(), directories.end());
  CHECK(directories == std::vector<std::string>{"i386", "ppc32", "ppc64", "ppc64le", "x86_64", "x86_64-tiny"});
}

TEST_CASE("corpus.x86_64: readelf and nm agree with elfsieve on the Debian amd64 modules", "[corpus]") {
  check_corpus_directory("x86_64");
}
TEST_CASE("corpus.i386: readelf and nm agree with elfsieve on the Debian 686 modules (REL)", "[corpus]") {
  check_corpus_directory("i386");
}
TEST_CASE("corpus.ppc64le: readelf and nm agree with elfsieve on the Debian ppc64el modules (ELFv2)", "[corpus]") {
  check_corpus_directory("ppc64le");
}
TEST_CASE("corpus.ppc32: readelf and nm agree with elfsieve on the ppc32 vmlinux and modules", "[corpus]") {
  check_corpus_directory("ppc32");
}
TEST_CASE("corpus.ppc64: readelf and nm agree with elfsieve on the ppc64 ELFv1 vmlinux and modules", "[corpus]") {
  check_corpus_directory("ppc64");
}
TEST_CASE("corpus.x86_64_tiny: readelf and nm agree with elfsieve on the x86_64 tinyconfig vmlinux and modules",
          "[corpus]") {
  check_corpus_directory("x86_64-tiny");
}

// What a test needs to lay out a cross build's tree (issue 13: the module column of Module.symvers is the module's
// path in the build tree without .ko): kbuild's modules.order names every module of the build exactly once, each
// is committed under its file name (corpus/<build>/ or its deps/), no other module file is committed, and every
// module Module.symvers names is in modules.order.
TEST_CASE("corpus.build_trees: modules.order, the committed module files and Module.symvers agree for each cross build",
          "[corpus]") {
  for (const char* build : {"ppc32", "ppc64", "x86_64-tiny"}) {
    CAPTURE(build);
    const std::filesystem::path dir = corpus_dir() / build;
    std::ifstream order(dir / "modules.order");
    REQUIRE(order.good());
    std::set<std::string> tree_paths;  // lib/zstd/zstd_common
    std::set<std::string> file_names;  // zstd_common.ko
    std::string line;
    while (std::getline(order, line)) {
      CAPTURE(line);
      REQUIRE(line.ends_with(".ko"));  // 6.1's form
      CHECK(tree_paths.insert(line.substr(0, line.size() - 3)).second);
      const std::string file = std::filesystem::path(line).filename().string();
      CHECK(file_names.insert(file).second);
      const int found = static_cast<int>(std::filesystem::exists(dir / file)) +
                        static_cast<int>(std::filesystem::exists(dir / (file + ".xz"))) +
                        static_cast<int>(std::filesystem::exists(dir / "deps" / file));
      CHECK(found == 1);
    }
    CHECK(file_names.size() > 13);  // the 13 modules with DWARF and their dependencies

    std::size_t committed = 0;
    for (const std::filesystem::path& sub : {dir, dir / "deps"}) {
      for (const auto& f : std::filesystem::directory_iterator(sub)) {
        std::string file = f.path().filename().string();
        if (file.ends_with(".xz")) file.resize(file.size() - 3);
        if (!file.ends_with(".ko")) continue;
        CAPTURE(file);
        // A module built outside the tree against it (make M=..., the boot test's elfsieve_probe.ko) is not in
        // the build's modules.order: modpost gives it no intree=Y tag.
        if (f.path().extension() == ".ko" && !is_in_tree_module(f.path())) continue;
        CHECK(file_names.count(file) == 1);
        ++committed;
      }
    }
    CHECK(committed == file_names.size());

    std::ifstream symvers(dir / "Module.symvers");
    REQUIRE(symvers.good());
    std::size_t module_exports = 0;
    while (std::getline(symvers, line)) {
      const std::size_t first = line.find('\t');
      const std::size_t second = first == std::string::npos ? first : line.find('\t', first + 1);
      const std::size_t third = second == std::string::npos ? second : line.find('\t', second + 1);
      REQUIRE(third != std::string::npos);
      const std::string module = line.substr(second + 1, third - second - 1);
      if (module == "vmlinux") continue;
      CAPTURE(module);
      CHECK(tree_paths.count(module) == 1);
      ++module_exports;
    }
    CHECK(module_exports > 0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The extended run over the cache (hidden: `elfsieve_tests '[.extended]'`).

#ifdef ELFSIEVE_NM_PATH
namespace {

std::filesystem::path cache_dir() {
  const char* moved = std::getenv("ELFSIEVE_CORPUS_CACHE");
  return moved != nullptr && *moved != '\0' ? std::filesystem::path(moved) : corpus_cache_dir();
}

std::size_t environment_number(const char* name, std::size_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  const auto parsed = detail::parse_unsigned(text, 10);
  return parsed ? static_cast<std::size_t>(*parsed) : fallback;
}

// A handful of files compared together: readelf one by one, nm on all of them in one command line.
struct extended_job {
  std::string arch;
  std::vector<std::filesystem::path> files;
};

struct extended_result {
  std::vector<mismatch> found;
  std::set<std::string> mismatching;  // files with at least one mismatch
};

extended_result run_job(const extended_job& job) {
  extended_result out;
  for (const auto& file : job.files) {
    std::vector<mismatch> found = compare_readelf(file);
    if (!found.empty()) out.mismatching.insert(file.string());
    append(out.found, std::move(found));
  }
  std::vector<std::string> paths;
  for (const auto& file : job.files) paths.push_back(file.string());
  for (const auto& options : nm_option_sets()) append(out.found, compare_nm_batch(options, paths, out.mismatching));
  return out;
}

}  // namespace

TEST_CASE("corpus.extended: readelf and nm agree with elfsieve on every cached module and the ppc64le vmlinux",
          "[.extended]") {
  namespace fs = std::filesystem;
  const fs::path cache = cache_dir();
  struct arch_source {
    std::string arch;
    fs::path modules;
  };
  const std::vector<arch_source> sources{{"x86_64", cache / "x86_64" / "lib" / "modules"},
                                         {"i386", cache / "i386" / "lib" / "modules"},
                                         {"ppc64le", cache / "ppc64le" / "lib" / "modules"}};
  const fs::path big_vmlinux = cache / "ppc64le" / "boot" / "vmlinux-6.1.0-50-powerpc64le";

  const std::size_t limit = environment_number("ELFSIEVE_EXTENDED_LIMIT", 0);
  const std::size_t workers = std::max<std::size_t>(1, environment_number("ELFSIEVE_EXTENDED_JOBS", 2));
  constexpr std::size_t batch_size = 32;

  std::vector<extended_job> jobs;
  std::map<std::string, std::size_t> objects_per_arch;
  std::vector<std::string> missing;
  if (fs::exists(big_vmlinux)) {
    jobs.push_back({"ppc64le", {big_vmlinux}});  // first: the longest single job must not finish last
    ++objects_per_arch["ppc64le"];
  } else {
    missing.push_back(big_vmlinux.string());
  }
  for (const arch_source& source : sources) {
    std::vector<fs::path> modules;
    if (fs::is_directory(source.modules)) {
      for (const fs::path& p : elf_files_under(source.modules))
        if (p.extension() == ".ko") modules.push_back(p);
    }
    if (modules.empty()) {
      missing.push_back(source.modules.string() + "/**/*.ko");
      continue;
    }
    if (limit != 0 && modules.size() > limit) modules.resize(limit);
    objects_per_arch[source.arch] += modules.size();
    for (std::size_t i = 0; i < modules.size(); i += batch_size) {
      const auto end = modules.begin() + static_cast<std::ptrdiff_t>(std::min(modules.size(), i + batch_size));
      jobs.push_back({source.arch, {modules.begin() + static_cast<std::ptrdiff_t>(i), end}});
    }
  }
  std::string missing_text;
  for (const std::string& m : missing) missing_text += "\n  " + m;
  if (jobs.empty()) {
    WARN("the corpus cache is absent (" << cache.string() << "): nothing to compare. Fill it with "
                                        << "`corpus/regenerate --cache` (as root; about 160 MB of Debian packages), "
                                        << "or point ELFSIEVE_CORPUS_CACHE at a copy. Missing:" << missing_text);
    return;
  }
  if (!missing.empty()) WARN("incomplete cache (run `corpus/regenerate --cache`); not compared:" << missing_text);

  std::size_t total_objects = 0;
  for (const auto& [arch, count] : objects_per_arch) total_objects += count;
  std::printf("extended corpus run: %zu objects in %zu jobs, %zu worker threads\n", total_objects, jobs.size(),
              workers);
  std::fflush(stdout);

  const auto started = std::chrono::steady_clock::now();
  std::vector<extended_result> results(jobs.size());
  std::atomic<std::size_t> next_job{0};
  std::atomic<std::size_t> objects_done{0};
  std::atomic<std::size_t> mismatching_so_far{0};
  std::mutex progress_lock;
  auto worker = [&] {
    for (;;) {
      const std::size_t j = next_job.fetch_add(1);
      if (j >= jobs.size()) return;
      results[j] = run_job(jobs[j]);
      mismatching_so_far += results[j].mismatching.size();
      const std::size_t before = objects_done.fetch_add(jobs[j].files.size());
      const std::size_t after = before + jobs[j].files.size();
      if (after / 500 != before / 500 || after == total_objects) {
        const std::lock_guard<std::mutex> hold(progress_lock);
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
        std::fprintf(stderr, "extended: %zu/%zu objects, %zu mismatching, %llds\n", after, total_objects,
                     mismatching_so_far.load(), static_cast<long long>(seconds));
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < workers; ++i) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();

  std::vector<mismatch> found;
  std::map<std::string, std::size_t> mismatching_per_arch;
  std::size_t mismatching = 0;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    mismatching_per_arch[jobs[j].arch] += results[j].mismatching.size();
    mismatching += results[j].mismatching.size();
    append(found, std::move(results[j].found));
  }
  std::string summary = "extended corpus run over " + cache.string() + " (readelf -W -S -s -r; nm, nm -n, nm -u):\n";
  for (const auto& [arch, count] : objects_per_arch) {
    summary += "  " + arch + ": " + std::to_string(count) + " objects compared, " +
               std::to_string(count - mismatching_per_arch[arch]) + " matched, " +
               std::to_string(mismatching_per_arch[arch]) + " with mismatches\n";
  }
  summary += "  total: " + std::to_string(total_objects) + " objects, " + std::to_string(total_objects - mismatching) +
             " matched, " + std::to_string(found.size()) + " mismatches, " + std::to_string(seconds) + " s wall\n";
  std::printf("%s", summary.c_str());
  if (!found.empty()) std::printf("%s", describe(found, 200).c_str());
  std::fflush(stdout);

  INFO(summary << describe(found, 40));
  CHECK(found.empty());
  CHECK(mismatching == 0);
}
#endif  // ELFSIEVE_NM_PATH
