// The malformed suite: named inputs for the classes of docs/MALFORMED.md, each with the accessor that must
// reject it and the error it must give, or, for inputs that are odd but valid (misaligned tables, NOBITS past
// EOF, reserved section indices), a check that they are accepted with the right values.
//
// Each case is instantiated for every layout where it makes sense; its name is "cNN.what.layout", NN being the
// class number in MALFORMED.md (c00 for malformations the document does not list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/elf_builder.hpp"

namespace elfsieve::testing {

// What a probe observed: the error the accessor returned (none: it succeeded), and for accepted inputs a
// description of any value that came out wrong.
struct outcome {
  std::optional<error> failure;
  std::string mismatch;
};

// The built input plus, where meaningful, the section index, file offset and detail the error must carry.
struct prepared {
  byte_vector bytes;
  std::optional<std::uint32_t> section;
  std::optional<std::uint64_t> offset;
  std::optional<std::uint64_t> detail;
  bool no_section = false;  // the error must name no section (it concerns the file header)
};

struct malformed_case {
  std::string name;
  int malformed_class = 0;
  layout_id layout = layout_id::le64;
  std::function<prepared()> make;
  std::function<outcome(std::span<const std::byte>)> probe;
  std::optional<errc> expected;  // none: the input must be accepted
};

template <class T>
outcome outcome_of(const result<T>& r) {
  if (r) return {};
  return {r.error(), {}};
}
inline outcome mismatch(std::string what) { return {std::nullopt, std::move(what)}; }

template <elf_layout L>
constexpr const char* layout_name() {
  if constexpr (std::is_same_v<L, elf32le>) return "elf32le";
  else if constexpr (std::is_same_v<L, elf32be>) return "elf32be";
  else if constexpr (std::is_same_v<L, elf64le>) return "elf64le";
  else return "elf64be";
}

template <elf_layout L>
constexpr layout_id id_of() {
  if constexpr (std::is_same_v<L, elf32le>) return layout_id::le32;
  else if constexpr (std::is_same_v<L, elf32be>) return layout_id::be32;
  else if constexpr (std::is_same_v<L, elf64le>) return layout_id::le64;
  else return layout_id::be64;
}

// Section indices of small_object<L>().
namespace small {
inline constexpr std::uint32_t text = 1, data = 2, bss = 3, strtab = 4, symtab = 5, rela = 6, note = 7, shstrtab = 8,
                               count = 9;
}

template <elf_layout L>
class case_table {
 public:
  using image = elf_image<L>;
  using mutate_fn = std::function<void(image&, prepared&)>;
  using probe_fn = std::function<outcome(std::span<const std::byte>)>;

  explicit case_table(std::vector<malformed_case>& out) : out_(out) {}

  void add(const char* name, int cls, std::function<prepared()> make, probe_fn probe, std::optional<errc> expected) {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "c%02d.", cls);
    out_.push_back({std::string(prefix) + name + "." + layout_name<L>(), cls, id_of<L>(), std::move(make),
                    std::move(probe), expected});
  }

  // small_object<L>() changed by `m`.
  static std::function<prepared()> small(mutate_fn m, bool rela = true) {
    return [m, rela] {
      image img = small_object<L>(rela);
      prepared p;
      m(img, p);
      p.bytes = img.bytes;
      return p;
    };
  }
  static std::function<prepared()> built(std::function<image()> build, mutate_fn m = {}) {
    return [build, m] {
      image img = build();
      prepared p;
      if (m) m(img, p);
      p.bytes = img.bytes;
      return p;
    };
  }
  static std::function<prepared()> raw(byte_vector bytes) {
    return [bytes] {
      prepared p;
      p.bytes = bytes;
      return p;
    };
  }

