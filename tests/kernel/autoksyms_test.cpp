// elfsieve-undefs against the shell pipeline scripts/gen_autoksyms.sh runs (nm | sed | sort -u | grep -v), over
// the corpus modules of every architecture; and --check's exit codes. kernel::for_each_undefined against GNU nm.
#include <catch2/catch.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/autoksyms.hpp"
#include "support/corpus.hpp"
#include "support/process.hpp"

using namespace elfsieve::test;

#ifdef ELFSIEVE_UNDEFS_PATH

namespace {

std::vector<std::string> corpus_modules(const std::string& arch) {
  std::vector<std::string> out;
  for (const auto& o : corpus_objects_of(arch))
    if (o.name.ends_with(".ko")) out.push_back(o.path.string());
  return out;
}

// gen_autoksyms.sh's pipeline, run by the shell: the *.usyms step (Makefile.build's cmd_undefined_syms) for
// every module, the whitelist, then the script's own filters and its header.
std::string shell_autoksyms(const std::vector<std::string>& modules, const std::string& whitelist = {}) {
  std::string script =
      "set -e; out=\"$1\"; wl=\"$2\"; shift 2\n"
      "printf '/*\\n * Automatically generated file; DO NOT EDIT.\\n */\\n\\n' > \"$out\"\n"
      "{ for m in \"$@\"; do nm \"$m\" | sed -n 's/^  *U //p'; done; [ -n \"$wl\" ] && cat \"$wl\"; true; } |\n"
      "  sed -e 's/ /\\n/g' | sed -n -e '/^$/!p' | sed -e 's/^\\.//' | sort -u |\n"
      "  { grep -v '^__this_module$' || true; } | sed -e 's/\\(.*\\)/#define __KSYM_\\1 1/' >> \"$out\"\n";
  // A name of its own per process and call: ctest runs the test cases of this file in parallel processes.
  static int calls = 0;
  const auto out = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) /
                   ("autoksyms.shell." + std::to_string(::getpid()) + "." + std::to_string(++calls) + ".h");
  std::filesystem::create_directories(out.parent_path());
  std::vector<std::string> argv{"sh", "-c", script, "sh", out.string(), whitelist};
  argv.insert(argv.end(), modules.begin(), modules.end());
  const auto r = run_process(argv);
  REQUIRE(r.ok());
  std::ifstream in(out, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  in.close();
  std::filesystem::remove(out);
  return text;
}

std::filesystem::path write_work_file(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

}  // namespace

TEST_CASE("elfsieve-undefs --format=autoksyms-h equals gen_autoksyms.sh's pipeline on every corpus architecture",
          "[autoksyms][corpus]") {
  const auto archs = corpus_architectures();
  REQUIRE_FALSE(archs.empty());
  for (const auto& arch : archs) {
    const auto modules = corpus_modules(arch);
    if (modules.empty()) continue;
    CAPTURE(arch, modules.size());
    std::vector<std::string> argv{ELFSIEVE_UNDEFS_PATH, "--format=autoksyms-h"};
    argv.insert(argv.end(), modules.begin(), modules.end());
    const auto ours = run_process(argv);
    REQUIRE(ours.ok());
    CHECK(ours.out == shell_autoksyms(modules));
  }
}

TEST_CASE("elfsieve-undefs merges a whitelist the way gen_autoksyms.sh does", "[autoksyms][corpus]") {
  const auto modules = corpus_modules("x86_64");
  REQUIRE_FALSE(modules.empty());
  // Blank-separated, duplicated, dotted and __this_module names, as a real whitelist file may hold.
  const auto whitelist = write_work_file("whitelist.txt", "zzz_extra  printk\n.dotted_entry\n\n__this_module aaa\n");
  std::vector<std::string> argv{ELFSIEVE_UNDEFS_PATH, "-f", "autoksyms-h", "--whitelist", whitelist.string()};
  argv.insert(argv.end(), modules.begin(), modules.end());
  const auto ours = run_process(argv);
  REQUIRE(ours.ok());
  CHECK(ours.out == shell_autoksyms(modules, whitelist.string()));
  CHECK(ours.out.find("#define __KSYM_dotted_entry 1\n") != std::string::npos);
}

// Issue #11: --check's "missing" moved from 1 to 3, so that 1 means a file error in every tool.
TEST_CASE("elfsieve-undefs --check exits 0 when the list covers every needed symbol, 3 with the missing ones",
          "[autoksyms][corpus]") {
  const auto modules = corpus_modules("i386");
  REQUIRE_FALSE(modules.empty());
  std::vector<std::string> list_argv{ELFSIEVE_UNDEFS_PATH, "--module-layout"};
  list_argv.insert(list_argv.end(), modules.begin(), modules.end());
  const auto list = run_process(list_argv);
  REQUIRE(list.ok());
  REQUIRE(list.out.find("module_layout\n") != std::string::npos);

  auto check = [&](const std::filesystem::path& known) {
    std::vector<std::string> argv{ELFSIEVE_UNDEFS_PATH, "--module-layout", "--check", known.string()};
    argv.insert(argv.end(), modules.begin(), modules.end());
    return run_process(argv);
  };
  SECTION("an autoksyms.h that covers everything") {
    std::vector<std::string> argv{ELFSIEVE_UNDEFS_PATH, "--module-layout", "--format=autoksyms-h"};
    argv.insert(argv.end(), modules.begin(), modules.end());
    const auto header = run_process(argv);
    REQUIRE(header.ok());
    const auto r = check(write_work_file("covering.h", header.out + "#define __KSYM_unrelated 1\n"));
    CHECK(r.status == 0);
    CHECK(r.out.empty());
  }
  SECTION("a name list that lacks one symbol") {
    std::string text = list.out;
    const std::string dropped = "module_layout";
    text.erase(text.find(dropped + "\n"), dropped.size() + 1);
    const auto r = check(write_work_file("lacking.txt", text));
    CHECK(r.status == 3);
    CHECK(r.out == dropped + "\n");
  }
}

// Issue #11: an unreadable or malformed object exits 1 (was 2), as in the other tools; usage errors stay 2.
TEST_CASE("elfsieve-undefs reports unreadable input with exit status 1 and usage errors with 2", "[autoksyms]") {
  const auto missing = run_process({ELFSIEVE_UNDEFS_PATH, "/nonexistent/module.ko"});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("/nonexistent/module.ko: No such file or directory") != std::string::npos);
  const auto not_elf = run_process(
      {ELFSIEVE_UNDEFS_PATH,
       write_work_file("not-elf.ko", "this is a text file, long enough for an ELF header but not one\n").string()});
  CHECK(not_elf.status == 1);
  CHECK(not_elf.err.find("not an ELF file") != std::string::npos);
  CHECK(run_process({ELFSIEVE_UNDEFS_PATH, "--format=yaml", "x.ko"}).status == 2);
  CHECK(run_process({ELFSIEVE_UNDEFS_PATH}).status == 2);
  const auto help = run_process({ELFSIEVE_UNDEFS_PATH, "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--check=FILE") != std::string::npos);
}

