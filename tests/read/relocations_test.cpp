// reloc_table<L> (REL and RELA, the r_info split of each class) and relr_table<L>.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

TEST_CASE("reloc.r_info_split_per_class", "[reloc]") {
  // ELF32: sym = info >> 8, type = info & 0xff.
  CHECK(elf32le::r_sym(0x123456abu) == 0x123456u);
  CHECK(elf32le::r_type(0x123456abu) == 0xabu);
  CHECK(elf32be::r_info(0x123456u, 0xabu) == 0x123456abu);
  // ELF64: sym = info >> 32, type = info & 0xffffffff.
  CHECK(elf64le::r_sym(0x0000000500000007ull) == 5u);
  CHECK(elf64le::r_type(0x0000000500000007ull) == 7u);
  CHECK(elf64be::r_sym(0xfedcba9812345678ull) == 0xfedcba98u);
  CHECK(elf64be::r_type(0xfedcba9812345678ull) == 0x12345678u);
  CHECK(elf64le::r_info(0xfedcba98u, 0x12345678u) == 0xfedcba9812345678ull);
}

TEMPLATE_TEST_CASE("reloc.rela_explicit_addends", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>(true);
  // The raw r_info of entry 0 (symbol 5, type 2) as the class packs it.
  const auto raw = img.template record<typename L::rela>(6, 0).r_info.value();
  if constexpr (L::is64) CHECK(raw == ((std::uint64_t{5} << 32) | 2u));
  else CHECK(raw == ((5u << 8) | 2u));
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto relocs = reloc_table<L>::create(*sections, section_index(6));
  REQUIRE(relocs);
  CHECK(relocs->is_rela());
  CHECK(relocs->size() == 2u);
  CHECK_FALSE(relocs->empty());
  CHECK(relocs->section() == section_index(6));
  CHECK(relocs->symbol_table_index() == section_index(5));
  CHECK(relocs->target_section() == section_index(1));
  CHECK(relocs->entry_size() == sizeof(typename L::rela));
  CHECK(relocs->entry_file_offset(1) == img.section_offsets[6] + sizeof(typename L::rela));
  const relocation r0 = (*relocs)[0];
  CHECK(r0.offset == 4u);
  CHECK(r0.symbol == symbol_index(5));
  CHECK(r0.type == 2u);
  CHECK(r0.addend == -4);
  CHECK(r0.explicit_addend);
  const relocation r1 = (*relocs)[1];
  CHECK(r1.offset == 8u);
  CHECK(r1.symbol == symbol_index(3));
  CHECK(r1.type == 1u);
  CHECK(r1.addend == 16);

  auto symbols = symbol_table<L>::create(*sections, section_index(5));
  REQUIRE(symbols);
  CHECK(symbols->name(relocs->symbol_of(0, *symbols).value()).value() == "puts");
  CHECK(symbols->name(relocs->symbol_of(1, *symbols).value()).value() == "counter");

  std::size_t n = 0;
  for (const relocation& r : *relocs) {
    CHECK(r.explicit_addend);
    ++n;
  }
  CHECK(n == 2u);
}

TEMPLATE_TEST_CASE("reloc.rel_implicit_addends", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>(false);
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  CHECK(sections->name((*sections)[section_index(6)]).value() == ".rel.text");
  auto relocs = reloc_table<L>::create(*sections, section_index(6));
  REQUIRE(relocs);
  CHECK_FALSE(relocs->is_rela());
  CHECK(relocs->entry_size() == sizeof(typename L::rel));
  REQUIRE(relocs->size() == 2u);
  const relocation r0 = (*relocs)[0];
  CHECK(r0.offset == 4u);
  CHECK(r0.symbol == symbol_index(5));
  CHECK(r0.type == 2u);
  CHECK(r0.addend == 0);
  CHECK_FALSE(r0.explicit_addend);
}

TEMPLATE_TEST_CASE("reloc.large_symbol_and_type_values", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  // The widest values each class can hold, so a wrong shift or mask shows.
  const std::uint32_t sym = L::is64 ? 0xfedcba98u : 0xfedcbau;
  const std::uint32_t type = L::is64 ? 0x12345678u : 0xefu;
  elf_builder<L> b;
  b.add_relocs(".rela.dyn", {{0x1000, sym, type, -1}}, true, 0, 0);
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto relocs = reloc_table<L>::create(*sections, section_index(1));
  REQUIRE(relocs);
  CHECK(relocs->symbol_table_index() == section_index(0));
  CHECK(relocs->target_section() == section_index(0));
  CHECK((*relocs)[0].symbol == symbol_index(sym));
  CHECK((*relocs)[0].type == type);
  CHECK((*relocs)[0].addend == -1);
}

