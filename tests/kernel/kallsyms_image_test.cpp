// The kallsyms tables embedded in a kernel image, decoded: on every corpus vmlinux (ppc32 BE 32-bit, ppc64 BE,
// x86_64 with absolute per-cpu symbols) each decoded symbol is in the build's own System.map (nm -n | mksysmap of
// the real build) with the same address and type letter, in address order, num_syms of them; the same image
// stripped of .symtab (GNU strip) decodes to the identical tables by scanning; layouts no corpus image has (6.12's
// table order, 6.1 without --base-relative) are laid out from real tables and found both ways; malformed tables
// are errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/kernel/kallsyms_image.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/kallsyms_layout.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
namespace ks = elfsieve::kernel::kallsyms;

namespace {

struct corpus_kernel {
  std::string arch;
  std::filesystem::path vmlinux;     // decompressed copy
  std::filesystem::path system_map;  // the build's own
};

std::vector<corpus_kernel> corpus_kernels() {
  std::vector<corpus_kernel> out;
  for (const auto& o : corpus_objects())
    if (o.name == o.arch + "/vmlinux") out.push_back({o.arch, o.path, corpus_dir() / o.arch / "System.map"});
  return out;
}

// System.map: name -> every (address, letter) it is listed with.
std::map<std::string, std::set<std::pair<std::uint64_t, char>>> read_system_map_file(const std::filesystem::path& p) {
  std::map<std::string, std::set<std::pair<std::uint64_t, char>>> out;
  std::ifstream in(p);
  std::string address;
  std::string type;
  std::string name;
  while (in >> address >> type >> name) out[name].insert({std::stoull(address, nullptr, 16), type[0]});
  return out;
}

ks::image_tables decode(std::span<const std::byte> bytes) {
  auto image = ks::read_image_tables(bytes);
  if (!image) FAIL(to_string(image.error()));
  return std::move(image.value());
}

ks::listing expand(const ks::image_tables& image) {
  auto l = ks::expand_symbols(image);
  if (!l) FAIL(to_string(l.error()));
  return std::move(l.value());
}

void require_same_tables(const ks::tables& a, const ks::tables& b) {
  CHECK(a.base_relative == b.base_relative);
  CHECK(a.num_syms == b.num_syms);
  CHECK(a.names == b.names);
  CHECK(a.markers == b.markers);
  CHECK(a.seqs_of_names == b.seqs_of_names);
  CHECK(a.token_table == b.token_table);
  CHECK(a.token_index == b.token_index);
  CHECK(a.offsets == b.offsets);
  CHECK(a.relative_base == b.relative_base);
  CHECK(a.addresses == b.addresses);
  CHECK_FALSE(ks::first_difference(a, b).has_value());
}

std::string proc_kallsyms(const ks::listing& l) {
  std::string out;
  ks::append_proc_kallsyms(out, l);
  return out;
}

}  // namespace

