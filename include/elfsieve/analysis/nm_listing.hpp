// GNU nm 2.40's listing (binutils nm.c): which symbols it shows (filter_symbols and the special-symbol rule), in
// which order (non_numeric_forward, numeric_forward and their reverses), and the version suffix of a dynamic
// symbol (print_symname). list_nm_symbols applies all of it to one file; a tool only formats the lines.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbol_versions.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/analysis/nm_type.hpp"
#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/analysis/reloc_index.hpp"

namespace elfsieve {

// The options nm.c filter_symbols reads.
struct nm_filter {
  bool debug_syms = false;      // -a: section and file symbols too
  bool extern_only = false;     // -g
  bool undefined_only = false;  // -u
  bool defined_only = false;    // --defined-only
  bool no_weak = false;         // -W
  bool special_syms = false;    // --special-syms: ARM and AArch64 mapping symbols too
  bool file_symbols = false;    // file symbols are shown without -a (elfsieve-nm --policy: debug is about them)
};

// nm.c filter_symbols: does nm show this symbol?
[[nodiscard]] constexpr bool nm_shows(const nm_symbol& s, const nm_filter& f) noexcept {
  const bool undefined = s.place == nm_place::undefined;
  bool shown = true;
  if (f.undefined_only) shown = undefined;
  else if (f.extern_only)
    shown = s.has(nm_flags::global | nm_flags::weak | nm_flags::gnu_unique) || undefined || s.place == nm_place::common;
  else if (f.no_weak) shown = !s.has(nm_flags::weak);
  if (shown && !f.debug_syms && s.has(nm_flags::debugging) && !(f.file_symbols && s.has(nm_flags::file_sym)))
    shown = false;
  return shown && !(f.defined_only && undefined);
}

// ARM and AArch64 mapping and tag symbols ($a, $t, $d, $x, ...), which nm hides unless --special-syms
// (bfd/cpu-arm.c, bfd/cpu-aarch64.c).
[[nodiscard]] constexpr bool is_special_symbol(std::uint16_t machine, std::string_view name) noexcept {
  if (name.size() < 2 || name[0] != '$') return false;
  if (name.size() > 2 && name[2] != '.') return false;
  const char kind = name[1];
  switch (machine) {
    case elf::EM_ARM: return kind >= 'a' && kind <= 'z';
    case elf::EM_AARCH64: return kind == 'x' || kind == 'd' || kind == 'm' || kind == 'f' || kind == 'p';
    default: return false;
  }
}

[[nodiscard]] inline bool is_special_symbol(std::uint16_t machine, const char* name) noexcept {
  if (machine != elf::EM_ARM && machine != elf::EM_AARCH64) return false;
  return is_special_symbol(machine, std::string_view(name));
}

// One symbol of a listing as a tool reads it (nm_listing::entry expands a row into one).
struct nm_entry {
  std::string_view name;  // what nm sorts by: the whole name, "@VERSION" of a .symtab name included
  nm_symbol info;
  std::uint64_t size = 0;  // st_size; 0 for section symbols
  symbol_index index{0};
  std::string_view printed_name;       // name, cut at the first '@' without --with-symbol-versions
  std::string_view version_separator;  // "@", "@@" or empty: what print_symname puts between name and version
  std::string_view version;            // the version name, "<corrupt>" when the version data is bad
  std::string_view why;                // elfsieve-nm --why: the part of the policy that matched
};

// One symbol of a listing as it is kept and sorted: 24 bytes, so that a listing of a vmlinux costs about as much
// memory as its symbol table. The rest of an nm_entry is read back from the file when the row is printed.
struct nm_row {
  std::uint64_t value = 0;  // nm_symbol::value
  const char* name = "";    // NUL-terminated, in the file's string table (or a static string)
  symbol_index index{0};
  std::uint16_t flags = 0;
  nm_place place = nm_place::undefined;
  char type = '?';

