// Builds small ELF images in memory for any layout, then lets a test corrupt any field of the result.
//
//   elf_builder<elf64le> b;
//   auto syms = b.add_symbols({{"main", 0x10, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, 1}});
//   elf_image<elf64le> img = b.build();
//   img.section_header(syms.symtab).sh_entsize.set(0);   // now malformed
//
// Section 0 is the null section; add() returns each new section's index. build() appends ".shstrtab" (unless
// options().section_names is false), lays out section data (each aligned to its sh_addralign, plus `skew` bytes
// to misalign it on purpose), then the program headers, then the section headers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"

namespace elfsieve::testing {

using byte_vector = std::vector<std::byte>;

// Sets an endian field from any integer (truncating to the field's width, which tests use on purpose).
template <class Field, class V>
void put(Field& field, V v) {
  field.set(static_cast<typename Field::value_type>(v));
}

template <pod_record T>
void append_record(byte_vector& out, const T& record) {
  const auto* p = reinterpret_cast<const std::byte*>(&record);
  out.insert(out.end(), p, p + sizeof(T));
}

inline void append_string(byte_vector& out, std::string_view s) {
  for (char c : s) out.push_back(static_cast<std::byte>(c));
}

inline void pad_to(byte_vector& out, std::uint64_t alignment) {
  if (alignment <= 1) return;
  while (out.size() % alignment != 0) out.push_back(std::byte{0});
}

inline byte_vector bytes_of(std::string_view s) {
  byte_vector out;
  append_string(out, s);
  return out;
}

// A string table under construction: offset 0 is the empty string.
class string_table_builder {
 public:
  string_table_builder() : bytes_{std::byte{0}} {}
  std::uint32_t add(std::string_view s) {
    if (s.empty()) return 0;
    const auto offset = static_cast<std::uint32_t>(bytes_.size());
    append_string(bytes_, s);
    bytes_.push_back(std::byte{0});
    return offset;
  }
  [[nodiscard]] const byte_vector& bytes() const noexcept { return bytes_; }

