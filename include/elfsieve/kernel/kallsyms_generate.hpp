// scripts/kallsyms without the process: from a System.map (kernel/system_map.hpp) to the kallsyms tables and the .S
// text the kernel's tool prints, for Debian's 6.1.192 and 6.12.117 sources.
//
// The steps and the rules of each (both versions unless said):
//   read_map     a line is "ADDRESS TYPE NAME". 6.1 reads it with fscanf("%llx %c %2048s\n") and skips a line it
//                cannot read; 6.12 reads whole lines and stops with "line format error" on one it cannot read (an
//                undefined weak object, 'v', printed without an address, is such a line). A name of 512 bytes or
//                more is skipped with "Symbol NAME too long for kallsyms" (not an error: the tool goes on).
//                `_text` sets the base of the .S addresses (even if the symbol is then ignored).
//   ignored      6.1: the kallsyms_* tables' own names, _SDA_BASE_, _SDA2_BASE_, the arm64/lld/CFI prefixes,
//                _from_arm/_from_thumb/_veneer, .long_branch./.plt_branch.; both: types U/u (6.1), u (6.12), N/n
//                (6.1), n (6.12), and absolute symbols (A/a) other than __kernel_syscall_via_break,
//                __kernel_syscall_via_epc, __kernel_sigtramp and __gp. 6.12's mksysmap drops the rest before.
//   ranges       _stext.._etext and _sinittext.._einittext (inclusive; 0..0 when absent), __per_cpu_start..
//                __per_cpu_end (empty when absent): the last kept symbol of each name sets the bound.
//   symbol_valid without --all-symbols only symbols in a text range stay, minus those at _etext/_einittext's
//                address with another name; 6.12 also keeps every __start_* and __stop_*. 6.1 fails with
//                "No valid symbol." when none is left.
//   percpu       --absolute-percpu: symbols in the per-cpu range become absolute, their type 'A'.
//   sort         by address; then non-weak (type not w/W) first; then not linker-script-like (__start_*, __stop_*,
//                __end_*, *_start, *_end with two leading underscores and at least 8 bytes) first; then fewer
//                leading underscores; then input order.
//   relative     base-relative (6.1 --base-relative, 6.12 always): relative_base is the first non-absolute
//                symbol's address; offsets are address - base (0..UINT_MAX), or with --absolute-percpu the
//                address of an absolute symbol (0..INT_MAX) and base - address - 1 (INT_MIN..-1) of the others;
//                anything else is "kallsyms failure: ... out of range in relative mode".
//   compression  kernel/kallsyms_compress.hpp over "TYPE NAME" bytes (type letter first, no space).
//   by name      kallsyms_seqs_of_names: the address-order numbers of the symbols sorted by name (strcmp), ties
//                by address then number; 6.1 --lto-clang compares names cut at their first ".llvm.".
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/kallsyms_compress.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/kernel/system_map.hpp"

namespace elfsieve::kernel::kallsyms {

// Longest name the kernel accepts is KSYM_NAME_LEN - 1 bytes.
inline constexpr std::size_t ksym_name_len = 512;

namespace detail {
// A name's 8 bytes from some depth on, big-endian and padded with NULs, and the symbol's number.
struct name_key {
  std::uint64_t head;
  std::uint32_t index;
};

}  // namespace detail

// What scripts/kallsyms computes, as flat arrays (index = position in address order, the tables' order).
struct generation {
  kallsyms::tables tables;
  std::vector<std::string_view> names;  // without the type letter
  std::vector<char> types;              // the letter in kallsyms_names ('A' for per-cpu made absolute)
  std::vector<std::uint64_t> symbol_addresses;
  std::vector<std::uint8_t> absolute;      // 1: a per-cpu symbol made absolute (--absolute-percpu)
  std::vector<std::uint32_t> by_name;      // positions in kallsyms_seqs_of_names order
  std::uint64_t text = 0;                  // _text: the .S writes addresses as _text + offset
  std::vector<std::string_view> too_long;  // names skipped as "too long for kallsyms", in map order
  std::string_view failing_symbol;         // the symbol of a kallsyms_value_out_of_range error
  std::uint64_t failing_value = 0;
  bool failing_absolute = false;  // "absolute" or "relative" in the message

