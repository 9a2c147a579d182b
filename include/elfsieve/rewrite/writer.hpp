// The writer: an edit description (edits.hpp) in, the bytes of a new object of the same layout out.
// Rebuilt: .symtab (locals first, sh_info right, the added section symbols), its string table, the section-name
// table, SHT_SYMTAB_SHNDX, SHT_GROUP member lists and every REL/RELA section that uses .symtab. Every other kept
// section is copied byte for byte, except the REL fields a redirect patches. Section headers keep their order;
// sh_link, sh_info and e_shstrndx follow the new numbering (renumbering.hpp). Offsets come from file_layout.hpp
// (segments and allocated sections stay where they are). Bytes after the last section (a module signature) are
// not copied. The output depends only on the edits: same input and edits, same bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "elfsieve/analysis/reloc_kinds.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/groups.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/edits.hpp"
#include "elfsieve/rewrite/file_layout.hpp"
#include "elfsieve/rewrite/rebuilt_names.hpp"
#include "elfsieve/rewrite/rel_field.hpp"
#include "elfsieve/rewrite/renumbering.hpp"
#include "elfsieve/rewrite/sink.hpp"

namespace elfsieve {

namespace detail {
// Caller contract: the record lies inside `out`.
template <class T>
void put(std::span<std::byte> out, std::uint64_t at, const T& record) noexcept {
  std::memcpy(out.data() + at, &record, sizeof record);
}
}  // namespace detail

// What the writer puts in a kept section.
enum class section_content : std::uint8_t {
  copy,             // the input bytes (REL fields patched)
  symtab,           // the rebuilt symbol table
  symbol_strings,   // its rebuilt string table (also the section names when they share one)
  section_strings,  // the rebuilt section-name table
  shndx,            // the rebuilt SHT_SYMTAB_SHNDX
  group,            // the group's kept members
  relocations,      // relocations against the rebuilt symbol table, r_sym renumbered or redirected
};

template <elf_layout L>
[[nodiscard]] section_content content_of(const object_edits<L>& edits, bool shared_names,
                                         const section_ref<L>& s) noexcept {
  const auto& sections = edits.sections();
  const symbol_table<L>* symbols = edits.symbols();
  const std::uint32_t i = s.index().value;
  if (i != 0 && i == sections.shstrndx().value)
    return shared_names ? section_content::symbol_strings : section_content::section_strings;
  if (symbols == nullptr) return section_content::copy;
  if (i == symbols->section().value) return section_content::symtab;
  if (i == sections[symbols->section()].link()) return section_content::symbol_strings;
  if (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symbols->section().value) return section_content::shndx;
  if (s.type() == elf::SHT_GROUP) return section_content::group;
  if ((s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) && s.link() == symbols->section().value)
    return section_content::relocations;
  return section_content::copy;
}

// Emission into a sink (sink.hpp), in a fixed order: the pinned prefix, the sections in section-table order, the
// REL fields redirects patch, the section headers, the file header (a later write wins where ranges overlap, as
// they may in the pinned prefix). Copied bytes go to the sink straight from the input; each rebuilt table is built
// in one scratch buffer, reused from table to table, and written at once, or in memory a lending sink gives.
// Memory is bounded by the largest rebuilt table (and the section header table), never by the output's size.
template <elf_layout L>
class object_emitter {
 public:
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using sym = typename L::sym;
  using rel = typename L::rel;
  using rela = typename L::rela;
  using word = typename L::word;

  object_emitter(const object_edits<L>& edits, const renumbering<L>& numbers, const rebuilt_names<L>& names,
                 const file_layout<L>& layout) noexcept
      : edits_(edits), sections_(edits.sections()), numbers_(numbers), names_(names), layout_(layout) {}

