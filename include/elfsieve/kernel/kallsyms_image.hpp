// Reading the kallsyms tables a kernel image carries: find them (by the kallsyms_* symbols of .symtab, or by
// scanning the loaded bytes as vmlinux-to-elf does when the image is stripped), decode them into
// kallsyms::tables, infer scripts/kallsyms' options from what they hold, and expand the names into the listing
// /proc/kallsyms prints (kernel/kallsyms.c: kallsyms_expand_symbol, kallsyms_sym_address, s_show).
//
// The tables are emitted by scripts/kallsyms as one .S file, each label aligned to the word size (ALGN) and the
// symbols' st_size 0, so a table's extent comes from kallsyms_num_syms and the structure, not from the symbol:
//   6.1:  offsets|addresses, relative_base, num_syms, names, markers, seqs_of_names, token_table, token_index
//   6.12: num_syms, names, markers, token_table, token_index, offsets, relative_base, seqs_of_names
// Every read is bounds-checked; a malformed table is an error value, never a crash.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/bytes.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/layout.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel::kallsyms {

// The tables in the order of table_names.
enum class table_id : std::uint8_t {
  addresses,
  offsets,
  relative_base,
  num_syms,
  names,
  markers,
  seqs_of_names,
  token_table,
  token_index,
};
inline constexpr std::size_t table_count = 9;

[[nodiscard]] constexpr std::string_view name_of(table_id t) noexcept {
  return table_names[static_cast<std::size_t>(t)];
}

// The longest name /proc/kallsyms prints: KSYM_NAME_LEN (512 in 6.1 and 6.12) less the terminating NUL.
inline constexpr std::size_t max_name_chars = 511;
// Tokens per token table (one per byte value).
inline constexpr std::size_t token_count = 256;
// kallsyms_seqs_of_names holds 3-byte indices, so no table can hold more symbols.
inline constexpr std::uint32_t max_num_syms = 1u << 24;

// An image's tables with what the image says about them.
struct image_tables {
  tables contents;
  options inferred;               // base_relative and version from the layout; absolute_percpu, all_symbols from data
  bool found_by_symbols = false;  // located by .symtab's kallsyms_* symbols (else by scanning)
  std::uint8_t word_bytes = 8;    // sizeof(unsigned long) of the kernel: 4 or 8
  bool big_endian = false;
  std::array<std::uint64_t, table_count> address{};  // virtual address of each table (by table_id); 0 if absent
  std::array<std::uint64_t, table_count> size{};     // bytes of each table as decoded
};

// The symbols as /proc/kallsyms lists them, in table (address) order: one character buffer and offsets, no
// allocation per symbol.
struct listing {
  std::vector<char> chars;                 // every name, concatenated
  std::vector<std::uint32_t> name_starts;  // size() + 1 offsets into chars
  std::vector<std::uint64_t> addresses;    // as kallsyms_sym_address computes them
  std::vector<char> types;                 // the nm type letter (the first expanded character)
  std::uint8_t word_bytes = 8;

  [[nodiscard]] std::size_t size() const noexcept { return addresses.size(); }
  // Caller contract: i < size().
  [[nodiscard]] std::string_view name(std::size_t i) const noexcept {
    return {chars.data() + name_starts[i], name_starts[i + 1] - name_starts[i]};
  }
};

namespace detail {

[[nodiscard]] inline std::uint64_t load_uint(const std::byte* p, unsigned bytes, bool big) noexcept {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) {
    const auto b = std::to_integer<std::uint64_t>(p[big ? i : bytes - 1 - i]);
    v = (v << 8) | b;
  }
  return v;
}

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) noexcept {
  return (v + a - 1) & ~(a - 1);
}
[[nodiscard]] constexpr std::uint64_t align_down(std::uint64_t v, std::uint64_t a) noexcept { return v & ~(a - 1); }

// One stretch of loaded bytes at a virtual address.
struct region {
  std::uint64_t address = 0;
  std::span<const std::byte> bytes;
  std::uint64_t file_offset = 0;
  [[nodiscard]] std::uint64_t end() const noexcept { return address + bytes.size(); }
  [[nodiscard]] bool contains(std::uint64_t a, std::uint64_t n) const noexcept {
    return a >= address && a - address <= bytes.size() && n <= bytes.size() - (a - address);
  }
};

// The image's memory as the kernel sees it: allocated sections with file bytes, or PT_LOAD segments when there
// are no section headers.
class address_space {
 public:
  address_space(std::uint8_t word_bytes, bool big_endian) : word_(word_bytes), big_(big_endian) {}

  template <elf_layout L>
  [[nodiscard]] static result<address_space> of(const file<L>& f) {
    address_space space(static_cast<std::uint8_t>(L::word_bytes), L::endianness == std::endian::big);
    const auto bytes = f.bytes();
    if (auto sections = f.sections(); sections && !sections->empty()) {
      for (auto s : *sections) {
        if (!s.has_flag(elf::SHF_ALLOC) || s.type() == elf::SHT_NOBITS || s.size() == 0) continue;
        auto data = sections->data(s);
        if (!data) continue;  // a broken section holds no tables; others may
        space.regions_.push_back({s.addr(), data.value(), s.offset()});
      }
    }
    if (space.regions_.empty()) {
      ELFSIEVE_TRY(const auto phdrs, f.program_headers());
      for (const auto& p : phdrs) {
        if (p.p_type.value() != elf::PT_LOAD || p.p_filesz.value() == 0) continue;
        auto data = subspan_checked(bytes, p.p_offset.value(), p.p_filesz.value(), errc::segment_out_of_bounds);
        if (!data) continue;
        space.regions_.push_back({p.p_vaddr.value(), data.value(), p.p_offset.value()});
      }
    }
    return space;
  }

