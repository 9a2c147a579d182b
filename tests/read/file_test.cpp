// file<L> and section_table<L>: the file header, the section and program header tables, the three section-0
// escapes, section names and contents.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

TEMPLATE_TEST_CASE("file.header_fields", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.options().type = elf::ET_DYN;
  b.options().machine = elf::EM_RISCV;
  auto img = b.build();
  put(img.header().e_flags, 0x12345678u);
  put(img.header().e_entry, 0x401000u);
  img.set_byte(elf::EI_OSABI, 3);
  auto f = img.open();
  REQUIRE(f);
  CHECK(f->type() == elf::ET_DYN);
  CHECK(f->machine() == elf::EM_RISCV);
  CHECK(f->flags() == 0x12345678u);
  CHECK(f->entry() == 0x401000u);
  CHECK(f->os_abi() == 3u);
  CHECK(f->bytes().data() == img.bytes.data());
  CHECK(f->bytes().size() == img.bytes.size());
  CHECK(&f->header() == reinterpret_cast<const typename L::ehdr*>(img.bytes.data()));
  CHECK(f->header().e_ehsize.value() == sizeof(typename L::ehdr));
}

TEMPLATE_TEST_CASE("file.create_checks_the_header", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  using ehdr = typename L::ehdr;
  auto img = small_object<L>();
  SECTION("e_version") {
    put(img.header().e_version, 2);
    auto f = img.open();
    REQUIRE_FALSE(f);
    CHECK(f.error().code == errc::bad_version);
    CHECK(f.error().offset == offsetof(ehdr, e_version));
  }
  SECTION("e_ehsize smaller than the header") {
    put(img.header().e_ehsize, sizeof(ehdr) - 1);
    auto f = img.open();
    REQUIRE_FALSE(f);
    CHECK(f.error().code == errc::bad_ehsize);
    CHECK(f.error().offset == offsetof(ehdr, e_ehsize));
  }
  SECTION("e_ehsize larger than the header is accepted") {
    put(img.header().e_ehsize, sizeof(ehdr) + 16);
    CHECK(img.open());
  }
  SECTION("the other layouts refuse it") {
    CHECK(file<elf32le>::create(img.span()).has_value() == std::is_same_v<L, elf32le>);
    CHECK(file<elf32be>::create(img.span()).has_value() == std::is_same_v<L, elf32be>);
    CHECK(file<elf64le>::create(img.span()).has_value() == std::is_same_v<L, elf64le>);
    CHECK(file<elf64be>::create(img.span()).has_value() == std::is_same_v<L, elf64be>);
  }
}

