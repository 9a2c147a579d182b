// The semantic oracle for stripping: does an output object mean the same thing as its input? Deliberately
// independent of elfsieve (it includes none of its headers): its own minimal, fully bounds-checked ELF decoder,
// written from the gABI, so a bug in elfsieve's views, plan or writer cannot hide itself here. Used by the tests and
// by fuzz/fuzz_strip.cpp, so it must survive any bytes: every read is checked and every count is capped by the
// file size.
//
// The rules (what a strip may change and what it may not):
//  1. Same class, data encoding, machine, type, flags and entry; the same program header table, byte for byte
//     (except p_filesz 0 for a segment that lay outside the input, as GNU writes it).
//  2. Output sections are the input's in the same order, some removed: each output section matches an input
//     section by (name, type, flags less SHF_MERGE; failing that by name and type), as an order-preserving
//     subsequence.
//  3. A kept section other than the symbol table, its SYMTAB_SHNDX, groups and non-allocated string and relocation
//     tables keeps its type, address, size, entsize, alignment and flags (SHF_MERGE may be cleared), its offset too
//     if it is allocated in a file with segments, its sh_link / sh_info targets, and every byte, except bytes inside
//     the field of a REL relocation (checked by rule 4).
//  4. Every relocation of an input relocation section whose target stays is in the output's matching section at
//     the same index, with the same offset and type, and resolves to the same thing: the same section + offset, the
//     same undefined or common symbol name + addend, or the same absolute value (REL addends read from the field,
//     compared modulo the field width).
//  5. The output symbol table lists locals first (sh_info right), every name in range, and every symbol equals an
//     input symbol (name, info, other, size, section by name, value) or is a new section symbol of a kept section.
//  6. Groups keep their flag word, signature name and members (by name, in order), less removed members.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace elfsieve::testing {

struct oracle_options {
  bool allow_dropped_relocation_sections = false;  // -R .rela.x removes a relocation section whose target stays
};

struct oracle_report {
  std::vector<std::string> problems;  // empty: equivalent; each names the section, offset, field and both values
  std::size_t relocations_checked = 0;
  std::size_t relocations_retargeted = 0;  // the relocation names another symbol than before
  std::size_t relocations_resolved = 0;    // r_sym was non-zero and is 0 now
  std::size_t rel_fields_patched = 0;      // REL fields whose bytes differ
  std::size_t sections_compared = 0;
  std::size_t sections_unmerged = 0;
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

namespace oracle_detail {

// ---- a minimal ELF decoder ----

struct shdr {
  std::uint32_t name = 0, type = 0, link = 0, info = 0;
  std::uint64_t flags = 0, addr = 0, offset = 0, size = 0, addralign = 0, entsize = 0;
};

struct sym {
  std::uint32_t name = 0;
  std::uint8_t info = 0, other = 0;
  std::uint32_t shndx = 0;  // extended index resolved; SHN_* kept as is otherwise
  std::uint64_t value = 0, size = 0;
};

struct rel {
  std::uint64_t offset = 0;
  std::uint32_t sym = 0, type = 0;
  std::int64_t addend = 0;
};

constexpr std::uint32_t SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_HASH = 5, SHT_DYNAMIC = 6, SHT_NOBITS = 8,
                        SHT_REL = 9, SHT_DYNSYM = 11, SHT_GROUP = 17, SHT_SYMTAB_SHNDX = 18, SHT_GNU_HASH = 0x6ffffff6,
                        SHT_GNU_verdef = 0x6ffffffd, SHT_GNU_verneed = 0x6ffffffe, SHT_GNU_versym = 0x6fffffff;
constexpr std::uint64_t SHF_ALLOC = 0x2, SHF_MERGE = 0x10, SHF_INFO_LINK = 0x40, SHF_LINK_ORDER = 0x80;
constexpr std::uint32_t SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2,
                        SHN_XINDEX = 0xffff;
constexpr std::uint16_t ET_REL = 1;

class elf {
 public:
  explicit elf(std::span<const std::byte> b) : bytes_(b) { ok_ = decode(); }

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& why() const { return why_; }
  [[nodiscard]] bool is64() const { return is64_; }
  [[nodiscard]] bool little() const { return little_; }
  [[nodiscard]] std::uint16_t type() const { return type_; }
  [[nodiscard]] std::uint16_t machine() const { return machine_; }
  [[nodiscard]] std::uint32_t flags() const { return flags_; }
  [[nodiscard]] std::uint64_t entry() const { return entry_; }
  [[nodiscard]] std::span<const std::byte> program_headers() const { return phdrs_; }
  [[nodiscard]] const std::vector<shdr>& sections() const { return sections_; }
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }

