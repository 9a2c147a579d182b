// elfsieve-fill and fill_section(): a program linked with a reserved section and a length variable is filled
// afterwards and prints the data; an oversized fill changes nothing; objects of all four layouts are filled and
// checked with GNU objdump; every byte outside the filled ranges is unchanged.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

std::filesystem::path fill_dir(const std::string& name) {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "fill" / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::size_t entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

const char* program_source = R"(#include <stdio.h>
__attribute__((section(".elfsieve_reserved"), used)) unsigned char blob[4096] = {1};
__attribute__((section(".data"), used)) unsigned long blob_len = 0;
int main(void) {
  volatile unsigned long n = blob_len;
  volatile unsigned char *p = blob;
  for (unsigned long i = 0; i < n; ++i) putchar(p[i]);
  return 0;
}
)";

// `bytes` with section `name`'s sh_offset and sh_size replaced (ELF64 little-endian: the test's gcc output).
std::vector<std::byte> with_section_range(std::vector<std::byte> bytes, std::string_view name, std::uint64_t offset,
                                          std::uint64_t size) {
  using L = elf64le;
  auto f = file<L>::create(std::span<const std::byte>(bytes));
  REQUIRE(f.has_value());
  auto sections = f->sections();
  REQUIRE(sections.has_value());
  auto s = sections->find(name);
  REQUIRE(s.has_value());
  const std::uint64_t header = sections->offset_of_header(*s);
  std::memcpy(bytes.data() + header + offsetof(L::shdr, sh_offset), &offset, sizeof offset);
  std::memcpy(bytes.data() + header + offsetof(L::shdr, sh_size), &size, sizeof size);
  return bytes;
}

}  // namespace

// Zeroing a section whose range a malformed header points at the file header, a header table or another section's
// bytes would destroy them: plan_fill refuses with the target's index and offset (and the other section's index).
TEST_CASE("fill.refuses_a_range_over_headers_or_another_section", "[fill]") {
  const auto dir = fill_dir("overlap");
  write_text(dir / "o.c",
             "__attribute__((section(\".reserved\"))) unsigned char space[64] = {0xee};\n"
             "int counter = 3;\n");
  const auto object = dir / "o.o";
  auto cc = run_process({"gcc", "-c", "-O1", "-o", object.string(), (dir / "o.c").string()});
  INFO(cc.err);
  REQUIRE(cc.ok());
  const auto input = read_bytes(object);
  auto f = file<elf64le>::create(std::span<const std::byte>(input));
  REQUIRE(f.has_value());
  auto sections = f->sections();
  REQUIRE(sections.has_value());
  const auto reserved = sections->find(".reserved").value();
  const auto symtab = sections->find(".symtab").value();
  const std::uint64_t shoff = f->header().e_shoff.value();
  const std::string payload = "AB";
  const auto data = std::as_bytes(std::span(payload.data(), payload.size()));
  const fill_request request{".reserved", data, ""};
  REQUIRE(fill_section(input, request).has_value());  // the unmodified object fills fine

  struct overlap {
    const char* what;
    std::uint64_t offset, size;
    errc code;
  };
  const overlap cases[] = {
      {"file header", 0, 16, errc::fill_overlaps_headers},
      {"last byte of the file header", 63, 1, errc::fill_overlaps_headers},
      {"section header table", shoff + 64, 64, errc::fill_overlaps_headers},
      {"another section", symtab.offset() + 8, 16, errc::fill_overlaps_section},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto bad = with_section_range(input, ".reserved", c.offset, c.size);
    auto out = fill_section(bad, request);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == c.code);
    CHECK(out.error().section == reserved.index());
    CHECK(out.error().offset == c.offset);
    if (c.code == errc::fill_overlaps_section) CHECK(out.error().detail == symtab.index().value);
  }
  // Adjacent is not overlapping: right after the file header, and ending where the section headers begin.
  CHECK(fill_section(with_section_range(input, ".reserved", 64, 2), request).error().code !=
        errc::fill_overlaps_headers);
  SECTION("program headers") {
    const auto exe = dir / "exe";
    write_text(dir / "main.c", "int main(void) { return 0; }\n");
    REQUIRE(run_process({"gcc", "-O1", "-o", exe.string(), (dir / "main.c").string()}).ok());
    const auto linked = read_bytes(exe);
    auto lf = file<elf64le>::create(std::span<const std::byte>(linked));
    REQUIRE(lf.has_value());
    const std::uint64_t phoff = lf->header().e_phoff.value();
    auto out = fill_section(with_section_range(linked, ".comment", phoff + 8, 8), fill_request{".comment", data, ""});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == errc::fill_overlaps_headers);
  }
}

