// The writer: a strip plan in, the bytes of a new object of the same layout out.
// Rebuilt: .symtab (locals first, sh_info right, new section symbols where retargets need them), its string
// table, the section-name table, SHT_SYMTAB_SHNDX, SHT_GROUP member lists and every REL/RELA section that uses
// .symtab. Every other kept section is copied byte for byte, except the REL fields a retarget patches. Section
// headers keep their order; sh_link, sh_info and e_shstrndx follow the new numbering. In a file with program
// headers, everything a segment or an SHF_ALLOC section covers stays at its offset; the rest is laid out after it
// in file order, each section at its alignment, and the section header table last. Bytes after the last section
// (a module signature) are not copied. The output depends only on the plan: same input and options, same bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/groups.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/strip/plan.hpp"
#include "elfsieve/rewrite/strtab_builder.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

namespace detail {

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) noexcept {
  return a <= 1 ? v : (v + a - 1) / a * a;
}

// File-offset alignment for a section: its sh_addralign when that is a power of two, capped at a page so that a
// malformed alignment cannot blow the output up.
[[nodiscard]] constexpr std::uint64_t file_alignment(std::uint64_t addralign) noexcept {
  if (addralign <= 1 || (addralign & (addralign - 1)) != 0) return 1;
  return std::min<std::uint64_t>(addralign, 4096);
}

template <class T>
void put(std::vector<std::byte>& out, std::uint64_t at, const T& record) noexcept {
  std::memcpy(out.data() + at, &record, sizeof record);
}

}  // namespace detail

template <elf_layout L>
class object_writer {
 public:
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using sym = typename L::sym;
  using rel = typename L::rel;
  using rela = typename L::rela;
  using word = typename L::word;
  static constexpr std::uint32_t none = 0xffffffffu;

  explicit object_writer(const strip_plan<L>& plan) noexcept : plan_(plan), sections_(plan.sections()) {}

  // Writes the new object into `out` (replacing its contents; its capacity is reused).
  [[nodiscard]] result<void> write(std::vector<std::byte>& out) {
    if (auto r = number_sections(); !r) return r;
    if (auto r = number_symbols(); !r) return r;
    if (auto r = build_strings(); !r) return r;
    if (auto r = lay_out(); !r) return r;
    out.assign(total_size_, std::byte{0});
    if (auto r = emit(out); !r) return r;
    return {};
  }

 private:
  // The symbol table being written, or null (none in the input, or the plan drops it).
  [[nodiscard]] const symbol_table<L>* symbols_table() const noexcept {
    const symbol_table<L>* t = plan_.symbols();
    return t != nullptr && plan_.section_kept(t->section()) ? t : nullptr;
  }

  // ---- numbering ----
  result<void> number_sections() {
    const std::size_t n = sections_.size();
    new_section_.assign(n, none);
    std::uint32_t next = 0;
    for (std::uint32_t i = 0; i < n; ++i)
      if (i == 0 || plan_.section_kept(section_index(i))) new_section_[i] = next++;
    section_count_ = next;
    return {};
  }

  result<void> number_symbols() {
    const symbol_table<L>* symbols = symbols_table();
    if (symbols == nullptr || !plan_.section_kept(symbols->section())) return {};
    const std::size_t n = symbols->size();
    new_symbol_.assign(n, none);
    where_.resize(n);
    std::uint32_t next = 0;
    auto kept = [&](std::size_t i) { return plan_.decision(symbol_index(static_cast<std::uint32_t>(i))).action == symbol_action::keep; };
    for (std::size_t i = 0; i < n; ++i) {
      auto w = symbols->section_of((*symbols)[symbol_index(static_cast<std::uint32_t>(i))]);
      if (!w) return w.error();
      where_[i] = w.value();
    }
    // Locals (symbol 0 included), then the new section symbols, then everything else, each in input order.
    for (std::size_t i = 0; i < n; ++i)
      if (kept(i) && (i == 0 || (*symbols)[symbol_index(static_cast<std::uint32_t>(i))].bind() == elf::STB_LOCAL))
        new_symbol_[i] = next++;
    added_symbol_.assign(sections_.size(), none);
    for (std::uint32_t s = 0; s < sections_.size(); ++s)
      if (plan_.needs_section_symbol(section_index(s))) {
        added_symbol_[s] = next++;
        added_sections_.push_back(s);
      }
    first_global_ = next;
    for (std::size_t i = 1; i < n; ++i)
      if (kept(i) && (*symbols)[symbol_index(static_cast<std::uint32_t>(i))].bind() != elf::STB_LOCAL)
        new_symbol_[i] = next++;
    symbol_count_ = next;
    return {};
  }

