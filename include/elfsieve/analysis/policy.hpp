// Symbol policies: predicates over a symbol in context, composed at compile time with &, | and ! at no cost.
// The run-time form for tools (parsed from strings such as "crc,ksymtab" or "debug&!name:foo*") is in
// policy_expr.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/analysis/glob.hpp"
#include "elfsieve/analysis/reloc_index.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve {

// Everything a policy may look at for one symbol. Built by the caller, who has already turned errors (a name
// out of range, a bad section index) into error values.
template <elf_layout L>
struct symbol_context {
  const section_table<L>& sections;
  const symbol_table<L>& symbols;
  symbol_ref<L> symbol;
  std::string_view name;
  symbol_section where;
  const reloc_index<L>* relocations = nullptr;  // null when the caller built no index
  // Per section, non-zero when the caller (a strip plan) removes it; empty when unknown, and then only debug
  // sections are taken to go.
  std::span<const std::uint8_t> removed_sections{};

  [[nodiscard]] bool is_null_symbol() const noexcept { return symbol.index().value == 0; }
  [[nodiscard]] bool is_section_symbol() const noexcept { return symbol.type() == elf::STT_SECTION; }
  [[nodiscard]] bool is_undefined() const noexcept { return where.where == symbol_section::kind::undefined; }
  // The name of the section the symbol is defined in; empty unless it is a regular section with a valid name.
  [[nodiscard]] std::string_view section_name() const noexcept {
    if (!where.is_regular()) return {};
    auto n = sections.name(sections[where.index]);
    return n ? n.value() : std::string_view{};
  }
  [[nodiscard]] bool named_in_relocation() const noexcept {
    return relocations != nullptr && relocations->is_referenced(symbols.section(), symbol.index());
  }
};

// Builds the context of symbol `s`, or the error that stops it (its name or section index is malformed).
template <elf_layout L>
[[nodiscard]] result<symbol_context<L>> make_symbol_context(const section_table<L>& sections,
                                                            const symbol_table<L>& symbols, symbol_ref<L> s,
                                                            const reloc_index<L>* relocations = nullptr) noexcept {
  ELFSIEVE_TRY(const std::string_view name, symbols.name(s));
  ELFSIEVE_TRY(const symbol_section where, symbols.section_of(s));
  return symbol_context<L>{sections, symbols, s, name, where, relocations};
}

// A policy type: `bool operator()(const symbol_context<L>&) const` for every layout and a one-line description.
struct policy_tag {};
template <class P>
concept symbol_policy = std::is_base_of_v<policy_tag, std::remove_cvref_t<P>>;

// True when a name starts with one of the export-table bookkeeping prefixes.
[[nodiscard]] constexpr bool is_ksymtab_name(std::string_view name) noexcept {
  // Every policy sees every symbol: most names are decided by their first characters, before any prefix compare.
  if (name.size() <= 10 || name[0] != '_' || name[1] != '_' || name[2] != 'k') return false;
  // 6.1: __ksymtab_<sym>, __kstrtab_<sym>, __kstrtabns_<sym>; older kernels also label CRC table entries
  // __kcrctab_<sym>.
  for (std::string_view prefix : {"__ksymtab_", "__kstrtab_", "__kstrtabns_", "__kcrctab_"})
    if (name.starts_with(prefix) && name.size() > prefix.size()) return true;
  return false;
}

// Sections GNU strip --strip-debug removes (BFD's SEC_DEBUGGING for a non-SHF_ALLOC section). A relocation section
// is never one by its own name: like BFD, which folds it into its target, it goes or stays with the section it
// applies to.
[[nodiscard]] constexpr bool is_debug_section_name(std::string_view name) noexcept {
  for (std::string_view prefix : {".debug", ".zdebug", ".gnu.debuglto_.debug_", ".gnu.linkonce.wi.", ".line", ".stab"})
    if (name.starts_with(prefix)) return true;
  return name == ".gdb_index";
}

template <elf_layout L>
[[nodiscard]] bool is_debug_section(const section_table<L>& sections, section_index i) noexcept {
  if (!sections.contains(i)) return false;
  auto s = sections[i];
  if (s.has_flag(elf::SHF_ALLOC) || s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) return false;
  auto name = sections.name(s);
  return name && is_debug_section_name(name.value());
}

struct crc_policy : policy_tag {
  static constexpr std::string_view description = "__crc_* CRC symbols of exported symbols (MODVERSIONS)";
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    // The first character first: most names are decided there, before any prefix compare.
    return c.name.size() > 6 && c.name[0] == '_' && c.name.starts_with("__crc_") && !c.is_section_symbol() &&
           !c.is_null_symbol();
  }
};

struct ksymtab_policy : policy_tag {
  static constexpr std::string_view description =
      "export-table bookkeeping symbols: __ksymtab_*, __kstrtab_*, __kstrtabns_*, __kcrctab_* (never section symbols)";
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    return !c.is_section_symbol() && !c.is_null_symbol() && is_ksymtab_name(c.name);
  }
};

// Undefined symbols except the null symbol and an ignore list (by default __this_module, which every module
// object references and which must never look like a missing export).
class undefs_policy : public policy_tag {
 public:
  static constexpr std::string_view description = "undefined symbols, except those in the ignore list (__this_module)";
  undefs_policy() : ignore_{"__this_module"} {}
  explicit undefs_policy(std::vector<std::string> ignore) : ignore_(std::move(ignore)) {}

  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    if (c.is_null_symbol() || !c.is_undefined() || c.is_section_symbol()) return false;
    return std::find(ignore_.begin(), ignore_.end(), c.name) == ignore_.end();
  }

 private:
  std::vector<std::string> ignore_;
};

