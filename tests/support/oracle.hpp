// Differential-test harness: compare what the elfsieve views read with GNU binutils, which we did not write.
//
//   compare_readelf(path)          sections, symbols (.symtab and .dynsym) and relocations (REL, RELA, RELR)
//                                  against `readelf -W -S -r -s`, field by field.
//   compare_nm(options, paths)     `nm OPTIONS paths...` against `elfsieve-nm OPTIONS paths...`: stdout,
//                                  stderr (modulo the program name) and exit status.
//
// Both return a list of mismatches (empty when the tools agree); describe() turns it into a report that names
// the object, the place, the field and both values. Point them at any list of files (test_objects.hpp builds one
// from the sources in tests/data, and lists the files under a corpus directory).
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/process.hpp"

namespace elfsieve::test {

struct mismatch {
  std::string object;    // the file compared
  std::string where;     // e.g. "section [3]", "symbol .symtab[12]", "relocation .rela.text[4]", "nm -n"
  std::string field;     // e.g. "flags", "addend", "stdout line 7"
  std::string expected;  // what the oracle (readelf, nm) says
  std::string actual;    // what elfsieve says
};

inline std::string to_string(const mismatch& m) {
  return m.object + ": " + m.where + ": " + m.field + ": oracle `" + m.expected + "` vs elfsieve `" + m.actual + "`";
}

// The first `limit` mismatches, one a line, and how many more there are.
inline std::string describe(const std::vector<mismatch>& all, std::size_t limit = 25) {
  std::string out;
  for (std::size_t i = 0; i < all.size() && i < limit; ++i) out += to_string(all[i]) + "\n";
  if (all.size() > limit) out += "... and " + std::to_string(all.size() - limit) + " more\n";
  return out;
}

namespace detail {

inline std::string hex(std::uint64_t v) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%" PRIx64, v);
  return buffer;
}
inline std::string dec(std::uint64_t v) { return std::to_string(v); }
inline std::string sdec(std::int64_t v) { return std::to_string(v); }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

inline std::optional<std::uint64_t> parse_unsigned(std::string_view s, int base) {
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// readelf's print_symbol: control characters as ^X, DEL as <DEL>.
inline std::string printable(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20) {
      out += '^';
      out += static_cast<char>(u + 0x40);
    } else if (u == 0x7f) {
      out += "<DEL>";
    } else {
      out += c;
    }
  }
  return out;
}

// A tokenizer that remembers where it is, so "the rest of the line" (a name) can be taken verbatim.
class cursor {
 public:
  explicit cursor(std::string_view line) : s_(line) {}
  void skip_spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  std::string_view token() {
    skip_spaces();
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ') ++pos_;
    return s_.substr(start, pos_ - start);
  }
  [[nodiscard]] char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void advance(std::size_t n) { pos_ = std::min(s_.size(), pos_ + n); }
  [[nodiscard]] std::string_view rest() const { return s_.substr(pos_); }
  [[nodiscard]] std::size_t position() const { return pos_; }