#endif  // ELFSIEVE_UNDEFS_PATH

TEST_CASE("needed_symbols: gen_autoksyms.sh's filters", "[autoksyms]") {
  elfsieve::kernel::needed_symbols n;
  n.add(".memcpy");
  n.add("memcpy");
  n.add("__this_module");
  n.add("Zed");
  n.add_words("  b\ta\n\n.c ");
  CHECK(n.sorted() == std::vector<std::string>{"Zed", "a", "b", "c", "memcpy"});
  CHECK(n.contains("a"));
  CHECK_FALSE(n.contains("__this_module"));
  elfsieve::kernel::needed_symbols known;
  elfsieve::kernel::add_known_symbols(known, "/*\n * x\n */\n\n#define __KSYM_a 1\n#define __KSYM_memcpy 1\n");
  CHECK(known.sorted() == std::vector<std::string>{"a", "memcpy"});
}

TEST_CASE("for_each_undefined: over the bytes of any layout, GNU nm -p's U lines in table order",
          "[autoksyms][corpus]") {
  std::size_t modules = 0, names = 0;
  for (const char* arch : {"x86_64", "i386", "ppc32", "ppc64"}) {
    std::size_t taken = 0;
    for (const auto& o : corpus_objects_of(arch)) {
      if (!o.name.ends_with(".ko") || ++taken > 3) continue;
      CAPTURE(o.name);
      const auto nm = run_process({"sh", "-c", "nm -p \"$1\" | sed -n 's/^  *U //p'", "sh", o.path.string()});
      REQUIRE(nm.ok());
      std::vector<std::string> expected;
      for (std::size_t pos = 0, eol; (eol = nm.out.find('\n', pos)) != std::string::npos; pos = eol + 1)
        expected.push_back(nm.out.substr(pos, eol - pos));
      auto mapped = elfsieve::mapped_file::open(o.path.c_str());
      REQUIRE(mapped);
      std::vector<std::string> ours;
      auto listed = elfsieve::kernel::for_each_undefined(mapped->bytes(),
                                                         [&](std::string_view name) { ours.emplace_back(name); });
      REQUIRE(listed);
      CHECK(ours == expected);
      ++modules;
      names += ours.size();
    }
  }
  CHECK(modules >= 8u);  // the corpus has modules of every architecture: an empty walk is no pass
  CHECK(names > 100u);
}

TEST_CASE("for_each_undefined: bytes that are no ELF object are an error value", "[autoksyms]") {
  const std::vector<std::byte> text(64, std::byte{'x'});
  bool called = false;
  auto r =
      elfsieve::kernel::for_each_undefined(std::span<const std::byte>(text), [&](std::string_view) { called = true; });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == elfsieve::errc::bad_magic);
  CHECK_FALSE(called);
}