  // The output index of the symbol a relocation naming input symbol `s` must name, or none.
  [[nodiscard]] std::uint32_t relocation_symbol(std::uint32_t s) const noexcept {
    const symbol_decision& d = plan_.decision(symbol_index(s));
    switch (d.action) {
      case symbol_action::keep: return new_symbol_[s];
      case symbol_action::resolve: return 0;
      case symbol_action::retarget: {
        const std::uint32_t existing = plan_.section_symbol(section_index(d.detail));
        return existing != none ? new_symbol_[existing] : added_symbol_[d.detail];
      }
      case symbol_action::remove: break;
    }
    return none;
  }

  // ---- strings ----
  result<void> build_strings() {
    const symbol_table<L>* symbols = symbols_table();
    shared_names_ = symbols != nullptr && sections_[symbols->section()].link() == sections_.shstrndx().value &&
                    sections_.shstrndx().value != 0;
    if (symbols != nullptr) {
      symbol_name_.assign(symbols->size(), none);
      for (std::uint32_t i = 1; i < symbols->size(); ++i) {
        if (new_symbol_[i] == none) continue;
        auto name = symbols->name((*symbols)[symbol_index(i)]);
        if (!name) return name.error();
        symbol_name_[i] = symbol_strings_.add(name.value());
      }
    }
    strtab_builder& section_names = shared_names_ ? symbol_strings_ : section_strings_;
    section_name_.assign(sections_.size(), none);
    if (sections_.shstrndx().value != 0) {
      for (auto s : sections_) {
        // Section 0 is written clean (sh_name 0): its name, if the input gave it one, is not kept.
        if (s.index().value == 0 || new_section_[s.index().value] == none) continue;
        auto name = sections_.name(s);
        if (!name) return name.error();
        section_name_[s.index().value] = section_names.add(name.value());
      }
    }
    if (symbols != nullptr) symbol_strings_.finish();
    if (!shared_names_) section_strings_.finish();
    if (symbol_strings_.bytes().size() > 0xffffffffu || section_strings_.bytes().size() > 0xffffffffu)
      return make_error(errc::output_too_large);
    return {};
  }

  // ---- layout ----
  enum class content : std::uint8_t { copy, symtab, symbol_strings, section_strings, shndx, group, relocations };

  [[nodiscard]] content content_of(const section_ref<L>& s) const noexcept {
    const symbol_table<L>* symbols = symbols_table();
    const std::uint32_t i = s.index().value;
    if (i != 0 && i == sections_.shstrndx().value) return shared_names_ ? content::symbol_strings : content::section_strings;
    if (symbols == nullptr) return content::copy;
    if (i == symbols->section().value) return content::symtab;
    if (i == sections_[symbols->section()].link()) return content::symbol_strings;
    if (s.type() == elf::SHT_SYMTAB_SHNDX && s.link() == symbols->section().value) return content::shndx;
    if (s.type() == elf::SHT_GROUP) return content::group;
    if ((s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) && s.link() == symbols->section().value)
      return content::relocations;
    return content::copy;
  }

  [[nodiscard]] std::uint64_t new_size(const section_ref<L>& s) const noexcept {
    switch (content_of(s)) {
      case content::copy:
      case content::relocations: return s.size();
      case content::symtab: return std::uint64_t{symbol_count_} * sizeof(sym);
      case content::symbol_strings: return symbol_strings_.bytes().size();
      case content::section_strings: return section_strings_.bytes().size();
      case content::shndx: return std::uint64_t{symbol_count_} * 4;
      case content::group: return group_size(s);
    }
    return s.size();
  }

  [[nodiscard]] std::uint64_t group_size(const section_ref<L>& s) const noexcept {
    auto group = section_group<L>::create(sections_, s.index());
    if (!group) return s.size();
    std::uint64_t words = 1;
    for (std::size_t m = 0; m < group->size(); ++m) words += plan_.section_kept(group->member(m)) ? 1u : 0u;
    return words * 4;
  }