#ifdef ELFSIEVE_FILL_PATH
TEST_CASE("fill.linked_program_prints_the_filled_data", "[fill]") {
  const auto dir = fill_dir("program");
  write_text(dir / "prog.c", program_source);
  const auto prog = (dir / "prog").string();
  auto cc = run_process({"gcc", "-O1", "-o", prog, (dir / "prog.c").string()});
  INFO(cc.err);
  REQUIRE(cc.ok());
  CHECK(run_process({prog}).out.empty());  // blob_len is 0 before the fill

  std::string data = "filled after the link, without relinking\n";
  for (int i = 0; i < 40; ++i) data += "line " + std::to_string(i) + " of the payload\n";
  write_text(dir / "data", data);
  std::filesystem::permissions(prog, std::filesystem::perms(0750));
  auto fill = run_process({ELFSIEVE_FILL_PATH, "--section", ".elfsieve_reserved", "--data", (dir / "data").string(),
                           "--length-symbol", "blob_len", prog});
  INFO(fill.err);
  REQUIRE(fill.ok());
  CHECK(run_process({prog}).out == data);
  CHECK((std::filesystem::status(prog).permissions() & std::filesystem::perms::all) == std::filesystem::perms(0750));
  CHECK(entries(dir) == 3);  // prog.c, prog, data: no temporary left

  SECTION("an oversized fill changes nothing and says by how much") {
    const auto before = read_bytes(prog);
    write_text(dir / "big", std::string(5000, 'x'));
    auto big = run_process({ELFSIEVE_FILL_PATH, "--section", ".elfsieve_reserved", "--data", (dir / "big").string(),
                            "--length-symbol", "blob_len", prog});
    CHECK(big.status == 1);
    CHECK(big.err.find("904 bytes short") != std::string::npos);
    CHECK(read_bytes(prog) == before);
    CHECK(entries(dir) == 4);
  }
  SECTION("errors and usage") {
    const auto before = read_bytes(prog);
    auto missing = run_process({ELFSIEVE_FILL_PATH, "--section", ".nope", "--data", (dir / "data").string(), prog});
    CHECK(missing.status == 1);
    CHECK(missing.err.find(".nope") != std::string::npos);
    auto bss = run_process({ELFSIEVE_FILL_PATH, "--section", ".bss", "--data", (dir / "data").string(), prog});
    CHECK(bss.status == 1);
    auto symbol = run_process(
        {ELFSIEVE_FILL_PATH, "-s", ".elfsieve_reserved", "-d", (dir / "data").string(), "-l", "no_such_symbol", prog});
    CHECK(symbol.status == 1);
    CHECK(symbol.err.find("no_such_symbol") != std::string::npos);
    CHECK(read_bytes(prog) == before);
    CHECK(run_process({ELFSIEVE_FILL_PATH, prog}).status == 2);
    CHECK(run_process({ELFSIEVE_FILL_PATH, "--bogus"}).status == 2);
    auto help = run_process({ELFSIEVE_FILL_PATH, "--help"});
    CHECK(help.status == 0);
    for (const char* option : {"--section", "--data", "--length-symbol", "--output", "--version"})
      CHECK(help.out.find(option) != std::string::npos);
  }
  SECTION("a section over the section headers: exit 1, file intact (before #10 the headers were zeroed, exit 0)") {
    const auto bytes = read_bytes(prog);
    auto f = file<elf64le>::create(std::span<const std::byte>(bytes));
    REQUIRE(f.has_value());
    const auto broken = with_section_range(bytes, ".elfsieve_reserved", f->header().e_shoff.value(), 64);
    std::ofstream(prog, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(broken.data()), static_cast<std::streamsize>(broken.size()));
    auto r =
        run_process({ELFSIEVE_FILL_PATH, "--section", ".elfsieve_reserved", "--data", (dir / "data").string(), prog});
    CHECK(r.status == 1);
    CHECK(r.err.find("overlaps the ELF header, the program headers or the section headers") != std::string::npos);
    CHECK(read_bytes(prog) == broken);
  }
}
#endif