  [[nodiscard]] std::string section_name(std::size_t i) const {
    // e_shstrndx 0 (SHN_UNDEF) means the file has no section names.
    if (i >= sections_.size() || shstrndx_ == 0 || shstrndx_ >= sections_.size()) return {};
    return string_at(shstrndx_, sections_[i].name);
  }

  // NUL-terminated string at `offset` of string table section `table`; empty if anything is out of range.
  [[nodiscard]] std::string string_at(std::size_t table, std::uint64_t offset) const {
    if (table == 0 || table >= sections_.size()) return {};  // section 0 holds no strings
    auto data = contents(table);
    if (offset >= data.size()) return {};
    const char* first = reinterpret_cast<const char*>(data.data()) + offset;
    const void* end = std::memchr(first, 0, data.size() - offset);
    if (end == nullptr) return {};
    return std::string(first, static_cast<const char*>(end));
  }
  [[nodiscard]] bool string_in_range(std::size_t table, std::uint64_t offset) const {
    if (table >= sections_.size()) return false;
    auto data = contents(table);
    return offset < data.size() && std::memchr(data.data() + offset, 0, data.size() - offset) != nullptr;
  }

  // The section's bytes; empty for NOBITS or when out of bounds.
  [[nodiscard]] std::span<const std::byte> contents(std::size_t i) const {
    if (i >= sections_.size()) return {};
    const shdr& s = sections_[i];
    if (s.type == SHT_NOBITS || s.offset > bytes_.size() || s.size > bytes_.size() - s.offset) return {};
    return bytes_.subspan(s.offset, s.size);
  }
  [[nodiscard]] bool contents_in_bounds(std::size_t i) const {
    const shdr& s = sections_[i];
    return s.type == SHT_NOBITS || (s.offset <= bytes_.size() && s.size <= bytes_.size() - s.offset);
  }

  // The first SHT_SYMTAB and its symbols (extended indices resolved); empty when there is none or it is broken.
  [[nodiscard]] std::size_t symtab() const { return symtab_; }
  [[nodiscard]] const std::vector<sym>& symbols() const { return symbols_; }
  [[nodiscard]] std::string symbol_name(const sym& s) const {
    return symtab_ < sections_.size() ? string_at(sections_[symtab_].link, s.name) : std::string();
  }

  [[nodiscard]] bool relocations(std::size_t i, std::vector<rel>& out) const {
    out.clear();
    const shdr& s = sections_[i];
    const bool rela = s.type == SHT_RELA;
    const std::uint64_t entsize = is64_ ? (rela ? 24 : 16) : (rela ? 12 : 8);
    auto data = contents(i);
    if (data.size() != s.size || s.size % entsize != 0) return false;
    const std::size_t n = data.size() / entsize;
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::byte* p = data.data() + k * entsize;
      rel r;
      if (is64_) {
        r.offset = u64(p);
        const std::uint64_t info = u64(p + 8);
        r.sym = static_cast<std::uint32_t>(info >> 32);
        r.type = static_cast<std::uint32_t>(info & 0xffffffffu);
        if (rela) r.addend = static_cast<std::int64_t>(u64(p + 16));
      } else {
        r.offset = u32(p);
        const std::uint32_t info = u32(p + 4);
        r.sym = info >> 8;
        r.type = info & 0xffu;
        if (rela) r.addend = static_cast<std::int32_t>(u32(p + 8));
      }
      out.push_back(r);
    }
    return true;
  }

  [[nodiscard]] std::uint64_t read(const std::byte* p, unsigned width) const {
    switch (width) {
      case 1: return std::to_integer<std::uint8_t>(*p);
      case 2: return u16(p);
      case 4: return u32(p);
      default: return u64(p);
    }
  }
  [[nodiscard]] std::uint16_t u16(const std::byte* p) const { return static_cast<std::uint16_t>(uint(p, 2)); }
  [[nodiscard]] std::uint32_t u32(const std::byte* p) const { return static_cast<std::uint32_t>(uint(p, 4)); }
  [[nodiscard]] std::uint64_t u64(const std::byte* p) const { return uint(p, 8); }

