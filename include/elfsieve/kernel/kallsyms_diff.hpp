// Two kallsyms link passes compared (.tmp_vmlinux.kallsyms1 and 2, or the last pass and the final vmlinux): would
// the tables generated from the second differ from those generated from the first, and if so, why.
//
// link-vmlinux.sh links vmlinux with the tables generated from the previous pass; the image is consistent when the
// symbols scripts/kallsyms keeps (the mksysmap-filtered `nm -n` listing, then is_ignored_symbol and, without
// --all-symbols, the text ranges) have the same addresses, types and order in both passes. The kernel only says
// "Inconsistent kallsyms data" (6.1 compares the System.map files with cmp; 6.12 compares `nm -n` of the two
// kallsyms objects). This says which symbol differs first, the section of the second pass it lives in, and the
// size change that moved it: a section before it that grew, or a symbol before it in the same section whose
// extent (the distance to the next label) changed, such as a kallsyms_* table.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/kernel/system_map.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/open.hpp"

namespace elfsieve::kernel::kallsyms {

// An allocated section of a pass, from its section header.
struct pass_section {
  std::string_view name;
  std::uint64_t address = 0;
  std::uint64_t size = 0;
  std::uint64_t file_offset = 0;
  bool has_bytes = false;  // not SHT_NOBITS
};

// One link pass: its System.map listing and its allocated sections. Names are views into the image's bytes,
// which must outlive it.
struct pass_image {
  system_map map;
  std::vector<pass_section> sections;  // SHF_ALLOC sections in section header order
  std::span<const std::byte> bytes;
  bool little_endian = true;
  std::optional<std::uint32_t> num_syms;  // the value at kallsyms_num_syms, when the pass has the tables
};

namespace detail {
[[nodiscard]] inline std::optional<std::uint32_t> read_num_syms(const pass_image& p) noexcept;
}

[[nodiscard]] inline result<void> read_pass(std::span<const std::byte> image, kernel_version version, pass_image& out) {
  out.sections.clear();
  out.bytes = image;
  ELFSIEVE_TRY_VOID(read_system_map(image, version, out.map));
  return visit(image, [&out](const auto& f) -> result<void> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    out.little_endian = L::endianness == std::endian::little;
    ELFSIEVE_TRY(const auto sections, f.sections());
    for (auto s : sections) {
      if (!s.has_flag(elf::SHF_ALLOC)) continue;
      ELFSIEVE_TRY(const std::string_view name, sections.name(s));
      out.sections.push_back({name, s.addr(), s.size(), s.offset(), s.type() != elf::SHT_NOBITS});
    }
    out.num_syms = detail::read_num_syms(out);
    return {};
  });
}
template <class Owner>
requires(std::is_rvalue_reference_v<Owner&&> && !std::ranges::borrowed_range<Owner> &&
         std::is_constructible_v<std::span<const std::byte>, Owner&&>) result<void> read_pass(Owner&&, kernel_version,
                                                                                              pass_image&)
= delete;

// What the caller knows about the build; the kept-symbol rule depends on --all-symbols, which is inferred from the
// second pass's kallsyms_num_syms when not given.
struct diff_options {
  kernel_version version = kernel_version::v6_1;
  std::optional<bool> all_symbols;
};

enum class difference : std::uint8_t {
  none,          // the kept symbols agree: no further pass
  moved,         // same name and type at this position, another address
  type_changed,  // same name and address, another nm type letter
  added,         // the symbol at this position of B is not kept in A at all
  removed,       // the symbol at this position of A is not kept in B at all
  reordered,     // both are kept in both passes, in another order
};

[[nodiscard]] constexpr const char* to_string(difference d) noexcept {
  switch (d) {
    case difference::none: return "none";
    case difference::moved: return "moved";
    case difference::type_changed: return "type changed";
    case difference::added: return "added";
    case difference::removed: return "removed";
    case difference::reordered: return "reordered";
  }
  return "?";
}

// A size that changed between the passes: a section's sh_size, or a symbol's extent (the distance from its label
// to the next higher label of the listing, at most to its section's end). Absent: not in that pass.
struct size_change {
  std::string_view name;
  bool is_section = false;
  std::optional<std::uint64_t> size_a, size_b;
};

