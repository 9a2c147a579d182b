// scripts/kallsyms' rules on hand-made System.maps (selection, the sort's tie-breaks, per-cpu symbols, the limits
// and failures), the tables decoding back to the names, and random maps against scripts/kallsyms itself (built
// from Debian's linux-source-6.1 / -6.12 when installed).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/kernel/kallsyms_generate.hpp"
#include "support/kernel_sources.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::kernel;
using namespace elfsieve::kernel::kallsyms;
using namespace elfsieve::test;

namespace {

// A System.map made by hand; the names live in `storage` (reserved, so the views stay valid).
struct hand_map {
  std::vector<std::string> storage;
  system_map map;
  explicit hand_map(bool is64 = true) {
    storage.reserve(100000);
    map.is64 = is64;
  }
  hand_map& add(std::uint64_t address, char type, std::string name) {
    storage.push_back(std::move(name));
    map.entries.push_back({.address = address, .type = type, .name = storage.back()});
    return *this;
  }
};

options opts(kernel_version v, bool all = true, bool percpu = false, bool base = true) {
  options o;
  o.version = v;
  o.all_symbols = all;
  o.absolute_percpu = percpu;
  o.base_relative = v == kernel_version::v6_12 || base;
  return o;
}

std::vector<std::string> names_of(const generation& g) { return {g.names.begin(), g.names.end()}; }

// kallsyms_names decoded with the token table, as the kernel's kallsyms_expand_symbol does: "Tname" per symbol.
std::vector<std::string> decode(const tables& t) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::uint32_t i = 0; i < t.num_syms; ++i) {
    std::size_t len = t.names.at(at++);
    if (len & 0x80) len = (len & 0x7f) | (std::size_t{t.names.at(at++)} << 7);
    std::string s;
    for (std::size_t k = 0; k < len; ++k) s += std::string(t.token_table.data() + t.token_index.at(t.names.at(at++)));
    out.push_back(s);
  }
  CHECK(at == t.names.size());
  return out;
}

}  // namespace

TEST_CASE("kallsyms_generate.sort_tie_breaks", "[kallsyms][kernel]") {
  for (kernel_version v : {kernel_version::v6_1, kernel_version::v6_12}) {
    hand_map m;
    // All at one address, in this input order; the expected order: non-weak first, then not linker-script-like,
    // then fewer leading underscores, then input order.
    m.add(0x1000, 'T', "_stext")
        .add(0x2000, 'W', "weak_one")
        .add(0x2000, 't', "__start_foo")
        .add(0x2000, 'T', "__b")
        .add(0x2000, 'T', "_a")
        .add(0x2000, 'W', "_weak_two")
        .add(0x2000, 'T', "z")
        .add(0x2000, 'T', "__xyz_end")
        .add(0x2000, 'T', "y")
        .add(0x1800, 'T', "before")
        .add(0x3000, 'T', "_etext");
    generation g;
    REQUIRE(generate(m.map, opts(v), g).has_value());
    CHECK(names_of(g) == std::vector<std::string>{"_stext", "before", "z", "y", "_a", "__b", "__start_foo", "__xyz_end",
                                                  "weak_one", "_weak_two", "_etext"});
    CHECK(g.tables.num_syms == 11);
    CHECK(decode(g.tables).at(2) == "Tz");
  }
}