TEMPLATE_TEST_CASE("reloc.errors", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto not_relocs = reloc_table<L>::create(*sections, section_index(5));
  REQUIRE_FALSE(not_relocs);
  CHECK(not_relocs.error().code == errc::wrong_section_type);
  CHECK(not_relocs.error().section == section_index(5u));
  CHECK(reloc_table<L>::create(*sections, section_index(50)).error().code == errc::bad_section_index);
}

// Hand-computed from the RELR encoding: an even word is an address (the next one is that + word size); an odd
// word is a bitmap of the next 31 (ELF32) or 63 (ELF64) words.
TEMPLATE_TEST_CASE("reloc.relr_decoding", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  const std::uint64_t high_bit_bitmap = L::is64 ? 0x8000000000000001ull : 0x80000001ull;
  elf_builder<L> b;
  b.add_relr({0x10000, 0x7, 0x3, 0x20000, high_bit_bitmap});
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto relr = relr_table<L>::create(*sections, section_index(1));
  REQUIRE(relr);
  CHECK(relr->entries().size() == 5u);
  std::vector<std::uint64_t> addresses;
  relr->for_each_address([&](std::uint64_t a) { addresses.push_back(a); });
  const std::vector<std::uint64_t> expected =
      L::is64 ? std::vector<std::uint64_t>{0x10000, 0x10008, 0x10010, 0x10200, 0x20000, 0x201f8}
              : std::vector<std::uint64_t>{0x10000, 0x10004, 0x10008, 0x10080, 0x20000, 0x2007c};
  CHECK(addresses == expected);
  CHECK(relr->address_count() == 6u);

  auto wrong = relr_table<L>::create(*sections, section_index(0));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::wrong_section_type);
}

TEMPLATE_TEST_CASE("reloc.relr_empty", "[reloc]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.add_relr({});
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto relr = relr_table<L>::create(*sections, section_index(1));
  REQUIRE(relr);
  CHECK(relr->address_count() == 0u);
}

namespace {

// The addresses GNU readelf -rW lists for the first RELR section of `path` (its "N offsets" block).
std::vector<std::uint64_t> readelf_relr(const std::string& path) {
  const std::string cmd = "readelf -rW '" + path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  std::vector<std::uint64_t> out;
  if (!pipe) return out;
  char line[512];
  bool in_block = false;
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    const std::string_view l(line);
    if (l.find(" offsets") != std::string_view::npos) {
      in_block = true;
      continue;
    }
    if (!in_block) continue;
    char* end = nullptr;
    const std::uint64_t v = std::strtoull(line, &end, 16);
    if (end == line || (*end != '\n' && *end != ' ' && *end != '\0')) break;
    out.push_back(v);
  }
  return out;
}

template <elf_layout L>
std::vector<std::uint64_t> our_relr(std::span<const std::byte> bytes) {
  std::vector<std::uint64_t> out;
  auto f = file<L>::create(bytes);
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto s = sections->find_type(elf::SHT_RELR);
  REQUIRE(s);
  auto relr = relr_table<L>::create(*sections, s->index());
  REQUIRE(relr);
  relr->for_each_address([&](std::uint64_t a) { out.push_back(a); });
  return out;
}

}  // namespace

// GNU readelf as an oracle for the decoding, on built images and on a real PIE linked with -z pack-relative-relocs.
TEMPLATE_TEST_CASE("reloc.relr_matches_readelf", "[reloc][oracle]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  b.options().type = elf::ET_DYN;
  b.add_relr({0x2000, 0x15, 0x3000, L::is64 ? 0xffffffffffffffffull : 0xffffffffull, 0x3, 0x9000});
  auto img = b.build();
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "relr";
  std::filesystem::create_directories(dir);
  const auto path =
      dir / (std::string("relr-") + (L::is64 ? "64" : "32") + (L::endianness == std::endian::little ? "le" : "be"));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(img.bytes.data()), static_cast<std::streamsize>(img.bytes.size()));
  }
  // The image has RELR words, so an empty answer means readelf failed or cannot decode RELR: not a pass.
  const auto expected = readelf_relr(path.string());
  REQUIRE_FALSE(expected.empty());
  CHECK(our_relr<L>(img.span()) == expected);
}

TEST_CASE("reloc.relr_of_a_real_pie_matches_readelf", "[reloc][oracle]") {
  const auto path = std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "fuzz" / "regressions" / "seed-x86_64-pie";
  auto m = mapped_file::open(path.c_str());
  REQUIRE(m);
  // The committed PIE has a .relr.dyn section: readelf must show its offsets (binutils >= 2.38 decodes RELR).
  const auto expected = readelf_relr(path.string());
  REQUIRE_FALSE(expected.empty());
  CHECK(our_relr<elf64le>(m->bytes()) == expected);
}
