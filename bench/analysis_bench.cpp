// The analysis layer over real objects: nm's type letters (nm_classifier), nm's listing in its default and -n
// order (list_nm_symbols), the relocation-reference index (reloc_index::build), and symbol policies evaluated
// over every symbol (make_symbol_context + the policy, with the index built once outside the timed loop).
// Usage: elfsieve_bench_analysis [google-benchmark flags] [--files=F1,F2,...]; defaults to bench_files.hpp's
// selection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/read.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;

std::uint64_t count_symbols(std::span<const std::byte> bytes, std::uint32_t type) {
  auto n = visit(bytes, [&](const auto& f) -> result<std::uint64_t> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    std::uint64_t total = 0;
    for (auto s : sections)
      if (s.type() == type)
        if (auto t = symbol_table_at(sections, s.index())) total += t->size();
    return total;
  });
  return n.value_or(0);
}

// nm_letters: nm_classifier::create (one pass over the section headers and names) and classify() of every .symtab
// symbol. Bytes: the ELF header, the section headers, the section names and the .symtab records (classify reads
// no symbol name). Items: symbols.
template <elf_layout L>
result<std::uint64_t> classify_all(const file<L>& f) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  ELFSIEVE_TRY(const auto symbols, find_symbol_table(sections, elf::SHT_SYMTAB));
  const auto classifier = make_nm_classifier(f, sections);
  std::uint64_t checksum = 0;
  for (auto s : symbols) checksum += static_cast<unsigned char>(classifier.classify(symbols, s).type);
  return checksum;
}

void bench_letters(benchmark::State& state, const input* in) {
  touched_bytes touched;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_headers(f, sections, touched);
    add_section_names(sections, touched);
    add_sections(sections, {elf::SHT_SYMTAB}, touched);
    return {};
  });
  if (!counted) return;
  if (!time_visits(state, in->bytes(), [](const auto& f) { return classify_all(f); })) return;
  set_rates(state, touched.bytes, count_symbols(in->bytes(), elf::SHT_SYMTAB));
}

// nm_list (default order: by name) and nm_list_n (-n: by value): list_nm_symbols as elfsieve-nm calls it, into a
// listing reused between iterations. Bytes: the ELF header, the section headers, the section names, the .symtab
// records and the names of its symbols (sorting compares names again; those reads are not counted). Items: symbols.
void bench_nm_list(benchmark::State& state, const input* in, nm_sort order) {
  touched_bytes touched;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_headers(f, sections, touched);
    add_section_names(sections, touched);
    add_sections(sections, {elf::SHT_SYMTAB}, touched);
    add_symbol_names(sections, elf::SHT_SYMTAB, touched);
    return {};
  });
  if (!counted) return;
  nm_options options;
  options.order.sort = order;
  nm_listing listing;
  for (auto _ : state) {
    list_nm_symbols(in->bytes(), options, listing);
    if (listing.state != nm_listing::status::listed && listing.state != nm_listing::status::no_symbols)
      return fail(state, "list_nm_symbols: file not listed");
    benchmark::DoNotOptimize(listing.rows.data());
  }
  state.counters["listed"] = static_cast<double>(listing.rows.size());
  set_rates(state, touched.bytes, count_symbols(in->bytes(), elf::SHT_SYMTAB));
}

// index_build: reloc_index::build. Bytes: the ELF header, the section headers and every REL/RELA record (the
// symbol tables are only sized, never read). Items: relocations.
template <elf_layout L>
result<std::uint64_t> build_index(const file<L>& f) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  ELFSIEVE_TRY(const auto ix, build_reloc_index(sections));
  return ix.relocation_count();
}

void bench_index(benchmark::State& state, const input* in) {
  touched_bytes touched;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_headers(f, sections, touched);
    add_sections(sections, {elf::SHT_REL, elf::SHT_RELA}, touched);
    return {};
  });
  if (!counted) return;
  const auto relocations = time_visits(state, in->bytes(), [](const auto& f) { return build_index(f); });
  if (!relocations) return;
  set_rates(state, touched.bytes, *relocations);
}