  result<void> lay_out() {
    const file<L>& f = plan_.object();
    const std::size_t n = sections_.size();
    new_offset_.assign(n, 0);
    new_size_.assign(n, 0);
    auto phdrs = f.program_headers();
    if (!phdrs) return phdrs.error();
    has_segments_ = !phdrs->empty();
    const std::uint64_t input_size = f.bytes().size();
    // The prefix copied as it is: the file header, and with segments everything they or allocated sections cover.
    prefix_ = sizeof(ehdr);
    pinned_.assign(n, false);
    if (has_segments_) {
      if (f.header().e_phoff.value() < sizeof(ehdr)) {
        // The file header is rewritten; program headers that share its bytes would change with it.
        error e = make_error(errc::program_table_out_of_bounds, 0, f.header().e_phoff.value());
        e.message = "the program header table overlaps the file header";
        return e;
      }
      prefix_ = std::max<std::uint64_t>(prefix_, f.header().e_phoff.value() + phdrs->size() * sizeof(typename L::phdr));
      for (const auto& p : phdrs.value()) {
        auto bytes = f.segment_data(p);
        if (!bytes) return bytes.error();
        prefix_ = std::max<std::uint64_t>(prefix_, p.p_offset.value() + p.p_filesz.value());
      }
      for (auto s : sections_) {
        if (s.index().value == 0 || new_section_[s.index().value] == none) continue;
        if (!s.has_flag(elf::SHF_ALLOC)) continue;
        auto data = sections_.data(s);
        if (!data) return data.error();
        pinned_[s.index().value] = true;
        if (s.type() != elf::SHT_NOBITS && s.size() != 0 && s.offset() < sizeof(ehdr)) {
          // The file header is rewritten (e_shoff, e_shnum): a section that stays in place cannot share its bytes.
          error e = make_error(errc::section_out_of_bounds, s.index().value, s.offset());
          e.message = "an allocated section overlaps the file header";
          return e;
        }
        if (s.type() != elf::SHT_NOBITS) prefix_ = std::max<std::uint64_t>(prefix_, s.offset() + s.size());
      }
      if (prefix_ > input_size) return make_error(errc::program_table_out_of_bounds);
    }
    // Unpinned kept sections in file order (ties by index).
    std::vector<std::uint32_t> order;
    for (auto s : sections_) {
      const std::uint32_t i = s.index().value;
      if (i == 0 || new_section_[i] == none) continue;
      if (content_of(s) == content::copy || content_of(s) == content::relocations) {
        auto data = sections_.data(s);
        if (!data) return data.error();
      }
      new_size_[i] = new_size(s);
      if (pinned_[i]) {
        if (new_size_[i] != s.size()) {
          error e = make_error(errc::wrong_section_type, i, s.offset());
          e.message = "cannot resize an allocated section in a file with program headers";
          return e;
        }
        new_offset_[i] = s.offset();
        continue;
      }
      order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return sections_[section_index(a)].offset() < sections_[section_index(b)].offset();
    });
    // Sections with file bytes in input file order; then each section without (SHT_NOBITS or empty) placed after
    // the nearest section before it in the section table, so that its offset does not depend on the input's
    // (which makes a second strip give the same bytes).
    std::uint64_t at = prefix_;
    for (std::uint32_t i : order) {
      const auto s = sections_[section_index(i)];
      if (s.type() == elf::SHT_NOBITS || new_size_[i] == 0) continue;
      at = detail::align_up(at, detail::file_alignment(s.addralign()));
      new_offset_[i] = at;
      at += new_size_[i];
    }
    std::uint64_t after_previous = prefix_;
    for (std::uint32_t i = 1; i < n; ++i) {
      if (new_section_[i] == none) continue;
      const auto s = sections_[section_index(i)];
      if (s.type() != elf::SHT_NOBITS && new_size_[i] != 0) {
        after_previous = new_offset_[i] + new_size_[i];
        continue;
      }
      if (pinned_[i]) continue;
      new_offset_[i] = std::min(detail::align_up(after_previous, detail::file_alignment(s.addralign())), at);
    }
    shoff_ = detail::align_up(at, L::word_bytes);
    total_size_ = shoff_ + std::uint64_t{section_count_} * sizeof(shdr);
    if (sections_.size() == 0) {  // no section header table at all
      shoff_ = 0;
      total_size_ = at;
    }
    if (!L::is64 && total_size_ > 0xffffffffu) return make_error(errc::output_too_large);
    if (total_size_ > (std::uint64_t{1} << 40)) return make_error(errc::output_too_large);
    return {};
  }

  // ---- emission ----
  result<void> emit(std::vector<std::byte>& out) {
    const file<L>& f = plan_.object();
    const auto in = f.bytes();
    std::memcpy(out.data(), in.data(), static_cast<std::size_t>(prefix_));
    for (auto s : sections_) {
      const std::uint32_t i = s.index().value;
      if (i == 0 || new_section_[i] == none || s.type() == elf::SHT_NOBITS) continue;
      if (auto r = emit_section(s, out); !r) return r;
    }
    if (auto r = patch_rel_fields(out); !r) return r;
    if (sections_.size() != 0) emit_headers(out);
    emit_file_header(out);
    return {};
  }

  result<void> emit_section(const section_ref<L>& s, std::vector<std::byte>& out) {
    const std::uint32_t i = s.index().value;
    const std::uint64_t at = new_offset_[i];
    switch (content_of(s)) {
      case content::copy: {
        auto data = sections_.data(s);
        if (!data) return data.error();
        if (!data->empty()) std::memcpy(out.data() + at, data->data(), data->size());
        return {};
      }
      case content::symbol_strings: {
        auto b = symbol_strings_.bytes();
        std::memcpy(out.data() + at, b.data(), b.size());
        return {};
      }
      case content::section_strings: {
        auto b = section_strings_.bytes();
        std::memcpy(out.data() + at, b.data(), b.size());
        return {};
      }
      case content::symtab: return emit_symbols(at, out);
      case content::shndx: return emit_shndx(at, out);
      case content::group: return emit_group(s, at, out);
      case content::relocations: return emit_relocations(s, at, out);
    }
    return {};
  }

  // The st_shndx (and extended index) a kept symbol gets.
  void section_fields(const symbol_section& w, std::uint16_t raw, std::uint16_t& shndx, std::uint32_t& extended) const noexcept {
    extended = 0;
    if (!w.is_regular()) {
      shndx = raw == elf::SHN_XINDEX ? elf::SHN_UNDEF : raw;
      return;
    }
    const std::uint32_t to = new_section_[w.index.value];
    if (to >= elf::SHN_LORESERVE) {
      shndx = elf::SHN_XINDEX;
      extended = to;
    } else {
      shndx = static_cast<std::uint16_t>(to);
    }
  }

  result<void> emit_symbols(std::uint64_t at, std::vector<std::byte>& out) {
    const symbol_table<L>& symbols = *symbols_table();
    for (std::uint32_t i = 0; i < symbols.size(); ++i) {
      const std::uint32_t to = new_symbol_[i];
      if (to == none) continue;
      if (i == 0) continue;  // symbol 0 stays all zero (the buffer starts zeroed)
      sym record = symbols[symbol_index(i)].record();
      record.st_name.set(symbol_strings_.offset(symbol_name_[i]));
      std::uint16_t shndx = 0;
      std::uint32_t extended = 0;
      section_fields(where_[i], record.st_shndx.value(), shndx, extended);
      record.st_shndx.set(shndx);
      detail::put(out, at + std::uint64_t{to} * sizeof(sym), record);
    }
    for (std::uint32_t s : added_sections_) {
      sym record{};
      record.st_info = elf::st_info(elf::STB_LOCAL, elf::STT_SECTION);
      record.st_value.set(static_cast<typename L::uword_t>(plan_.section_symbol_value(section_index(s))));
      std::uint16_t shndx = 0;
      std::uint32_t extended = 0;
      section_fields(symbol_section{symbol_section::kind::regular, section_index(s)}, 0, shndx, extended);
      record.st_shndx.set(shndx);
      detail::put(out, at + std::uint64_t{added_symbol_[s]} * sizeof(sym), record);
    }
    return {};
  }

  result<void> emit_shndx(std::uint64_t at, std::vector<std::byte>& out) {
    const symbol_table<L>& symbols = *symbols_table();
    auto put_word = [&](std::uint32_t to, std::uint32_t v) {
      word w{};
      w.set(v);
      detail::put(out, at + std::uint64_t{to} * 4, w);
    };
    for (std::uint32_t i = 0; i < symbols.size(); ++i) {
      if (new_symbol_[i] == none) continue;
      std::uint16_t shndx = 0;
      std::uint32_t extended = 0;
      section_fields(where_[i], symbols[symbol_index(i)].raw_shndx(), shndx, extended);
      put_word(new_symbol_[i], extended);
    }
    for (std::uint32_t s : added_sections_) {
      const std::uint32_t to = new_section_[s];
      put_word(added_symbol_[s], to >= elf::SHN_LORESERVE ? to : 0);
    }
    return {};
  }

  result<void> emit_group(const section_ref<L>& s, std::uint64_t at, std::vector<std::byte>& out) {
    auto group = section_group<L>::create(sections_, s.index());
    if (!group) return group.error();
    word w{};
    w.set(group->flags());
    detail::put(out, at, w);
    std::uint64_t k = 1;
    for (std::size_t m = 0; m < group->size(); ++m) {
      const section_index member = group->member(m);
      if (!plan_.section_kept(member)) continue;
      w.set(new_section_[member.value]);
      detail::put(out, at + 4 * k++, w);
    }
    return {};
  }

  result<void> emit_relocations(const section_ref<L>& s, std::uint64_t at, std::vector<std::byte>& out) {
    auto table = reloc_table<L>::create(sections_, s.index());
    if (!table) return table.error();
    const symbol_table<L>& symbols = *symbols_table();
    for (std::size_t k = 0; k < table->size(); ++k) {
      const relocation r = (*table)[k];
      if (r.symbol >= symbols.size()) return make_error(errc::bad_symbol_index, s.index().value, table->entry_file_offset(k));
      const std::uint32_t to = relocation_symbol(r.symbol);
      if (to == none) {
        error e = make_error(errc::section_still_referenced, s.index().value, table->entry_file_offset(k));
        e.message = "a kept relocation names a removed symbol";
        return e;
      }
      const symbol_decision& d = plan_.decision(symbol_index(r.symbol));
      const bool folds = d.action == symbol_action::retarget || d.action == symbol_action::resolve;
      const auto info = L::r_info(to, r.type);
      if (table->is_rela()) {
        rela record = table->rela_records()[k];
        record.r_info.set(info);
        if (folds) {
          const std::int64_t delta = plan_.fold_value(symbols[symbol_index(r.symbol)], where_[r.symbol]);
          record.r_addend.set(static_cast<typename L::sword_t>(r.addend + delta));
        }
        detail::put(out, at + k * sizeof(rela), record);
      } else {
        rel record = table->rel_records()[k];
        record.r_info.set(info);
        detail::put(out, at + k * sizeof(rel), record);
      }
    }
    return {};
  }

  // REL relocations carry their addend in the field: add the folded value there.
  result<void> patch_rel_fields(std::vector<std::byte>& out) {
    const symbol_table<L>* symbols = symbols_table();
    if (symbols == nullptr) return {};
    const std::uint16_t machine = plan_.object().machine();
    for (const reloc_table<L>& table : plan_.relocations().tables()) {
      if (table.is_rela() || !plan_.section_kept(table.section())) continue;
      if (table.symbol_table_index() != symbols->section() || table.target_section().value == 0) continue;
      const auto target = sections_[table.target_section()];
      if (!plan_.section_kept(target.index()) || target.type() == elf::SHT_NOBITS) continue;
      const std::uint64_t base = new_offset_[target.index().value];
      for (std::size_t k = 0; k < table.size(); ++k) {
        const relocation r = table[k];
        const symbol_decision& d = plan_.decision(symbol_index(r.symbol));
        if (d.action != symbol_action::retarget && d.action != symbol_action::resolve) continue;
        const reloc_kind* kind = find_reloc_kind(machine, r.type);
        if (kind == nullptr) return make_error(errc::wrong_section_type, table.section().value, table.entry_file_offset(k));
        auto field = plan_.rel_field(table, r, *kind);
        if (!field) return make_error(errc::section_out_of_bounds, table.section().value, table.entry_file_offset(k));
        const std::int64_t value = field->value + plan_.fold_value((*symbols)[symbol_index(r.symbol)], where_[r.symbol]);
        std::byte* p = out.data() + base + plan_.field_position(target, r.offset);
        constexpr auto E = L::endianness;
        switch (kind->width) {
          case 1: *p = static_cast<std::byte>(static_cast<std::uint8_t>(value)); break;
          case 2: store<std::uint16_t, E>(p, static_cast<std::uint16_t>(value)); break;
          case 4: store<std::uint32_t, E>(p, static_cast<std::uint32_t>(value)); break;
          default: store<std::uint64_t, E>(p, static_cast<std::uint64_t>(value)); break;
        }
      }
    }
    return {};
  }

  void emit_headers(std::vector<std::byte>& out) {
    const symbol_table<L>* symbols = symbols_table();
    const std::size_t n = sections_.size();
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t to = new_section_[i];
      if (to == none) continue;
      const auto s = sections_[section_index(i)];
      shdr h = s.header();
      if (i == 0) {
        // Section 0 carries only the escapes: the section count, the name table's index, the segment count.
        const bool phnum_escape = has_segments_ && plan_.object().header().e_phnum.value() == elf::PN_XNUM;
        h = shdr{};
        if (phnum_escape) h.sh_info.set(s.info());
        h.sh_size.set(section_count_ >= elf::SHN_LORESERVE ? section_count_ : 0);
        h.sh_link.set(new_shstrndx() >= elf::SHN_LORESERVE ? new_shstrndx() : 0);
        detail::put(out, shoff_, h);
        continue;
      }
      if (section_name_[i] != none)
        h.sh_name.set((shared_names_ ? symbol_strings_ : section_strings_).offset(section_name_[i]));
      h.sh_offset.set(static_cast<typename L::uword_t>(new_offset_[i]));
      h.sh_size.set(static_cast<typename L::uword_t>(new_size_[i]));
      if (s.link() != 0 && s.link() < n && new_section_[s.link()] != none) h.sh_link.set(new_section_[s.link()]);
      if (elf::sh_info_is_section(s.type(), s.flags()) && s.info() != 0 && s.info() < n && new_section_[s.info()] != none)
        h.sh_info.set(new_section_[s.info()]);
      if (symbols != nullptr && i == symbols->section().value) h.sh_info.set(first_global_);
      if (symbols != nullptr && s.type() == elf::SHT_GROUP && s.info() < new_symbol_.size())
        h.sh_info.set(new_symbol_[s.info()]);
      if (plan_.section_unmerged(section_index(i)))
        h.sh_flags.set(static_cast<typename L::uword_t>(s.flags() & ~elf::SHF_MERGE));
      detail::put(out, shoff_ + std::uint64_t{to} * sizeof(shdr), h);
    }
  }

  [[nodiscard]] std::uint32_t new_shstrndx() const noexcept {
    const std::uint32_t old = sections_.shstrndx().value;
    return old == 0 ? 0 : new_section_[old];
  }

  void emit_file_header(std::vector<std::byte>& out) const {
    ehdr h = plan_.object().header();
    h.e_ehsize.set(sizeof(ehdr));
    if (!has_segments_) {
      h.e_phoff.set(0);
      h.e_phnum.set(0);
    }
    h.e_shoff.set(static_cast<typename L::uword_t>(shoff_));
    h.e_shnum.set(static_cast<std::uint16_t>(section_count_ >= elf::SHN_LORESERVE || sections_.size() == 0 ? 0 : section_count_));
    const std::uint32_t names = new_shstrndx();
    h.e_shstrndx.set(static_cast<std::uint16_t>(names >= elf::SHN_LORESERVE ? elf::SHN_XINDEX : names));
    if (sections_.size() == 0) h.e_shentsize.set(plan_.object().header().e_shentsize.value());
    detail::put(out, 0, h);
  }

  const strip_plan<L>& plan_;
  const section_table<L>& sections_;
  std::vector<std::uint32_t> new_section_;   // input section -> output index, or none
  std::vector<std::uint32_t> new_symbol_;    // input symbol -> output index, or none
  std::vector<symbol_section> where_;        // input symbol -> its section, resolved once
  std::vector<std::uint32_t> added_symbol_;  // input section -> index of its new section symbol, or none
  std::vector<std::uint32_t> added_sections_;
  std::vector<std::uint32_t> symbol_name_;   // input symbol -> handle in symbol_strings_
  std::vector<std::uint32_t> section_name_;  // input section -> handle in the section-name builder
  strtab_builder symbol_strings_, section_strings_;
  std::vector<std::uint64_t> new_offset_, new_size_;
  std::vector<bool> pinned_;
  std::uint32_t section_count_ = 0, symbol_count_ = 0, first_global_ = 0;
  std::uint64_t prefix_ = 0, shoff_ = 0, total_size_ = 0;
  bool has_segments_ = false, shared_names_ = false;
};

// Writes the object `plan` describes into `out`.
template <elf_layout L>
[[nodiscard]] result<void> write_object(const strip_plan<L>& plan, std::vector<std::byte>& out) {
  return object_writer<L>(plan).write(out);
}

}  // namespace elfsieve
