// GNU nm's listing rules: filter_symbols, the special-symbol rule, the sort orders, print_value and the version
// suffix, on hand-made cases; then list_nm_symbols against GNU nm itself on corpus objects and on a shared library
// with versioned symbols compiled here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "elfsieve/analysis/nm_listing.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "support/corpus.hpp"
#include "support/process.hpp"
#include "support/test_objects.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

nm_symbol symbol(nm_place place, std::uint16_t flags, char type, std::uint64_t value = 0) {
  return nm_symbol{value, flags, place, type};
}

nm_row row(const char* name, nm_place place = nm_place::section, std::uint64_t value = 0, std::uint32_t index = 0) {
  return nm_row{value, name, symbol_index(index), nm_flags::global, place, place == nm_place::undefined ? 'U' : 'T'};
}

// The BSD lines GNU nm prints for a listing (the tool's format, written again here).
std::string format(const nm_listing& listing) {
  std::string s;
  const int width = listing.is64 ? 16 : 8;
  for (const nm_row& r : listing.rows) {
    const nm_entry e = listing.entry(r);
    if (e.info.undefined_class()) s.append(static_cast<std::size_t>(width), ' ');
    else append_nm_value(s, e.info.value, width, 16);
    s.append(1, ' ').append(1, e.info.type).append(1, ' ');
    s.append(e.printed_name).append(e.version_separator).append(e.version).append("\n");
  }
  return s;
}

std::string listed(const std::filesystem::path& path, const nm_options& options) {
  auto mapped = mapped_file::open(path.c_str());
  REQUIRE(mapped);
  nm_listing listing;
  list_nm_symbols(mapped->bytes(), options, listing);
  REQUIRE(listing.state == nm_listing::status::listed);
  return format(listing);
}

}  // namespace

TEST_CASE("nm_listing: filter_symbols", "[nm][nm_listing]") {
  const auto local_func = symbol(nm_place::section, nm_flags::local | nm_flags::function, 't');
  const auto global_func = symbol(nm_place::section, nm_flags::global | nm_flags::function, 'T');
  const auto weak = symbol(nm_place::section, nm_flags::weak, 'W');
  const auto unique = symbol(nm_place::section, nm_flags::gnu_unique, 'u');
  const auto common = symbol(nm_place::common, 0, 'C');
  const auto undefined = symbol(nm_place::undefined, 0, 'U');
  const auto file = symbol(nm_place::absolute, nm_flags::local | nm_flags::file_sym | nm_flags::debugging, 'a');
  const auto section = symbol(nm_place::section, nm_flags::local | nm_flags::section_sym | nm_flags::debugging, 't');

  const nm_filter plain;
  for (const auto& s : {local_func, global_func, weak, unique, common, undefined}) CHECK(nm_shows(s, plain));
  CHECK_FALSE(nm_shows(file, plain));
  CHECK_FALSE(nm_shows(section, plain));

  nm_filter all;
  all.debug_syms = true;
  CHECK(nm_shows(file, all));
  CHECK(nm_shows(section, all));

  nm_filter with_files;  // elfsieve-nm --policy: file symbols are candidates, section symbols are not
  with_files.file_symbols = true;
  CHECK(nm_shows(file, with_files));
  CHECK_FALSE(nm_shows(section, with_files));

  nm_filter extern_only;
  extern_only.extern_only = true;
  CHECK_FALSE(nm_shows(local_func, extern_only));
  for (const auto& s : {global_func, weak, unique, common, undefined}) CHECK(nm_shows(s, extern_only));

  nm_filter undefined_only;
  undefined_only.undefined_only = true;
  undefined_only.extern_only = true;  // -u wins over -g
  CHECK(nm_shows(undefined, undefined_only));
  CHECK_FALSE(nm_shows(global_func, undefined_only));
  CHECK_FALSE(nm_shows(common, undefined_only));

  nm_filter defined_only;
  defined_only.defined_only = true;
  CHECK_FALSE(nm_shows(undefined, defined_only));
  CHECK(nm_shows(common, defined_only));

  nm_filter no_weak;
  no_weak.no_weak = true;
  CHECK_FALSE(nm_shows(weak, no_weak));
  CHECK(nm_shows(global_func, no_weak));
}