  // Sizes the sink to layout.total_size() and writes the whole object; the first failing write is the error.
  template <output_sink Sink>
  [[nodiscard]] result<void> emit(Sink& sink) {
    ELFSIEVE_TRY_VOID(sink.resize(layout_.total_size()));
    ELFSIEVE_TRY_VOID(sink.write(0, input_bytes(0, layout_.prefix())));
    for (auto s : sections_) {
      if (!written(s) || s.type() == elf::SHT_NOBITS) continue;
      ELFSIEVE_TRY_VOID(emit_section(s, sink));
    }
    ELFSIEVE_TRY_VOID(patch_rel_fields(sink));
    if (sections_.size() != 0) ELFSIEVE_TRY_VOID(emit_headers(sink));
    ELFSIEVE_TRY_VOID(clear_segments_outside_file(sink));
    return emit_file_header(sink);
  }

 private:
  [[nodiscard]] bool written(const section_ref<L>& s) const noexcept {
    return s.index().value != 0 && numbers_.section(s.index()).has_value();
  }
  [[nodiscard]] section_content content(const section_ref<L>& s) const noexcept {
    return content_of(edits_, names_.shared(), s);
  }

  [[nodiscard]] std::span<const std::byte> input_bytes(std::uint64_t offset, std::uint64_t size) const noexcept {
    return edits_.input().bytes().subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
  }

  template <output_sink Sink>
  result<void> emit_section(const section_ref<L>& s, Sink& sink) {
    const std::uint64_t at = layout_.offset(s.index());
    const std::uint64_t size = layout_.size(s.index());
    const section_content c = content(s);
    if (c != section_content::copy && at < layout_.prefix()) prefix_rewritten_ = true;
    switch (c) {
      case section_content::copy: {
        ELFSIEVE_TRY(auto data, sections_.data(s));
        // A pinned section lies where the prefix already put its input bytes, unless a rebuilt table wrote there.
        const bool in_place = !prefix_rewritten_ && at + data.size() <= layout_.prefix() &&
                              data.data() == edits_.input().bytes().data() + at;
        if (in_place || data.empty()) return {};
        return sink.write(at, data);
      }
      case section_content::symbol_strings: return write_nonempty(sink, at, names_.symbol_strings());
      case section_content::section_strings: return write_nonempty(sink, at, names_.section_strings());
      default: break;
    }
    ELFSIEVE_TRY(const std::span<std::byte> out, table_buffer(sink, at, size));
    switch (c) {
      case section_content::symtab: emit_symbols(out); break;
      case section_content::shndx: emit_shndx(out); break;
      case section_content::group: ELFSIEVE_TRY_VOID(emit_group(s, out)); break;
      case section_content::relocations: ELFSIEVE_TRY_VOID(emit_relocations(s, out)); break;
      default: break;
    }
    return commit_table(sink, at);
  }

  template <output_sink Sink>
  static result<void> write_nonempty(Sink& sink, std::uint64_t at, std::span<const std::byte> bytes) {
    if (bytes.empty()) return {};
    return sink.write(at, bytes);
  }

  // The buffer a rebuilt table of `size` bytes at output offset `at` is built in, holding what the output holds
  // there before the table is written: zeros, or where the table lies in the pinned prefix the input's bytes (which
  // copied sections there do not change; only another rebuilt table overlapping this one in the prefix, which no
  // sane file has, could have). A lending sink's region (nothing more to write), else the scratch buffer, written
  // by commit_table.
  template <output_sink Sink>
  result<std::span<std::byte>> table_buffer(Sink& sink, std::uint64_t at, std::uint64_t size) {
    std::span<std::byte> out;
    if constexpr (lending_sink<Sink>) {
      ELFSIEVE_TRY(out, sink.region(at, size));
    } else {
      scratch_.assign(static_cast<std::size_t>(size), std::byte{0});
      out = scratch_;
    }
    if (at < layout_.prefix()) {
      const std::uint64_t n = std::min(size, layout_.prefix() - at);
      const auto from = input_bytes(at, n);
      if (!from.empty()) std::memcpy(out.data(), from.data(), from.size());
    }
    return out;
  }
  template <output_sink Sink>
  result<void> commit_table(Sink& sink, std::uint64_t at) {
    if constexpr (lending_sink<Sink>) return {};
    else return write_nonempty(sink, at, scratch_);
  }

