// The four ELF layouts (32/64-bit x little/big endian) as one traits type each, owning every record type.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"

namespace elfsieve {

namespace detail {

template <std::endian E>
struct common_fields {
  using half = endian_int<std::uint16_t, E>;
  using word = endian_int<std::uint32_t, E>;
  using sword = endian_int<std::int32_t, E>;
  using xword = endian_int<std::uint64_t, E>;
  using sxword = endian_int<std::int64_t, E>;
};

// Records whose layout differs between ELF32 and ELF64.
template <bool Is64, std::endian E>
struct class_records;

template <std::endian E>
struct class_records<false, E> : common_fields<E> {
  using typename common_fields<E>::half;
  using typename common_fields<E>::word;
  using typename common_fields<E>::sword;
  using uword_t = std::uint32_t;
  using sword_t = std::int32_t;
  using addr = word;
  using off = word;
  using uword = word;

  struct shdr {
    word sh_name, sh_type, sh_flags;
    addr sh_addr;
    off sh_offset;
    word sh_size, sh_link, sh_info, sh_addralign, sh_entsize;
  };
  struct phdr {
    word p_type;
    off p_offset;
    addr p_vaddr, p_paddr;
    word p_filesz, p_memsz, p_flags, p_align;
  };
  struct sym {
    word st_name;
    addr st_value;
    word st_size;
    std::uint8_t st_info, st_other;
    half st_shndx;
  };
  struct rel {
    addr r_offset;
    word r_info;
  };
  struct rela {
    addr r_offset;
    word r_info;
    sword r_addend;
  };
  struct dyn {
    sword d_tag;
    word d_val;
  };
  struct chdr {
    word ch_type, ch_size, ch_addralign;
  };

  [[nodiscard]] static constexpr std::uint32_t r_sym(uword_t info) noexcept { return info >> 8; }
  [[nodiscard]] static constexpr std::uint32_t r_type(uword_t info) noexcept { return info & 0xff; }
  [[nodiscard]] static constexpr uword_t r_info(std::uint32_t sym, std::uint32_t type) noexcept {
    return (sym << 8) | (type & 0xff);
  }
};

template <std::endian E>
struct class_records<true, E> : common_fields<E> {
  using typename common_fields<E>::half;
  using typename common_fields<E>::word;
  using typename common_fields<E>::xword;
  using typename common_fields<E>::sxword;
  using uword_t = std::uint64_t;
  using sword_t = std::int64_t;
  using addr = xword;
  using off = xword;
  using uword = xword;

  struct shdr {
    word sh_name, sh_type;
    xword sh_flags;
    addr sh_addr;
    off sh_offset;
    xword sh_size;
    word sh_link, sh_info;
    xword sh_addralign, sh_entsize;
  };
  struct phdr {
    word p_type, p_flags;
    off p_offset;
    addr p_vaddr, p_paddr;
    xword p_filesz, p_memsz, p_align;
  };
  struct sym {
    word st_name;
    std::uint8_t st_info, st_other;
    half st_shndx;
    addr st_value;
    xword st_size;
  };
  struct rel {
    addr r_offset;
    xword r_info;
  };
  struct rela {
    addr r_offset;
    xword r_info;
    sxword r_addend;
  };
  struct dyn {
    sxword d_tag;
    xword d_val;
  };
  struct chdr {
    word ch_type, ch_reserved;
    xword ch_size, ch_addralign;
  };

  [[nodiscard]] static constexpr std::uint32_t r_sym(uword_t info) noexcept {
    return static_cast<std::uint32_t>(info >> 32);
  }
  [[nodiscard]] static constexpr std::uint32_t r_type(uword_t info) noexcept {
    return static_cast<std::uint32_t>(info & 0xffffffffu);
  }
  [[nodiscard]] static constexpr uword_t r_info(std::uint32_t sym, std::uint32_t type) noexcept {
    return (static_cast<std::uint64_t>(sym) << 32) | type;
  }
};

}  // namespace detail

// One traits type per layout, in the manner of LLVM's ELFType<endianness, Is64>.
template <bool Is64, std::endian E>
struct layout : detail::class_records<Is64, E> {
  static constexpr bool is64 = Is64;
  static constexpr std::endian endianness = E;
  static constexpr std::uint8_t elf_class = Is64 ? elf::ELFCLASS64 : elf::ELFCLASS32;
  static constexpr std::uint8_t elf_data = E == std::endian::little ? elf::ELFDATA2LSB : elf::ELFDATA2MSB;
  static constexpr std::size_t word_bytes = Is64 ? 8 : 4;

  using half = typename detail::common_fields<E>::half;
  using word = typename detail::common_fields<E>::word;
  using addr = typename detail::class_records<Is64, E>::addr;
  using off = typename detail::class_records<Is64, E>::off;

  // Records whose fields only change width between the classes.
  struct ehdr {
    std::array<std::byte, elf::EI_NIDENT> e_ident;
    half e_type, e_machine;
    word e_version;
    addr e_entry;
    off e_phoff, e_shoff;
    word e_flags;
    half e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
  };

  // Records common to both classes.
  struct nhdr {
    word n_namesz, n_descsz, n_type;
  };
  struct verdef {
    half vd_version, vd_flags, vd_ndx, vd_cnt;
    word vd_hash, vd_aux, vd_next;
  };
  struct verdaux {
    word vda_name, vda_next;
  };
  struct verneed {
    half vn_version, vn_cnt;
    word vn_file, vn_aux, vn_next;
  };
  struct vernaux {
    word vna_hash;
    half vna_flags, vna_other;
    word vna_name, vna_next;
  };
};

using elf32le = layout<false, std::endian::little>;
using elf32be = layout<false, std::endian::big>;
using elf64le = layout<true, std::endian::little>;
using elf64be = layout<true, std::endian::big>;

template <class L>
concept elf_layout = std::is_same_v<L, elf32le> || std::is_same_v<L, elf32be> || std::is_same_v<L, elf64le> ||
    std::is_same_v<L, elf64be>;

// The on-disk sizes the gABI fixes; a layout whose records are padded would be a bug here.
static_assert(sizeof(elf32le::ehdr) == 52 && sizeof(elf64le::ehdr) == 64);
static_assert(sizeof(elf32le::shdr) == 40 && sizeof(elf64be::shdr) == 64);
static_assert(sizeof(elf32be::phdr) == 32 && sizeof(elf64le::phdr) == 56);
static_assert(sizeof(elf32le::sym) == 16 && sizeof(elf64le::sym) == 24);
static_assert(sizeof(elf32le::rel) == 8 && sizeof(elf64le::rel) == 16);
static_assert(sizeof(elf32le::rela) == 12 && sizeof(elf64le::rela) == 24);
static_assert(sizeof(elf64le::nhdr) == 12 && sizeof(elf64le::verdef) == 20 && sizeof(elf64le::vernaux) == 16);
static_assert(alignof(elf64le::shdr) == 1 && alignof(elf64be::sym) == 1);

}  // namespace elfsieve