TEMPLATE_TEST_CASE("file.sections_names_and_data", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  auto f = img.open();
  REQUIRE(f);
  auto headers = f->section_headers();
  REQUIRE(headers);
  CHECK(headers->size() == 9u);
  auto zero = f->section_zero();
  REQUIRE(zero);
  CHECK(zero.value() == &(*headers)[0]);

  auto sections = f->sections();
  REQUIRE(sections);
  REQUIRE(sections->size() == 9u);
  CHECK_FALSE(sections->empty());
  CHECK(sections->shstrndx() == section_index(8));
  CHECK(sections->file_bytes().data() == img.bytes.data());
  CHECK(sections->headers().data() == headers->data());

  const std::vector<std::string> expected{"",        ".text",      ".data",      ".bss",     ".strtab",
                                          ".symtab", ".rela.text", ".note.test", ".shstrtab"};
  std::vector<std::string> names;
  std::uint32_t next = 0;
  for (auto s : *sections) {
    CHECK(s.index() == section_index(next++));
    auto n = sections->name(s);
    REQUIRE(n);
    names.emplace_back(n.value());
    CHECK(sections->offset_of_header(s) == img.shoff + s.index().value * sizeof(typename L::shdr));
  }
  CHECK(names == expected);

  const auto text = (*sections)[section_index(1)];
  CHECK(text.type() == elf::SHT_PROGBITS);
  CHECK(text.flags() == (elf::SHF_ALLOC | elf::SHF_EXECINSTR));
  CHECK(text.has_flag(elf::SHF_EXECINSTR));
  CHECK_FALSE(text.has_flag(elf::SHF_WRITE));
  CHECK(text.offset() == img.section_offsets[1]);
  CHECK(text.size() == 16u);
  CHECK(text.addralign() == 4u);
  CHECK(text.entsize() == 0u);
  CHECK(text.addr() == 0u);
  CHECK(text.name_offset() == 1u);
  CHECK(&text.header() == &(*headers)[1]);
  auto data = sections->data(text);
  REQUIRE(data);
  CHECK(data->data() == img.bytes.data() + img.section_offsets[1]);
  CHECK(data->size() == 16u);

  const auto bss = (*sections)[section_index(3)];
  CHECK(bss.type() == elf::SHT_NOBITS);
  CHECK(bss.size() == 32u);
  auto bss_data = sections->data(bss);
  REQUIRE(bss_data);
  CHECK(bss_data->empty());

  const auto symtab = (*sections)[section_index(5)];
  CHECK(symtab.link() == 4u);
  CHECK(symtab.info() == 2u);
  CHECK(symtab.entsize() == sizeof(typename L::sym));
  auto linked = sections->linked(symtab, {elf::SHT_STRTAB});
  REQUIRE(linked);
  CHECK(linked->index() == section_index(4));
  auto wrong = sections->linked(symtab, {elf::SHT_SYMTAB});
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::wrong_link_type);
  CHECK(wrong.error().section == section_index(5u));

  auto records = sections->template records<typename L::sym>(symtab);
  REQUIRE(records);
  CHECK(records->size() == 6u);
  auto as_words = sections->template records<typename L::word>(symtab);
  REQUIRE_FALSE(as_words);
  CHECK(as_words.error().code == errc::bad_entsize);
  auto unchecked = sections->template records_unchecked_entsize<typename L::word>(symtab);
  REQUIRE(unchecked);
  CHECK(unchecked->size() == 6 * sizeof(typename L::sym) / 4);

  auto strings = sections->string_table_at(section_index(4));
  REQUIRE(strings);
  CHECK(strings->get(1).value() == "local_fn");
  auto not_strings = sections->string_table_at(section_index(1));
  REQUIRE_FALSE(not_strings);
  CHECK(not_strings.error().code == errc::not_a_string_table);
  CHECK(not_strings.error().section == section_index(1u));

  auto found = sections->find(".rela.text");
  REQUIRE(found);
  CHECK(found->index() == section_index(6));
  auto missing = sections->find(".debug_info");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::not_found);
  auto by_type = sections->find_type(elf::SHT_NOTE);
  REQUIRE(by_type);
  CHECK(by_type->index() == section_index(7));
  CHECK(sections->find_type(elf::SHT_DYNSYM).error().code == errc::not_found);

  CHECK(sections->contains(section_index(8)));
  CHECK_FALSE(sections->contains(section_index(9)));
  // An index a header field names (sh_link 9 of section 5): the error is in section 5, at that field.
  auto past = sections->named_by((*sections)[section_index(5)], 9, errc::bad_link, offsetof(typename L::shdr, sh_link));
  REQUIRE_FALSE(past);
  CHECK(past.error().code == errc::bad_link);
  CHECK(past.error().section == section_index(5u));
  CHECK(past.error().detail == 9u);  // an index, not a file offset
  CHECK(past.error().offset ==
        sections->offset_of_header((*sections)[section_index(5)]) + offsetof(typename L::shdr, sh_link));
  auto beyond = sections->at(section_index(9));
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().code == errc::bad_section_index);
  CHECK(beyond.error().detail == 9u);
  CHECK_FALSE(beyond.error().offset.has_value());
  CHECK(sections->at(section_index(8))->type() == elf::SHT_STRTAB);
  CHECK(sections->at(section_index(8))->type() == elf::SHT_STRTAB);
}

