// GNU readelf's view of a file, for the kernel export and __versions oracles: the file header (class, byte order,
// type, machine), section headers, .symtab, the relocations that apply to chosen sections and hex dumps of chosen
// sections, all from one `readelf -hSsrW -x ...` run. GNU readelf reads every class, byte order and machine
// without a BFD target, so the host's readelf serves every corpus architecture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace elfsieve::test::readelf {

struct section {
  unsigned index = 0;
  std::string name, type;
  std::uint64_t addr = 0, offset = 0, size = 0;
  unsigned link = 0, info = 0;
};

struct symbol {
  std::uint64_t value = 0;
  std::string type, bind, ndx, name;  // ndx: a number, UND, ABS or COM
};

struct reloc {
  std::uint64_t offset = 0;
  std::uint64_t info = 0;
  std::int64_t addend = 0;  // RELA only
};

struct dump {
  bool is64 = false, big_endian = false;
  std::string type;  // "REL", "EXEC", "DYN"
  std::string machine;
  std::vector<section> sections;                         // by index
  std::vector<symbol> symbols;                           // .symtab by index
  std::map<unsigned, std::vector<reloc>> relocs;         // by relocation section index, file order
  std::map<std::string, std::vector<std::uint8_t>> hex;  // section name -> bytes (first section of that name)
  std::string error;                                     // readelf failed or printed something unparsable

  [[nodiscard]] const section* find(std::string_view name) const {
    for (const auto& s : sections)
      if (s.name == name) return &s;
    return nullptr;
  }
  [[nodiscard]] std::uint32_t symbol_of(const reloc& r) const {
    return static_cast<std::uint32_t>(is64 ? r.info >> 32 : r.info >> 8);
  }
  [[nodiscard]] std::uint64_t load(const std::vector<std::uint8_t>& bytes, std::uint64_t at, unsigned width) const {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) {
      const std::uint64_t b = bytes.at(static_cast<std::size_t>(at + i));
      v |= big_endian ? b << (8 * (width - 1 - i)) : b << (8 * i);
    }
    return v;
  }
};

namespace detail {

inline std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

inline std::uint64_t number(std::string_view s, int base) {
  const std::string text(s);
  return std::strtoull(text.c_str(), nullptr, base);
}

}  // namespace detail

