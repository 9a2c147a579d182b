// symbol_table<L>: records, names, and the section each symbol is defined in (SHN_XINDEX via SYMTAB_SHNDX).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "support/checked_sections.hpp"
#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

TEMPLATE_TEST_CASE("symbol.fields_and_names", "[symbol]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::find(*sections, elf::SHT_SYMTAB);
  REQUIRE(symbols);
  CHECK(symbols->section() == section_index(5));
  CHECK(symbols->type() == elf::SHT_SYMTAB);
  CHECK(symbols->size() == 6u);
  CHECK_FALSE(symbols->empty());
  CHECK(symbols->first_nonlocal() == 2u);
  CHECK(symbols->records().size() == 6u);
  CHECK(symbols->strings().section() == section_index(4));
  CHECK(symbol_table<L>::find(*sections, elf::SHT_DYNSYM).error().code == errc::not_found);

  std::vector<std::string> names;
  for (auto s : *symbols) names.emplace_back(symbols->name(s).value());
  CHECK(names == std::vector<std::string>{"", "local_fn", "main", "counter", "buffer", "puts"});

  const auto main_fn = (*symbols)[symbol_index(2)];
  CHECK(main_fn.index() == symbol_index(2));
  CHECK(main_fn.value() == 4u);
  CHECK(main_fn.size() == 12u);
  CHECK(main_fn.bind() == elf::STB_GLOBAL);
  CHECK(main_fn.type() == elf::STT_FUNC);
  CHECK(main_fn.info() == elf::st_info(elf::STB_GLOBAL, elf::STT_FUNC));
  CHECK(main_fn.visibility() == elf::STV_DEFAULT);
  CHECK(main_fn.raw_shndx() == 1u);
  CHECK_FALSE(main_fn.is_undefined());
  CHECK(&main_fn.record() == &symbols->records()[2]);
  CHECK(main_fn.name_offset() == 10u);  // after "\0local_fn\0"

  const auto buffer = (*symbols)[symbol_index(4)];
  CHECK(buffer.bind() == elf::STB_WEAK);
  CHECK(buffer.type() == elf::STT_OBJECT);
  CHECK(buffer.other() == elf::STV_HIDDEN);
  CHECK(buffer.visibility() == elf::STV_HIDDEN);
  CHECK((*symbols)[symbol_index(5)].is_undefined());

  auto at = symbols->at(symbol_index(5));
  REQUIRE(at);
  CHECK(at->index() == symbol_index(5));
  auto past = symbols->at(symbol_index(6), section_index(9), 0x1234);
  REQUIRE_FALSE(past);
  CHECK(past.error().code == errc::bad_symbol_index);
  CHECK(past.error().section == section_index(9u));
  CHECK(past.error().offset == 0x1234u);
  CHECK(past.error().detail == 6u);
  // Without a referring record: the index alone, no offset that would mean nothing.
  auto bare = symbols->at(symbol_index(7));
  REQUIRE_FALSE(bare);
  CHECK(bare.error().code == errc::bad_symbol_index);
  CHECK_FALSE(bare.error().section.has_value());
  CHECK_FALSE(bare.error().offset.has_value());
  CHECK(bare.error().detail == 7u);
}

TEMPLATE_TEST_CASE("symbol.section_of_every_kind", "[symbol]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  const std::uint32_t text = b.add_progbits(".text", byte_vector(8));
  auto syms = b.add_symbols(
      {
          {"undef", 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
          {"in_text", 0, 0, elf::STB_GLOBAL, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)},
          {"abs", 0x42, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
          {"common", 8, 8, elf::STB_GLOBAL, elf::STT_OBJECT, 0, elf::SHN_COMMON},
          {"reserved", 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, 0xff20},
          {"xindex", 0, 0, elf::STB_GLOBAL, elf::STT_FUNC, 0, elf::SHN_XINDEX},
      },
      elf::SHT_SYMTAB, {0, 0, 0, 0, 0, 0, text});
  auto img = b.build();
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(syms.symtab));
  REQUIRE(symbols);
  using k = symbol_section::kind;
  const auto where = [&](std::uint32_t i) { return symbols->section_of((*symbols)[symbol_index(i)]).value(); };
  CHECK(where(1).where == k::undefined);
  CHECK(where(2).where == k::regular);
  CHECK(where(2).is_regular());
  CHECK(where(2).index == section_index(text));
  CHECK(where(3).where == k::absolute);
  CHECK(where(4).where == k::common);
  CHECK(where(5).where == k::reserved);
  CHECK(where(5).index == section_index(0xff20));
  CHECK(where(6).where == k::regular);
  CHECK(where(6).index == section_index(text));
  CHECK((*symbols)[symbol_index(6)].raw_shndx() == elf::SHN_XINDEX);
}

// With 0xfff8 sections an extended index may be 0xfff1, which st_shndx would read as SHN_ABS: it must come back
// as a regular section.
TEMPLATE_TEST_CASE("symbol.extended_index_beyond_reserved_range", "[symbol][large]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  for (std::uint32_t i = 1; i < 0xfff4; ++i) b.add(section_spec{});
  auto syms = b.add_symbols({{"far", 0, 0, elf::STB_GLOBAL, elf::STT_FUNC, 0, elf::SHN_XINDEX},
                             {"abs", 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_ABS}},
                            elf::SHT_SYMTAB, {0, elf::SHN_ABS, 0});
  auto img = b.build();
  auto sections = checked_sections(img);
  REQUIRE(sections->size() > 0xfff2u);
  CHECK(sections->name((*sections)[section_index(syms.symtab)]).value() == ".symtab");
  auto symbols = symbol_table<L>::create(*sections, section_index(syms.symtab));
  REQUIRE(symbols);
  auto far = symbols->section_of((*symbols)[symbol_index(1)]);
  REQUIRE(far);
  CHECK(far->where == symbol_section::kind::regular);
  CHECK(far->index == section_index(elf::SHN_ABS));
  CHECK(symbols->section_of((*symbols)[symbol_index(2)])->where == symbol_section::kind::absolute);
}

TEMPLATE_TEST_CASE("symbol.errors_carry_section_and_offset", "[symbol]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  using sym = typename L::sym;
  auto img = small_object<L>();
  put(img.template record<sym>(5, 3).st_shndx, 40);
  put(img.template record<sym>(5, 4).st_name, 0x10000);
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(5));
  REQUIRE(symbols);
  auto bad_section = symbols->section_of((*symbols)[symbol_index(3)]);
  REQUIRE_FALSE(bad_section);
  CHECK(bad_section.error().code == errc::bad_symbol_section);
  CHECK(bad_section.error().section == section_index(5u));
  CHECK(bad_section.error().offset == img.section_offsets[5] + 3 * sizeof(sym));
  auto bad_name = symbols->name((*symbols)[symbol_index(4)]);
  REQUIRE_FALSE(bad_name);
  CHECK(bad_name.error().code == errc::string_out_of_range);
  CHECK(bad_name.error().offset == img.section_offsets[5] + 4 * sizeof(sym));
  // Only SYMTAB and DYNSYM are symbol tables.
  auto not_symbols = symbol_table<L>::create(*sections, section_index(4));
  REQUIRE_FALSE(not_symbols);
  CHECK(not_symbols.error().code == errc::wrong_section_type);
  CHECK(symbol_table<L>::create(*sections, section_index(99)).error().code == errc::bad_section_index);
}
