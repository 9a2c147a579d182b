// The bytes a benchmark touches, counted from the file's own tables once, outside the timed loop, so that every
// bytes/s figure is "bytes the code under test reads from the input (and writes, for a writer) per second", not
// the file's size per second. Each benchmark says in a comment which of these it counts.
//   headers        the ELF header and the section header table
//   section names  the name of every section with its NUL (what sections.name() reads with strlen)
//   sections       the whole data of the sections of some types (relocation records, symbol records)
//   symbol names   the name of every symbol of a symbol table with its NUL (what symbols.name() reads)
// The ranges themselves are kept for the throughput benchmark, whose memcpy copies exactly them.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <type_traits>
#include <span>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/read.hpp"

namespace elfsieve_bench {

struct byte_range {
  std::size_t offset = 0;
  std::size_t size = 0;
};

struct touched_bytes {
  std::vector<byte_range> ranges;  // in the input file
  std::uint64_t bytes = 0;         // their total, plus any counted without a range (names read piecewise)

  void add(std::span<const std::byte> file, std::span<const std::byte> part) {
    if (part.empty()) return;
    ranges.push_back({static_cast<std::size_t>(part.data() - file.data()), part.size()});
    bytes += part.size();
  }
};

template <elfsieve::elf_layout L>
void add_headers(const elfsieve::file<L>& f, const elfsieve::section_table<L>& sections, touched_bytes& t) {
  const auto all = f.bytes();
  t.add(all, all.first(sizeof(typename L::ehdr)));
  t.add(all, std::as_bytes(sections.headers()));
}

template <elfsieve::elf_layout L>
void add_section_names(const elfsieve::section_table<L>& sections, touched_bytes& t) {
  for (auto s : sections)
    if (auto n = sections.name(s)) t.bytes += n->size() + 1;
}

// The data of every section whose type is one of `types`.
template <elfsieve::elf_layout L>
void add_sections(const elfsieve::section_table<L>& sections, std::initializer_list<std::uint32_t> types,
                  touched_bytes& t) {
  for (auto s : sections)
    for (std::uint32_t type : types)
      if (s.type() == type)
        if (auto data = sections.data(s)) t.add(sections.file_bytes(), *data);
}

// The names of the symbols of every symbol table of type `type`, each read once with its NUL.
template <elfsieve::elf_layout L>
void add_symbol_names(const elfsieve::section_table<L>& sections, std::uint32_t type, touched_bytes& t) {
  for (auto s : sections) {
    if (s.type() != type) continue;
    auto symbols = elfsieve::symbol_table<L>::create(sections, s.index());
    if (!symbols) continue;
    for (auto sym : *symbols)
      if (auto n = symbols->name(sym)) t.bytes += n->size() + 1;
  }
}

// The whole string table of every symbol table of type `type` (a range, for memcpy): every symbol's name is read,
// and a symbol string table holds little else, so this is the names' bytes to within the strings no symbol names
// (see the throughput benchmark's names/strtab counter).
template <elfsieve::elf_layout L>
void add_symbol_string_tables(const elfsieve::section_table<L>& sections, std::uint32_t type, touched_bytes& t) {
  for (auto s : sections) {
    if (s.type() != type) continue;
    auto symbols = elfsieve::symbol_table<L>::create(sections, s.index());
    if (!symbols) continue;
    t.add(sections.file_bytes(), symbols->strings().bytes());
  }
}

// Counts what a benchmark touches, once, before its timed loop: count(f, sections) adds to the caller's
// touched_bytes and returns result<void>. False when the file or count fails (the benchmark is then failed).
template <class Count>
[[nodiscard]] bool count_touched(benchmark::State& state, std::span<const std::byte> bytes, Count&& count) {
  auto counted = elfsieve::visit(bytes, [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    return count(f, sections);
  });
  if (counted) return true;
  fail(state, counted.error().message);
  return false;
}

// The timed loop of a benchmark that opens the input and runs step(f) once per iteration: the last value step
// returned, or nothing after an error (the benchmark is then failed).
template <class Step>
auto time_visits(benchmark::State& state, std::span<const std::byte> bytes, Step&& step) {
  using value = std::decay_t<decltype(elfsieve::visit(bytes, step).value())>;
  std::optional<value> last;
  for (auto _ : state) {
    auto r = elfsieve::visit(bytes, step);
    if (!r) {
      fail(state, r.error().message);
      return std::optional<value>{};
    }
    benchmark::DoNotOptimize(r.value());
    last = r.value();
  }
  return last;
}

// Per iteration: bytes and items processed, as rates.
inline void set_rates(benchmark::State& state, std::uint64_t bytes, std::uint64_t items) {
  const auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(items));
}

}  // namespace elfsieve_bench

using namespace elfsieve_bench;  // NOLINT(google-build-using-namespace): the programs' own helpers