TEST_CASE("kallsyms_generate.text_ranges_without_all_symbols", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x100, 'D', "data_before")
      .add(0x1000, 'T', "_stext")
      .add(0x1100, 'T', "func")
      .add(0x2000, 'T', "_etext")
      .add(0x2000, 'T', "at_etext")  // same address as _etext, another name: left out
      .add(0x2000, 'D', "__start_section")
      .add(0x3000, 'D', "__stop_section")
      .add(0x4000, 'T', "_sinittext")
      .add(0x4010, 't', "init_func")
      .add(0x5000, 'T', "_einittext")
      .add(0x6000, 'B', "bss");
  generation g;
  REQUIRE(generate(m.map, opts(kernel_version::v6_1, false), g).has_value());
  CHECK(names_of(g) == std::vector<std::string>{"_stext", "func", "_etext", "_sinittext", "init_func", "_einittext"});
  // 6.12 keeps every __start_* and __stop_* (the one at _etext's address too).
  REQUIRE(generate(m.map, opts(kernel_version::v6_12, false), g).has_value());
  CHECK(names_of(g) == std::vector<std::string>{"_stext", "func", "_etext", "__start_section", "__stop_section",
                                                "_sinittext", "init_func", "_einittext"});
  // --all-symbols keeps all of them.
  REQUIRE(generate(m.map, opts(kernel_version::v6_1, true), g).has_value());
  CHECK(g.tables.num_syms == 11);
}

TEST_CASE("kallsyms_generate.no_valid_symbol", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x100, 'D', "data");  // no _stext: the text range is 0..0
  generation g;
  auto r = generate(m.map, opts(kernel_version::v6_1, false), g);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::kallsyms_no_valid_symbol);
  // 6.12 goes on with no symbol at all.
  REQUIRE(generate(m.map, opts(kernel_version::v6_12, false), g).has_value());
  CHECK(g.tables.num_syms == 0);
  CHECK(g.tables.markers.empty());
  CHECK(g.tables.token_index.size() == 256);
}

TEST_CASE("kallsyms_generate.ignored_names_and_types", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x1000, 'T', "_stext")
      .add(0x1000, 'R', "kallsyms_names")
      .add(0x1000, 'A', "__gp")     // an absolute symbol the kernel keeps
      .add(0x1000, 'A', "abs_sym")  // absolute: ignored
      .add(0x1000, 'T', "foo_veneer")
      .add(0x1000, 'T', "x.long_branch.y")
      .add(0x1000, 'T', "__kcfi_typeid_f")
      .add(0x1000, 'n', "debug_sym")
      .add(0x1000, 'u', "unique_sym")
      .add(0x2000, 'T', "_etext");
  generation g;
  REQUIRE(generate(m.map, opts(kernel_version::v6_1), g).has_value());
  CHECK(names_of(g) == std::vector<std::string>{"_stext", "__gp", "_etext"});
  // 6.12 leaves the names to scripts/mksysmap and ignores only by type.
  REQUIRE(generate(m.map, opts(kernel_version::v6_12), g).has_value());
  CHECK(names_of(g) == std::vector<std::string>{"kallsyms_names", "foo_veneer", "x.long_branch.y", "_stext", "__gp",
                                                "__kcfi_typeid_f", "_etext"});
}

TEST_CASE("kallsyms_generate.name_length_limit", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x1000, 'T', "_stext").add(0x1001, 'T', std::string(511, 'a')).add(0x1002, 'T', std::string(512, 'b'));
  m.add(0x2000, 'T', "_etext");
  for (kernel_version v : {kernel_version::v6_1, kernel_version::v6_12}) {
    generation g;
    REQUIRE(generate(m.map, opts(v), g).has_value());
    CHECK(g.tables.num_syms == 3);
    REQUIRE(g.too_long.size() == 1);
    CHECK(g.too_long[0] == std::string(512, 'b'));
    // 512 bytes with the type letter before compression; the name decodes back.
    CHECK(decode(g.tables).at(1) == "T" + std::string(511, 'a'));
  }
}

TEST_CASE("kallsyms_generate.undefined_weak_object_line", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0, 'v', "weak_object").add(0x1000, 'T', "_stext").add(0x2000, 'T', "_etext");
  generation g;
  // 6.1's fscanf cannot read the address and skips the line; 6.12 stops.
  REQUIRE(generate(m.map, opts(kernel_version::v6_1), g).has_value());
  CHECK(g.tables.num_syms == 2);
  auto r = generate(m.map, opts(kernel_version::v6_12), g);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::kallsyms_line_format);
  CHECK(r.error().detail == 1u);
}

