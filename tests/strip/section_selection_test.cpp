// Section selection, one rule at a time, on an object GNU as assembles here: what goes with a removed section
// (its relocations, SHF_LINK_ORDER dependents, a group left empty), what --strip-debug takes, and each refusal
// with its own error code and the section it concerns (GNU readelf gives the expected indices).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/strip/section_selection.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

const char* source = R"(
  .section .text.a,"ax",@progbits
  .globl a
a: call b
  ret
  .section .meta.a,"ao",@progbits,.text.a
  .long 1
  .section .text.b,"axG",@progbits,b,comdat
  .globl b
b: ret
  .section .debug_info,"",@progbits
  .quad a
  .text
  .globl main
main: ret
)";

std::vector<std::byte> assembled() {
  // One directory per process: ctest runs this file's test cases side by side, and each assembles the object.
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / ("section_selection." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto s = dir / "object.s", o = dir / "object.o";
  std::ofstream(s) << source;
  auto r = run_process({"as", "--64", "-o", o.string(), s.string()});
  INFO(r.err);
  REQUIRE(r.ok());
  // GNU readelf must see the sections this test relies on.
  const auto listing = run_process({"readelf", "-SW", o.string()}).out;
  for (const char* name : {".rela.text.a", ".meta.a", ".group", ".rela.debug_info"})
    REQUIRE(listing.find(name) != std::string::npos);
  std::ifstream in(o, std::ios::binary);
  std::vector<std::byte> bytes(std::filesystem::file_size(o));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

struct chosen {
  result<section_selection<elf64le>> selection;
  std::set<std::string> removed;
};

chosen choose(std::span<const std::byte> bytes, std::set<std::string> requested, bool strip_debug = false) {
  auto f = file<elf64le>::create(bytes);
  REQUIRE(f.has_value());
  auto sections = f->sections();
  REQUIRE(sections.has_value());
  strip_options options;
  options.strip_debug = strip_debug;
  auto filter = [&](std::string_view name, const section_ref<elf64le>&) {
    return requested.count(std::string(name)) != 0;
  };
  chosen c{section_selection<elf64le>::choose(*sections, options, filter), {}};
  if (c.selection)
    for (auto s : *sections)
      if (!c.selection->kept(s.index())) c.removed.insert(std::string(sections->name(s).value()));
  return c;
}

std::uint32_t index_of(std::span<const std::byte> bytes, std::string_view name) {
  auto f = file<elf64le>::create(bytes);
  auto s = f->sections()->find(name);
  REQUIRE(s.has_value());
  return s->index().value;
}

// Overwrites section header `to` with a copy of section header `from` (ELF64 little-endian).
void copy_header(std::vector<std::byte>& bytes, std::uint32_t from, std::uint32_t to) {
  std::uint64_t shoff = 0;
  std::memcpy(&shoff, bytes.data() + 0x28, 8);
  std::memcpy(bytes.data() + shoff + to * 64ull, bytes.data() + shoff + from * 64ull, 64);
}

void set_link(std::vector<std::byte>& bytes, std::uint32_t section, std::uint32_t link) {
  std::uint64_t shoff = 0;
  std::memcpy(&shoff, bytes.data() + 0x28, 8);
  std::memcpy(bytes.data() + shoff + section * 64ull + 0x28, &link, 4);
}

}  // namespace

TEST_CASE("section_selection.dependents_follow_what_they_depend_on", "[strip][section_selection]") {
  const auto bytes = assembled();
  auto c = choose(bytes, {".text.a"});
  REQUIRE(c.selection.has_value());
  CHECK(c.removed == std::set<std::string>{".text.a", ".rela.text.a", ".meta.a"});
  CHECK(c.selection->removed_count() == 3);

  auto group = choose(bytes, {".text.b"});
  // .text.b is its group's only member: the group goes too. (Its symbol is still named by .rela.text.a, which
  // the symbol decisions refuse; the selection only looks at sections.)
  REQUIRE(group.selection.has_value());
  CHECK(group.removed == std::set<std::string>{".text.b", ".group"});
  CHECK(group.selection->signatures().empty());

  auto kept = choose(bytes, {});
  REQUIRE(kept.selection.has_value());
  CHECK(kept.removed.empty());
  CHECK(kept.selection->signatures().size() == 1);  // the kept group's signature, b
}

TEST_CASE("section_selection.strip_debug_takes_debug_sections_and_their_relocations", "[strip][section_selection]") {
  const auto bytes = assembled();
  auto c = choose(bytes, {}, true);
  REQUIRE(c.selection.has_value());
  // Every section with a debug name (GAS adds .debug_line to .debug_info), and nothing else.
  std::set<std::string> debug;
  auto f = file<elf64le>::create(bytes);
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  for (auto s : *sections) {
    const std::string name(sections->name(s).value());
    if (name.starts_with(".debug") || name.starts_with(".rela.debug")) debug.insert(name);
  }
  CHECK(debug.count(".debug_info") == 1);
  CHECK(debug.count(".rela.debug_info") == 1);
  CHECK(c.removed == debug);
}

TEST_CASE("section_selection.refusals_have_their_own_codes", "[strip][section_selection]") {
  const auto bytes = assembled();
  auto refused = [&](std::span<const std::byte> b, std::set<std::string> names, errc code, std::string_view section) {
    auto c = choose(b, std::move(names));
    INFO(section);
    REQUIRE_FALSE(c.selection.has_value());
    CHECK(c.selection.error().code == code);
    CHECK(c.selection.error().section == section_index(index_of(b, section)));
  };
  refused(bytes, {".rela.text.a"}, errc::relocations_would_be_lost, ".rela.text.a");
  refused(bytes, {".symtab"}, errc::rebuilt_table_removed, ".symtab");
  refused(bytes, {".strtab"}, errc::rebuilt_table_removed, ".strtab");
  refused(bytes, {".shstrtab"}, errc::rebuilt_table_removed, ".shstrtab");
  refused(bytes, {".group"}, errc::group_members_kept, ".group");

  // .text names the removed .debug_info through sh_link: it would dangle.
  auto linked = bytes;
  set_link(linked, index_of(bytes, ".text"), index_of(bytes, ".debug_info"));
  refused(linked, {".debug_info"}, errc::link_to_removed_section, ".text");

  // A second SHT_SYMTAB (a copy of .symtab's header in .debug_info's slot): refused at the later of the two.
  auto two = bytes;
  const std::uint32_t symtab = index_of(bytes, ".symtab"), debug = index_of(bytes, ".debug_info");
  copy_header(two, symtab, debug);
  auto c = choose(two, {});
  REQUIRE_FALSE(c.selection.has_value());
  CHECK(c.selection.error().code == errc::multiple_symbol_tables);
  CHECK(c.selection.error().section == section_index(std::max(symtab, debug)));
}
