// Module.symvers: one line per exported symbol, `0x%08x\tNAME\tMODULE\tEXPORT_SYMBOL[_GPL]\tNAMESPACE\n`.
// Learned from Linux 6.1 and 6.12 scripts/mod/modpost.c (write_dump writes it, read_dump reads it back).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/kernel/export_table.hpp"

namespace elfsieve::kernel {

struct symvers_entry {
  std::uint32_t crc = 0;
  std::string_view name;
  std::string_view module;
  std::string_view name_space;  // "" without one
  bool gpl_only = false;
};

// Appends one line as modpost's write_dump formats it.
inline void append_symvers_line(std::string& out, std::uint32_t crc, std::string_view name, std::string_view module,
                                bool gpl_only, std::string_view name_space) {
  static constexpr char hex[] = "0123456789abcdef";
  char buf[10] = {'0', 'x'};
  for (int i = 0; i < 8; ++i) buf[2 + i] = hex[(crc >> (28 - 4 * i)) & 0xf];
  out.append(buf, sizeof buf);
  out += '\t';
  out += name;
  out += '\t';
  out += module;
  out += gpl_only ? "\tEXPORT_SYMBOL_GPL\t" : "\tEXPORT_SYMBOL\t";
  out += name_space;
  out += '\n';
}

inline void append_symvers_line(std::string& out, const kernel_export& x, std::string_view module) {
  append_symvers_line(out, x.crc, x.name, module, x.gpl_only, x.name_space);
}

namespace detail::symvers {

// strtoul(s, &end, 16) == whole field: optional white space and sign are what strtoul takes; modpost's files
// never have them, and a CRC is 32 bits, so this accepts [0x]hex digits that fit in 32 bits. An empty field is
// CRC 0, as read_dump reads it (strtoul stops at once, on the field's end).
[[nodiscard]] inline bool parse_crc(std::string_view s, std::uint32_t& crc) noexcept {
  crc = 0;
  if (s.empty()) return true;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
    else return false;
    v = v * 16 + digit;
    if (v > 0xffffffffu) return false;
  }
  crc = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace detail::symvers

// Parses Module.symvers text as read_dump does: five tab-separated fields (the namespace is the rest of the line),
// a non-empty name and module, the type EXPORT_SYMBOL or EXPORT_SYMBOL_GPL. read_dump skips a line of another
// type with an error message; here it is an error too. Names are views into `text`.
[[nodiscard]] inline result<std::vector<symvers_entry>> parse_symvers(std::string_view text) {
  std::vector<symvers_entry> out;
  std::uint64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    const std::uint64_t line_offset = pos;
    pos = end + 1;
    auto bad = [&] { return with_detail(make_error_at(errc::symvers_syntax, line_offset), line_no); };
    std::string_view field[5];
    for (int i = 0; i < 4; ++i) {
      const auto tab = line.find('\t');
      if (tab == std::string_view::npos) return bad();
      field[i] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    field[4] = line;
    symvers_entry e;
    if (!detail::symvers::parse_crc(field[0], e.crc) || field[1].empty() || field[2].empty()) return bad();
    if (field[3] == "EXPORT_SYMBOL_GPL") e.gpl_only = true;
    else if (field[3] != "EXPORT_SYMBOL") return bad();
    e.name = field[1];
    e.module = field[2];
    e.name_space = field[4];
    out.push_back(e);
  }
  return out;
}

// Exports by name: the first entry of each name in input order wins, as the first loaded exporter does.
class export_lookup {
 public:
  explicit export_lookup(std::span<const symvers_entry> entries) : entries_(entries) {
    order_.resize(entries.size());
    for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return entries_[a].name < entries_[b].name; });
  }
  [[nodiscard]] const symvers_entry* find(std::string_view name) const noexcept {
    auto it = std::lower_bound(order_.begin(), order_.end(), name,
                               [&](std::uint32_t i, std::string_view n) { return entries_[i].name < n; });
    if (it == order_.end() || entries_[*it].name != name) return nullptr;
    return &entries_[*it];
  }
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::span<const symvers_entry> entries_;
  std::vector<std::uint32_t> order_;
};

}  // namespace elfsieve::kernel