  [[nodiscard]] std::uint8_t word() const noexcept { return word_; }
  [[nodiscard]] bool big_endian() const noexcept { return big_; }
  [[nodiscard]] const std::vector<region>& regions() const noexcept { return regions_; }

  // The region holding [address, address + n), if one does.
  [[nodiscard]] const region* find(std::uint64_t address, std::uint64_t n) const noexcept {
    for (const auto& r : regions_)
      if (r.contains(address, n)) return &r;
    return nullptr;
  }
  [[nodiscard]] result<std::span<const std::byte>> read(std::uint64_t address, std::uint64_t n) const noexcept {
    const region* r = find(address, n);
    if (r == nullptr) return make_error_at(errc::kallsyms_table_out_of_bounds, address);
    return r->bytes.subspan(static_cast<std::size_t>(address - r->address), static_cast<std::size_t>(n));
  }
  [[nodiscard]] result<std::uint64_t> read_uint(std::uint64_t address, unsigned bytes) const noexcept {
    ELFSIEVE_TRY(const auto b, read(address, bytes));
    return load_uint(b.data(), bytes, big_);
  }

 private:
  std::uint8_t word_;
  bool big_;
  std::vector<region> regions_;
};

// Where each table starts; every other fact comes from the structure.
struct table_addresses {
  std::array<std::optional<std::uint64_t>, table_count> at{};
  [[nodiscard]] std::optional<std::uint64_t> operator[](table_id t) const noexcept {
    return at[static_cast<std::size_t>(t)];
  }
  void set(table_id t, std::uint64_t a) noexcept { at[static_cast<std::size_t>(t)] = a; }
};

// The size of the kallsyms_names entry at p (length bytes included), or 0 when it does not fit in [p, end).
[[nodiscard]] inline std::size_t names_entry_size(const std::byte* p, const std::byte* end) noexcept {
  if (p >= end) return 0;
  std::size_t len = std::to_integer<std::size_t>(p[0]);
  std::size_t header = 1;
  if ((len & 0x80) != 0) {
    if (end - p < 2) return 0;
    len = (len & 0x7f) | (std::to_integer<std::size_t>(p[1]) << 7);
    header = 2;
  }
  if (static_cast<std::size_t>(end - p) - header < len) return 0;
  return header + len;
}

// Walks `count` entries of kallsyms_names from `first`, within [first, end): the bytes walked, or nullopt when
// an entry is empty or runs past the end. With `markers` (little or big endian u32 in the image), every 256th
// entry's offset must equal its marker; the walk stops at the first that does not.
[[nodiscard]] inline std::optional<std::size_t> walk_names(std::span<const std::byte> from, std::uint32_t count,
                                                           const std::byte* markers, bool big) noexcept {
  const std::byte* p = from.data();
  const std::byte* const end = from.data() + from.size();
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto off = static_cast<std::size_t>(p - from.data());
    if (markers != nullptr && (i & 0xff) == 0 && load_uint(markers + std::size_t{4} * (i >> 8), 4, big) != off)
      return std::nullopt;
    const std::size_t n = names_entry_size(p, end);
    if (n == 0 || n == (std::to_integer<unsigned>(*p) & 0x80 ? 2u : 1u)) return std::nullopt;  // empty name
    p += n;
  }
  return static_cast<std::size_t>(p - from.data());
}

// The end (exclusive) of 256 NUL-terminated tokens from `first` within `bytes`, or nullopt.
[[nodiscard]] inline std::optional<std::size_t> walk_tokens(std::span<const std::byte> bytes) noexcept {
  std::size_t pos = 0;
  for (std::size_t t = 0; t < token_count; ++t) {
    while (pos < bytes.size() && bytes[pos] != std::byte{0}) ++pos;
    if (pos >= bytes.size()) return std::nullopt;
    ++pos;
  }
  return pos;
}

// Plain base-relative offsets: unsigned, nondecreasing from 0 (the table is sorted by address and
// kallsyms_relative_base is the first symbol's).
[[nodiscard]] inline bool plain_offsets(std::span<const std::int32_t> offsets) noexcept {
  if (offsets.empty()) return true;
  if (offsets[0] != 0) return false;
  for (std::size_t i = 1; i < offsets.size(); ++i)
    if (static_cast<std::uint32_t>(offsets[i]) < static_cast<std::uint32_t>(offsets[i - 1])) return false;
  return true;
}
// --absolute-percpu offsets: absolute (>= 0) values nondecreasing, relative ones (relative_base - 1 - address)
// nonincreasing from -1.
[[nodiscard]] inline bool absolute_percpu_offsets(std::span<const std::int32_t> offsets) noexcept {
  std::optional<std::int32_t> last_absolute;
  std::optional<std::int32_t> last_relative;
  for (const std::int32_t v : offsets) {
    if (v >= 0) {
      if (last_absolute && v < *last_absolute) return false;
      last_absolute = v;
    } else {
      if (last_relative ? v > *last_relative : v != -1) return false;
      last_relative = v;
    }
  }
  return true;
}

