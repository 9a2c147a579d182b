// The read layer over real objects: opening and validating a file (header, section table, section names and
// bounds), walking every symbol (name and section), and decoding every relocation: the cost every tool pays first.
// Usage: elfsieve_bench_read [google-benchmark flags] [--files=F1,F2,...]; defaults to bench_files.hpp's selection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/read.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;

// open: file<L>::create, the section table (extended counts, e_shstrndx), and for every section its name and
// the bounds of its data. Bytes: the ELF header, the section header table and the section names (data bounds are
// checked, not read). Items: files.
template <elf_layout L>
result<std::uint64_t> open_and_validate(const file<L>& f) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  ELFSIEVE_TRY_VOID(sections.names_status());
  std::uint64_t checksum = 0;
  for (auto s : sections) {
    ELFSIEVE_TRY(const auto name, sections.name(s));
    ELFSIEVE_TRY(const auto data, sections.data(s));
    checksum += name.size() + data.size();
  }
  return checksum;
}

void bench_open(benchmark::State& state, const input* in) {
  touched_bytes touched;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_headers(f, sections, touched);
    add_section_names(sections, touched);
    return {};
  });
  if (!counted) return;
  if (!time_visits(state, in->bytes(), [](const auto& f) { return open_and_validate(f); })) return;
  set_rates(state, touched.bytes, 1);
}

// symbols: every symbol of every SHT_SYMTAB and SHT_DYNSYM, its name and its section (SHN_XINDEX resolved).
// Bytes: the symbol records plus every name with its NUL (SHT_SYMTAB_SHNDX entries, read only for SHN_XINDEX
// symbols, are not counted). Items: symbols.
template <elf_layout L>
result<std::uint64_t> walk_symbols(const file<L>& f) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  std::uint64_t checksum = 0;
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    ELFSIEVE_TRY(const auto symbols, symbol_table<L>::create(sections, s.index()));
    for (auto sym : symbols) {
      ELFSIEVE_TRY(const auto name, symbols.name(sym));
      ELFSIEVE_TRY(const auto where, symbols.section_of(sym));
      checksum += name.size() + where.index.value;
    }
  }
  return checksum;
}

void bench_symbols(benchmark::State& state, const input* in) {
  touched_bytes touched;
  std::uint64_t symbols = 0;
  const bool counted = count_touched(state, in->bytes(), [&](const auto&, const auto& sections) -> result<void> {
    add_sections(sections, {elf::SHT_SYMTAB, elf::SHT_DYNSYM}, touched);
    add_symbol_names(sections, elf::SHT_SYMTAB, touched);
    add_symbol_names(sections, elf::SHT_DYNSYM, touched);
    for (auto s : sections)
      if (s.type() == elf::SHT_SYMTAB || s.type() == elf::SHT_DYNSYM)
        if (auto t = symbol_table_at(sections, s.index())) symbols += t->size();
    return {};
  });
  if (!counted) return;
  if (!time_visits(state, in->bytes(), [](const auto& f) { return walk_symbols(f); })) return;
  set_rates(state, touched.bytes, symbols);
}

// relocations: every entry of every SHT_REL and SHT_RELA section decoded (offset, symbol, type, addend).
// Bytes: the relocation records. Items: relocations.
template <elf_layout L>
result<std::uint64_t> walk_relocations(const file<L>& f) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  std::uint64_t checksum = 0;
  for (auto s : sections) {
    if (s.type() != elf::SHT_REL && s.type() != elf::SHT_RELA) continue;
    ELFSIEVE_TRY(const auto relocs, reloc_table<L>::create(sections, s.index()));
    for (auto r : relocs)
      checksum += r.offset ^ (std::uint64_t{r.symbol.value} + r.type + static_cast<std::uint64_t>(r.addend));
  }
  return checksum;
}

void bench_relocations(benchmark::State& state, const input* in) {
  touched_bytes touched;
  std::uint64_t relocations = 0;
  const bool counted = count_touched(state, in->bytes(), [&](const auto&, const auto& sections) -> result<void> {
    add_sections(sections, {elf::SHT_REL, elf::SHT_RELA}, touched);
    for (auto s : sections)
      if (s.type() == elf::SHT_REL || s.type() == elf::SHT_RELA)
        if (auto t = reloc_table_at(sections, s.index())) relocations += t->size();
    return {};
  });
  if (!counted) return;
  if (!time_visits(state, in->bytes(), [](const auto& f) { return walk_relocations(f); })) return;
  set_rates(state, touched.bytes, relocations);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const auto inputs = load_inputs(bench_files(argc, argv, args));
  for (const auto& in : inputs) {
    benchmark::RegisterBenchmark(("open/" + in->label).c_str(), bench_open, in.get());
    benchmark::RegisterBenchmark(("symbols/" + in->label).c_str(), bench_symbols, in.get());
    benchmark::RegisterBenchmark(("relocations/" + in->label).c_str(), bench_relocations, in.get());
  }
  return run_benchmarks(args);
}