// Runs GNU readelf once on `path`: headers, sections, symbols, the relocations that apply to `hex_sections` and
// hex dumps of those sections.
inline dump run(const std::filesystem::path& path, const std::vector<std::string>& hex_sections, bool symbols = true,
                bool relocations = true) {
  std::vector<std::string> argv = {"readelf", "-W", "-h", "-S"};
  if (symbols) argv.emplace_back("-s");
  if (relocations) argv.emplace_back("-r");
  for (const auto& s : hex_sections) {
    argv.emplace_back("-x");
    argv.push_back(s);
  }
  argv.push_back(path.string());
  const auto r = run_process(argv);
  dump d;
  if (!r.ok()) {
    d.error = "readelf failed: " + r.err;
    return d;
  }
  enum class where { none, sections, symtab, other_symtab, relocs, hex } at = where::none;
  unsigned reloc_section = 0;
  bool rela = false;
  std::string hex_name;
  std::vector<std::uint8_t>* hex_bytes = nullptr;
  std::istringstream in(r.out);
  std::string l;
  while (std::getline(in, l)) {
    const std::string_view line(l);
    if (line.starts_with("  Class:")) d.is64 = line.find("ELF64") != std::string_view::npos;
    else if (line.starts_with("  Data:")) d.big_endian = line.find("big endian") != std::string_view::npos;
    else if (line.starts_with("  Type:")) {
      const auto t = detail::tokens(line);
      if (t.size() >= 2) d.type = std::string(t[1]);
    } else if (line.starts_with("  Machine:")) d.machine = std::string(line.substr(line.find(':') + 1));
    if (line.starts_with("Section Headers:")) {
      at = where::sections;
      continue;
    }
    if (line.starts_with("Symbol table '")) {
      at = line.starts_with("Symbol table '.symtab'") ? where::symtab : where::other_symtab;
      continue;
    }
    if (line.starts_with("Relocation section '")) {
      at = where::relocs;
      const auto name = line.substr(20, line.find('\'', 20) - 20);
      reloc_section = 0;
      for (const auto& s : d.sections)
        if (s.name == name) reloc_section = s.index;
      rela = reloc_section != 0 && d.sections[reloc_section].type == "RELA";
      // Only the relocations of the dumped sections: a module with DWARF has hundreds of thousands more.
      const unsigned target = reloc_section != 0 ? d.sections[reloc_section].info : 0;
      bool wanted = false;
      for (const auto& h : hex_sections)
        wanted = wanted || (target < d.sections.size() && d.sections[target].name == h);
      if (wanted) d.relocs[reloc_section];
      else at = where::none;
      continue;
    }
    if (line.starts_with("Hex dump of section '")) {
      at = where::hex;
      hex_name = std::string(line.substr(21, line.find('\'', 21) - 21));
      hex_bytes = d.hex.count(hex_name) != 0 ? nullptr : &d.hex[hex_name];
      continue;
    }
    if (line.empty()) {
      if (at == where::hex) at = where::none;
      continue;
    }
    switch (at) {
      case where::none:
      case where::other_symtab: break;
      case where::sections: {
        if (!line.starts_with("  [")) {
          if (!line.starts_with("  [Nr]")) at = where::none;
          break;
        }
        const auto close = line.find(']');
        if (line.substr(3, close - 3).find("Nr") != std::string_view::npos) break;
        section s;
        s.index = static_cast<unsigned>(detail::number(line.substr(3, close - 3), 10));
        auto t = detail::tokens(line.substr(close + 1));
        if (s.index == 0) {
          d.sections.push_back(s);
          break;
        }
        // Name Type Address Off Size ES [Flg] Lk Inf Al
        if (t.size() < 9) {
          d.error = "readelf -S line not understood: " + l;
          return d;
        }
        s.name = std::string(t[0]);
        s.type = std::string(t[1]);
        s.addr = detail::number(t[2], 16);
        s.offset = detail::number(t[3], 16);
        s.size = detail::number(t[4], 16);
        s.link = static_cast<unsigned>(detail::number(t[t.size() - 3], 10));
        s.info = static_cast<unsigned>(detail::number(t[t.size() - 2], 10));
        if (s.index != d.sections.size()) {
          d.error = "readelf -S: section index out of order: " + l;
          return d;
        }
        d.sections.push_back(s);
        break;
      }
      case where::symtab: {
        auto t = detail::tokens(line);
        if (t.empty() || t[0] == "Num:") break;
        // Num: Value Size Type Bind Vis [<localentry>: N] Ndx [Name]
        if (t.size() < 7) {
          d.error = "readelf -s line not understood: " + l;
          return d;
        }
        std::size_t i = 6;
        if (t[i].starts_with("[")) {
          while (i < t.size() && !t[i].ends_with("]")) ++i;
          ++i;
        }
        if (i >= t.size()) {
          d.error = "readelf -s line not understood: " + l;
          return d;
        }
        symbol s;
        s.value = detail::number(t[1], 16);
        s.type = std::string(t[3]);
        s.bind = std::string(t[4]);
        s.ndx = std::string(t[i]);
        if (i + 1 < t.size()) s.name = std::string(t[i + 1]);
        if (detail::number(t[0], 10) != d.symbols.size()) {
          d.error = "readelf -s: symbol index out of order: " + l;
          return d;
        }
        d.symbols.push_back(s);
        break;
      }
      case where::relocs: {
        auto t = detail::tokens(line);
        if (t.empty() || t[0] == "Offset" || t.size() < 3) break;
        reloc x;
        x.offset = detail::number(t[0], 16);
        x.info = detail::number(t[1], 16);
        if (rela) {
          if (t.size() >= 2 && (t[t.size() - 2] == "+" || t[t.size() - 2] == "-")) {
            const auto a = static_cast<std::int64_t>(detail::number(t.back(), 16));
            x.addend = t[t.size() - 2] == "-" ? -a : a;
          } else {
            x.addend = static_cast<std::int64_t>(detail::number(t.back(), 16));
          }
        }
        d.relocs[reloc_section].push_back(x);
        break;
      }
      case where::hex: {
        if (!line.starts_with("  0x")) break;  // the NOTE about relocations
        if (hex_bytes == nullptr) break;
        const auto space = line.find(' ', 4);
        const auto digits = line.substr(space + 1, 36);
        std::string compact;
        for (char c : digits)
          if (c != ' ') compact += c;
        for (std::size_t i = 0; i + 1 < compact.size(); i += 2)
          hex_bytes->push_back(static_cast<std::uint8_t>(detail::number(compact.substr(i, 2), 16)));
        break;
      }
    }
  }
  return d;
}

}  // namespace elfsieve::test::readelf