// The tables' contents copied out of the image, given where they start.
[[nodiscard]] inline result<void> extract(const address_space& space, const table_addresses& where, image_tables& out) {
  const std::uint64_t word = space.word();
  const bool big = space.big_endian();
  tables& t = out.contents;
  auto note = [&out](table_id id, std::uint64_t address, std::uint64_t size) {
    out.address[static_cast<std::size_t>(id)] = address;
    out.size[static_cast<std::size_t>(id)] = size;
  };

  const std::uint64_t num_syms_at = *where[table_id::num_syms];
  ELFSIEVE_TRY(const std::uint64_t count, space.read_uint(num_syms_at, 4));
  const std::uint64_t names_at = *where[table_id::names];
  const region* names_region = space.find(names_at, 0);
  if (names_region == nullptr) return make_error_at(errc::kallsyms_table_out_of_bounds, names_at);
  // Every entry takes at least two bytes: a bound on the count before anything is allocated for it.
  if (count > max_num_syms || count * 2 > names_region->end() - names_at)
    return with_detail(make_error_at(errc::kallsyms_bad_num_syms, num_syms_at), count);
  t.num_syms = static_cast<std::uint32_t>(count);
  note(table_id::num_syms, num_syms_at, 4);
  const std::uint64_t marker_count = (count + 255) / 256;

  // kallsyms_names: walked entry by entry up to the next table when that is known to follow it.
  std::uint64_t names_limit = names_region->end();
  if (auto m = where[table_id::markers]; m && *m > names_at) names_limit = std::min(names_limit, *m);
  ELFSIEVE_TRY(const auto names_room, space.read(names_at, names_limit - names_at));
  const auto names_size = walk_names(names_room, t.num_syms, nullptr, big);
  // A malformed table is kept whole up to the next one, so --verify can still say where it differs.
  const auto names_bytes = names_room.first(names_size.value_or(names_room.size()));
  t.names.resize(names_bytes.size());
  std::transform(names_bytes.begin(), names_bytes.end(), t.names.begin(),
                 [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
  note(table_id::names, names_at, names_bytes.size());

  const std::uint64_t markers_at = *where[table_id::markers];
  ELFSIEVE_TRY(const auto markers, space.read(markers_at, 4 * marker_count));
  t.markers.resize(static_cast<std::size_t>(marker_count));
  for (std::size_t i = 0; i < t.markers.size(); ++i)
    t.markers[i] = static_cast<std::uint32_t>(load_uint(markers.data() + 4 * i, 4, big));
  note(table_id::markers, markers_at, markers.size());

  if (auto seqs_at = where[table_id::seqs_of_names]) {
    ELFSIEVE_TRY(const auto seqs, space.read(*seqs_at, 3 * count));
    t.seqs_of_names.resize(seqs.size());
    std::transform(seqs.begin(), seqs.end(), t.seqs_of_names.begin(),
                   [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
    note(table_id::seqs_of_names, *seqs_at, seqs.size());
  }

  const std::uint64_t tokens_at = *where[table_id::token_table];
  const std::uint64_t index_at = *where[table_id::token_index];
  ELFSIEVE_TRY(const auto index, space.read(index_at, 2 * token_count));
  t.token_index.resize(token_count);
  for (std::size_t i = 0; i < token_count; ++i)
    t.token_index[i] = static_cast<std::uint16_t>(load_uint(index.data() + 2 * i, 2, big));
  note(table_id::token_index, index_at, index.size());
  // The token table runs to kallsyms_token_index, which follows it in both versions; its 256 strings end before
  // the alignment padding.
  if (index_at <= tokens_at) return make_error_at(errc::kallsyms_table_out_of_bounds, tokens_at);
  ELFSIEVE_TRY(const auto token_room, space.read(tokens_at, index_at - tokens_at));
  const auto tokens_bytes = token_room.first(walk_tokens(token_room).value_or(token_room.size()));
  t.token_table.resize(tokens_bytes.size());
  std::transform(tokens_bytes.begin(), tokens_bytes.end(), t.token_table.begin(),
                 [](std::byte b) { return static_cast<char>(std::to_integer<std::uint8_t>(b)); });
  note(table_id::token_table, tokens_at, tokens_bytes.size());

  t.base_relative = !where[table_id::addresses].has_value();
  if (t.base_relative) {
    const std::uint64_t offsets_at = *where[table_id::offsets];
    ELFSIEVE_TRY(const auto offsets, space.read(offsets_at, 4 * count));
    t.offsets.resize(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < t.offsets.size(); ++i)
      t.offsets[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(load_uint(offsets.data() + 4 * i, 4, big)));
    note(table_id::offsets, offsets_at, offsets.size());
    const std::uint64_t base_at = *where[table_id::relative_base];
    ELFSIEVE_TRY(t.relative_base, space.read_uint(base_at, static_cast<unsigned>(word)));
    note(table_id::relative_base, base_at, word);
  } else {
    const std::uint64_t addresses_at = *where[table_id::addresses];
    ELFSIEVE_TRY(const auto addresses, space.read(addresses_at, word * count));
    t.addresses.resize(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < t.addresses.size(); ++i)
      t.addresses[i] = load_uint(addresses.data() + word * i, static_cast<unsigned>(word), big);
    note(table_id::addresses, addresses_at, addresses.size());
  }
  return {};
}

// The tables by their symbols; nullopt when .symtab lacks the ones every version has.
template <elf_layout L>
[[nodiscard]] std::optional<table_addresses> addresses_from_symbols(const file<L>& f) {
  auto sections = f.sections();
  if (!sections) return std::nullopt;
  auto symbols = find_symbol_table(sections.value(), elf::SHT_SYMTAB);
  if (!symbols) return std::nullopt;
  table_addresses where;
  for (auto s : symbols.value()) {
    if (s.is_undefined()) continue;
    auto name = symbols->name(s);
    if (!name || !name->starts_with("kallsyms_")) continue;
    for (std::size_t t = 0; t < table_count; ++t)
      if (name.value() == table_names[t] && !where.at[t]) where.at[t] = s.value();
  }
  for (table_id t :
       {table_id::num_syms, table_id::names, table_id::markers, table_id::token_table, table_id::token_index})
    if (!where[t]) return std::nullopt;
  const bool relative = where[table_id::offsets] && where[table_id::relative_base];
  if (!relative && !where[table_id::addresses]) return std::nullopt;
  if (relative) where.at[static_cast<std::size_t>(table_id::addresses)].reset();
  return where;
}

// Scanning: the token index is 256 u16 offsets from 0, strictly increasing, at a word-aligned address; the token
// table before it holds the 256 strings those offsets name. Returns the token table's address.
[[nodiscard]] inline std::optional<std::uint64_t> token_table_before(const address_space& space, const region& r,
                                                                     std::uint64_t index_at) noexcept {
  const std::uint64_t word = space.word();
  const bool big = space.big_endian();
  const std::byte* base = r.bytes.data();
  const std::uint64_t index_off = index_at - r.address;
  auto index = [&](std::size_t i) { return load_uint(base + index_off + 2 * i, 2, big); };
  const std::uint64_t last = index(token_count - 1);
  // The table ends with token 255's NUL, then up to word-1 bytes of zero padding before the index.
  for (unsigned pad = 0; pad < word; ++pad) {
    if (index_off < pad + 1) break;
    const std::uint64_t end = index_off - pad;  // one past the last NUL
    bool zeros = true;
    for (std::uint64_t k = end - 1; k < index_off && zeros; ++k) zeros = base[k] == std::byte{0};
    if (!zeros) continue;
    std::uint64_t start = end - 1;  // token 255 starts after the NUL before its own
    while (start > 0 && base[start - 1] != std::byte{0}) --start;
    if (start < last) continue;
    const std::uint64_t table = start - last;
    bool ok = true;
    for (std::size_t i = 0; i < token_count && ok; ++i) {
      const std::uint64_t s = table + index(i);
      const std::uint64_t e = i + 1 < token_count ? table + index(i + 1) - 1 : end - 1;
      ok = e < index_off && base[e] == std::byte{0};
      for (std::uint64_t k = s; k < e && ok; ++k) ok = base[k] != std::byte{0};
    }
    if (ok) return r.address + table;
  }
  return std::nullopt;
}

// Given the token table (T) and index (I), the other tables for one version's layout: try every word-aligned
// kallsyms_num_syms candidate below T, from T down, and keep the first whose names walk meets the markers.
[[nodiscard]] inline std::optional<table_addresses> layout_around_tokens(const address_space& space, const region& r,
                                                                         std::uint64_t tokens_at,
                                                                         std::uint64_t index_at,
                                                                         kernel_version version) {
  const std::uint64_t word = space.word();
  const bool big = space.big_endian();
  const std::uint64_t first = align_up(r.address, word);
  if (tokens_at < first + 2 * word) return std::nullopt;
  for (std::uint64_t p = align_down(tokens_at - 2 * word, word);; p -= word) {
    const std::uint64_t n = load_uint(r.bytes.data() + (p - r.address), 4, big);
    const std::uint64_t names_at = p + word;
    const std::uint64_t m = (n + 255) / 256;
    if (n != 0 && n <= max_num_syms && names_at + 2 * n <= tokens_at) {
      std::uint64_t seqs_at = 0;
      std::uint64_t markers_at = 0;
      bool fits = true;
      if (version == kernel_version::v6_12) {
        markers_at = tokens_at - align_up(4 * m, word);
      } else {
        if (tokens_at < 3 * n) fits = false;
        seqs_at = align_down(tokens_at - 3 * n, word);
        fits = fits && seqs_at >= align_up(4 * m, word);
        markers_at = fits ? seqs_at - align_up(4 * m, word) : 0;
      }
      fits = fits && markers_at >= names_at + 2 * n && r.contains(markers_at, 4 * m) &&
             load_uint(r.bytes.data() + (markers_at - r.address), 4, big) == 0;
      if (fits) {
        const auto names = r.bytes.subspan(static_cast<std::size_t>(names_at - r.address),
                                           static_cast<std::size_t>(markers_at - names_at));
        const auto walked =
            walk_names(names, static_cast<std::uint32_t>(n), r.bytes.data() + (markers_at - r.address), big);
        if (walked && align_up(names_at + *walked, word) == markers_at) {
          table_addresses where;
          where.set(table_id::num_syms, p);
          where.set(table_id::names, names_at);
          where.set(table_id::markers, markers_at);
          where.set(table_id::token_table, tokens_at);
          where.set(table_id::token_index, index_at);
          if (version == kernel_version::v6_12) {
            const std::uint64_t offsets_at = index_at + 2 * token_count;
            const std::uint64_t base_at = align_up(offsets_at + 4 * n, word);
            where.set(table_id::offsets, offsets_at);
            where.set(table_id::relative_base, base_at);
            where.set(table_id::seqs_of_names, base_at + word);
            if (space.find(offsets_at, 4 * n) != nullptr && space.find(base_at + word, 3 * n) != nullptr) return where;
          } else {
            where.set(table_id::seqs_of_names, seqs_at);
            // Base-relative (offsets, relative_base) when the offsets read as such, else absolute addresses.
            const std::uint64_t base_at = p - word;
            const std::uint64_t offsets_at = base_at - align_up(4 * n, word);
            if (p >= r.address + word && offsets_at >= r.address && offsets_at <= base_at) {
              const auto raw =
                  r.bytes.subspan(static_cast<std::size_t>(offsets_at - r.address), static_cast<std::size_t>(4 * n));
              std::vector<std::int32_t> offsets(static_cast<std::size_t>(n));
              for (std::size_t i = 0; i < offsets.size(); ++i)
                offsets[i] =
                    static_cast<std::int32_t>(static_cast<std::uint32_t>(load_uint(raw.data() + 4 * i, 4, big)));
              if (plain_offsets(offsets) || absolute_percpu_offsets(offsets)) {
                where.set(table_id::offsets, offsets_at);
                where.set(table_id::relative_base, base_at);
                return where;
              }
            }
            if (p - r.address >= word * n) {
              const std::uint64_t addresses_at = p - word * n;
              bool sorted = true;
              std::uint64_t last = 0;
              for (std::uint64_t i = 0; i < n && sorted; ++i) {
                const std::uint64_t a =
                    load_uint(r.bytes.data() + (addresses_at + word * i - r.address), static_cast<unsigned>(word), big);
                sorted = a >= last;
                last = a;
              }
              if (sorted) {
                where.set(table_id::addresses, addresses_at);
                return where;
              }
            }
          }
        }
      }
    }
    if (p < first + word) break;
  }
  return std::nullopt;
}

// A real image has one token table; crafted bytes could hold many, each costing a walk of the bytes below it.
inline constexpr std::size_t max_token_table_candidates = 16;

[[nodiscard]] inline std::optional<std::pair<table_addresses, kernel_version>> addresses_by_scanning(
    const address_space& space) {
  const std::uint64_t word = space.word();
  const bool big = space.big_endian();
  std::size_t candidates = 0;
  for (const region& r : space.regions()) {
    const std::uint64_t size = r.bytes.size();
    if (size < 2 * token_count) continue;
    for (std::uint64_t a = align_up(r.address, word); a - r.address + 2 * token_count <= size; a += word) {
      const std::byte* p = r.bytes.data() + (a - r.address);
      // Cheap filter first: 0, then a small first token length, then strictly increasing.
      if (load_uint(p, 2, big) != 0) continue;
      const std::uint64_t second = load_uint(p + 2, 2, big);
      if (second == 0 || second > 64) continue;
      bool increasing = true;
      for (std::size_t i = 1; i < token_count && increasing; ++i)
        increasing = load_uint(p + 2 * i, 2, big) > load_uint(p + 2 * (i - 1), 2, big);
      if (!increasing) continue;
      const auto tokens_at = token_table_before(space, r, a);
      if (!tokens_at) continue;
      if (++candidates > max_token_table_candidates) return std::nullopt;
      for (kernel_version v : {kernel_version::v6_1, kernel_version::v6_12})
        if (auto where = layout_around_tokens(space, r, *tokens_at, a, v)) return std::pair{*where, v};
    }
  }
  return std::nullopt;
}

}  // namespace detail

// Checks what decoding relies on: kallsyms_names holds num_syms non-empty entries and nothing more, the markers
// give every 256th entry's offset, every token index names a NUL-terminated token inside the token table, the
// seqs name symbols, and the offsets or addresses number num_syms.
[[nodiscard]] inline result<void> check_tables(const tables& t) noexcept {
  std::size_t off = 0;
  const std::size_t size = t.names.size();
  if (t.markers.size() != (std::uint64_t{t.num_syms} + 255) / 256)
    return with_detail(make_error(errc::kallsyms_bad_markers), t.markers.size());
  for (std::uint32_t i = 0; i < t.num_syms; ++i) {
    if ((i & 0xff) == 0 && t.markers[i >> 8] != off) return with_detail(make_error(errc::kallsyms_bad_markers), i >> 8);
    if (off >= size) return with_detail(make_error(errc::kallsyms_bad_names), i);
    std::size_t len = t.names[off];
    std::size_t header = 1;
    if ((len & 0x80) != 0) {
      if (size - off < 2) return with_detail(make_error(errc::kallsyms_bad_names), i);
      len = (len & 0x7f) | (std::size_t{t.names[off + 1]} << 7);
      header = 2;
    }
    if (len == 0 || size - off - header < len) return with_detail(make_error(errc::kallsyms_bad_names), i);
    off += header + len;
  }
  if (off != size) return with_detail(make_error(errc::kallsyms_bad_names), t.num_syms);
  if (t.token_index.size() != token_count)
    return with_detail(make_error(errc::kallsyms_bad_token_table), t.token_index.size());
  for (std::size_t i = 0; i < token_count; ++i) {
    const std::size_t at = t.token_index[i];
    if (at >= t.token_table.size() || std::find(t.token_table.begin() + static_cast<std::ptrdiff_t>(at),
                                                t.token_table.end(), '\0') == t.token_table.end())
      return with_detail(make_error(errc::kallsyms_bad_token_table), i);
  }
  if (!t.seqs_of_names.empty()) {
    if (t.seqs_of_names.size() != 3 * std::size_t{t.num_syms})
      return with_detail(make_error(errc::kallsyms_bad_seqs_of_names), t.seqs_of_names.size() / 3);
    for (std::size_t i = 0; i < t.num_syms; ++i) {
      const std::uint32_t seq = (std::uint32_t{t.seqs_of_names[3 * i]} << 16) |
                                (std::uint32_t{t.seqs_of_names[3 * i + 1]} << 8) | t.seqs_of_names[3 * i + 2];
      if (seq >= t.num_syms) return with_detail(make_error(errc::kallsyms_bad_seqs_of_names), i);
    }
  }
  if ((t.base_relative ? t.offsets.size() : t.addresses.size()) != t.num_syms)
    return make_error(errc::kallsyms_bad_offsets);
  return {};
}

// kallsyms_sym_address: the address of symbol i, in the kernel's unsigned long (word_bytes wide). Caller contract:
// i < num_syms and the offsets or addresses hold num_syms entries (check_tables).
[[nodiscard]] inline std::uint64_t symbol_address(const tables& t, bool absolute_percpu, std::uint8_t word_bytes,
                                                  std::size_t i) noexcept {
  const std::uint64_t mask = word_bytes == 4 ? 0xffffffffu : ~std::uint64_t{0};
  if (!t.base_relative) return t.addresses[i] & mask;
  const std::int32_t off = t.offsets[i];
  if (!absolute_percpu) return (t.relative_base + static_cast<std::uint32_t>(off)) & mask;
  if (off >= 0) return static_cast<std::uint64_t>(off) & mask;
  return (t.relative_base - 1 - static_cast<std::uint64_t>(static_cast<std::int64_t>(off))) & mask;
}

// kallsyms_expand_symbol for the entry at names offset `off` (bounds-checked): the type character (the first
// character of the first token, as kallsyms_get_symbol_type reads it) and the name after it, at most
// max_name_chars long, appended to `out`. Returns the offset of the next entry, or nullopt when the entry or a
// token is malformed.
[[nodiscard]] inline std::optional<std::size_t> expand_entry(const tables& t, std::size_t off, char& type,
                                                             std::vector<char>& out) {
  const std::size_t size = t.names.size();
  if (off >= size) return std::nullopt;
  std::size_t len = t.names[off];
  std::size_t header = 1;
  if ((len & 0x80) != 0) {
    if (size - off < 2) return std::nullopt;
    len = (len & 0x7f) | (std::size_t{t.names[off + 1]} << 7);
    header = 2;
  }
  if (len == 0 || size - off - header < len || t.token_index.size() != token_count) return std::nullopt;
  auto token = [&t](std::uint8_t code) -> std::optional<std::string_view> {
    const std::size_t at = t.token_index[code];
    if (at >= t.token_table.size()) return std::nullopt;
    const std::string_view rest(t.token_table.data() + at, t.token_table.size() - at);
    const std::size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    return rest.substr(0, nul);
  };
  const std::size_t data = off + header;
  const auto first_token = token(t.names[data]);
  if (!first_token) return std::nullopt;
  type = first_token->empty() ? '\0' : first_token->front();
  bool skipped_first = false;
  std::size_t written = 0;
  for (std::size_t k = 0; k < len; ++k) {
    const auto tok = token(t.names[data + k]);
    if (!tok) return std::nullopt;
    for (const char c : *tok) {
      if (!skipped_first) {
        skipped_first = true;
        continue;
      }
      if (written < max_name_chars) {
        out.push_back(c);
        ++written;
      }
    }
  }
  return data + len;
}

// The listing /proc/kallsyms prints for vmlinux (root's view: real addresses), symbol by symbol in table order.
// Symbols whose expanded name is empty are listed too; s_show skips them (append_proc_kallsyms does).
[[nodiscard]] inline result<listing> expand_symbols(const tables& t, bool absolute_percpu, std::uint8_t word_bytes) {
  ELFSIEVE_TRY_VOID(check_tables(t));
  listing out;
  out.word_bytes = word_bytes;
  out.addresses.resize(t.num_syms);
  out.types.resize(t.num_syms);
  out.name_starts.resize(std::size_t{t.num_syms} + 1);
  out.chars.reserve(t.names.size() * 2);
  std::size_t off = 0;
  for (std::size_t i = 0; i < t.num_syms; ++i) {
    out.name_starts[i] = static_cast<std::uint32_t>(out.chars.size());
    const auto next = expand_entry(t, off, out.types[i], out.chars);
    if (!next) return with_detail(make_error(errc::kallsyms_bad_names), i);
    off = *next;
    out.addresses[i] = symbol_address(t, absolute_percpu, word_bytes, i);
  }
  out.name_starts[t.num_syms] = static_cast<std::uint32_t>(out.chars.size());
  return out;
}

// /proc/kallsyms lines for the listing, "%px %c %s\n" as s_show prints them (16 hex digits for a 64-bit kernel,
// 8 for a 32-bit one), skipping nameless symbols as s_show does.
inline void append_proc_kallsyms(std::string& out, const listing& l) {
  static constexpr char hex[] = "0123456789abcdef";
  const unsigned digits = l.word_bytes * 2u;
  out.reserve(out.size() + l.size() * (digits + 4) + l.chars.size());
  for (std::size_t i = 0; i < l.size(); ++i) {
    const std::string_view name = l.name(i);
    if (name.empty()) continue;
    for (unsigned d = digits; d-- > 0;) out.push_back(hex[(l.addresses[i] >> (4 * d)) & 0xf]);
    out.push_back(' ');
    out.push_back(l.types[i]);
    out.push_back(' ');
    out.append(name);
    out.push_back('\n');
  }
}

// What the tables say about scripts/kallsyms' options: --base-relative from the table set, the version from the
// table order, --absolute-percpu from the offsets' encoding (kallsyms_sym_address), --all-symbols from a symbol
// outside the text ranges [_stext, _etext] and [_sinittext, _einittext], the only ones kept without it (or, when
// those symbols are missing, from a type letter other than t or w).
inline void infer_options(image_tables& image, kernel_version version) {
  options& o = image.inferred;
  const tables& t = image.contents;
  o.version = version;
  o.base_relative = t.base_relative;
  o.absolute_percpu =
      t.base_relative && !detail::plain_offsets(t.offsets) && detail::absolute_percpu_offsets(t.offsets);
  o.all_symbols = false;
  if (!check_tables(t)) return;
  std::vector<std::uint64_t> addresses(t.num_syms);
  std::array<std::optional<std::uint64_t>, 4> bounds{};  // _stext, _etext, _sinittext, _einittext
  constexpr std::array<std::string_view, 4> bound_names = {"_stext", "_etext", "_sinittext", "_einittext"};
  bool non_text_letter = false;
  std::vector<char> name;
  std::size_t off = 0;
  for (std::uint32_t i = 0; i < t.num_syms; ++i) {
    char type = 0;
    name.clear();
    const auto next = expand_entry(t, off, type, name);
    if (!next) return;
    off = *next;
    addresses[i] = symbol_address(t, o.absolute_percpu, image.word_bytes, i);
    const std::string_view n(name.data(), name.size());
    for (std::size_t b = 0; b < bounds.size(); ++b)
      if (n == bound_names[b] && !bounds[b]) bounds[b] = addresses[i];
    const char lower = static_cast<char>(type | 0x20);
    if (lower != 't' && lower != 'w' && std::find(bound_names.begin(), bound_names.end(), n) == bound_names.end())
      non_text_letter = true;
  }
  if (!bounds[0] || !bounds[1]) {
    o.all_symbols = non_text_letter;
    return;
  }
  auto in = [](std::uint64_t a, const std::optional<std::uint64_t>& lo, const std::optional<std::uint64_t>& hi) {
    return lo && hi && a >= *lo && a <= *hi;
  };
  o.all_symbols = std::any_of(addresses.begin(), addresses.end(), [&](std::uint64_t a) {
    return !in(a, bounds[0], bounds[1]) && !in(a, bounds[2], bounds[3]);
  });
}

// The kallsyms tables of a vmlinux image in layout L: by symbols when .symtab has them, else by scanning the
// loaded bytes. The tables are copied out as the image holds them (a malformed kallsyms_names or token table is
// kept up to the next table, so a comparison can say where it differs); check_tables says whether they decode.
template <elf_layout L>
[[nodiscard]] result<image_tables> read_image_tables(const file<L>& f) {
  ELFSIEVE_TRY(const detail::address_space space, detail::address_space::of(f));
  image_tables image;
  image.word_bytes = space.word();
  image.big_endian = space.big_endian();
  kernel_version version = kernel_version::v6_1;
  if (auto where = detail::addresses_from_symbols(f)) {
    image.found_by_symbols = true;
    const auto offsets = (*where)[table_id::offsets];
    if (offsets && *offsets > *(*where)[table_id::num_syms]) version = kernel_version::v6_12;
    ELFSIEVE_TRY_VOID(detail::extract(space, *where, image));
  } else {
    auto found = detail::addresses_by_scanning(space);
    if (!found) return make_error(errc::kallsyms_not_found);
    version = found->second;
    ELFSIEVE_TRY_VOID(detail::extract(space, found->first, image));
  }
  infer_options(image, version);
  return image;
}

// Same, for bytes of any ELF layout.
[[nodiscard]] inline result<image_tables> read_image_tables(std::span<const std::byte> bytes) {
  return visit(bytes, [](const auto& f) { return read_image_tables(f); });
}

// The listing of an image's tables with the options inferred from them.
[[nodiscard]] inline result<listing> expand_symbols(const image_tables& image) {
  return expand_symbols(image.contents, image.inferred.absolute_percpu, image.word_bytes);
}

// The first place two sets of tables differ, in the order a reader wants it: the count, then the addresses,
// the names, and the tables that follow from them.
struct table_difference {
  table_id table = table_id::num_syms;
  std::optional<std::uint64_t> symbol;  // the symbol (table order) for offsets, addresses and names
  std::uint64_t position = 0;           // entry or byte index in the table
  std::uint64_t expected = 0;           // the entry (or byte) in `a` and in `b`, where they are numbers
  std::uint64_t actual = 0;
};

namespace detail {
template <class T>
[[nodiscard]] std::optional<std::size_t> first_mismatch(const std::vector<T>& a, const std::vector<T>& b) noexcept {
  const auto [x, y] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (x == a.end() && y == b.end()) return std::nullopt;
  return static_cast<std::size_t>(x - a.begin());
}
// The index of the names entry holding byte `pos` of `names` (entries walked until the byte lies in one).
[[nodiscard]] inline std::uint64_t entry_at(const std::vector<std::uint8_t>& names, std::uint32_t count,
                                            std::size_t pos) noexcept {
  std::size_t off = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (off >= names.size()) return i;
    std::size_t len = names[off];
    std::size_t header = 1;
    if ((len & 0x80) != 0 && off + 1 < names.size()) {
      len = (len & 0x7f) | (std::size_t{names[off + 1]} << 7);
      header = 2;
    }
    if (pos < off + header + len) return i;
    off += header + len;
  }
  return count;
}
}  // namespace detail

// The first difference between `a` (say, the image's) and `b` (the regenerated tables), or nullopt when they are
// equal table for table.
[[nodiscard]] inline std::optional<table_difference> first_difference(const tables& a, const tables& b) {
  table_difference d;
  if (a.num_syms != b.num_syms) {
    d.table = table_id::num_syms;
    d.expected = a.num_syms;
    d.actual = b.num_syms;
    return d;
  }
  if (a.base_relative != b.base_relative) {
    d.table = a.base_relative ? table_id::offsets : table_id::addresses;
    return d;
  }
  if (a.base_relative) {
    if (auto i = detail::first_mismatch(a.offsets, b.offsets)) {
      d.table = table_id::offsets;
      d.symbol = *i;
      d.position = *i;
      d.expected = *i < a.offsets.size() ? static_cast<std::uint32_t>(a.offsets[*i]) : 0;
      d.actual = *i < b.offsets.size() ? static_cast<std::uint32_t>(b.offsets[*i]) : 0;
      return d;
    }
    if (a.relative_base != b.relative_base) {
      d.table = table_id::relative_base;
      d.expected = a.relative_base;
      d.actual = b.relative_base;
      return d;
    }
  } else if (auto i = detail::first_mismatch(a.addresses, b.addresses)) {
    d.table = table_id::addresses;
    d.symbol = *i;
    d.position = *i;
    d.expected = *i < a.addresses.size() ? a.addresses[*i] : 0;
    d.actual = *i < b.addresses.size() ? b.addresses[*i] : 0;
    return d;
  }
  if (auto i = detail::first_mismatch(a.names, b.names)) {
    d.table = table_id::names;
    d.position = *i;
    d.symbol = std::min(detail::entry_at(a.names, a.num_syms, *i), detail::entry_at(b.names, b.num_syms, *i));
    d.expected = *i < a.names.size() ? a.names[*i] : 0;
    d.actual = *i < b.names.size() ? b.names[*i] : 0;
    return d;
  }
  auto bytes = [&d](table_id t, auto const& x, auto const& y) {
    auto i = detail::first_mismatch(x, y);
    if (!i) return false;
    d.table = t;
    d.position = *i;
    d.expected = *i < x.size() ? static_cast<std::uint64_t>(x[*i]) & 0xffffffffu : 0;
    d.actual = *i < y.size() ? static_cast<std::uint64_t>(y[*i]) & 0xffffffffu : 0;
    return true;
  };
  if (bytes(table_id::markers, a.markers, b.markers)) return d;
  if (bytes(table_id::seqs_of_names, a.seqs_of_names, b.seqs_of_names)) {
    d.position /= 3;  // the entry
    return d;
  }
  if (bytes(table_id::token_table, a.token_table, b.token_table)) return d;
  if (bytes(table_id::token_index, a.token_index, b.token_index)) return d;
  return std::nullopt;
}

}  // namespace elfsieve::kernel::kallsyms
