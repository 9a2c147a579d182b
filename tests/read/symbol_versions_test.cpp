// symbol_versions<L>: versym indices resolved through verdef / verneed into what `nm -D` prints.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "support/checked_sections.hpp"
#include "support/malformed_cases.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

namespace {

// GNU nm's rule: a defined default version is name@@VER, a hidden or needed one name@VER, none just the name.
std::string nm_style(std::string_view name, const symbol_version& v) {
  std::string out(name);
  if (v.name.empty()) return out;
  out += (v.defined && !v.hidden) ? "@@" : "@";
  out += v.name;
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("version.names_as_nm_prints_them", "[version]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = versioned_object<L>();
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(dyn::dynsym));
  REQUIRE(symbols);
  auto versions = symbol_versions<L>::create(*sections, *symbols);
  REQUIRE(versions);
  CHECK_FALSE(versions->empty());
  const auto get = [&](std::uint32_t i) { return versions->get(symbol_index(i)).value(); };

  CHECK(get(0).index == elf::VER_NDX_LOCAL);
  CHECK(get(0).name.empty());

  const symbol_version puts = get(1);  // needed from libc.so.6
  CHECK(puts.index == 4u);
  CHECK(puts.name == "GLIBC_2.2.5");
  CHECK_FALSE(puts.defined);
  CHECK_FALSE(puts.hidden);
  CHECK_FALSE(puts.base);

  const symbol_version api_v1 = get(2);  // defined, hidden: not the default version
  CHECK(api_v1.index == 2u);
  CHECK(api_v1.name == "V1");
  CHECK(api_v1.defined);
  CHECK(api_v1.hidden);
  CHECK_FALSE(api_v1.base);

  const symbol_version api_v2 = get(3);  // defined default version
  CHECK(api_v2.index == 3u);
  CHECK(api_v2.name == "V2");
  CHECK(api_v2.defined);
  CHECK_FALSE(api_v2.hidden);

  const symbol_version global = get(4);
  CHECK(global.index == elf::VER_NDX_GLOBAL);
  CHECK(global.name.empty());

  std::vector<std::string> printed;
  for (auto s : *symbols) printed.push_back(nm_style(symbols->name(s).value(), get(s.index().value)));
  CHECK(printed == std::vector<std::string>{"", "puts@GLIBC_2.2.5", "api@V1", "api@@V2", "libv.so.1"});

  // Past the versym table: no version, not an error.
  CHECK(versions->get(symbol_index(100)).value().index == 0u);
}

TEMPLATE_TEST_CASE("version.base_flag", "[version]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = versioned_object<L>();
  // Mark V1's definition as the base version: readers must report it.
  const std::uint64_t v1 = img.section_offsets[dyn::verdef] + sizeof(typename L::verdef) + sizeof(typename L::verdaux);
  put(img.template at<typename L::verdef>(v1).vd_flags, elf::VER_FLG_BASE);
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(dyn::dynsym));
  REQUIRE(symbols);
  auto versions = symbol_versions<L>::create(*sections, *symbols);
  REQUIRE(versions);
  const symbol_version v = versions->get(symbol_index(2)).value();
  CHECK(v.base);
  CHECK(v.name == "V1");
  CHECK_FALSE(versions->get(symbol_index(3)).value().base);
}

TEMPLATE_TEST_CASE("version.no_version_sections", "[version]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(5));
  REQUIRE(symbols);
  auto versions = symbol_versions<L>::create(*sections, *symbols);
  REQUIRE(versions);
  CHECK(versions->empty());
  auto v = versions->get(symbol_index(2));
  REQUIRE(v);
  CHECK(v->index == 0u);
  CHECK(v->name.empty());
}

TEMPLATE_TEST_CASE("version.unknown_index_is_an_error", "[version]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = versioned_object<L>();
  put(img.template record<typename L::half>(dyn::versym, 3), 9);  // nobody defines or needs version 9
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(dyn::dynsym));
  REQUIRE(symbols);
  auto versions = versions_of(*sections, *symbols);
  REQUIRE(versions);
  auto v = versions->get(symbol_index(3));
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::unknown_version_index);
  CHECK(v.error().section == section_index(dyn::versym));
  CHECK(v.error().offset == img.section_offsets[dyn::versym] + 3 * sizeof(typename L::half));
  CHECK(v.error().detail == 9u);
  CHECK(versions->get(symbol_index(2)));
}

// A verdef section of overlapping records (every 4 bytes reads as a verdef whose vd_next is 4) and many symbols
// asking for a version nobody defines: walking the chain once per symbol took minutes on 1.5 MB. The chain is now
// indexed once, and a walk that visits more records than fit in the section stops with an error.
TEMPLATE_TEST_CASE("version.overlapping_chain_is_linear", "[version][large]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  constexpr std::size_t symbol_count = 20000;
  elf_builder<L> b;
  std::vector<symbol_spec> syms(symbol_count, symbol_spec{"s", 0, 0, elf::STB_GLOBAL, elf::STT_FUNC, 0, elf::SHN_ABS});
  auto t = b.add_symbols(syms, elf::SHT_DYNSYM);
  section_spec versym;
  versym.type = elf::SHT_GNU_versym;
  versym.link = t.symtab;
  versym.entsize = 2;
  versym.data = encode_halves<L>(std::vector<std::uint16_t>(symbol_count + 1, 0x7ff0));
  b.add(versym);
  section_spec verdef;
  verdef.type = elf::SHT_GNU_verdef;
  verdef.link = t.strtab;
  verdef.info = 0xffffffffu;
  verdef.data = encode_words<L>(std::vector<std::uint32_t>(1 << 18, 4));
  const std::uint32_t verdef_index = b.add(verdef);
  auto img = b.build();
  auto sections = checked_sections(img);
  auto symbols = symbol_table<L>::create(*sections, section_index(t.symtab));
  REQUIRE(symbols);
  auto versions = symbol_versions<L>::create(*sections, *symbols);
  REQUIRE(versions);
  std::size_t errors = 0;
  for (auto s : *symbols) {
    auto v = versions->get(s.index());
    if (!v) {
      ++errors;
      CHECK(v.error().code == errc::bad_version_data);
      CHECK(v.error().section == section_index(verdef_index));
    }
  }
  CHECK(errors == symbol_count + 1);
}
