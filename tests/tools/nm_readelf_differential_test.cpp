// Differential tests: sections, symbols and relocations read by the views equal what GNU readelf prints, field
// by field, on objects compiled here by the host gcc and the installed cross compilers.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/oracle.hpp"
#include "support/test_objects.hpp"

namespace {

using namespace elfsieve::test;

void require_built(const toolchain_build& build) {
  std::string failures;
  for (const std::string& f : build.failures) failures += f + "\n";
  INFO(failures);
  REQUIRE(build.failures.empty());
  REQUIRE_FALSE(build.objects.empty());
}

void check_readelf_on_toolchain(const char* name) {
  const toolchain_build* build = find_build(name);
  REQUIRE(build != nullptr);
  if (!build->available) {
    WARN("compiler " << build->chain->cc << " is not installed; the " << name << " objects are skipped");
    return;
  }
  require_built(*build);
  if (!build->has_libc) WARN(build->chain->cc << " has no C library: linked outputs were built with -nostdlib");
  std::size_t compared = 0;
  for (const test_object& object : build->objects) {
    CAPTURE(object.path.string());
    const std::vector<mismatch> found = compare_readelf(object.path);
    INFO(describe(found));
    CHECK(found.empty());
    ++compared;
  }
  CHECK(compared == build->objects.size());
}

// The readelf output of one object, with a line edited; the harness must notice.
std::vector<mismatch> compare_doctored(const std::filesystem::path& path, const std::string& from,
                                       const std::string& to) {
  const process_result readelf = run_readelf(path);
  REQUIRE(readelf.ok());
  std::string text = readelf.out;
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return compare_readelf_output(path, text);
}

const test_object& host_object(std::string_view file_name) {
  const toolchain_build* build = find_build("x86_64");
  REQUIRE(build != nullptr);
  require_built(*build);
  for (const test_object& o : build->objects)
    if (o.path.filename() == file_name) return o;
  FAIL("no object " << file_name);
  return build->objects.front();
}

}  // namespace

TEST_CASE("differential.readelf.x86_64: views equal readelf on host gcc objects", "[differential][readelf]") {
  check_readelf_on_toolchain("x86_64");
}
TEST_CASE("differential.readelf.i686: views equal readelf on i686 objects", "[differential][readelf]") {
  check_readelf_on_toolchain("i686");
}
TEST_CASE("differential.readelf.ppc32: views equal readelf on powerpc objects", "[differential][readelf]") {
  check_readelf_on_toolchain("ppc32");
}
TEST_CASE("differential.readelf.ppc64: views equal readelf on powerpc64 objects", "[differential][readelf]") {
  check_readelf_on_toolchain("ppc64");
}
TEST_CASE("differential.readelf.ppc64le: views equal readelf on powerpc64le objects", "[differential][readelf]") {
  check_readelf_on_toolchain("ppc64le");
}

TEST_CASE("differential.objects: the compiled set covers every kind and layout", "[differential]") {
  bool saw_executable = false, saw_shared = false, saw_cxx = false, saw_big_endian_64 = false;
  for (const toolchain_build& b : test_object_builds()) {
    if (!b.available) continue;
    require_built(b);
    for (const test_object& o : b.objects) {
      saw_executable |= o.kind == object_kind::executable;
      saw_shared |= o.kind == object_kind::shared_library;
      saw_cxx |= o.path.filename().string().starts_with("cxx_");
      saw_big_endian_64 |= o.toolchain == "ppc64";
    }
  }
  CHECK(saw_executable);
  CHECK(saw_shared);
  CHECK(saw_cxx);
  if (find_build("ppc64")->available) CHECK(saw_big_endian_64);
}

TEST_CASE("differential.harness: a doctored readelf line is reported with object, field and both values",
          "[differential][harness]") {
  const test_object& object = host_object("sections.o");

  SECTION("section flags") {
    // .tbss is "WAT" in every x86-64 object with thread-local bss.
    const auto found = compare_doctored(object.path, " WAT ", " WAX ");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "flags");
    CHECK(found[0].expected == "WAX");
    CHECK(found[0].actual == "WAT");
    CHECK(found[0].object == object.path.string());
    CHECK(found[0].where.find(".tbss") != std::string::npos);
  }
  SECTION("symbol binding") {
    const auto found = compare_doctored(object.path, "GLOBAL DEFAULT", "WEAK   DEFAULT");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "bind");
    CHECK(found[0].expected == "WEAK");
    CHECK(found[0].actual == "GLOBAL");
  }
  SECTION("relocation addend") {
    const auto found = compare_doctored(object.path, " - 4\n", " - 8\n");
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "addend");
    CHECK(found[0].expected == "-8");
    CHECK(found[0].actual == "-4");
  }
  SECTION("a missing symbol line") {
    const process_result readelf = run_readelf(object.path);
    REQUIRE(readelf.ok());
    std::string text = readelf.out;
    const std::size_t at = text.find("     1: ");
    REQUIRE(at != std::string::npos);
    text.erase(at, text.find('\n', at) + 1 - at);
    const auto found = compare_readelf_output(object.path, text);
    REQUIRE_FALSE(found.empty());
    CHECK(found[0].field == "lines");
  }
}

