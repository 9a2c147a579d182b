// The strip and rewrite layers over real objects, as `elfsieve-strip --strip-debug` runs them for one file but
// without the file I/O: the strip plan (reloc_index, section selection, a decision for every symbol), the writer
// into memory (plan.edits() then write_object into a vector_sink, the plan made once outside the timed loop), and
// the two together (gnu_strip::run into a vector, which is strip_object).
// Usage: elfsieve_bench_strip [google-benchmark flags] [--files=F1,F2,...]; defaults to bench_files.hpp's selection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/elfsieve.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;

gnu_strip strip_debug() {
  gnu_strip_options o;
  o.plan.strip_debug = true;
  return gnu_strip(std::move(o));
}

template <elf_layout L>
result<strip_plan<L>> make_plan(const gnu_strip& strip, const file<L>& f) {
  const bool relocatable = f.type() == elf::ET_REL;
  auto remove_section = [&](std::string_view name, const auto&) { return strip.removes_section(name); };
  auto ask = [&](const auto& c) { return strip.request(c, relocatable); };
  return strip_plan<L>::create(f, strip.plan_options(), remove_section, ask);
}

// What the plan reads: the ELF header, the section headers and names, every REL/RELA record (the index), the
// .symtab records and the names of its symbols. (Section contents the plan inspects for retargets are not counted.)
template <elf_layout L>
void add_plan_reads(const file<L>& f, const section_table<L>& sections, touched_bytes& t) {
  add_headers(f, sections, t);
  add_section_names(sections, t);
  add_sections(sections, {elf::SHT_REL, elf::SHT_RELA, elf::SHT_SYMTAB}, t);
  add_symbol_names(sections, elf::SHT_SYMTAB, t);
}

// strip_plan: strip_plan::create. Bytes: add_plan_reads. Items: .symtab symbols.
void bench_plan(benchmark::State& state, const input* in) {
  const gnu_strip strip = strip_debug();
  touched_bytes touched;
  std::uint64_t symbols = 0;
  auto outcome = visit(in->bytes(), [&](const auto& f) -> result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    add_plan_reads(f, sections, touched);
    if (auto t = find_symbol_table(sections, elf::SHT_SYMTAB)) symbols = t->size();
    for (auto _ : state) {
      ELFSIEVE_TRY(const auto plan, make_plan(strip, f));
      benchmark::DoNotOptimize(plan.stats());
    }
    return {};
  });
  if (!outcome) return fail(state, outcome.error().message);
  set_rates(state, touched.bytes, symbols);
}

// strip_write: the edits of a plan made once, written into memory. Bytes: the input bytes the writer copies (the
// data of every kept section; the symbol and string tables it rebuilds are read from the input as well) plus the
// output bytes it writes. Items: files.
void bench_write(benchmark::State& state, const input* in) {
  const gnu_strip strip = strip_debug();
  std::vector<std::byte> out;
  std::uint64_t bytes = 0;
  auto outcome = visit(in->bytes(), [&](const auto& f) -> result<void> {
    ELFSIEVE_TRY(const auto plan, make_plan(strip, f));
    touched_bytes copied;
    for (auto s : plan.sections())
      if (plan.section_kept(s.index()))
        if (auto data = plan.sections().data(s)) copied.add(f.bytes(), *data);
    for (auto _ : state) {
      vector_sink sink(out);
      ELFSIEVE_TRY_VOID(write_object(plan.edits(), sink));
      benchmark::DoNotOptimize(out.data());
    }
    bytes = copied.bytes + out.size();
    return {};
  });
  if (!outcome) return fail(state, outcome.error().message);
  state.counters["output"] = static_cast<double>(out.size());
  set_rates(state, bytes, 1);
}

// strip_object: plan and write, what elfsieve-strip does per file between mapping it and committing the output.
// Bytes: add_plan_reads plus the writer's (as strip_write). Items: files.
void bench_strip(benchmark::State& state, const input* in) {
  const gnu_strip strip = strip_debug();
  std::vector<std::byte> out;
  touched_bytes touched;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_plan_reads(f, sections, touched);
    ELFSIEVE_TRY(const auto plan, make_plan(strip, f));
    for (auto s : sections)
      if (plan.section_kept(s.index()))
        if (auto data = sections.data(s)) touched.add(f.bytes(), *data);
    return {};
  });
  if (!counted) return;
  auto ignore = [](const symbol_report&) {};
  for (auto _ : state) {
    auto outcome = strip.run(in->bytes(), ignore, out);
    if (!outcome) return fail(state, outcome.error().message);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["output"] = static_cast<double>(out.size());
  set_rates(state, touched.bytes + out.size(), 1);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const auto inputs = load_inputs(bench_files(argc, argv, args));
  for (const auto& in : inputs) {
    benchmark::RegisterBenchmark(("strip_plan/" + in->label).c_str(), bench_plan, in.get());
    benchmark::RegisterBenchmark(("strip_write/" + in->label).c_str(), bench_write, in.get());
    benchmark::RegisterBenchmark(("strip_object/" + in->label).c_str(), bench_strip, in.get());
  }
  return run_benchmarks(args);
}
