// elfsieve-fill and fill_section(): a program linked with a reserved section and a length variable is filled
// afterwards and prints the data; an oversized fill changes nothing; objects of all four layouts are filled and
// checked with GNU objdump; every byte outside the filled ranges is unchanged.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
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

}  // namespace

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
