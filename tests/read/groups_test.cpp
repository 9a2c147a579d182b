// section_group<L>: SHT_GROUP flag word, members and signature.
#include <catch2/catch.hpp>

#include <cstdint>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

TEMPLATE_TEST_CASE("group.members_and_signature", "[group]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  const std::uint32_t text = b.add_progbits(".text.f", byte_vector(8), elf::SHF_ALLOC | elf::SHF_GROUP);
  const std::uint32_t data = b.add_progbits(".data.f", byte_vector(8), elf::SHF_ALLOC | elf::SHF_GROUP);
  auto syms = b.add_symbols({{"f", 0, 0, elf::STB_WEAK, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)}});
  const std::uint32_t group = b.add_group(elf::GRP_COMDAT, {text, data}, syms.symtab, 1);
  const std::uint32_t plain = b.add_group(0, {}, syms.symtab, 1);
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto g = section_group<L>::create(*sections, section_index(group));
  REQUIRE(g);
  CHECK(g->flags() == elf::GRP_COMDAT);
  CHECK(g->is_comdat());
  REQUIRE(g->size() == 2u);
  CHECK(g->member(0) == section_index(text));
  CHECK(g->member(1) == section_index(data));
  CHECK(g->members().size() == 2u);
  CHECK(g->members()[1].value() == data);
  CHECK(g->signature_table() == section_index(syms.symtab));
  CHECK(g->signature() == symbol_index(1));
  CHECK(g->signature() == symbol_index(1));
  auto symbols = symbol_table<L>::create(*sections, g->signature_table());
  REQUIRE(symbols);
  CHECK(symbols->name(symbols->at(g->signature()).value()).value() == "f");
  CHECK(symbols->at(g->signature())->index() == g->signature());

  auto empty = section_group<L>::create(*sections, section_index(plain));
  REQUIRE(empty);
  CHECK_FALSE(empty->is_comdat());
  CHECK(empty->size() == 0u);
}

TEMPLATE_TEST_CASE("group.errors", "[group]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  const std::uint32_t text = b.add_progbits(".text.f", byte_vector(8));
  auto syms = b.add_symbols({{"f", 0, 0, elf::STB_WEAK, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)}});
  const std::uint32_t group = b.add_group(elf::GRP_COMDAT, {text}, syms.symtab, 1);
  auto img = b.build();
  SECTION("not a group") {
    auto f = img.open();
    auto sections = f->sections();
    REQUIRE(sections);
    auto g = section_group<L>::create(*sections, section_index(text));
    REQUIRE_FALSE(g);
    CHECK(g.error().code == errc::wrong_section_type);
  }
  SECTION("sh_link must name a symbol table") {
    put(img.section_header(group).sh_link, syms.strtab);
    auto f = img.open();
    auto sections = f->sections();
    REQUIRE(sections);
    auto g = section_group<L>::create(*sections, section_index(group));
    REQUIRE_FALSE(g);
    CHECK(g.error().code == errc::wrong_link_type);
    CHECK(g.error().section == section_index(group));
  }
  SECTION("entsize must be 4") {
    put(img.section_header(group).sh_entsize, 8);
    auto f = img.open();
    auto sections = f->sections();
    REQUIRE(sections);
    CHECK(section_group<L>::create(*sections, section_index(group)).error().code == errc::bad_entsize);
  }
}
