// System.map straight from a vmlinux: what `nm -n vmlinux | <scripts/mksysmap's filter>` prints, without running
// either. GNU nm's letters and order come from the library's nm (analysis/nm_type.hpp, analysis/nm_listing.hpp);
// the filter is the kernel version's:
//   6.1:  scripts/mksysmap is `$NM -n $1 | grep -v -e ' [aNUw] ' -e ' \$' -e ' \.L' -e ' __crc_' -e ' __kstrtab_'
//         -e ' __kstrtabns_' -e ' L0$'`;
//   6.12: scripts/mksysmap is a sed script: the same plus the arm64/lld/CFI/ppc names scripts/kallsyms used to drop.
// Both match the whole printed line "ADDRESS T NAME". The address (hex digits, or spaces for an undefined symbol)
// holds no space a pattern could start at other than the one before the type letter, so matching " T NAME" is
// the same as matching the line.
// Kbuild runs nm with LC_COLLATE=C (the top Makefile exports it): names tie-break with strcmp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/analysis/nm_listing.hpp"
#include "elfsieve/analysis/nm_type.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel {

// One line of System.map.
struct map_entry {
  std::uint64_t address = 0;  // 0 for an undefined symbol (nm prints spaces)
  char type = '?';            // nm's letter
  std::uint32_t symbol = 0;   // its number in .symtab: nm's last tie-break (0 in a map made by hand)
  std::string_view name;      // into the mapped image
};

// A filtered `nm -n` listing. Kept between files, so its array is allocated once.
struct system_map {
  std::vector<map_entry> entries;
  bool is64 = false;  // ELFCLASS64: nm prints 16 hex digits, else 8
};

// The letters GNU nm prints without a value (bfd_is_undefined_symclass).
[[nodiscard]] constexpr bool map_undefined_letter(char type) noexcept {
  return type == 'U' || type == 'w' || type == 'v';
}

namespace detail {

[[nodiscard]] constexpr bool map_starts_with(std::string_view s, std::size_t at, std::string_view prefix) noexcept {
  return s.size() >= at && s.substr(at, prefix.size()) == prefix;
}

[[nodiscard]] constexpr bool ascii_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// 6.1's grep -v patterns that start with a space, without it, tried at each space of " T NAME" (then `tail` is
// what follows that space). ' [aNUw] ' is handled by the caller for the type letter; a name can hold it too.
[[nodiscard]] constexpr bool v6_1_drops_after_space(std::string_view tail) noexcept {
  if (tail.empty()) return false;
  switch (tail[0]) {  // every pattern's first character, so that most names cost one comparison
    case 'a':
    case 'N':
    case 'U':
    case 'w': return tail.size() >= 2 && tail[1] == ' ';
    case '$': return true;
    case '.': return tail.size() >= 2 && tail[1] == 'L';
    case '_':  // "__c" or "__k" first
      if (tail.size() < 6 || tail[1] != '_' || (tail[2] != 'c' && tail[2] != 'k')) return false;
      return map_starts_with(tail, 0, "__crc_") || map_starts_with(tail, 0, "__kstrtab_") ||
             map_starts_with(tail, 0, "__kstrtabns_");
    case 'L': return tail == "L0";
    default: return false;
  }
}

// 6.12's sed patterns that start with a space (the same convention).
[[nodiscard]] constexpr bool v6_12_drops_after_space(std::string_view tail) noexcept {
  if (v6_1_drops_after_space(tail)) return true;
  if (tail.size() < 2 || tail[0] != '_') return false;  // the rest all start with '_', most with "__"
  constexpr std::string_view prefixes[] = {"__efistub_",
                                           "__pi_$",
                                           "__pi_.L",
                                           "__kvm_nvhe_$",
                                           "__kvm_nvhe_.L",
                                           "__kcfi_typeid_",
                                           "__kvm_nvhe___kcfi_typeid_",
                                           "__pi___kcfi_typeid_"};
  for (std::string_view p : prefixes)
    if (map_starts_with(tail, 0, p)) return true;
  if (tail == "_SDA_BASE_" || tail == "_SDA2_BASE_") return true;
  // ' __[[:alnum:]]*Thunk_': "__", a run of letters and digits that ends in "Thunk", then '_' (the run cannot go on
  // past "Thunk" because '_' is no alnum, so it must end exactly there).
  if (!map_starts_with(tail, 0, "__")) return false;
  std::size_t end = 2;
  while (end < tail.size() && ascii_alnum(tail[end])) ++end;
  return end >= 2 + 5 && end < tail.size() && tail[end] == '_' && tail.substr(end - 5, 5) == "Thunk";
}

// 6.12's patterns that need no space: suffixes of the line and substrings of it.
[[nodiscard]] constexpr bool v6_12_drops_anywhere(std::string_view name) noexcept {
  constexpr std::string_view suffixes[] = {"_from_arm", "_from_thumb", "_veneer"};
  if (!name.empty() && (name.back() == 'm' || name.back() == 'b' || name.back() == 'r'))
    for (std::string_view s : suffixes)
      if (name.size() >= s.size() && name.substr(name.size() - s.size()) == s) return true;
  // The address holds no '.', and " T " cannot start either pattern.
  const std::size_t dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  return name.find(".long_branch.", dot) != std::string_view::npos ||
         name.find(".plt_branch.", dot) != std::string_view::npos;
}

}  // namespace detail