TEST_CASE("nm_listing: ARM and AArch64 special symbols", "[nm][nm_listing]") {
  CHECK(is_special_symbol(elf::EM_ARM, "$a"));
  CHECK(is_special_symbol(elf::EM_ARM, "$t.cold"));
  CHECK(is_special_symbol(elf::EM_ARM, "$x"));
  CHECK_FALSE(is_special_symbol(elf::EM_ARM, "$ab"));
  CHECK_FALSE(is_special_symbol(elf::EM_ARM, "$A"));
  CHECK_FALSE(is_special_symbol(elf::EM_ARM, "$"));
  CHECK_FALSE(is_special_symbol(elf::EM_ARM, "a$"));
  for (const char* name : {"$x", "$d", "$m", "$f", "$p", "$x.42"}) CHECK(is_special_symbol(elf::EM_AARCH64, name));
  CHECK_FALSE(is_special_symbol(elf::EM_AARCH64, "$a"));
  CHECK_FALSE(is_special_symbol(elf::EM_AARCH64, "$t"));
  CHECK_FALSE(is_special_symbol(elf::EM_X86_64, "$x"));
}

TEST_CASE("nm_listing: sort orders", "[nm][nm_listing]") {
  CHECK(nm_compare_names("", "", false) == 0);
  CHECK(nm_compare_names("", "a", false) < 0);
  CHECK(nm_compare_names("a", "", false) > 0);
  CHECK(nm_compare_names("B", "a", false) < 0);  // strcmp: upper case first
  CHECK(nm_compare_names("ab", "a", false) > 0);

  // Two symbols named "dup" keep their table order (indices 1 and 2) in every order, reversed or not.
  const std::vector<nm_row> table = {row("dup", nm_place::section, 0x20, 1),  row("dup", nm_place::section, 0x20, 2),
                                     row("zeta", nm_place::section, 0x10, 3), row("alpha", nm_place::section, 0x30, 4),
                                     row("undef", nm_place::undefined, 0, 5), row("", nm_place::section, 0x40, 6)};
  nm_sort_scratch scratch;
  auto sorted = [&](nm_sort sort, bool reverse) {
    auto list = table;
    sort_nm_rows(list, nm_order{sort, reverse, false}, scratch);
    std::vector<std::string> out;
    for (const auto& e : list) out.push_back(std::string(e.name) + "#" + std::to_string(e.index.value));
    return out;
  };
  using v = std::vector<std::string>;
  CHECK(sorted(nm_sort::by_name, false) == v{"#6", "alpha#4", "dup#1", "dup#2", "undef#5", "zeta#3"});
  CHECK(sorted(nm_sort::by_name, true) == v{"zeta#3", "undef#5", "dup#1", "dup#2", "alpha#4", "#6"});
  CHECK(sorted(nm_sort::by_value, false) == v{"undef#5", "zeta#3", "dup#1", "dup#2", "alpha#4", "#6"});
  CHECK(sorted(nm_sort::by_value, true) == v{"#6", "alpha#4", "dup#1", "dup#2", "zeta#3", "undef#5"});
  CHECK(sorted(nm_sort::none, true) == v{"dup#1", "dup#2", "zeta#3", "alpha#4", "undef#5", "#6"});
  // By value, equal values fall back to the name.
  CHECK(nm_compare_values(row("b", nm_place::section, 1), row("a", nm_place::section, 1), false) > 0);
  CHECK(nm_compare_values(row("a", nm_place::undefined), row("b", nm_place::undefined), false) < 0);
}