  // Probes: open the file, then call one accessor.
  static probe_fn open() {
    return [](std::span<const std::byte> b) { return outcome_of(file<L>::create(b)); };
  }
  static probe_fn visit_any() {
    return [](std::span<const std::byte> b) { return outcome_of(visit(b, [](const auto&) { return 0; })); };
  }
  template <class F>
  static probe_fn with_file(F f) {
    return [f](std::span<const std::byte> b) -> outcome {
      auto opened = file<L>::create(b);
      if (!opened) return outcome_of(opened);
      return f(opened.value());
    };
  }
  template <class F>
  static probe_fn with_sections(F f) {
    return with_file([f](const file<L>& fl) -> outcome {
      auto sections = fl.sections();
      if (!sections) return outcome_of(sections);
      return f(fl, sections.value());
    });
  }
  static probe_fn sections() {
    return with_file([](const file<L>& fl) { return outcome_of(fl.sections()); });
  }
  static probe_fn section_name(std::uint32_t i) {
    return with_sections(
        [i](const file<L>&, const section_table<L>& s) { return outcome_of(s.name(s[section_index(i)])); });
  }
  static probe_fn section_data(std::uint32_t i) {
    return with_sections(
        [i](const file<L>&, const section_table<L>& s) { return outcome_of(s.data(s[section_index(i)])); });
  }
  static probe_fn symbols(std::uint32_t i) {
    return with_sections([i](const file<L>&, const section_table<L>& s) {
      return outcome_of(symbol_table<L>::create(s, section_index(i)));
    });
  }
  // Symbol `sym` of table `table`: its name, then the section it is defined in.
  static probe_fn symbol(std::uint32_t table, std::uint32_t sym) {
    return with_sections([table, sym](const file<L>&, const section_table<L>& s) -> outcome {
      auto symbols = symbol_table<L>::create(s, section_index(table));
      if (!symbols) return outcome_of(symbols);
      auto ref = symbols->at(symbol_index(sym));
      if (!ref) return outcome_of(ref);
      auto name = symbols->name(ref.value());
      if (!name) return outcome_of(name);
      return outcome_of(symbols->section_of(ref.value()));
    });
  }
  static probe_fn relocs(std::uint32_t i) {
    return with_sections([i](const file<L>&, const section_table<L>& s) {
      return outcome_of(reloc_table<L>::create(s, section_index(i)));
    });
  }
  // The symbol of relocation `r` of section `i`, resolved against symbol table `table`.
  static probe_fn reloc_symbol(std::uint32_t i, std::size_t r, std::uint32_t table) {
    return with_sections([i, r, table](const file<L>&, const section_table<L>& s) -> outcome {
      auto relocs = reloc_table<L>::create(s, section_index(i));
      if (!relocs) return outcome_of(relocs);
      auto symbols = symbol_table<L>::create(s, section_index(table));
      if (!symbols) return outcome_of(symbols);
      if (r >= relocs->size()) return mismatch("relocation index past the table");
      return outcome_of(relocs->symbol_of(r, symbols.value()));
    });
  }
  static probe_fn group(std::uint32_t i) {
    return with_sections([i](const file<L>&, const section_table<L>& s) {
      return outcome_of(section_group<L>::create(s, section_index(i)));
    });
  }
  // The first error among the notes of section i (success when every note parses).
  static probe_fn notes(std::uint32_t i) {
    return with_sections([i](const file<L>&, const section_table<L>& s) -> outcome {
      const auto ref = s[section_index(i)];
      auto data = s.data(ref);
      if (!data) return outcome_of(data);
      for (const auto& n : note_range<L>(data.value(), ref.addralign(), section_index(i), ref.offset()))
        if (!n) return outcome_of(n);
      return {};
    });
  }
  static probe_fn program_headers() {
    return with_file([](const file<L>& fl) { return outcome_of(fl.program_headers()); });
  }
  static probe_fn segment_data(std::uint32_t j) {
    return with_file([j](const file<L>& fl) -> outcome {
      auto phdrs = fl.program_headers();
      if (!phdrs) return outcome_of(phdrs);
      if (j >= phdrs->size()) return mismatch("fewer program headers than expected");
      return outcome_of(fl.segment_data((*phdrs)[j]));
    });
  }
  // The version of symbol `sym` of the dynamic symbol table `table`.
  static probe_fn version(std::uint32_t table, std::uint32_t sym) {
    return with_sections([table, sym](const file<L>&, const section_table<L>& s) -> outcome {
      auto symbols = symbol_table<L>::create(s, section_index(table));
      if (!symbols) return outcome_of(symbols);
      auto versions = symbol_versions<L>::create(s, symbols.value());
      if (!versions) return outcome_of(versions);
      return outcome_of(versions->get(symbol_index(sym)));
    });
  }
  static probe_fn relr(std::uint32_t i) {
    return with_sections([i](const file<L>&, const section_table<L>& s) {
      return outcome_of(relr_table<L>::create(s, section_index(i)));
    });
  }

 private:
  std::vector<malformed_case>& out_;
};

// A dynamic object fragment: .dynstr, .dynsym (puts, api@V1 hidden, api@@V2), .gnu.version,
// .gnu.version_d (base, V1, V2) and .gnu.version_r (libc.so.6: GLIBC_2.2.5 as index 4).
// Sections: 1 .text, 2 .dynstr, 3 .dynsym, 4 .gnu.version, 5 .gnu.version_d, 6 .gnu.version_r, 7 .shstrtab.
namespace dyn {
inline constexpr std::uint32_t text = 1, dynstr = 2, dynsym = 3, versym = 4, verdef = 5, verneed = 6;
}