// A kallsyms_* table's extent in each pass (absent: no such label, as in pass 1 of 6.1, where they are weak and
// undefined).
struct table_size {
  std::string_view name;
  std::optional<std::uint64_t> size_a, size_b;
};

struct pass_diff {
  bool another_pass_needed = false;
  bool all_symbols = true;                // the kept-symbol rule used
  bool all_symbols_inferred = false;      // not given: inferred
  bool num_syms_decided = false;          // ... from kallsyms_num_syms (else assumed, as the rule that keeps more)
  bool maps_identical = false;            // the whole System.map listings are equal (link-vmlinux.sh 6.1's cmp)
  std::string_view first_map_difference;  // else the first symbol where they differ
  std::size_t kept_a = 0, kept_b = 0;     // symbols scripts/kallsyms keeps from each pass
  std::size_t differing = 0;              // positions of the kept lists whose entries differ

  difference kind = difference::none;
  std::size_t position = 0;  // of the first difference in the kept lists (0-based)
  std::string_view symbol;   // the symbol there: B's, or A's when B's list is shorter or it was removed
  char type_a = 0, type_b = 0;
  std::optional<std::uint64_t> address_a, address_b;  // the symbol's address in each pass (its first occurrence
                                                      // from that position on, when it is elsewhere in the list)
  std::string_view section;          // the allocated section holding it (B's headers; A's for a removed symbol)
  bool section_moved = false;        // that section starts at another address in B
  std::vector<size_change> causes;   // size changes before the symbol: earlier sections, or earlier symbols of its
                                     // section, in address order (at most max_causes)
  std::size_t more_causes = 0;       // size changes not listed in causes
  std::string_view main_cause;       // the largest of them (a kallsyms table when one changed)
  std::size_t moved_after = 0;       // kept symbols from it on whose address changed (same name, same position)
  std::size_t moved_with_it = 0;     // of those, the ones that moved by the same amount
  std::size_t moved_in_section = 0;  // of those, in its section

  std::vector<table_size> tables;  // every kallsyms_* label of either pass
  bool is64 = true;

  static constexpr std::size_t max_causes = 12;
  [[nodiscard]] std::int64_t delta() const noexcept {
    if (!address_a || !address_b) return 0;
    return static_cast<std::int64_t>(*address_b - *address_a);
  }
};

