// elfsieve-symvers' work per file without the I/O: read_export_table (the __ksymtab tables, their relocations in a
// module, the CRCs from __kcrctab or __crc_ symbols, the __ksymtab_ labels), modpost's order, and one
// Module.symvers line per export (append_symvers_line), over the vmlinux images and modules of the selection.
// Bytes: the ELF header, the section headers and names, the .symtab records and their names (labels and __crc_
// symbols are found by a pass over them), the __ksymtab* and __kcrctab* sections, the REL/RELA sections that apply
// to them, the exported names and namespaces, and the text written (a file without export tables: the headers and
// section names only). Items: exports.
// Usage: elfsieve_bench_symvers [google-benchmark flags] [--files=F1,F2,...]; defaults to bench_files.hpp's
// selection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/kernel/symvers.hpp"
#include "elfsieve/read.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;

[[nodiscard]] bool is_export_table_name(std::string_view name) noexcept {
  return name == "__ksymtab" || name == "__ksymtab_gpl" || name == "__kcrctab" || name == "__kcrctab_gpl";
}

template <elf_layout L>
void add_export_reads(const file<L>& f, const section_table<L>& sections, touched_bytes& t) {
  add_headers(f, sections, t);
  add_section_names(sections, t);
  // Without __ksymtab or __ksymtab_gpl, read_export_table stops after looking for them by name.
  const auto has_exports = sections.find("__ksymtab") || sections.find("__ksymtab_gpl");
  if (!has_exports) return;
  add_sections(sections, {elf::SHT_SYMTAB}, t);
  add_symbol_names(sections, elf::SHT_SYMTAB, t);
  for (auto s : sections) {
    auto name = sections.name(s);
    if (name && is_export_table_name(*name))
      if (auto data = sections.data(s)) t.add(f.bytes(), *data);
    if (s.type() != elf::SHT_REL && s.type() != elf::SHT_RELA) continue;
    if (!sections.contains(section_index(s.info()))) continue;
    auto target = sections.name(sections[section_index(s.info())]);
    if (target && is_export_table_name(*target))
      if (auto data = sections.data(s)) t.add(f.bytes(), *data);
  }
}

template <elf_layout L>
result<std::uint64_t> symvers_of(const file<L>& f, std::string_view column, std::string& out) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  ELFSIEVE_TRY(auto table, kernel::read_export_table(f, sections));
  kernel::sort_modpost_order(table);
  const std::string_view module = table.linked ? std::string_view("vmlinux") : column;
  for (const auto& x : table.exports) kernel::append_symvers_line(out, x, module);
  return table.exports.size();
}

void bench_symvers(benchmark::State& state, const input* in) {
  const std::string column = fs::path(in->path).stem().string();
  touched_bytes touched;
  std::string text;
  const bool counted = count_touched(state, in->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_export_reads(f, sections, touched);
    ELFSIEVE_TRY(const auto table, kernel::read_export_table(f, sections));
    for (const auto& x : table.exports) touched.bytes += x.name.size() + x.name_space.size();
    return {};
  });
  if (!counted) return;
  std::uint64_t exports = 0;
  for (auto _ : state) {
    text.clear();
    auto n = visit(in->bytes(), [&](const auto& f) { return symvers_of(f, column, text); });
    if (!n) return fail(state, n.error().message);
    exports = n.value();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["exports"] = static_cast<double>(exports);
  set_rates(state, touched.bytes + text.size(), exports);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const auto inputs = load_inputs(bench_files(argc, argv, args));
  for (const auto& in : inputs) benchmark::RegisterBenchmark(("symvers/" + in->label).c_str(), bench_symvers, in.get());
  return run_benchmarks(args);
}