  // A field such as "FUNC" or "<OS specific>: 11".
  std::string angle_field() {
    std::string out(token());
    if (!out.starts_with("<")) return out;
    // append() rather than `" " + std::string(...)`: the latter trips GCC 12's -Wrestrict false positive at -O3.
    while (out.find('>') == std::string::npos && pos_ < s_.size()) out.append(" ").append(token());
    if (out.ends_with(":")) out.append(" ").append(token());
    return out;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------
// readelf -W -S -r -s, parsed.

struct readelf_section {
  std::uint32_t index = 0;
  std::string name, type, flags;
  std::uint64_t addr = 0, offset = 0, size = 0, entsize = 0, align = 0;
  std::uint32_t link = 0, info = 0;
};

struct readelf_symbol {
  std::uint64_t num = 0, value = 0, size = 0;
  std::string type, bind, vis, other, ndx, name;
};

struct readelf_symbol_table {
  std::string name;
  std::uint64_t count = 0;
  std::vector<readelf_symbol> symbols;
};

struct readelf_relocation {
  std::uint64_t offset = 0, info = 0;
  std::string type_name;
  bool has_symbol_part = false;               // sym != 0: a value (or "name()" for an ifunc) and a name follow
  std::optional<std::uint64_t> symbol_value;  // absent for ifunc symbols (readelf prints name() instead)
  std::string ifunc_display;
  std::string symbol_name;
  bool has_addend = false;
  std::int64_t addend = 0;
};

struct readelf_relocation_section {
  std::string name;
  std::uint64_t file_offset = 0, count = 0;
  bool relr = false;
  std::vector<readelf_relocation> relocations;
  std::vector<std::uint64_t> relr_addresses;
};

struct readelf_dump {
  std::optional<std::uint64_t> section_count;
  std::vector<readelf_section> sections;
  std::vector<readelf_relocation_section> relocation_sections;
  std::vector<readelf_symbol_table> symbol_tables;
  std::vector<std::string> parse_errors;
};

namespace detail {

inline std::optional<readelf_section> parse_section_line(std::string_view line) {
  const std::size_t open = line.find('[');
  const std::size_t close = line.find(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  readelf_section s;
  const auto index = parse_unsigned(trim(line.substr(open + 1, close - open - 1)), 10);
  if (!index) return std::nullopt;
  s.index = static_cast<std::uint32_t>(*index);
  std::string_view rest = line.substr(std::min(line.size(), close + 2));
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);

  // From the right: "%2lx" es, " %3s " flags, "%2u %3u %2lu" link, info, align.
  auto last_token = [](std::string_view text, std::size_t& start) {
    std::size_t end = text.size();
    while (end > 0 && text[end - 1] == ' ') --end;
    start = end;
    while (start > 0 && text[start - 1] != ' ') --start;
    return text.substr(start, end - start);
  };
  std::size_t start = 0;
  std::string_view work = rest;
  const auto align = parse_unsigned(last_token(work, start), 10);
  work = work.substr(0, start);
  const auto info = parse_unsigned(last_token(work, start), 10);
  work = work.substr(0, start);
  const std::string_view link_text = last_token(work, start);
  const auto link = parse_unsigned(link_text, 10);
  if (!align || !info || !link || start < 2) return std::nullopt;
  s.align = *align;
  s.info = static_cast<std::uint32_t>(*info);
  s.link = static_cast<std::uint32_t>(*link);
  const std::size_t link_field = link_text.size() == 1 ? start - 1 : start;  // "%2u"
  std::size_t flags_start = link_field - 1;
  if (link_field >= 2 && work[link_field - 2] != ' ') {
    flags_start = link_field - 2;
    while (flags_start > 0 && work[flags_start - 1] != ' ') --flags_start;
    s.flags = std::string(work.substr(flags_start, link_field - 1 - flags_start));
  }
  work = work.substr(0, flags_start);
  std::optional<std::uint64_t> fields[4];  // entsize, size, offset, addr
  for (auto& field : fields) {
    field = parse_unsigned(last_token(work, start), 16);
    if (!field) return std::nullopt;
    work = work.substr(0, start);
  }
  s.entsize = *fields[0];
  s.size = *fields[1];
  s.offset = *fields[2];
  s.addr = *fields[3];
  // What is left is the name padded to 17 columns, a space and the type padded to 15. Two type names have spaces.
  std::string_view name_and_type = trim(work);
  if (work.starts_with(' ')) {  // empty name
    s.type = std::string(name_and_type);
    return s;
  }
  std::size_t type_start = std::string_view::npos;
  for (std::string_view spaced : {std::string_view("SYMTAB SECTION INDICES"), std::string_view(": <unknown>")}) {
    if (name_and_type.ends_with(spaced)) {
      std::size_t p = name_and_type.size() - spaced.size();
      if (spaced.starts_with(':'))
        while (p > 0 && name_and_type[p - 1] != ' ') --p;
      type_start = p;
    }
  }
  if (type_start == std::string_view::npos) {
    type_start = name_and_type.rfind(' ');
    type_start = type_start == std::string_view::npos ? 0 : type_start + 1;
  }
  s.type = std::string(name_and_type.substr(type_start));
  s.name = std::string(trim(name_and_type.substr(0, type_start)));
  return s;
}

inline std::optional<readelf_symbol> parse_symbol_line(std::string_view line) {
  cursor c(line);
  std::string_view num = c.token();
  if (!num.ends_with(':')) return std::nullopt;
  num.remove_suffix(1);
  readelf_symbol s;
  const auto n = parse_unsigned(num, 10);
  const auto value = parse_unsigned(c.token(), 16);
  const std::string_view size_text = c.token();
  const auto size = size_text.starts_with("0x") ? parse_unsigned(size_text, 16) : parse_unsigned(size_text, 10);
  if (!n || !value || !size) return std::nullopt;
  s.num = *n;
  s.value = *value;
  s.size = *size;
  s.type = c.angle_field();
  s.bind = c.angle_field();
  s.vis = c.angle_field();
  c.skip_spaces();
  if (c.peek() == '[') {
    const std::string_view rest = c.rest();
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    s.other = std::string(rest.substr(1, close - 1));
    c.advance(close + 1);
  }
  std::string ndx(c.token());
  if (ndx == "OS") {
    ndx += " " + std::string(c.token());
  } else if (ndx == "bad") {
    while (ndx.find(']') == std::string::npos && !c.rest().empty()) ndx += " " + std::string(c.token());
  }
  s.ndx = ndx;
  if (c.peek() == ' ') c.advance(1);
  s.name = std::string(c.rest());
  while (!s.name.empty() && s.name.back() == '\r') s.name.pop_back();
  return s;
}

inline std::optional<readelf_relocation> parse_relocation_line(std::string_view line, bool is64, bool is_rela) {
  cursor c(line);
  readelf_relocation r;
  const auto offset = parse_unsigned(c.token(), 16);
  const auto info = parse_unsigned(c.token(), 16);
  if (!offset || !info) return std::nullopt;
  r.offset = *offset;
  r.info = *info;
  r.type_name = std::string(c.token());
  if (r.type_name == "unrecognized:") r.type_name += " " + std::string(c.token());
  const std::uint64_t sym = is64 ? (r.info >> 32) : ((r.info & 0xffffffffu) >> 8);
  if (sym != 0) {
    r.has_symbol_part = true;
    const std::string_view value = c.token();
    if (value.ends_with("()")) {
      r.ifunc_display = std::string(value);
    } else {
      r.symbol_value = parse_unsigned(value, 16);
      if (!r.symbol_value) return std::nullopt;
    }
    c.skip_spaces();
    std::string_view rest = c.rest();
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
    if (is_rela) {
      std::size_t sign = std::string_view::npos;
      for (std::string_view op : {std::string_view(" + "), std::string_view(" - ")}) {
        const std::size_t p = rest.rfind(op);
        if (p != std::string_view::npos && (sign == std::string_view::npos || p > sign)) sign = p;
      }
      std::size_t digits = 0;
      if (sign != std::string_view::npos) {
        digits = sign + 3;
      } else if (rest.starts_with("+ ") || rest.starts_with("- ")) {  // an empty name
        digits = 2;
      } else {
        return std::nullopt;
      }
      const char op = rest[digits - 2];
      const auto magnitude = parse_unsigned(rest.substr(digits), 16);
      if (!magnitude) return std::nullopt;
      r.has_addend = true;
      r.addend = static_cast<std::int64_t>(op == '-' ? 0 - *magnitude : *magnitude);
      rest = sign != std::string_view::npos ? rest.substr(0, sign) : std::string_view{};
    }
    r.symbol_name = std::string(rest);
  } else if (is_rela) {
    std::string_view text = c.token();
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const auto magnitude = parse_unsigned(text, 16);
    if (!magnitude) return std::nullopt;
    r.has_addend = true;
    r.addend = static_cast<std::int64_t>(negative ? 0 - *magnitude : *magnitude);
  }
  return r;
}

// The text between `prefix` and the last occurrence of `suffix_start`, e.g. the name in "Symbol table '.x' ...".
inline std::string quoted_name(std::string_view line, std::string_view prefix, std::string_view suffix_start) {
  const std::size_t end = line.rfind(suffix_start);
  if (!line.starts_with(prefix) || end == std::string_view::npos || end < prefix.size()) return {};
  return std::string(line.substr(prefix.size(), end - prefix.size()));
}

inline std::optional<std::uint64_t> number_after(std::string_view line, std::string_view marker, int base) {
  const std::size_t p = line.find(marker);
  if (p == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(p + marker.size());
  std::size_t end = 0;
  if (base == 16 && rest.starts_with("0x")) end = 2;
  while (end < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[end])) != 0) ++end;
  return parse_unsigned(rest.substr(0, end), base);
}

}  // namespace detail

inline readelf_dump parse_readelf(std::string_view text, bool is64) {
  readelf_dump dump;
  enum class mode { none, sections, relocations, symbols } m = mode::none;
  bool current_is_rela = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    ++line_number;
    auto error = [&](std::string_view what) {
      dump.parse_errors.push_back("line " + std::to_string(line_number) + ": " + std::string(what) + ": " +
                                  std::string(line));
    };
    if (line.empty()) {
      m = mode::none;
      continue;
    }
    if (line.starts_with("There are ") || line.starts_with("There is ")) {
      if (line.find("section header") != std::string_view::npos)
        dump.section_count =
            detail::number_after(line, line.starts_with("There are ") ? "There are " : "There is ", 10);
      continue;
    }
    if (line == "Section Headers:") {
      m = mode::sections;
      continue;
    }
    if (line.starts_with("Relocation section '")) {
      readelf_relocation_section r;
      r.name = detail::quoted_name(line, "Relocation section '", "' at offset ");
      const auto offset = detail::number_after(line, "' at offset ", 16);
      const auto count = detail::number_after(line, " contains ", 10);
      if (!offset || !count) error("relocation section header");
      r.file_offset = offset.value_or(0);
      r.count = count.value_or(0);
      dump.relocation_sections.push_back(std::move(r));
      m = mode::relocations;
      current_is_rela = false;
      continue;
    }
    if (line.starts_with("Symbol table '")) {
      readelf_symbol_table t;
      t.name = detail::quoted_name(line, "Symbol table '", "' contains ");
      const auto count = detail::number_after(line, "' contains ", 10);
      if (!count) error("symbol table header");
      t.count = count.value_or(0);
      dump.symbol_tables.push_back(std::move(t));
      m = mode::symbols;
      continue;
    }
    switch (m) {
      case mode::none: break;
      case mode::sections: {
        if (line.starts_with("  [Nr]")) break;
        if (!line.starts_with("  [")) {
          m = mode::none;
          break;
        }
        auto s = detail::parse_section_line(line);
        if (s) dump.sections.push_back(std::move(*s));
        else error("section line");
        break;
      }
      case mode::relocations: {
        auto& r = dump.relocation_sections.back();
        const std::string_view t = detail::trim(line);
        if (t.starts_with("Offset")) {
          current_is_rela = t.ends_with("Addend");
          break;
        }
        if (line.starts_with(" ") && (t.ends_with(" offsets") || t.ends_with(" offset"))) {
          r.relr = true;
          break;
        }
        if (r.relr) {
          const auto address = detail::parse_unsigned(t, 16);
          if (address) r.relr_addresses.push_back(*address);
          else error("relr line");
          break;
        }
        auto rel = detail::parse_relocation_line(line, is64, current_is_rela);
        if (rel) r.relocations.push_back(std::move(*rel));
        else error("relocation line");
        break;
      }
      case mode::symbols: {
        if (detail::trim(line).starts_with("Num:")) break;
        auto s = detail::parse_symbol_line(line);
        if (s) dump.symbol_tables.back().symbols.push_back(std::move(*s));
        else error("symbol line");
        break;
      }
    }
  }
  return dump;
}