namespace detail {

// scripts/kallsyms' is_ignored_symbol (after the mksysmap filter has run): 6.1 also ignores the kallsyms_* labels
// (pass 1 has none), ppc's _SDA_BASE_ and linker stubs by name; both ignore u/n types and absolute symbols but a
// few named ones.
[[nodiscard]] inline bool kallsyms_ignores(std::string_view name, char type, kernel_version version) noexcept {
  if (version == kernel_version::v6_1) {
    for (std::string_view table : table_names)
      if (name == table) return true;
    if (name == "_SDA_BASE_" || name == "_SDA2_BASE_") return true;
    constexpr std::string_view prefixes[] = {
        "__efistub_",          "__kvm_nvhe_$",          "__kvm_nvhe_.L", "__AArch64ADRPThunk_", "__ARMV5PILongThunk_",
        "__ARMV7PILongThunk_", "__ThumbV7PILongThunk_", "__LA25Thunk_",  "__microLA25Thunk_",   "__kcfi_typeid_"};
    for (std::string_view p : prefixes)
      if (name.starts_with(p)) return true;
    for (std::string_view s : {"_from_arm", "_from_thumb", "_veneer"})
      if (name.ends_with(s)) return true;
    if (name.find(".long_branch.") != std::string_view::npos || name.find(".plt_branch.") != std::string_view::npos)
      return true;
    if (type == 'U' || type == 'N') return true;
  }
  if (type == 'u' || type == 'n') return true;
  if (type == 'A' || type == 'a')
    return name != "__kernel_syscall_via_break" && name != "__kernel_syscall_via_epc" && name != "__kernel_sigtramp" &&
           name != "__gp";
  return false;
}

// The positions of the listing's entries that scripts/kallsyms keeps (symbol_valid), in listing order.
[[nodiscard]] inline std::vector<std::uint32_t> kept_symbols(const system_map& map, kernel_version version,
                                                             bool all_symbols) {
  std::vector<std::uint32_t> kept;
  kept.reserve(map.entries.size());
  struct range {
    std::uint64_t start = ~std::uint64_t{0}, end = 0;  // as kallsyms.c: unset start never matches
  } text, inittext;
  for (std::uint32_t i = 0; i < map.entries.size(); ++i) {
    const map_entry& e = map.entries[i];
    if (kallsyms_ignores(e.name, e.type, version)) continue;
    if (e.name == "_stext") text.start = e.address;
    else if (e.name == "_etext") text.end = e.address;
    else if (e.name == "_sinittext") inittext.start = e.address;
    else if (e.name == "_einittext") inittext.end = e.address;
    kept.push_back(i);
  }
  if (all_symbols) return kept;
  std::erase_if(kept, [&](std::uint32_t i) {
    const map_entry& e = map.entries[i];
    if (version == kernel_version::v6_12 && (e.name.starts_with("__start_") || e.name.starts_with("__stop_")))
      return false;
    const bool in_text = (e.address >= text.start && e.address <= text.end) ||
                         (e.address >= inittext.start && e.address <= inittext.end);
    if (!in_text) return true;
    return (e.address == text.end && e.name != "_etext") || (e.address == inittext.end && e.name != "_einittext");
  });
  return kept;
}

// Positions (into `order`) sorted by the name of the entry they stand for, ties in position order.
[[nodiscard]] inline std::vector<std::uint32_t> by_name(const system_map& map,
                                                        const std::vector<std::uint32_t>& order) {
  std::vector<std::uint32_t> positions(order.size());
  for (std::uint32_t p = 0; p < positions.size(); ++p) positions[p] = p;
  std::stable_sort(positions.begin(), positions.end(), [&](std::uint32_t x, std::uint32_t y) {
    return map.entries[order[x]].name < map.entries[order[y]].name;
  });
  return positions;
}

inline constexpr std::size_t npos = ~std::size_t{0};

// The position in `order` of the entry called `name`: the first at or after `from`, else the first of all.
[[nodiscard]] inline std::size_t find_named(const system_map& map, const std::vector<std::uint32_t>& order,
                                            const std::vector<std::uint32_t>& named, std::string_view name,
                                            std::size_t from) {
  auto lo = std::lower_bound(named.begin(), named.end(), name,
                             [&](std::uint32_t p, std::string_view n) { return map.entries[order[p]].name < n; });
  std::size_t first = npos;
  for (auto it = lo; it != named.end() && map.entries[order[*it]].name == name; ++it) {
    if (first == npos) first = *it;
    if (*it >= from) return *it;
  }
  return first;
}

// The allocated section holding `address`: one whose bytes contain it, else one it ends (an end label).
[[nodiscard]] inline const pass_section* section_at(const pass_image& p, std::uint64_t address) noexcept {
  const pass_section* end_of = nullptr;
  for (const pass_section& s : p.sections) {
    if (s.size != 0 && address >= s.address && address - s.address < s.size) return &s;
    if (end_of == nullptr && address == s.address + s.size && s.size != 0) end_of = &s;
  }
  return end_of;
}

[[nodiscard]] inline const pass_section* section_named(const pass_image& p, std::string_view name) noexcept {
  for (const pass_section& s : p.sections)
    if (s.name == name) return &s;
  return nullptr;
}

// The extent of entry i: up to the next higher address of the listing, at most to the end of its section.
[[nodiscard]] inline std::uint64_t label_extent(const pass_image& p, std::size_t i) noexcept {
  const auto& entries = p.map.entries;
  const std::uint64_t address = entries[i].address;
  std::uint64_t next = address;
  // The listing is in nm -n order, ascending addresses: the next higher one by binary search (many labels can
  // share an address).
  const auto after = std::upper_bound(entries.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries.end(), address,
                                      [](std::uint64_t x, const map_entry& e) { return x < e.address; });
  if (after != entries.end()) next = after->address;
  const pass_section* s = section_at(p, address);
  if (s != nullptr) {
    const std::uint64_t end = s->address + s->size;
    if (next == address || next > end) next = std::max(end, address);
  }
  return next - address;
}

// The same, except that the table emitted last (6.1: kallsyms_token_index, 256 16-bit offsets; 6.12:
// kallsyms_seqs_of_names, 3 bytes per symbol) is followed by unlabelled .rodata.* data: its extent is its size.
[[nodiscard]] inline std::uint64_t extent(const pass_image& p, std::size_t i) noexcept {
  std::uint64_t cap = ~std::uint64_t{0};
  if (p.map.entries[i].name == "kallsyms_token_index") cap = std::uint64_t{256} * 2;
  else if (p.map.entries[i].name == "kallsyms_seqs_of_names" && p.num_syms) cap = std::uint64_t{3} * *p.num_syms;
  return std::min(cap, label_extent(p, i));
}

// The value of a 4-byte kallsyms_num_syms, if the label is in a section with bytes.
[[nodiscard]] inline std::optional<std::uint32_t> read_num_syms(const pass_image& p) noexcept {
  for (const map_entry& e : p.map.entries) {
    if (e.name != "kallsyms_num_syms") continue;
    const pass_section* s = section_at(p, e.address);
    if (s == nullptr || !s->has_bytes || e.address - s->address + 4 > s->size) return std::nullopt;
    const std::uint64_t at = s->file_offset + (e.address - s->address);
    if (at > p.bytes.size() || p.bytes.size() - at < 4) return std::nullopt;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const auto byte =
          std::to_integer<std::uint32_t>(p.bytes[at + static_cast<std::size_t>(p.little_endian ? 3 - k : k)]);
      v = (v << 8) | byte;
    }
    return v;
  }
  return std::nullopt;
}

