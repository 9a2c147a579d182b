// Builds the relocation-reference index over arbitrary bytes and evaluates every built-in policy, compile-time
// compositions and run-time policy expressions on every symbol, checking the index's invariants as it goes.
// Errors are fine; crashes, hangs, UB, broken invariants and allocations out of proportion to the input are not.
//
// Input format:
//   - starts with "\x7fELF": the whole input is the ELF object, evaluated with a fixed list of expressions (so a
//     plain ELF seed reaches deep code);
//   - otherwise, up to the first '\n': one policy expression parsed at run time (the parser alone is fuzzed this
//     way), and the rest, if any, is the ELF object. A `names:ARG` atom loads ARG itself as the list file, with
//     ';' read as a line break.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"

namespace {

using namespace elfsieve;

// A broken invariant is a bug in the library: stop loudly so libFuzzer records the input.
void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct sink {
  std::uint64_t v = 0;
  void add(std::uint64_t x) noexcept { v = v * 31 + x; }
  void add(std::string_view s) noexcept {
    add(s.size());
    if (!s.empty()) add(static_cast<unsigned char>(s.front()) + static_cast<unsigned char>(s.back()));
  }
  template <class T>
  void add_error(const result<T>& r) noexcept {
    if (!r)
      add(static_cast<std::uint64_t>(r.error().code) + r.error().offset.value_or(0) +
          (r.error().section ? r.error().section->value : 0));
  }
};

result<std::string> load_names_from_argument(std::string_view argument) {
  std::string contents(argument);
  for (char& c : contents)
    if (c == ';') c = '\n';
  if (contents == "missing") return make_error(errc::not_found);
  return contents;
}

constexpr std::array<std::string_view, 8> fixed_expressions = {
    "crc,ksymtab",
    "debug&!name:foo*",
    "crc,ksymtab,debug&!name:__crc_[a-m]*",
    "undefs|(crc&!ksymtab)",
    "!(debug|undefs)&name:*_*",
    "names:__this_module;init_module # comment;cleanup_module",
    "name:\\*lit\\,eral|name:[!a-z]?*",
    "!!!crc , ( ksymtab & ! debug )",
};

struct expressions {
  std::vector<policy_expr> parsed;
};

expressions parse_expressions(std::optional<std::string_view> from_input, sink& out) {
  expressions e;
  if (from_input) {
    auto p = policy_expr::parse(*from_input, load_names_from_argument);
    if (p) {
      out.add(p->text());
      e.parsed.push_back(std::move(p.value()));
    } else {
      // The position must point into (or just past) the text.
      check(p.error().detail.value_or(0) <= from_input->size());
      check(p.error().message != nullptr && *p.error().message != '\0');
      out.add_error(p);
    }
  }
  for (std::string_view text : fixed_expressions) {
    auto p = policy_expr::parse(text, load_names_from_argument);
    check(p.has_value());
    e.parsed.push_back(std::move(p.value()));
  }
  return e;
}

template <elf_layout L>
void check_index(sink& out, const section_table<L>& sections, const reloc_index<L>& ix) {
  out.add(ix.relocation_count());
  std::size_t with_symbols = 0;
  for (const auto& t : ix.tables()) {
    check(ix.table(t.section()) == &t);
    check(sections.contains(t.target_section()));
    if (t.symbol_table_index().value != 0) with_symbols += t.size();
    // The table is listed among the relocation sections that apply to its target.
    bool listed = false;
    for (section_index s : ix.relocation_sections_for(t.target_section())) listed = listed || s == t.section();
    check(listed);
    for (std::size_t i = 0; i < t.size(); ++i) {
      const relocation r = t[i];
      out.add(r.offset + r.symbol.value + r.type);
      // Every relocation is found at its own offset, and only relocations at that offset are reported.
      const auto first = ix.find_at(t.section(), r.offset);
      check(first.has_value() && t[*first].offset == r.offset && *first <= i);
      bool seen = false;
      std::size_t at_offset = 0;
      ix.for_each_at(t.section(), r.offset, [&](std::uint32_t entry) {
        check(entry < t.size() && t[entry].offset == r.offset);
        seen = seen || entry == i;
        ++at_offset;
      });
      check(seen);
      if (i < 8) {  // linear cross-check on a few entries, including an offset that may hold nothing
        for (std::uint64_t probe : {r.offset, r.offset + 1}) {
          std::size_t expected = 0;
          std::optional<std::uint32_t> expected_first;
          for (std::size_t j = 0; j < t.size(); ++j) {
            if (t[j].offset != probe) continue;
            ++expected;
            if (!expected_first) expected_first = static_cast<std::uint32_t>(j);
          }
          const auto entries = ix.entries_at(t.section(), probe);
          check(entries.size() == expected);
          check(ix.find_at(t.section(), probe) == expected_first);
          for (std::size_t k = 1; k < entries.size(); ++k) check(entries[k - 1] < entries[k]);
        }
      }
      out.add(at_offset);
    }
  }
  // Every section: its table (if any) and the relocation sections that apply to it.
  std::size_t applied = 0;
  for (auto s : sections) {
    const auto* t = ix.table(s.index());
    check((t != nullptr) == (s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA));
    for (section_index r : ix.relocation_sections_for(s.index())) {
      const auto* applying = ix.table(r);
      check(applying != nullptr && applying->target_section() == s.index());
      ++applied;
    }
  }
  check(applied == ix.tables().size());

  // Every reference is a relocation naming that very symbol, and each relocation is listed exactly once.
  std::size_t referenced = 0;
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    auto symbols = symbol_table<L>::create(sections, s.index());
    check(symbols.has_value());  // build() succeeded, so every symbol table opened
    for (std::uint32_t i = 0; i < symbols->size(); ++i) {
      const auto refs = ix.references(s.index(), symbol_index(i));
      check(ix.is_referenced(s.index(), symbol_index(i)) == !refs.empty());
      for (std::size_t k = 0; k < refs.size(); ++k) {
        const auto* t = ix.table(refs[k].section);
        const bool in_table = t != nullptr && t->symbol_table_index() == s.index() && refs[k].entry < t->size();
        check(in_table);
        if (in_table) check((*t)[refs[k].entry].symbol.value == i);
        if (k > 0)
          check(refs[k - 1].section < refs[k].section ||
                (refs[k - 1].section == refs[k].section && refs[k - 1].entry < refs[k].entry));
      }
      referenced += refs.size();
    }
  }
  check(referenced == with_symbols);
}

