// reloc_kinds: the per-machine relocation tables against the C library's <elf.h>, which we did not write: every
// name the header defines for a machine must carry the header's number, and find_reloc_kind must find it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "elfsieve/analysis/reloc_kinds.hpp"

using namespace elfsieve;

namespace {

// name -> value of every `#define R_<prefix><name> <number or other R_ name>` in /usr/include/elf.h (ppc64 defines
// many of its types as the ppc ones).
std::map<std::string, std::uint32_t> elf_h_relocations(const std::string& prefix) {
  std::ifstream in("/usr/include/elf.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::map<std::string, std::string> raw;
  const std::regex define("#define[ \t]+(R_[A-Za-z0-9_]+)[ \t]+([0-9]+|R_[A-Za-z0-9_]+)");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), define); it != std::sregex_iterator(); ++it)
    raw[(*it)[1].str()] = (*it)[2].str();
  std::map<std::string, std::uint32_t> out;
  for (const auto& [name, value] : raw) {
    if (!name.starts_with(prefix)) continue;
    std::string v = value;
    for (int hops = 0; hops < 4 && raw.count(v) != 0; ++hops) v = raw[v];
    if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos)
      out[name] = static_cast<std::uint32_t>(std::stoul(v));
  }
  return out;
}

}  // namespace

TEST_CASE("reloc_kinds.tables_agree_with_elf_h", "[reloc_kinds]") {
  struct machine {
    std::uint16_t number;
    std::string prefix;
  };
  for (const machine& m : {machine{elf::EM_X86_64, "R_X86_64_"}, machine{elf::EM_386, "R_386_"},
                           machine{elf::EM_PPC, "R_PPC_"}, machine{elf::EM_PPC64, "R_PPC64_"}}) {
    CAPTURE(m.prefix);
    const auto defined = elf_h_relocations(m.prefix);
    REQUIRE(defined.size() > 20u);  // the header is there and the pattern reads it
    const auto table = reloc_kinds_of(m.number);
    REQUIRE_FALSE(table.empty());
    std::size_t compared = 0;
    for (const reloc_kind& k : table) {
      CAPTURE(k.name, k.type);
      CHECK(k.name.starts_with(m.prefix));
      CHECK(find_reloc_kind(m.number, k.type) == &k);
      const auto it = defined.find(std::string(k.name));
      if (it == defined.end()) continue;  // newer than the C library's header
      CHECK(it->second == k.type);
      ++compared;
    }
    // Nearly every name is in the header; a table that drifted to other names would compare few.
    CHECK(compared * 10 >= table.size() * 9);
    // The NONE type of every machine does nothing.
    REQUIRE(find_reloc_kind(m.number, 0) != nullptr);
    CHECK(find_reloc_kind(m.number, 0)->cls == reloc_class::none);
  }
}

TEST_CASE("reloc_kinds.unknown_types_and_machines", "[reloc_kinds]") {
  CHECK(reloc_kinds_of(0).empty());
  CHECK(find_reloc_kind(0, 1) == nullptr);
  CHECK(find_reloc_kind(elf::EM_X86_64, 0xffffffffu) == nullptr);
  CHECK(find_reloc_kind(elf::EM_X86_64, 39) == nullptr);  // a gap in the numbering (39, 40 are unassigned)
  // Widths of the word-sized absolute relocations follow the class.
  CHECK(find_reloc_kind(elf::EM_X86_64, 1)->width == 8);
  CHECK(find_reloc_kind(elf::EM_386, 1)->width == 4);
  CHECK(find_reloc_kind(elf::EM_PPC, 1)->cls == reloc_class::absolute);
  CHECK(find_reloc_kind(elf::EM_X86_64, 2)->cls == reloc_class::pc_relative);
  CHECK(is_branch_reloc(elf::EM_PPC64, 10));
  CHECK_FALSE(is_branch_reloc(elf::EM_PPC, 10));
}
