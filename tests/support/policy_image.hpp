// A small object with one symbol of every kind a symbol policy distinguishes, and the names a policy matches in
// it (shared by the policy and policy expression tests).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/elf_builder.hpp"

namespace elfsieve::testing {

struct policy_image_names {
  static constexpr const char* all[] = {
      "a.c",                // 1  local FILE, ABS
      "kept.c",             // 2  local FILE in .text, named by a relocation of .text (strip keeps it)
      "dbgref.c",           // 3  local FILE in .text, named only by a relocation of .debug_info
      "__ksymtab_strings",  // 4  section symbol of __ksymtab_strings, with a name
      "__crc_fake",         // 5  section symbol of .data named like a CRC
      "__crc_foo",          // 6  CRC
      "__crc_",             // 7  bare prefix
      "__ksymtab_foo",      // 8
      "__kstrtab_foo",      // 9
      "__kstrtabns_foo",    // 10
      "__kcrctab_foo",      // 11
      "__ksymtab_",         // 12 bare prefix
      "in_debug",           // 13 local in .debug_info
      "alloc_debug",        // 14 local in an SHF_ALLOC .debug_alloc (strip keeps it)
      "stab_sym",           // 15 local in .stab
      "common.c",           // 16 local FILE, SHN_COMMON
      "g.c",                // 17 global FILE
      "w.c",                // 18 weak FILE
      "global_in_debug",    // 19 global in .debug_info
      "foo",                // 20 global in .text
      "printk",             // 21 undefined
      "__this_module",      // 22 undefined
      "maybe",              // 23 weak undefined
      "a,b",                // 24 global in .data, for escapes
      "x)y",                // 25
      "sp ace",             // 26
  };
};

template <elf_layout L>
struct policy_image {
  elf_image<L> image;
  std::uint32_t symtab = 0;
};

template <elf_layout L>
policy_image<L> build_policy_image() {
  elf_builder<L> b;
  const auto text =
      static_cast<std::uint16_t>(b.add_progbits(".text", byte_vector(32), elf::SHF_ALLOC | elf::SHF_EXECINSTR));
  const auto data =
      static_cast<std::uint16_t>(b.add_progbits(".data", byte_vector(32), elf::SHF_ALLOC | elf::SHF_WRITE));
  const auto strings = static_cast<std::uint16_t>(
      b.add_progbits("__ksymtab_strings", byte_vector(16), elf::SHF_ALLOC | elf::SHF_MERGE | elf::SHF_STRINGS));
  const auto debug_info = static_cast<std::uint16_t>(b.add_progbits(".debug_info", byte_vector(16), 0));
  const auto debug_alloc = static_cast<std::uint16_t>(b.add_progbits(".debug_alloc", byte_vector(16), elf::SHF_ALLOC));
  const auto stab = static_cast<std::uint16_t>(b.add_progbits(".stab", byte_vector(16), 0));
  const auto& n = policy_image_names::all;
  auto st = b.add_symbols({
      {n[0], 0, 0, elf::STB_LOCAL, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[1], 4, 0, elf::STB_LOCAL, elf::STT_FILE, 0, text},
      {n[2], 8, 0, elf::STB_LOCAL, elf::STT_FILE, 0, text},
      {n[3], 0, 0, elf::STB_LOCAL, elf::STT_SECTION, 0, strings},
      {n[4], 0, 0, elf::STB_LOCAL, elf::STT_SECTION, 0, data},
      {n[5], 0, 4, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
      {n[6], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
      {n[7], 0, 8, elf::STB_LOCAL, elf::STT_OBJECT, 0, data},
      {n[8], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, strings},
      {n[9], 4, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, strings},
      {n[10], 8, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, data},
      {n[11], 12, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, data},
      {n[12], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, debug_info},
      {n[13], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, debug_alloc},
      {n[14], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, stab},
      {n[15], 4, 4, elf::STB_LOCAL, elf::STT_FILE, 0, elf::SHN_COMMON},
      {n[16], 0, 0, elf::STB_GLOBAL, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[17], 0, 0, elf::STB_WEAK, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[18], 4, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, debug_info},
      {n[19], 0, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
      {n[20], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[21], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[22], 0, 0, elf::STB_WEAK, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[23], 16, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
      {n[24], 20, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
      {n[25], 24, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
  });
  // Type 1 is a word-sized absolute relocation on every default machine (R_386_32, R_X86_64_64, R_PPC_ADDR32,
  // R_PPC64_ADDR32), so GNU objcopy reads these.
  b.add_relocs(".rela.text", {{0, 2, 1, 0}, {8, 21, 1, 0}, {16, 20, 1, 0}}, true, st.symtab, text);
  b.add_relocs(".rela__ksymtab_strings", {{0, 4, 1, 0}}, true, st.symtab, strings);
  b.add_relocs(".rela.debug_info", {{0, 3, 1, 0}, {4, 13, 1, 0}}, true, st.symtab, debug_info);
  policy_image<L> out;
  out.symtab = st.symtab;
  out.image = b.build();
  return out;
}

// Names of the symbols of `image` that `policy` matches, in table order.
template <elf_layout L, class P>
std::vector<std::string> matched_names(const policy_image<L>& img, const P& policy, bool with_index = true) {
  std::vector<std::string> out;
  auto f = img.image.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto symbols = symbol_table<L>::create(*sections, section_index(img.symtab));
  REQUIRE(symbols);
  auto index = build_reloc_index(*sections);
  REQUIRE(index);
  for (auto s : *symbols) {
    auto c = make_symbol_context(*sections, *symbols, s, with_index ? &index.value() : nullptr);
    REQUIRE(c);
    if (policy(c.value())) out.emplace_back(c->name);
  }
  return out;
}

using names = std::vector<std::string>;

}  // namespace elfsieve::testing