  // The st_shndx (and extended index) a kept symbol gets.
  struct shndx_fields {
    std::uint16_t shndx = 0;
    std::uint32_t extended = 0;
  };
  [[nodiscard]] shndx_fields section_fields(const symbol_section& w, std::uint16_t raw) const noexcept {
    if (!w.is_regular()) return {raw == elf::SHN_XINDEX ? static_cast<std::uint16_t>(elf::SHN_UNDEF) : raw, 0};
    const std::uint32_t to = numbers_.section(w.index).value_or(section_index(0)).value;
    if (to >= elf::SHN_LORESERVE) return {static_cast<std::uint16_t>(elf::SHN_XINDEX), to};
    return {static_cast<std::uint16_t>(to), 0};
  }

  [[nodiscard]] const symbol_table<L>& symbols() const noexcept { return *edits_.symbols(); }

  void emit_symbols(std::span<std::byte> out) const {
    const symbol_table<L>& table = symbols();
    for (std::uint32_t i = 1; i < table.size(); ++i) {  // symbol 0 is left as the scratch buffer has it (zeros)
      const auto to = numbers_.symbol(symbol_index(i));
      if (!to) continue;
      sym record = table[symbol_index(i)].record();
      record.st_name.set(names_.symbol_name(symbol_index(i)));
      record.st_shndx.set(section_fields(numbers_.where(symbol_index(i)), record.st_shndx.value()).shndx);
      detail::put(out, std::uint64_t{to->value} * sizeof(sym), record);
    }
    for (section_index s : numbers_.sections_with_added_symbol()) {
      sym record{};
      record.st_info = elf::st_info(elf::STB_LOCAL, elf::STT_SECTION);
      record.st_value.set(static_cast<typename L::uword_t>(edits_.section(s).add_section_symbol.value_or(0)));
      record.st_shndx.set(section_fields(symbol_section{symbol_section::kind::regular, s}, 0).shndx);
      detail::put(out, std::uint64_t{numbers_.added_symbol(s)->value} * sizeof(sym), record);
    }
  }

  void emit_shndx(std::span<std::byte> out) const {
    const symbol_table<L>& table = symbols();
    auto put_word = [&](symbol_index to, std::uint32_t v) {
      word w{};
      w.set(v);
      detail::put(out, std::uint64_t{to.value} * 4, w);
    };
    for (std::uint32_t i = 0; i < table.size(); ++i) {
      const auto to = numbers_.symbol(symbol_index(i));
      if (!to) continue;
      put_word(*to, section_fields(numbers_.where(symbol_index(i)), table[symbol_index(i)].raw_shndx()).extended);
    }
    for (section_index s : numbers_.sections_with_added_symbol()) {
      const std::uint32_t to = numbers_.section(s).value_or(section_index(0)).value;
      put_word(*numbers_.added_symbol(s), to >= elf::SHN_LORESERVE ? to : 0);
    }
  }

  result<void> emit_group(const section_ref<L>& s, std::span<std::byte> out) const {
    ELFSIEVE_TRY(auto group, section_group<L>::create(sections_, s.index()));
    word w{};
    w.set(group.flags());
    detail::put(out, 0, w);
    std::uint64_t k = 1;
    for (std::size_t m = 0; m < group.size(); ++m) {
      const section_index member = group.member(m);
      if (!edits_.section_kept(member)) continue;
      w.set(numbers_.section(member).value_or(section_index(0)).value);
      detail::put(out, 4 * k++, w);
    }
    return {};
  }