// ---------------------------------------------------------------------------------------------------------------
// readelf's names for what the views return as numbers (binutils 2.40 readelf.c).

namespace readelf_names {

inline constexpr std::uint8_t ELFOSABI_NONE = 0, ELFOSABI_GNU = 3, ELFOSABI_FREEBSD = 9;

inline std::string section_type(std::uint32_t type, std::uint16_t machine, std::uint8_t osabi) {
  (void)osabi;
  switch (type) {
    case elf::SHT_NULL: return "NULL";
    case elf::SHT_PROGBITS: return "PROGBITS";
    case elf::SHT_SYMTAB: return "SYMTAB";
    case elf::SHT_STRTAB: return "STRTAB";
    case elf::SHT_RELA: return "RELA";
    case elf::SHT_RELR: return "RELR";
    case elf::SHT_HASH: return "HASH";
    case elf::SHT_DYNAMIC: return "DYNAMIC";
    case elf::SHT_NOTE: return "NOTE";
    case elf::SHT_NOBITS: return "NOBITS";
    case elf::SHT_REL: return "REL";
    case elf::SHT_SHLIB: return "SHLIB";
    case elf::SHT_DYNSYM: return "DYNSYM";
    case elf::SHT_INIT_ARRAY: return "INIT_ARRAY";
    case elf::SHT_FINI_ARRAY: return "FINI_ARRAY";
    case elf::SHT_PREINIT_ARRAY: return "PREINIT_ARRAY";
    case elf::SHT_GNU_HASH: return "GNU_HASH";
    case elf::SHT_GROUP: return "GROUP";
    case elf::SHT_SYMTAB_SHNDX: return "SYMTAB SECTION INDICES";
    case elf::SHT_GNU_verdef: return "VERDEF";
    case elf::SHT_GNU_verneed: return "VERNEED";
    case elf::SHT_GNU_versym: return "VERSYM";
    case 0x6ffffff0: return "VERSYM";
    case 0x6ffffffc: return "VERDEF";
    case 0x7ffffffd: return "AUXILIARY";
    case 0x7fffffff: return "FILTER";
    case elf::SHT_GNU_LIBLIST: return "GNU_LIBLIST";
    default: break;
  }
  char buffer[40];
  if (type >= 0x70000000 && type <= 0x7fffffff) {
    if (machine == elf::EM_X86_64 && type == 0x70000001) return "X86_64_UNWIND";
    if (machine == elf::EM_ARM) {
      switch (type) {
        case 0x70000001: return "ARM_EXIDX";
        case 0x70000002: return "ARM_PREEMPTMAP";
        case 0x70000003: return "ARM_ATTRIBUTES";
        case 0x70000004: return "ARM_DEBUGOVERLAY";
        case 0x70000005: return "ARM_OVERLAYSECTION";
        default: break;
      }
    }
    std::snprintf(buffer, sizeof buffer, "LOPROC+%#x", type - 0x70000000u);
  } else if (type >= 0x60000000 && type <= 0x6fffffff) {
    if (type == 0x6ffffff7) return "GNU_INCREMENTAL_INPUTS";
    if (type == elf::SHT_GNU_ATTRIBUTES) return "GNU_ATTRIBUTES";
    std::snprintf(buffer, sizeof buffer, "LOOS+%#x", type - 0x60000000u);
  } else if (type >= 0x80000000u) {
    std::snprintf(buffer, sizeof buffer, "LOUSER+%#x", type - 0x80000000u);
  } else {
    std::snprintf(buffer, sizeof buffer, "%08x: <unknown>", type);
  }
  return buffer;
}

// get_elf_section_flags without --section-details: one letter a flag, lowest bit first.
inline std::string section_flags(std::uint64_t flags, std::uint16_t machine, std::uint8_t osabi) {
  constexpr std::uint64_t mask_os = 0x0ff00000, mask_proc = 0xf0000000;
  constexpr std::uint64_t gnu_retain = 0x00200000, gnu_mbind = 0x01000000, x86_64_large = 0x10000000,
                          arm_purecode = 0x20000000, ppc_vle = 0x10000000;
  std::string out;
  while (flags != 0) {
    const std::uint64_t flag = flags & (~flags + 1);
    flags &= ~flag;
    switch (flag) {
      case elf::SHF_WRITE: out += 'W'; continue;
      case elf::SHF_ALLOC: out += 'A'; continue;
      case elf::SHF_EXECINSTR: out += 'X'; continue;
      case elf::SHF_MERGE: out += 'M'; continue;
      case elf::SHF_STRINGS: out += 'S'; continue;
      case elf::SHF_INFO_LINK: out += 'I'; continue;
      case elf::SHF_LINK_ORDER: out += 'L'; continue;
      case elf::SHF_OS_NONCONFORMING: out += 'O'; continue;
      case elf::SHF_GROUP: out += 'G'; continue;
      case elf::SHF_TLS: out += 'T'; continue;
      case elf::SHF_EXCLUDE: out += 'E'; continue;
      case elf::SHF_COMPRESSED: out += 'C'; continue;
      default: break;
    }
    if (machine == elf::EM_X86_64 && flag == x86_64_large) {
      out += 'l';
    } else if (machine == elf::EM_ARM && flag == arm_purecode) {
      out += 'y';
    } else if (machine == elf::EM_PPC && flag == ppc_vle) {
      out += 'v';
    } else if ((flag & mask_os) != 0) {
      const bool gnu = osabi == ELFOSABI_GNU || osabi == ELFOSABI_FREEBSD;
      if (gnu && flag == gnu_retain) {
        out += 'R';
      } else if ((gnu || osabi == ELFOSABI_NONE) && flag == gnu_mbind) {
        out += 'D';
      } else {
        out += 'o';
        flags &= ~mask_os;
      }
    } else if ((flag & mask_proc) != 0) {
      out += 'p';
      flags &= ~mask_proc;
    } else {
      out += 'x';
    }
  }
  return out;
}

inline std::string symbol_type(std::uint8_t type, std::uint16_t machine, std::uint8_t osabi) {
  switch (type) {
    case elf::STT_NOTYPE: return "NOTYPE";
    case elf::STT_OBJECT: return "OBJECT";
    case elf::STT_FUNC: return "FUNC";
    case elf::STT_SECTION: return "SECTION";
    case elf::STT_FILE: return "FILE";
    case elf::STT_COMMON: return "COMMON";
    case elf::STT_TLS: return "TLS";
    case 8: return "RELC";
    case 9: return "SRELC";
    default: break;
  }
  if (type >= 13) {
    if (machine == elf::EM_ARM && type == 13) return "THUMB_FUNC";
    return "<processor specific>: " + std::to_string(type);
  }
  if (type >= 10) {
    if (type == elf::STT_GNU_IFUNC && (osabi == ELFOSABI_GNU || osabi == ELFOSABI_FREEBSD)) return "IFUNC";
    return "<OS specific>: " + std::to_string(type);
  }
  return "<unknown>: " + std::to_string(type);
}

inline std::string symbol_binding(std::uint8_t bind, std::uint8_t osabi) {
  switch (bind) {
    case elf::STB_LOCAL: return "LOCAL";
    case elf::STB_GLOBAL: return "GLOBAL";
    case elf::STB_WEAK: return "WEAK";
    default: break;
  }
  if (bind >= 13) return "<processor specific>: " + std::to_string(bind);
  if (bind >= 10) {
    if (bind == elf::STB_GNU_UNIQUE && osabi == ELFOSABI_GNU) return "UNIQUE";
    return "<OS specific>: " + std::to_string(bind);
  }
  return "<unknown>: " + std::to_string(bind);
}

inline std::string symbol_visibility(std::uint8_t vis) {
  switch (vis) {
    case elf::STV_DEFAULT: return "DEFAULT";
    case elf::STV_INTERNAL: return "INTERNAL";
    case elf::STV_HIDDEN: return "HIDDEN";
    case elf::STV_PROTECTED: return "PROTECTED";
    default: return "<unknown>";
  }
}

// The st_other bits beyond the visibility, as readelf shows them between brackets (empty when none).
inline std::string symbol_other(std::uint8_t other_bits, std::uint16_t machine) {
  if (other_bits == 0) return {};
  if (machine == elf::EM_PPC64 && (other_bits & ~0xe0u) == 0) {
    unsigned local = (other_bits >> 5) & 7u;
    if (local <= 6) {
      if (local >= 2) local = ((1u << local) >> 2) << 2;
      return "<localentry>: " + std::to_string(local);
    }
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "<other>: %x", other_bits);
  return buffer;
}

// get_symbol_index_type for an already resolved index (SHN_XINDEX looked up), with `section_count` sections.
inline std::string symbol_index(std::uint32_t index, std::uint16_t machine, std::size_t section_count) {
  switch (index) {
    case elf::SHN_UNDEF: return "UND";
    case elf::SHN_ABS: return "ABS";
    case elf::SHN_COMMON: return "COM";
    default: break;
  }
  char buffer[48];
  if (machine == elf::EM_X86_64 && index == 0xff02) return "LARGE_COM";
  if (index >= 0xff00 && index <= 0xff1f) std::snprintf(buffer, sizeof buffer, "PRC[0x%04x]", index & 0xffff);
  else if (index >= 0xff20 && index <= 0xff3f) std::snprintf(buffer, sizeof buffer, "OS [0x%04x]", index & 0xffff);
  else if (index >= 0xff00 && index <= 0xffff) std::snprintf(buffer, sizeof buffer, "RSV[0x%04x]", index & 0xffff);
  else if (section_count != 0 && index >= section_count)
    std::snprintf(buffer, sizeof buffer, "bad section index[%3u]", index);
  else std::snprintf(buffer, sizeof buffer, "%u", index);
  return buffer;
}

}  // namespace readelf_names

