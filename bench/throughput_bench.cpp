// P4 of issue 15: in-process throughput of elfsieve's core pipeline over a whole corpus, next to this machine's
// memcpy bandwidth over exactly the same bytes, measured in the same run.
//
//   pipeline/<set>  for every file: detect the layout and open it (file<L>::create), read the section table,
//                   build the relocation-reference index (reloc_index::build), then evaluate the policy
//                   "crc,ksymtab" (parsed once, as the tools' --policy does) on every symbol of every symbol table
//                   (make_symbol_context with the index, then the policy).
//   memcpy/<set>    for every file: one memcpy per byte range below, from the mapped file into one buffer (sized
//                   for the largest file and reused, as the pipeline reuses nothing but the page cache either).
//
// "Bytes touched" (both benchmarks' SetBytesProcessed, the same number): per file, the sum of these ranges:
//   - the ELF header and the section header table;
//   - the data of every SHT_REL and SHT_RELA section (the index reads every record, twice);
//   - the data of every SHT_SYMTAB and SHT_DYNSYM section (every symbol record is read);
//   - the data of each of those tables' string table, which stands for the symbols' names: every name is read up to
//     its NUL by the policy, and the names/strtab counter (name bytes read with their NULs / string table bytes) is
//     above 1 on the corpus (empty and shared names are read again), so this undercounts what the pipeline reads.
// Not counted, though the pipeline reads them: section names (none is read by crc,ksymtab) and the index's own
// arrays. Items: symbols evaluated. ratio = pipeline bytes_per_second / memcpy bytes_per_second; the goal in
// issue 15 is >= 0.25.
//
// Sets: `corpus` is every ELF object committed under corpus/<arch>/ (deps/ included; .ko.xz and vmlinux.xz
// decompressed once into the build tree); `cache` (only when corpus/cache is present) is every amd64 module of
// Debian's 6.1 image in the cache plus its 45 MB ppc64le vmlinux. --files=F1,F2,... replaces both with one set,
// `files`.
// Usage: elfsieve_bench_throughput [google-benchmark flags] [--files=F1,F2,...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.hpp"
#include "elfsieve/read.hpp"
#include "touched.hpp"

namespace {

using namespace elfsieve;

struct corpus_file {
  std::unique_ptr<input> in;
  touched_bytes touched;
  std::uint64_t name_bytes = 0;  // the symbols' names with their NULs, as the policy reads them
};

struct corpus_set {
  std::string name;
  std::vector<corpus_file> files;
  std::uint64_t bytes = 0;
  std::uint64_t name_bytes = 0;
  std::uint64_t strtab_bytes = 0;
  std::size_t largest = 0;
};

[[nodiscard]] bool is_elf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 4 && std::memcmp(magic,
                                         "\x7f"
                                         "ELF",
                                         4) == 0;
}

