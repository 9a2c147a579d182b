// The kernel's export tables read from finished binaries: a module (.ko, ET_REL) or a linked image (vmlinux).
// Learned from Linux 6.1 and 6.12 include/linux/export.h, include/linux/export-internal.h, scripts/module.lds.S,
// include/asm-generic/vmlinux.lds.h, scripts/mod/modpost.c and kernel/module/main.c (find_exported_symbol_in_section,
// kernel_symbol_name/_namespace/_value, check_version's use of the CRC table).
//
// Layout (both versions):
//  - struct kernel_symbol entries live in __ksymtab (EXPORT_SYMBOL) and __ksymtab_gpl (EXPORT_SYMBOL_GPL), each
//    sorted by name by the linker script (SORT(___ksymtab+*)). With CONFIG_HAVE_ARCH_PREL32_RELOCATIONS (x86 and
//    arm64) an entry is three 32-bit offsets { value, name, namespace }, each relative to its own field; elsewhere
//    it is three pointers. Names and namespaces are strings in __ksymtab_strings (namespace "" for none; a null
//    namespace field also means none).
//  - CRCs (CONFIG_MODVERSIONS) are 32-bit words in __kcrctab / __kcrctab_gpl, entry i belonging to entry i of the
//    matching __ksymtab section: the kernel finds a symbol's CRC by its index. Since 5.19 each word holds the
//    CRC itself (labelled by a local __crc_<name>); before, the word was filled by a relocation against an
//    absolute __crc_<name> symbol, and a linked image may carry those absolute symbols instead of a table.
//  - In a module every field is filled by a relocation (REL or RELA) against a symbol or a section symbol, so the
//    entry still reads correctly after the bookkeeping symbols (__ksymtab_*, __kstrtab_*, __crc_*) are stripped
//    and the relocations retargeted to section symbols. In a linked image the fields hold the resolved values; a
//    relocatable image may leave a pointer to a dynamic relocation (its addend is the value).
//
// modpost lists a file's exports in the order it meets the __ksymtab_<name> labels in the symbol table (the order
// Module.symvers keeps); exports whose label is gone (a stripped module) follow in table order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel {

// Architectures whose Kconfig selects HAVE_ARCH_PREL32_RELOCATIONS in 6.1 and 6.12 (x86 and arm64).
[[nodiscard]] constexpr bool has_prel32_export_entries(std::uint16_t machine) noexcept {
  return machine == elf::EM_386 || machine == elf::EM_X86_64 || machine == elf::EM_AARCH64;
}

inline constexpr std::uint32_t no_label = std::numeric_limits<std::uint32_t>::max();

// One exported symbol.
struct kernel_export {
  std::string_view name;        // into __ksymtab_strings
  std::string_view name_space;  // "" without a namespace
  std::uint32_t crc = 0;        // meaningful when has_crc
  bool has_crc = false;
  bool gpl_only = false;    // an entry of __ksymtab_gpl
  std::uint32_t entry = 0;  // index within its table
  // Where the exported symbol is: in a module, the section and offset its value field's relocation names (section 0
  // when it names an undefined or absolute symbol); in a linked image, its address (section 0).
  section_index value_section{};
  std::uint64_t value = 0;
  std::uint32_t value_symbol = 0;  // module: the symbol the value relocation names, 0 if it is a section symbol
  std::uint32_t label = no_label;  // symbol index of __ksymtab_<name>, modpost's reading order
};

struct export_table {
  std::vector<kernel_export> exports;  // __ksymtab entries then __ksymtab_gpl entries, each in table order
  bool linked = false;                 // read from a linked image (addresses), not a relocatable module
  bool prel32 = false;                 // entries are 32-bit relative offsets
  bool has_crcs = false;               // a CRC source was found (__kcrctab*, or __crc_* symbols)
  // A linked image's kernel release from its linux_banner ("Linux version 6.1.192 ..."), 0.0 when unknown.
  std::uint16_t release_major = 0, release_minor = 0;
};