TEST_CASE("fill.every_layout_checked_with_objdump", "[fill]") {
  struct target {
    const char* cc;
    const char* name;
    bool little;
    unsigned width;
  };
  const target targets[] = {{"gcc", "x86_64", true, 8},
                            {"i686-linux-gnu-gcc", "i686", true, 4},
                            {"powerpc-linux-gnu-gcc", "ppc32", false, 4},
                            {"powerpc64-linux-gnu-gcc", "ppc64", false, 8}};
  for (const auto& t : targets) {
    if (!program_available(t.cc)) {
      WARN(t.cc << " not installed: layout " << t.name << " not checked");
      continue;
    }
    INFO(t.name);
    const auto dir = fill_dir(t.name);
    write_text(dir / "o.c",
               "__attribute__((section(\".reserved\"))) unsigned char space[64] = {0xee};\n"
               "__attribute__((section(\".data\"))) unsigned long length_here = 0x1111;\n");
    const auto object = dir / "o.o";
    REQUIRE(run_process({t.cc, "-c", "-O1", "-o", object.string(), (dir / "o.c").string()}).ok());
    const auto input = read_bytes(object);
    const std::string payload = "ABCDEFGHIJ";
    const auto data = std::as_bytes(std::span(payload.data(), payload.size()));
    auto out = fill_section(input, fill_request{".reserved", data, "length_here"});
    REQUIRE(out.has_value());
    std::ofstream(dir / "filled.o", std::ios::binary)
        .write(reinterpret_cast<const char*>(out->data()), static_cast<std::streamsize>(out->size()));
    // objdump -s: the section holds the payload then zeros; .data holds the length in the file's order and width.
    auto reserved = run_process({"objdump", "-s", "-j", ".reserved", (dir / "filled.o").string()}).out;
    CHECK(reserved.find(" 0000 41424344 45464748 494a0000 00000000") != std::string::npos);
    CHECK(reserved.find(" 0030 00000000 00000000 00000000 00000000") != std::string::npos);
    auto length = run_process({"objdump", "-s", "-j", ".data", (dir / "filled.o").string()}).out;
    const std::string expected =
        t.width == 8 ? (t.little ? "0a000000 00000000" : "00000000 0000000a") : (t.little ? "0a000000" : "0000000a");
    CHECK(length.find(" 0000 " + expected) != std::string::npos);
    // Nothing else changed: differing bytes lie in the section or the length word.
    std::size_t differing = 0;
    for (std::size_t i = 0; i < input.size(); ++i) differing += input[i] != (*out)[i] ? 1u : 0u;
    CHECK(differing <= 64 + 8);
    CHECK(out->size() == input.size());

    const std::string seventy(70, 'x');
    auto too_big =
        fill_section(input, fill_request{".reserved", std::as_bytes(std::span(seventy.data(), seventy.size())), ""});
    REQUIRE_FALSE(too_big.has_value());
    CHECK(too_big.error().code == errc::fill_too_large);
    CHECK(too_big.error().detail == 6u);
  }
}
