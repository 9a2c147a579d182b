// Per-machine relocation knowledge, one table per machine in one place: each type's name, the width of the field
// it patches, whether it computes S + A (absolute) or S + A - P (PC-relative) or something else (GOT, PLT, TLS,
// SIZE, ...), and whether the kernel's module loader accepts it (6.1 arch/*/kernel/module*.c).
// The writer uses it to decide whether a relocation may name a section symbol instead of a symbol; tools use the
// names in reports.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "elfsieve/core/elf.hpp"

namespace elfsieve {

enum class reloc_class : std::uint8_t {
  none,         // R_*_NONE: no effect
  absolute,     // S + A (any width, any @l/@h/@ha piece of it)
  pc_relative,  // S + A - P (or S + A - TOC base), and PLT forms that mean exactly that for a local symbol
                //   (x86 PLT32)
  other,        // GOT, PLT, TLS, SIZE, TOC-base, markers: the result depends on the symbol itself
};

struct reloc_kind {
  std::uint32_t type = 0;
  std::string_view name;
  std::uint8_t width = 0;  // bytes of the field it patches; 0 when unknown or irregular
  reloc_class cls = reloc_class::other;
  bool loader = false;  // accepted by the kernel's module loader for this machine
};

namespace detail::reloc_tables {
using enum reloc_class;
// clang-format off
inline constexpr reloc_kind x86_64[] = {
  {0, "R_X86_64_NONE", 0, none, true},         {1, "R_X86_64_64", 8, absolute, true},
  {2, "R_X86_64_PC32", 4, pc_relative, true},  {3, "R_X86_64_GOT32", 4, other, false},
  {4, "R_X86_64_PLT32", 4, pc_relative, true}, {5, "R_X86_64_COPY", 0, other, false},
  {6, "R_X86_64_GLOB_DAT", 8, other, false},   {7, "R_X86_64_JUMP_SLOT", 8, other, false},
  {8, "R_X86_64_RELATIVE", 8, other, false},   {9, "R_X86_64_GOTPCREL", 4, other, false},
  {10, "R_X86_64_32", 4, absolute, true},      {11, "R_X86_64_32S", 4, absolute, true},
  {12, "R_X86_64_16", 2, absolute, false},     {13, "R_X86_64_PC16", 2, pc_relative, false},
  {14, "R_X86_64_8", 1, absolute, false},      {15, "R_X86_64_PC8", 1, pc_relative, false},
  {16, "R_X86_64_DTPMOD64", 8, other, false},  {17, "R_X86_64_DTPOFF64", 8, other, false},
  {18, "R_X86_64_TPOFF64", 8, other, false},   {19, "R_X86_64_TLSGD", 4, other, false},
  {20, "R_X86_64_TLSLD", 4, other, false},     {21, "R_X86_64_DTPOFF32", 4, other, false},
  {22, "R_X86_64_GOTTPOFF", 4, other, false},  {23, "R_X86_64_TPOFF32", 4, other, false},
  {24, "R_X86_64_PC64", 8, pc_relative, true}, {25, "R_X86_64_GOTOFF64", 8, other, false},
  {26, "R_X86_64_GOTPC32", 4, other, false},   {27, "R_X86_64_GOT64", 8, other, false},
  {28, "R_X86_64_GOTPCREL64", 8, other, false},{29, "R_X86_64_GOTPC64", 8, other, false},
  {30, "R_X86_64_GOTPLT64", 8, other, false},  {31, "R_X86_64_PLTOFF64", 8, other, false},
  {32, "R_X86_64_SIZE32", 4, other, false},    {33, "R_X86_64_SIZE64", 8, other, false},
  {34, "R_X86_64_GOTPC32_TLSDESC", 4, other, false}, {35, "R_X86_64_TLSDESC_CALL", 0, other, false},
  {36, "R_X86_64_TLSDESC", 16, other, false},  {37, "R_X86_64_IRELATIVE", 8, other, false},
  {38, "R_X86_64_RELATIVE64", 8, other, false},{41, "R_X86_64_GOTPCRELX", 4, other, false},
  {42, "R_X86_64_REX_GOTPCRELX", 4, other, false},
};
inline constexpr reloc_kind i386[] = {
  {0, "R_386_NONE", 0, none, false},           {1, "R_386_32", 4, absolute, true},
  {2, "R_386_PC32", 4, pc_relative, true},     {3, "R_386_GOT32", 4, other, false},
  {4, "R_386_PLT32", 4, pc_relative, true},    {5, "R_386_COPY", 0, other, false},
  {6, "R_386_GLOB_DAT", 4, other, false},      {7, "R_386_JMP_SLOT", 4, other, false},
  {8, "R_386_RELATIVE", 4, other, false},      {9, "R_386_GOTOFF", 4, other, false},
  {10, "R_386_GOTPC", 4, other, false},        {11, "R_386_32PLT", 4, other, false},
  {14, "R_386_TLS_TPOFF", 4, other, false},    {15, "R_386_TLS_IE", 4, other, false},
  {16, "R_386_TLS_GOTIE", 4, other, false},    {17, "R_386_TLS_LE", 4, other, false},
  {18, "R_386_TLS_GD", 4, other, false},       {19, "R_386_TLS_LDM", 4, other, false},
  {20, "R_386_16", 2, absolute, false},        {21, "R_386_PC16", 2, pc_relative, false},
  {22, "R_386_8", 1, absolute, false},         {23, "R_386_PC8", 1, pc_relative, false},
  {32, "R_386_TLS_LDO_32", 4, other, false},   {35, "R_386_TLS_DTPMOD32", 4, other, false},
  {36, "R_386_TLS_DTPOFF32", 4, other, false}, {37, "R_386_TLS_TPOFF32", 4, other, false},
  {38, "R_386_SIZE32", 4, other, false},       {42, "R_386_IRELATIVE", 4, other, false},
  {43, "R_386_GOT32X", 4, other, false},
};
inline constexpr reloc_kind ppc[] = {
  {0, "R_PPC_NONE", 0, none, false},           {1, "R_PPC_ADDR32", 4, absolute, true},
  {2, "R_PPC_ADDR24", 4, absolute, false},     {3, "R_PPC_ADDR16", 2, absolute, false},
  {4, "R_PPC_ADDR16_LO", 2, absolute, true},   {5, "R_PPC_ADDR16_HI", 2, absolute, true},
  {6, "R_PPC_ADDR16_HA", 2, absolute, true},   {7, "R_PPC_ADDR14", 4, absolute, false},
  {8, "R_PPC_ADDR14_BRTAKEN", 4, absolute, false}, {9, "R_PPC_ADDR14_BRNTAKEN", 4, absolute, false},
  {10, "R_PPC_REL24", 4, pc_relative, true},   {11, "R_PPC_REL14", 4, pc_relative, false},
  {12, "R_PPC_REL14_BRTAKEN", 4, pc_relative, false}, {13, "R_PPC_REL14_BRNTAKEN", 4, pc_relative, false},
  {14, "R_PPC_GOT16", 2, other, false},        {15, "R_PPC_GOT16_LO", 2, other, false},
  {16, "R_PPC_GOT16_HI", 2, other, false},     {17, "R_PPC_GOT16_HA", 2, other, false},
  {18, "R_PPC_PLTREL24", 4, other, false},     {19, "R_PPC_COPY", 0, other, false},
  {20, "R_PPC_GLOB_DAT", 4, other, false},     {21, "R_PPC_JMP_SLOT", 4, other, false},
  {22, "R_PPC_RELATIVE", 4, other, false},     {23, "R_PPC_LOCAL24PC", 4, other, false},
  {24, "R_PPC_UADDR32", 4, absolute, false},   {25, "R_PPC_UADDR16", 2, absolute, false},
  {26, "R_PPC_REL32", 4, pc_relative, true},   {27, "R_PPC_PLT32", 4, other, false},
  {28, "R_PPC_PLTREL32", 4, other, false},     {32, "R_PPC_SDAREL16", 2, other, false},
  {249, "R_PPC_REL16", 2, pc_relative, false}, {250, "R_PPC_REL16_LO", 2, pc_relative, false},
  {251, "R_PPC_REL16_HI", 2, pc_relative, false}, {252, "R_PPC_REL16_HA", 2, pc_relative, false},
};
inline constexpr reloc_kind ppc64[] = {
  {0, "R_PPC64_NONE", 0, none, false},         {1, "R_PPC64_ADDR32", 4, absolute, true},
  {2, "R_PPC64_ADDR24", 4, absolute, false},   {3, "R_PPC64_ADDR16", 2, absolute, false},
  {4, "R_PPC64_ADDR16_LO", 2, absolute, false},{5, "R_PPC64_ADDR16_HI", 2, absolute, false},
  {6, "R_PPC64_ADDR16_HA", 2, absolute, false},{7, "R_PPC64_ADDR14", 4, absolute, false},
  {10, "R_PPC64_REL24", 4, pc_relative, true}, {11, "R_PPC64_REL14", 4, pc_relative, false},
  {14, "R_PPC64_GOT16", 2, other, false},      {18, "R_PPC64_PLTREL24", 4, other, false},
  {20, "R_PPC64_GLOB_DAT", 8, other, false},   {21, "R_PPC64_JMP_SLOT", 8, other, false},
  {22, "R_PPC64_RELATIVE", 8, other, false},   {24, "R_PPC64_UADDR32", 4, absolute, false},
  {25, "R_PPC64_UADDR16", 2, absolute, false}, {26, "R_PPC64_REL32", 4, pc_relative, true},
  {38, "R_PPC64_ADDR64", 8, absolute, true},   {39, "R_PPC64_ADDR16_HIGHER", 2, absolute, false},
  {40, "R_PPC64_ADDR16_HIGHERA", 2, absolute, false}, {41, "R_PPC64_ADDR16_HIGHEST", 2, absolute, false},
  {42, "R_PPC64_ADDR16_HIGHESTA", 2, absolute, false}, {43, "R_PPC64_UADDR64", 8, absolute, false},
  {44, "R_PPC64_REL64", 8, pc_relative, true}, {47, "R_PPC64_TOC16", 2, pc_relative, true},
  {48, "R_PPC64_TOC16_LO", 2, pc_relative, true}, {49, "R_PPC64_TOC16_HI", 2, pc_relative, false},
  {50, "R_PPC64_TOC16_HA", 2, pc_relative, true}, {51, "R_PPC64_TOC", 8, other, true},
  {56, "R_PPC64_ADDR16_DS", 2, absolute, false}, {57, "R_PPC64_ADDR16_LO_DS", 2, absolute, false},
  {58, "R_PPC64_GOT16_DS", 2, other, false},   {59, "R_PPC64_GOT16_LO_DS", 2, other, false},
  {63, "R_PPC64_TOC16_DS", 2, pc_relative, true}, {64, "R_PPC64_TOC16_LO_DS", 2, pc_relative, true},
  {109, "R_PPC64_TOCSAVE", 0, other, true},    {110, "R_PPC64_ADDR16_HIGH", 2, absolute, false},
  {111, "R_PPC64_ADDR16_HIGHA", 2, absolute, false}, {116, "R_PPC64_REL24_NOTOC", 4, pc_relative, false},
  {118, "R_PPC64_ENTRY", 0, other, true},      {249, "R_PPC64_REL16", 2, pc_relative, false},
  {250, "R_PPC64_REL16_LO", 2, pc_relative, true}, {251, "R_PPC64_REL16_HI", 2, pc_relative, false},
  {252, "R_PPC64_REL16_HA", 2, pc_relative, true},
};
// clang-format on
}  // namespace detail::reloc_tables

// The relocation table of a machine; empty for machines elfsieve does not know (nothing is retargeted there).
[[nodiscard]] constexpr std::span<const reloc_kind> reloc_kinds_of(std::uint16_t machine) noexcept {
  switch (machine) {
    case elf::EM_X86_64: return detail::reloc_tables::x86_64;
    case elf::EM_386: return detail::reloc_tables::i386;
    case elf::EM_PPC: return detail::reloc_tables::ppc;
    case elf::EM_PPC64: return detail::reloc_tables::ppc64;
    default: return {};
  }
}

// The kind of relocation `type` on `machine`, or null when the type is unknown. The tables are sorted by type.
[[nodiscard]] constexpr const reloc_kind* find_reloc_kind(std::uint16_t machine, std::uint32_t type) noexcept {
  auto table = reloc_kinds_of(machine);
  std::size_t lo = 0, hi = table.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (table[mid].type < type) lo = mid + 1;
    else hi = mid;
  }
  return lo < table.size() && table[lo].type == type ? &table[lo] : nullptr;
}

[[nodiscard]] constexpr bool is_branch_reloc(std::uint16_t machine, std::uint32_t type) noexcept {
  // ppc64 ELFv2: these branches enter a local function at its local entry point (st_other bits).
  return machine == elf::EM_PPC64 && (type == 10 || type == 11 || type == 116);
}

namespace detail {
constexpr bool reloc_tables_sorted(std::span<const reloc_kind> t) {
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i - 1].type >= t[i].type) return false;
  return true;
}
static_assert(reloc_tables_sorted(reloc_tables::x86_64) && reloc_tables_sorted(reloc_tables::i386) &&
              reloc_tables_sorted(reloc_tables::ppc) && reloc_tables_sorted(reloc_tables::ppc64));
}  // namespace detail

}  // namespace elfsieve