// A name holding white space (or, for 6.12, a newline) is one scripts/kallsyms would read as two fields: refused
// with its line, wherever the byte is (the test runs 8 bytes at a time, then byte by byte); bytes above 0x80 and
// the other control bytes are no white space.
TEST_CASE("kallsyms_generate.names_the_line_parser_would_split", "[kallsyms][kernel]") {
  for (std::size_t length : {1u, 7u, 8u, 9u, 16u, 23u, 40u}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (const char space : {' ', '\t', '\n', '\v', '\f', '\r', '\x01', '\x1f', '!', '\x80', '\xa0', '\xff'}) {
        std::string name(length, 'x');
        name[at] = space;
        hand_map m;
        m.add(0x1000, 'T', "_stext").add(0x1001, 'T', "before").add(0x1002, 'T', name).add(0x2000, 'T', "_etext");
        for (kernel_version v : {kernel_version::v6_1, kernel_version::v6_12}) {
          const bool splits = v == kernel_version::v6_1
                                  ? std::string_view(" \t\n\v\f\r").find(space) != std::string_view::npos
                                  : space == '\n';
          INFO("length " << length << ", byte " << int(static_cast<unsigned char>(space)) << " at " << at
                         << (v == kernel_version::v6_1 ? ", 6.1" : ", 6.12"));
          generation g;
          auto r = generate(m.map, opts(v), g);
          if (splits) {
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::kallsyms_unsupported_name);
            CHECK(r.error().detail == 3u);
          } else {
            REQUIRE(r.has_value());
            CHECK(g.tables.num_syms == 4);
          }
        }
      }
    }
  }
}

TEST_CASE("kallsyms_generate.percpu_absolute", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x0, 'D', "__per_cpu_start")
      .add(0x10, 'd', "cpu_var")
      .add(0x40, 'D', "__per_cpu_end")
      .add(0x80000000, 'T', "_text")
      .add(0x80000000, 'T', "_stext")
      .add(0x80000100, 'T', "func")
      .add(0x80001000, 'T', "_etext");
  for (kernel_version v : {kernel_version::v6_1, kernel_version::v6_12}) {
    generation g;
    REQUIRE(generate(m.map, opts(v, true, true), g).has_value());
    CHECK(g.types == std::vector<char>{'A', 'A', 'A', 'T', 'T', 'T', 'T'});
    CHECK(g.tables.relative_base == 0x80000000u);
    CHECK(g.tables.offsets == std::vector<std::int32_t>{0, 0x10, 0x40, -1, -1, -0x101, -0x1001});
    CHECK(decode(g.tables).at(1) == "Acpu_var");
    std::string s;
    append_assembly(g, opts(v, true, true), s);
    CHECK(s.find("kallsyms_relative_base:\n\tPTR\t_text + 0\n") != std::string::npos);
    // Without --absolute-percpu every symbol is relative to the lowest address.
    REQUIRE(generate(m.map, opts(v, true, false), g).has_value());
    CHECK(g.tables.relative_base == 0);
    CHECK(g.tables.offsets.back() == static_cast<std::int32_t>(0x80001000u));
  }
}

TEST_CASE("kallsyms_generate.relative_out_of_range", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x1000, 'T', "_stext").add(0x1000, 'T', "_text").add(0x200001000ull, 'T', "far_away");
  generation g;
  auto r = generate(m.map, opts(kernel_version::v6_1, true, false, true), g);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::kallsyms_value_out_of_range);
  CHECK(g.failing_symbol == "far_away");
  CHECK(g.failing_value == 0x200001000ull);
  CHECK_FALSE(g.failing_absolute);
  // Absolute addresses (6.1 without --base-relative) have no range.
  REQUIRE(generate(m.map, opts(kernel_version::v6_1, true, false, false), g).has_value());
  CHECK(g.tables.addresses.back() == 0x200001000ull);
  std::string s;
  append_assembly(g, opts(kernel_version::v6_1, true, false, false), s);
  CHECK(s.find("kallsyms_addresses:\n\tPTR\t_text + 0\n\tPTR\t_text + 0\n\tPTR\t_text + 0x200000000\n") !=
        std::string::npos);
}

