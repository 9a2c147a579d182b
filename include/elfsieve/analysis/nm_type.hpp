// GNU nm's view of ELF symbols: the type letter, the printed value and the BFD symbol flags, computed exactly as
// binutils 2.40 does (bfd/elf.c _bfd_elf_make_section_from_shdr, bfd/elfcode.h elf_slurp_symbol_table,
// bfd/syms.c bfd_decode_symclass), so that `nm` output and kernel-style kallsyms letters can be reproduced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// The BFD symbol flags that decide a letter and nm's filters (a subset of bfd.h's BSF_*).
namespace nm_flags {
inline constexpr std::uint16_t local = 1u << 0;
inline constexpr std::uint16_t global = 1u << 1;
inline constexpr std::uint16_t weak = 1u << 2;
inline constexpr std::uint16_t gnu_unique = 1u << 3;
inline constexpr std::uint16_t debugging = 1u << 4;  // section and file symbols: shown only with -a
inline constexpr std::uint16_t section_sym = 1u << 5;
inline constexpr std::uint16_t file_sym = 1u << 6;
inline constexpr std::uint16_t function = 1u << 7;
inline constexpr std::uint16_t object = 1u << 8;
inline constexpr std::uint16_t ifunc = 1u << 9;
inline constexpr std::uint16_t thread_local_sym = 1u << 10;
}  // namespace nm_flags

// Where BFD places a symbol: its undefined, common and absolute pseudo sections, or a real section.
enum class nm_place : std::uint8_t { undefined, common, absolute, section };

// One symbol as nm sees it.
struct nm_symbol {
  std::uint64_t value = 0;  // what nm prints (0 for undefined classes) and sorts by with -n
  std::uint16_t flags = 0;  // nm_flags bits
  nm_place place = nm_place::undefined;
  char type = '?';  // the letter nm prints

  // The letters nm prints without a value (bfd_is_undefined_symclass).
  [[nodiscard]] constexpr bool undefined_class() const noexcept { return type == 'U' || type == 'w' || type == 'v'; }
  [[nodiscard]] constexpr bool has(std::uint16_t f) const noexcept { return (flags & f) != 0; }
};