  [[nodiscard]] constexpr nm_symbol info() const noexcept { return nm_symbol{value, flags, place, type}; }
};
static_assert(sizeof(nm_row) == 24 || sizeof(void*) != 8);

// nm.c non_numeric_forward: empty names first, then strcmp (strcoll outside the C locale). Both names are
// NUL-terminated.
[[nodiscard]] inline int nm_compare_names(const char* x, const char* y, bool use_strcoll) noexcept {
  if (*y == 0) return *x == 0 ? 0 : 1;
  if (*x == 0) return -1;
  const int c = use_strcoll ? std::strcoll(x, y) : std::strcmp(x, y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// nm.c numeric_forward: undefined symbols first, then by value, then by name.
[[nodiscard]] inline int nm_compare_values(const nm_row& x, const nm_row& y, bool use_strcoll) noexcept {
  const bool xu = x.place == nm_place::undefined;
  const bool yu = y.place == nm_place::undefined;
  if (xu != yu) return xu ? -1 : 1;
  if (!xu && x.value != y.value) return x.value < y.value ? -1 : 1;
  return nm_compare_names(x.name, y.name, use_strcoll);
}

enum class nm_sort : std::uint8_t { by_name, by_value, none };  // default, -n, -p

struct nm_order {
  nm_sort sort = nm_sort::by_name;
  bool reverse = false;      // -r
  bool use_strcoll = false;  // LC_COLLATE is neither C nor POSIX
};

namespace detail {

// The sorts below need no stability and no second array of rows: the symbol index ends every tie, so any correct
// sort of (key, name, index) gives nm's order, and rows are permuted in place (a listing of a vmlinux then costs
// its rows and a small array of name keys; no more memory than eu-nm's whole process).

// In-place most-significant-digit radix sort (American flag sort) of rows[0, n) on the 64-bit key `key(row)`, one
// byte at a time from `shift` down, skipping the bytes in which the keys do not differ; parts too small to repay a
// 256-bucket pass by comparisons.
template <class Row, class Key>
void radix_sort_by(Row* rows, std::size_t n, unsigned shift, const Key& key) {
  while (true) {
    if (n < 384) {
      std::sort(rows, rows + n, [&key](const Row& a, const Row& b) { return key(a) < key(b); });
      return;
    }
    std::uint64_t differs = 0;
    for (std::size_t i = 1; i < n; ++i) differs |= key(rows[i]) ^ key(rows[0]);
    differs &= shift >= 56 ? ~std::uint64_t{0} : (std::uint64_t{1} << (shift + 8)) - 1;
    if (differs == 0) return;
    shift = static_cast<unsigned>(63 - std::countl_zero(differs)) / 8 * 8;
    std::array<std::size_t, 257> start{};
    for (std::size_t i = 0; i < n; ++i) ++start[((key(rows[i]) >> shift) & 0xff) + 1];
    for (std::size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    std::array<std::size_t, 256> next{};
    std::copy(start.begin(), start.end() - 1, next.begin());
    for (std::size_t d = 0; d < 256; ++d) {  // swap every row into its bucket
      while (next[d] < start[d + 1]) {
        Row r = rows[next[d]];
        std::size_t home = (key(r) >> shift) & 0xff;
        while (home != d) {
          std::swap(r, rows[next[home]++]);
          home = (key(r) >> shift) & 0xff;
        }
        rows[next[d]++] = r;
      }
    }
    if (shift == 0) return;
    // Recurse into every bucket but the largest, which the loop takes (bounded stack depth: at most 8 levels).
    std::size_t largest = 0;
    for (std::size_t d = 1; d < 256; ++d)
      if (start[d + 1] - start[d] > start[largest + 1] - start[largest]) largest = d;
    for (std::size_t d = 0; d < 256; ++d)
      if (d != largest && start[d + 1] - start[d] > 1)
        radix_sort_by(rows + start[d], start[d + 1] - start[d], shift - 8, key);
    rows += start[largest];
    n = start[largest + 1] - start[largest];
    shift -= 8;
  }
}

inline void radix_sort_values(nm_row* rows, std::size_t n, unsigned shift) {
  radix_sort_by(rows, n, shift, [](const nm_row& r) noexcept { return r.value; });
}

// A name key: an 8-byte big-endian prefix of the name (its bytes up to the NUL, zero after) from `skip` on, and the
// row's place. Most comparisons are then one integer comparison instead of a strcmp that misses the cache.
struct nm_name_key {
  std::uint64_t prefix;
  std::uint32_t position;
  symbol_index index;
};
[[nodiscard]] inline std::uint64_t nm_name_prefix(const char* name) noexcept {
  std::uint64_t p = 0;
  unsigned i = 0;
  for (; i < 8 && name[i] != 0; ++i) p = (p << 8) | static_cast<unsigned char>(name[i]);
  return i == 0 ? 0 : p << (8 * (8 - i));  // a shift by 64 would be undefined
}

// Puts rows[keys[i].position] at i for every i, in place (following each cycle of the permutation once).
inline void permute_rows(std::span<nm_row> rows, std::span<nm_name_key> keys) noexcept {
  constexpr std::uint32_t done = 0xffffffffu;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (keys[i].position == done || keys[i].position == i) continue;
    const nm_row first = rows[i];
    std::size_t at = i;
    while (keys[at].position != i) {
      const std::size_t from = keys[at].position;
      rows[at] = rows[from];
      keys[at].position = done;
      at = from;
    }
    rows[at] = first;
    keys[at].position = done;
  }
}

// rows by name (nm_compare_names), then table order; `keys` is scratch.
inline void sort_by_name(std::span<nm_row> rows, bool use_strcoll, std::vector<nm_name_key>& keys) {
  if (rows.size() < 2) return;
  if (use_strcoll || rows.size() >= 0xffffffffu) {
    std::sort(rows.begin(), rows.end(), [use_strcoll](const nm_row& a, const nm_row& b) {
      const int c = nm_compare_names(a.name, b.name, use_strcoll);
      return c != 0 ? c < 0 : a.index < b.index;
    });
    return;
  }
  // The keys start after the bytes every name shares (the run of 9,370 `__kstrtabns_` labels at one address of a
  // kernel). An empty name has prefix 0, below every other: nm_compare_names' "empty first" holds too.
  std::size_t skip = std::strlen(rows[0].name);
  for (std::size_t i = 1; i < rows.size() && skip != 0; ++i) {
    std::size_t same = 0;
    while (same < skip && rows[i].name[same] == rows[0].name[same]) ++same;
    skip = same;
  }
  keys.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    keys[i] = {nm_name_prefix(rows[i].name + skip), static_cast<std::uint32_t>(i), rows[i].index};
  std::sort(keys.begin(), keys.end(), [&rows, skip](const nm_name_key& a, const nm_name_key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    // Equal prefixes: equal names if they end within the prefix (its last byte is 0), else the rest decides.
    if ((a.prefix & 0xff) != 0) {
      const int c = std::strcmp(rows[a.position].name + skip + 8, rows[b.position].name + skip + 8);
      if (c != 0) return c < 0;
    }
    return a.index < b.index;
  });
  permute_rows(rows, keys);
}

// -n: undefined symbols first, by name; then the others by value, equal values by name; table order last.
inline void sort_by_value(std::span<nm_row> rows, bool use_strcoll, std::vector<nm_name_key>& keys) {
  const auto defined =
      std::partition(rows.begin(), rows.end(), [](const nm_row& r) { return r.place == nm_place::undefined; });
  const auto undefined_count = static_cast<std::size_t>(defined - rows.begin());
  sort_by_name(rows.first(undefined_count), use_strcoll, keys);
  const std::span<nm_row> values = rows.subspan(undefined_count);
  radix_sort_values(values.data(), values.size(), 56);
  for (std::size_t i = 0; i < values.size();) {
    std::size_t j = i + 1;
    while (j < values.size() && values[j].value == values[i].value) ++j;
    if (j - i > 1) sort_by_name(values.subspan(i, j - i), use_strcoll, keys);
    i = j;
  }
}

}  // namespace detail

// Scratch memory of sort_nm_rows, kept between files.
struct nm_sort_scratch {
  std::vector<detail::nm_name_key> keys;
};

// GNU nm's orders. glibc's qsort is a stable merge sort for these sizes, so rows whose keys compare equal keep
// symbol-table order, reversed or not.
inline void sort_nm_rows(std::span<nm_row> rows, const nm_order& order, nm_sort_scratch& scratch) {
  if (order.sort == nm_sort::none || rows.size() < 2) return;
  const bool by_value = order.sort == nm_sort::by_value;
  if (by_value) detail::sort_by_value(rows, order.use_strcoll, scratch.keys);
  else detail::sort_by_name(rows, order.use_strcoll, scratch.keys);
  if (!order.reverse) return;
  // Reversed: the whole order backwards, then each run of equal keys forwards again (table order).
  auto compare = [&](const nm_row& a, const nm_row& b) noexcept {
    return by_value ? nm_compare_values(a, b, order.use_strcoll) : nm_compare_names(a.name, b.name, order.use_strcoll);
  };
  std::reverse(rows.begin(), rows.end());
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i + 1;
    while (j < rows.size() && compare(rows[i], rows[j]) == 0) ++j;
    std::reverse(rows.begin() + static_cast<std::ptrdiff_t>(i), rows.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
  }
}

struct nm_version_suffix {
  std::string_view separator;  // "@" (hidden, or needed from another object), "@@" (the default version), or none
  std::string_view version;
};

// nm.c print_symname for a dynamic symbol with --with-symbol-versions: nothing for the base versions and for a
// version's own definition symbol, "@<corrupt>" / "@@<corrupt>" when the version data is bad.
template <elf_layout L>
[[nodiscard]] nm_version_suffix nm_version_of(const symbol_versions<L>& versions, const nm_row& r) noexcept {
  if (versions.empty() || (r.flags & nm_flags::section_sym) != 0) return {};
  const bool undefined = r.place == nm_place::undefined;
  auto v = versions.get(r.index);
  if (!v) return {undefined ? "@" : "@@", "<corrupt>"};
  if (v->name.empty() || (v->defined && v->name == std::string_view(r.name))) return {};
  const bool hidden = v->hidden || !v->defined;
  return {hidden || undefined ? "@" : "@@", v->name};
}

// nm.c print_value: `value` in radix 16 or 8 zero-padded to `width` digits (every digit when it has more), or in
// radix 10 as a signed number (PRId64), written at `out`, which has room for nm_value_room bytes; returns the end.
inline constexpr std::size_t nm_value_room = 32;
inline char* write_nm_value(char* out, std::uint64_t value, int width, int radix) noexcept {
  if (radix == 16 && width == 16) {  // every 64-bit value: two digits per byte, from a table
    static constexpr auto pairs = [] {
      std::array<char, 512> t{};
      for (std::size_t i = 0; i < 256; ++i) {
        t[2 * i] = "0123456789abcdef"[i >> 4];
        t[2 * i + 1] = "0123456789abcdef"[i & 15];
      }
      return t;
    }();
    for (std::size_t i = 0; i < 8; ++i) std::memcpy(out + 2 * i, &pairs[2 * ((value >> (56 - 8 * i)) & 0xff)], 2);
    return out + 16;
  }
  if (radix == 10) {
    const int n = std::snprintf(out, nm_value_room, "%0*lld", std::min(width, 24), static_cast<long long>(value));
    return out + (n > 0 ? std::min(static_cast<std::size_t>(n), nm_value_room - 1) : 0);
  }
  const unsigned shift = radix == 8 ? 3u : 4u;
  const std::uint64_t mask = radix == 8 ? 7u : 15u;
  char digits[24];
  std::size_t n = 0;
  do {
    digits[sizeof digits - ++n] = "0123456789abcdef"[value & mask];
    value >>= shift;
  } while (value != 0);
  const std::size_t padded = width > 0 ? std::min(static_cast<std::size_t>(width), sizeof digits) : 0;
  while (n < padded) digits[sizeof digits - ++n] = '0';
  std::memcpy(out, digits + sizeof digits - n, n);
  return out + n;
}

inline void append_nm_value(std::string& out, std::uint64_t value, int width, int radix) {
  char text[nm_value_room];
  out.append(text, write_nm_value(text, value, width, radix));
}

struct nm_options {
  nm_filter filter;
  nm_order order;
  bool dynamic = false;                 // -D: .dynsym instead of .symtab
  bool with_versions = true;            // --with-symbol-versions (default) / --without-symbol-versions
  const policy_expr* policy = nullptr;  // elfsieve-nm --policy: only the symbols it matches (never section symbols)
  bool why = false;                     // --why: fill nm_entry::why
};

struct nm_listing;
namespace detail {
template <elf_layout L>
void list_nm_file(const file<L>& f, const nm_options& options, nm_listing& out);
}  // namespace detail

// The symbols GNU nm lists for one file, in its order. A listing is reused between files, so its arrays are
// allocated once; its rows point into the file's bytes (and the policy's text) and live as long as both.
struct nm_listing {
  enum class status : std::uint8_t {
    listed,            // rows holds the symbols to print (maybe none)
    unrecognized,      // not ELF, or no readable section table: "file format not recognized"
    no_symbols,        // no symbol table, or only the null symbol
    bad_symbol_table,  // the symbol table is malformed
  };
  status state = status::listed;
  bool is64 = false;                       // ELFCLASS64: values print with 16 digits
  bool corrupt_shstrndx = false;           // e_shstrndx out of range: GNU nm warns and lists without names
  std::optional<error> relocations_error;  // the policy needs the relocation index and it could not be built
  std::vector<nm_row> rows;                // in nm's order

  // An empty listing; the arrays keep their memory for the next file.
  void clear() noexcept {
    state = status::listed;
    corrupt_shstrndx = false;
    relocations_error.reset();
    rows.clear();
    symbols_ = nullptr;
    read_size_ = nullptr;
    cut_versions_ = false;
    versions_.clear();
    why_.clear();
  }

  // A row's parts that it does not hold, read back from the file (or kept aside for the rare options).
  [[nodiscard]] std::uint64_t size(const nm_row& r) const noexcept {  // st_size; 0 for section symbols
    return (r.flags & nm_flags::section_sym) != 0 || read_size_ == nullptr ? 0 : read_size_(symbols_, r.index.value);
  }
  [[nodiscard]] std::string_view printed_name(std::string_view name) const noexcept {
    return cut_versions_ ? name.substr(0, name.find('@')) : name;
  }
  [[nodiscard]] nm_version_suffix version(const nm_row& r) const noexcept {
    return versions_.empty() ? nm_version_suffix{} : versions_[r.index.value];
  }
  [[nodiscard]] std::string_view why(const nm_row& r) const noexcept {
    return why_.empty() ? std::string_view{} : why_[r.index.value];
  }

  // The whole entry of a row of this listing.
  [[nodiscard]] nm_entry entry(const nm_row& r) const noexcept {
    nm_entry e;
    e.name = r.name;
    e.info = r.info();
    e.index = r.index;
    e.size = size(r);
    e.printed_name = printed_name(e.name);
    const nm_version_suffix v = version(r);
    e.version_separator = v.separator;
    e.version = v.version;
    e.why = why(r);
    return e;
  }

 private:
  template <elf_layout L>
  friend void detail::list_nm_file(const file<L>&, const nm_options&, nm_listing&);
  template <elf_layout L>
  static std::uint64_t size_of(const void* symbols, std::uint32_t index) noexcept {
    return static_cast<const typename L::sym*>(symbols)[index].st_size.value();
  }

  nm_sort_scratch scratch_;        // the sort's scratch
  const void* symbols_ = nullptr;  // the symbol records, for st_size
  std::uint64_t (*read_size_)(const void*, std::uint32_t) noexcept = nullptr;
  bool cut_versions_ = false;                // --without-symbol-versions
  std::vector<nm_version_suffix> versions_;  // by symbol index, with -D and versions
  std::vector<std::string_view> why_;        // by symbol index, with --why
};

namespace detail {

// Whether BFD (binutils 2.40 elf_object_p and bfd_section_from_shdr) refuses to open the file as an object, so that
// GNU nm says "file format not recognized" and exits 1: a core file; PN_XNUM or an SHN_XINDEX e_shstrndx without
// section headers; an unreadable program header table; a section whose name cannot be read; a REL/RELA, RELR,
// symbol table or group with the wrong sh_entsize; a relocation section whose sh_link or sh_info is out of range;
// a symbol table whose sh_link is out of range or that is shorter than sh_info entries; a group with no member or
// a member index 0 (one out of range is only a warning). Checks that need bytes stay inside the file.
template <elf_layout L>
[[nodiscard]] bool bfd_refuses(const file<L>& f, const section_table<L>& sections) noexcept {
  const auto& h = f.header();
  const bool no_section_headers = h.e_shoff.value() == 0;
  if (no_section_headers && (h.e_phnum.value() == elf::PN_XNUM || h.e_shstrndx.value() == elf::SHN_XINDEX)) return true;
  if (h.e_phentsize.value() == sizeof(typename L::phdr) && !f.program_headers()) return true;
  const std::uint64_t count = sections.size();
  // An e_shstrndx out of range or naming a section that is no SHT_STRTAB only costs BFD the names (a warning); a
  // name it cannot read from a string table (empty, unterminated, offset past its end) is fatal.
  const auto names = sections.names_status();
  const bool names_lost =
      !names && (names.error().code == errc::bad_shstrndx || names.error().code == errc::not_a_string_table);
  for (auto s : sections) {
    if (s.index().value == 0) continue;
    if (s.name_offset() != 0 && !names_lost && !sections.name(s)) return true;
    switch (s.type()) {
      case elf::SHT_REL:
      case elf::SHT_RELA: {
        const std::uint64_t record = s.type() == elf::SHT_REL ? sizeof(typename L::rel) : sizeof(typename L::rela);
        if (s.entsize() != record || s.link() >= count || s.info() >= count) return true;
        break;
      }
      case elf::SHT_RELR:
        if (s.entsize() != sizeof(typename L::uword_t)) return true;
        break;
      case elf::SHT_SYMTAB:
      case elf::SHT_DYNSYM:
        if (s.entsize() != sizeof(typename L::sym) || s.link() >= count) return true;
        if (std::uint64_t{s.info()} * sizeof(typename L::sym) > s.size()) return true;
        break;
      case elf::SHT_GROUP: {
        if (s.entsize() != 4 || s.size() < 8) return true;
        auto words = sections.template records_unchecked_entsize<typename L::word>(s);
        if (!words) return true;
        for (std::size_t i = 1; i < words.value().size(); ++i) {
          const std::uint64_t member = words.value()[i].value();
          if (member == 0) return true;
        }
        break;
      }
      default: break;
    }
  }
  return false;
}

template <elf_layout L>
void list_nm_file(const file<L>& f, const nm_options& options, nm_listing& out) {
  out.is64 = L::is64;
  // BFD opens a core file as bfd_core, never as bfd_object: GNU nm says "file format not recognized" (exit 1).
  if (f.type() == elf::ET_CORE) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  auto sections = f.sections();
  if (!sections) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  const section_table<L>& table = sections.value();
  const auto names = table.names_status();
  out.corrupt_shstrndx = !names && names.error().code == errc::bad_shstrndx;
  if (bfd_refuses(f, table)) {
    out.state = nm_listing::status::unrecognized;
    return;
  }
  if (out.corrupt_shstrndx) {  // BFD warns and then reads no section header at all: "no symbols"
    out.state = nm_listing::status::no_symbols;
    return;
  }
  const std::uint32_t wanted = options.dynamic ? elf::SHT_DYNSYM : elf::SHT_SYMTAB;
  if (!table.find_type(wanted)) {
    out.state = nm_listing::status::no_symbols;
    return;
  }
  auto symbols = symbol_table<L>::find(table, wanted);
  if (!symbols) {
    out.state = nm_listing::status::bad_symbol_table;
    return;
  }
  const symbol_table<L>& symtab = symbols.value();
  if (symtab.size() <= 1) {
    out.state = nm_listing::status::no_symbols;
    return;
  }
  const auto classifier = nm_classifier<L>::create(f, table);
  // The index is O(relocations) but touches every relocation section: on a module with DWARF it triples the run
  // time, so it is built only for a policy that reads it.
  std::optional<reloc_index<L>> relocations;
  if (options.policy != nullptr && options.policy->needs_relocations()) {
    auto built = reloc_index<L>::build(table);
    if (built) relocations.emplace(std::move(built.value()));
    else out.relocations_error = built.error();
  }
  result<symbol_versions<L>> versions = symbol_versions<L>{};
  if (options.dynamic && options.with_versions) versions = symbol_versions<L>::create(table, symtab);

  out.symbols_ = symtab.records().data();
  out.read_size_ = &nm_listing::size_of<L>;
  out.cut_versions_ = !options.with_versions;
  const bool show_versions = options.dynamic && options.with_versions && versions && !versions.value().empty();
  if (show_versions) out.versions_.assign(symtab.size(), nm_version_suffix{});
  if (options.why) out.why_.assign(symtab.size(), std::string_view{});
  out.rows.reserve(symtab.size());
  for (auto s : symtab) {
    if (s.index().value == 0) continue;
    // BFD cannot read a symbol table with SHN_XINDEX entries but no SHT_SYMTAB_SHNDX: GNU nm fails (exit 1).
    if (s.raw_shndx() == elf::SHN_XINDEX) {
      auto where = symtab.section_of(s);
      if (!where && where.error().code == errc::missing_symtab_shndx) {
        out.rows.clear();
        out.state = nm_listing::status::bad_symbol_table;
        return;
      }
    }
    const nm_symbol info = classifier.classify(symtab, s);
    if (!nm_shows(info, options.filter)) continue;
    // Every name is NUL-terminated: it comes from a string table (which ends each one) or is a literal.
    const char* name = classifier.name_c_str(symtab, s);
    if (!options.filter.special_syms && is_special_symbol(f.machine(), name)) continue;
    const nm_row row{info.value, name, s.index(), info.flags, info.place, info.type};
    if (options.policy != nullptr) {
      // No policy is about section symbols (a writer keeps or drops them with their section); a symbol whose name
      // or section index is unreadable cannot be judged and is left out.
      if (s.type() == elf::STT_SECTION) continue;
      auto context = make_symbol_context(table, symtab, s, relocations ? &*relocations : nullptr);
      if (!context) continue;
      if (options.why) {
        const std::string_view why = options.policy->why(context.value());
        if (why.empty()) continue;
        out.why_[s.index().value] = why;
      } else if (!(*options.policy)(context.value())) {
        continue;
      }
    }
    if (show_versions) out.versions_[s.index().value] = nm_version_of(versions.value(), row);
    out.rows.push_back(row);
  }
  sort_nm_rows(out.rows, options.order, out.scratch_);
}

}  // namespace detail

// The symbols GNU nm lists for one file, in its order, in `out` (cleared first). Its rows point into `bytes` (and
// the policy's text): they live as long as both.
inline void list_nm_symbols(std::span<const std::byte> bytes, const nm_options& options, nm_listing& out) {
  out.clear();
  auto opened = visit(bytes, [&](const auto& f) { detail::list_nm_file(f, options, out); });
  if (!opened) out.state = nm_listing::status::unrecognized;
}

}  // namespace elfsieve