 private:
  byte_vector bytes_;
};

// The SysV ELF hash (vd_hash, vna_hash).
inline std::uint32_t elf_hash(std::string_view name) {
  std::uint32_t h = 0;
  for (char c : name) {
    h = (h << 4) + static_cast<unsigned char>(c);
    const std::uint32_t g = h & 0xf0000000u;
    if (g != 0) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

struct symbol_spec {
  std::string name;
  std::uint64_t value = 0;
  std::uint64_t size = 0;
  std::uint8_t bind = elf::STB_GLOBAL;
  std::uint8_t type = elf::STT_NOTYPE;
  std::uint8_t other = 0;
  std::uint16_t shndx = elf::SHN_UNDEF;
};

struct reloc_spec {
  std::uint64_t offset = 0;
  std::uint32_t symbol = 0;
  std::uint32_t type = 0;
  std::int64_t addend = 0;  // written only for RELA
};

struct note_spec {
  std::string name;  // written with its NUL; empty means n_namesz = 0
  std::uint32_t type = 0;
  byte_vector desc;
};

struct verdef_spec {
  std::uint16_t index = 0;
  std::uint16_t flags = 0;
  std::string name;
  std::vector<std::string> parents;
};

struct vernaux_spec {
  std::string name;
  std::uint16_t other = 0;  // the version index symbols use
  std::uint16_t flags = 0;
};

struct verneed_spec {
  std::string file;
  std::vector<vernaux_spec> versions;
};

template <elf_layout L>
byte_vector encode_symbols(const std::vector<symbol_spec>& symbols, string_table_builder& names) {
  byte_vector out;
  for (const symbol_spec& s : symbols) {
    typename L::sym rec{};
    put(rec.st_name, names.add(s.name));
    put(rec.st_value, s.value);
    put(rec.st_size, s.size);
    rec.st_info = elf::st_info(s.bind, s.type);
    rec.st_other = s.other;
    put(rec.st_shndx, s.shndx);
    append_record(out, rec);
  }
  return out;
}

template <elf_layout L>
byte_vector encode_relocs(const std::vector<reloc_spec>& relocs, bool rela) {
  byte_vector out;
  for (const reloc_spec& r : relocs) {
    if (rela) {
      typename L::rela rec{};
      put(rec.r_offset, r.offset);
      put(rec.r_info, L::r_info(r.symbol, r.type));
      put(rec.r_addend, r.addend);
      append_record(out, rec);
    } else {
      typename L::rel rec{};
      put(rec.r_offset, r.offset);
      put(rec.r_info, L::r_info(r.symbol, r.type));
      append_record(out, rec);
    }
  }
  return out;
}

// Words of the layout's address size (RELR entries).
template <elf_layout L>
byte_vector encode_uwords(const std::vector<std::uint64_t>& words) {
  byte_vector out;
  for (std::uint64_t w : words) {
    typename L::uword rec{};
    put(rec, w);
    append_record(out, rec);
  }
  return out;
}

// 32-bit words (group members, SYMTAB_SHNDX entries).
template <elf_layout L>
byte_vector encode_words(const std::vector<std::uint32_t>& words) {
  byte_vector out;
  for (std::uint32_t w : words) {
    typename L::word rec{};
    put(rec, w);
    append_record(out, rec);
  }
  return out;
}

template <elf_layout L>
byte_vector encode_halves(const std::vector<std::uint16_t>& halves) {
  byte_vector out;
  for (std::uint16_t h : halves) {
    typename L::half rec{};
    put(rec, h);
    append_record(out, rec);
  }
  return out;
}

// Notes with name and descriptor each padded to `alignment` (4, or 8 for 8-aligned note sections).
template <elf_layout L>
byte_vector encode_notes(const std::vector<note_spec>& notes, std::uint64_t alignment) {
  byte_vector out;
  for (const note_spec& n : notes) {
    typename L::nhdr h{};
    put(h.n_namesz, n.name.empty() ? 0 : n.name.size() + 1);
    put(h.n_descsz, n.desc.size());
    put(h.n_type, n.type);
    append_record(out, h);
    if (!n.name.empty()) {
      append_string(out, n.name);
      out.push_back(std::byte{0});
    }
    pad_to(out, alignment);
    out.insert(out.end(), n.desc.begin(), n.desc.end());
    pad_to(out, alignment);
  }
  return out;
}

template <elf_layout L>
byte_vector encode_verdef(const std::vector<verdef_spec>& defs, string_table_builder& names) {
  using verdef = typename L::verdef;
  using verdaux = typename L::verdaux;
  byte_vector out;
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const verdef_spec& d = defs[i];
    const std::size_t aux_count = 1 + d.parents.size();
    verdef rec{};
    put(rec.vd_version, 1);
    put(rec.vd_flags, d.flags);
    put(rec.vd_ndx, d.index);
    put(rec.vd_cnt, aux_count);
    put(rec.vd_hash, elf_hash(d.name));
    put(rec.vd_aux, sizeof(verdef));
    put(rec.vd_next, i + 1 == defs.size() ? 0 : sizeof(verdef) + aux_count * sizeof(verdaux));
    append_record(out, rec);
    for (std::size_t a = 0; a < aux_count; ++a) {
      verdaux aux{};
      put(aux.vda_name, names.add(a == 0 ? d.name : d.parents[a - 1]));
      put(aux.vda_next, a + 1 == aux_count ? 0 : sizeof(verdaux));
      append_record(out, aux);
    }
  }
  return out;
}

template <elf_layout L>
byte_vector encode_verneed(const std::vector<verneed_spec>& needs, string_table_builder& names) {
  using verneed = typename L::verneed;
  using vernaux = typename L::vernaux;
  byte_vector out;
  for (std::size_t i = 0; i < needs.size(); ++i) {
    const verneed_spec& n = needs[i];
    verneed rec{};
    put(rec.vn_version, 1);
    put(rec.vn_cnt, n.versions.size());
    put(rec.vn_file, names.add(n.file));
    put(rec.vn_aux, sizeof(verneed));
    put(rec.vn_next, i + 1 == needs.size() ? 0 : sizeof(verneed) + n.versions.size() * sizeof(vernaux));
    append_record(out, rec);
    for (std::size_t a = 0; a < n.versions.size(); ++a) {
      const vernaux_spec& v = n.versions[a];
      vernaux aux{};
      put(aux.vna_hash, elf_hash(v.name));
      put(aux.vna_flags, v.flags);
      put(aux.vna_other, v.other);
      put(aux.vna_name, names.add(v.name));
      put(aux.vna_next, a + 1 == n.versions.size() ? 0 : sizeof(vernaux));
      append_record(out, aux);
    }
  }
  return out;
}

struct section_spec {
  std::string name;
  std::uint32_t type = elf::SHT_PROGBITS;
  std::uint64_t flags = 0;
  std::uint64_t addr = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t addralign = 1;
  std::uint64_t entsize = 0;
  byte_vector data;
  std::optional<std::uint64_t> size;  // sh_size when it must differ from data.size() (NOBITS, lies)
  std::uint64_t skew = 0;             // extra bytes placed before the data, to misalign it
};

struct segment_spec {
  std::uint32_t type = elf::PT_LOAD;
  std::uint32_t flags = 0;
  std::optional<std::uint32_t> section;  // when set, offset and filesz cover this section's data
  std::uint64_t offset = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t align = 0;
};

struct build_options {
  bool section_headers = true;   // false: e_shoff = 0, e_shnum = 0
  bool section_names = true;     // false: no .shstrtab, e_shstrndx = 0
  bool extended_shnum = false;   // e_shnum = 0, count in section 0's sh_size (automatic from 0xff00 sections)
  bool xindex_shstrndx = false;  // e_shstrndx = SHN_XINDEX, index in section 0's sh_link (automatic >= 0xff00)
  bool pn_xnum = false;          // e_phnum = PN_XNUM, count in section 0's sh_info (automatic >= 0xffff)
  std::uint64_t table_skew = 0;  // extra bytes before each header table, to misalign it
  std::uint16_t type = elf::ET_REL;
  std::uint16_t machine = 0;  // 0: a machine that fits the layout
};

template <elf_layout L>
constexpr std::uint16_t default_machine() {
  if constexpr (L::is64) return L::endianness == std::endian::little ? elf::EM_X86_64 : elf::EM_PPC64;
  else return L::endianness == std::endian::little ? elf::EM_386 : elf::EM_PPC;
}

// A built image plus where everything went, with mutable access to every record for corrupting it.
template <elf_layout L>
struct elf_image {
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using phdr = typename L::phdr;

  byte_vector bytes;
  std::vector<std::uint64_t> section_offsets;  // where each section's data starts
  std::uint64_t shoff = 0;
  std::uint64_t phoff = 0;
  std::uint32_t shstrndx = 0;

  [[nodiscard]] std::span<const std::byte> span() const& noexcept { return bytes; }
  std::span<const std::byte> span() && = delete;
  [[nodiscard]] result<file<L>> open() const& noexcept { return file<L>::create(span()); }
  result<file<L>> open() && = delete;

  // The record of type T at file offset `offset` (records have alignment 1, so any offset works).
  template <pod_record T>
  T& at(std::uint64_t offset) {
    Expects(offset + sizeof(T) <= bytes.size());
    return *reinterpret_cast<T*>(bytes.data() + offset);
  }
  ehdr& header() { return at<ehdr>(0); }
  shdr& section_header(std::uint32_t i) { return at<shdr>(shoff + std::uint64_t{i} * sizeof(shdr)); }
  phdr& program_header(std::uint32_t i) { return at<phdr>(phoff + std::uint64_t{i} * sizeof(phdr)); }
  // Record i of type T inside section `section`'s data.
  template <pod_record T>
  T& record(std::uint32_t section, std::size_t i = 0) {
    return at<T>(section_offsets.at(section) + i * sizeof(T));
  }
  void set_byte(std::uint64_t offset, std::uint8_t v) { bytes.at(offset) = std::byte{v}; }
  void truncate(std::size_t size) { bytes.resize(std::min(size, bytes.size())); }
};

template <elf_layout L>
class elf_builder {
 public:
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using phdr = typename L::phdr;
  using sym = typename L::sym;

  struct symtab_indices {
    std::uint32_t symtab = 0;
    std::uint32_t strtab = 0;
    std::uint32_t shndx = 0;  // the SHT_SYMTAB_SHNDX section, 0 when none
  };

  elf_builder() {
    section_spec null;
    null.type = elf::SHT_NULL;
    null.addralign = 0;
    sections_.push_back(null);
  }

  build_options& options() noexcept { return options_; }
  [[nodiscard]] std::size_t section_count() const noexcept { return sections_.size(); }
  section_spec& section(std::uint32_t i) { return sections_.at(i); }

  std::uint32_t add(section_spec s) {
    sections_.push_back(std::move(s));
    return static_cast<std::uint32_t>(sections_.size() - 1);
  }

  std::uint32_t add_progbits(std::string name, byte_vector data, std::uint64_t flags = elf::SHF_ALLOC) {
    section_spec s;
    s.name = std::move(name);
    s.flags = flags;
    s.addralign = 4;
    s.data = std::move(data);
    return add(std::move(s));
  }

  std::uint32_t add_nobits(std::string name, std::uint64_t size) {
    section_spec s;
    s.name = std::move(name);
    s.type = elf::SHT_NOBITS;
    s.flags = elf::SHF_ALLOC | elf::SHF_WRITE;
    s.addralign = 8;
    s.size = size;
    return add(std::move(s));
  }

  std::uint32_t add_strtab(std::string name, const string_table_builder& strings) {
    section_spec s;
    s.name = std::move(name);
    s.type = elf::SHT_STRTAB;
    s.data = strings.bytes();
    return add(std::move(s));
  }

  // A symbol table with a null symbol 0 followed by `symbols` (so symbols[i] gets index i + 1), its string
  // table, and, when `extended` is non-empty, an SHT_SYMTAB_SHNDX section holding it (one word per symbol,
  // including symbol 0).
  symtab_indices add_symbols(const std::vector<symbol_spec>& symbols, std::uint32_t type = elf::SHT_SYMTAB,
                             const std::vector<std::uint32_t>& extended = {}) {
    const bool dynamic = type == elf::SHT_DYNSYM;
    std::vector<symbol_spec> all;
    all.push_back(symbol_spec{"", 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF});
    all.insert(all.end(), symbols.begin(), symbols.end());
    string_table_builder names;
    byte_vector records = encode_symbols<L>(all, names);
    symtab_indices out;
    out.strtab = add_strtab(dynamic ? ".dynstr" : ".strtab", names);
    section_spec s;
    s.name = dynamic ? ".dynsym" : ".symtab";
    s.type = type;
    s.flags = dynamic ? elf::SHF_ALLOC : 0;
    s.link = out.strtab;
    s.addralign = L::word_bytes;
    s.entsize = sizeof(sym);
    std::uint32_t first_global = 1;
    while (first_global < all.size() && all[first_global].bind == elf::STB_LOCAL) ++first_global;
    s.info = first_global;
    s.data = std::move(records);
    out.symtab = add(std::move(s));
    if (!extended.empty()) {
      section_spec x;
      x.name = ".symtab_shndx";
      x.type = elf::SHT_SYMTAB_SHNDX;
      x.link = out.symtab;
      x.addralign = 4;
      x.entsize = 4;
      x.data = encode_words<L>(extended);
      out.shndx = add(std::move(x));
    }
    return out;
  }

  std::uint32_t add_relocs(std::string name, const std::vector<reloc_spec>& relocs, bool rela, std::uint32_t symtab,
                           std::uint32_t target) {
    section_spec s;
    s.name = std::move(name);
    s.type = rela ? elf::SHT_RELA : elf::SHT_REL;
    s.flags = target != 0 ? elf::SHF_INFO_LINK : 0;
    s.link = symtab;
    s.info = target;
    s.addralign = L::word_bytes;
    s.entsize = rela ? sizeof(typename L::rela) : sizeof(typename L::rel);
    s.data = encode_relocs<L>(relocs, rela);
    return add(std::move(s));
  }

  std::uint32_t add_relr(const std::vector<std::uint64_t>& words) {
    section_spec s;
    s.name = ".relr.dyn";
    s.type = elf::SHT_RELR;
    s.flags = elf::SHF_ALLOC;
    s.addralign = L::word_bytes;
    s.entsize = L::word_bytes;
    s.data = encode_uwords<L>(words);
    return add(std::move(s));
  }

  std::uint32_t add_group(std::uint32_t flags, const std::vector<std::uint32_t>& members, std::uint32_t symtab,
                          std::uint32_t signature) {
    std::vector<std::uint32_t> words{flags};
    words.insert(words.end(), members.begin(), members.end());
    section_spec s;
    s.name = ".group";
    s.type = elf::SHT_GROUP;
    s.link = symtab;
    s.info = signature;
    s.addralign = 4;
    s.entsize = 4;
    s.data = encode_words<L>(words);
    return add(std::move(s));
  }

  std::uint32_t add_notes(std::string name, const std::vector<note_spec>& notes, std::uint64_t alignment = 4) {
    section_spec s;
    s.name = std::move(name);
    s.type = elf::SHT_NOTE;
    s.flags = elf::SHF_ALLOC;
    s.addralign = alignment;
    s.data = encode_notes<L>(notes, alignment);
    return add(std::move(s));
  }

  void add_segment(segment_spec p) { segments_.push_back(p); }

  [[nodiscard]] elf_image<L> build() const {
    std::vector<section_spec> all = sections_;
    elf_image<L> img;
    if (options_.section_names) {
      section_spec names;
      names.name = ".shstrtab";
      names.type = elf::SHT_STRTAB;
      img.shstrndx = static_cast<std::uint32_t>(all.size());
      all.push_back(names);
    }
    string_table_builder shstrtab;
    std::vector<std::uint32_t> name_offsets;
    name_offsets.reserve(all.size());
    for (const section_spec& s : all) name_offsets.push_back(options_.section_names ? shstrtab.add(s.name) : 0);
    if (options_.section_names) all.back().data = shstrtab.bytes();

    byte_vector& out = img.bytes;
    out.resize(sizeof(ehdr));
    img.section_offsets.assign(all.size(), 0);
    for (std::size_t i = 1; i < all.size(); ++i) {
      const section_spec& s = all[i];
      pad_to(out, s.addralign);
      out.insert(out.end(), s.skew, std::byte{0});
      img.section_offsets[i] = out.size();
      if (s.type != elf::SHT_NOBITS) out.insert(out.end(), s.data.begin(), s.data.end());
    }

    const std::size_t segment_count = segments_.size();
    if (segment_count != 0) {
      pad_to(out, L::word_bytes);
      out.insert(out.end(), options_.table_skew, std::byte{0});
      img.phoff = out.size();
      for (const segment_spec& p : segments_) {
        phdr rec{};
        std::uint64_t offset = p.offset, filesz = p.filesz;
        if (p.section) {
          offset = img.section_offsets.at(*p.section);
          filesz = all.at(*p.section).data.size();
        }
        put(rec.p_type, p.type);
        put(rec.p_flags, p.flags);
        put(rec.p_offset, offset);
        put(rec.p_vaddr, p.vaddr);
        put(rec.p_paddr, p.vaddr);
        put(rec.p_filesz, filesz);
        put(rec.p_memsz, p.memsz != 0 ? p.memsz : filesz);
        put(rec.p_align, p.align);
        append_record(out, rec);
      }
    }

    const bool extended_shnum = options_.extended_shnum || all.size() >= elf::SHN_LORESERVE;
    const bool xindex = options_.xindex_shstrndx || img.shstrndx >= elf::SHN_LORESERVE;
    const bool pn_xnum = options_.pn_xnum || segment_count >= elf::PN_XNUM;
    if (options_.section_headers) {
      pad_to(out, L::word_bytes);
      out.insert(out.end(), options_.table_skew, std::byte{0});
      img.shoff = out.size();
      for (std::size_t i = 0; i < all.size(); ++i) {
        const section_spec& s = all[i];
        shdr rec{};
        put(rec.sh_name, name_offsets[i]);
        put(rec.sh_type, s.type);
        put(rec.sh_flags, s.flags);
        put(rec.sh_addr, s.addr);
        put(rec.sh_offset, img.section_offsets[i]);
        put(rec.sh_size, s.size.value_or(s.data.size()));
        put(rec.sh_link, s.link);
        put(rec.sh_info, s.info);
        put(rec.sh_addralign, s.addralign);
        put(rec.sh_entsize, s.entsize);
        if (i == 0) {
          put(rec.sh_size, extended_shnum ? all.size() : 0);
          put(rec.sh_link, xindex ? img.shstrndx : 0);
          put(rec.sh_info, pn_xnum ? segment_count : 0);
        }
        append_record(out, rec);
      }
    }

    ehdr h{};
    h.e_ident[0] = std::byte{0x7f};
    h.e_ident[1] = std::byte{'E'};
    h.e_ident[2] = std::byte{'L'};
    h.e_ident[3] = std::byte{'F'};
    h.e_ident[elf::EI_CLASS] = std::byte{L::elf_class};
    h.e_ident[elf::EI_DATA] = std::byte{L::elf_data};
    h.e_ident[elf::EI_VERSION] = std::byte{elf::EV_CURRENT};
    put(h.e_type, options_.type);
    put(h.e_machine, options_.machine != 0 ? options_.machine : default_machine<L>());
    put(h.e_version, elf::EV_CURRENT);
    put(h.e_phoff, img.phoff);
    put(h.e_shoff, img.shoff);
    put(h.e_ehsize, sizeof(ehdr));
    put(h.e_phentsize, segment_count != 0 ? sizeof(phdr) : 0);
    put(h.e_phnum, pn_xnum ? elf::PN_XNUM : segment_count);
    put(h.e_shentsize, options_.section_headers ? sizeof(shdr) : 0);
    put(h.e_shnum, !options_.section_headers || extended_shnum ? 0 : all.size());
    put(h.e_shstrndx, xindex ? elf::SHN_XINDEX : img.shstrndx);
    std::memcpy(out.data(), &h, sizeof h);
    return img;
  }

 private:
  std::vector<section_spec> sections_;
  std::vector<segment_spec> segments_;
  build_options options_;
};

// A small but complete relocatable object: .text, .data, .bss, a symbol table with locals and globals, a RELA
// (or REL) section against .text, and a note. Sections: 1 .text, 2 .data, 3 .bss, 4 .strtab, 5 .symtab,
// 6 .rel(a).text, 7 .note.test, 8 .shstrtab.
template <elf_layout L>
elf_image<L> small_object(bool rela = true) {
  elf_builder<L> b;
  const std::uint32_t text =
      b.add_progbits(".text", byte_vector(16, std::byte{0x90}), elf::SHF_ALLOC | elf::SHF_EXECINSTR);
  const std::uint32_t data = b.add_progbits(".data", byte_vector(8, std::byte{1}), elf::SHF_ALLOC | elf::SHF_WRITE);
  const std::uint32_t bss = b.add_nobits(".bss", 32);
  auto syms = b.add_symbols({
      {"local_fn", 0, 4, elf::STB_LOCAL, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)},
      {"main", 4, 12, elf::STB_GLOBAL, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)},
      {"counter", 0, 8, elf::STB_GLOBAL, elf::STT_OBJECT, 0, static_cast<std::uint16_t>(data)},
      {"buffer", 0, 32, elf::STB_WEAK, elf::STT_OBJECT, elf::STV_HIDDEN, static_cast<std::uint16_t>(bss)},
      {"puts", 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
  });
  b.add_relocs(rela ? ".rela.text" : ".rel.text", {{4, 5, 2, -4}, {8, 3, 1, 16}}, rela, syms.symtab, text);
  b.add_notes(".note.test", {{"GNU", 3, bytes_of("abcdefgh")}});
  return b.build();
}

}  // namespace elfsieve::testing

// The four layouts, for TEMPLATE_TEST_CASE.
#define ELFSIEVE_ALL_LAYOUTS elfsieve::elf32le, elfsieve::elf32be, elfsieve::elf64le, elfsieve::elf64be