// ---------------------------------------------------------------------------------------------------------------
// The comparison itself.

namespace detail {

class mismatch_sink {
 public:
  mismatch_sink(std::string object, std::vector<mismatch>& out) : object_(std::move(object)), out_(out) {}
  void add(std::string where, std::string field, std::string expected, std::string actual) {
    out_.push_back({object_, std::move(where), std::move(field), std::move(expected), std::move(actual)});
  }
  template <class A, class B>
  void check(const std::string& where, const char* field, const A& expected, const B& actual) {
    if (expected == actual) return;
    add(where, field, text(expected), text(actual));
  }

 private:
  static std::string text(const std::string& s) { return s; }
  static std::string text(std::string_view s) { return std::string(s); }
  static std::string text(std::uint64_t v) { return "0x" + hex(v); }
  static std::string text(std::int64_t v) { return sdec(v); }
  static std::string text(std::uint32_t v) { return dec(v); }
  static std::string text(bool v) { return v ? "true" : "false"; }
  std::string object_;
  std::vector<mismatch>& out_;
};

inline std::string error_text(const error& e) { return to_string(e); }

// The version suffix readelf appends to a dynamic symbol's name (get_symbol_version_string), or nothing.
struct version_suffix {
  std::string text;        // "@@VER", "@VER" or "@VER (n)" as `readelf -s` prints it
  std::string reloc_text;  // the same as `readelf -r` prints it ("@@VER" or "@VER", never " (n)")
};

template <elf_layout L>
result<version_suffix> readelf_version(const symbol_versions<L>& versions, const symbol_table<L>& symbols,
                                       const symbol_ref<L>& sym, std::string_view name) {
  version_suffix out;
  if (symbols.type() != elf::SHT_DYNSYM || versions.empty()) return out;
  auto v = versions.get(sym.index());
  if (!v) return v.error();
  const symbol_version& version = v.value();
  const std::uint16_t raw = static_cast<std::uint16_t>(version.index | (version.hidden ? elf::VERSYM_HIDDEN : 0));
  if (raw == 0) return out;
  if (version.defined) {
    // readelf looks at verdef only for defined symbols other than 0x8001, skips the base version and a version
    // whose name is the symbol's own name (the same string-table entry).
    if (sym.is_undefined() || raw == 0x8001) return out;
    if (version.index == 1 && version.base) return out;
    if (version.name.data() == name.data()) return out;
    out.text = (version.hidden ? "@" : "@@") + std::string(version.name);
    out.reloc_text = out.text;
    return out;
  }
  if (version.name.empty() || version.hidden) return out;
  out.text = "@" + std::string(version.name) + " (" + std::to_string(version.index) + ")";
  out.reloc_text = "@" + std::string(version.name);
  return out;
}

template <elf_layout L>
void compare_sections(const file<L>& f, const section_table<L>& table, const readelf_dump& dump, mismatch_sink& sink) {
  if (dump.section_count) sink.check("file", "section count", *dump.section_count, std::uint64_t{table.size()});
  sink.check("file", "section lines", std::uint64_t{dump.sections.size()}, std::uint64_t{table.size()});
  for (const readelf_section& r : dump.sections) {
    const std::string where = "section [" + std::to_string(r.index) + "] " + r.name;
    auto s = table.at(section_index(r.index));
    if (!s) {
      sink.add(where, "index", dec(r.index), "out of range: " + error_text(s.error()));
      continue;
    }
    auto name = table.name(*s);
    if (!name) sink.add(where, "name", r.name, "error: " + error_text(name.error()));
    else sink.check(where, "name", r.name, printable(name.value()));
    sink.check(where, "type", r.type, readelf_names::section_type(s->type(), f.machine(), f.os_abi()));
    sink.check(where, "addr", r.addr, s->addr());
    sink.check(where, "offset", r.offset, s->offset());
    sink.check(where, "size", r.size, s->size());
    sink.check(where, "entsize", r.entsize, s->entsize());
    sink.check(where, "flags", r.flags, readelf_names::section_flags(s->flags(), f.machine(), f.os_abi()));
    sink.check(where, "link", r.link, s->link());
    sink.check(where, "info", r.info, s->info());
    sink.check(where, "align", r.align, s->addralign());
  }
}

// The name readelf shows for a symbol: a section symbol without a name takes its section's name.
template <elf_layout L>
result<std::string> readelf_symbol_name(const section_table<L>& table, const symbol_table<L>& symbols,
                                        const symbol_ref<L>& sym, bool for_relocation) {
  if (sym.name_offset() == 0) {
    if (sym.type() != elf::STT_SECTION) return std::string(for_relocation ? "<null>" : "");
    auto where = symbols.section_of(sym);
    if (!where) return where.error();
    const std::uint32_t index = where->index.value;
    if (where->is_regular() && index < table.size()) {
      auto name = table.name(table[section_index(index)]);
      if (!name) return name.error();
      return printable(name.value());
    }
    if (!for_relocation) return std::string();
    if (where->where == symbol_section::kind::absolute) return std::string("ABS");
    if (where->where == symbol_section::kind::common) return std::string("COMMON");
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "<section 0x%x>", index);
    return std::string(buffer);
  }
  auto name = symbols.name(sym);
  if (!name) return name.error();
  return printable(name.value());
}

