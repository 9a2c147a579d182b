// The relocation-reference index: unit cases on built images in all four layouts, and every relocation of every
// corpus object indexed exactly once under the symbol readelf -rW names.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/corpus.hpp"
#include "support/elf_builder.hpp"
#include "support/oracle.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
using namespace elfsieve::testing;

namespace {

template <elf_layout L>
struct indexed_image {
  elf_image<L> image;
  std::uint32_t text = 0, data = 0, symtab = 0, rel_text = 0, rel_data = 0, dynamic = 0;
};

// .text and .data, four symbols, relocations against both sections with symbols named 0, 1 and 3 times, one
// relocation section out of offset order and one with sh_info 0 (dynamic).
template <elf_layout L>
indexed_image<L> build_indexed(bool rela) {
  elf_builder<L> b;
  indexed_image<L> out;
  out.text = b.add_progbits(".text", byte_vector(64), elf::SHF_ALLOC | elf::SHF_EXECINSTR);
  out.data = b.add_progbits(".data", byte_vector(64), elf::SHF_ALLOC | elf::SHF_WRITE);
  const auto text = static_cast<std::uint16_t>(out.text);
  auto st = b.add_symbols({{"local_fn", 0, 4, elf::STB_LOCAL, elf::STT_FUNC, 0, text},
                           {"never_named", 8, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
                           {"three_times", 16, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
                           {"extern_sym", 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF}});
  out.symtab = st.symtab;
  out.rel_text =
      b.add_relocs(rela ? ".rela.text" : ".rel.text",
                   {{0, 3, 1, 4}, {4, 1, 2, 0}, {8, 3, 1, -4}, {8, 0, 0, 0}, {12, 4, 2, 0}}, rela, st.symtab, out.text);
  out.rel_data = b.add_relocs(rela ? ".rela.data" : ".rel.data", {{32, 3, 1, 0}, {16, 4, 1, 0}, {24, 1, 1, 0}}, rela,
                              st.symtab, out.data);
  out.dynamic = b.add_relocs(rela ? ".rela.dyn" : ".rel.dyn", {{40, 0, 8, 0}}, rela, 0, 0);
  out.image = b.build();
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("reloc_index: references, applies-to and offset lookup", "[reloc_index]", elf32le, elf32be, elf64le,
                   elf64be) {
  using L = TestType;
  for (bool rela : {false, true}) {
    CAPTURE(rela);
    auto img = build_indexed<L>(rela);
    auto f = img.image.open();
    REQUIRE(f);
    auto sections = f->sections();
    REQUIRE(sections);
    auto ix = reloc_index<L>::build(*sections);
    REQUIRE(ix);
    const section_index symtab(img.symtab);
    CHECK(ix->relocation_count() == 9);

    CHECK_FALSE(ix->is_referenced(symtab, symbol_index(2)));  // never_named
    CHECK(ix->references(symtab, symbol_index(2)).empty());
    CHECK(ix->is_referenced(symtab, symbol_index(3)));
    const auto three = ix->references(symtab, symbol_index(3));
    REQUIRE(three.size() == 3);
    CHECK(three[0] == reloc_ref{section_index(img.rel_text), 0});
    CHECK(three[1] == reloc_ref{section_index(img.rel_text), 2});
    CHECK(three[2] == reloc_ref{section_index(img.rel_data), 0});
    CHECK(ix->references(symtab, symbol_index(4)).size() == 2);
    CHECK(ix->references(symtab, symbol_index(0)).size() == 1);  // r_sym 0 in .rel.text

    const auto for_text = ix->relocation_sections_for(section_index(img.text));
    REQUIRE(for_text.size() == 1);
    CHECK(for_text[0] == section_index(img.rel_text));
    const auto for_nothing = ix->relocation_sections_for(section_index(0));
    REQUIRE(for_nothing.size() == 1);
    CHECK(for_nothing[0] == section_index(img.dynamic));
    CHECK(ix->relocation_sections_for(section_index(img.symtab)).empty());

    // Offset lookup, sorted and unsorted sections alike; several entries at one offset come in file order.
    CHECK(ix->entries_at(section_index(img.rel_text), 8) == std::vector<std::uint32_t>{2, 3});
    CHECK(ix->find_at(section_index(img.rel_text), 12) == std::optional<std::uint32_t>(4));
    CHECK_FALSE(ix->find_at(section_index(img.rel_text), 6).has_value());
    CHECK(ix->find_at(section_index(img.rel_data), 16) == std::optional<std::uint32_t>(1));
    CHECK(ix->find_at(section_index(img.rel_data), 32) == std::optional<std::uint32_t>(0));
    CHECK(ix->find_at(section_index(img.rel_data), 24) == std::optional<std::uint32_t>(2));
    CHECK_FALSE(ix->find_at(section_index(img.rel_data), 0).has_value());
    REQUIRE(ix->table(section_index(img.rel_text)) != nullptr);
    CHECK(ix->table(section_index(img.text)) == nullptr);
  }
}

TEMPLATE_TEST_CASE("reloc_index: malformed relocation data is an error value", "[reloc_index][malformed]", elf32le,
                   elf32be, elf64le, elf64be) {
  using L = TestType;
  auto build_error = [](auto&& corrupt) {
    auto img = build_indexed<L>(true);
    corrupt(img);
    auto f = img.image.open();
    REQUIRE(f);
    auto sections = f->sections();
    REQUIRE(sections);
    auto ix = reloc_index<L>::build(*sections);
    REQUIRE_FALSE(ix);
    return ix.error();
  };
  SECTION("r_sym past the symbol table") {
    const auto e = build_error([](indexed_image<L>& img) {
      auto& r = img.image.template record<typename L::rela>(img.rel_data, 2);
      r.r_info.set(L::r_info(99, 1));
    });
    CHECK(e.code == errc::bad_symbol_index);
    const auto layout = build_indexed<L>(true);  // deterministic: the layout of the corrupted copy
    CHECK(e.section == section_index(layout.rel_data));
    CHECK(e.offset == layout.image.section_offsets[layout.rel_data] + 2 * sizeof(typename L::rela));
    CHECK(e.detail == 99u);  // the symbol index, not a file offset
  }
  SECTION("relocation tables over the same bytes add up to more than the file") {
    const auto e = build_error([](indexed_image<L>& img) {
      const std::uint64_t entries = img.image.bytes.size() / sizeof(typename L::rela);
      for (std::uint32_t s : {img.rel_text, img.rel_data, img.dynamic}) {
        put(img.image.section_header(s).sh_offset, 0);
        put(img.image.section_header(s).sh_size, entries * sizeof(typename L::rela));
      }
    });
    CHECK(e.code == errc::tables_larger_than_file);
    CHECK(e.offset == 0u);
    REQUIRE(e.section.has_value());
  }
  SECTION("sh_link names a section that is not a symbol table") {
    const auto e =
        build_error([](indexed_image<L>& img) { img.image.section_header(img.rel_text).sh_link.set(img.text); });
    CHECK(e.code == errc::wrong_link_type);
  }
  SECTION("sh_link out of range") {
    const auto e = build_error([](indexed_image<L>& img) { img.image.section_header(img.rel_text).sh_link.set(500); });
    CHECK(e.code == errc::bad_link);
  }
  SECTION("sh_info out of range") {
    const auto e = build_error([](indexed_image<L>& img) { img.image.section_header(img.rel_data).sh_info.set(77); });
    CHECK(e.code == errc::bad_info);
  }
  SECTION("a relocation without a symbol table names a symbol") {
    const auto e = build_error([](indexed_image<L>& img) {
      auto& r = img.image.template record<typename L::rela>(img.dynamic, 0);
      r.r_info.set(L::r_info(1, 8));
    });
    CHECK(e.code == errc::bad_symbol_index);
  }
}

namespace {

// Relocation section j of `dump` by its file offset.
const readelf_relocation_section* readelf_section_at(const readelf_dump& dump, std::uint64_t offset) {
  for (const auto& r : dump.relocation_sections)
    if (!r.relr && r.file_offset == offset) return &r;
  return nullptr;
}

template <elf_layout L>
void check_index_against_readelf(const file<L>& f, const corpus_object& object, const readelf_dump& dump,
                                 std::vector<std::string>& problems) {
  auto sections = f.sections();
  if (!sections) {
    problems.push_back(object.name + ": sections: " + to_string(sections.error()));
    return;
  }
  auto ix = build_reloc_index(*sections);
  if (!ix) {
    problems.push_back(object.name + ": index: " + ix.error().message);
    return;
  }
  auto note = [&](std::string what) {
    if (problems.size() < 40) problems.push_back(object.name + ": " + std::move(what));
  };

  // Every (relocation section, entry) appears under exactly one symbol, the one its r_sym names.
  std::map<std::uint32_t, std::vector<std::uint8_t>> seen;
  for (const auto& t : ix->tables()) seen[t.section().value].assign(t.size(), 0);
  std::size_t listed = 0;
  for (auto s : *sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    auto symbols = symbol_table<L>::create(*sections, s.index());
    for (auto sym : *symbols) {
      for (const reloc_ref& ref : ix->references(s.index(), sym.index())) {
        const auto* t = ix->table(ref.section);
        if (t == nullptr || t->symbol_table_index() != s.index() || (*t)[ref.entry].symbol != sym.index())
          note("reference listed under the wrong symbol");
        else ++seen[ref.section.value][ref.entry];
        ++listed;
      }
    }
  }
  std::size_t relocations = 0;
  for (const auto& t : ix->tables()) {
    const readelf_relocation_section* theirs = readelf_section_at(dump, (*sections)[t.section()].offset());
    if (theirs == nullptr) {
      note("readelf shows no relocation section at the offset of section " + std::to_string(t.section().value));
      continue;
    }
    if (theirs->relocations.size() != t.size()) {
      note(theirs->name + ": readelf shows " + std::to_string(theirs->relocations.size()) + " entries, index has " +
           std::to_string(t.size()));
      continue;
    }
    const auto symbols = t.symbol_table_index().value != 0 ? symbol_table<L>::create(*sections, t.symbol_table_index())
                                                           : result<symbol_table<L>>(make_error(errc::not_found));
    for (std::size_t i = 0; i < t.size(); ++i) {
      ++relocations;
      const auto& r = theirs->relocations[i];
      const std::uint32_t their_sym = L::r_sym(static_cast<typename L::uword_t>(r.info));
      if (t.symbol_table_index().value != 0 && seen[t.section().value][i] != 1)
        note(theirs->name + " entry " + std::to_string(i) + " indexed " + std::to_string(seen[t.section().value][i]) +
             " times");
      if (t[i].symbol != symbol_index(their_sym)) {
        note(theirs->name + " entry " + std::to_string(i) + ": r_sym " + std::to_string(t[i].symbol.value) +
             ", readelf " + std::to_string(their_sym));
        continue;
      }
      if (!symbols || their_sym == 0 || !r.has_symbol_part) continue;
      // readelf names a section symbol by its section.
      auto sym = (*symbols)[symbol_index(their_sym)];
      std::string ours(symbols->name(sym).value());
      if (sym.type() == elf::STT_SECTION) {
        auto where = symbols->section_of(sym);
        if (where && where->is_regular()) ours = std::string(sections->name((*sections)[where->index]).value());
      }
      if (ours != r.symbol_name && !r.symbol_name.starts_with(ours + "@"))
        note(theirs->name + " entry " + std::to_string(i) + ": symbol '" + ours + "', readelf '" + r.symbol_name + "'");
      // The offset lookup finds this entry among those at its offset.
      bool found = false;
      ix->for_each_at(t.section(), t[i].offset, [&](std::uint32_t e) { found = found || e == i; });
      if (!found) note(theirs->name + " entry " + std::to_string(i) + " not found by offset");
    }
  }
  std::size_t with_symbols = 0;
  for (const auto& t : ix->tables())
    if (t.symbol_table_index().value != 0) with_symbols += t.size();
  if (listed != with_symbols)
    note("index lists " + std::to_string(listed) + " references of " + std::to_string(with_symbols));
  if (relocations != ix->relocation_count())
    note("readelf shows " + std::to_string(relocations) + " relocations, index has " +
         std::to_string(ix->relocation_count()));
}

}  // namespace

TEST_CASE("reloc_index: every corpus relocation is indexed once, under the symbol readelf -rW names",
          "[reloc_index][corpus]") {
  const auto& objects = corpus_objects();
  REQUIRE_FALSE(objects.empty());
  for (const auto& object : objects) {
    CAPTURE(object.name);
    const auto readelf = run_process({"readelf", "-W", "-S", "-s", "-r", object.path.string()});
    REQUIRE(readelf.ok());
    std::vector<std::string> problems;
    auto mapped = mapped_file::open(object.path.c_str());
    REQUIRE(mapped);
    const bool is64 = detect_layout(mapped->bytes()).value() == layout_id::le64 ||
                      detect_layout(mapped->bytes()).value() == layout_id::be64;
    const readelf_dump dump = parse_readelf(readelf.out, is64);
    auto visited =
        visit(mapped->bytes(), [&](const auto& f) { check_index_against_readelf(f, object, dump, problems); });
    REQUIRE(visited);
    for (const auto& p : problems) UNSCOPED_INFO(p);
    CHECK(problems.empty());
  }
}