template <elf_layout L>
elf_image<L> versioned_object() {
  elf_builder<L> b;
  b.options().type = elf::ET_DYN;
  const std::uint32_t text = b.add_progbits(".text", byte_vector(16), elf::SHF_ALLOC | elf::SHF_EXECINSTR);
  string_table_builder dynstr;
  std::vector<symbol_spec> syms{
      {"", 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {"puts", 0, 0, elf::STB_GLOBAL, elf::STT_FUNC, 0, elf::SHN_UNDEF},
      {"api", 0, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)},
      {"api", 8, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, static_cast<std::uint16_t>(text)},
      {"libv.so.1", 0, 0, elf::STB_GLOBAL, elf::STT_OBJECT, 0, elf::SHN_ABS},
  };
  byte_vector symbols = encode_symbols<L>(syms, dynstr);
  byte_vector verdef =
      encode_verdef<L>({{1, elf::VER_FLG_BASE, "libv.so.1", {}}, {2, 0, "V1", {}}, {3, 0, "V2", {"V1"}}}, dynstr);
  byte_vector verneed = encode_verneed<L>({{"libc.so.6", {{"GLIBC_2.2.5", 4, 0}}}}, dynstr);
  const std::uint32_t strtab = b.add_strtab(".dynstr", dynstr);
  section_spec dynsym;
  dynsym.name = ".dynsym";
  dynsym.type = elf::SHT_DYNSYM;
  dynsym.flags = elf::SHF_ALLOC;
  dynsym.link = strtab;
  dynsym.info = 1;
  dynsym.addralign = L::word_bytes;
  dynsym.entsize = sizeof(typename L::sym);
  dynsym.data = symbols;
  const std::uint32_t symtab = b.add(dynsym);
  section_spec versym;
  versym.name = ".gnu.version";
  versym.type = elf::SHT_GNU_versym;
  versym.flags = elf::SHF_ALLOC;
  versym.link = symtab;
  versym.addralign = 2;
  versym.entsize = 2;
  versym.data = encode_halves<L>({0, 4, static_cast<std::uint16_t>(2 | elf::VERSYM_HIDDEN), 3, 1});
  b.add(versym);
  section_spec vd;
  vd.name = ".gnu.version_d";
  vd.type = elf::SHT_GNU_verdef;
  vd.flags = elf::SHF_ALLOC;
  vd.link = strtab;
  vd.info = 3;
  vd.addralign = 4;
  vd.data = verdef;
  b.add(vd);
  section_spec vn;
  vn.name = ".gnu.version_r";
  vn.type = elf::SHT_GNU_verneed;
  vn.flags = elf::SHF_ALLOC;
  vn.link = strtab;
  vn.info = 1;
  vn.addralign = 4;
  vn.data = verneed;
  b.add(vn);
  return b.build();
}