template <elf_layout L>
void compare_symbols(const file<L>& f, const section_table<L>& table, const readelf_dump& dump, mismatch_sink& sink) {
  std::vector<section_index> ours;
  for (auto s : table)
    if ((s.type() == elf::SHT_SYMTAB || s.type() == elf::SHT_DYNSYM) && s.entsize() != 0) ours.push_back(s.index());
  sink.check("file", "symbol table count", std::uint64_t{dump.symbol_tables.size()}, std::uint64_t{ours.size()});
  for (std::size_t t = 0; t < ours.size() && t < dump.symbol_tables.size(); ++t) {
    const readelf_symbol_table& r = dump.symbol_tables[t];
    const std::string table_where = "symbol table " + r.name;
    auto symbols = symbol_table<L>::create(table, ours[t]);
    if (!symbols) {
      sink.add(table_where, "open", "readable", "error: " + error_text(symbols.error()));
      continue;
    }
    auto section_name = table.name(table[ours[t]]);
    sink.check(table_where, "name", r.name, section_name ? printable(section_name.value()) : std::string("<error>"));
    sink.check(table_where, "count", r.count, std::uint64_t{symbols->size()});
    sink.check(table_where, "lines", std::uint64_t{r.symbols.size()}, std::uint64_t{symbols->size()});
    auto versions = symbol_versions<L>::create(table, symbols.value());
    if (!versions) {
      sink.add(table_where, "versions", "readable", "error: " + error_text(versions.error()));
      continue;
    }
    for (const readelf_symbol& rs : r.symbols) {
      const std::string where = r.name + "[" + std::to_string(rs.num) + "] " + rs.name;
      auto sym = symbols->at(symbol_index(static_cast<std::uint32_t>(rs.num)));
      if (!sym) {
        sink.add(where, "num", dec(rs.num), "out of range");
        continue;
      }
      sink.check(where, "value", rs.value, sym->value());
      sink.check(where, "size", rs.size, sym->size());
      sink.check(where, "type", rs.type, readelf_names::symbol_type(sym->type(), f.machine(), f.os_abi()));
      sink.check(where, "bind", rs.bind, readelf_names::symbol_binding(sym->bind(), f.os_abi()));
      sink.check(where, "vis", rs.vis, readelf_names::symbol_visibility(sym->visibility()));
      sink.check(where, "other", rs.other,
                 readelf_names::symbol_other(static_cast<std::uint8_t>(sym->other() ^ sym->visibility()), f.machine()));
      auto section = symbols->section_of(*sym);
      std::uint32_t resolved = sym->raw_shndx();
      if (section && section->is_regular()) resolved = section->index.value;
      if (!section && !rs.ndx.starts_with("bad section index"))
        sink.add(where, "ndx", rs.ndx, "error: " + error_text(section.error()));
      else sink.check(where, "ndx", rs.ndx, readelf_names::symbol_index(resolved, f.machine(), table.size()));
      auto name = readelf_symbol_name(table, symbols.value(), *sym, false);
      if (!name) {
        sink.add(where, "name", rs.name, "error: " + error_text(name.error()));
        continue;
      }
      std::string shown = name.value();
      auto raw_name = symbols->name(*sym);
      auto suffix =
          readelf_version(versions.value(), symbols.value(), *sym, raw_name ? raw_name.value() : std::string_view{});
      if (!suffix) sink.add(where, "version", "readable", "error: " + error_text(suffix.error()));
      else shown += suffix->text;
      sink.check(where, "name", rs.name, shown);
    }
  }
}