TEST_CASE("kallsyms_generate.seqs_of_names_and_lto_clang", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x1000, 'T', "_stext")
      .add(0x1100, 't', "foo.llvm.123")
      .add(0x1200, 't', "foo")
      .add(0x1300, 't', "foo.cold")
      .add(0x2000, 'T', "_etext");
  generation g;
  options o = opts(kernel_version::v6_1);
  REQUIRE(generate(m.map, o, g).has_value());
  // By name: _etext, _stext, foo (2), foo.cold (3), foo.llvm.123 (1).
  CHECK(g.by_name == std::vector<std::uint32_t>{4, 0, 2, 3, 1});
  CHECK(g.tables.seqs_of_names == std::vector<std::uint8_t>{0, 0, 4, 0, 0, 0, 0, 0, 2, 0, 0, 3, 0, 0, 1});
  // --lto-clang compares "foo.llvm.123" as "foo": equal to "foo", then by address.
  o.lto_clang = true;
  REQUIRE(generate(m.map, o, g).has_value());
  CHECK(g.by_name == std::vector<std::uint32_t>{4, 0, 1, 2, 3});
}

TEST_CASE("kallsyms_generate.seqs_of_names_long_common_prefixes", "[kallsyms][kernel]") {
  // Names that agree in their first 8 bytes (the sort's fast key) and differ after, or end there.
  hand_map m;
  m.add(0x1000, 'T', "_stext")
      .add(0x1001, 'T', "abcdefghz")
      .add(0x1002, 'T', "abcdefgh")
      .add(0x1003, 'T', "abcdefg")
      .add(0x1004, 'T', "abcdefghab")
      .add(0x1005, 'T', "abcdefgh")
      .add(0x2000, 'T', "_etext");
  generation g;
  REQUIRE(generate(m.map, opts(kernel_version::v6_1), g).has_value());
  CHECK(g.by_name == std::vector<std::uint32_t>{6, 0, 3, 2, 5, 4, 1});
}

TEST_CASE("kallsyms_generate.tables_decode_to_the_names", "[kallsyms][kernel]") {
  hand_map m;
  m.add(0x1000, 'T', "_stext");
  std::mt19937 random(12);
  for (int i = 0; i < 3000; ++i) {
    std::string name = "sym_";
    const int parts = 1 + static_cast<int>(random() % 4);
    for (int p = 0; p < parts; ++p)
      name += std::vector<std::string>{"read", "write", "_", "lock", "x", "9"}[random() % 6];
    m.add(0x1000 + random() % 4096, "Ttd"[random() % 3], name);
  }
  m.add(0x3000, 'T', "_etext");
  generation g;
  REQUIRE(generate(m.map, opts(kernel_version::v6_12), g).has_value());
  const auto decoded = decode(g.tables);
  REQUIRE(decoded.size() == g.names.size());
  for (std::size_t i = 0; i < decoded.size(); ++i)
    CHECK(decoded[i] == std::string(1, g.types[i]) + std::string(g.names[i]));
  // Every 256th symbol's offset in kallsyms_names.
  CHECK(g.tables.markers.size() == (g.names.size() + 255) / 256);
  CHECK(g.tables.markers.at(0) == 0);
  // Tokens were made (byte codes not used by any name now stand for strings of 2 or more bytes).
  CHECK(g.tables.names.size() < 3000 * 12);
}

