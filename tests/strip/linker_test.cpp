// The linker as consumer: objects compiled here (C with string literals, static functions and data, pointer tables,
// a weak symbol, calls across files, plus an assembly file whose relocation names a local label in a SHF_MERGE
// string section with an addend) are stripped with --consumer=linker, linked with gcc, run, and must print exactly
// what the program linked from the unstripped objects prints. The semantic oracle checks each stripped object too.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/process.hpp"
#include "support/strip_oracle.hpp"

#ifdef ELFSIEVE_STRIP_PATH

using namespace elfsieve::test;

namespace {

const char* main_c = R"(#include <stdio.h>
extern const char *greeting_ptr;
int lib_sum(int);
const char *lib_name(int);
__attribute__((weak)) int tweak(int x) { return x + 1; }
static int counter;
__attribute__((noinline)) static int bump(int by) { counter += by; return counter; }
static int (*const table[])(int) = { bump, lib_sum, tweak };
int main(void) {
  printf("%s\n", greeting_ptr);
  for (int i = 0; i < 3; ++i) printf("%d %s %d\n", i, lib_name(i), table[i](i + 10));
  printf("counter %d\n", counter);
  return 0;
}
)";

const char* lib_c = R"(static const char *const names[] = { "zero", "one", "two", "many" };
static const char unique_text[] = "a string the linker may merge";
__attribute__((noinline)) static int helper(int x) { return x * 3 + (int)sizeof unique_text; }
int lib_sum(int x) { return helper(x) + helper(x + 1); }
const char *lib_name(int i) { return names[i < 3 ? i : 3]; }
)";

// greeting_ptr holds greeting+6: GAS keeps the local label `greeting` in the relocation (a SHF_MERGE target with
// an addend), which a linker-bound strip may only retarget with --unmerge.
const char* greeting_s = R"(
  .section .rodata.str1.1,"aMS",@progbits,1
greeting: .string "hello world from a merged string"
  .section .data.rel.local,"aw"
  .align 8
  .globl greeting_ptr
greeting_ptr: .quad greeting + 6
  .section .note.GNU-stack,"",@progbits
)";

const char* greeting_s_i386 = R"(
  .section .rodata.str1.1,"aMS",@progbits,1
greeting: .string "hello world from a merged string"
  .section .data.rel.local,"aw"
  .align 4
  .globl greeting_ptr
greeting_ptr: .long greeting + 6
  .section .note.GNU-stack,"",@progbits
)";

struct toolchain {
  const char* name;
  const char* gcc;
  const char* assembly;  // greeting.s for this target
};

std::string build_and_run(const toolchain& tc, const std::filesystem::path& dir,
                          const std::vector<std::filesystem::path>& objects, const std::string& name) {
  std::vector<std::string> link = {tc.gcc, "-o", (dir / name).string()};
  for (const auto& o : objects) link.push_back(o.string());
  auto l = run_process(link);
  INFO(l.err);
  REQUIRE(l.ok());
  auto r = run_process({(dir / name).string()});
  INFO(r.err);
  REQUIRE(r.ok());
  return r.out;
}