  result<void> emit_relocations(const section_ref<L>& s, std::span<std::byte> out) const {
    ELFSIEVE_TRY(auto table, reloc_table<L>::create(sections_, s.index()));
    const symbol_table<L>& symtab = symbols();
    for (std::size_t k = 0; k < table.size(); ++k) {
      const relocation r = table[k];
      if (r.symbol.value >= symtab.size())
        return make_error(errc::bad_symbol_index, s.index(), table.entry_file_offset(k));
      const symbol_index named = r.symbol;
      const auto to = numbers_.relocation_symbol(edits_, named);
      if (!to)
        return with_detail(make_error(errc::relocation_names_removed_symbol, s.index(), table.entry_file_offset(k)),
                           r.symbol.value);
      const symbol_edit& e = edits_.symbol(named);
      const auto info = L::r_info(to->value, r.type);
      if (table.is_rela()) {
        rela record = table.rela_records()[k];
        record.r_info.set(info);
        if (e.fate == symbol_fate::redirect) record.r_addend.set(static_cast<typename L::sword_t>(r.addend + e.delta));
        detail::put(out, k * sizeof(rela), record);
      } else {
        rel record = table.rel_records()[k];
        record.r_info.set(info);
        detail::put(out, k * sizeof(rel), record);
      }
    }
    return {};
  }

  // REL relocations carry their addend in the field: a redirect adds its delta there, one small write per field
  // after everything else is in place (the value comes from the input, so a later patch of one field wins).
  template <output_sink Sink>
  result<void> patch_rel_fields(Sink& sink) const {
    if (edits_.symbols() == nullptr) return {};
    const section_index symtab = symbols().section();
    for (auto s : sections_) {
      // Section 0 is never written, but its bytes' targets are: it is patched like any kept REL section.
      if (s.type() != elf::SHT_REL || !edits_.section_kept(s.index())) continue;
      ELFSIEVE_TRY(auto table, reloc_table<L>::create(sections_, s.index()));
      if (table.symbol_table_index() != symtab || table.target_section().value == 0) continue;
      ELFSIEVE_TRY_VOID(patch_table(table, sink));
    }
    return {};
  }

  template <output_sink Sink>
  result<void> patch_table(const reloc_table<L>& table, Sink& sink) const {
    const auto target = sections_[table.target_section()];
    if (!edits_.section_kept(target.index()) || target.type() == elf::SHT_NOBITS) return {};
    const file<L>& f = edits_.input();
    auto contents = sections_.data(target);
    const std::uint64_t base = layout_.offset(target.index());
    for (std::size_t k = 0; k < table.size(); ++k) {
      const relocation r = table[k];
      if (r.symbol.value >= symbols().size())
        return make_error(errc::bad_symbol_index, table.section(), table.entry_file_offset(k));
      const symbol_edit& e = edits_.symbol(r.symbol);
      if (e.fate != symbol_fate::redirect) continue;
      const reloc_kind* kind = find_reloc_kind(f.machine(), r.type);
      if (kind == nullptr) return make_error(errc::wrong_section_type, table.section(), table.entry_file_offset(k));
      const std::uint64_t position = rel_field_position(f.type(), target.addr(), r.offset);
      const auto field = contents ? read_rel_field<L>(*contents, position, kind->width) : std::nullopt;
      // The field must also lie inside the output section (a rebuilt table may be smaller than its input).
      if (!field || position + field->width > layout_.size(target.index()))
        return make_error(errc::section_out_of_bounds, table.section(), table.entry_file_offset(k));
      std::byte patched[8] = {};
      write_rel_field<L>(patched, field->width, field->value + e.delta);
      ELFSIEVE_TRY_VOID(sink.write(base + position, std::span<const std::byte>(patched, field->width)));
    }
    return {};
  }

