// Differential tests: elfsieve-nm prints what GNU nm 2.40 prints (stdout, stderr modulo the program name, exit
// status) for every option the tool supports, on objects compiled here, on the machine's own libraries and
// executables, and on command lines mixing good, missing and non-ELF files.
#include <catch2/catch.hpp>

#ifdef ELFSIEVE_NM_PATH

#include <filesystem>
#include <string>
#include <vector>

#include "support/oracle.hpp"
#include "support/test_objects.hpp"

namespace {

using namespace elfsieve::test;

const nm_tools& tools() {
  static const nm_tools t{"nm", ELFSIEVE_NM_PATH};
  return t;
}

// The option sets issue 2 names; -D has its own cases.
const std::vector<std::vector<std::string>>& option_sets() {
  static const std::vector<std::vector<std::string>> sets{
      {}, {"-n"}, {"-p"}, {"-r"}, {"-u"}, {"--defined-only"}, {"-a"}, {"-A"}, {"-o"}, {"-nr"}, {"-a", "-n"},
  };
  return sets;
}

void report(const std::vector<mismatch>& found, std::size_t comparisons) {
  INFO(comparisons << " command lines compared; first differences:\n" << describe(found, 40));
  CHECK(found.empty());
}

void append(std::vector<mismatch>& to, std::vector<mismatch> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

const toolchain_build* usable_build(const char* name) {
  const toolchain_build* build = find_build(name);
  REQUIRE(build != nullptr);
  if (!build->available) {
    WARN("compiler " << build->chain->cc << " is not installed; the " << name << " objects are skipped");
    return nullptr;
  }
  std::string failures;
  for (const std::string& f : build->failures) failures += f + "\n";
  INFO(failures);
  REQUIRE(build->failures.empty());
  return build;
}

// Every option set on all objects of one toolchain in one command (GNU's per-file headings, and -A/-o prefixes,
// name the object in a report), plus one file a command with no options and with -a (single-file output has no
// heading, a different code path).
void check_nm_on_toolchain(const char* name) {
  const toolchain_build* build = usable_build(name);
  if (build == nullptr) return;
  std::vector<mismatch> found;
  std::size_t comparisons = 0;
  std::vector<std::string> all;
  for (const test_object& object : build->objects) all.push_back(object.path.string());
  for (const auto& options : option_sets()) {
    append(found, compare_nm(tools(), options, all));
    ++comparisons;
  }
  for (const std::vector<std::string>& options : {std::vector<std::string>{}, {"-a"}}) {
    for (const std::string& file : all) {
      append(found, compare_nm(tools(), options, {file}));
      ++comparisons;
    }
  }
  report(found, comparisons);
}

// -D on the linked outputs of one toolchain (and on one relocatable object, which has no dynamic symbols).
void check_nm_dynamic_on_toolchain(const char* name) {
  const toolchain_build* build = usable_build(name);
  if (build == nullptr) return;
  std::vector<mismatch> found;
  std::size_t comparisons = 0;
  std::vector<std::string> linked;
  std::string relocatable;
  for (const test_object& object : build->objects) {
    if (object.kind != object_kind::relocatable) linked.push_back(object.path.string());
    else if (relocatable.empty()) relocatable = object.path.string();
  }
  REQUIRE_FALSE(linked.empty());
  for (const std::vector<std::string>& options : {std::vector<std::string>{"-D"},
                                                  {"-D", "-n"},
                                                  {"-D", "-u"},
                                                  {"-D", "--defined-only"},
                                                  {"-D", "-A"},
                                                  {"-D", "-r"},
                                                  {"-D", "-p"}}) {
    for (const std::string& file : linked) {
      append(found, compare_nm(tools(), options, {file}));
      ++comparisons;
    }
  }
  append(found, compare_nm(tools(), {"-D"}, {relocatable}));
  std::vector<std::string> together(linked);
  together.push_back(relocatable);
  append(found, compare_nm(tools(), {"-D"}, together));
  comparisons += 2;
  report(found, comparisons);
}

}  // namespace

TEST_CASE("differential.nm.x86_64: elfsieve-nm equals GNU nm on host gcc objects", "[differential][nm]") {
  check_nm_on_toolchain("x86_64");
}
TEST_CASE("differential.nm.i686: elfsieve-nm equals GNU nm on i686 objects", "[differential][nm]") {
  check_nm_on_toolchain("i686");
}
TEST_CASE("differential.nm.ppc32: elfsieve-nm equals GNU nm on powerpc objects", "[differential][nm]") {
  check_nm_on_toolchain("ppc32");
}
TEST_CASE("differential.nm.ppc64: elfsieve-nm equals GNU nm on powerpc64 objects", "[differential][nm]") {
  check_nm_on_toolchain("ppc64");
}
TEST_CASE("differential.nm.ppc64le: elfsieve-nm equals GNU nm on powerpc64le objects", "[differential][nm]") {
  check_nm_on_toolchain("ppc64le");
}

TEST_CASE("differential.nm_dynamic.x86_64: -D equals GNU nm on host executables and libraries", "[differential][nm]") {
  check_nm_dynamic_on_toolchain("x86_64");
}
TEST_CASE("differential.nm_dynamic.i686: -D equals GNU nm on i686 executables and libraries", "[differential][nm]") {
  check_nm_dynamic_on_toolchain("i686");
}
TEST_CASE("differential.nm_dynamic.ppc32: -D equals GNU nm on powerpc executables and libraries",
          "[differential][nm]") {
  check_nm_dynamic_on_toolchain("ppc32");
}
TEST_CASE("differential.nm_dynamic.ppc64: -D equals GNU nm on powerpc64 executables and libraries",
          "[differential][nm]") {
  check_nm_dynamic_on_toolchain("ppc64");
}
TEST_CASE("differential.nm_dynamic.ppc64le: -D equals GNU nm on powerpc64le executables and libraries",
          "[differential][nm]") {
  check_nm_dynamic_on_toolchain("ppc64le");
}

TEST_CASE("differential.nm_system: -D equals GNU nm on the machine's own libraries and executables",
          "[differential][nm]") {
  // The acceptance names libc.so.6 and /bin/true; the others widen the net (C++ symbol versions, the loader).
  const std::vector<std::string> candidates{
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/bin/true",
      "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
      "/lib/x86_64-linux-gnu/libm.so.6",
      "/lib64/ld-linux-x86-64.so.2",
      "/lib/x86_64-linux-gnu/libz.so.1",
      "/usr/bin/ls",
      "/usr/bin/cmake",
  };
  std::vector<std::string> present;
  for (const std::string& c : candidates)
    if (std::filesystem::exists(c)) present.push_back(c);
  REQUIRE(present.size() >= 2);
  std::vector<mismatch> found;
  std::size_t comparisons = 0;
  for (const std::vector<std::string>& options : {std::vector<std::string>{"-D"}, {"-D", "-n"}}) {
    for (const std::string& file : present) {
      append(found, compare_nm(tools(), options, {file}));
      ++comparisons;
    }
  }
  append(found, compare_nm(tools(), {"-D", "--defined-only"}, present));
  append(found, compare_nm(tools(), {"-D", "-u", "-A"}, present));
  // Without -D: stripped system files have no .symtab ("no symbols"), which must be reported the same way.
  append(found, compare_nm(tools(), {}, {"/bin/true"}));
  comparisons += 3;
  report(found, comparisons);
}

TEST_CASE("differential.nm_errors: missing and non-ELF files among good ones", "[differential][nm]") {
  const toolchain_build* build = usable_build("x86_64");
  REQUIRE(build != nullptr);
  std::vector<std::string> good;
  for (const test_object& object : build->objects)
    if (object.path.filename() == "symbols.o" || object.path.filename() == "sections.o")
      good.push_back(object.path.string());
  REQUIRE(good.size() == 2);
  const std::string missing = (test_work_dir() / "no-such-file.o").string();
  const std::string not_elf = (test_data_dir() / "symbols.c").string();
  const std::string directory = test_data_dir().string();
  const std::string empty = (test_work_dir() / "empty-file.o").string();
  {
    std::FILE* f = std::fopen(empty.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fclose(f);
  }

  std::vector<mismatch> found;
  std::size_t comparisons = 0;
  const std::vector<std::vector<std::string>> command_lines{
      {missing},
      {not_elf},
      {good[0], missing, good[1]},
      {good[0], not_elf, good[1]},
      {missing, not_elf, good[0]},
      {good[0], directory},
      {empty, good[1]},
  };
  // Issue #11 (README, "Messages and exit statuses"): elfsieve-nm reports an empty file, where GNU nm fails on it
  // without a word. That one stderr line is the only difference allowed: stdout, the other messages and the exit
  // status stay GNU's.
  const std::vector<std::string> names{tools().gnu, tools().ours, "elfsieve-nm"};
  const std::string empty_reported = "nm: " + empty + ": file format not recognized (empty file)";
  for (const auto& files : command_lines) {
    for (const std::vector<std::string>& options : {std::vector<std::string>{}, {"-A"}, {"-D"}}) {
      ++comparisons;
      if (files.front() != empty) {
        append(found, compare_nm(tools(), options, files));
        continue;
      }
      auto run = [&](const std::string& program) {
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.insert(argv.end(), files.begin(), files.end());
        return run_process(argv);
      };
      const auto g = run(tools().gnu), e = run(tools().ours);
      auto our_err = detail::normalized_lines(e.err, names);
      INFO("nm with " << options.size() << " options on an empty file:\n" << e.err);
      REQUIRE_FALSE(our_err.empty());
      CHECK(our_err.front() == empty_reported);
      our_err.erase(our_err.begin());
      CHECK(our_err == detail::normalized_lines(g.err, names));
      CHECK(e.out == g.out);
      CHECK(e.status == g.status);
    }
  }
  report(found, comparisons);
}

TEST_CASE("differential.nm_harness: a difference in output or status is reported", "[differential][harness]") {
  // `true` and `false` print nothing; only the exit status differs.
  const auto status = compare_nm({"true", "false"}, {}, {});
  REQUIRE(status.size() == 1);
  CHECK(status[0].field == "exit status");
  CHECK(status[0].expected == "0");
  CHECK(status[0].actual == "1");
  // `echo x` and `printf x` differ only in the final newline, which byte-identical output must not lose.
  const auto newline = compare_nm({"echo", "printf"}, {}, {"same"});
  REQUIRE(newline.size() == 1);
  CHECK(newline[0].field == "stdout line 2");
  CHECK(newline[0].expected == "<end of output>");
  // A program-name prefix is not a difference; the rest of the message is.
  using detail::normalized_lines;
  const std::vector<std::string> names{"/build/bin/elfsieve-nm", "elfsieve-nm"};
  CHECK(normalized_lines("elfsieve-nm: 'x': No such file\n", names) ==
        std::vector<std::string>{"nm: 'x': No such file"});
  CHECK(normalized_lines("/build/bin/elfsieve-nm: y: file format not recognized\n", names) ==
        std::vector<std::string>{"nm: y: file format not recognized"});
  CHECK(normalized_lines("elfsieve-nm.old: x\n", names) == std::vector<std::string>{"elfsieve-nm.old: x"});
}

#endif  // ELFSIEVE_NM_PATH
