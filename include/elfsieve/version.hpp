// GNU symbol versioning: .gnu.version (versym), .gnu.version_d (verdef), .gnu.version_r (verneed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "elfsieve/bytes.hpp"
#include "elfsieve/elf.hpp"
#include "elfsieve/error.hpp"
#include "elfsieve/file.hpp"
#include "elfsieve/symbol.hpp"

namespace elfsieve {

// The version attached to one dynamic symbol. `name` is empty for the local and global (base) indices.
struct symbol_version {
  std::uint16_t index = 0;   // versym value without the hidden bit
  bool hidden = false;       // VERSYM_HIDDEN: not the default version (nm prints name@VER, not name@@VER)
  bool defined = false;      // found in verdef (a version this object defines) rather than verneed
  bool base = false;         // the verdef entry carries VER_FLG_BASE (the object's own soname)
  std::string_view name{};
};

template <elf_layout L>
class symbol_versions {
 public:
  using half = typename L::half;
  using verdef = typename L::verdef;
  using verdaux = typename L::verdaux;
  using verneed = typename L::verneed;
  using vernaux = typename L::vernaux;

  // Versions for `symbols` (normally .dynsym). A file without .gnu.version gives an empty set.
  [[nodiscard]] static result<symbol_versions> create(const section_table<L>& sections,
                                                      const symbol_table<L>& symbols) noexcept {
    symbol_versions v;
    for (auto s : sections) {
      if (s.type() == elf::SHT_GNU_versym && s.link() == symbols.section().value) {
        auto records = sections.template records<half>(s);
        if (!records) return records.err();
        if (records->size() != symbols.size())
          return make_error(errc::bad_version_data, s.index().value, s.offset());
        v.versym_ = records.value();
      } else if (s.type() == elf::SHT_GNU_verdef && v.verdef_.section == no_section) {
        auto chain = chain_of(sections, s);
        if (!chain) return chain.err();
        v.verdef_ = chain.value();
      } else if (s.type() == elf::SHT_GNU_verneed && v.verneed_.section == no_section) {
        auto chain = chain_of(sections, s);
        if (!chain) return chain.err();
        v.verneed_ = chain.value();
      }
    }
    return v;
  }

  [[nodiscard]] bool empty() const noexcept { return versym_.empty(); }

  // The version of symbol i (i < symbols.size() for the table given to create()).
  [[nodiscard]] result<symbol_version> get(symbol_index i) const noexcept {
    symbol_version out;
    if (i.value >= versym_.size()) return out;
    const std::uint16_t raw = versym_[i.value].value();
    out.index = raw & elf::VERSYM_VERSION;
    out.hidden = (raw & elf::VERSYM_HIDDEN) != 0;
    if (out.index == elf::VER_NDX_LOCAL || out.index == elf::VER_NDX_GLOBAL) return out;
    auto found = find_definition(out);
    if (!found) return found.err();
    if (found.value()) return out;
    auto needed = find_need(out);
    if (!needed) return needed.err();
    if (needed.value()) return out;
    return make_error(errc::bad_version_data, no_section, out.index);
  }

 private:
  // A verdef or verneed section: its bytes, its string table and its entry count (sh_info).
  struct chain {
    std::span<const std::byte> data{};
    string_table strings{};
    std::uint32_t count = 0;
    std::uint32_t section = no_section;
    std::uint64_t file_offset = 0;
  };

  [[nodiscard]] static result<chain> chain_of(const section_table<L>& sections, const section_ref<L>& s) noexcept {
    auto data = sections.data(s);
    if (!data) return data.err();
    auto strtab = sections.linked(s, {elf::SHT_STRTAB});
    if (!strtab) return strtab.err();
    auto strings = sections.string_table_at(strtab->index());
    if (!strings) return strings.err();
    return chain{data.value(), strings.value(), s.info(), s.index().value, s.offset()};
  }

  [[nodiscard]] static error bad(const chain& c, std::uint64_t offset) noexcept {
    return make_error(errc::bad_version_data, c.section, c.file_offset + offset);
  }

  // Each walk advances by vd_next / vn_next (> 0) and stops at sh_info entries, so it ends on any input.
  [[nodiscard]] result<bool> find_definition(symbol_version& out) const noexcept {
    const chain& c = verdef_;
    std::uint64_t offset = 0;
    for (std::uint32_t n = 0; n < c.count; ++n) {
      auto def = record_at<verdef>(c.data, offset, errc::bad_version_data, c.section);
      if (!def) return bad(c, offset);
      const verdef& d = *def.value();
      if (d.vd_ndx.value() == out.index) {
        std::uint64_t aux_offset = 0;
        if (add_overflows(offset, d.vd_aux.value(), aux_offset)) return bad(c, offset);
        auto aux = record_at<verdaux>(c.data, aux_offset, errc::bad_version_data, c.section);
        if (!aux) return bad(c, aux_offset);
        auto name = c.strings.get(aux.value()->vda_name.value());
        if (!name) return name.err();
        out.name = name.value();
        out.defined = true;
        out.base = (d.vd_flags.value() & elf::VER_FLG_BASE) != 0;
        return true;
      }
      if (d.vd_next.value() == 0) break;
      if (add_overflows(offset, d.vd_next.value(), offset)) return bad(c, offset);
    }
    return false;
  }

  [[nodiscard]] result<bool> find_need(symbol_version& out) const noexcept {
    const chain& c = verneed_;
    std::uint64_t offset = 0;
    for (std::uint32_t n = 0; n < c.count; ++n) {
      auto need = record_at<verneed>(c.data, offset, errc::bad_version_data, c.section);
      if (!need) return bad(c, offset);
      const verneed& v = *need.value();
      std::uint64_t aux_offset = 0;
      if (add_overflows(offset, v.vn_aux.value(), aux_offset)) return bad(c, offset);
      for (std::uint32_t a = 0; a < v.vn_cnt.value(); ++a) {
        auto aux = record_at<vernaux>(c.data, aux_offset, errc::bad_version_data, c.section);
        if (!aux) return bad(c, aux_offset);
        if (aux.value()->vna_other.value() == out.index) {
          auto name = c.strings.get(aux.value()->vna_name.value());
          if (!name) return name.err();
          out.name = name.value();
          return true;
        }
        if (aux.value()->vna_next.value() == 0) break;
        if (add_overflows(aux_offset, aux.value()->vna_next.value(), aux_offset)) return bad(c, aux_offset);
      }
      if (v.vn_next.value() == 0) break;
      if (add_overflows(offset, v.vn_next.value(), offset)) return bad(c, offset);
    }
    return false;
  }

  std::span<const half> versym_{};
  chain verdef_{};
  chain verneed_{};
};

}  // namespace elfsieve