TEST_CASE("kallsyms_image.corpus_listing_is_the_builds_system_map", "[kallsyms]") {
  const auto kernels = corpus_kernels();
  REQUIRE(kernels.size() >= 3);
  for (const auto& k : kernels) {
    INFO(k.arch);
    const auto bytes = read_bytes(k.vmlinux);
    const auto image = decode(bytes);
    CHECK(image.found_by_symbols);
    const auto listing = expand(image);
    REQUIRE(listing.size() == image.contents.num_syms);
    REQUIRE(listing.size() > 10000);
    const auto map = read_system_map_file(k.system_map);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < listing.size(); ++i) {
      const std::string name(listing.name(i));
      const auto it = map.find(name);
      bool found = false;
      if (it != map.end()) {
        for (const auto& [address, type] : it->second)
          // --absolute-percpu writes per-cpu symbols as 'A' (scripts/kallsyms make_percpus_absolute).
          found = found || (address == listing.addresses[i] &&
                            (type == listing.types[i] || (image.inferred.absolute_percpu && listing.types[i] == 'A')));
      }
      if (!found && ++mismatches <= 5) WARN(k.arch << ": not in System.map: " << name << " " << listing.types[i]);
      if (i > 0) CHECK(listing.addresses[i] >= listing.addresses[i - 1]);
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("kallsyms_image.options_inferred_from_the_corpus_images", "[kallsyms]") {
  for (const auto& k : corpus_kernels()) {
    INFO(k.arch);
    const auto bytes = read_bytes(k.vmlinux);
    const auto image = decode(bytes);
    CHECK(image.inferred.version == ks::kernel_version::v6_1);  // Debian's 6.1.192 sources
    CHECK(image.inferred.base_relative);
    CHECK(image.inferred.all_symbols);  // CONFIG_KALLSYMS_ALL
    // CONFIG_KALLSYMS_ABSOLUTE_PERCPU is X86_64 && SMP.
    CHECK(image.inferred.absolute_percpu == (k.arch == "x86_64-tiny"));
    CHECK(image.word_bytes == (k.arch == "ppc32" ? 4 : 8));
    CHECK(image.big_endian == (k.arch != "x86_64-tiny"));
  }
  // Debian's ppc64le vmlinux: base-relative, CONFIG_KALLSYMS_ALL off (its _etext is 'D' but at the text range's end).
  const auto debian = corpus_cache_dir() / "ppc64le/boot/vmlinux-6.1.0-50-powerpc64le";
  if (!std::filesystem::exists(debian)) {
    WARN("SKIPPED: " << debian << " is not in the cache (corpus/regenerate fetches it)");
    return;
  }
  const auto bytes = read_bytes(debian);
  const auto image = decode(bytes);
  CHECK(image.inferred.base_relative);
  CHECK_FALSE(image.inferred.all_symbols);
  CHECK_FALSE(image.inferred.absolute_percpu);
  CHECK(image.contents.num_syms == 39178);
}

TEST_CASE("kallsyms_image.stripped_image_decodes_identically_by_scanning", "[kallsyms]") {
  if (!program_available("strip")) {
    WARN("SKIPPED: GNU strip is not installed");
    return;
  }
  for (const auto& k : corpus_kernels()) {
    INFO(k.arch);
    const auto stripped = test_work_dir() / "kallsyms_image" / (k.arch + "-stripped");
    std::filesystem::create_directories(stripped.parent_path());
    const auto r = run_process({"strip", "-s", "-o", stripped.string(), k.vmlinux.string()});
    REQUIRE(r.ok());
    const auto original_bytes = read_bytes(k.vmlinux);
    const auto stripped_bytes = read_bytes(stripped);
    const auto original = decode(original_bytes);
    const auto scanned = decode(stripped_bytes);
    CHECK_FALSE(scanned.found_by_symbols);
    require_same_tables(original.contents, scanned.contents);
    CHECK(original.address == scanned.address);
    CHECK(original.inferred.version == scanned.inferred.version);
    CHECK(original.inferred.absolute_percpu == scanned.inferred.absolute_percpu);
    CHECK(original.inferred.all_symbols == scanned.inferred.all_symbols);
    CHECK(proc_kallsyms(expand(original)) == proc_kallsyms(expand(scanned)));
  }
}

namespace {

// Lays out `image`'s tables in `version`'s order inside a small image of layout L, with and without symbols, and
// checks that both decode to the same tables, found the expected way, and list the same symbols.
template <elf_layout L>
void check_relaid(const ks::image_tables& image, ks::kernel_version version, std::uint64_t address) {
  const std::string expected = proc_kallsyms(expand(image));
  for (bool symbols : {true, false}) {
    INFO("symbols " << symbols);
    const auto elf = testing::kallsyms_elf<L>(image.contents, version, address, symbols);
    const auto relaid = decode(elf.span());
    CHECK(relaid.found_by_symbols == symbols);
    CHECK(relaid.inferred.version == version);
    CHECK(relaid.inferred.base_relative == image.contents.base_relative);
    if (image.contents.base_relative) CHECK(relaid.inferred.absolute_percpu == image.inferred.absolute_percpu);
    CHECK(relaid.inferred.all_symbols == image.inferred.all_symbols);
    require_same_tables(image.contents, relaid.contents);
    CHECK(proc_kallsyms(expand(relaid)) == expected);
  }
}

}  // namespace

TEST_CASE("kallsyms_image.v6_12_table_order_by_symbols_and_by_scanning", "[kallsyms]") {
  for (const auto& k : corpus_kernels()) {
    INFO(k.arch);
    const auto bytes = read_bytes(k.vmlinux);
    const auto image = decode(bytes);
    if (k.arch == "ppc32") check_relaid<elf32be>(image, ks::kernel_version::v6_12, 0xc0200000);
    else if (k.arch == "ppc64") check_relaid<elf64be>(image, ks::kernel_version::v6_12, 0xc000000000200000);
    else check_relaid<elf64le>(image, ks::kernel_version::v6_12, 0xffffffff81600000);
  }
}

TEST_CASE("kallsyms_image.absolute_addresses_without_base_relative", "[kallsyms]") {
  for (const auto& k : corpus_kernels()) {
    INFO(k.arch);
    const auto bytes = read_bytes(k.vmlinux);
    auto image = decode(bytes);
    const auto listing = expand(image);
    // What scripts/kallsyms 6.1 writes without --base-relative: kallsyms_addresses, the addresses themselves.
    image.contents.base_relative = false;
    image.contents.addresses = listing.addresses;
    image.contents.offsets.clear();
    image.contents.relative_base = 0;
    image.inferred.absolute_percpu = false;
    if (k.arch == "ppc32") check_relaid<elf32be>(image, ks::kernel_version::v6_1, 0xc0200000);
    else if (k.arch == "ppc64") check_relaid<elf64be>(image, ks::kernel_version::v6_1, 0xc000000000200000);
    else check_relaid<elf64le>(image, ks::kernel_version::v6_1, 0xffffffff81600000);
  }
}

TEST_CASE("kallsyms_image.proc_kallsyms_lines", "[kallsyms]") {
  ks::listing l;
  l.word_bytes = 4;
  const std::string names = "_textempty_is_skippedfoo";
  l.chars.assign(names.begin(), names.end());
  l.name_starts = {0, 5, 5, 21, 24};
  l.addresses = {0xc0000000, 0xc0000004, 0xc0000008, 0xc000000c};
  l.types = {'T', 't', 'd', 'D'};
  // Nameless symbols are skipped as s_show does.
  CHECK(proc_kallsyms(l) == "c0000000 T _text\nc0000008 d empty_is_skipped\nc000000c D foo\n");
  l.word_bytes = 8;
  CHECK(proc_kallsyms(l).substr(0, 22) == "00000000c0000000 T _te");
}

namespace {

// Small valid tables: symbols "Tfoo", "tbar", "Dbaz" with one token per character.
ks::tables small_tables() {
  ks::tables t;
  t.base_relative = true;
  std::array<std::string, 256> tokens;
  for (char c : std::string("Tfootbarbaz")) tokens[static_cast<unsigned char>(c)] = std::string(1, c);
  tokens['D'] = "D";
  std::uint16_t at = 0;
  for (std::size_t i = 0; i < 256; ++i) {
    t.token_index.push_back(at);
    t.token_table.insert(t.token_table.end(), tokens[i].begin(), tokens[i].end());
    t.token_table.push_back('\0');
    at = static_cast<std::uint16_t>(at + tokens[i].size() + 1);
  }
  for (std::string s : {"Tfoo", "tbar", "Dbaz"}) {
    t.names.push_back(static_cast<std::uint8_t>(s.size()));
    for (char c : s) t.names.push_back(static_cast<std::uint8_t>(c));
  }
  t.num_syms = 3;
  t.markers = {0};
  t.seqs_of_names = {0, 0, 1, 0, 0, 2, 0, 0, 0};  // bar, baz, foo
  t.offsets = {0, 0x10, 0x20};
  t.relative_base = 0xc0001000;
  return t;
}

}  // namespace

TEST_CASE("kallsyms_image.small_tables_decode", "[kallsyms]") {
  const ks::tables t = small_tables();
  REQUIRE(ks::check_tables(t));
  auto l = ks::expand_symbols(t, false, 4);
  REQUIRE(l);
  CHECK(proc_kallsyms(*l) == "c0001000 T foo\nc0001010 t bar\nc0001020 D baz\n");
  for (auto version : {ks::kernel_version::v6_1, ks::kernel_version::v6_12}) {
    for (bool symbols : {true, false}) {
      const auto elf = testing::kallsyms_elf<elf32le>(t, version, 0xc0100000, symbols);
      const auto image = decode(elf.span());
      CHECK(image.found_by_symbols == symbols);
      CHECK(image.inferred.version == version);
      CHECK(image.inferred.all_symbols);
      require_same_tables(t, image.contents);
    }
  }
}

TEST_CASE("kallsyms_image.malformed_tables_are_errors", "[kallsyms]") {
  auto code_of = [](const ks::tables& t) { return ks::check_tables(t).error().code; };
  {
    ks::tables t = small_tables();
    t.names[5] = 0;  // an empty entry
    CHECK(code_of(t) == errc::kallsyms_bad_names);
    CHECK_FALSE(ks::expand_symbols(t, false, 4));
  }
  {
    ks::tables t = small_tables();
    t.names[0] = 0x7f;  // runs past the table
    CHECK(code_of(t) == errc::kallsyms_bad_names);
  }
  {
    ks::tables t = small_tables();
    t.names.push_back(1);  // bytes after the last entry
    CHECK(code_of(t) == errc::kallsyms_bad_names);
  }
  {
    ks::tables t = small_tables();
    t.markers = {1};
    CHECK(code_of(t) == errc::kallsyms_bad_markers);
  }
  {
    ks::tables t = small_tables();
    t.token_index[7] = 0xffff;
    CHECK(code_of(t) == errc::kallsyms_bad_token_table);
    t = small_tables();
    t.token_table.back() = 'x';  // the last token is no longer terminated
    CHECK(code_of(t) == errc::kallsyms_bad_token_table);
  }
  {
    ks::tables t = small_tables();
    t.seqs_of_names[2] = 3;
    CHECK(code_of(t) == errc::kallsyms_bad_seqs_of_names);
  }
  {
    ks::tables t = small_tables();
    t.offsets.pop_back();
    CHECK(code_of(t) == errc::kallsyms_bad_offsets);
  }
  // An image without tables, and every truncation of one with them: an error or a decode, never a crash.
  const auto plain = testing::elf_builder<elf64le>().build();
  CHECK(ks::read_image_tables(plain.span()).error().code == errc::kallsyms_not_found);
  for (bool symbols : {true, false}) {
    auto elf = testing::kallsyms_elf<elf64be>(small_tables(), ks::kernel_version::v6_1, 0x1000, symbols, 8, 0);
    const auto full = elf.bytes;
    for (std::size_t size = 0; size < full.size(); size += 7) {
      const std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size));
      auto image = ks::read_image_tables(cut);
      if (image) (void)ks::expand_symbols(*image);
    }
    // A huge kallsyms_num_syms is refused before anything is allocated for it.
    if (symbols) {
      const auto image = decode(elf.span());
      const auto count_at = elf.section_offsets.at(1) + (image.address[3] - 0x1000);
      elf.bytes.at(count_at) = std::byte{0x7f};
      CHECK(ks::read_image_tables(elf.span()).error().code == errc::kallsyms_bad_num_syms);
    }
  }
}