namespace detail {

[[nodiscard]] constexpr bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

// bfd/syms.c coff_section_type: PE section names that keep their COFF letter even in ELF files.
[[nodiscard]] constexpr char coff_section_letter(std::string_view name) noexcept {
  constexpr struct {
    std::string_view prefix;
    char type;
  } table[] = {{".drectve", 'i'}, {".edata", 'e'}, {".idata", 'i'}, {".pdata", 'p'}};
  for (const auto& entry : table) {
    if (!starts_with(name, entry.prefix)) continue;
    // The character after the prefix must be one of ".$0123456789" or the terminating NUL.
    if (name.size() == entry.prefix.size()) return entry.type;
    const char next = name[entry.prefix.size()];
    if (next == '.' || next == '$' || (next >= '0' && next <= '9')) return entry.type;
  }
  return '?';
}

// The BFD section flags (bfd/section.c SEC_*) that decode_section_type reads.
struct bfd_section_flags {
  bool has_contents = false, alloc = false, load = false, readonly = false, code = false, data = false,
       debugging = false, small_data = false;
};

// bfd/syms.c decode_section_type.
[[nodiscard]] constexpr char decode_section_letter(const bfd_section_flags& f) noexcept {
  if (f.code) return 't';
  if (f.data) return f.readonly ? 'r' : (f.small_data ? 'g' : 'd');
  if (!f.has_contents) return f.small_data ? 's' : 'b';
  if (f.debugging) return 'N';
  if (f.readonly) return 'n';
  return '?';
}

[[nodiscard]] constexpr char to_upper_ascii(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

}  // namespace detail

// Section types that bfd_section_from_shdr handles itself (the rest reach the backend hook or are rejected).
[[nodiscard]] constexpr bool nm_is_generic_section_type(std::uint32_t type) noexcept {
  switch (type) {
    case elf::SHT_NULL:
    case elf::SHT_PROGBITS:
    case elf::SHT_SYMTAB:
    case elf::SHT_STRTAB:
    case elf::SHT_RELA:
    case elf::SHT_HASH:
    case elf::SHT_DYNAMIC:
    case elf::SHT_NOTE:
    case elf::SHT_NOBITS:
    case elf::SHT_REL:
    case elf::SHT_SHLIB:
    case elf::SHT_DYNSYM:
    case elf::SHT_INIT_ARRAY:
    case elf::SHT_FINI_ARRAY:
    case elf::SHT_PREINIT_ARRAY:
    case elf::SHT_GROUP:
    case elf::SHT_SYMTAB_SHNDX:
    case elf::SHT_RELR:
    case elf::SHT_GNU_HASH:
    case elf::SHT_GNU_LIBLIST:
    case elf::SHT_GNU_verdef:
    case elf::SHT_GNU_verneed:
    case elf::SHT_GNU_versym:
    case elf::SHT_GNU_ATTRIBUTES: return true;
    default: return false;
  }
}

// Lower-case letter of a section with these ELF attributes, as BFD classifies it (before the global upper-casing).
// `machine` selects the backend hooks that matter for letters: PowerPC small-data sections ('g'/'s').
[[nodiscard]] constexpr char nm_section_letter(std::string_view name, std::uint32_t type, std::uint64_t flags,
                                               std::uint16_t machine) noexcept {
  const char coff = detail::coff_section_letter(name);
  if (coff != '?') return coff;
  detail::bfd_section_flags f;
  f.has_contents = type != elf::SHT_NOBITS;
  f.alloc = (flags & elf::SHF_ALLOC) != 0;
  f.load = f.alloc && type != elf::SHT_NOBITS;
  f.readonly = (flags & elf::SHF_WRITE) == 0;
  f.code = (flags & elf::SHF_EXECINSTR) != 0;
  f.data = !f.code && f.load;
  if (!f.alloc && !name.empty() && name[0] == '.') {
    using detail::starts_with;
    f.debugging = starts_with(name, ".debug") || starts_with(name, ".gnu.debuglto_.debug_") ||
                  starts_with(name, ".gnu.linkonce.wi.") || starts_with(name, ".zdebug") ||
                  starts_with(name, ".line") || starts_with(name, ".stab") || name == ".gdb_index";
  }
  if (machine == elf::EM_PPC64) {
    // elf64-ppc.c ppc64_elf_section_flags, applied to every section.
    f.small_data = detail::starts_with(name, ".sbss") || detail::starts_with(name, ".sdata");
  } else if (machine == elf::EM_PPC && !nm_is_generic_section_type(type)) {
    // elf32-ppc.c ppc_elf_section_from_shdr runs only for section types the generic code does not know.
    std::string_view n = name;
    if (detail::starts_with(n, ".PPC.EMB")) n.remove_prefix(8);
    f.small_data = detail::starts_with(n, ".sbss") || detail::starts_with(n, ".sdata");
  }
  return detail::decode_section_letter(f);
}

// Classifies the symbols of one file the way GNU nm does. Built once per file (one array of per-section facts,
// O(sections)); classify() allocates nothing.
template <elf_layout L>
class nm_classifier {
 public:
  using sym = typename L::sym;

  // Per ELF section: does BFD make a section of it (if not, symbols there are absolute), its address and letter.
  struct section_fact {
    std::uint64_t vma = 0;
    char letter = '?';
    bool is_bfd_section = false;
  };

  [[nodiscard]] static nm_classifier create(const file<L>& f, const section_table<L>& sections) {
    nm_classifier c;
    c.machine_ = f.machine();
    c.relocatable_ = f.type() != elf::ET_EXEC && f.type() != elf::ET_DYN;
    c.sections_ = &sections;
    const std::size_t n = sections.size();
    c.facts_.resize(n);
    std::uint32_t symtab = 0, dynsym = 0;
    for (auto s : sections) {
      if (s.type() == elf::SHT_SYMTAB && symtab == 0) symtab = s.index().value;
      if (s.type() == elf::SHT_DYNSYM && dynsym == 0) dynsym = s.index().value;
    }
    const std::uint32_t symtab_strings = symtab != 0 ? sections[section_index(symtab)].link() : 0;
    const std::uint32_t shstrndx = sections.shstrndx().value;
    for (auto s : sections) {
      const std::uint32_t i = s.index().value;
      section_fact& fact = c.facts_[i];
      fact.vma = s.addr();
      fact.is_bfd_section = i != 0 && makes_bfd_section(f, sections, s, symtab, dynsym, symtab_strings, shstrndx);
      if (!fact.is_bfd_section) continue;
      auto name = sections.name(s);
      fact.letter = nm_section_letter(name ? name.value() : std::string_view{}, s.type(), s.flags(), c.machine_);
    }
    return c;
  }