// The exports of init/version.c (EXPORT_SYMBOL_GPL(init_uts_ns), the same from 4.x to 6.12). That object also
// emits the kernel's ELF notes (BUILD_SALT, BUILD_LTO_INFO into .note.Linux). Before 6.5, modpost read the exports
// of vmlinux from vmlinux.o, made by `ld -r`: GNU ld writes each input object's local symbols when it first meets
// one of its sections in output order, and in vmlinux.o the orphan note section .note.Linux comes first, so
// modpost met init/version.o's __ksymtab_ labels before all others. In the linked image they sit in link order
// (after the head objects and init/main.o). Since 6.5 modpost generates the image's export table itself
// (.vmlinux.export.c) and the labels are in its order already.
inline constexpr std::string_view version_c_exports[] = {"init_uts_ns"};

// Reorders `t.exports` as modpost lists them: by the symbol-table position of their __ksymtab_<name> label, then
// the unlabelled ones in table order (__ksymtab before __ksymtab_gpl). For a linked image of a kernel before 6.5
// (known from its linux_banner), init/version.c's exports first (see above).
inline void sort_modpost_order(export_table& t) {
  const bool version_c_first =
      t.linked && t.release_major != 0 && (t.release_major < 6 || (t.release_major == 6 && t.release_minor < 5));
  auto rank = [&](const kernel_export& x) -> std::uint64_t {
    if (version_c_first && x.label != no_label)
      for (auto n : version_c_exports)
        if (x.name == n) return 0;
    return std::uint64_t{x.label} + 1;
  };
  std::stable_sort(t.exports.begin(), t.exports.end(),
                   [&](const kernel_export& a, const kernel_export& b) { return rank(a) < rank(b); });
}

namespace detail::exports {

template <elf_layout L>
[[nodiscard]] std::uint64_t load_word(const std::byte* p, unsigned width) noexcept {
  if (width == 8) return load<std::uint64_t, L::endianness>(p);
  return load<std::uint32_t, L::endianness>(p);
}

// The relocations that apply to one section, sorted by offset (stable: file order among equal offsets).
template <elf_layout L>
class section_relocations {
 public:
  [[nodiscard]] static result<section_relocations> collect(const section_table<L>& sections, section_index target,
                                                           bool dynamic, std::uint64_t lo, std::uint64_t hi) {
    section_relocations out;
    for (auto s : sections) {
      if (s.type() != elf::SHT_REL && s.type() != elf::SHT_RELA) continue;
      if (dynamic ? !s.has_flag(elf::SHF_ALLOC) : s.info() != target.value) continue;
      ELFSIEVE_TRY(auto table, reloc_table<L>::create(sections, s.index()));
      const auto k = static_cast<std::uint32_t>(out.tables_.size());
      for (std::size_t i = 0; i < table.size(); ++i) {
        const auto off = table[i].offset;
        if (off >= lo && off < hi) out.at_.push_back({off, k, static_cast<std::uint32_t>(i)});
      }
      out.tables_.push_back(std::move(table));
    }
    std::stable_sort(out.at_.begin(), out.at_.end(), [](const hit& a, const hit& b) { return a.offset < b.offset; });
    return out;
  }

  // The first relocation at `offset`, with its table.
  [[nodiscard]] std::optional<std::pair<const reloc_table<L>*, std::uint32_t>> find(std::uint64_t offset) const {
    auto it =
        std::lower_bound(at_.begin(), at_.end(), offset, [](const hit& h, std::uint64_t o) { return h.offset < o; });
    if (it == at_.end() || it->offset != offset) return std::nullopt;
    return std::pair{&tables_[it->table], it->entry};
  }