struct listing {
  const pass_image* pass = nullptr;
  std::vector<std::uint32_t> all;    // 0..n-1: the whole listing
  std::vector<std::uint32_t> named;  // positions of `all` by name
  [[nodiscard]] std::size_t find(std::string_view name) const { return find_named(pass->map, all, named, name, 0); }
  // The entry called `name` in section `section` nearest to `address` (local names repeat: "__func__.0").
  [[nodiscard]] std::size_t find_near(std::string_view name, std::string_view section, std::uint64_t address) const;
};

inline std::size_t listing::find_near(std::string_view name, std::string_view section, std::uint64_t address) const {
  const auto& entries = pass->map.entries;
  auto it = std::lower_bound(named.begin(), named.end(), name,
                             [&](std::uint32_t p, std::string_view n) { return entries[p].name < n; });
  std::size_t best = npos;
  std::uint64_t best_distance = 0;
  for (; it != named.end() && entries[*it].name == name; ++it) {
    const pass_section* s = section_at(*pass, entries[*it].address);
    if (s == nullptr || s->name != section) continue;
    const std::uint64_t a = entries[*it].address;
    const std::uint64_t distance = a > address ? a - address : address - a;
    if (best == npos || distance < best_distance) best = *it, best_distance = distance;
  }
  return best;
}

[[nodiscard]] inline listing index_listing(const pass_image& p) {
  listing l;
  l.pass = &p;
  l.all.resize(p.map.entries.size());
  for (std::uint32_t i = 0; i < l.all.size(); ++i) l.all[i] = i;
  l.named = by_name(p.map, l.all);
  return l;
}