 private:
  [[nodiscard]] std::uint64_t uint(const std::byte* p, unsigned n) const {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      const unsigned shift = little_ ? 8 * i : 8 * (n - 1 - i);
      v |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(p[i])) << shift;
    }
    return v;
  }

  bool fail(const char* why) {
    why_ = why;
    return false;
  }

  bool decode() {
    const auto b = bytes_;
    if (b.size() < 16 || b[0] != std::byte{0x7f} || b[1] != std::byte{'E'} || b[2] != std::byte{'L'} ||
        b[3] != std::byte{'F'})
      return fail("not ELF");
    const auto cls = std::to_integer<unsigned>(b[4]), data = std::to_integer<unsigned>(b[5]);
    if ((cls != 1 && cls != 2) || (data != 1 && data != 2)) return fail("bad class or data encoding");
    is64_ = cls == 2;
    little_ = data == 1;
    const std::size_t ehsize = is64_ ? 64 : 52;
    if (b.size() < ehsize) return fail("truncated file header");
    const std::byte* h = b.data();
    type_ = u16(h + 16);
    machine_ = u16(h + 18);
    entry_ = is64_ ? u64(h + 24) : u32(h + 24);
    const std::uint64_t phoff = is64_ ? u64(h + 32) : u32(h + 28);
    const std::uint64_t shoff = is64_ ? u64(h + 40) : u32(h + 32);
    flags_ = is64_ ? u32(h + 48) : u32(h + 36);
    const std::uint16_t phentsize = u16(h + (is64_ ? 54 : 42));
    std::uint64_t phnum = u16(h + (is64_ ? 56 : 44));
    const std::uint16_t shentsize = u16(h + (is64_ ? 58 : 46));
    std::uint64_t shnum = u16(h + (is64_ ? 60 : 48));
    std::uint64_t shstrndx = u16(h + (is64_ ? 62 : 50));
    const std::size_t shdr_size = is64_ ? 64 : 40;

    if (shoff != 0) {
      if (shentsize != shdr_size) return fail("bad e_shentsize");
      if (shoff > b.size() || b.size() - shoff < shdr_size) return fail("section header table out of bounds");
      const shdr zero = header_at(shoff);
      if (shnum == 0) shnum = zero.size;
      if (shstrndx == SHN_XINDEX) shstrndx = zero.link;
      if (phnum == 0xffff) phnum = zero.info;
      if (shnum > (b.size() - shoff) / shdr_size) return fail("section header table out of bounds");
      sections_.reserve(shnum);
      for (std::uint64_t i = 0; i < shnum; ++i) sections_.push_back(header_at(shoff + i * shdr_size));
    }
    shstrndx_ = shstrndx;
    if (phoff != 0 && phnum != 0) {
      const std::size_t phdr_size = is64_ ? 56 : 32;
      if (phentsize != phdr_size) return fail("bad e_phentsize");
      if (phoff > b.size() || phnum > (b.size() - phoff) / phdr_size) return fail("program headers out of bounds");
      phdrs_ = b.subspan(phoff, phnum * phdr_size);
    }
    for (std::size_t i = 0; i < sections_.size(); ++i)
      if (sections_[i].type == SHT_SYMTAB) {
        symtab_ = i;
        break;
      }
    if (symtab_ < sections_.size()) decode_symbols();
    return true;
  }

  [[nodiscard]] shdr header_at(std::uint64_t at) const {
    const std::byte* p = bytes_.data() + at;
    shdr s;
    s.name = u32(p);
    s.type = u32(p + 4);
    if (is64_) {
      s.flags = u64(p + 8);
      s.addr = u64(p + 16);
      s.offset = u64(p + 24);
      s.size = u64(p + 32);
      s.link = u32(p + 40);
      s.info = u32(p + 44);
      s.addralign = u64(p + 48);
      s.entsize = u64(p + 56);
    } else {
      s.flags = u32(p + 8);
      s.addr = u32(p + 12);
      s.offset = u32(p + 16);
      s.size = u32(p + 20);
      s.link = u32(p + 24);
      s.info = u32(p + 28);
      s.addralign = u32(p + 32);
      s.entsize = u32(p + 36);
    }
    return s;
  }

  void decode_symbols() {
    const std::size_t entsize = is64_ ? 24 : 16;
    auto data = contents(symtab_);
    const std::size_t n = data.size() / entsize;
    // SYMTAB_SHNDX: the table whose sh_link is this symtab.
    std::span<const std::byte> shndx;
    for (std::size_t i = 0; i < sections_.size(); ++i)
      if (sections_[i].type == SHT_SYMTAB_SHNDX && sections_[i].link == symtab_) shndx = contents(i);
    symbols_.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::byte* p = data.data() + k * entsize;
      sym s;
      s.name = u32(p);
      if (is64_) {
        s.info = std::to_integer<std::uint8_t>(p[4]);
        s.other = std::to_integer<std::uint8_t>(p[5]);
        s.shndx = u16(p + 6);
        s.value = u64(p + 8);
        s.size = u64(p + 16);
      } else {
        s.value = u32(p + 4);
        s.size = u32(p + 8);
        s.info = std::to_integer<std::uint8_t>(p[12]);
        s.other = std::to_integer<std::uint8_t>(p[13]);
        s.shndx = u16(p + 14);
      }
      if (s.shndx == SHN_XINDEX) s.shndx = shndx.size() >= 4 * (k + 1) ? u32(shndx.data() + 4 * k) : 0xffffffffu;
      symbols_.push_back(s);
    }
  }

  std::span<const std::byte> bytes_;
  std::span<const std::byte> phdrs_;
  std::vector<shdr> sections_;
  std::vector<sym> symbols_;
  std::size_t symtab_ = SIZE_MAX;
  std::uint64_t shstrndx_ = 0;
  std::uint64_t entry_ = 0;
  std::uint32_t flags_ = 0;
  std::uint16_t type_ = 0, machine_ = 0;
  bool is64_ = false, little_ = true, ok_ = false;
  std::string why_;
};

