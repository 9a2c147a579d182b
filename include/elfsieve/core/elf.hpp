// ELF constants from the gABI, the GNU extensions and the psABIs elfsieve reads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace elfsieve::elf {

// e_ident
inline constexpr std::size_t EI_NIDENT = 16;
inline constexpr std::size_t EI_CLASS = 4, EI_DATA = 5, EI_VERSION = 6, EI_OSABI = 7;
inline constexpr std::uint8_t ELFCLASS32 = 1, ELFCLASS64 = 2;
inline constexpr std::uint8_t ELFDATA2LSB = 1, ELFDATA2MSB = 2;
inline constexpr std::uint8_t EV_CURRENT = 1;

// e_type
inline constexpr std::uint16_t ET_NONE = 0, ET_REL = 1, ET_EXEC = 2, ET_DYN = 3, ET_CORE = 4;

// e_machine (the ones the tools know by name)
inline constexpr std::uint16_t EM_386 = 3, EM_PPC = 20, EM_PPC64 = 21, EM_ARM = 40, EM_X86_64 = 62, EM_AARCH64 = 183,
                               EM_RISCV = 243, EM_MIPS = 8, EM_S390 = 22;

// special section indices
inline constexpr std::uint16_t SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2,
                               SHN_XINDEX = 0xffff;
inline constexpr std::uint16_t PN_XNUM = 0xffff;

// sh_type
inline constexpr std::uint32_t SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4,
                               SHT_HASH = 5, SHT_DYNAMIC = 6, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_REL = 9, SHT_SHLIB = 10,
                               SHT_DYNSYM = 11, SHT_INIT_ARRAY = 14, SHT_FINI_ARRAY = 15, SHT_PREINIT_ARRAY = 16,
                               SHT_GROUP = 17, SHT_SYMTAB_SHNDX = 18, SHT_RELR = 19, SHT_GNU_ATTRIBUTES = 0x6ffffff5,
                               SHT_GNU_HASH = 0x6ffffff6, SHT_GNU_LIBLIST = 0x6ffffff7, SHT_GNU_verdef = 0x6ffffffd,
                               SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;

// sh_flags
inline constexpr std::uint64_t SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4, SHF_MERGE = 0x10,
                               SHF_STRINGS = 0x20, SHF_INFO_LINK = 0x40, SHF_LINK_ORDER = 0x80,
                               SHF_OS_NONCONFORMING = 0x100, SHF_GROUP = 0x200, SHF_TLS = 0x400, SHF_COMPRESSED = 0x800,
                               SHF_GNU_RETAIN = 0x200000, SHF_EXCLUDE = 0x80000000;

inline constexpr std::uint32_t GRP_COMDAT = 0x1;

// Whether sh_info holds a section index: always for relocation sections, otherwise when SHF_INFO_LINK says so --
// except for types whose sh_info the gABI already defines (local count, group signature, entry counts), where the
// type wins over a contradicting flag.
[[nodiscard]] constexpr bool sh_info_is_section(std::uint32_t type, std::uint64_t flags) noexcept {
  if (type == SHT_REL || type == SHT_RELA) return true;
  if (type == SHT_SYMTAB || type == SHT_DYNSYM || type == SHT_GROUP || type == SHT_GNU_verdef ||
      type == SHT_GNU_verneed)
    return false;
  return (flags & SHF_INFO_LINK) != 0;
}

// symbols
inline constexpr std::uint8_t STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2, STB_GNU_UNIQUE = 10;
inline constexpr std::uint8_t STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4,
                              STT_COMMON = 5, STT_TLS = 6, STT_GNU_IFUNC = 10;
inline constexpr std::uint8_t STV_DEFAULT = 0, STV_INTERNAL = 1, STV_HIDDEN = 2, STV_PROTECTED = 3;

[[nodiscard]] constexpr std::uint8_t st_bind(std::uint8_t info) noexcept { return info >> 4; }
[[nodiscard]] constexpr std::uint8_t st_type(std::uint8_t info) noexcept { return info & 0xf; }
[[nodiscard]] constexpr std::uint8_t st_info(std::uint8_t bind, std::uint8_t type) noexcept {
  return static_cast<std::uint8_t>((bind << 4) | (type & 0xf));
}

// program headers
inline constexpr std::uint32_t PT_NULL = 0, PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6,
                               PT_TLS = 7;

// symbol versioning
inline constexpr std::uint16_t VER_NDX_LOCAL = 0, VER_NDX_GLOBAL = 1, VERSYM_HIDDEN = 0x8000, VERSYM_VERSION = 0x7fff;
inline constexpr std::uint16_t VER_FLG_BASE = 0x1, VER_FLG_WEAK = 0x2;

// dynamic tags
inline constexpr std::int64_t DT_NULL = 0;

}  // namespace elfsieve::elf