  // The section header table, built whole in the scratch buffer and written at once.
  template <output_sink Sink>
  result<void> emit_headers(Sink& sink) {
    const symbol_table<L>* symtab = edits_.symbols();
    const std::size_t n = sections_.size();
    const std::uint64_t shoff = layout_.section_headers_offset();
    const std::uint32_t count = numbers_.section_count();
    const std::uint32_t names = new_shstrndx();
    ELFSIEVE_TRY(const std::span<std::byte> out, table_buffer(sink, shoff, std::uint64_t{count} * sizeof(shdr)));
    for (auto s : sections_) {
      const std::uint32_t i = s.index().value;
      const auto to = numbers_.section(s.index());
      if (!to) continue;
      shdr h = s.header();
      if (i == 0) {
        // Section 0 carries only the escapes: the section count, the name table's index, the segment count.
        const bool phnum_escape = layout_.has_segments() && edits_.input().header().e_phnum.value() == elf::PN_XNUM;
        h = shdr{};
        if (phnum_escape) h.sh_info.set(s.info());
        h.sh_size.set(count >= elf::SHN_LORESERVE ? count : 0);
        h.sh_link.set(names >= elf::SHN_LORESERVE ? names : 0);
        detail::put(out, 0, h);
        continue;
      }
      if (auto name = names_.section_name(s.index())) h.sh_name.set(*name);
      h.sh_offset.set(static_cast<typename L::uword_t>(layout_.offset(s.index())));
      h.sh_size.set(static_cast<typename L::uword_t>(layout_.size(s.index())));
      // A link to a removed section becomes 0 (no section) rather than a stale number naming another one.
      if (s.link() != 0 && s.link() < n)
        h.sh_link.set(numbers_.section(section_index(s.link())).value_or(section_index(0)).value);
      if (elf::sh_info_is_section(s.type(), s.flags()) && s.info() != 0 && s.info() < n)
        h.sh_info.set(numbers_.section(section_index(s.info())).value_or(section_index(0)).value);
      if (symtab != nullptr && s.index() == symtab->section()) h.sh_info.set(numbers_.first_global());
      if (symtab != nullptr && s.type() == elf::SHT_GROUP && s.info() < symtab->size())
        h.sh_info.set(numbers_.symbol(symbol_index(s.info())).value_or(symbol_index(0)).value);  // checked written
      if (edits_.section(s.index()).clear_merge)
        h.sh_flags.set(static_cast<typename L::uword_t>(s.flags() & ~elf::SHF_MERGE));
      detail::put(out, std::uint64_t{to->value} * sizeof(shdr), h);
    }
    return commit_table(sink, shoff);
  }

  [[nodiscard]] std::uint32_t new_shstrndx() const noexcept {
    const section_index old = sections_.shstrndx();
    return old.value == 0 ? 0 : numbers_.section(old).value_or(section_index(0)).value;
  }

  // A segment that lay outside the input (a separate debug file's) is written with p_filesz 0, as GNU does.
  template <output_sink Sink>
  result<void> clear_segments_outside_file(Sink& sink) const {
    if (layout_.segments_outside_file() == 0) return {};
    const file<L>& f = edits_.input();
    ELFSIEVE_TRY(auto phdrs, f.program_headers());
    const std::uint64_t phoff = f.header().e_phoff.value();
    for (std::size_t i = 0; i < phdrs.size(); ++i) {
      if (!layout_.segment_outside_file(i)) continue;
      typename L::phdr record = phdrs[i];
      record.p_filesz.set(0);
      ELFSIEVE_TRY_VOID(sink.write(phoff + i * sizeof record, std::as_bytes(std::span(&record, 1))));
    }
    return {};
  }

  template <output_sink Sink>
  result<void> emit_file_header(Sink& sink) const {
    const ehdr& input = edits_.input().header();
    ehdr h = input;
    h.e_ehsize.set(sizeof(ehdr));
    if (!layout_.has_segments()) {
      h.e_phoff.set(0);
      h.e_phnum.set(0);
    }
    const std::uint32_t count = numbers_.section_count();
    h.e_shoff.set(static_cast<typename L::uword_t>(layout_.section_headers_offset()));
    h.e_shnum.set(static_cast<std::uint16_t>(count >= elf::SHN_LORESERVE || sections_.size() == 0 ? 0 : count));
    const std::uint32_t names = new_shstrndx();
    h.e_shstrndx.set(static_cast<std::uint16_t>(names >= elf::SHN_LORESERVE ? elf::SHN_XINDEX : names));
    if (sections_.size() == 0) h.e_shentsize.set(input.e_shentsize.value());
    return sink.write(0, std::as_bytes(std::span<const ehdr, 1>(&h, 1)));
  }