TEMPLATE_TEST_CASE("file.no_section_headers", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.options().section_headers = false;
  b.add_progbits(".text", byte_vector(4));
  b.add_segment({elf::PT_LOAD, 5, 1u});
  auto img = b.build();
  CHECK(img.header().e_shoff.value() == 0u);
  auto f = img.open();
  REQUIRE(f);
  CHECK(f->section_zero().value() == nullptr);
  auto sections = f->sections();
  REQUIRE(sections);
  CHECK(sections->empty());
  CHECK(sections->begin() == sections->end());
  CHECK(f->program_headers()->size() == 1u);
}

TEMPLATE_TEST_CASE("file.no_section_names", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.options().section_names = false;
  b.add_progbits(".text", byte_vector(4));
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  CHECK(sections->size() == 2u);
  CHECK(sections->shstrndx() == section_index(0));
  auto n = sections->name((*sections)[section_index(1)]);
  REQUIRE(n);
  CHECK(n->empty());
}

TEMPLATE_TEST_CASE("file.shoff_set_but_no_sections", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  put(img.header().e_shnum, 0);  // and section 0's sh_size is 0: no sections (readelf agrees)
  put(img.header().e_shstrndx, 0);
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  CHECK(sections->empty());
}

TEMPLATE_TEST_CASE("file.extended_numbering_escapes", "[file]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.options().extended_shnum = true;
  b.options().xindex_shstrndx = true;
  b.options().pn_xnum = true;
  const std::uint32_t text = b.add_progbits(".text", byte_vector(8));
  b.add_segment({elf::PT_LOAD, 5, text});
  b.add_segment({elf::PT_NULL, 0, std::nullopt});
  auto img = b.build();
  REQUIRE(img.header().e_shnum.value() == 0u);
  REQUIRE(img.header().e_shstrndx.value() == elf::SHN_XINDEX);
  REQUIRE(img.header().e_phnum.value() == elf::PN_XNUM);
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  CHECK(sections->size() == 3u);
  CHECK(sections->shstrndx() == section_index(2));
  CHECK(sections->name((*sections)[section_index(1)]).value() == ".text");
  CHECK(f->shstrndx(3).value() == section_index(2));
  CHECK(f->shstrndx(2).error().code == errc::bad_shstrndx);
  auto phdrs = f->program_headers();
  REQUIRE(phdrs);
  REQUIRE(phdrs->size() == 2u);
  auto seg = f->segment_data((*phdrs)[0]);
  REQUIRE(seg);
  CHECK(seg->data() == img.bytes.data() + img.section_offsets[text]);
  CHECK(seg->size() == 8u);
  CHECK(f->segment_data((*phdrs)[1])->empty());
}

// More sections than e_shnum can hold: elfutils' run-strip-test-many territory.
TEMPLATE_TEST_CASE("file.more_than_0xff00_sections", "[file][large]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  constexpr std::uint32_t total = 0xff10;  // including section 0 and .shstrtab
  for (std::uint32_t i = 1; i + 1 < total; ++i) {
    section_spec s;
    s.name = i + 2 == total ? ".last" : "";
    s.data = i + 2 == total ? bytes_of("tail") : byte_vector{};
    b.add(std::move(s));
  }
  auto img = b.build();
  CHECK(img.header().e_shnum.value() == 0u);
  CHECK(img.header().e_shstrndx.value() == elf::SHN_XINDEX);
  CHECK(img.section_header(0).sh_size.value() == total);
  CHECK(img.section_header(0).sh_link.value() == total - 1);
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  REQUIRE(sections->size() == total);
  CHECK(sections->shstrndx() == section_index(total - 1));
  const auto last = (*sections)[section_index(total - 2)];
  CHECK(sections->name(last).value() == ".last");
  CHECK(sections->data(last)->size() == 4u);
  CHECK(sections->name((*sections)[section_index(total - 1)]).value() == ".shstrtab");
}