template <elf_layout L>
void compare_relocations(const section_table<L>& table, const readelf_dump& dump, mismatch_sink& sink) {
  std::vector<section_index> ours;
  for (auto s : table)
    if ((s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA || s.type() == elf::SHT_RELR) && s.size() != 0)
      ours.push_back(s.index());
  sink.check("file", "relocation section count", std::uint64_t{dump.relocation_sections.size()},
             std::uint64_t{ours.size()});
  for (std::size_t t = 0; t < ours.size() && t < dump.relocation_sections.size(); ++t) {
    const readelf_relocation_section& r = dump.relocation_sections[t];
    const auto s = table[ours[t]];
    const std::string section_where = "relocation section " + r.name;
    auto section_name = table.name(s);
    sink.check(section_where, "name", r.name, section_name ? printable(section_name.value()) : std::string("<error>"));
    sink.check(section_where, "file offset", r.file_offset, s.offset());

    if (s.type() == elf::SHT_RELR) {
      sink.check(section_where, "is RELR", r.relr, true);
      auto relr = relr_table<L>::create(table, s.index());
      if (!relr) {
        sink.add(section_where, "open", "readable", "error: " + error_text(relr.error()));
        continue;
      }
      sink.check(section_where, "entries", r.count, std::uint64_t{relr->entries().size()});
      std::vector<std::uint64_t> addresses;
      relr->for_each_address([&](std::uint64_t a) { addresses.push_back(a); });
      sink.check(section_where, "address count", std::uint64_t{r.relr_addresses.size()},
                 std::uint64_t{addresses.size()});
      for (std::size_t i = 0; i < addresses.size() && i < r.relr_addresses.size(); ++i)
        sink.check(section_where + "[" + std::to_string(i) + "]", "address", r.relr_addresses[i], addresses[i]);
      continue;
    }

    auto relocs = reloc_table<L>::create(table, s.index());
    if (!relocs) {
      sink.add(section_where, "open", "readable", "error: " + error_text(relocs.error()));
      continue;
    }
    sink.check(section_where, "count", r.count, std::uint64_t{relocs->size()});
    // readelf prints nothing for a table whose sh_link is neither SYMTAB nor DYNSYM.
    std::optional<symbol_table<L>> symbols;
    std::optional<symbol_versions<L>> versions;
    if (relocs->symbol_table_index().value != 0) {
      auto opened = symbol_table<L>::create(table, relocs->symbol_table_index());
      if (!opened) {
        sink.add(section_where, "symbol table", "readable", "error: " + error_text(opened.error()));
        continue;
      }
      symbols.emplace(opened.value());
      auto v = symbol_versions<L>::create(table, *symbols);
      if (!v) {
        sink.add(section_where, "versions", "readable", "error: " + error_text(v.error()));
        continue;
      }
      versions.emplace(v.value());
    }
    sink.check(section_where, "lines", std::uint64_t{r.relocations.size()}, std::uint64_t{relocs->size()});
    for (std::size_t i = 0; i < relocs->size() && i < r.relocations.size(); ++i) {
      const readelf_relocation& rr = r.relocations[i];
      const relocation ours_r = (*relocs)[i];
      const std::string where = r.name + "[" + std::to_string(i) + "]";
      const std::uint64_t sym = L::is64 ? rr.info >> 32 : (rr.info & 0xffffffffu) >> 8;
      const std::uint64_t type = L::is64 ? rr.info & 0xffffffffu : rr.info & 0xffu;
      sink.check(where, "offset", rr.offset, ours_r.offset);
      sink.check(where, "symbol index", sym, std::uint64_t{ours_r.symbol.value});
      sink.check(where, "type", type, std::uint64_t{ours_r.type});
      sink.check(where, "explicit addend", rr.has_addend, ours_r.explicit_addend);
      if (rr.has_addend) sink.check(where, "addend", rr.addend, ours_r.addend);
      if (ours_r.symbol.value == 0) continue;
      if (!symbols) {
        sink.add(where, "symbol", rr.symbol_name, "no symbol table");
        continue;
      }
      auto target = relocs->symbol_of(i, *symbols);
      if (!target) {
        sink.add(where, "symbol", rr.symbol_name, "error: " + error_text(target.error()));
        continue;
      }
      auto name = readelf_symbol_name(table, *symbols, *target, true);
      auto raw_name = symbols->name(*target);
      auto suffix = readelf_version(*versions, *symbols, *target, raw_name ? raw_name.value() : std::string_view{});
      if (!name || !suffix) {
        sink.add(where, "symbol name", rr.symbol_name, "error");
        continue;
      }
      std::string versioned = target->name_offset() == 0 ? name.value() : name.value() + suffix->reloc_text;
      sink.check(where, "symbol name", rr.symbol_name, versioned);
      if (target->type() == elf::STT_GNU_IFUNC) {
        const std::string display =
            (target->name_offset() == 0 ? std::string("??") : name.value() + suffix->reloc_text) + "()";
        sink.check(where, "ifunc display", rr.ifunc_display, display);
      } else {
        sink.check(where, "symbol value", rr.symbol_value.value_or(~std::uint64_t{0}), target->value());
      }
    }
  }
}