// What changed size in section `sb` of B (`sa`: the same-named section of A) below stop_b (in A: stop_a): the gaps
// between consecutive labels both passes have there (and the section's start and stop) are compared; a gap that
// changed is explained by the labels that appeared (B only) or disappeared (A only) in it, each with its extent,
// else by the label opening the gap, which grew or shrank ("the start of .rodata" when none does).
inline void gap_changes(const listing& a, const listing& b, const pass_section& sa, const pass_section& sb,
                        std::uint64_t stop_a, std::uint64_t stop_b, std::vector<size_change>& out) {
  const pass_image& pa = *a.pass;
  const pass_image& pb = *b.pass;
  const auto& ea = pa.map.entries;
  const auto& eb = pb.map.entries;
  std::uint64_t prev_a = sa.address, prev_b = sb.address;
  std::string_view prev_name;  // empty: the section's start
  std::vector<size_change> appeared;
  const auto close_gap = [&](std::uint64_t at_a, std::uint64_t at_b) {
    if (at_b - prev_b != at_a - prev_a) {
      // Labels of A in this gap that B lacks.
      auto it = std::lower_bound(ea.begin(), ea.end(), prev_a,
                                 [](const map_entry& e, std::uint64_t x) { return e.address < x; });
      for (; it != ea.end() && it->address < at_a; ++it) {
        if (section_at(pa, it->address) != &sa) continue;
        const std::uint64_t expected_b = it->address + (prev_b - prev_a);
        if (b.find_near(it->name, sb.name, expected_b) == npos)
          appeared.push_back({it->name, false, extent(pa, static_cast<std::size_t>(it - ea.begin())), std::nullopt});
      }
      if (appeared.empty()) {
        size_change c{prev_name, false, at_a - prev_a, at_b - prev_b};
        if (c.name.empty()) c.name = sb.name, c.is_section = true;  // the unlabelled start of the section
        out.push_back(c);
      }
      out.insert(out.end(), appeared.begin(), appeared.end());
    }
    appeared.clear();
  };
  auto it = std::lower_bound(eb.begin(), eb.end(), sb.address,
                             [](const map_entry& e, std::uint64_t x) { return e.address < x; });
  for (; it != eb.end() && it->address < stop_b; ++it) {
    if (section_at(pb, it->address) != &sb) continue;
    const std::uint64_t expected_a = it->address - (prev_b - prev_a);
    const std::size_t ia = a.find_near(it->name, sa.name, expected_a);
    if (ia == npos) {
      appeared.push_back({it->name, false, std::nullopt, extent(pb, static_cast<std::size_t>(it - eb.begin()))});
      continue;
    }
    if (ea[ia].address < prev_a) continue;  // out of order (aliases): nothing to measure
    close_gap(ea[ia].address, it->address);
    prev_a = ea[ia].address, prev_b = it->address, prev_name = it->name;
  }
  close_gap(std::max(stop_a, prev_a), std::max(stop_b, prev_b));
}

[[nodiscard]] inline std::uint64_t magnitude(const size_change& c) noexcept {
  const std::uint64_t x = c.size_a.value_or(0), y = c.size_b.value_or(0);
  return x > y ? x - y : y - x;
}

}  // namespace detail