  [[nodiscard]] std::span<const section_fact> sections() const noexcept { return facts_; }

  // The letter, value and flags nm gives symbol `s` of `table`.
  [[nodiscard]] nm_symbol classify(const symbol_table<L>& table, const symbol_ref<L>& s) const noexcept {
    nm_symbol out;
    const std::uint8_t bind = s.bind();
    const std::uint8_t type = s.type();
    const std::uint16_t raw = s.raw_shndx();
    std::uint64_t value = s.value();
    const section_fact* section = nullptr;

    if (raw == elf::SHN_UNDEF) {
      out.place = nm_place::undefined;
    } else if (raw == elf::SHN_ABS) {
      out.place = nm_place::absolute;
    } else if (raw == elf::SHN_COMMON || (raw == shn_x86_64_lcommon && machine_ == elf::EM_X86_64)) {
      out.place = nm_place::common;
      value = s.size();  // BFD keeps the size, not the alignment, as a common symbol's value
    } else {
      out.place = nm_place::absolute;  // BFD's fallback for a section it did not make, or a bad index
      auto where = table.section_of(s);
      if (where && where->is_regular() && where->index.value < facts_.size()) {
        const section_fact& fact = facts_[where->index.value];
        if (fact.is_bfd_section) {
          out.place = nm_place::section;
          section = &fact;
        }
      }
    }

    switch (bind) {
      case elf::STB_LOCAL: out.flags |= nm_flags::local; break;
      case elf::STB_GLOBAL:
        if (raw != elf::SHN_UNDEF && raw != elf::SHN_COMMON) out.flags |= nm_flags::global;
        break;
      case elf::STB_WEAK: out.flags |= nm_flags::weak; break;
      case elf::STB_GNU_UNIQUE: out.flags |= nm_flags::gnu_unique; break;
      default: break;
    }
    switch (type) {
      case elf::STT_SECTION: out.flags |= nm_flags::section_sym | nm_flags::debugging; break;
      case elf::STT_FILE: out.flags |= nm_flags::file_sym | nm_flags::debugging; break;
      case elf::STT_FUNC: out.flags |= nm_flags::function; break;
      case elf::STT_COMMON:
      case elf::STT_OBJECT: out.flags |= nm_flags::object; break;
      case elf::STT_TLS: out.flags |= nm_flags::thread_local_sym; break;
      case elf::STT_GNU_IFUNC: out.flags |= nm_flags::ifunc; break;
      default: break;
    }
    // elf_x86_64_symbol_processing: a large common symbol is not global.
    if (raw == shn_x86_64_lcommon && machine_ == elf::EM_X86_64)
      out.flags &= static_cast<std::uint16_t>(~nm_flags::global);

    out.type = decode(out, section);
    if (out.undefined_class()) {
      out.value = 0;
    } else if (section != nullptr && relocatable_) {
      out.value = value + section->vma;  // relocatable: st_value is section-relative
    } else {
      out.value = value;  // executables: BFD subtracts the vma and nm adds it back
    }
    return out;
  }

  // The name nm prints before any version: a section symbol without a name takes its section's name;
  // an unreadable name is "(null)".
  [[nodiscard]] std::string_view name(const symbol_table<L>& table, const symbol_ref<L>& s) const noexcept {
    if (const auto section = section_name(table, s)) return *section;
    auto n = table.name(s);
    return n ? n.value() : std::string_view("(null)");
  }
  // The same name, NUL-terminated, without measuring it (a listing measures only what it prints).
  [[nodiscard]] const char* name_c_str(const symbol_table<L>& table, const symbol_ref<L>& s) const noexcept {
    if (const auto section = section_name(table, s)) return section->data();  // names of a string table: terminated
    const char* n = table.strings().c_str(s.name_offset());
    return n != nullptr ? n : "(null)";
  }

