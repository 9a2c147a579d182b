// The relocation-reference index and symbol policies over real objects: reloc_index::build per object, and
// policy evaluation (make_symbol_context + the policy) over every symbol of every symbol table.
// Usage: elfsieve_bench_index [google-benchmark flags] [--files=F1,F2,...]; defaults to a representative set of
// the committed corpus from every architecture, with the .xz files decompressed (once) into the build tree.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <type_traits>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/elfsieve.hpp"

namespace {

namespace fs = std::filesystem;
using namespace elfsieve;

struct build_counts {
  std::uint64_t relocations = 0;
  std::uint64_t sections = 0;
};

template <elf_layout L>
result<build_counts> build_index(const file<L>& f) {
  auto sections = f.sections();
  if (!sections) return sections.error();
  auto ix = reloc_index<L>::build(*sections);
  if (!ix) return ix.error();
  benchmark::DoNotOptimize(ix.value());
  return build_counts{ix->relocation_count(), sections->size()};
}

void bench_build(benchmark::State& state, const std::string& path) {
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) {
    state.SkipWithError("cannot open file");
    return;
  }
  build_counts last;
  for (auto _ : state) {
    auto counts = visit(mapped->bytes(), [](const auto& f) { return build_index(f); });
    if (!counts) {
      state.SkipWithError(counts.error().message);
      return;
    }
    last = counts.value();
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(mapped->size()));
  state.counters["relocs"] = static_cast<double>(last.relocations);
  state.counters["relocs/s"] =
      benchmark::Counter(static_cast<double>(last.relocations) * iterations, benchmark::Counter::kIsRate);
}

struct eval_counts {
  std::uint64_t symbols = 0;
  std::uint64_t matched = 0;
};

// The policies under test, type-erased only at the benchmark boundary: each one is evaluated in a loop
// instantiated for its own type.
enum class which { crc_or_ksymtab, debug, undefs, expression };

template <elf_layout L, class P>
result<eval_counts> evaluate(const section_table<L>& sections, const reloc_index<L>& ix, const P& policy) {
  eval_counts counts;
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    auto symbols = symbol_table<L>::create(sections, s.index());
    if (!symbols) return symbols.error();
    for (auto sym : *symbols) {
      auto c = make_symbol_context(sections, *symbols, sym, &ix);
      if (!c) return c.error();
      counts.matched += policy(c.value()) ? 1u : 0u;
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

void bench_policy(benchmark::State& state, const std::string& path, which w) {
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) {
    state.SkipWithError("cannot open file");
    return;
  }
  auto expr = policy_expr::parse(bench_expression);
  if (!expr) {
    state.SkipWithError(expr.error().message);
    return;
  }
  eval_counts last;
  auto outcome = visit(mapped->bytes(), [&](const auto& f) -> result<bool> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    ELFSIEVE_TRY(const auto ix, build_reloc_index(sections));  // built once; the policies are what is timed
    for (auto _ : state) {
      auto counts = run_policy(sections, ix, w, expr.value());
      if (!counts) return counts.error();
      last = counts.value();
      benchmark::DoNotOptimize(last);
    }
    return true;
  });
  if (!outcome) {
    state.SkipWithError(outcome.error().message);
    return;
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(mapped->size()));
  state.counters["symbols"] = static_cast<double>(last.symbols);
  state.counters["matched"] = static_cast<double>(last.matched);
  state.counters["symbols/s"] =
      benchmark::Counter(static_cast<double>(last.symbols) * iterations, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const std::vector<std::string> files = bench_files(argc, argv, args);
  for (const auto& f : files) {
    const auto label = fs::path(f).parent_path().filename().string() + "/" + fs::path(f).filename().string();
    benchmark::RegisterBenchmark(("index_build/" + label).c_str(), bench_build, f);
    benchmark::RegisterBenchmark(("policy_crc|ksymtab/" + label).c_str(), bench_policy, f, which::crc_or_ksymtab);
    benchmark::RegisterBenchmark(("policy_debug/" + label).c_str(), bench_policy, f, which::debug);
    benchmark::RegisterBenchmark(("policy_undefs/" + label).c_str(), bench_policy, f, which::undefs);
    benchmark::RegisterBenchmark(("policy_expr/" + label).c_str(), bench_policy, f, which::expression);
  }
  int bench_argc = static_cast<int>(args.size());
  benchmark::Initialize(&bench_argc, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