std::vector<std::string> committed_corpus() {
  const fs::path corpus = fs::path(ELFSIEVE_SOURCE_DIR) / "corpus";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& arch : fs::directory_iterator(corpus, ec)) {
    if (!arch.is_directory() || arch.path().filename() == "cache") continue;
    for (const auto& e : fs::recursive_directory_iterator(arch.path(), ec)) {
      if (!e.is_regular_file()) continue;
      const std::string name = e.path().filename().string();
      if (name.ends_with(".ko.xz") || name == "vmlinux.xz") {
        auto usable = materialize(e.path());
        if (!usable.empty()) files.push_back(usable);
      } else if (e.path().extension() != ".xz" && is_elf(e.path())) {
        files.push_back(e.path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> cache_corpus() {
  const fs::path cache = fs::path(ELFSIEVE_SOURCE_DIR) / "corpus" / "cache";
  std::vector<std::string> files;
  std::error_code ec;
  const fs::path vmlinux = cache / "ppc64le" / "boot" / "vmlinux-6.1.0-50-powerpc64le";
  if (fs::is_regular_file(vmlinux, ec)) files.push_back(vmlinux.string());
  const fs::path modules = cache / "x86_64" / "lib" / "modules";
  if (fs::is_directory(modules, ec))
    for (const auto& e : fs::recursive_directory_iterator(modules, ec))
      if (e.is_regular_file() && e.path().extension() == ".ko") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

corpus_set load_set(std::string name, const std::vector<std::string>& paths) {
  corpus_set set{std::move(name), {}, 0, 0, 0, 0};
  for (auto& in : load_inputs(paths)) {
    corpus_file f{std::move(in), {}, 0};
    auto measured = visit(f.in->bytes(), [&](const auto& elf) -> result<void> {
      ELFSIEVE_TRY(const auto sections, elf.sections());
      add_headers(elf, sections, f.touched);
      add_sections(sections, {elf::SHT_REL, elf::SHT_RELA, elf::SHT_SYMTAB, elf::SHT_DYNSYM}, f.touched);
      const std::uint64_t before = f.touched.bytes;
      add_symbol_string_tables(sections, elf::SHT_SYMTAB, f.touched);
      add_symbol_string_tables(sections, elf::SHT_DYNSYM, f.touched);
      set.strtab_bytes += f.touched.bytes - before;
      touched_bytes names;
      add_symbol_names(sections, elf::SHT_SYMTAB, names);
      add_symbol_names(sections, elf::SHT_DYNSYM, names);
      f.name_bytes = names.bytes;
      return {};
    });
    if (!measured) {
      std::fprintf(stderr, "bench: %s: %s (left out)\n", f.in->path.c_str(), to_string(measured.error()).c_str());
      continue;
    }
    set.bytes += f.touched.bytes;
    set.name_bytes += f.name_bytes;
    set.largest = std::max<std::size_t>(set.largest, f.touched.bytes);
    set.files.push_back(std::move(f));
  }
  return set;
}

struct pipeline_counts {
  std::uint64_t symbols = 0;
  std::uint64_t matched = 0;
  std::uint64_t relocations = 0;
};

template <elf_layout L>
result<void> run_pipeline(const file<L>& f, const policy_expr& policy, pipeline_counts& counts) {
  ELFSIEVE_TRY(const auto sections, f.sections());
  ELFSIEVE_TRY(const auto ix, build_reloc_index(sections));
  counts.relocations += ix.relocation_count();
  for (auto s : sections) {
    if (s.type() != elf::SHT_SYMTAB && s.type() != elf::SHT_DYNSYM) continue;
    ELFSIEVE_TRY(const auto symbols, symbol_table<L>::create(sections, s.index()));
    for (auto sym : symbols) {
      ELFSIEVE_TRY(const auto c, make_symbol_context(sections, symbols, sym, &ix));
      counts.matched += policy(c) ? 1u : 0u;
    }
    counts.symbols += symbols.size();
  }
  return {};
}

void bench_pipeline(benchmark::State& state, const corpus_set* set) {
  auto policy = policy_expr::parse("crc,ksymtab");
  if (!policy) return fail(state, policy.error().message);
  pipeline_counts counts;
  for (auto _ : state) {
    counts = {};
    for (const auto& f : set->files) {
      auto done = visit(f.in->bytes(), [&](const auto& elf) { return run_pipeline(elf, policy.value(), counts); });
      if (!done) return fail(state, done.error().message);
    }
    benchmark::DoNotOptimize(counts);
  }
  state.counters["files"] = static_cast<double>(set->files.size());
  state.counters["bytes_touched"] = static_cast<double>(set->bytes);
  state.counters["relocations"] = static_cast<double>(counts.relocations);
  state.counters["matched"] = static_cast<double>(counts.matched);
  state.counters["names/strtab"] =
      set->strtab_bytes == 0 ? 0.0 : static_cast<double>(set->name_bytes) / static_cast<double>(set->strtab_bytes);
  set_rates(state, set->bytes, counts.symbols);
}

void bench_memcpy(benchmark::State& state, const corpus_set* set) {
  std::vector<std::byte> buffer(std::max<std::size_t>(set->largest, 1));
  std::uint64_t symbols = 0;
  for (const auto& f : set->files) {
    auto counted = visit(f.in->bytes(), [&](const auto& elf) -> result<void> {
      ELFSIEVE_TRY(const auto sections, elf.sections());
      for (auto s : sections)
        if (s.type() == elf::SHT_SYMTAB || s.type() == elf::SHT_DYNSYM)
          if (auto t = symbol_table_at(sections, s.index())) symbols += t->size();
      return {};
    });
    if (!counted) return fail(state, counted.error().message);
  }
  for (auto _ : state) {
    for (const auto& f : set->files) {
      const std::byte* source = f.in->bytes().data();
      std::byte* out = buffer.data();
      for (const byte_range& r : f.touched.ranges) {
        std::memcpy(out, source + r.offset, r.size);
        out += r.size;
      }
      benchmark::ClobberMemory();
    }
  }
  state.counters["files"] = static_cast<double>(set->files.size());
  state.counters["bytes_touched"] = static_cast<double>(set->bytes);
  set_rates(state, set->bytes, symbols);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  bool given = false;
  for (int i = 0; i < argc; ++i) given = given || std::string_view(argv[i]).starts_with("--files=");
  std::vector<std::unique_ptr<corpus_set>> sets;
  if (given) {
    sets.push_back(std::make_unique<corpus_set>(load_set("files", bench_files(argc, argv, args))));
  } else {
    for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
    sets.push_back(std::make_unique<corpus_set>(load_set("corpus", committed_corpus())));
    if (auto cache = cache_corpus(); !cache.empty())
      sets.push_back(std::make_unique<corpus_set>(load_set("cache", cache)));
  }
  // Interleaved per set, so that both benchmarks of a set see the same state of the machine and the page cache.
  for (const auto& set : sets) {
    benchmark::RegisterBenchmark(("pipeline/" + set->name).c_str(), bench_pipeline, set.get())
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("memcpy/" + set->name).c_str(), bench_memcpy, set.get())
        ->Unit(benchmark::kMillisecond);
  }
  return run_benchmarks(args);
}