// Width of the field a REL relocation patches, for the REL machines we know; 0: unknown (the field must not change).
[[nodiscard]] inline unsigned rel_width(std::uint16_t machine, std::uint32_t type) {
  if (machine == 3) {  // EM_386
    switch (type) {
      case 1:
      case 2:
      case 3:
      case 4:
      case 9:
      case 10:
      case 11:
      case 43: return 4;
      case 20:
      case 21: return 2;
      case 22:
      case 23: return 1;
      default: return 0;
    }
  }
  return 0;
}

// What a relocation resolves to, independent of which symbol it names.
struct target {
  enum kind_t : std::uint8_t { absolute, in_section, undefined, common, other } kind = other;
  std::string name;  // section name (in_section) or symbol name (undefined, common)
  std::uint64_t value = 0;
  bool operator==(const target& o) const { return kind == o.kind && name == o.name && value == o.value; }
};

inline std::string describe(const target& t) {
  static const char* kinds[] = {"absolute", "section", "undefined", "common", "other"};
  return std::string(kinds[t.kind]) + " " + t.name + " + 0x" + [&] {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(t.value));
    return std::string(b);
  }();
}

}  // namespace oracle_detail

[[nodiscard]] inline oracle_report check_strip_semantics(std::span<const std::byte> input,
                                                         std::span<const std::byte> output,
                                                         const oracle_options& options = {}) {
  using namespace oracle_detail;
  oracle_report report;
  std::size_t dropped_problems = 0;
  auto problem = [&](const std::string& text) {
    if (report.problems.size() < 50) report.problems.push_back(text);
    else ++dropped_problems;
  };
  auto hex = [](std::uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return std::string(b);
  };
  const elf in(input);
  if (!in.ok()) return report;  // only inputs elfsieve accepted are checked; this one says nothing
  const elf out(output);
  if (!out.ok()) {
    problem("output does not decode: " + out.why());
    return report;
  }
  // Rule 1 (with GNU's one exception: a segment whose file range lies outside the input, as in a separate debug
  // file, is written with p_filesz 0).
  auto same_program_headers = [](const elf& a, const elf& b) {
    const auto x = a.program_headers(), y = b.program_headers();
    if (x.size() != y.size()) return false;
    const std::size_t entry = a.is64() ? 56 : 32, offset_at = a.is64() ? 8 : 4, filesz_at = a.is64() ? 32 : 16;
    const std::size_t width = a.is64() ? 8 : 4;
    auto same = [&](std::size_t from, std::size_t to) {
      return to <= from || std::memcmp(x.data() + from, y.data() + from, to - from) == 0;
    };
    for (std::size_t at = 0; at + entry <= x.size(); at += entry) {
      if (same(at, at + entry)) continue;
      auto field = [&](const elf& e, std::span<const std::byte> t, std::size_t f) {
        return width == 8 ? e.u64(t.data() + at + f) : e.u32(t.data() + at + f);
      };
      const std::uint64_t off = field(a, x, offset_at), filesz = field(a, x, filesz_at);
      const bool outside = off > a.bytes().size() || filesz > a.bytes().size() - off;
      if (!outside || field(b, y, filesz_at) != 0) return false;
      // Everything but p_filesz must still be equal.
      if (!same(at, at + filesz_at) || !same(at + filesz_at + width, at + entry)) return false;
    }
    return true;
  };
  if (in.is64() != out.is64() || in.little() != out.little() || in.machine() != out.machine() ||
      in.type() != out.type() || in.flags() != out.flags() || in.entry() != out.entry())
    problem("file header differs (class, data, machine, type, flags or entry)");
  if (!same_program_headers(in, out)) problem("program headers differ");

  // Rule 2: match sections by (name, type, flags) in order.
  const auto& is = in.sections();
  const auto& os = out.sections();
  std::vector<std::size_t> match(os.size(), SIZE_MAX);        // output -> input
  std::vector<std::size_t> counterpart(is.size(), SIZE_MAX);  // input -> output
  {
    // Section 0 is the null section (only its escape fields mean anything): it matches section 0.
    std::size_t j = 1;
    if (!os.empty() && !is.empty()) {
      match[0] = 0;
      counterpart[0] = 0;
    }
    for (std::size_t k = 1; k < os.size(); ++k) {
      const std::string name = out.section_name(k);
      // Flags too (less SHF_MERGE, which --unmerge clears), so that sections sharing a name and type, one removed
      // and one kept, are told apart; without such a section, by name and type (rule 3 then reports the flags).
      auto same_name_type = [&](std::size_t i) { return in.section_name(i) == name && is[i].type == os[k].type; };
      auto same = [&](std::size_t i) {
        return same_name_type(i) && (is[i].flags & ~SHF_MERGE) == (os[k].flags & ~SHF_MERGE);
      };
      std::size_t strict = j;
      while (strict < is.size() && !same(strict)) ++strict;
      if (strict < is.size()) j = strict;
      else
        while (j < is.size() && !same_name_type(j)) ++j;
      if (j == is.size()) {
        problem("output section [" + std::to_string(k) + "] " + name + " matches no input section in order");
        return report;
      }
      match[k] = j;
      counterpart[j] = k;
      ++j;
    }
  }
  auto kept = [&](std::size_t input_section) {
    return input_section < is.size() && counterpart[input_section] != SIZE_MAX;
  };
  const bool has_segments = !in.program_headers().empty();

  // Which output bytes are REL fields (rule 3's exception), filled by rule 4.
  std::vector<std::vector<std::pair<std::uint64_t, unsigned>>> rel_fields(os.size());

  // Rule 4: relocations.
  std::vector<rel> irel, orel;
  auto resolve = [&](const elf& f, const rel& r, std::int64_t addend, unsigned width, target& t) -> bool {
    const std::uint64_t mask = width == 0 || width >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * width)) - 1;
    // ELF32 arithmetic wraps at 32 bits.
    const std::uint64_t word = f.is64() ? ~std::uint64_t{0} : 0xffffffffu;
    if (r.sym == 0) {
      t = {target::absolute, {}, static_cast<std::uint64_t>(addend) & mask & word};
      return true;
    }
    if (r.sym >= f.symbols().size()) return false;
    const sym& s = f.symbols()[r.sym];
    if (s.shndx == SHN_UNDEF) {
      t = {target::undefined, f.symbol_name(s), static_cast<std::uint64_t>(addend) & mask};
    } else if (s.shndx == SHN_ABS) {
      t = {target::absolute, {}, (s.value + static_cast<std::uint64_t>(addend)) & mask};
    } else if (s.shndx == SHN_COMMON) {
      t = {target::common, f.symbol_name(s), static_cast<std::uint64_t>(addend) & mask};
    } else if (s.shndx < f.sections().size()) {
      const std::uint64_t base = f.type() == ET_REL ? 0 : f.sections()[s.shndx].addr;
      t = {target::in_section, f.section_name(s.shndx), (s.value - base + static_cast<std::uint64_t>(addend)) & mask};
    } else {
      t = {target::other, f.symbol_name(s), static_cast<std::uint64_t>(addend) & mask};
    }
    t.value &= word;
    return true;
  };
  for (std::size_t i = 1; i < is.size(); ++i) {  // section 0 is no section, whatever its type field says
    if (is[i].type != SHT_REL && is[i].type != SHT_RELA) continue;
    const std::string rname = in.section_name(i);
    const std::uint32_t target_section = is[i].info;
    const bool target_kept = target_section == 0 ? kept(i) : kept(target_section);
    if (!kept(i)) {
      if (target_section != 0 && target_kept && !options.allow_dropped_relocation_sections)
        problem("relocation section " + rname + " was removed but its target " + in.section_name(target_section) +
                " stays");
      continue;
    }
    if (!target_kept) {
      problem("relocation section " + rname + " stays but its target was removed");
      continue;
    }
    const std::size_t k = counterpart[i];
    if (!in.relocations(i, irel)) continue;  // malformed input table: nothing to compare
    if (!out.relocations(k, orel)) {
      problem("output relocation section " + rname + " does not decode");
      continue;
    }
    if (orel.size() != irel.size()) {
      problem(rname + ": " + std::to_string(irel.size()) + " relocations in, " + std::to_string(orel.size()) + " out");
      continue;
    }
    const bool is_rel = is[i].type == SHT_REL;
    // For REL, the target section's bytes in both files (and where a field sits in them).
    const std::size_t ti = target_section, to = target_section < is.size() ? counterpart[target_section] : SIZE_MAX;
    for (std::size_t e = 0; e < irel.size(); ++e) {
      const rel& a = irel[e];
      const rel& b = orel[e];
      ++report.relocations_checked;
      const std::string where = rname + "[" + std::to_string(e) + "]";
      if (a.offset != b.offset || a.type != b.type) {
        problem(where + ": offset/type " + hex(a.offset) + "/" + std::to_string(a.type) + " became " + hex(b.offset) +
                "/" + std::to_string(b.type));
        continue;
      }
      std::int64_t addend_in = a.addend, addend_out = b.addend;
      unsigned width = 0;
      if (is_rel) {
        width = rel_width(in.machine(), a.type);
        const unsigned field = width == 0 ? 4 : width;
        if (ti == 0 || ti >= is.size() || to == SIZE_MAX) continue;
        const std::uint64_t pos_in = in.type() == ET_REL ? a.offset : a.offset - is[ti].addr;
        const std::uint64_t pos_out = out.type() == ET_REL ? b.offset : b.offset - os[to].addr;
        auto din = in.contents(ti), dout = out.contents(to);
        if (pos_in > din.size() || din.size() - pos_in < field || pos_out > dout.size() ||
            dout.size() - pos_out < field)
          continue;  // fields outside the section: nothing to read (the writer never patches those)
        const std::uint64_t vin = in.read(din.data() + pos_in, field), vout = out.read(dout.data() + pos_out, field);
        if (width == 0) {
          if (vin != vout) problem(where + ": REL field of unknown width changed");
          addend_in = addend_out = 0;
        } else {
          addend_in = static_cast<std::int64_t>(vin);
          addend_out = static_cast<std::int64_t>(vout);
          if (vin != vout) {
            ++report.rel_fields_patched;
            rel_fields[to].push_back({pos_out, field});
          }
        }
      }
      // Relocations against another symbol table (.dynsym) are not rewritten: they must stay as they were.
      if (is[i].link != in.symtab() || os[k].link != out.symtab()) {
        if (a.sym != b.sym || a.addend != b.addend)
          problem(where + ": relocation against " + in.section_name(is[i].link) + " changed");
        continue;
      }
      if (b.sym != 0 && b.sym >= out.symbols().size()) {
        problem(where + ": symbol index " + std::to_string(b.sym) + " out of range");
        continue;
      }
      target ta, tb;
      if (!resolve(in, a, addend_in, width, ta)) continue;  // malformed input relocation
      if (!resolve(out, b, addend_out, width, tb)) {
        problem(where + ": output relocation does not resolve");
        continue;
      }
      if (!(ta == tb)) problem(where + " at " + hex(a.offset) + ": " + describe(ta) + " became " + describe(tb));
      if (a.sym != 0 && b.sym == 0) ++report.relocations_resolved;
      else if (a.sym < in.symbols().size() && b.sym < out.symbols().size() && a.sym != 0 &&
               in.symbol_name(in.symbols()[a.sym]) != out.symbol_name(out.symbols()[b.sym]))
        ++report.relocations_retargeted;
    }
  }

  // Rule 3: kept sections.
  auto is_rebuilt = [&](const shdr& s) {
    if (s.type == SHT_SYMTAB || s.type == SHT_SYMTAB_SHNDX || s.type == SHT_GROUP) return true;
    // Relocations against .symtab are renumbered wherever they are (rule 4 checks them), allocated or not.
    if ((s.type == SHT_REL || s.type == SHT_RELA) && s.link != 0 && s.link == in.symtab()) return true;
    return (s.flags & SHF_ALLOC) == 0 && (s.type == SHT_STRTAB || s.type == SHT_REL || s.type == SHT_RELA);
  };
  for (std::size_t k = 1; k < os.size(); ++k) {
    const std::size_t i = match[k];
    const shdr& a = is[i];
    const shdr& b = os[k];
    const std::string name = in.section_name(i);
    if (!out.contents_in_bounds(k)) problem("section " + name + ": contents out of bounds in the output");
    // Links name the counterpart.
    const bool link_is_section = a.type == SHT_REL || a.type == SHT_RELA || a.type == SHT_SYMTAB ||
                                 a.type == SHT_DYNSYM || a.type == SHT_HASH || a.type == SHT_GNU_HASH ||
                                 a.type == SHT_DYNAMIC || a.type == SHT_GNU_versym || a.type == SHT_GNU_verdef ||
                                 a.type == SHT_GNU_verneed || a.type == SHT_GROUP || a.type == SHT_SYMTAB_SHNDX ||
                                 (a.flags & SHF_LINK_ORDER) != 0;
    // A link to a removed section becomes 0 (no section), never a stale number that names another one.
    auto counterpart_or_0 = [&](std::size_t j) { return counterpart[j] == SIZE_MAX ? 0 : counterpart[j]; };
    if (link_is_section && a.link != 0 && a.link < is.size() && counterpart_or_0(a.link) != b.link)
      problem("section " + name + ": sh_link does not name the counterpart of " + in.section_name(a.link));
    // SHF_INFO_LINK makes sh_info a section index, except where the type defines it (local count, signature, counts).
    const bool info_defined_by_type = a.type == SHT_SYMTAB || a.type == SHT_DYNSYM || a.type == SHT_GROUP ||
                                      a.type == SHT_GNU_verdef || a.type == SHT_GNU_verneed;
    const bool info_is_section =
        a.type == SHT_REL || a.type == SHT_RELA || ((a.flags & SHF_INFO_LINK) != 0 && !info_defined_by_type);
    if (info_is_section && a.info != 0 && a.info < is.size() && counterpart_or_0(a.info) != b.info)
      problem("section " + name + ": sh_info does not name the counterpart of " + in.section_name(a.info));
    if (is_rebuilt(a)) continue;
    ++report.sections_compared;
    if ((a.flags & ~SHF_MERGE) != (b.flags & ~SHF_MERGE) || ((b.flags & SHF_MERGE) != 0 && (a.flags & SHF_MERGE) == 0))
      problem("section " + name + ": flags " + hex(a.flags) + " became " + hex(b.flags));
    else if (a.flags != b.flags) ++report.sections_unmerged;
    if (a.addr != b.addr || a.size != b.size || a.entsize != b.entsize || a.addralign != b.addralign)
      problem("section " + name + ": address, size, entsize or alignment changed");
    if (has_segments && (a.flags & SHF_ALLOC) != 0 && a.offset != b.offset)
      problem("section " + name + ": allocated section moved from " + hex(a.offset) + " to " + hex(b.offset));
    auto da = in.contents(i), db = out.contents(k);
    if (da.size() != db.size()) continue;  // size problem already reported (or malformed input)
    auto& fields = rel_fields[k];
    std::sort(fields.begin(), fields.end());
    std::size_t f = 0;
    for (std::size_t p = 0; p < da.size(); ++p) {
      if (da[p] == db[p]) continue;
      while (f < fields.size() && fields[f].first + fields[f].second <= p) ++f;
      if (f < fields.size() && fields[f].first <= p) continue;  // inside a patched REL field
      problem("section " + name + " byte " + hex(p) + ": " + hex(std::to_integer<unsigned>(da[p])) + " became " +
              hex(std::to_integer<unsigned>(db[p])));
      break;
    }
  }

  // Rule 5: symbols.
  if (out.symtab() < os.size()) {
    const shdr& st = os[out.symtab()];
    const auto& syms = out.symbols();
    std::size_t first_global = syms.size();
    for (std::size_t k = 1; k < syms.size(); ++k)
      if ((syms[k].info >> 4) != 0) {
        first_global = k;
        break;
      }
    for (std::size_t k = first_global; k < syms.size(); ++k)
      if ((syms[k].info >> 4) == 0) problem("symbol " + std::to_string(k) + ": a local after the first global");
    if (syms.empty() ? st.info != 0 : st.info != first_global)
      problem(".symtab sh_info " + std::to_string(st.info) + ", first non-local " + std::to_string(first_global));
    // Input symbols by (name, info, other, size, section name / special index, value).
    using key = std::tuple<std::string, std::uint8_t, std::uint8_t, std::uint64_t, std::string, std::uint64_t>;
    auto section_key = [](const elf& f, const sym& s) {
      // Appended rather than "#" + to_string(...): g++ 12 -O3 warns -Wstringop-overflow on that.
      std::string special = "#";
      if (s.shndx == SHN_UNDEF || s.shndx >= SHN_LORESERVE) return special.append(std::to_string(s.shndx));
      return f.section_name(s.shndx);
    };
    std::vector<key> known;
    known.reserve(in.symbols().size());
    for (const sym& s : in.symbols())
      known.emplace_back(in.symbol_name(s), s.info, s.other, s.size, section_key(in, s), s.value);
    std::sort(known.begin(), known.end());
    for (std::size_t k = 1; k < syms.size(); ++k) {
      const sym& s = syms[k];
      if (!out.string_in_range(st.link, s.name)) {
        problem("symbol " + std::to_string(k) + ": name offset out of range");
        continue;
      }
      const bool section_symbol = (s.info & 0xf) == 3 && (s.info >> 4) == 0;
      if (section_symbol && s.shndx < os.size() && s.shndx != 0) continue;  // new or old, any kept section's
      const key wanted(out.symbol_name(s), s.info, s.other, s.size, section_key(out, s), s.value);
      if (!std::binary_search(known.begin(), known.end(), wanted))
        problem("symbol " + std::to_string(k) + " " + std::get<0>(wanted) + " (in " + std::get<4>(wanted) + " at " +
                hex(s.value) + ") is not an input symbol");
    }
  }

  // Rule 6: groups.
  for (std::size_t k = 0; k < os.size(); ++k) {
    if (os[k].type != SHT_GROUP) continue;
    const std::size_t i = match[k];
    auto da = in.contents(i), db = out.contents(k);
    if (da.size() < 4 || db.size() < 4 || da.size() % 4 != 0 || db.size() % 4 != 0) {
      problem("group " + in.section_name(i) + ": malformed in the output");
      continue;
    }
    if (in.u32(da.data()) != out.u32(db.data())) problem("group " + in.section_name(i) + ": flag word changed");
    std::vector<std::string> want, got;
    for (std::size_t p = 4; p < da.size(); p += 4) {
      const std::uint32_t m = in.u32(da.data() + p);
      if (kept(m)) want.push_back(in.section_name(m));
    }
    for (std::size_t p = 4; p < db.size(); p += 4) {
      const std::uint32_t m = out.u32(db.data() + p);
      if (m == 0 || m >= os.size()) problem("group " + in.section_name(i) + ": member index out of range");
      else got.push_back(out.section_name(m));
    }
    if (want != got) problem("group " + in.section_name(i) + ": members differ");
    auto signature = [](const elf& f, const shdr& g) {
      if (g.info == 0) return std::string();  // the null symbol: its name bytes mean nothing
      return g.info < f.symbols().size() && f.symtab() == g.link ? f.symbol_name(f.symbols()[g.info])
                                                                 : std::string("?");
    };
    if (signature(in, is[i]) != signature(out, os[k])) problem("group " + in.section_name(i) + ": signature differs");
  }
  if (dropped_problems != 0) report.problems.push_back("... " + std::to_string(dropped_problems) + " more");
  return report;
}

}  // namespace elfsieve::testing