inline bool is_elf64(const std::filesystem::path& path) {
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) return false;
  auto id = detect_layout(mapped->bytes());
  return id && (id.value() == layout_id::le64 || id.value() == layout_id::be64);
}

}  // namespace detail

// `readelf_output` (of `readelf -W -S -r -s path`) against the views of `path`. Split from compare_readelf so
// the harness itself can be tested on doctored output.
inline std::vector<mismatch> compare_readelf_output(const std::filesystem::path& path,
                                                    std::string_view readelf_output) {
  std::vector<mismatch> out;
  detail::mismatch_sink sink(path.string(), out);
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) {
    sink.add("file", "open", "readable", detail::error_text(mapped.error()));
    return out;
  }
  const readelf_dump dump = parse_readelf(readelf_output, detail::is_elf64(path));
  for (const std::string& e : dump.parse_errors) sink.add("readelf output", "parse", "parsable", e);

  auto visited = visit(mapped->bytes(), [&](const auto& f) {
    auto table = f.sections();
    if (!table) {
      sink.add("file", "sections", "readable", detail::error_text(table.error()));
      return;
    }
    detail::compare_sections(f, table.value(), dump, sink);
    detail::compare_symbols(f, table.value(), dump, sink);
    detail::compare_relocations(table.value(), dump, sink);
  });
  if (!visited) sink.add("file", "open", "an ELF file", detail::error_text(visited.error()));
  return out;
}