  // Working memory kept between runs.
  token_compressor compressor;
  std::vector<std::uint8_t> symbol_bytes;
  std::vector<std::uint32_t> symbol_start;
  std::vector<std::uint16_t> symbol_length;
  std::vector<std::uint32_t> order;  // the map entries read_map keeps
  std::vector<detail::name_key> name_keys, name_scratch;
};

namespace detail {

[[nodiscard]] constexpr bool has_prefix(std::string_view s, std::string_view p) noexcept {
  return s.substr(0, p.size()) == p;
}
[[nodiscard]] constexpr bool has_suffix(std::string_view s, std::string_view p) noexcept {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

[[nodiscard]] constexpr bool upper_is(char c, char upper) noexcept {
  return c == upper || c == static_cast<char>(upper - 'A' + 'a');
}

// is_ignored_symbol.
[[nodiscard]] constexpr bool ignored_symbol(std::string_view name, char type, kernel_version version) noexcept {
  if (version == kernel_version::v6_1) {
    // Most names start with neither 'k' nor '_', and end in none of 'm', 'b', 'r': one comparison each.
    const char first = name.empty() ? '\0' : name[0];
    if (first == 'k' && has_prefix(name, "kallsyms_")) {
      constexpr std::string_view exact[] = {"kallsyms_addresses",   "kallsyms_offsets",     "kallsyms_relative_base",
                                            "kallsyms_num_syms",    "kallsyms_names",       "kallsyms_markers",
                                            "kallsyms_token_table", "kallsyms_token_index", "kallsyms_seqs_of_names"};
      for (std::string_view e : exact)
        if (name == e) return true;
    }
    if (first == '_' && name.size() > 2 && name[1] == 'S' && (name == "_SDA_BASE_" || name == "_SDA2_BASE_"))
      return true;
    // The prefixes after "__" start with one of "ekATLm".
    if (first == '_' && name.size() > 2 && name[1] == '_' &&
        std::string_view("ekATLm").find(name[2]) != std::string_view::npos) {
      constexpr std::string_view prefixes[] = {
          "__efistub_",          "__kvm_nvhe_$",          "__kvm_nvhe_.L", "__AArch64ADRPThunk_", "__ARMV5PILongThunk_",
          "__ARMV7PILongThunk_", "__ThumbV7PILongThunk_", "__LA25Thunk_",  "__microLA25Thunk_",   "__kcfi_typeid_"};
      for (std::string_view p : prefixes)
        if (has_prefix(name, p)) return true;
    }
    const char last = name.empty() ? '\0' : name.back();
    if (last == 'm' || last == 'b' || last == 'r')
      for (std::string_view s :
           {std::string_view("_from_arm"), std::string_view("_from_thumb"), std::string_view("_veneer")})
        if (has_suffix(name, s)) return true;
    const std::size_t dot = name.find('.');
    if (dot != std::string_view::npos && (name.find(".long_branch.", dot) != std::string_view::npos ||
                                          name.find(".plt_branch.", dot) != std::string_view::npos))
      return true;
    if (type == 'U' || type == 'u' || type == 'N' || type == 'n') return true;
  } else if (type == 'u' || type == 'n') {
    return true;
  }
  if (upper_is(type, 'A'))
    return name != "__kernel_syscall_via_break" && name != "__kernel_syscall_via_epc" && name != "__kernel_sigtramp" &&
           name != "__gp";
  return false;
}

// may_be_linker_script_provide_symbol.
[[nodiscard]] constexpr bool linker_script_like(std::string_view name) noexcept {
  if (name.size() < 8 || name[0] != '_' || name[1] != '_') return false;
  const std::string_view rest = name.substr(2);
  return has_prefix(rest, "start_") || has_prefix(rest, "stop_") || has_prefix(rest, "end_") ||
         has_suffix(name, "_start") || has_suffix(name, "_end");
}

[[nodiscard]] inline std::size_t leading_underscores(std::string_view name) noexcept {
  std::size_t n = 0;
  while (n < name.size() && name[n] == '_') ++n;
  return n;
}

// 6.1 --lto-clang's cleanup_symbol_name: the name up to its first ".llvm.".
[[nodiscard]] inline std::string_view lto_clean(std::string_view name) noexcept {
  return name.substr(0, name.find(".llvm."));
}

// A range of scripts/kallsyms: bounds set by the named symbols.
struct address_range {
  std::uint64_t start = 0, end = 0;
  [[nodiscard]] constexpr bool holds(std::uint64_t a) const noexcept { return a >= start && a <= end; }
};

// A name the structured reading handles as the kernel's line parser would: none of the characters that split or
// end its fields (6.1: white space, and more than 2048 bytes; 6.12: a newline), not empty for 6.1's %s.
[[nodiscard]] constexpr bool plain_name(std::string_view name, kernel_version version) noexcept {
  if (version == kernel_version::v6_12) return name.find('\n') == std::string_view::npos;
  if (name.empty() || name.size() > 4 * ksym_name_len) return false;
  // White space is at most ' ': whether any byte is below 0x21 decides for almost every name, 8 bytes at a time
  // (the "has a byte less than n" test, exact for n <= 128).
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  bool low = false;
  std::size_t at = 0;
  if (!std::is_constant_evaluated()) {
    for (; at + 8 <= name.size() && !low; at += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, name.data() + at, 8);
      low = ((w - ones * 0x21) & ~w & highs) != 0;
    }
  }
  for (; at < name.size() && !low; ++at) low = static_cast<unsigned char>(name[at]) <= ' ';
  if (!low) return true;
  for (char c : name)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') return false;
  return true;
}

// Sorts keys by head, stably (equal heads keep their order): an LSD radix sort that skips the bytes where all heads
// agree, insertion below 64 keys.
inline void sort_name_keys(std::span<name_key> keys, std::vector<name_key>& scratch) {
  const std::size_t n = keys.size();
  if (n < 64) {
    for (std::size_t i = 1; i < n; ++i) {
      const name_key k = keys[i];
      std::size_t j = i;
      for (; j > 0 && keys[j - 1].head > k.head; --j) keys[j] = keys[j - 1];
      keys[j] = k;
    }
    return;
  }
  std::array<std::array<std::uint32_t, 256>, 8> count{};
  for (const name_key& k : keys)
    for (unsigned b = 0; b < 8; ++b) ++count[b][(k.head >> (8 * b)) & 0xff];
  scratch.resize(n);
  std::span<name_key> from = keys, to{scratch.data(), n};
  for (unsigned b = 0; b < 8; ++b) {
    if (count[b][(keys[0].head >> (8 * b)) & 0xff] == n) continue;  // every head has this byte
    std::uint32_t at = 0;
    for (std::uint32_t& c : count[b]) at += std::exchange(c, at);
    for (const name_key& k : from) to[count[b][(k.head >> (8 * b)) & 0xff]++] = k;
    std::swap(from, to);
  }
  if (from.data() != keys.data()) std::copy(from.begin(), from.end(), keys.begin());
}

}  // namespace detail

// The symbols scripts/kallsyms' read_map keeps from `map`: their indices in map.entries, in map order, into `out`
// (cleared first; the map order is also the kernel's input order, start_pos / seq); too-long names
// go to gen.too_long; sets gen.text. Errors: 6.12's "line format error" (errc::kallsyms_line_format, detail: the
// line number) and errc::kallsyms_unsupported_name for a name the line parser would split (white space, a newline; see
// plain_name), which no real vmlinux has.
inline result<void> read_kallsyms_map(const system_map& map, kernel_version version, generation& gen,
                                      std::vector<std::uint32_t>& out) {
  out.clear();
  gen.too_long.clear();
  gen.text = 0;
  out.reserve(map.entries.size());
  for (std::size_t line = 0; line < map.entries.size(); ++line) {
    const map_entry& e = map.entries[line];
    if (!detail::plain_name(e.name, version)) return with_detail(make_error(errc::kallsyms_unsupported_name), line + 1);
    if (map_undefined_letter(e.type)) {
      // No address: 6.1's %llx fails and the rest of the line is skipped; 6.12 stops.
      if (version == kernel_version::v6_12) return with_detail(make_error(errc::kallsyms_line_format), line + 1);
      continue;
    }
    if (version == kernel_version::v6_12 && static_cast<unsigned char>(e.type) >= 0x80)
      return with_detail(make_error(errc::kallsyms_line_format), line + 1);
    if (e.name.size() >= ksym_name_len) {
      gen.too_long.push_back(e.name);
      continue;
    }
    if (e.name == "_text") gen.text = e.address;
    if (detail::ignored_symbol(e.name, e.type, version)) continue;
    out.push_back(static_cast<std::uint32_t>(line));
  }
  return {};
}

namespace detail {

// generate() below; `release`, when given, is the map itself, emptied (its array freed) once the kept symbols are
// read from it, so that the compressor's arrays take its pages instead of new ones; the compressor's own arrays are
// then freed after it ran, for the tables' sake.
inline result<void> generate(const system_map& map, const options& o, generation& gen, system_map* release) {
  const kernel_version version = o.version;
  const bool v6_1 = version == kernel_version::v6_1;
  std::vector<std::uint32_t>& read = gen.order;
  ELFSIEVE_TRY_VOID(read_kallsyms_map(map, version, gen, read));
  const std::vector<map_entry>& entries = map.entries;

  // check_symbol_range: the last symbol of each name wins.
  address_range text_range, inittext_range;
  address_range percpu{std::numeric_limits<std::uint64_t>::max(), 0};
  for (std::uint32_t i : read) {
    const map_entry& s = entries[i];
    const std::string_view n = s.name;
    if (n.size() < 6 || n[0] != '_') continue;
    if (n == "_stext") text_range.start = s.address;
    else if (n == "_etext") text_range.end = s.address;
    else if (n == "_sinittext") inittext_range.start = s.address;
    else if (n == "_einittext") inittext_range.end = s.address;
    else if (n == "__per_cpu_start") percpu.start = s.address;
    else if (n == "__per_cpu_end") percpu.end = s.address;
  }

  // shrink_table (symbol_valid), then make_percpus_absolute (type 'A'), then sort_symbols.
  struct sort_key {
    std::uint64_t address;
    std::uint32_t input;  // index in the map: the input order
    std::uint16_t underscores;
    std::uint8_t weak;
    std::uint8_t linker_script;
  };
  std::vector<sort_key> keys;
  keys.reserve(read.size());
  const bool absolute_percpu = o.absolute_percpu;
  auto made_absolute = [&](const map_entry& s) { return absolute_percpu && percpu.holds(s.address); };
  for (std::uint32_t i : read) {
    const map_entry& s = entries[i];
    if (!o.all_symbols) {
      const bool boundary = !v6_1 && (has_prefix(s.name, "__start_") || has_prefix(s.name, "__stop_"));
      if (!boundary) {
        if (!text_range.holds(s.address) && !inittext_range.holds(s.address)) continue;
        if ((s.address == text_range.end && s.name != "_etext") ||
            (s.address == inittext_range.end && s.name != "_einittext"))
          continue;
      }
    }
    const bool weak = !made_absolute(s) && (s.type == 'w' || s.type == 'W');
    keys.push_back({s.address, i, static_cast<std::uint16_t>(leading_underscores(s.name)),
                    static_cast<std::uint8_t>(weak), static_cast<std::uint8_t>(linker_script_like(s.name))});
  }
  if (keys.empty() && v6_1) return make_error(errc::kallsyms_no_valid_symbol);
  const std::size_t count = keys.size();
  auto before = [](const sort_key& a, const sort_key& b) {
    if (a.address != b.address) return a.address < b.address;
    if (a.weak != b.weak) return a.weak < b.weak;
    if (a.linker_script != b.linker_script) return a.linker_script < b.linker_script;
    if (a.underscores != b.underscores) return a.underscores < b.underscores;
    return a.input < b.input;
  };
  // A System.map is in address order already: then only the runs of symbols at one address need sorting.
  const auto by_address = [](const sort_key& a, const sort_key& b) { return a.address < b.address; };
  if (std::is_sorted(keys.begin(), keys.end(), by_address)) {
    for (auto run = keys.begin(); run != keys.end();) {
      const auto end = std::find_if(run + 1, keys.end(), [&](const sort_key& k) { return k.address != run->address; });
      if (end - run > 1) std::sort(run, end, before);
      run = end;
    }
  } else {
    std::sort(keys.begin(), keys.end(), before);
  }

  gen.names.resize(count);
  gen.types.resize(count);
  gen.symbol_addresses.resize(count);
  gen.absolute.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    const map_entry& s = entries[keys[k].input];
    const bool abs = made_absolute(s);
    gen.names[k] = s.name;
    gen.types[k] = abs ? 'A' : s.type;
    gen.symbol_addresses[k] = s.address;
    gen.absolute[k] = abs ? 1 : 0;
  }
  std::vector<sort_key>().swap(keys);  // its pages serve the arrays that follow
  if (release != nullptr) std::vector<map_entry>().swap(release->entries);

