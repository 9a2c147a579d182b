// GNU symbol versioning: .gnu.version (versym), .gnu.version_d (verdef), .gnu.version_r (verneed).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/bytes.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// The version attached to one dynamic symbol. `name` is empty for the local and global (base) indices.
struct symbol_version {
  std::uint16_t index = 0;  // versym value without the hidden bit
  bool hidden = false;      // VERSYM_HIDDEN: not the default version (nm prints name@VER, not name@@VER)
  bool defined = false;     // found in verdef (a version this object defines) rather than verneed
  bool base = false;        // the verdef entry carries VER_FLG_BASE (the object's own soname)
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
        ELFSIEVE_TRY(v.versym_, sections.template records<half>(s));
        if (v.versym_.size() != symbols.size()) return make_error(errc::bad_version_data, s.index(), s.offset());
        v.versym_section_ = s.index();
        v.versym_offset_ = s.offset();
      } else if (s.type() == elf::SHT_GNU_verdef && !v.verdef_.section) {
        ELFSIEVE_TRY(v.verdef_, chain_of(sections, s));
        index_definitions(v.verdef_);
      } else if (s.type() == elf::SHT_GNU_verneed && !v.verneed_.section) {
        ELFSIEVE_TRY(v.verneed_, chain_of(sections, s));
        index_needs(v.verneed_);
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
    ELFSIEVE_TRY(const bool found, lookup(verdef_, out, true));
    if (found) return out;
    ELFSIEVE_TRY(const bool needed, lookup(verneed_, out, false));
    if (needed) return out;
    // The versym entry of the symbol names the version.
    return with_detail(make_error(errc::unknown_version_index, versym_section_,
                                  versym_offset_ + std::uint64_t{i.value} * sizeof(half)),
                       out.index);
  }

 private:
  // One version a verdef or verneed chain names; `failure` is set when its own records or name are bad.
  struct version_entry {
    std::uint16_t index = 0;
    bool base = false;
    std::string_view name{};
    error failure{};
  };

  // A verdef or verneed section: its bytes, its string table, its entry count (sh_info), and its versions,
  // indexed once by create() so that get() is a binary search rather than a walk per symbol (a walk per symbol
  // made a 1.5 MB file take minutes). Entries are sorted by index, chain order kept among equal indices.
  struct chain {
    std::span<const std::byte> data{};
    string_table strings{};
    std::uint32_t count = 0;
    std::optional<section_index> section{};
    std::uint64_t file_offset = 0;
    std::vector<version_entry> entries{};
    error walk_error{};  // what stopped the walk early, reported for indices not found before it
  };

  [[nodiscard]] static result<chain> chain_of(const section_table<L>& sections, const section_ref<L>& s) noexcept {
    ELFSIEVE_TRY(const auto data, sections.data(s));
    ELFSIEVE_TRY(const section_ref<L> strtab, sections.linked(s, {elf::SHT_STRTAB}));
    ELFSIEVE_TRY(const string_table strings, sections.string_table_at(strtab.index()));
    return chain{data, strings, s.info(), s.index(), s.offset(), {}, {}};
  }

  [[nodiscard]] static error bad(const chain& c, std::uint64_t offset) noexcept {
    return error_in(errc::bad_version_data, c.section, c.file_offset + offset);
  }

  static void sort_entries(chain& c) {
    std::stable_sort(c.entries.begin(), c.entries.end(),
                     [](const version_entry& a, const version_entry& b) { return a.index < b.index; });
  }

  // Each walk advances by vd_next / vn_next / vna_next (> 0) and stops at sh_info entries. A chain whose records
  // do not overlap visits at most one record per record-sized slice of the section; a walk that visits more is
  // going round overlapping garbage and stops with an error, so the work and the index stay linear in the section.
  static void index_definitions(chain& c) {
    const std::uint64_t budget = c.data.size() / sizeof(verdef) + 1;
    std::uint64_t offset = 0;
    for (std::uint32_t n = 0; n < c.count; ++n) {
      if (n >= budget) {
        c.walk_error = bad(c, offset);
        break;
      }
      auto def = record_at<verdef>(c.data, offset, errc::bad_version_data);
      if (!def) {
        c.walk_error = bad(c, offset);
        break;
      }
      const verdef& d = *def.value();
      version_entry e;
      e.index = d.vd_ndx.value();
      e.base = (d.vd_flags.value() & elf::VER_FLG_BASE) != 0;
      std::uint64_t aux_offset = 0;
      if (add_overflows(offset, d.vd_aux.value(), aux_offset)) {
        e.failure = bad(c, offset);
      } else if (auto aux = record_at<verdaux>(c.data, aux_offset, errc::bad_version_data); !aux) {
        e.failure = bad(c, aux_offset);
      } else if (auto name = c.strings.get(aux.value()->vda_name.value()); !name) {
        e.failure = name.error();
      } else {
        e.name = name.value();
      }
      c.entries.push_back(e);
      if (d.vd_next.value() == 0) break;
      if (add_overflows(offset, d.vd_next.value(), offset)) {
        c.walk_error = bad(c, offset);
        break;
      }
    }
    sort_entries(c);
  }

  static void index_needs(chain& c) {
    const std::uint64_t need_budget = c.data.size() / sizeof(verneed) + 1;
    const std::uint64_t aux_budget = c.data.size() / sizeof(vernaux) + 1;
    std::uint64_t offset = 0, aux_steps = 0;
    for (std::uint32_t n = 0; n < c.count && c.walk_error.code == errc{}; ++n) {
      if (n >= need_budget) {
        c.walk_error = bad(c, offset);
        break;
      }
      auto need = record_at<verneed>(c.data, offset, errc::bad_version_data);
      if (!need) {
        c.walk_error = bad(c, offset);
        break;
      }
      const verneed& v = *need.value();
      std::uint64_t aux_offset = 0;
      if (add_overflows(offset, v.vn_aux.value(), aux_offset)) {
        c.walk_error = bad(c, offset);
        break;
      }
      for (std::uint32_t a = 0; a < v.vn_cnt.value(); ++a) {
        if (++aux_steps > aux_budget) {
          c.walk_error = bad(c, aux_offset);
          break;
        }
        auto aux = record_at<vernaux>(c.data, aux_offset, errc::bad_version_data);
        if (!aux) {
          c.walk_error = bad(c, aux_offset);
          break;
        }
        version_entry e;
        e.index = aux.value()->vna_other.value();
        if (auto name = c.strings.get(aux.value()->vna_name.value()); !name) e.failure = name.error();
        else e.name = name.value();
        c.entries.push_back(e);
        if (aux.value()->vna_next.value() == 0) break;
        if (add_overflows(aux_offset, aux.value()->vna_next.value(), aux_offset)) {
          c.walk_error = bad(c, aux_offset);
          break;
        }
      }
      if (c.walk_error.code != errc{} || v.vn_next.value() == 0) break;
      if (add_overflows(offset, v.vn_next.value(), offset)) {
        c.walk_error = bad(c, offset);
        break;
      }
    }
    sort_entries(c);
  }

  // The first entry of `c` (in chain order) for out.index: true when found, an error when that entry is bad or
  // the walk stopped before reaching it.
  [[nodiscard]] static result<bool> lookup(const chain& c, symbol_version& out, bool defined) noexcept {
    const auto it = std::lower_bound(c.entries.begin(), c.entries.end(), out.index,
                                     [](const version_entry& e, std::uint16_t i) { return e.index < i; });
    if (it != c.entries.end() && it->index == out.index) {
      if (it->failure.code != errc{}) return it->failure;
      out.name = it->name;
      out.defined = defined;
      out.base = defined && it->base;
      return true;
    }
    if (c.walk_error.code != errc{}) return c.walk_error;
    return false;
  }

  std::span<const half> versym_{};
  section_index versym_section_{};
  std::uint64_t versym_offset_ = 0;
  chain verdef_{};
  chain verneed_{};
};

// symbol_versions<L>::create with L deduced.
template <elf_layout L>
[[nodiscard]] result<symbol_versions<L>> versions_of(const section_table<L>& sections, const symbol_table<L>& symbols) {
  return symbol_versions<L>::create(sections, symbols);
}

}  // namespace elfsieve