// Compiles, links and runs the reference program, then each stripped variant; every variant must print the same.
void check_linker_consumer(const toolchain& tc) {
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "strip_linker" / tc.name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "main.c") << main_c;
  std::ofstream(dir / "lib.c") << lib_c;
  std::ofstream(dir / "greeting.s") << tc.assembly;
  std::vector<std::filesystem::path> objects;
  for (const char* source : {"main.c", "lib.c", "greeting.s"}) {
    const auto object = dir / (std::string(source) + ".o");
    auto c = run_process({tc.gcc, "-O1", "-g", "-c", "-o", object.string(), (dir / source).string()});
    INFO(c.err);
    REQUIRE(c.ok());
    objects.push_back(object);
  }
  const std::string expected = build_and_run(tc, dir, objects, "reference");
  REQUIRE(expected.find("hello world") == std::string::npos);  // greeting+6: "world from ..."
  REQUIRE(expected.find("world from a merged string") != std::string::npos);

  struct variant {
    const char* name;
    std::vector<std::string> options;
    bool expect_retarget;
    bool expect_kept;  // some symbol asked for must stay (merge section without --unmerge, preemptible global)
  };
  // The locals (static functions and data, the merge-section label): all named by relocations, so removing them
  // means retargeting. The globals are the objects' interface to each other and are not asked for here.
  const std::vector<std::string> locals = {"-N",    "greeting", "-N",      "bump", "-N",    "helper", "-N",
                                           "names", "-N",       "counter", "-N",   "table", "-N",     "unique_text"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  // A policy selecting every name: the interface globals no relocation in their own object names (main, lib_sum,
  // lib_name, greeting_ptr) would simply be removed, as GNU strip -N removes them, and the link would fail by the
  // user's choice; -K keeps them. Globals that relocations name (tweak) stay as preemptible, with a warning.
  const std::vector<std::string> interface = {"-K", "main", "-K", "lib_sum", "-K", "lib_name", "-K", "greeting_ptr"};
  // Static functions and data in ordinary sections are already named through section symbols by GAS, so only the
  // SHF_MERGE labels (greeting, .LC*) need retargeting, and only --unmerge allows it.
  const std::vector<variant> variants = {
      {"strip-unneeded", {"--consumer=linker", "--strip-unneeded"}, false, false},
      {"locals", with({"--consumer=linker", "-g"}, locals), false, true},
      {"locals-unmerge", with({"--consumer=linker", "--unmerge"}, locals), true, false},
      {"everything", with({"--consumer=linker", "--policy=name:*"}, interface), false, true},
      {"everything-unmerge", with({"--consumer=linker", "--unmerge", "--policy=name:*", "--strip-debug"}, interface),
       true, true},
      {"weak-named", {"--consumer=linker", "-N", "tweak"}, false, true},
  };

  for (const auto& v : variants) {
    INFO(tc.name << " " << v.name);
    std::vector<std::filesystem::path> stripped;
    std::size_t retargeted = 0;
    bool kept = false, greeting_retargeted = false, greeting_kept = false;
    for (const auto& o : objects) {
      const auto out = dir / (o.stem().string() + "." + v.name + ".o");
      std::vector<std::string> args = {ELFSIEVE_STRIP_PATH, "--report"};
      args.insert(args.end(), v.options.begin(), v.options.end());
      args.insert(args.end(), {"-o", out.string(), o.string()});
      auto r = run_process(args);
      INFO(r.out << r.err);
      REQUIRE(r.ok());
      if (r.out.find(": retargeted ") != std::string::npos) ++retargeted;
      if (r.err.find("warning: keeping") != std::string::npos) kept = true;
      greeting_retargeted |= r.out.find(": retargeted greeting:") != std::string::npos;
      greeting_kept |= r.out.find(": kept greeting:") != std::string::npos;
      const auto report = elfsieve::testing::check_strip_semantics(read_bytes(o), read_bytes(out));
      for (const auto& p : report.problems) FAIL_CHECK(p);
      CHECK(report.relocations_checked > 0);
      stripped.push_back(out);
    }
    if (v.expect_retarget) CHECK(retargeted > 0);
    CHECK(kept == v.expect_kept);
    // The merge-section label: kept without --unmerge, retargeted (SHF_MERGE cleared) with it.
    const bool asked_for_greeting =
        std::string_view(v.name).find("locals") == 0 || std::string_view(v.name).find("everything") == 0;
    if (asked_for_greeting) {
      const bool unmerge = std::string_view(v.name).find("unmerge") != std::string_view::npos;
      CHECK(greeting_retargeted == unmerge);
      CHECK(greeting_kept == !unmerge);
    }
    CHECK(build_and_run(tc, dir, stripped, std::string("prog-") + v.name) == expected);
  }
}

}  // namespace

TEST_CASE("strip_linker.x86_64_stripped_objects_link_and_run_the_same", "[strip][strip_linker]") {
  check_linker_consumer({"x86_64", "gcc", greeting_s});
}

// i386 uses REL relocations: retargeting patches the addend stored in the relocated field.
TEST_CASE("strip_linker.i386_stripped_objects_link_and_run_the_same", "[strip][strip_linker]") {
  if (!program_available("i686-linux-gnu-gcc")) {
    WARN("i686-linux-gnu-gcc not installed; i386 linker consumer not tested");
    return;
  }
  const auto probe_dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "strip_linker";
  std::filesystem::create_directories(probe_dir);
  std::ofstream(probe_dir / "probe.c") << "int main(void) { return 0; }\n";
  if (!run_process({"i686-linux-gnu-gcc", "-o", (probe_dir / "probe").string(), (probe_dir / "probe.c").string()})
           .ok() ||
      !run_process({(probe_dir / "probe").string()}).ok()) {
    WARN("cannot link or run i386 programs here (no IA32 emulation or no 32-bit libc); i386 not tested");
    return;
  }
  check_linker_consumer({"i386", "i686-linux-gnu-gcc", greeting_s_i386});
}

#endif