 private:
  struct hit {
    std::uint64_t offset;
    std::uint32_t table;
    std::uint32_t entry;
  };
  std::vector<reloc_table<L>> tables_;
  std::vector<hit> at_;
};

// A resolved field of a relocatable object: a place in a section, or an absolute value.
struct place {
  enum class kind : std::uint8_t { none, section, absolute, undefined } where = kind::none;
  section_index section{};
  std::uint64_t offset = 0;  // in `section`, or the absolute value
  std::uint32_t symbol = 0;  // the named symbol (0 for a section symbol or no relocation)
};

// The longest name or namespace read. Real ones are identifiers (KSYM_NAME_LEN is 512); the limit keeps the
// output of a crafted file (every entry naming one long string) in proportion to its tables.
inline constexpr std::size_t max_export_string = 4096;

// Reads a NUL-terminated string of at most max_export_string bytes at `offset` of `data`, or nullopt.
[[nodiscard]] inline std::optional<std::string_view> c_string(std::span<const std::byte> data,
                                                              std::uint64_t offset) noexcept {
  if (offset >= data.size()) return std::nullopt;
  const std::string_view text(
      reinterpret_cast<const char*>(data.data()) + offset,
      static_cast<std::size_t>(std::min<std::uint64_t>(data.size() - offset, max_export_string + 1)));
  const auto end = text.find('\0');
  if (end == std::string_view::npos) return std::nullopt;
  return text.substr(0, end);
}

// "Linux version MAJOR.MINOR..." -> MAJOR, MINOR; leaves them alone otherwise.
inline void parse_release(std::string_view banner, std::uint16_t& major, std::uint16_t& minor) noexcept {
  constexpr std::string_view prefix = "Linux version ";
  if (!banner.starts_with(prefix)) return;
  banner.remove_prefix(prefix.size());
  auto number = [&](std::uint16_t& v) {
    std::size_t n = 0;
    unsigned value = 0;
    while (n < banner.size() && n < 4 && banner[n] >= '0' && banner[n] <= '9')
      value = value * 10 + static_cast<unsigned>(banner[n++] - '0');
    if (n == 0) return false;
    banner.remove_prefix(n);
    v = static_cast<std::uint16_t>(value);
    return true;
  };
  std::uint16_t a = 0, b = 0;
  if (!number(a) || !banner.starts_with('.')) return;
  banner.remove_prefix(1);
  if (!number(b)) return;
  major = a;
  minor = b;
}

// The export tables of one file: the two __ksymtab sections and their CRC tables.
template <elf_layout L>
struct table_sections {
  std::optional<section_ref<L>> ksymtab[2];  // [0] __ksymtab, [1] __ksymtab_gpl
  std::optional<section_ref<L>> kcrctab[2];
};

template <elf_layout L>
[[nodiscard]] table_sections<L> find_tables(const section_table<L>& sections) noexcept {
  table_sections<L> t;
  for (auto s : sections) {
    auto name = sections.name(s);
    if (!name || s.type() == elf::SHT_NOBITS) continue;
    if (*name == "__ksymtab" && !t.ksymtab[0]) t.ksymtab[0] = s;
    else if (*name == "__ksymtab_gpl" && !t.ksymtab[1]) t.ksymtab[1] = s;
    else if (*name == "__kcrctab" && !t.kcrctab[0]) t.kcrctab[0] = s;
    else if (*name == "__kcrctab_gpl" && !t.kcrctab[1]) t.kcrctab[1] = s;
  }
  return t;
}

// Loaded sections by address, for a linked image.
template <elf_layout L>
class address_map {
 public:
  [[nodiscard]] static address_map of(const section_table<L>& sections) {
    address_map m;
    for (auto s : sections) {
      if (!s.has_flag(elf::SHF_ALLOC) || s.type() == elf::SHT_NOBITS || s.size() == 0) continue;
      auto data = sections.data(s);
      if (!data) continue;
      m.regions_.push_back({s.addr(), *data, s.index()});
    }
    std::stable_sort(m.regions_.begin(), m.regions_.end(),
                     [](const region& a, const region& b) { return a.address < b.address; });
    return m;
  }
  // The section holding the byte at `address`, with the bytes from there to its end.
  [[nodiscard]] std::optional<std::pair<section_index, std::span<const std::byte>>> at(
      std::uint64_t address) const noexcept {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                               [](std::uint64_t a, const region& r) { return a < r.address; });
    // Overlapping sections: look back over the few that start at or before the address.
    for (int tries = 0; it != regions_.begin() && tries < 4; ++tries) {
      --it;
      if (address - it->address < it->bytes.size())
        return std::pair{it->section, it->bytes.subspan(static_cast<std::size_t>(address - it->address))};
    }
    return std::nullopt;
  }

 private:
  struct region {
    std::uint64_t address;
    std::span<const std::byte> bytes;
    section_index section;
  };
  std::vector<region> regions_;
};

}  // namespace detail::exports