TEST_CASE("kallsyms_image.first_difference_names_the_table_and_symbol", "[kallsyms]") {
  const ks::tables a = small_tables();
  ks::tables b = a;
  CHECK_FALSE(ks::first_difference(a, b));
  b.offsets[1] = 0x11;
  auto d = ks::first_difference(a, b);
  REQUIRE(d);
  CHECK(d->table == ks::table_id::offsets);
  CHECK(d->symbol == 1u);
  b = a;
  b.names[7] = 'x';  // in "tbar"
  d = ks::first_difference(a, b);
  REQUIRE(d);
  CHECK(d->table == ks::table_id::names);
  CHECK(d->symbol == 1u);
  b = a;
  b.token_table[b.token_index['f']] = 'g';
  d = ks::first_difference(a, b);
  REQUIRE(d);
  CHECK(d->table == ks::table_id::token_table);
  CHECK(d->position == b.token_index['f']);
  b = a;
  b.num_syms = 2;
  CHECK(ks::first_difference(a, b)->table == ks::table_id::num_syms);
  b = a;
  b.relative_base += 4;
  CHECK(ks::first_difference(a, b)->table == ks::table_id::relative_base);
  b = a;
  b.seqs_of_names[5] = 1;
  d = ks::first_difference(a, b);
  REQUIRE(d);
  CHECK(d->table == ks::table_id::seqs_of_names);
  CHECK(d->position == 1u);
}