  tables& t = gen.tables;
  t = tables{};
  t.base_relative = !v6_1 || o.base_relative;
  t.num_syms = static_cast<std::uint32_t>(count);
  gen.failing_symbol = {};
  if (t.base_relative) {
    // record_relative_base, then the offsets (checked here, before any output).
    for (std::size_t k = 0; k < count; ++k)
      if (gen.absolute[k] == 0) {
        t.relative_base = gen.symbol_addresses[k];
        break;
      }
    t.offsets.resize(count);
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint64_t a = gen.symbol_addresses[k];
      const bool abs = gen.absolute[k] != 0;
      // The kernel computes in long long from unsigned values; the same wrap-around here.
      long long offset = 0;
      bool overflow = false;
      if (!o.absolute_percpu) {
        offset = static_cast<long long>(a - t.relative_base);
        overflow = offset < 0 || offset > static_cast<long long>(std::numeric_limits<unsigned int>::max());
      } else if (abs) {
        offset = static_cast<long long>(a);
        overflow = offset < 0 || offset > std::numeric_limits<int>::max();
      } else {
        offset = static_cast<long long>(t.relative_base - a - 1);
        overflow = offset < std::numeric_limits<int>::min() || offset >= 0;
      }
      if (overflow) {
        gen.failing_symbol = gen.names[k];
        gen.failing_value = a;
        gen.failing_absolute = abs;
        return with_detail(make_error(errc::kallsyms_value_out_of_range), a);
      }
      t.offsets[k] = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<unsigned long long>(offset)));
    }
  } else {
    t.addresses.assign(gen.symbol_addresses.begin(), gen.symbol_addresses.end());
  }

  // kallsyms_seqs_of_names (sorted after the compression): strcmp order (ties by address, then by number: the
  // number alone is both). Names are compared 8 bytes at a time, as big-endian keys padded with NULs (no name holds
  // one): a stable sort on the keys of the names in number order, then each run of equal keys whose names go on
  // sorted again on their next 8 bytes. The first keys are taken as the names are copied, while they are in cache.
  const bool lto = v6_1 && o.lto_clang;
  auto key_at = [&](std::uint32_t k, std::size_t depth) {
    const std::string_view n = lto ? detail::lto_clean(gen.names[k]) : gen.names[k];
    std::uint64_t head = 0;
    for (std::size_t j = depth; j < depth + 8; ++j)
      head = head << 8 | (j < n.size() ? static_cast<std::uint8_t>(n[j]) : 0u);
    return detail::name_key{head, k};
  };
  // The compressor's input: type letter and name of each symbol, back to back. Its largest array is allocated
  // first, where the map was.
  std::size_t total = 0;
  for (std::size_t k = 0; k < count; ++k) total += gen.names[k].size() + 1;
  if (release != nullptr) gen.compressor.reserve(total, count);
  std::vector<detail::name_key>& by_name = gen.name_keys;
  std::vector<detail::name_key>& scratch = gen.name_scratch;
  by_name.resize(count);
  gen.symbol_bytes.resize(total);
  gen.symbol_start.resize(count);
  gen.symbol_length.resize(count);
  {
    std::size_t at = 0;
    for (std::size_t k = 0; k < count; ++k) {
      gen.symbol_start[k] = static_cast<std::uint32_t>(at);
      gen.symbol_length[k] = static_cast<std::uint16_t>(gen.names[k].size() + 1);
      gen.symbol_bytes[at] = static_cast<std::uint8_t>(gen.types[k]);
      std::copy(gen.names[k].begin(), gen.names[k].end(), reinterpret_cast<char*>(gen.symbol_bytes.data() + at + 1));
      by_name[k] = key_at(static_cast<std::uint32_t>(k), 0);
      at += gen.names[k].size() + 1;
    }
  }
  const token_codes codes = gen.compressor.compress(gen.symbol_bytes, gen.symbol_start, gen.symbol_length);
  if (release != nullptr) gen.compressor.release();  // one run: the tables below take its pages

  // kallsyms_names and kallsyms_markers.
  t.names.reserve(total + 2 * count);
  t.markers.reserve((count + 255) / 256);
  for (std::size_t k = 0; k < count; ++k) {
    if ((k & 0xff) == 0) t.markers.push_back(static_cast<std::uint32_t>(t.names.size()));
    const std::uint16_t len = gen.symbol_length[k];
    if (len <= 0x7f) {
      t.names.push_back(static_cast<std::uint8_t>(len));
    } else {
      t.names.push_back(static_cast<std::uint8_t>((len & 0x7f) | 0x80));
      t.names.push_back(static_cast<std::uint8_t>((len >> 7) & 0x7f));
    }
    const std::uint8_t* s = gen.symbol_bytes.data() + gen.symbol_start[k];
    t.names.insert(t.names.end(), s, s + len);
  }

  // kallsyms_token_table and kallsyms_token_index.
  std::string token;
  for (int c = 0; c < 256; ++c) {
    t.token_index.push_back(static_cast<std::uint16_t>(t.token_table.size()));
    token.clear();
    codes.expand(static_cast<std::uint8_t>(c), token);
    // printf("%s") stops at a NUL; no code but 0 can expand to one, and code 0 only names a token.
    token.resize(std::min(token.size(), token.find('\0')));
    t.token_table.insert(t.token_table.end(), token.begin(), token.end());
    t.token_table.push_back('\0');
  }

  detail::sort_name_keys(by_name, scratch);
  struct pending_run {
    std::size_t begin, end, depth;  // by_name[begin, end) share their first `depth` + 8 bytes
  };
  std::vector<pending_run> runs;
  auto find_runs = [&](std::size_t begin, std::size_t end, std::size_t depth) {
    for (std::size_t i = begin; i < end;) {
      std::size_t j = i + 1;
      while (j < end && by_name[j].head == by_name[i].head) ++j;
      // A key ending in a NUL is a whole name: equal keys are equal names, already in number order.
      if (j - i > 1 && (by_name[i].head & 0xff) != 0) runs.push_back({i, j, depth});
      i = j;
    }
  };
  find_runs(0, count, 0);
  while (!runs.empty()) {
    const pending_run r = runs.back();
    runs.pop_back();
    for (std::size_t i = r.begin; i < r.end; ++i) by_name[i] = key_at(by_name[i].index, r.depth + 8);
    detail::sort_name_keys(std::span(by_name).subspan(r.begin, r.end - r.begin), scratch);
    find_runs(r.begin, r.end, r.depth + 8);
  }
  gen.by_name.resize(count);
  for (std::size_t k = 0; k < count; ++k) gen.by_name[k] = by_name[k].index;
  t.seqs_of_names.resize(3 * count);
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint32_t seq = gen.by_name[k];
    t.seqs_of_names[3 * k] = static_cast<std::uint8_t>(seq >> 16);
    t.seqs_of_names[3 * k + 1] = static_cast<std::uint8_t>(seq >> 8);
    t.seqs_of_names[3 * k + 2] = static_cast<std::uint8_t>(seq);
  }
  return {};
}

}  // namespace detail