// Compares two passes read by read_pass. `out` borrows names from both images.
[[nodiscard]] inline result<void> diff_passes(const pass_image& a, const pass_image& b, const diff_options& options,
                                              pass_diff& out) {
  out = pass_diff{};
  out.is64 = b.map.is64;
  const kernel_version v = options.version;

  // --all-symbols: given, or whichever rule reproduces B's (else A's) kallsyms_num_syms.
  if (options.all_symbols) {
    out.all_symbols = *options.all_symbols;
  } else {
    out.all_symbols_inferred = true;
    const std::optional<std::uint32_t> n = b.num_syms ? b.num_syms : a.num_syms;
    if (n) {
      const auto count = [&](const pass_image& p, bool all) { return detail::kept_symbols(p.map, v, all).size(); };
      const bool all_fits = *n == count(a, true) || *n == count(b, true);
      const bool text_fits = *n == count(a, false) || *n == count(b, false);
      out.all_symbols = all_fits || !text_fits;
      out.num_syms_decided = all_fits || text_fits;
    }
  }
  const std::vector<std::uint32_t> ka = detail::kept_symbols(a.map, v, out.all_symbols);
  const std::vector<std::uint32_t> kb = detail::kept_symbols(b.map, v, out.all_symbols);
  out.kept_a = ka.size();
  out.kept_b = kb.size();

  // link-vmlinux.sh 6.1's check: the whole listings.
  {
    const auto& ea = a.map.entries;
    const auto& eb = b.map.entries;
    std::size_t i = 0;
    while (i < ea.size() && i < eb.size() && ea[i].address == eb[i].address && ea[i].type == eb[i].type &&
           ea[i].name == eb[i].name)
      ++i;
    out.maps_identical = i == ea.size() && i == eb.size();
    if (!out.maps_identical) out.first_map_difference = i < eb.size() ? eb[i].name : ea[i].name;
  }

  const auto same = [&](std::size_t i) {
    const map_entry& x = a.map.entries[ka[i]];
    const map_entry& y = b.map.entries[kb[i]];
    return x.address == y.address && x.type == y.type && x.name == y.name;
  };
  std::size_t first = detail::npos;
  for (std::size_t i = 0; i < std::max(ka.size(), kb.size()); ++i) {
    if (i < ka.size() && i < kb.size() && same(i)) continue;
    ++out.differing;
    if (first == detail::npos) first = i;
  }

  const detail::listing la = detail::index_listing(a), lb = detail::index_listing(b);
  for (std::string_view table : table_names) {
    const std::size_t ia = la.find(table), ib = lb.find(table);
    if (ia == detail::npos && ib == detail::npos) continue;
    table_size t{table, std::nullopt, std::nullopt};
    if (ia != detail::npos) t.size_a = detail::extent(a, ia);
    if (ib != detail::npos) t.size_b = detail::extent(b, ib);
    out.tables.push_back(t);
  }

  if (first == detail::npos) return {};
  out.another_pass_needed = true;
  out.position = first;

  // What is at that position, and where its counterpart is.
  const std::vector<std::uint32_t> na = detail::by_name(a.map, ka), nb = detail::by_name(b.map, kb);
  std::size_t pos_a = detail::npos, pos_b = detail::npos;  // positions in ka / kb of the symbol
  if (first < kb.size()) {
    const map_entry& y = b.map.entries[kb[first]];
    out.symbol = y.name;
    pos_b = first;
    pos_a = detail::find_named(a.map, ka, na, y.name, first);
    if (pos_a == detail::npos) out.kind = difference::added;
  } else {
    const map_entry& x = a.map.entries[ka[first]];
    out.symbol = x.name;
    pos_a = first;
    out.kind = difference::removed;
  }
  if (out.kind == difference::none && first < ka.size()) {
    const map_entry& x = a.map.entries[ka[first]];
    if (x.name == out.symbol) {
      out.kind = x.type != b.map.entries[kb[first]].type ? difference::type_changed : difference::moved;
    } else if (detail::find_named(b.map, kb, nb, x.name, first) == detail::npos) {
      out.kind = difference::removed;  // A's symbol here is gone; say that rather than what slid into its place
      out.symbol = x.name;
      pos_a = first;
      pos_b = detail::npos;
    } else {
      out.kind = difference::reordered;
    }
  }
  if (out.kind == difference::none) out.kind = difference::reordered;
  if (pos_a != detail::npos) {
    out.address_a = a.map.entries[ka[pos_a]].address;
    out.type_a = a.map.entries[ka[pos_a]].type;
  }
  if (pos_b != detail::npos) {
    out.address_b = b.map.entries[kb[pos_b]].address;
    out.type_b = b.map.entries[kb[pos_b]].type;
  }

  // Its section, and what changed size before it.
  const pass_section* in_b = out.address_b ? detail::section_at(b, *out.address_b) : nullptr;
  const pass_section* in_a = nullptr;
  if (in_b != nullptr) {
    out.section = in_b->name;
    in_a = detail::section_named(a, in_b->name);
  } else if (out.address_a) {
    in_a = detail::section_at(a, *out.address_a);
    if (in_a != nullptr) out.section = in_a->name;
  }
  std::vector<size_change> causes;
  if (in_a != nullptr && in_b != nullptr && in_a->address != in_b->address) {
    out.section_moved = true;
    // The allocated sections below it in B whose size changed (or that A lacks), and what changed inside them.
    std::vector<const pass_section*> below;
    for (const pass_section& s : b.sections)
      if (s.address < in_b->address && s.size != 0) below.push_back(&s);
    std::stable_sort(below.begin(), below.end(),
                     [](const pass_section* x, const pass_section* y) { return x->address < y->address; });
    for (const pass_section* s : below) {
      const pass_section* old = detail::section_named(a, s->name);
      if (old != nullptr && old->size == s->size) continue;
      causes.push_back({s->name, true, old ? std::optional<std::uint64_t>(old->size) : std::nullopt, s->size});
      if (old != nullptr) detail::gap_changes(la, lb, *old, *s, old->address + old->size, s->address + s->size, causes);
    }
    for (const pass_section& s : a.sections)
      if (s.address < in_a->address && s.size != 0 && detail::section_named(b, s.name) == nullptr)
        causes.push_back({s.name, true, s.size, std::nullopt});
  } else if (!out.section.empty()) {
    const pass_section* sa = in_a;
    const pass_section* sb = in_b != nullptr ? in_b : (out.address_b ? nullptr : detail::section_named(b, out.section));
    if (sa != nullptr && sb != nullptr)
      detail::gap_changes(la, lb, *sa, *sb, out.address_a.value_or(sa->address + sa->size),
                          out.address_b.value_or(sb->address + sb->size), causes);
  }
  if (!causes.empty()) {
    const auto largest = std::max_element(causes.begin(), causes.end(), [](const size_change& x, const size_change& y) {
      // A section's change is the sum of its symbols': prefer naming a symbol (a table) when one is as large.
      const std::uint64_t mx = detail::magnitude(x), my = detail::magnitude(y);
      return mx != my ? mx < my : (x.is_section && !y.is_section);
    });
    out.main_cause = largest->name;
  }
  if (causes.size() > pass_diff::max_causes) {
    out.more_causes = causes.size() - pass_diff::max_causes;
    causes.resize(pass_diff::max_causes);
  }
  out.causes = std::move(causes);

  // The kept symbols from it on that moved by the same amount (position by position).
  if (out.kind == difference::moved) {
    const std::int64_t d = out.delta();
    for (std::size_t i = first; i < ka.size() && i < kb.size(); ++i) {
      const map_entry& x = a.map.entries[ka[i]];
      const map_entry& y = b.map.entries[kb[i]];
      if (x.name != y.name || x.address == y.address) continue;
      ++out.moved_after;
      if (static_cast<std::int64_t>(y.address - x.address) != d) continue;
      ++out.moved_with_it;
      const pass_section* s = detail::section_at(b, y.address);
      if (s != nullptr && s->name == out.section) ++out.moved_in_section;
    }
  }
  return {};
}

