// Walking every symbol (name, section) and every relocation of real objects: the cost every tool pays first.
// Usage: elfsieve_bench_view [google-benchmark flags] [--files=F1,F2,...]; defaults to a corpus selection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/elfsieve.hpp"

namespace {

struct walk_counts {
  std::uint64_t symbols = 0;
  std::uint64_t relocations = 0;
  std::uint64_t name_bytes = 0;
  std::uint64_t checksum = 0;
};

template <elfsieve::elf_layout L>
elfsieve::result<walk_counts> walk(const elfsieve::file<L>& f) {
  using namespace elfsieve;
  walk_counts counts;
  auto sections = f.sections();
  if (!sections) return sections.error();
  for (auto s : *sections) {
    if (s.type() == elf::SHT_SYMTAB || s.type() == elf::SHT_DYNSYM) {
      auto symbols = symbol_table<L>::create(*sections, s.index());
      if (!symbols) return symbols.error();
      for (auto sym : *symbols) {
        auto name = symbols->name(sym);
        auto where = symbols->section_of(sym);
        if (!name || !where) return name ? where.error() : name.error();
        counts.name_bytes += name->size();
        ++counts.symbols;
      }
    } else if (s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA) {
      auto relocs = reloc_table<L>::create(*sections, s.index());
      if (!relocs) return relocs.error();
      for (auto r : *relocs) {
        counts.checksum ^= r.offset + r.symbol.value + r.type;
        ++counts.relocations;
      }
    }
  }
  return counts;
}

void bench_walk(benchmark::State& state, const std::string& path) {
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  if (!mapped) {
    state.SkipWithError("cannot open file");
    return;
  }
  walk_counts last;
  for (auto _ : state) {
    auto counts = elfsieve::visit(mapped->bytes(), [](const auto& f) { return walk(f); });
    if (!counts) {
      state.SkipWithError(counts.error().message);
      return;
    }
    last = counts.value();
    benchmark::DoNotOptimize(last);
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(mapped->size()));
  state.counters["symbols/s"] =
      benchmark::Counter(static_cast<double>(last.symbols) * iterations, benchmark::Counter::kIsRate);
  state.counters["relocs/s"] =
      benchmark::Counter(static_cast<double>(last.relocations) * iterations, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const std::vector<std::string> files = bench_files(argc, argv, args);
  for (const auto& f : files) {
    const auto label =
        std::filesystem::path(f).parent_path().filename().string() + "/" + std::filesystem::path(f).filename().string();
    benchmark::RegisterBenchmark(("walk/" + label).c_str(), bench_walk, f);
  }
  int bench_argc = static_cast<int>(args.size());
  benchmark::Initialize(&bench_argc, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