// The policies under test, type-erased only at the benchmark boundary: each one is evaluated in a loop
// instantiated for its own type.
enum class which { crc_or_ksymtab, debug, undefs, expression };

struct eval_counts {
  std::uint64_t symbols = 0;
  std::uint64_t matched = 0;
};

template <elf_layout L, class P>
result<eval_counts> evaluate(const section_table<L>& sections, const reloc_index<L>& ix, const P& policy) {
  eval_counts counts;
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    ELFSIEVE_TRY(const auto symbols, symbol_table<L>::create(sections, s.index()));
    for (auto sym : symbols) {
      ELFSIEVE_TRY(const auto c, make_symbol_context(sections, symbols, sym, &ix));
      counts.matched += policy(c) ? 1u : 0u;
      ++counts.symbols;
    }
  }
  return counts;
}

template <elf_layout L>
result<eval_counts> run_policy(const section_table<L>& sections, const reloc_index<L>& ix, which w,
                               const policy_expr& expr) {
  switch (w) {
    case which::crc_or_ksymtab: return evaluate(sections, ix, policies::crc | policies::ksymtab);
    case which::debug: return evaluate(sections, ix, policies::debug);
    case which::undefs: return evaluate(sections, ix, undefs_policy{});
    case which::expression: break;
  }
  return evaluate(sections, ix, expr);
}

constexpr std::string_view bench_expression = "crc,ksymtab,debug&!name:foo*";

// policy_*: every symbol of every symbol table in context, then the policy. Bytes: the symbol records and their
// names (a policy reading section headers or the index, as debug does, reads more; not counted). Items: symbols.
void bench_policy(benchmark::State& state, const input* in, which w) {
  auto expr = policy_expr::parse(bench_expression);
  if (!expr) return fail(state, expr.error().message);
  touched_bytes touched;
  eval_counts last;
  auto outcome = visit(in->bytes(), [&](const auto& f) -> result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    add_sections(sections, {elf::SHT_SYMTAB, elf::SHT_DYNSYM}, touched);
    add_symbol_names(sections, elf::SHT_SYMTAB, touched);
    add_symbol_names(sections, elf::SHT_DYNSYM, touched);
    ELFSIEVE_TRY(const auto ix, build_reloc_index(sections));  // built once; the policies are what is timed
    for (auto _ : state) {
      ELFSIEVE_TRY(last, run_policy(sections, ix, w, expr.value()));
      benchmark::DoNotOptimize(last);
    }
    return {};
  });
  if (!outcome) return fail(state, outcome.error().message);
  state.counters["matched"] = static_cast<double>(last.matched);
  set_rates(state, touched.bytes, last.symbols);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const auto inputs = load_inputs(bench_files(argc, argv, args));
  for (const auto& in : inputs) {
    const std::string& label = in->label;
    benchmark::RegisterBenchmark(("nm_letters/" + label).c_str(), bench_letters, in.get());
    benchmark::RegisterBenchmark(("nm_list/" + label).c_str(), bench_nm_list, in.get(), nm_sort::by_name);
    benchmark::RegisterBenchmark(("nm_list_n/" + label).c_str(), bench_nm_list, in.get(), nm_sort::by_value);
    benchmark::RegisterBenchmark(("index_build/" + label).c_str(), bench_index, in.get());
    benchmark::RegisterBenchmark(("policy_crc|ksymtab/" + label).c_str(), bench_policy, in.get(),
                                 which::crc_or_ksymtab);
    benchmark::RegisterBenchmark(("policy_debug/" + label).c_str(), bench_policy, in.get(), which::debug);
    benchmark::RegisterBenchmark(("policy_undefs/" + label).c_str(), bench_policy, in.get(), which::undefs);
    benchmark::RegisterBenchmark(("policy_expr/" + label).c_str(), bench_policy, in.get(), which::expression);
  }
  return run_benchmarks(args);
}
