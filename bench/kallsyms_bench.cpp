// elfsieve-kallsyms' work, step by step, on the corpus vmlinux images and (when corpus/regenerate cached it) Debian's
// 45 MB ppc64le vmlinux: System.map from the image (nm -n | mksysmap), generate() (scripts/kallsyms' selection,
// order and token compression), the .S text, and the three together.
// Bytes: system_map reads the ELF header, the section headers and names, the .symtab records and their names;
// generate reads the names of the System.map entries (in the image); assembly writes the .S text; all counts the
// System.map reads plus the text. Items: symbols (the .symtab's for system_map, the kallsyms table's otherwise).
// Usage: elfsieve_bench_kallsyms [google-benchmark flags] [--files=F1,F2,...] (given files use --all-symbols
// --base-relative, and --absolute-percpu where that is needed to stay in range, as x86_64 does).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/kallsyms_generate.hpp"
#include "elfsieve/kernel/system_map.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;
using namespace elfsieve::kernel;

struct image {
  std::string path;
  std::string label;
  kallsyms::options options;
};

// The flags scripts/link-vmlinux.sh passes for the configuration `config` (6.1).
kallsyms::options flags_of(const fs::path& config) {
  kallsyms::options o;
  std::ifstream in(config);
  for (std::string line; std::getline(in, line);) {
    if (line == "CONFIG_KALLSYMS_ALL=y") o.all_symbols = true;
    if (line == "CONFIG_KALLSYMS_ABSOLUTE_PERCPU=y") o.absolute_percpu = true;
    if (line == "CONFIG_KALLSYMS_BASE_RELATIVE=y") o.base_relative = true;
  }
  return o;
}

std::vector<image> default_images() {
  const fs::path corpus = fs::path(ELFSIEVE_SOURCE_DIR) / "corpus";
  std::vector<image> out;
  for (const char* arch : {"ppc32", "ppc64", "x86_64-tiny"}) {
    const auto p = corpus / arch / "vmlinux.xz";
    if (!fs::exists(p)) continue;
    auto usable = materialize(p);
    if (!usable.empty()) out.push_back({usable, std::string(arch) + "/vmlinux", flags_of(corpus / arch / "config")});
  }
  // Debian's linux-image-6.1.0-50-powerpc64le: CONFIG_KALLSYMS_ALL is off there, base-relative on.
  const auto debian = corpus / "cache" / "ppc64le" / "boot" / "vmlinux-6.1.0-50-powerpc64le";
  if (fs::exists(debian)) {
    kallsyms::options o;
    o.base_relative = true;
    out.push_back({debian.string(), "debian-ppc64le/vmlinux-6.1.0-50", o});
  }
  return out;
}

enum class step { system_map, generate, assembly, all };

void bench_step(benchmark::State& state, const image& img, step which) {
  auto mapped = mapped_file::open(img.path.c_str());
  if (!mapped) return fail(state, "cannot open file");
  touched_bytes read;
  std::uint64_t symtab_symbols = 0;
  const bool counted = count_touched(state, mapped->bytes(), [&](const auto& f, const auto& sections) -> result<void> {
    add_headers(f, sections, read);
    add_section_names(sections, read);
    add_sections(sections, {elf::SHT_SYMTAB}, read);
    add_symbol_names(sections, elf::SHT_SYMTAB, read);
    if (auto t = find_symbol_table(sections, elf::SHT_SYMTAB)) symtab_symbols = t->size();
    return {};
  });
  if (!counted) return;
  system_map map;
  kallsyms::generation gen;
  std::string text;
  kallsyms::options o = img.options;
  auto prepare = [&]() -> bool {
    if (!read_system_map(mapped->bytes(), o.version, map)) return false;
    if (generate(map, o, gen)) return true;
    o.absolute_percpu = true;  // x86_64 keeps per-cpu symbols absolute
    return generate(map, o, gen).has_value();
  };
  if (!prepare()) return fail(state, "the image has no kallsyms tables with these flags");
  std::uint64_t map_names = 0;
  for (const auto& e : map.entries) map_names += e.name.size();
  for (auto _ : state) {
    bool ok = true;
    if (which == step::system_map || which == step::all)
      ok = read_system_map(mapped->bytes(), o.version, map).has_value();
    if (ok && (which == step::generate || which == step::all)) ok = generate(map, o, gen).has_value();
    if (!ok) return fail(state, "read_system_map or generate failed");
    if (which == step::assembly || which == step::all) {
      text.clear();
      append_assembly(gen, o, text);
    }
    benchmark::DoNotOptimize(text.data());
    benchmark::DoNotOptimize(map.entries.data());
  }
  state.counters["symbols"] = static_cast<double>(gen.tables.num_syms);
  switch (which) {
    case step::system_map: set_rates(state, read.bytes, symtab_symbols); break;
    case step::generate: set_rates(state, map_names, gen.tables.num_syms); break;
    case step::assembly: set_rates(state, text.size(), gen.tables.num_syms); break;
    case step::all: set_rates(state, read.bytes + text.size(), gen.tables.num_syms); break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  std::vector<image> images;
  bool given = false;
  for (int i = 0; i < argc; ++i) given = given || std::string_view(argv[i]).starts_with("--files=");
  if (given) {
    for (const auto& f : bench_files(argc, argv, args)) {
      kallsyms::options o;
      o.all_symbols = o.base_relative = true;
      images.push_back({f, fs::path(f).filename().string(), o});
    }
  } else {
    for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
    images = default_images();
  }
  for (const auto& img : images) {
    benchmark::RegisterBenchmark(("kallsyms_system_map/" + img.label).c_str(), bench_step, img, step::system_map)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("kallsyms_generate/" + img.label).c_str(), bench_step, img, step::generate)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("kallsyms_assembly/" + img.label).c_str(), bench_step, img, step::assembly)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("kallsyms_all/" + img.label).c_str(), bench_step, img, step::all)
        ->Unit(benchmark::kMillisecond);
  }
  return run_benchmarks(args);
}