// Reads the export tables of `f`. A file without __ksymtab sections has no exports (an empty table, not an
// error). Errors name the table section and the entry.
template <elf_layout L>
[[nodiscard]] result<export_table> read_export_table(const file<L>& f, const section_table<L>& sections) {
  namespace d = detail::exports;
  export_table out;
  out.linked = f.type() != elf::ET_REL;
  out.prel32 = has_prel32_export_entries(f.machine());
  const unsigned width = out.prel32 ? 4 : L::word_bytes;
  const std::uint64_t entry_size = 3 * std::uint64_t{width};
  const auto tables = d::find_tables(sections);
  if (!tables.ksymtab[0] && !tables.ksymtab[1]) return out;

  // The symbol table: relocations name it, labels and __crc_ symbols live in it. A linked image may have none.
  std::optional<symbol_table<L>> symtab;
  if (auto s = sections.find_type(elf::SHT_SYMTAB)) {
    ELFSIEVE_TRY(auto t, symbol_table<L>::create(sections, s->index()));
    symtab = std::move(t);
  }
  std::optional<d::address_map<L>> addresses;
  if (out.linked) addresses = d::address_map<L>::of(sections);
  std::optional<symbol_table<L>> dynsym;  // the table dynamic relocations name, read once

  // Resolves field `field` (0 value, 1 name, 2 namespace) of the entry at `entry_offset` in table `sec` of a
  // relocatable object.
  auto resolve_rel = [&](const section_ref<L>& sec, const d::section_relocations<L>& relocs,
                         std::span<const std::byte> data, std::uint64_t field_offset,
                         std::uint32_t entry) -> result<d::place> {
    d::place p;
    const auto hit = relocs.find(field_offset);
    if (!hit) {
      // No relocation: the assembler resolved it, so it is a null field (a namespace in older kernels) or an
      // offset within the same section (PREL32).
      const std::uint64_t raw = d::load_word<L>(data.data() + field_offset, width);
      if (raw == 0) return p;
      if (!out.prel32) {
        p.where = d::place::kind::absolute;
        p.offset = raw;
        return p;
      }
      p.where = d::place::kind::section;
      p.section = sec.index();
      p.offset = field_offset + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(raw)));
      return p;
    }
    const auto& [table, i] = *hit;
    const relocation r = (*table)[i];
    if (!symtab || table->symbol_table_index() != symtab->section())
      return with_detail(make_error(errc::export_field_unresolved, sec.index(), sec.offset() + field_offset), entry);
    ELFSIEVE_TRY(const auto sym, table->symbol_of(i, *symtab));
    std::int64_t addend = r.addend;
    if (!r.explicit_addend) {
      const std::uint64_t raw = d::load_word<L>(data.data() + field_offset, width);
      addend = width == 4 ? static_cast<std::int64_t>(static_cast<std::int32_t>(raw)) : static_cast<std::int64_t>(raw);
    }
    ELFSIEVE_TRY(const auto where, symtab->section_of(sym));
    p.symbol = sym.type() == elf::STT_SECTION ? 0 : sym.index().value;
    p.offset = sym.value() + static_cast<std::uint64_t>(addend);
    if (where.is_regular()) {
      p.where = d::place::kind::section;
      p.section = where.index;
    } else if (where.where == symbol_section::kind::absolute) {
      p.where = d::place::kind::absolute;
    } else {
      p.where = d::place::kind::undefined;
    }
    return p;
  };

  auto string_in_section = [&](const d::place& p, const section_ref<L>& sec, std::uint64_t field_file_offset,
                               std::uint32_t entry) -> result<std::string_view> {
    if (p.where != d::place::kind::section)
      return with_detail(make_error(errc::export_field_unresolved, sec.index(), field_file_offset), entry);
    ELFSIEVE_TRY(const auto target, sections.at(p.section));
    if (target.type() == elf::SHT_NOBITS)
      return with_detail(make_error(errc::export_string_bad, sec.index(), field_file_offset), entry);
    ELFSIEVE_TRY(const auto data, sections.data(target));
    auto s = d::c_string(data, p.offset);
    if (!s) return with_detail(make_error(errc::export_string_bad, sec.index(), field_file_offset), entry);
    return *s;
  };

  for (int gpl = 0; gpl < 2; ++gpl) {
    if (!tables.ksymtab[gpl]) continue;
    const auto& sec = *tables.ksymtab[gpl];
    ELFSIEVE_TRY(const auto data, sections.data(sec));
    if (data.size() % entry_size != 0)
      return with_detail(make_error(errc::export_table_size, sec.index(), sec.offset()), data.size());
    const auto count = static_cast<std::uint32_t>(data.size() / entry_size);

    std::optional<d::section_relocations<L>> relocs;
    if (!out.linked) {
      ELFSIEVE_TRY(auto r, d::section_relocations<L>::collect(sections, sec.index(), false, 0, data.size()));
      relocs = std::move(r);
    } else {
      ELFSIEVE_TRY(auto r, d::section_relocations<L>::collect(sections, sec.index(), true, sec.addr(),
                                                              sec.addr() + data.size()));
      relocs = std::move(r);
    }

    for (std::uint32_t e = 0; e < count; ++e) {
      kernel_export x;
      x.gpl_only = gpl == 1;
      x.entry = e;
      const std::uint64_t base = std::uint64_t{e} * entry_size;
      std::string_view strings[2];  // name, namespace
      for (unsigned field = 0; field < 3; ++field) {
        const std::uint64_t off = base + std::uint64_t{field} * width;
        const std::uint64_t file_off = sec.offset() + off;
        if (!out.linked) {
          ELFSIEVE_TRY(const auto p, resolve_rel(sec, *relocs, data, off, e));
          if (field == 0) {
            x.value_section = p.where == d::place::kind::section ? p.section : section_index{};
            x.value = p.offset;
            x.value_symbol = p.symbol;
            continue;
          }
          if (field == 2 && p.where == d::place::kind::none) continue;  // a null namespace
          ELFSIEVE_TRY(strings[field - 1], string_in_section(p, sec, file_off, e));
          continue;
        }
        // A linked image: the field holds an address (or an offset from the field's own address); a dynamic
        // relocation at that address supplies it instead when present.
        const std::uint64_t field_address = sec.addr() + off;
        std::uint64_t raw = d::load_word<L>(data.data() + off, width);
        std::uint64_t target = 0;
        if (out.prel32) {
          if (raw == 0 && field == 2) continue;
          target =
              field_address + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(raw)));
        } else {
          if (auto hit = relocs->find(field_address)) {
            const relocation r = (*hit->first)[hit->second];
            if (r.explicit_addend) raw = static_cast<std::uint64_t>(r.addend);
            if (r.symbol.value != 0 && hit->first->symbol_table_index().value != 0) {
              if (!dynsym || dynsym->section() != hit->first->symbol_table_index()) {
                ELFSIEVE_TRY(auto t, symbol_table<L>::create(sections, hit->first->symbol_table_index()));
                dynsym = std::move(t);
              }
              ELFSIEVE_TRY(const auto sym, hit->first->symbol_of(hit->second, *dynsym));
              raw += sym.value();
            }
          }
          if (raw == 0 && field == 2) continue;
          target = raw;
        }
        if (L::word_bytes == 4) target &= 0xffffffffu;
        if (field == 0) {
          x.value = target;
          continue;
        }
        auto at = addresses->at(target);
        if (!at) return with_detail(make_error(errc::export_field_unresolved, sec.index(), file_off), e);
        auto s = d::c_string(at->second, 0);
        if (!s) return with_detail(make_error(errc::export_string_bad, sec.index(), file_off), e);
        strings[field - 1] = *s;
      }
      x.name = strings[0];
      x.name_space = strings[1];
      out.exports.push_back(x);
    }

    // CRCs: the word at the same index of the matching __kcrctab section.
    if (tables.kcrctab[gpl]) {
      const auto& crcsec = *tables.kcrctab[gpl];
      ELFSIEVE_TRY(const auto crcs, sections.data(crcsec));
      if (crcs.size() < std::uint64_t{count} * 4)
        return with_detail(make_error(errc::export_crc_table_size, crcsec.index(), crcsec.offset()), crcs.size());
      std::optional<d::section_relocations<L>> crc_relocs;
      if (!out.linked) {
        ELFSIEVE_TRY(auto r, d::section_relocations<L>::collect(sections, crcsec.index(), false, 0, crcs.size()));
        crc_relocs = std::move(r);
      }
      out.has_crcs = true;
      auto first = out.exports.end() - count;
      for (std::uint32_t e = 0; e < count; ++e) {
        auto& x = first[e];
        const std::uint64_t off = std::uint64_t{e} * 4;
        std::uint64_t v = load<std::uint32_t, L::endianness>(crcs.data() + off);
        if (crc_relocs) {
          if (auto hit = crc_relocs->find(off)) {
            // Before 5.19: the word is filled by a relocation against the absolute __crc_<name>.
            const relocation r = (*hit->first)[hit->second];
            if (!symtab || hit->first->symbol_table_index() != symtab->section())
              return with_detail(make_error(errc::export_field_unresolved, crcsec.index(), crcsec.offset() + off), e);
            ELFSIEVE_TRY(const auto sym, hit->first->symbol_of(hit->second, *symtab));
            v = sym.value() + static_cast<std::uint64_t>(r.explicit_addend ? r.addend : static_cast<std::int64_t>(v));
          }
        }
        x.crc = static_cast<std::uint32_t>(v);
        x.has_crc = true;
      }
    }
  }

  // Labels (__ksymtab_<name> at its entry), and __crc_<name> absolute symbols where no CRC table was found.
  if (symtab) {
    std::vector<std::uint32_t> by_name;  // export positions sorted by name, for __crc_ symbols
    const bool want_crc_symbols = !out.has_crcs;
    if (want_crc_symbols) {
      by_name.resize(out.exports.size());
      for (std::uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
      std::sort(by_name.begin(), by_name.end(),
                [&](std::uint32_t a, std::uint32_t b) { return out.exports[a].name < out.exports[b].name; });
    }
    const std::uint32_t first_gpl =
        tables.ksymtab[0] ? static_cast<std::uint32_t>(tables.ksymtab[0]->size() / entry_size) : 0;
    for (auto sym : *symtab) {
      auto name = symtab->name(sym);
      if (!name) continue;
      if (out.linked && *name == "linux_banner") {
        if (auto at = addresses->at(sym.value())) {
          if (auto text = d::c_string(at->second, 0)) d::parse_release(*text, out.release_major, out.release_minor);
        }
        continue;
      }
      if (name->starts_with("__ksymtab_")) {
        auto where = symtab->section_of(sym);
        if (!where || !where->is_regular()) continue;
        for (int gpl = 0; gpl < 2; ++gpl) {
          if (!tables.ksymtab[gpl] || tables.ksymtab[gpl]->index() != where->index) continue;
          const std::uint64_t base = out.linked ? tables.ksymtab[gpl]->addr() : 0;
          if (sym.value() < base || (sym.value() - base) % entry_size != 0) continue;
          const std::uint64_t e = (sym.value() - base) / entry_size;
          const std::uint64_t pos = (gpl == 0 ? 0 : first_gpl) + e;
          if (e >= tables.ksymtab[gpl]->size() / entry_size || pos >= out.exports.size()) continue;
          auto& x = out.exports[static_cast<std::size_t>(pos)];
          if (x.label == no_label && name->substr(10) == x.name) x.label = sym.index().value;
        }
      } else if (want_crc_symbols && name->starts_with("__crc_")) {
        auto where = symtab->section_of(sym);
        if (!where || where->where != symbol_section::kind::absolute) continue;
        const auto wanted = name->substr(6);
        auto it = std::lower_bound(by_name.begin(), by_name.end(), wanted,
                                   [&](std::uint32_t i, std::string_view n) { return out.exports[i].name < n; });
        for (; it != by_name.end() && out.exports[*it].name == wanted; ++it) {
          auto& x = out.exports[*it];
          if (x.has_crc) continue;
          x.crc = static_cast<std::uint32_t>(sym.value());
          x.has_crc = true;
          out.has_crcs = true;
        }
      }
    }
  }
  return out;
}

}  // namespace elfsieve::kernel