// Does scripts/mksysmap of `version` drop the line nm prints for this symbol?
[[nodiscard]] constexpr bool mksysmap_drops(char type, std::string_view name,
                                            kallsyms::kernel_version version) noexcept {
  if (type == 'a' || type == 'N' || type == 'U' || type == 'w') return true;
  const bool v6_12 = version == kallsyms::kernel_version::v6_12;
  // The spaces of " T NAME": the one before the letter (patterns there would need the letter to be '$', '.', '_' or
  // 'L', which nm never prints, but the rule costs nothing), the one before the name, and any inside the name.
  const char line_head[2] = {type, ' '};
  const std::string_view head(line_head, 2);
  auto drops_after_space = [&](std::string_view tail) {
    return v6_12 ? detail::v6_12_drops_after_space(tail) : detail::v6_1_drops_after_space(tail);
  };
  // After the first space the tail is "T NAME": only the two-character head can be tested without copying; every
  // pattern longer than that would need the letter to be '_', '$', '.' or 'L'.
  if (drops_after_space(head)) return true;
  if (drops_after_space(name)) return true;
  for (std::size_t at = name.find(' '); at != std::string_view::npos; at = name.find(' ', at + 1))
    if (drops_after_space(name.substr(at + 1))) return true;
  return v6_12 && detail::v6_12_drops_anywhere(name);
}

namespace detail {

// GNU nm -n's order (nm.c numeric_forward): undefined symbols first, by name; then by value, equal values by name
// (strcmp: kbuild runs nm with LC_COLLATE=C; the empty name first), then symbol-table order. Sorts the lines
// themselves: no second array.
inline void sort_map_entries(std::span<map_entry> entries) {
  // A name is a view of a NUL-terminated string without a NUL inside: compare() orders as strcmp does.
  auto by_name = [](const map_entry& a, const map_entry& b) {
    const int c = a.name.compare(b.name);
    return c != 0 ? c < 0 : a.symbol < b.symbol;
  };
  const auto defined =
      std::partition(entries.begin(), entries.end(), [](const map_entry& e) { return map_undefined_letter(e.type); });
  std::sort(entries.begin(), defined, by_name);
  const std::span<map_entry> values(defined, entries.end());
  elfsieve::detail::radix_sort_by(values.data(), values.size(), 56,
                                  [](const map_entry& e) noexcept { return e.address; });
  for (auto run = values.begin(); run != values.end();) {
    auto end = run + 1;
    while (end != values.end() && end->address == run->address) ++end;
    if (end - run > 1) std::sort(run, end, by_name);
    run = end;
  }
}

template <elf_layout L>
result<void> read_system_map_file(const file<L>& f, kallsyms::kernel_version version, system_map& out) {
  out.is64 = L::is64;
  out.entries.clear();
  // What GNU nm does not list is not an error of ours: refusing the file is ("file format not recognized").
  if (f.type() == elf::ET_CORE) return make_error(errc::nm_unrecognized_format);
  ELFSIEVE_TRY(const section_table<L> table, f.sections());
  const auto names = table.names_status();
  if (elfsieve::detail::bfd_refuses(f, table)) return make_error(errc::nm_unrecognized_format);
  if (!names && names.error().code == errc::bad_shstrndx) return {};  // nm: "no symbols"
  if (!table.find_type(elf::SHT_SYMTAB)) return {};                   // nm: "no symbols"
  ELFSIEVE_TRY(const symbol_table<L> symtab, symbol_table<L>::find(table, elf::SHT_SYMTAB));
  if (symtab.size() <= 1) return {};
  const auto classifier = nm_classifier<L>::create(f, table);
  const nm_filter shown{};
  std::vector<map_entry>& entries = out.entries;
  entries.reserve(symtab.size());
  for (auto s : symtab) {
    if (s.index().value == 0) continue;
    if (s.raw_shndx() == elf::SHN_XINDEX) {
      auto where = symtab.section_of(s);
      if (!where && where.error().code == errc::missing_symtab_shndx) {
        out.entries.clear();
        return where.error();
      }
    }
    const nm_symbol info = classifier.classify(symtab, s);
    if (!nm_shows(info, shown)) continue;
    const std::string_view name = classifier.name(symtab, s);
    if (is_special_symbol(f.machine(), name)) continue;
    if (mksysmap_drops(info.type, name, version)) continue;
    entries.push_back({info.value, info.type, s.index().value, name});
  }
  sort_map_entries(entries);
  return {};
}

}  // namespace detail

// `nm -n | mksysmap` of one ELF file (its .symtab), filtered by `version`'s rules, into `out` (cleared first). A file
// GNU nm lists as "no symbols" gives an empty map; one it refuses gives errc::nm_unrecognized_format. Names point
// into the file's bytes.
template <elf_layout L>
result<void> read_system_map(const file<L>& f, kallsyms::kernel_version version, system_map& out) {
  return detail::read_system_map_file(f, version, out);
}

inline result<void> read_system_map(std::span<const std::byte> image, kallsyms::kernel_version version,
                                    system_map& out) {
  out.entries.clear();
  auto r = visit(image, [&](const auto& f) { return read_system_map(f, version, out); });
  if (!r) return r.error();
  return {};
}

// The text: "%0*llx %c %s\n" per entry (8 or 16 digits), spaces in place of an undefined symbol's value.
inline void append_system_map(const system_map& map, std::string& out) {
  const int width = map.is64 ? 16 : 8;
  std::size_t bytes = 0;
  for (const map_entry& e : map.entries) bytes += e.name.size() + 4 + static_cast<std::size_t>(width);
  out.reserve(out.size() + bytes);
  for (const map_entry& e : map.entries) {
    if (map_undefined_letter(e.type)) out.append(static_cast<std::size_t>(width), ' ');
    else append_nm_value(out, e.address, width, 16);
    out.push_back(' ');
    out.push_back(e.type);
    out.push_back(' ');
    out.append(e.name);
    out.push_back('\n');
  }
}

}  // namespace elfsieve::kernel