TEST_CASE("nm_listing: the radix and prefix sorts give qsort's stable order", "[nm][nm_listing]") {
  // nm.c sorts with qsort (a stable merge sort in glibc) and numeric_forward / non_numeric_forward, reversed by
  // negating them. sort_nm_rows must give exactly std::stable_sort's order with those comparators on tables that
  // stress its paths: large equal-value runs whose names share long prefixes (the kernel's __kstrtabns_ labels),
  // names that differ only after 8 bytes, empty names, undefined symbols, values spread over all 64 bits.
  std::mt19937_64 random(15);
  std::vector<std::string> pool = {
      "",          "a", "__kstrtabns_", "__kstrtabns_a", "__kstrtabns_ab", "__kstrtab_x", "abcdefgh", "abcdefghi",
      "abcdefgh1", "B", "zz",           "\xff\x01"};
  for (int i = 0; i < 400; ++i) pool.push_back("__kstrtabns_sym" + std::to_string(random() % 1000));
  nm_sort_scratch scratch;
  for (const std::size_t count : {std::size_t{2}, std::size_t{50}, std::size_t{1000}, std::size_t{20000}}) {
    std::vector<nm_row> table;
    for (std::size_t i = 0; i < count; ++i) {
      const auto r = random();
      const nm_place place = r % 7 == 0 ? nm_place::undefined : nm_place::section;
      std::uint64_t value = (r >> 8) % 3 == 0 ? 0xc000000000000000u + ((r >> 16) % 64) : (r >> 3);
      if ((r >> 40) % 5 == 0) value = 0xc00000000110a5d8u;
      table.push_back(row(pool[(r >> 20) % pool.size()].c_str(), place, value, static_cast<std::uint32_t>(i + 1)));
    }
    for (const nm_sort sort : {nm_sort::by_value, nm_sort::by_name}) {
      for (const bool reverse : {false, true}) {
        auto expected = table;
        const int sign = reverse ? -1 : 1;
        std::stable_sort(expected.begin(), expected.end(), [&](const nm_row& a, const nm_row& b) {
          const int c =
              sort == nm_sort::by_value ? nm_compare_values(a, b, false) : nm_compare_names(a.name, b.name, false);
          return c * sign < 0;
        });
        auto got = table;
        sort_nm_rows(got, nm_order{sort, reverse, false}, scratch);
        std::vector<std::uint32_t> want_order, got_order;
        for (const auto& r : expected) want_order.push_back(r.index.value);
        for (const auto& r : got) got_order.push_back(r.index.value);
        INFO(count << " rows, " << (sort == nm_sort::by_value ? "-n" : "by name") << (reverse ? " -r" : ""));
        CHECK(got_order == want_order);
      }
    }
  }
}

TEST_CASE("nm_listing: print_value in each radix", "[nm][nm_listing]") {
  auto value = [](std::uint64_t v, int width, int radix) {
    std::string s = "|";
    append_nm_value(s, v, width, radix);
    return s;
  };
  CHECK(value(0xff, 16, 16) == "|00000000000000ff");
  CHECK(value(0xff, 8, 16) == "|000000ff");
  CHECK(value(0x123456789, 8, 16) == "|123456789");  // wider than the width: every digit
  CHECK(value(8, 8, 8) == "|00000010");
  CHECK(value(0xffffffffffffffffu, 16, 8) == "|1777777777777777777777");
  CHECK(value(42, 16, 10) == "|0000000000000042");
  CHECK(value(0xffffffffffffffffu, 16, 10) == "|-000000000000001");  // PRId64: signed
  CHECK(value(0, 0, 16) == "|0");
}