inline process_result run_readelf(const std::filesystem::path& path) {
  return run_process({"readelf", "-W", "-S", "-r", "-s", path.string()});
}

// Every section, symbol and relocation of `path` as readelf shows it, against the views. An empty list means
// the two agree.
inline std::vector<mismatch> compare_readelf(const std::filesystem::path& path) {
  const process_result readelf = run_readelf(path);
  std::vector<mismatch> out = compare_readelf_output(path, readelf.out);
  if (!readelf.started) out.push_back({path.string(), "readelf", "run", "runs", readelf.err});
  else if (readelf.status != 0)
    out.push_back({path.string(), "readelf", "exit status", "0", std::to_string(readelf.status) + ": " + readelf.err});
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// nm against elfsieve-nm.

namespace detail {

// Lines of `text` with a leading "<program>: " rewritten to "nm: " (both tools name themselves in messages).
inline std::vector<std::string> normalized_lines(std::string_view text, const std::vector<std::string>& program_names) {
  std::vector<std::string> lines;
  const bool unterminated = !text.empty() && text.back() != '\n';
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string line(text.substr(0, eol));
    for (const std::string& name : program_names) {
      if (line.starts_with(name + ": ")) {
        line = "nm: " + line.substr(name.size() + 2);
        break;
      }
    }
    lines.push_back(std::move(line));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  }
  if (unterminated) lines.emplace_back("\\ no newline at end of output");
  return lines;
}

// "stdout line N", plus the file heading GNU printed above line N when there are several files ("\nfile.o:").
inline std::string line_field(const char* stream, const std::vector<std::string>& gnu, std::size_t index) {
  std::string field = std::string(stream) + " line " + std::to_string(index + 1);
  for (std::size_t i = std::min(index, gnu.size()); i > 0; --i) {
    if (i >= 2 && gnu[i - 2].empty() && gnu[i - 1].ends_with(":")) {
      field += " (under heading " + gnu[i - 1] + ")";
      break;
    }
  }
  return field;
}

inline void compare_streams(mismatch_sink& sink, const std::string& where, const char* stream,
                            const std::vector<std::string>& gnu, const std::vector<std::string>& ours) {
  const std::size_t common = std::min(gnu.size(), ours.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (gnu[i] != ours[i]) {
      sink.add(where, line_field(stream, gnu, i), gnu[i], ours[i]);
      return;  // the first difference is what matters; the rest usually follows from it
    }
  }
  if (gnu.size() != ours.size()) {
    sink.add(where, line_field(stream, gnu, common), common < gnu.size() ? gnu[common] : "<end of output>",
             common < ours.size() ? ours[common] : "<end of output>");
  }
}

}  // namespace detail

struct nm_tools {
  std::string gnu = "nm";
  std::string ours;
};

// `gnu OPTIONS files...` against `ours OPTIONS files...`: the first differing line of stdout and of stderr, and
// the exit status. Mismatches name the command line in `where`.
inline std::vector<mismatch> compare_nm(const nm_tools& tools, const std::vector<std::string>& options,
                                        const std::vector<std::string>& files) {
  std::vector<mismatch> out;
  std::string object;
  for (const std::string& f : files) object += (object.empty() ? "" : " ") + f;
  detail::mismatch_sink sink(object, out);
  std::string where = "nm";
  for (const std::string& o : options) where += " " + o;

  std::vector<std::string> gnu_argv{tools.gnu};
  std::vector<std::string> our_argv{tools.ours};
  for (const std::string& o : options) {
    gnu_argv.push_back(o);
    our_argv.push_back(o);
  }
  for (const std::string& f : files) {
    gnu_argv.push_back(f);
    our_argv.push_back(f);
  }
  const process_result gnu = run_process(gnu_argv);
  const process_result ours = run_process(our_argv);
  if (!gnu.started) sink.add(where, "run", "GNU nm runs", gnu.err);
  if (!ours.started) sink.add(where, "run", "elfsieve-nm runs", ours.err);
  if (!gnu.started || !ours.started) return out;

  const std::vector<std::string> names{tools.gnu, tools.ours, std::filesystem::path(tools.ours).filename().string(),
                                       "elfsieve-nm"};
  detail::compare_streams(sink, where, "stdout", detail::normalized_lines(gnu.out, names),
                          detail::normalized_lines(ours.out, names));
  detail::compare_streams(sink, where, "stderr", detail::normalized_lines(gnu.err, names),
                          detail::normalized_lines(ours.err, names));
  if (gnu.status != ours.status)
    sink.add(where, "exit status", std::to_string(gnu.status), std::to_string(ours.status));
  return out;
}

}  // namespace elfsieve::test