TEST_CASE("differential.parser: readelf lines that are easy to misread", "[differential][harness]") {
  using namespace elfsieve::test::detail;
  SECTION("section with empty name, no flags") {
    const auto s =
        parse_section_line("  [ 0]                   NULL            0000000000000000 000000 000000 00      0   0  0");
    REQUIRE(s);
    CHECK(s->name.empty());
    CHECK(s->type == "NULL");
    CHECK(s->flags.empty());
  }
  SECTION("flags that look like hex digits, long names, two-digit links") {
    const auto s = parse_section_line(
        "  [123] .gnu.lto_.decls.0123456789 PROGBITS        0000000000000000 0001f0 000010 00   E 12  99 16");
    REQUIRE(s);
    CHECK(s->index == 123);
    CHECK(s->name == ".gnu.lto_.decls.0123456789");
    CHECK(s->type == "PROGBITS");
    CHECK(s->entsize == 0);
    CHECK(s->flags == "E");
    CHECK(s->link == 12);
    CHECK(s->info == 99);
    CHECK(s->align == 16);
  }
  SECTION("type names with spaces, ELF32 widths") {
    const auto s =
        parse_section_line("  [ 7] .symtab_shndx     SYMTAB SECTION INDICES 00000000 0001f0 000010 04     12   0  4");
    REQUIRE(s);
    CHECK(s->name == ".symtab_shndx");
    CHECK(s->type == "SYMTAB SECTION INDICES");
    CHECK(s->entsize == 4);
    CHECK(s->flags.empty());
    CHECK(s->link == 12);
  }
  SECTION("more than three flag letters") {
    const auto s =
        parse_section_line("  [ 9] .text.x           PROGBITS        00000000 000040 000010 00 AXGR  0   0 16");
    REQUIRE(s);
    CHECK(s->flags == "AXGR");
    CHECK(s->addr == 0);
    CHECK(s->size == 0x10);
  }
  SECTION("ppc64 local entry and versioned names") {
    const auto s =
        parse_symbol_line("    42: 0000000000000100    60 FUNC    GLOBAL DEFAULT [<localentry>: 8]     2 init_module");
    REQUIRE(s);
    CHECK(s->other == "<localentry>: 8");
    CHECK(s->ndx == "2");
    CHECK(s->name == "init_module");
    const auto v = parse_symbol_line("     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND puts@GLIBC_2.2.5 (2)");
    REQUIRE(v);
    CHECK(v->ndx == "UND");
    CHECK(v->name == "puts@GLIBC_2.2.5 (2)");
    const auto big = parse_symbol_line("     3: 0000000000004020 0x186a0 OBJECT  <OS specific>: 10 DEFAULT   24 big");
    REQUIRE(big);
    CHECK(big->size == 100000);
    CHECK(big->bind == "<OS specific>: 10");
    CHECK(big->name == "big");
  }
  SECTION("relocations: ifunc, negative addends, no symbol") {
    const auto ifunc = parse_relocation_line(
        "0000000000004018  0000000500000025 R_X86_64_IRELATIVE     dispatch()      dispatch + 0", true, true);
    REQUIRE(ifunc);
    CHECK(ifunc->ifunc_display == "dispatch()");
    CHECK(ifunc->symbol_name == "dispatch");
    const auto negative = parse_relocation_line(
        "0000000000000009  0000000300000002 R_X86_64_PC32          0000000000000000 .data - 4", true, true);
    REQUIRE(negative);
    CHECK(negative->addend == -4);
    CHECK(negative->symbol_name == ".data");
    const auto none = parse_relocation_line(
        "0000000000003df0  0000000000000008 R_X86_64_RELATIVE                    1130", true, true);
    REQUIRE(none);
    CHECK_FALSE(none->has_symbol_part);
    CHECK(none->addend == 0x1130);
    const auto rel = parse_relocation_line("00000007  00000901 R_386_32               00000000   x", false, false);
    REQUIRE(rel);
    CHECK(rel->info == 0x901);
    CHECK(rel->symbol_name == "x");
    CHECK_FALSE(rel->has_addend);
  }
}