// Random maps through scripts/kallsyms itself: many symbols per address, weak and linker-script-like names, a
// per-cpu range, names sharing parts (so the compressor works hard).
TEST_CASE("kallsyms_generate.random_maps_equal_scripts_kallsyms", "[kallsyms][kernel]") {
  for (const std::string version : {"6.1", "6.12"}) {
    const auto scripts = kernel_scripts(version);
    if (scripts.empty()) {
      WARN("/usr/src/linux-source-" << version << ".tar.xz is not installed: random maps not compared for " << version);
      continue;
    }
    // The same binary as tests/tools/kallsyms_reference.sh builds (kernel_sources.hpp).
    const auto dir = scripts.parent_path() / ("kallsyms-" + version);
    std::filesystem::create_directories(dir);
    const auto binary = dir / "kallsyms";
    if (!std::filesystem::exists(binary)) {
      const auto tmp = binary.string() + ".tmp." + std::to_string(::getpid());
      std::vector<std::string> cc = {"cc", "-O2", "-o", tmp, (scripts / "scripts/kallsyms.c").string()};
      if (version != "6.1") cc.insert(cc.begin() + 1, {"-I", (scripts / "scripts/include").string()});
      const auto built = run_process(cc);
      INFO(built.err);
      REQUIRE(built.ok());
      std::filesystem::rename(tmp, binary);
    }
    const kernel_version v = version == "6.1" ? kernel_version::v6_1 : kernel_version::v6_12;
    std::mt19937 random(7);
    const std::vector<std::string> parts = {"_", "__",  "start", "end",    "stop", "lock",     "read", "x",
                                            "q", "do_", ".",     "_start", "_end", "__start_", "cpu",  "9"};
    // Rounds 12 on: names of a two-letter alphabet with long runs of one letter ("aaaaab..."), where tokens of two
    // equal codes must be replaced left to right without overlap, as the kernel's scan does.
    const std::vector<std::string> runs = {"a", "b", "aa", "aaa", "ab", "ba", "bb", "aaaaaaa"};
    for (int round = 0; round < 16; ++round) {
      const bool two_letters = round >= 12;
      hand_map m(round % 2 == 0);
      std::string text;
      const int count = 50 + static_cast<int>(random() % 2000);
      std::uint64_t address = 0x1000;
      auto add = [&](char type, const std::string& name) {
        m.add(address, type, name);
        char line[64];
        std::snprintf(line, sizeof line, m.map.is64 ? "%016llx %c " : "%08llx %c ",
                      static_cast<unsigned long long>(address), type);
        text += line + name + "\n";
      };
      add('D', "__per_cpu_start");
      address += 0x40;
      add('d', "pcpu_var");
      add('D', "__per_cpu_end");
      address = 0x100000;
      add('T', "_text");
      add('T', "_stext");
      for (int i = 0; i < count; ++i) {
        std::string name;
        const int n = 1 + static_cast<int>(random() % (two_letters ? 40 : 5));
        for (int p = 0; p < n; ++p) name += two_letters ? runs[random() % runs.size()] : parts[random() % parts.size()];
        if (name[0] == '.' || name == "_text" || name == "_stext" || name == "_etext") name = "f" + name;
        add("TtWVDdRrBb"[random() % 10], name);  // nm prints 'w' (and 'v', 'U') without an address
        if (random() % 3 == 0) address += random() % 64;
      }
      add('T', "_etext");
      const auto map_path = dir / "System.map";
      std::ofstream(map_path, std::ios::binary) << text;
      for (int flags = 0; flags < 4; ++flags) {
        options o = opts(v, (flags & 1) != 0, (flags & 2) != 0, true);
        std::vector<std::string> argv = {binary.string()};
        if (o.all_symbols) argv.push_back("--all-symbols");
        if (o.absolute_percpu) argv.push_back("--absolute-percpu");
        if (v == kernel_version::v6_1) argv.push_back("--base-relative");
        argv.push_back(map_path.string());
        const auto reference = run_process(argv);
        generation g;
        auto r = generate(m.map, o, g);
        INFO("version " << version << " round " << round << " flags " << flags << ": " << reference.err);
        REQUIRE(r.has_value() == reference.ok());
        if (!r) continue;
        std::string ours;
        append_assembly(g, o, ours);
        CHECK(ours == reference.out);
      }
    }
  }
}