  const object_edits<L>& edits_;
  const section_table<L>& sections_;
  const renumbering<L>& numbers_;
  const rebuilt_names<L>& names_;
  const file_layout<L>& layout_;
  std::vector<std::byte> scratch_;  // the table being rebuilt; its capacity is reused
  bool prefix_rewritten_ = false;   // a rebuilt table was written into the pinned prefix
};

// The output size of kept section s: rebuilt tables get their new size, everything else keeps its own. Sections
// whose bytes are copied or read must be readable.
template <elf_layout L>
[[nodiscard]] result<std::uint64_t> rewritten_size(const object_edits<L>& edits, const renumbering<L>& numbers,
                                                   const rebuilt_names<L>& names, const section_ref<L>& s) {
  const auto& sections = edits.sections();
  const section_content c = content_of(edits, names.shared(), s);
  if (c == section_content::copy || c == section_content::relocations) ELFSIEVE_TRY_VOID(sections.data(s));
  switch (c) {
    case section_content::copy:
    case section_content::relocations: return s.size();
    case section_content::symtab: return std::uint64_t{numbers.symbol_count()} * sizeof(typename L::sym);
    case section_content::symbol_strings: return names.symbol_strings().size();
    case section_content::section_strings: return names.section_strings().size();
    case section_content::shndx: return std::uint64_t{numbers.symbol_count()} * 4;
    case section_content::group: {
      ELFSIEVE_TRY(const auto group, section_group<L>::create(sections, s.index()));
      std::uint64_t words = 1;
      for (std::size_t m = 0; m < group.size(); ++m) words += edits.section_kept(group.member(m)) ? 1u : 0u;
      return words * 4;
    }
  }
  return s.size();
}

// Every kept group's signature symbol must be written, or the group would name no symbol.
template <elf_layout L>
[[nodiscard]] result<void> check_group_signatures(const object_edits<L>& edits, const renumbering<L>& numbers) {
  const symbol_table<L>* symtab = edits.symbols();
  if (symtab == nullptr) return {};
  for (auto s : edits.sections()) {
    if (s.index().value == 0 || !edits.section_kept(s.index()) || s.type() != elf::SHT_GROUP) continue;
    if (s.info() < symtab->size() && !numbers.symbol(symbol_index(s.info())))
      return make_error(errc::bad_group_signature, s.index(), s.offset());
  }
  return {};
}

// Writes the object `edits` describes into `sink`: resize(total size) once, then the bytes. Edits the layout
// refuses write nothing; an error found while emitting (a relocation naming a dropped symbol, say) or a sink's
// failure stops the writer and is its error, and the sink holds a partial output that the caller discards.
template <elf_layout L, output_sink Sink>
[[nodiscard]] result<void> write_object(const object_edits<L>& edits, Sink& sink) {
  ELFSIEVE_TRY(const auto numbers, renumbering<L>::create(edits));
  ELFSIEVE_TRY_VOID(check_group_signatures(edits, numbers));
  ELFSIEVE_TRY(const auto names, rebuilt_names<L>::create(edits, numbers));
  auto size_of = [&](const section_ref<L>& s) { return rewritten_size(edits, numbers, names, s); };
  ELFSIEVE_TRY(const auto layout, file_layout<L>::create(edits, numbers.section_count(), size_of));
  return object_emitter<L>(edits, numbers, names, layout).emit(sink);
}

// Writes the object `edits` describes into `out` (replacing its contents; its capacity is reused).
template <elf_layout L>
[[nodiscard]] result<void> write_object(const object_edits<L>& edits, std::vector<std::byte>& out) {
  vector_sink sink(out);
  return write_object(edits, sink);
}

}  // namespace elfsieve