// scripts/kallsyms on `map` with options `o`: fills gen (tables and the arrays the .S writer reads). Errors: those
// of read_kallsyms_map, errc::kallsyms_no_valid_symbol (6.1, nothing left), errc::kallsyms_value_out_of_range
// (base-relative; gen.failing_symbol names the symbol). gen.order holds indices into map.entries.
inline result<void> generate(const system_map& map, const options& o, generation& gen) {
  return detail::generate(map, o, gen, nullptr);
}

// The same for a map that is not needed afterwards: its array is freed as soon as the kept symbols are copied out
// (the names stay views into the image), so the largest array of a run is gone before the compressor makes its own,
// and the compressor's position lists are freed once it has run (gen.compressor allocates them again next time).
inline result<void> generate(system_map&& map, const options& o, generation& gen) {
  return detail::generate(map, o, gen, &map);
}

namespace detail {

inline constexpr std::string_view hex_digits = "0123456789abcdef";

// printf("%#llx"): "0" for zero, else "0x" and lowercase digits.
inline void append_hex(std::string& out, std::uint64_t v) {
  if (v == 0) {
    out.push_back('0');
    return;
  }
  char buf[18];
  std::size_t at = sizeof buf;
  for (; v != 0; v >>= 4) buf[--at] = hex_digits[v & 15];
  buf[--at] = 'x';
  buf[--at] = '0';
  out.append(buf + at, sizeof buf - at);
}

inline void append_label(std::string& out, std::string_view label) {
  out.append(".globl ").append(label).append("\n\tALGN\n").append(label).append(":\n");
}

// output_address: "\tPTR\t_text + %#llx\n" or "- ...".
inline void append_text_relative(std::string& out, std::uint64_t text, std::uint64_t address) {
  out.append(text <= address ? "\tPTR\t_text + " : "\tPTR\t_text - ");
  append_hex(out, text <= address ? address - text : text - address);
  out.push_back('\n');
}

// ", 0x00" to ", 0xff", 8 bytes apart: each byte of a .byte line is one 8-byte copy, whose last 2 bytes the next
// copy (or nothing, past the end of the line) overwrites.
struct byte_items {
  std::array<char, std::size_t{256} * 8> text{};
  constexpr byte_items() {
    for (std::size_t b = 0; b < 256; ++b) {
      char* item = text.data() + 8 * b;
      item[0] = ',';
      item[1] = ' ';
      item[2] = '0';
      item[3] = 'x';
      item[4] = hex_digits[b >> 4];
      item[5] = hex_digits[b & 15];
    }
  }
};
inline constexpr byte_items byte_item_table{};

// "\t.byte 0x12, 0x34, ..." of n bytes (no newline), through a buffer on the stack.
inline void append_byte_line(std::string& out, const std::uint8_t* bytes, std::size_t n) {
  constexpr std::string_view head = "\t.byte ";
  char line[6 * 64 + 8];
  std::size_t used = head.copy(line, head.size());
  if (n > 0) {
    std::memcpy(line + used, byte_item_table.text.data() + 8 * std::size_t{bytes[0]} + 2, 4);  // no ", "
    used += 4;
  }
  for (std::size_t i = 1; i < n; ++i) {
    if (used > sizeof line - 8) {
      out.append(line, used);
      used = 0;
    }
    std::memcpy(line + used, byte_item_table.text.data() + 8 * std::size_t{bytes[i]}, 8);
    used += 6;
  }
  out.append(line, used);
}

inline void append_unsigned(std::string& out, std::uint64_t v) {
  char buf[24];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

// "\t/* Tname */\n" (6.12's comments after a table line).
inline void append_comment(std::string& out, const generation& g, std::size_t k) {
  out.append("\t/* ").append(1, g.types[k]).append(g.names[k]).append(" */\n");
}

}  // namespace detail

// The .S text scripts/kallsyms prints for `g` (made by generate with the same options), appended to `out`; whenever
// `out` holds `flush_at` bytes or more after a line, `flush(std::string_view)` gets them and `out` is emptied (the
// rest stays in `out`). 6.1's text reads only the tables; 6.12's comments read the names in g.names again.
template <class Flush>
void write_assembly(const generation& g, const options& o, std::string& out, std::size_t flush_at, Flush&& flush) {
  using namespace detail;
  const tables& t = g.tables;
  const bool v6_1 = o.version == kernel_version::v6_1;
  const std::size_t count = t.num_syms;
  // The whole text at once when it is kept: 6 characters per kallsyms_names byte, at most 32 per other line, and
  // 6.12's comments; else a chunk and its longest line (a name of 511 bytes: 4 KiB).
  std::size_t whole = t.names.size() * 6 + count * 96 + 16384;
  if (!v6_1)
    for (std::string_view n : g.names) whole += 3 * (n.size() + 8);
  out.reserve(out.size() + (flush_at >= whole ? whole : flush_at + 8192));
  auto line_done = [&] {
    if (out.size() >= flush_at) {
      flush(std::string_view(out));
      out.clear();
    }
  };
  out.append(
      "#include <asm/bitsperlong.h>\n#if BITS_PER_LONG == 64\n#define PTR .quad\n#define ALGN .balign 8\n#else\n"
      "#define PTR .long\n#define ALGN .balign 4\n#endif\n\t.section .rodata, \"a\"\n");

  auto offsets = [&] {
    append_label(out, "kallsyms_offsets");
    for (std::size_t k = 0; k < count; ++k) {
      out.append("\t.long\t");
      append_hex(out, static_cast<std::uint32_t>(t.offsets[k]));
      if (v6_1) out.push_back('\n');
      else append_comment(out, g, k);
      line_done();
    }
    out.push_back('\n');
    append_label(out, "kallsyms_relative_base");
    append_text_relative(out, g.text, t.relative_base);
    out.push_back('\n');
  };
  auto num_syms = [&] {
    append_label(out, "kallsyms_num_syms");
    out.append("\t.long\t");
    append_unsigned(out, count);
    out.append("\n\n");
  };
  auto names_and_markers = [&] {
    append_label(out, "kallsyms_names");
    std::size_t at = 0;
    for (std::size_t k = 0; k < count; ++k) {
      // The length (one byte, or two with the high bit of the first set), then the codes.
      const std::uint8_t first = t.names[at];
      const std::size_t head = (first & 0x80) != 0 ? 2 : 1;
      const std::size_t len = head == 1 ? first : (first & 0x7fu) | (std::size_t{t.names[at + 1]} << 7);
      append_byte_line(out, t.names.data() + at, head + len);
      at += head + len;
      if (v6_1) out.push_back('\n');
      else append_comment(out, g, k);
      line_done();
    }
    out.push_back('\n');
    append_label(out, "kallsyms_markers");
    for (std::uint32_t m : t.markers) {
      out.append("\t.long\t");
      append_unsigned(out, m);
      out.push_back('\n');
    }
    out.push_back('\n');
  };
  auto seqs = [&] {
    append_label(out, "kallsyms_seqs_of_names");
    for (std::size_t k = 0; k < count; ++k) {
      append_byte_line(out, t.seqs_of_names.data() + 3 * k, 3);
      if (v6_1) out.push_back('\n');
      else append_comment(out, g, g.by_name[k]);
      line_done();
    }
    out.push_back('\n');
  };
  auto tokens = [&] {
    append_label(out, "kallsyms_token_table");
    for (std::size_t c = 0; c < 256; ++c) {
      out.append("\t.asciz\t\"");
      out.append(t.token_table.data() + t.token_index[c]);
      out.append("\"\n");
    }
    out.push_back('\n');
    append_label(out, "kallsyms_token_index");
    for (std::size_t c = 0; c < 256; ++c) {
      out.append("\t.short\t");
      append_unsigned(out, t.token_index[c]);
      out.push_back('\n');
    }
    out.push_back('\n');
  };

  if (v6_1) {
    if (t.base_relative) {
      offsets();
    } else {
      append_label(out, "kallsyms_addresses");
      for (std::size_t k = 0; k < count; ++k) {
        if (g.absolute[k] == 0) {
          append_text_relative(out, g.text, t.addresses[k]);
        } else {
          out.append("\tPTR\t");
          append_hex(out, t.addresses[k]);
          out.push_back('\n');
        }
        line_done();
      }
      out.push_back('\n');
    }
    num_syms();
    names_and_markers();
    seqs();
    tokens();
  } else {
    num_syms();
    names_and_markers();
    tokens();
    offsets();
    seqs();
  }
}

// The whole .S text appended to `out`.
inline void append_assembly(const generation& g, const options& o, std::string& out) {
  write_assembly(g, o, out, std::numeric_limits<std::size_t>::max(), [](std::string_view) {});
}

}  // namespace elfsieve::kernel::kallsyms