template <elf_layout L>
void add_malformed_cases(std::vector<malformed_case>& out) {
  using namespace elf;
  using T = case_table<L>;
  using image = elf_image<L>;
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using sym = typename L::sym;
  using nhdr = typename L::nhdr;
  using P = prepared;
  T t(out);
  constexpr bool is64 = L::is64;

  // 1. Shorter than the ELF header.
  t.add("empty_file", 1, T::raw({}), T::visit_any(), errc::truncated_header);
  t.add("ident_only", 1, T::small([](image& img, P&) { img.truncate(EI_NIDENT); }), T::open(), errc::truncated_header);
  t.add("header_cut", 1, T::small([](image& img, P&) { img.truncate(sizeof(ehdr) - 1); }), T::open(),
        errc::truncated_header);
  t.add("not_elf", 1, T::raw(bytes_of("#!/bin/sh\necho not an ELF file\n")), T::visit_any(), errc::bad_magic);

  // 2. EI_CLASS / EI_DATA invalid or lying.
  t.add("class_invalid", 2, T::small([](image& img, P& p) {
          img.set_byte(EI_CLASS, 3);
          p.offset = EI_CLASS;
        }),
        T::visit_any(), errc::bad_class);
  t.add("data_invalid", 2, T::small([](image& img, P& p) {
          img.set_byte(EI_DATA, 0);
          p.offset = EI_DATA;
        }),
        T::visit_any(), errc::bad_data_encoding);
  t.add("class_lies", 2, T::small([](image& img, P& p) {
          img.set_byte(EI_CLASS, is64 ? ELFCLASS32 : ELFCLASS64);
          p.offset = EI_CLASS;
        }),
        T::open(), errc::bad_class);
  t.add("data_lies", 2, T::small([](image& img, P& p) {
          img.set_byte(EI_DATA, L::elf_data == ELFDATA2LSB ? ELFDATA2MSB : ELFDATA2LSB);
          p.offset = EI_DATA;
        }),
        T::open(), errc::bad_data_encoding);
  t.add("version_invalid", 2, T::small([](image& img, P&) { img.set_byte(EI_VERSION, 0); }), T::open(),
        errc::bad_version);

  // 3. e_shentsize 0, 1, or smaller than a section header.
  for (std::uint16_t bad : {std::uint16_t{0}, std::uint16_t{1}, static_cast<std::uint16_t>(sizeof(shdr) - 1)}) {
    const std::string name = bad == 0 ? "shentsize_zero" : bad == 1 ? "shentsize_one" : "shentsize_short";
    t.add(name.c_str(), 3, T::small([bad](image& img, P& p) {
            put(img.header().e_shentsize, bad);
            p.offset = offsetof(ehdr, e_shentsize);
          }),
          T::sections(), errc::bad_shentsize);
  }

  // 4. e_phentsize wrong.
  t.add("phentsize_wrong", 4,
        T::built(
            [] {
              elf_builder<L> b;
              const std::uint32_t text = b.add_progbits(".text", byte_vector(8));
              b.add_segment({PT_LOAD, 5, text});
              return b.build();
            },
            [](image& img, P& p) {
              put(img.header().e_phentsize, sizeof(typename L::phdr) + 8);
              p.offset = offsetof(ehdr, e_phentsize);
            }),
        T::program_headers(), errc::bad_phentsize);

  // 5. e_shoff past EOF, or e_shoff + table size overflowing.
  t.add("shoff_past_eof", 5, T::small([](image& img, P& p) {
          put(img.header().e_shoff, img.bytes.size() + 16);
          p.section = 0;
          p.offset = img.bytes.size() + 16;
        }),
        T::sections(), errc::section_table_out_of_bounds);
  t.add("shoff_overflow", 5, T::small([](image& img, P& p) {
          put(img.header().e_shoff, ~std::uint64_t{0});
          p.section = 0;
        }),
        T::sections(), errc::section_table_out_of_bounds);
  t.add("shnum_past_eof", 5, T::small([](image& img, P& p) {
          put(img.header().e_shnum, 0xfeff);
          p.offset = img.shoff;
        }),
        T::sections(), errc::section_table_out_of_bounds);

  // 6. e_shnum = 0 with a huge section-0 sh_size.
  t.add("extended_shnum_huge", 6, T::small([](image& img, P&) {
          put(img.header().e_shnum, 0);
          put(img.section_header(0).sh_size, ~std::uint64_t{0});
        }),
        T::sections(), errc::section_table_out_of_bounds);
  t.add("extended_shnum_past_eof", 6, T::small([](image& img, P& p) {
          put(img.header().e_shnum, 0);
          put(img.section_header(0).sh_size, 0x10000);
          p.offset = img.shoff;
        }),
        T::sections(), errc::section_table_out_of_bounds);

  // 7. e_shstrndx out of range; SHN_XINDEX with a bad sh_link or no section headers.
  t.add("shstrndx_out_of_range", 7, T::small([](image& img, P& p) {
          put(img.header().e_shstrndx, small::count);
          p.no_section = true;
          p.detail = small::count;
          p.offset = offsetof(ehdr, e_shstrndx);
        }),
        T::section_name(small::text), errc::bad_shstrndx);
  t.add("xindex_bad_link", 7, T::small([](image& img, P& p) {
          put(img.header().e_shstrndx, SHN_XINDEX);
          put(img.section_header(0).sh_link, 999);
          p.no_section = true;
          p.detail = 999;
          p.offset = offsetof(ehdr, e_shstrndx);
        }),
        T::section_name(small::text), errc::bad_shstrndx);
  t.add("xindex_without_section_headers", 7, T::small([](image& img, P&) {
          put(img.header().e_shstrndx, SHN_XINDEX);
          put(img.header().e_shoff, 0);
        }),
        T::with_file([](const file<L>& f) { return outcome_of(f.shstrndx(0)); }), errc::no_section_headers);
  t.add("pn_xnum_without_section_headers", 7,
        T::built(
            [] {
              elf_builder<L> b;
              b.add_segment({PT_NOTE, 0, std::nullopt, 0, 0});
              return b.build();
            },
            [](image& img, P&) {
              put(img.header().e_phnum, PN_XNUM);
              put(img.header().e_shoff, 0);
            }),
        T::program_headers(), errc::no_section_headers);

  // 8. Section-name table of the wrong type, empty.
  t.add("shstrtab_wrong_type", 8, T::small([](image& img, P& p) {
          put(img.section_header(small::shstrtab).sh_type, SHT_PROGBITS);
          p.section = small::shstrtab;
        }),
        T::section_name(small::text), errc::not_a_string_table);
  t.add("shstrtab_empty", 8, T::small([](image& img, P& p) {
          put(img.section_header(small::shstrtab).sh_size, 0);
          p.section = small::shstrtab;
        }),
        T::section_name(small::text), errc::empty_string_table);

  // 9. String table without a final NUL.
  t.add("strtab_unterminated", 9, T::small([](image& img, P& p) {
          auto& h = img.section_header(small::strtab);
          const std::uint64_t last = h.sh_offset.value() + h.sh_size.value() - 1;
          img.set_byte(last, 'x');
          p.section = small::strtab;
          p.offset = last;
        }),
        T::symbols(small::symtab), errc::string_table_not_terminated);
  t.add("shstrtab_unterminated", 9, T::small([](image& img, P& p) {
          auto& h = img.section_header(small::shstrtab);
          put(h.sh_size, h.sh_size.value() - 1);  // the table now ends inside ".shstrtab"
          p.section = small::shstrtab;
        }),
        T::section_name(small::text), errc::string_table_not_terminated);

  // 10. sh_name / st_name past the end of the string table.
  t.add("sh_name_past_end", 10, T::small([](image& img, P& p) {
          put(img.section_header(small::data).sh_name, 0x7fffffff);
          p.section = small::data;
          p.offset = img.shoff + small::data * sizeof(shdr);
        }),
        T::section_name(small::data), errc::string_out_of_range);
  t.add("st_name_past_end", 10, T::small([](image& img, P& p) {
          put(img.template record<sym>(small::symtab, 2).st_name, img.section_header(small::strtab).sh_size.value());
          p.section = small::symtab;
          p.offset = img.section_offsets[small::symtab] + 2 * sizeof(sym);
        }),
        T::symbol(small::symtab, 2), errc::string_out_of_range);
  t.add("vda_name_past_end", 10,
        T::built(versioned_object<L>,
                 [](image& img, P&) {
                   // verdef 1 (V1): its verdaux follows the base entry's verdef and verdaux.
                   const std::uint64_t aux = sizeof(typename L::verdef) * 2 + sizeof(typename L::verdaux);
                   put(img.template at<typename L::verdaux>(img.section_offsets[dyn::verdef] + aux).vda_name,
                       0xfffffff0u);
                 }),
        T::version(dyn::dynsym, 2), errc::string_out_of_range);

  // 11. sh_offset + sh_size past EOF.
  t.add("section_past_eof", 11, T::small([](image& img, P& p) {
          put(img.section_header(small::data).sh_offset, img.bytes.size() - 4);
          p.section = small::data;
          p.offset = img.bytes.size() - 4;
        }),
        T::section_data(small::data), errc::section_out_of_bounds);
  t.add("symtab_past_eof", 11, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_size, sizeof(sym) * 100000);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::section_out_of_bounds);

  // 12. offset + size wrapping around.
  t.add("offset_wraps", 12, T::small([](image& img, P& p) {
          put(img.section_header(small::data).sh_offset, is64 ? ~std::uint64_t{0} - 3 : 0xffffffffu);
          p.section = small::data;
        }),
        T::section_data(small::data), errc::section_out_of_bounds);
  t.add("size_wraps", 12, T::small([](image& img, P& p) {
          put(img.section_header(small::data).sh_size, ~std::uint64_t{0});
          p.section = small::data;
        }),
        T::section_data(small::data), errc::section_out_of_bounds);

  // 13. SHT_NOBITS with an offset past EOF or 0: accepted, with no bytes. A symbol table retyped to NOBITS is
  // not a symbol table.
  for (const bool zero : {false, true}) {
    t.add(zero ? "nobits_offset_zero" : "nobits_past_eof", 13, T::small([zero](image& img, P&) {
            put(img.section_header(small::bss).sh_offset, zero ? 0 : (is64 ? ~std::uint64_t{0} - 8 : 0xfffffff0u));
          }),
          T::with_sections([](const file<L>&, const section_table<L>& s) -> outcome {
            auto data = s.data(s[section_index(small::bss)]);
            if (!data) return outcome_of(data);
            if (!data->empty()) return mismatch("NOBITS data not empty");
            if (s[section_index(small::bss)].size() != 32) return mismatch("NOBITS size changed");
            return {};
          }),
          std::nullopt);
  }
  t.add("symtab_retyped_nobits", 13, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_type, SHT_NOBITS);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::wrong_section_type);

  // 14. sh_entsize = 0.
  t.add("symtab_entsize_zero", 14, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_entsize, 0);
          p.section = small::symtab;
          p.offset = img.section_offsets[small::symtab];
        }),
        T::symbols(small::symtab), errc::bad_entsize);
  t.add("rela_entsize_zero", 14, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_entsize, 0);
          p.section = small::rela;
        }),
        T::relocs(small::rela), errc::bad_entsize);
  t.add("rel_entsize_zero", 14,
        T::small(
            [](image& img, P& p) {
              put(img.section_header(small::rela).sh_entsize, 0);
              p.section = small::rela;
            },
            false),
        T::relocs(small::rela), errc::bad_entsize);

  // 15. sh_entsize not the record size; sh_size not a multiple; sh_size < entsize.
  t.add("symtab_entsize_wrong", 15, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_entsize, sizeof(sym) + 1);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::bad_entsize);
  t.add("symtab_size_not_multiple", 15, T::small([](image& img, P& p) {
          auto& h = img.section_header(small::symtab);
          put(h.sh_size, h.sh_size.value() - 1);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::bad_section_size);
  t.add("symtab_smaller_than_entsize", 15, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_size, sizeof(sym) - 2);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::bad_section_size);
  t.add("rela_entsize_is_rel", 15, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_entsize, sizeof(typename L::rel));
          p.section = small::rela;
        }),
        T::relocs(small::rela), errc::bad_entsize);
  t.add("versym_count_mismatch", 15,
        T::built(versioned_object<L>,
                 [](image& img, P& p) {
                   put(img.section_header(dyn::versym).sh_size, 4);
                   p.section = dyn::versym;
                 }),
        T::version(dyn::dynsym, 2), errc::bad_version_data);

  // 16. sh_link out of range.
  t.add("symtab_link_out_of_range", 16, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_link, 0xfff0);
          p.section = small::symtab;
          p.offset = img.shoff + small::symtab * sizeof(shdr) + offsetof(shdr, sh_link);
          p.detail = 0xfff0;
        }),
        T::symbols(small::symtab), errc::bad_link);
  t.add("rela_link_out_of_range", 16, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_link, small::count);
          p.section = small::rela;
        }),
        T::relocs(small::rela), errc::bad_link);

  // 17. sh_link pointing at the wrong type or at itself.
  t.add("symtab_link_self", 17, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_link, small::symtab);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::wrong_link_type);
  t.add("symtab_link_to_progbits", 17, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_link, small::text);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::wrong_link_type);
  t.add("rela_link_to_strtab", 17, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_link, small::strtab);
          p.section = small::rela;
        }),
        T::relocs(small::rela), errc::wrong_link_type);
  t.add("strtab_link_is_shstrtab_alias", 17, T::small([](image& img, P& p) {
          // Pointing .symtab at .shstrtab is odd but type-correct: accepted, names come from there.
          put(img.section_header(small::symtab).sh_link, small::shstrtab);
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), std::nullopt);

  // 18. REL/RELA sh_info out of range; relocations whose symbol table is missing.
  t.add("rela_info_out_of_range", 18, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_info, 0x12345);
          p.section = small::rela;
          p.offset = img.shoff + small::rela * sizeof(shdr) + offsetof(shdr, sh_info);
          p.detail = 0x12345;
        }),
        T::relocs(small::rela), errc::bad_info);
  t.add("rela_without_symtab", 18, T::small([](image& img, P& p) {
          put(img.section_header(small::rela).sh_link, 0);
          p.section = small::rela;
          p.offset = img.section_offsets[small::rela];
        }),
        T::reloc_symbol(small::rela, 0, small::symtab), errc::wrong_symbol_table);

  // 19. r_sym >= symbol count; relocation resolved against the wrong table.
  t.add("r_sym_out_of_range", 19, T::small([](image& img, P& p) {
          auto& r = img.template record<typename L::rela>(small::rela, 1);
          put(r.r_info, L::r_info(is64 ? 0x7fffffffu : 0xffffffu, 1));
          p.section = small::rela;
          p.offset = img.section_offsets[small::rela] + sizeof(typename L::rela);
        }),
        T::reloc_symbol(small::rela, 1, small::symtab), errc::bad_symbol_index);
  t.add("reloc_against_wrong_table", 19, T::built([] {
          elf_builder<L> b;
          const std::uint32_t text = b.add_progbits(".text", byte_vector(16));
          auto a = b.add_symbols({{"a", 0, 0, STB_GLOBAL, STT_FUNC, 0, static_cast<std::uint16_t>(text)}});
          b.add_symbols({{"d", 0, 0, STB_GLOBAL, STT_FUNC, 0, static_cast<std::uint16_t>(text)}}, SHT_DYNSYM);
          b.add_relocs(".rela.text", {{0, 1, 1, 0}}, true, a.symtab, text);
          return b.build();
        }),
        T::reloc_symbol(6, 0, 5), errc::wrong_symbol_table);

  // 20. st_shndx >= section count, reserved, or SHN_XINDEX without SYMTAB_SHNDX.
  t.add("st_shndx_out_of_range", 20, T::small([](image& img, P& p) {
          put(img.template record<sym>(small::symtab, 2).st_shndx, 0x100);
          p.section = small::symtab;
          p.offset = img.section_offsets[small::symtab] + 2 * sizeof(sym);
        }),
        T::symbol(small::symtab, 2), errc::bad_symbol_section);
  t.add("st_shndx_reserved", 20,
        T::small([](image& img, P&) { put(img.template record<sym>(small::symtab, 2).st_shndx, 0xff05); }),
        T::with_sections([](const file<L>&, const section_table<L>& s) -> outcome {
          auto symbols = symbol_table<L>::create(s, section_index(small::symtab));
          if (!symbols) return outcome_of(symbols);
          auto where = symbols->section_of((*symbols)[symbol_index(2)]);
          if (!where) return outcome_of(where);
          if (where->where != symbol_section::kind::reserved || where->index.value != 0xff05)
            return mismatch("reserved index not reported as reserved 0xff05");
          return {};
        }),
        std::nullopt);
  t.add("xindex_without_symtab_shndx", 20, T::small([](image& img, P& p) {
          put(img.template record<sym>(small::symtab, 3).st_shndx, SHN_XINDEX);
          p.section = small::symtab;
          p.offset = img.section_offsets[small::symtab] + 3 * sizeof(sym);
        }),
        T::symbol(small::symtab, 3), errc::missing_symtab_shndx);

  // 21. SYMTAB_SHNDX count mismatch or entries out of range.
  const auto with_shndx = [] {
    elf_builder<L> b;
    const std::uint32_t text = b.add_progbits(".text", byte_vector(8));
    b.add_symbols({{"x", 0, 0, STB_GLOBAL, STT_FUNC, 0, SHN_XINDEX}}, SHT_SYMTAB, {0, text});
    return b.build();
  };
  t.add("symtab_shndx_count_mismatch", 21,
        T::built(with_shndx,
                 [](image& img, P& p) {
                   put(img.section_header(4).sh_size, 4);
                   p.section = 4;
                 }),
        T::symbols(3), errc::symtab_shndx_mismatch);
  t.add("symtab_shndx_entry_out_of_range", 21,
        T::built(with_shndx,
                 [](image& img, P& p) {
                   put(img.template record<typename L::word>(4, 1), 0x10000);
                   p.section = 4;  // the SHT_SYMTAB_SHNDX entry holds the bad index
                   p.offset = img.section_offsets[4] + sizeof(typename L::word);
                 }),
        T::symbol(3, 1), errc::bad_symbol_section);

  // 22. SHT_GROUP members out of range (or 0, or the group itself); a group without even the flag word.
  const auto with_group = [](std::vector<std::uint32_t> members) {
    return [members] {
      elf_builder<L> b;
      const std::uint32_t text = b.add_progbits(".text.f", byte_vector(8), SHF_ALLOC | SHF_GROUP);
      auto syms = b.add_symbols({{"f", 0, 0, STB_WEAK, STT_FUNC, 0, static_cast<std::uint16_t>(text)}});
      std::vector<std::uint32_t> m = members;
      if (m.empty()) m.push_back(text);
      b.add_group(GRP_COMDAT, m, syms.symtab, 1);
      return b.build();
    };
  };
  t.add("group_member_out_of_range", 22,
        T::built(with_group({1, 0xffff}),
                 [](image& img, P& p) {
                   p.section = 4;
                   p.offset = img.section_offsets[4] + 8;
                 }),
        T::group(4), errc::bad_group);
  t.add("group_member_zero", 22, T::built(with_group({0})), T::group(4), errc::bad_group);
  t.add("group_member_self", 22, T::built(with_group({1, 4})), T::group(4), errc::bad_group);
  t.add("group_empty", 22,
        T::built(with_group({}),
                 [](image& img, P& p) {
                   put(img.section_header(4).sh_size, 0);
                   p.section = 4;
                 }),
        T::group(4), errc::bad_group);

  // 23. Counts that would blow up an allocation must fail on bounds, allocating nothing.
  t.add("symbol_count_huge", 23, T::small([](image& img, P& p) {
          put(img.section_header(small::symtab).sh_size,
              is64 ? 0x400000004000001ull * sizeof(sym) : 0xfffffff0u / sizeof(sym) * sizeof(sym));
          p.section = small::symtab;
        }),
        T::symbols(small::symtab), errc::section_out_of_bounds);
  t.add("phnum_xnum_huge", 23,
        T::built(
            [] {
              elf_builder<L> b;
              b.add_progbits(".text", byte_vector(8));
              b.add_segment({PT_LOAD, 5, 1u});
              b.options().pn_xnum = true;
              return b.build();
            },
            [](image& img, P&) { put(img.section_header(0).sh_info, 0xffffffffu); }),
        T::program_headers(), errc::program_table_out_of_bounds);
  t.add("verdef_count_huge", 23,
        T::built(versioned_object<L>,
                 [](image& img, P& p) {
                   // Claim 4 billion definitions, the last real one chaining to a garbage offset; a lookup of an
                   // index nobody defines must walk off the end and stop, not loop.
                   put(img.section_header(dyn::verdef).sh_info, 0xffffffffu);
                   put(img.template record<typename L::verdef>(dyn::verdef, 0).vd_next, 4);
                   put(img.template record<typename L::half>(dyn::versym, 4), 0x7ff0);
                   p.section = dyn::versym;
                   p.offset = img.section_offsets[dyn::versym] + 4 * sizeof(typename L::half);
                   p.detail = 0x7ff0;
                 }),
        T::version(dyn::dynsym, 4), errc::unknown_version_index);

  // 24. Misaligned tables: accepted, and read correctly.
  t.add("misaligned_tables", 24, T::built([] {
          elf_builder<L> b;
          b.options().table_skew = 1;
          const std::uint32_t text = b.add_progbits(".text", byte_vector(16));
          auto syms = b.add_symbols({{"odd", 0x1234, 7, STB_GLOBAL, STT_FUNC, 0, static_cast<std::uint16_t>(text)}});
          b.section(syms.symtab).skew = 3;
          b.section(syms.strtab).skew = 1;
          const std::uint32_t rela = b.add_relocs(".rela.text", {{6, 1, 2, -5}}, true, syms.symtab, text);
          b.section(rela).skew = 5;
          const std::uint32_t note = b.add_notes(".note", {{"GNU", 1, bytes_of("abcd")}});
          b.section(note).skew = 2;
          b.add_segment({PT_NOTE, 4, note});
          return b.build();
        }),
        T::with_sections([](const file<L>& f, const section_table<L>& s) -> outcome {
          auto symbols = symbol_table<L>::create(s, section_index(3));
          if (!symbols) return outcome_of(symbols);
          const auto odd = (*symbols)[symbol_index(1)];
          auto name = symbols->name(odd);
          if (!name) return outcome_of(name);
          if (name.value() != "odd" || odd.value() != 0x1234 || odd.size() != 7) return mismatch("symbol values");
          auto relocs = reloc_table<L>::create(s, section_index(4));
          if (!relocs) return outcome_of(relocs);
          const relocation r = (*relocs)[0];
          if (r.offset != 6 || r.symbol != symbol_index(1) || r.type != 2 || r.addend != -5)
            return mismatch("relocation values");
          auto phdrs = f.program_headers();
          if (!phdrs) return outcome_of(phdrs);
          auto seg = f.segment_data((*phdrs)[0]);
          if (!seg) return outcome_of(seg);
          for (const auto& n : note_range<L>(seg.value(), 4))
            if (!n || n->name != "GNU" || n->desc.size() != 4) return n ? mismatch("note values") : outcome_of(n);
          return {};
        }),
        std::nullopt);

  // 25. Segment contents past EOF (PT_DYNAMIC is not parsed by the core; its bytes are checked like any).
  t.add("segment_past_eof", 25,
        T::built(
            [] {
              elf_builder<L> b;
              b.add_progbits(".dynamic", byte_vector(16));
              b.add_segment({PT_DYNAMIC, 6, 1u});
              return b.build();
            },
            [](image& img, P& p) {
              put(img.program_header(0).p_filesz, 0x100000);
              p.offset = img.section_offsets[1];
              p.no_section = true;  // a segment is no section
            }),
        T::segment_data(0), errc::segment_out_of_bounds);

  // 26. Note namesz/descsz overflow.
  const auto note_field = [](bool name_field, std::uint32_t v) {
    return T::small([name_field, v](image& img, P& p) {
      auto& n = img.template record<nhdr>(small::note);
      put(name_field ? n.n_namesz : n.n_descsz, v);
      p.section = small::note;
      p.offset = img.section_offsets[small::note];
    });
  };
  t.add("note_namesz_overflow", 26, note_field(true, 0xffffffffu), T::notes(small::note), errc::bad_note);
  t.add("note_descsz_overflow", 26, note_field(false, 0xffffffffu), T::notes(small::note), errc::bad_note);
  t.add("note_descsz_past_end", 26, note_field(false, 9), T::notes(small::note), errc::bad_note);
  t.add("note_header_cut", 26, T::small([](image& img, P& p) {
          put(img.section_header(small::note).sh_size, sizeof(nhdr) - 4);
          p.section = small::note;
        }),
        T::notes(small::note), errc::bad_note);

  // 27. Pathological but bounded: thousands of program headers are read, not rejected.
  t.add("many_program_headers", 27, T::built([] {
          elf_builder<L> b;
          for (int i = 0; i < 6144; ++i) b.add_segment({PT_NULL, 0, std::nullopt, 0, 0});
          return b.build();
        }),
        T::with_file([](const file<L>& f) -> outcome {
          auto phdrs = f.program_headers();
          if (!phdrs) return outcome_of(phdrs);
          return phdrs->size() == 6144 ? outcome{} : mismatch("program header count");
        }),
        std::nullopt);

  // Beyond the document: RELR starting with a bitmap, RELR entsize wrong.
  t.add("relr_starts_with_bitmap", 0, T::built([] {
          elf_builder<L> b;
          b.add_relr({0x3, 0x1000});
          return b.build();
        }),
        T::relr(1), errc::bad_relr);
  t.add("relr_entsize_wrong", 0,
        T::built(
            [] {
              elf_builder<L> b;
              b.add_relr({0x1000, 0x7});
              return b.build();
            },
            [](image& img, P&) { put(img.section_header(1).sh_entsize, 4 + L::word_bytes); }),
        T::relr(1), errc::bad_entsize);
}

inline std::vector<malformed_case> all_malformed_cases() {
  std::vector<malformed_case> out;
  add_malformed_cases<elf32le>(out);
  add_malformed_cases<elf32be>(out);
  add_malformed_cases<elf64le>(out);
  add_malformed_cases<elf64be>(out);
  return out;
}

}  // namespace elfsieve::testing
