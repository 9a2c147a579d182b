// The relocation-reference index: which relocations name which symbol, which relocation sections apply to which
// section, and which relocation sits at a given offset. Built once per file in O(sections + symbols +
// relocations), in flat arrays (counting sort / CSR), never maps of vectors.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// One relocation: entry `entry` of relocation section `section`.
struct reloc_ref {
  section_index section;
  std::uint32_t entry = 0;
  friend constexpr bool operator==(const reloc_ref&, const reloc_ref&) noexcept = default;
};

template <elf_layout L>
class reloc_index {
 public:
  [[nodiscard]] static result<reloc_index> build(const section_table<L>& sections) {
    reloc_index ix;
    const std::size_t n = sections.size();
    ix.symtab_slot_.assign(n, slot{});
    ix.reloc_slot_.assign(n, slot{});
    ix.symbol_base_.push_back(0);

    // Many section headers may name the same bytes: keep the index in proportion to the file (and its counts
    // within 32 bits) by refusing tables that add up to more than twice the file's size.
    const std::uint64_t table_budget = 2 * std::uint64_t{sections.file_bytes().size()};
    std::uint64_t table_bytes = 0;
    auto over_budget = [&](std::uint64_t bytes) {
      table_bytes += bytes;
      return table_bytes > table_budget || table_bytes > 0xffffffffu;
    };
    auto too_large = [](const section_ref<L>& s) {
      return make_error(errc::tables_larger_than_file, s.index(), s.offset());
    };

    // Symbol tables first: every relocation's r_sym is checked against its table's size.
    for (auto s : sections) {
      if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
      ELFSIEVE_TRY(const auto table, symbol_table<L>::create(sections, s.index()));
      if (over_budget(table.size() * sizeof(typename L::sym))) return too_large(s);
      ix.symtab_slot_[s.index().value] = slot{static_cast<std::uint32_t>(ix.symbol_base_.size() - 1)};
      ix.symbol_base_.push_back(ix.symbol_base_.back() + static_cast<std::uint32_t>(table.size()));
    }
    for (auto s : sections) {
      if (s.type() != elf::SHT_REL && s.type() != elf::SHT_RELA) continue;
      ELFSIEVE_TRY(const auto table, reloc_table<L>::create(sections, s.index()));
      if (over_budget(table.size() * table.entry_size())) return too_large(s);
      ix.reloc_slot_[s.index().value] = slot{static_cast<std::uint32_t>(ix.tables_.size())};
      ix.tables_.push_back(table);
    }

    // Count (and check sortedness) in one pass over the raw records, then fill.
    const std::uint32_t symbol_count = ix.symbol_base_.back();
    ix.ref_start_.assign(std::size_t{symbol_count} + 1, 0);
    ix.applies_start_.assign(n + 1, 0);
    std::vector<std::uint8_t> sorted_table(ix.tables_.size(), 1);
    for (std::size_t k = 0; k < ix.tables_.size(); ++k) {
      const auto& t = ix.tables_[k];
      ++ix.applies_start_[t.target_section().value + 1];
      std::uint32_t base = 0, count = 0;
      const bool has_symbols = t.symbol_table_index().value != 0;
      if (has_symbols) {
        const std::uint32_t symtab = ix.symtab_slot_[t.symbol_table_index().value].value;
        base = ix.symbol_base_[symtab];
        count = ix.symbol_base_[symtab + 1] - base;
      }
      std::uint32_t* counts = ix.ref_start_.data() + base + 1;
      const count_pass pass = t.is_rela() ? count_references(t.rela_records(), counts, count, has_symbols)
                                          : count_references(t.rel_records(), counts, count, has_symbols);
      if (pass.bad) {
        const std::uint32_t sym = t[*pass.bad].symbol.value;
        return with_detail(make_error(errc::bad_symbol_index, t.section(), t.entry_file_offset(*pass.bad)), sym);
      }
      sorted_table[k] = pass.sorted;
    }
    for (std::size_t i = 1; i < ix.ref_start_.size(); ++i) ix.ref_start_[i] += ix.ref_start_[i - 1];
    for (std::size_t i = 1; i < ix.applies_start_.size(); ++i) ix.applies_start_[i] += ix.applies_start_[i - 1];

    ix.refs_.resize(ix.ref_start_.back());
    ix.applies_.resize(ix.applies_start_.back());
    std::vector<std::uint32_t> ref_fill(ix.ref_start_.begin(), ix.ref_start_.end() - 1);
    std::vector<std::uint32_t> applies_fill(ix.applies_start_.begin(), ix.applies_start_.end() - 1);
    for (const auto& t : ix.tables_) {
      ix.applies_[applies_fill[t.target_section().value]++] = t.section();
      if (t.symbol_table_index().value == 0) continue;
      std::uint32_t* fill = ref_fill.data() + ix.symbol_base_[ix.symtab_slot_[t.symbol_table_index().value].value];
      if (t.is_rela()) fill_references(t.rela_records(), fill, ix.refs_.data(), t.section());
      else fill_references(t.rel_records(), fill, ix.refs_.data(), t.section());
    }

    ix.order_start_.assign(ix.tables_.size() + 1, 0);
    for (std::size_t k = 0; k < ix.tables_.size(); ++k)
      ix.order_start_[k + 1] =
          ix.order_start_[k] + (sorted_table[k] ? 0u : static_cast<std::uint32_t>(ix.tables_[k].size()));
    ix.order_.resize(ix.order_start_.back());
    for (std::size_t k = 0; k < ix.tables_.size(); ++k) {
      const auto& t = ix.tables_[k];
      auto order =
          std::span<std::uint32_t>(ix.order_).subspan(ix.order_start_[k], ix.order_start_[k + 1] - ix.order_start_[k]);
      if (order.empty()) continue;
      for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::uint32_t a, std::uint32_t b) { return t[a].offset < t[b].offset; });
    }
    return ix;
  }

  // The relocations that name symbol `sym` of the symbol table in section `symtab`, in section then entry order.
  // Caller contract: `symtab` is a symbol table of the indexed file and `sym` is in range.
  [[nodiscard]] std::span<const reloc_ref> references(section_index symtab, symbol_index sym) const noexcept {
    const std::size_t id = global_id(symtab, sym);
    return std::span<const reloc_ref>(refs_).subspan(ref_start_[id], ref_start_[id + 1] - ref_start_[id]);
  }

  // Constant time: is the symbol named by at least one relocation?
  [[nodiscard]] bool is_referenced(section_index symtab, symbol_index sym) const noexcept {
    const std::size_t id = global_id(symtab, sym);
    return ref_start_[id + 1] != ref_start_[id];
  }

  // The relocation sections whose sh_info is `target`; for section 0, those that apply to no particular section
  // (dynamic relocations). Caller contract: target < section count.
  [[nodiscard]] std::span<const section_index> relocation_sections_for(section_index target) const noexcept {
    Expects(target.value + std::size_t{1} < applies_start_.size());
    return std::span<const section_index>(applies_).subspan(
        applies_start_[target.value], applies_start_[target.value + 1] - applies_start_[target.value]);
  }

  // The relocation section `section` as a table, or null if it is not one.
  [[nodiscard]] const reloc_table<L>* table(section_index section) const noexcept {
    if (section.value >= reloc_slot_.size() || !reloc_slot_[section.value].has_value()) return nullptr;
    return &tables_[reloc_slot_[section.value].value];
  }

  [[nodiscard]] std::span<const reloc_table<L>> tables() const noexcept { return tables_; }

  // The entries of relocation section `section` at `offset`, in file order, found in O(log n).
  // Caller contract: `section` is a relocation section of the indexed file.
  [[nodiscard]] std::vector<std::uint32_t> entries_at(section_index section, std::uint64_t offset) const {
    std::vector<std::uint32_t> out;
    for_each_at(section, offset, [&](std::uint32_t entry) { out.push_back(entry); });
    return out;
  }

  // The first entry (in file order among those at `offset`), if any. O(log n), no allocation.
  [[nodiscard]] std::optional<std::uint32_t> find_at(section_index section, std::uint64_t offset) const noexcept {
    std::optional<std::uint32_t> first;
    for_each_at(section, offset, [&](std::uint32_t entry) {
      if (!first) first = entry;
    });
    return first;
  }

  template <class F>
  void for_each_at(section_index section, std::uint64_t offset, F&& f) const {
    Expects(section.value < reloc_slot_.size() && reloc_slot_[section.value].has_value());
    const std::uint32_t k = reloc_slot_[section.value].value;
    const auto& t = tables_[k];
    const auto order =
        std::span<const std::uint32_t>(order_).subspan(order_start_[k], order_start_[k + 1] - order_start_[k]);
    auto entry_at = [&](std::size_t pos) { return order.empty() ? static_cast<std::uint32_t>(pos) : order[pos]; };
    std::size_t lo = 0, hi = t.size();
    while (lo < hi) {  // first position whose offset is >= `offset`
      const std::size_t mid = lo + (hi - lo) / 2;
      if (t[entry_at(mid)].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    for (; lo < t.size() && t[entry_at(lo)].offset == offset; ++lo) f(entry_at(lo));
  }

  // Every relocation of every REL/RELA section, with or without a symbol table.
  [[nodiscard]] std::size_t relocation_count() const noexcept {
    std::size_t n = 0;
    for (const auto& t : tables_) n += t.size();
    return n;
  }

 private:
  // A position in one of the index's own arrays, or none; one per section, so as small as the number it holds.
  struct slot {
    static constexpr std::uint32_t none = 0xffffffffu;
    std::uint32_t value = none;
    [[nodiscard]] constexpr bool has_value() const noexcept { return value != none; }
  };

  // The two passes over a table's raw records are plain loops over REL or RELA records (no callback per entry):
  // together they are most of the index's cost, and of a pipeline that builds it.
  struct count_pass {
    bool sorted = true;              // offsets never decrease
    std::optional<std::size_t> bad;  // the first entry whose r_sym is out of range (the pass stops there)
  };

  // Counts the references to each symbol (counts[sym]) and checks the offsets' order. Without a symbol table
  // (count 0), r_sym must be 0.
  template <class Record>
  static count_pass count_references(std::span<const Record> records, std::uint32_t* counts, std::uint32_t count,
                                     bool has_symbols) noexcept {
    count_pass out;
    std::uint64_t previous = 0;
    bool sorted = true;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::uint64_t offset = records[i].r_offset.value();
      sorted = sorted & (previous <= offset);
      previous = offset;
      const std::uint32_t sym = L::r_sym(records[i].r_info.value());
      if (sym < count) {
        ++counts[sym];
      } else if (sym != 0 || has_symbols) {
        out.bad = i;
        break;
      }
    }
    out.sorted = sorted;
    return out;
  }

  // Places entry i at its symbol's next free slot. Caller contract: count_references accepted every r_sym.
  template <class Record>
  static void fill_references(std::span<const Record> records, std::uint32_t* fill, reloc_ref* refs,
                              section_index section) noexcept {
    for (std::uint32_t i = 0; i < records.size(); ++i) refs[fill[L::r_sym(records[i].r_info.value())]++] = {section, i};
  }

  [[nodiscard]] std::size_t global_id(section_index symtab, symbol_index sym) const noexcept {
    Expects(symtab.value < symtab_slot_.size() && symtab_slot_[symtab.value].has_value());
    const std::uint32_t table = symtab_slot_[symtab.value].value;
    Expects(sym.value < symbol_base_[table + 1] - symbol_base_[table]);
    return std::size_t{symbol_base_[table]} + sym.value;
  }

  std::vector<slot> symtab_slot_;           // section -> symbol table slot (none if not a symbol table)
  std::vector<std::uint32_t> symbol_base_;  // slot -> first global symbol id; one extra at the end
  std::vector<std::uint32_t> ref_start_;    // global symbol id -> first reference; one extra at the end
  std::vector<reloc_ref> refs_;
  std::vector<std::uint32_t> applies_start_;  // section -> first entry in applies_; one extra at the end
  std::vector<section_index> applies_;
  std::vector<slot> reloc_slot_;  // section -> index into tables_ (none if not REL/RELA)
  std::vector<reloc_table<L>> tables_;
  std::vector<std::uint32_t> order_start_;  // table -> first entry in order_ (empty range if already sorted)
  std::vector<std::uint32_t> order_;
};

// reloc_index<L>::build with L deduced from `sections`.
template <elf_layout L>
[[nodiscard]] result<reloc_index<L>> build_reloc_index(const section_table<L>& sections) {
  return reloc_index<L>::build(sections);
}

}  // namespace elfsieve