namespace detail {

inline void append_count(std::string& s, std::uint64_t n) {
  char digits[32];
  const int len = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(n));
  for (int i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) s += ',';
    s += digits[i];
  }
}

inline void append_signed(std::string& s, std::int64_t n) {
  s += n < 0 ? '-' : '+';
  append_count(s, n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n));
}

inline void append_address(std::string& s, std::uint64_t a, bool is64) {
  char buf[24];
  std::snprintf(buf, sizeof buf, is64 ? "%016llx" : "%08llx", static_cast<unsigned long long>(a));
  s += buf;
}

inline void append_bytes(std::string& s, std::uint64_t n) {
  append_count(s, n);
  s += n == 1 ? " byte" : " bytes";
}

// "kallsyms_names grew by 8 bytes", "section .rodata grew by 10,592 bytes", "kallsyms_offsets appeared (56,060
// bytes)", "foo disappeared (16 bytes)".
inline void append_change(std::string& s, const size_change& c) {
  if (c.is_section) s += "section ";
  s += c.name;
  if (!c.size_a) {
    s += " appeared (";
    append_bytes(s, *c.size_b);
    s += ')';
  } else if (!c.size_b) {
    s += " disappeared (";
    append_bytes(s, *c.size_a);
    s += ')';
  } else {
    s += *c.size_b > *c.size_a ? " grew by " : " shrank by ";
    append_bytes(s, magnitude(c));
  }
}

}  // namespace detail