 private:
  static constexpr std::uint16_t shn_x86_64_lcommon = 0xff02;

  // A section symbol without a name: its section's name ("(null)" when unreadable); otherwise nothing.
  [[nodiscard]] std::optional<std::string_view> section_name(const symbol_table<L>& table,
                                                             const symbol_ref<L>& s) const noexcept {
    if (s.name_offset() != 0 || s.type() != elf::STT_SECTION) return std::nullopt;
    std::uint32_t index = s.raw_shndx();
    bool have_index = index < elf::SHN_LORESERVE;
    if (index == elf::SHN_XINDEX) {
      auto where = table.section_of(s);
      have_index = where && where->is_regular();
      if (have_index) index = where->index.value;
    }
    if (!have_index || index >= sections_->size()) return std::nullopt;
    auto n = sections_->name((*sections_)[section_index(index)]);
    return n ? n.value() : std::string_view("(null)");
  }

  // bfd/syms.c bfd_decode_symclass.
  [[nodiscard]] static char decode(const nm_symbol& s, const section_fact* section) noexcept {
    using namespace nm_flags;
    if (s.place == nm_place::common) return 'C';
    if (s.place == nm_place::undefined) {
      if (s.has(weak)) return s.has(object) ? 'v' : 'w';
      return 'U';
    }
    if (s.has(ifunc)) return 'i';
    if (s.has(weak)) return s.has(object) ? 'V' : 'W';
    if (s.has(gnu_unique)) return 'u';
    if (!s.has(global | local)) return '?';
    const char c = s.place == nm_place::absolute ? 'a' : section->letter;
    return s.has(global) ? detail::to_upper_ascii(c) : c;
  }

  // bfd/elf.c bfd_section_from_shdr: which ELF sections become BFD sections.
  [[nodiscard]] static bool makes_bfd_section(const file<L>& f, const section_table<L>& sections,
                                              const section_ref<L>& s, std::uint32_t symtab, std::uint32_t dynsym,
                                              std::uint32_t symtab_strings, std::uint32_t shstrndx) noexcept {
    const std::uint32_t i = s.index().value;
    const std::uint32_t t = s.type();
    switch (t) {
      case elf::SHT_NULL:
      case elf::SHT_SHLIB:
      case elf::SHT_SYMTAB_SHNDX: return false;
      case elf::SHT_SYMTAB: return i == symtab && f.type() == elf::ET_DYN && s.has_flag(elf::SHF_ALLOC);
      case elf::SHT_DYNSYM: return i == dynsym;
      case elf::SHT_STRTAB:
        // The section-name table and the .symtab's string table are read, not made into sections.
        return i != shstrndx && !(symtab != 0 && i == symtab_strings);
      case elf::SHT_REL:
      case elf::SHT_RELA: {
        const bool linked_image = f.type() == elf::ET_EXEC || f.type() == elf::ET_DYN;
        if (linked_image && s.has_flag(elf::SHF_ALLOC)) return true;
        const std::uint32_t target = s.info();
        if (s.link() == 0 || s.link() != symtab || target == 0 || target >= sections.size()) return true;
        const std::uint32_t target_type = sections[section_index(target)].type();
        return target_type == elf::SHT_REL || target_type == elf::SHT_RELA;
      }
      default: return true;
    }
  }

  std::vector<section_fact> facts_{};
  const section_table<L>* sections_ = nullptr;
  std::uint16_t machine_ = 0;
  bool relocatable_ = true;
};

// nm_classifier<L>::create with L deduced. `sections` must outlive the classifier.
template <elf_layout L>
[[nodiscard]] nm_classifier<L> make_nm_classifier(const file<L>& f, const section_table<L>& sections) {
  return nm_classifier<L>::create(f, sections);
}
template <elf_layout L>
nm_classifier<L> make_nm_classifier(const file<L>&, const section_table<L>&&) = delete;  // would dangle

}  // namespace elfsieve