TEST_CASE("nm_listing: list_nm_symbols equals GNU nm on corpus objects", "[nm][nm_listing][corpus]") {
  struct option_set {
    std::vector<std::string> args;
    nm_options options;
  };
  std::vector<option_set> sets(6);
  sets[1].args = {"-n"};
  sets[1].options.order.sort = nm_sort::by_value;
  sets[2].args = {"-r", "-a"};
  sets[2].options.order.reverse = true;
  sets[2].options.filter.debug_syms = true;
  sets[3].args = {"-u"};
  sets[3].options.filter.undefined_only = true;
  sets[4].args = {"-g", "--defined-only"};
  sets[4].options.filter.extern_only = sets[4].options.filter.defined_only = true;
  sets[5].args = {"-p"};
  sets[5].options.order.sort = nm_sort::none;
  for (const char* object : {"x86_64/loop.ko", "ppc64/crc8.ko", "i386/mii.ko", "ppc32/fat.ko"}) {
    const auto path = corpus_dir() / object;
    for (const auto& set : sets) {
      std::vector<std::string> argv = {"nm"};
      argv.insert(argv.end(), set.args.begin(), set.args.end());
      argv.push_back(path.string());
      const auto gnu = run_process(argv);
      REQUIRE(gnu.ok());
      INFO(object << " " << set.args.size() << " options: " << (set.args.empty() ? "" : set.args[0]));
      CHECK(listed(path, set.options) == gnu.out);
    }
  }
}

TEST_CASE("nm_listing: version suffixes equal GNU nm -D", "[nm][nm_listing]") {
  const auto dir = test_work_dir() / "nm_listing";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "v.c") << "#include <stdio.h>\n"
                                "int old_foo(void) { return 1; }\n"
                                "int new_foo(void) { return puts(\"x\"); }\n"
                                "int plain(void) { return 3; }\n"
                                "__asm__(\".symver old_foo,foo@VERS_1\");\n"
                                "__asm__(\".symver new_foo,foo@@VERS_2\");\n";
  std::ofstream(dir / "v.map") << "VERS_1 { global: plain; foo; local: *; };\nVERS_2 { global: foo; } VERS_1;\n";
  const auto so = dir / "libv.so";
  auto cc = run_process({"gcc", "-shared", "-fPIC", "-o", so.string(), (dir / "v.c").string(),
                         "-Wl,--version-script=" + (dir / "v.map").string()});
  INFO(cc.err);
  REQUIRE(cc.ok());
  nm_options options;
  options.dynamic = true;
  const std::string ours = listed(so, options);
  CHECK(ours == run_process({"nm", "-D", so.string()}).out);
  CHECK(ours.find(" T foo@VERS_1\n") != std::string::npos);   // hidden: one @
  CHECK(ours.find(" T foo@@VERS_2\n") != std::string::npos);  // the default version
  CHECK(ours.find(" A VERS_1\n") != std::string::npos);       // a version's own symbol has no suffix
  CHECK(ours.find(" U puts@GLIBC_") != std::string::npos);    // needed from another object: one @
  options.with_versions = false;
  const std::string bare = listed(so, options);
  CHECK(bare == run_process({"nm", "-D", "--without-symbol-versions", so.string()}).out);
  CHECK(bare.find(" T foo\n") != std::string::npos);
  CHECK(bare.find('@') == std::string::npos);
  // Each system library: GNU nm -D and the listing agree.
  for (const char* lib : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6"}) {
    if (!std::filesystem::exists(lib)) continue;
    INFO(lib);
    nm_options dynamic;
    dynamic.dynamic = true;
    CHECK(listed(lib, dynamic) == run_process({"nm", "-D", lib}).out);
  }
}

TEST_CASE("nm_listing: states of files nm does not list", "[nm][nm_listing]") {
  nm_listing listing;
  const std::string text = "not an ELF file at all, but long enough for the identification bytes";
  list_nm_symbols(std::as_bytes(std::span(text.data(), text.size())), nm_options{}, listing);
  CHECK(listing.state == nm_listing::status::unrecognized);
  auto mapped = mapped_file::open((corpus_dir() / "x86_64/crc8.ko").c_str());
  REQUIRE(mapped);
  nm_options dynamic;
  dynamic.dynamic = true;  // a module has no .dynsym
  list_nm_symbols(mapped->bytes(), dynamic, listing);
  CHECK(listing.state == nm_listing::status::no_symbols);
  CHECK(listing.rows.empty());
  list_nm_symbols(mapped->bytes(), nm_options{}, listing);
  CHECK(listing.state == nm_listing::status::listed);
  CHECK(listing.is64);
  CHECK(!listing.rows.empty());
  CHECK_FALSE(listing.relocations_error.has_value());
}