template <elf_layout L>
void evaluate_policies(sink& out, const section_table<L>& sections, const reloc_index<L>* ix,
                       const expressions& exprs) {
  const undefs_policy undefs;
  const undefs_policy undefs_custom({"module_layout", "", "__this_module"});
  const glob_policy globs({"__crc_*", "!__crc_bad*", "*[a-c]?", "[", "\\"});
  const names_policy names({"init_module", "cleanup_module", "__this_module", "init_module"});
  const auto named =
      predicate([](const auto& c) { return c.named_in_relocation() && !c.section_name().empty(); }, "named and placed");
  const auto crc_or_ksymtab = policies::crc | policies::ksymtab;
  const auto composed = (policies::crc | policies::ksymtab | policies::debug) & !glob_policy({"foo*"});
  const auto double_negation = !!policies::debug;

  // Thousands of section headers may all name the same bytes (the index refuses that, see reloc_index::build);
  // keep the work of this harness in proportion to the input too.
  std::size_t budget = sections.file_bytes().size() / 4 + 4096;
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    auto symbols = symbol_table<L>::create(sections, s.index());
    if (!symbols) {
      out.add_error(symbols);
      continue;
    }
    if (symbols->size() > budget) return;
    budget -= symbols->size();
    for (auto sym : *symbols) {
      auto made = make_symbol_context(sections, *symbols, sym, ix);
      if (!made) {
        out.add_error(made);
        continue;
      }
      const symbol_context<L>& c = made.value();
      const bool crc = policies::crc(c);
      const bool ksymtab = policies::ksymtab(c);
      const bool debug = policies::debug(c);
      const bool undef = undefs(c);
      out.add(crc + 2u * ksymtab + 4u * debug + 8u * undef + 16u * undefs_custom(c) + 32u * globs(c) + 64u * names(c) +
              128u * named(c) + 256u * c.named_in_relocation());
      out.add(c.section_name());
      if (ix != nullptr) check(c.named_in_relocation() == !ix->references(s.index(), sym.index()).empty());
      check(crc_or_ksymtab(c) == (crc || ksymtab));
      check(composed(c) == ((crc || ksymtab || debug) && !glob_match("foo*", c.name)));
      check(double_negation(c) == debug);
      if (c.is_null_symbol()) check(!crc && !ksymtab && !debug && !undef);
      if (undef) check(c.is_undefined());

      // Run-time expressions: why() names a part of the text exactly when the expression matches.
      for (std::size_t k = 0; k < exprs.parsed.size(); ++k) {
        const policy_expr& e = exprs.parsed[k];
        const bool match = e(c);
        const std::string_view why = e.why(c);
        check(match == !why.empty());
        check(why.empty() ||
              (why.data() >= e.text().data() && why.data() + why.size() <= e.text().data() + e.text().size()));
        out.add(why);
      }
      // The run-time forms of the first two fixed expressions agree with the compile-time ones.
      const std::size_t fixed = exprs.parsed.size() - fixed_expressions.size();
      check(exprs.parsed[fixed](c) == (crc || ksymtab));
      check(exprs.parsed[fixed + 1](c) == (debug && !glob_match("foo*", c.name)));
    }
  }
}

template <elf_layout L>
result<std::uint64_t> walk(const file<L>& f, const expressions& exprs) {
  sink out;
  auto sections = f.sections();
  if (!sections) return sections.error();
  auto ix = reloc_index<L>::build(*sections);
  if (ix) check_index(out, *sections, ix.value());
  else out.add_error(ix);
  // With and without the index: policies that do not need it must work either way.
  evaluate_policies(out, *sections, ix ? &ix.value() : nullptr, exprs);
  return out.v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::optional<std::string_view> expression;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!text.starts_with("\x7f"
                        "ELF")) {
    const auto newline = text.find('\n');
    expression = text.substr(0, newline);
    bytes = newline == std::string_view::npos ? std::span<const std::byte>{} : bytes.subspan(newline + 1);
  }
  sink out;
  const expressions exprs = parse_expressions(expression, out);
  if (!bytes.empty()) {
    auto r = visit(bytes, [&](const auto& f) { return walk(f, exprs); });
    out.add(r ? r.value() : static_cast<std::uint64_t>(r.error().code));
  }
  static volatile std::uint64_t keep = 0;
  keep = keep + out.v;
  return 0;
}