// The explanation, several lines, each ending in '\n'. name_a and name_b name the passes (their file names).
[[nodiscard]] inline std::string explain(const pass_diff& d, std::string_view name_a, std::string_view name_b) {
  std::string s;
  s.reserve(2048);
  const auto names = [&] {
    s += name_a;
    s += " -> ";
    s += name_b;
    s += ": ";
  };
  names();
  if (!d.another_pass_needed) {
    s += "no further kallsyms pass is needed: the ";
    detail::append_count(s, d.kept_b);
    s += " symbols kallsyms keeps have the same addresses, types and order in both\n";
    if (!d.maps_identical) {
      s += "  (the System.map listings differ, first at ";
      s += d.first_map_difference;
      s += ", but only in symbols kallsyms ignores)\n";
    }
  } else {
    s += "another kallsyms pass is needed: the tables generated from ";
    s += name_b;
    s += " would differ from those generated from ";
    s += name_a;
    s += "\nfirst difference: kept symbol ";
    detail::append_count(s, d.position + 1);
    s += " of ";
    detail::append_count(s, d.kept_b);
    s += ", ";
    s += d.symbol;
    switch (d.kind) {
      case difference::moved:
        s += " moved by ";
        detail::append_signed(s, d.delta());
        s += d.delta() == 1 || d.delta() == -1 ? " byte (" : " bytes (";
        detail::append_address(s, *d.address_a, d.is64);
        s += " -> ";
        detail::append_address(s, *d.address_b, d.is64);
        s += ')';
        break;
      case difference::type_changed:
        s += " changed type from ";
        s += d.type_a;
        s += " to ";
        s += d.type_b;
        break;
      case difference::added:
        s += " (";
        s += d.type_b;
        s += ") at ";
        detail::append_address(s, *d.address_b, d.is64);
        s += " is new: ";
        s += name_a;
        s += " has no such symbol";
        break;
      case difference::removed:
        s += " (";
        s += d.type_a;
        s += ") at ";
        detail::append_address(s, *d.address_a, d.is64);
        s += " is gone: ";
        s += name_b;
        s += " has no such symbol";
        break;
      case difference::reordered:
      case difference::none:
        s += " is out of order";
        if (d.address_a && d.address_b) {
          s += " (";
          detail::append_address(s, *d.address_a, d.is64);
          s += " -> ";
          detail::append_address(s, *d.address_b, d.is64);
          s += ')';
        }
        break;
    }
    s += '\n';
    if (!d.section.empty()) {
      s += "section: ";
      s += d.section;
      s += d.section_moved ? ", which starts at another address in " : " of ";
      s += d.section_moved ? name_b : (d.address_b ? name_b : name_a);
      s += '\n';
    }
    if (!d.causes.empty()) {
      s += d.section_moved ? "size changes before that section:" : "size changes before it in its section:";
      for (std::size_t i = 0; i < d.causes.size(); ++i) {
        s += i == 0 ? " " : "; ";
        detail::append_change(s, d.causes[i]);
      }
      if (d.more_causes != 0) {
        s += "; and ";
        detail::append_count(s, d.more_causes);
        s += " more";
      }
      s += '\n';
    } else if (d.kind == difference::moved) {
      s += "no size change before it: the move comes from alignment or an address set by the linker script\n";
    }
    // One line in the shape of "kallsyms_names grew by 8 bytes; 1,204 symbols after it in .rodata moved by 8".
    if (d.kind == difference::moved) {
      s += "summary: ";
      const auto main =
          std::find_if(d.causes.begin(), d.causes.end(), [&](const size_change& c) { return c.name == d.main_cause; });
      if (main != d.causes.end()) {
        detail::append_change(s, *main);
        const std::size_t others = d.causes.size() + d.more_causes - 1;
        if (others != 0) {
          s += ", with ";
          detail::append_count(s, others);
          s += others == 1 ? " other size change" : " other size changes";
        }
        s += "; ";
      }
      detail::append_count(s, d.moved_after);
      s += d.moved_after == 1 ? " kept symbol from " : " kept symbols from ";
      s += d.symbol;
      s += " on moved, ";
      detail::append_count(s, d.moved_with_it);
      s += " of them by ";
      detail::append_signed(s, d.delta());
      s += " (";
      detail::append_count(s, d.moved_in_section);
      s += " in ";
      s += d.section.empty() ? std::string_view("no section") : d.section;
      s += ")\n";
    }
  }
  if (!d.tables.empty()) {
    s += "kallsyms tables (bytes, ";
    s += name_a;
    s += " -> ";
    s += name_b;
    s += "):";
    for (std::size_t i = 0; i < d.tables.size(); ++i) {
      const table_size& t = d.tables[i];
      s += i == 0 ? " " : ", ";
      s += t.name;
      s += ' ';
      if (t.size_a) detail::append_count(s, *t.size_a);
      else s += '-';
      s += " -> ";
      if (t.size_b) detail::append_count(s, *t.size_b);
      else s += '-';
    }
    s += '\n';
  }
  s += "kept symbols: ";
  detail::append_count(s, d.kept_a);
  s += " -> ";
  detail::append_count(s, d.kept_b);
  s += d.all_symbols ? " (--all-symbols" : " (text only, no --all-symbols";
  if (!d.all_symbols_inferred) s += ')';
  else s += d.num_syms_decided ? ", inferred from kallsyms_num_syms)" : ", assumed: kallsyms_num_syms does not tell)";
  if (d.another_pass_needed) {
    s += "; ";
    detail::append_count(s, d.differing);
    s += " positions differ";
  }
  s += '\n';
  return s;
}

}  // namespace elfsieve::kernel::kallsyms