// The named symbols GNU strip --strip-debug removes (binutils objcopy.c filter_symbols): every symbol defined in
// a section --strip-debug removes (is_strip_section), and STT_FILE symbols that are neither global, weak,
// undefined nor common (BFD flags STT_FILE as BSF_DEBUGGING) unless a relocation of a section strip keeps names
// them (mark_symbols_used_in_relocations sets BSF_KEEP, which wins). That last test needs the relocation index;
// without one, such an STT_FILE symbol matches too. Section symbols are the writer's business.
struct debug_policy : policy_tag {
  static constexpr std::string_view description =
      "symbols GNU strip --strip-debug removes: local STT_FILE symbols and symbols defined in debug sections";
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    if (c.is_null_symbol() || c.is_section_symbol()) return false;
    if (c.where.is_regular() && is_debug_section(c.sections, c.where.index)) return true;
    if (c.symbol.type() != elf::STT_FILE) return false;
    if (c.is_undefined() || c.where.where == symbol_section::kind::common) return false;
    if (c.symbol.bind() == elf::STB_GLOBAL || c.symbol.bind() == elf::STB_WEAK) return false;
    return !named_in_kept_relocation(c);
  }

 private:
  template <elf_layout L>
  static bool named_in_kept_relocation(const symbol_context<L>& c) noexcept {
    if (c.relocations == nullptr) return false;
    for (const reloc_ref& r : c.relocations->references(c.symbols.section(), c.symbol.index())) {
      const reloc_table<L>* table = c.relocations->table(r.section);
      if (table == nullptr || r.section.value == 0) continue;
      if (r.section.value < c.removed_sections.size() && c.removed_sections[r.section.value] != 0) continue;
      const section_index target = table->target_section();
      // Relocations for no section (sh_info 0) are not attached to one, so BFD never reads them here.
      if (target.value != 0 && c.sections.contains(target) && !is_debug_section(c.sections, target)) return true;
    }
    return false;
  }
};

// Exact names (binary search in a sorted copy made once).
class names_policy : public policy_tag {
 public:
  static constexpr std::string_view description = "symbols whose name is in a list";
  explicit names_policy(std::vector<std::string> names) : names_(std::move(names)) {
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  }
  [[nodiscard]] bool contains(std::string_view name) const noexcept {
    return std::binary_search(names_.begin(), names_.end(), name, std::less<>{});
  }
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    return !c.is_section_symbol() && !c.is_null_symbol() && contains(c.name);
  }

 private:
  std::vector<std::string> names_;
};

// GNU objcopy --wildcard semantics: a symbol matches when some pattern matches it and no `!pattern` does.
class glob_policy : public policy_tag {
 public:
  static constexpr std::string_view description =
      "symbols matching wildcard patterns (GNU --wildcard; !pattern excludes)";
  explicit glob_policy(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}
  [[nodiscard]] bool matches_name(std::string_view name) const noexcept {
    bool found = false;
    for (const auto& p : patterns_) {
      if (!p.empty() && p.front() == '!') {
        if (glob_match(std::string_view(p).substr(1), name)) return false;
      } else if (!found && glob_match(p, name)) {
        found = true;
      }
    }
    return found;
  }
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const noexcept {
    return !c.is_section_symbol() && !c.is_null_symbol() && matches_name(c.name);
  }

 private:
  std::vector<std::string> patterns_;
};

// Names from a list file in objcopy's format: one name per line, `#` starts a comment, surrounding blanks ignored.
[[nodiscard]] inline std::vector<std::string> parse_name_list(std::string_view text) {
  std::vector<std::string> names;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const auto first = line.find_first_not_of(" \t\r\f\v");
    if (first == std::string_view::npos) continue;
    const auto last = line.find_last_not_of(" \t\r\f\v");
    names.emplace_back(line.substr(first, last - first + 1));
  }
  return names;
}

// Any callable taking a symbol_context<L> for every layout (a generic lambda), with a description.
template <class F>
class predicate_policy : public policy_tag {
 public:
  predicate_policy(F f, std::string_view text) : f_(std::move(f)), description(text) {}
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const {
    return static_cast<bool>(f_(c));
  }
  F f_;
  std::string_view description;
};

template <class F>
[[nodiscard]] predicate_policy<F> predicate(F f, std::string_view description = "user predicate") {
  return predicate_policy<F>(std::move(f), description);
}

template <class A, class B>
struct and_policy : policy_tag {
  A a;
  B b;
  and_policy(A x, B y) : a(std::move(x)), b(std::move(y)) {}
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const {
    return a(c) && b(c);
  }
};

template <class A, class B>
struct or_policy : policy_tag {
  A a;
  B b;
  or_policy(A x, B y) : a(std::move(x)), b(std::move(y)) {}
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const {
    return a(c) || b(c);
  }
};

template <class A>
struct not_policy : policy_tag {
  A a;
  explicit not_policy(A x) : a(std::move(x)) {}
  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const {
    return !a(c);
  }
};

template <symbol_policy A, symbol_policy B>
[[nodiscard]] auto operator&(A a, B b) {
  return and_policy<A, B>(std::move(a), std::move(b));
}
template <symbol_policy A, symbol_policy B>
[[nodiscard]] auto operator|(A a, B b) {
  return or_policy<A, B>(std::move(a), std::move(b));
}
template <symbol_policy A>
[[nodiscard]] auto operator!(A a) {
  return not_policy<A>(std::move(a));
}

namespace policies {
inline constexpr crc_policy crc{};
inline constexpr ksymtab_policy ksymtab{};
inline constexpr debug_policy debug{};
}  // namespace policies

}  // namespace elfsieve
