// Symbol policies: every built-in on built images, compile-time composition, glob `!` negation against GNU
// objcopy --wildcard, corpus-wide results against rules written here and against GNU nm / objcopy --strip-debug,
// and elfsieve-nm --policy / --why. The run-time parser is in policy_expr_test.cpp, glob_match in glob_test.cpp.
#include <catch2/catch.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/corpus.hpp"
#include "support/elf_builder.hpp"
#include "support/policy_image.hpp"
#include "support/oracle.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
using namespace elfsieve::testing;

TEMPLATE_TEST_CASE("policy: every built-in on a built object", "[policy]", elf32le, elf32be, elf64le, elf64be) {
  using L = TestType;
  const auto img = build_policy_image<L>();

  CHECK(matched_names(img, crc_policy{}) == names{"__crc_foo"});
  CHECK(matched_names(img, ksymtab_policy{}) ==
        names{"__ksymtab_foo", "__kstrtab_foo", "__kstrtabns_foo", "__kcrctab_foo"});
  CHECK(matched_names(img, undefs_policy{}) == names{"printk", "maybe"});
  CHECK(matched_names(img, undefs_policy({"printk"})) == names{"__this_module", "maybe"});
  CHECK(matched_names(img, undefs_policy(std::vector<std::string>{})) == names{"printk", "__this_module", "maybe"});
  // kept.c is named by a relocation of .text, which strip keeps; dbgref.c only by one of .debug_info.
  CHECK(matched_names(img, debug_policy{}) == names{"a.c", "dbgref.c", "in_debug", "stab_sym", "global_in_debug"});
  // Without the relocation index the debug policy cannot see that kept.c is needed.
  CHECK(matched_names(img, debug_policy{}, false) ==
        names{"a.c", "kept.c", "dbgref.c", "in_debug", "stab_sym", "global_in_debug"});
  // Exact names: section symbols never match, even when their name is listed.
  CHECK(matched_names(img, names_policy({"foo", "__ksymtab_strings", "nope", "foo", "a,b"})) == names{"foo", "a,b"});
  CHECK(matched_names(img, glob_policy({"__k*"})) ==
        names{"__ksymtab_foo", "__kstrtab_foo", "__kstrtabns_foo", "__kcrctab_foo", "__ksymtab_"});
  CHECK(matched_names(img, glob_policy({"__k*", "!__kstr*", "!*_"})) == names{"__ksymtab_foo", "__kcrctab_foo"});
  CHECK(matched_names(img, glob_policy({"!foo"})).empty());
  CHECK(matched_names(img, glob_policy({})).empty());
  CHECK(matched_names(img, glob_policy({"*.c"})) == names{"a.c", "kept.c", "dbgref.c", "common.c", "g.c", "w.c"});
  CHECK(matched_names(img, predicate([](const auto& c) { return c.named_in_relocation(); })) ==
        names{"kept.c", "dbgref.c", "__ksymtab_strings", "in_debug", "foo", "printk"});
}

TEST_CASE("policy: descriptions are one line each", "[policy]") {
  for (const auto& atom : policy_atoms) {
    CAPTURE(atom.syntax);
    CHECK_FALSE(atom.description.empty());
    CHECK(atom.description.find('\n') == std::string_view::npos);
  }
  CHECK(std::size(policy_atoms) == 6);
  CHECK(predicate([](const auto&) { return true; }, "always").description == "always");
}

TEMPLATE_TEST_CASE("policy: compile-time composition", "[policy]", elf32le, elf64be) {
  using L = TestType;
  const auto img = build_policy_image<L>();
  using namespace elfsieve::policies;
  static_assert(symbol_policy<decltype(crc | ksymtab)>);
  static_assert(symbol_policy<decltype(!(crc & debug) | predicate([](const auto&) { return false; }))>);
  static_assert(std::is_empty_v<crc_policy> && std::is_empty_v<ksymtab_policy> && std::is_empty_v<debug_policy>);
  static_assert(!symbol_policy<int>);

  CHECK(matched_names(img, crc | ksymtab) ==
        names{"__crc_foo", "__ksymtab_foo", "__kstrtab_foo", "__kstrtabns_foo", "__kcrctab_foo"});
  CHECK(matched_names(img, ksymtab & glob_policy({"*foo"}) & !glob_policy({"__kcrc*"})) ==
        names{"__ksymtab_foo", "__kstrtab_foo", "__kstrtabns_foo"});
  // !x matches the section symbols and the null symbol too: composition is plain logic.
  const auto not_crc = matched_names(img, !crc);
  CHECK(not_crc.size() == std::size(policy_image_names::all) + 1 - 1);
  CHECK(std::find(not_crc.begin(), not_crc.end(), "__crc_foo") == not_crc.end());
  auto big = predicate([](const auto& c) { return c.symbol.size() >= 8; }, "at least 8 bytes");
  CHECK(matched_names(img, big) == names{"__ksymtab_foo"});
  CHECK(matched_names(img, big | (debug & glob_policy({"*.c"}))) == names{"a.c", "dbgref.c", "__ksymtab_foo"});
  CHECK(matched_names(img, undefs_policy{} & !glob_policy({"m*"})) == names{"printk"});
  // De Morgan over every symbol.
  CHECK(matched_names(img, !(crc | debug)) == matched_names(img, !crc & !debug));
}

// ---------------------------------------------------------------------------------------------------------------
// glob_policy's `!pattern` against GNU objcopy --wildcard --strip-symbol on a real object.

namespace {

std::filesystem::path policy_work_dir() {
  auto dir = test_work_dir() / "policy";
  std::filesystem::create_directories(dir);
  return dir;
}

// .symtab of `path` as readelf shows it.
std::vector<readelf_symbol> readelf_symtab(const std::filesystem::path& path) {
  const process_result r = run_process({"readelf", "-W", "-S", "-s", path.string()});
  REQUIRE(r.ok());
  const readelf_dump dump = parse_readelf(r.out, elfsieve::test::detail::is_elf64(path));
  REQUIRE(dump.parse_errors.empty());
  for (const auto& t : dump.symbol_tables)
    if (t.name == ".symtab") return t.symbols;
  return {};
}

// Runs `f(file, sections, symtab, index)` on the file at `path` for its layout.
template <class F>
void with_symtab(const std::filesystem::path& path, F&& f) {
  auto mapped = mapped_file::open(path.c_str());
  REQUIRE(mapped);
  auto visited = visit(mapped->bytes(), [&](const auto& file) {
    auto sections = file.sections();
    REQUIRE(sections);
    auto symtab = find_symbol_table(*sections, elf::SHT_SYMTAB);
    if (!symtab && symtab.error().code == errc::not_found) return;
    REQUIRE(symtab);
    auto index = build_reloc_index(*sections);
    REQUIRE(index);
    f(file, sections.value(), symtab.value(), index.value());
  });
  REQUIRE(visited);
}

// .symtab indices of the symbols `policy` matches in the file at `path`.
template <class P>
std::vector<std::uint64_t> matched_indices(const std::filesystem::path& path, const P& policy) {
  std::vector<std::uint64_t> out;
  with_symtab(path, [&](const auto&, const auto& sections, const auto& symtab, const auto& index) {
    for (auto s : symtab) {
      auto c = make_symbol_context(sections, symtab, s, &index);
      REQUIRE(c);
      if (policy(c.value())) out.push_back(s.index().value);
    }
  });
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string key_of(const readelf_symbol& s) { return s.name + " " + std::to_string(s.value) + " " + s.type; }

// The non-section symbols in `before` missing from `after` (as a multiset of "name value type", or of names:
// objcopy rewrites a common symbol's value and type).
std::vector<std::string> removed_names(const std::vector<readelf_symbol>& before,
                                       const std::vector<readelf_symbol>& after, bool by_name = false) {
  std::vector<std::string> b, a, out;
  for (const auto& s : before)
    if (s.num != 0 && s.type != "SECTION") b.push_back(by_name ? s.name : key_of(s));
  for (const auto& s : after)
    if (s.num != 0 && s.type != "SECTION") a.push_back(by_name ? s.name : key_of(s));
  std::sort(b.begin(), b.end());
  std::sort(a.begin(), a.end());
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(out));
  std::vector<std::string> extra;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(extra));
  INFO("symbols that appeared: " << extra.size());
  CHECK(extra.empty());
  return out;
}

}  // namespace

TEST_CASE("glob_policy: ! negation equals GNU objcopy --wildcard --strip-symbol", "[policy][glob][objcopy]") {
  if (!program_available("gcc") || !program_available("objcopy")) {
    WARN("needs gcc and objcopy");
    return;
  }
  const auto dir = policy_work_dir();
  const auto source = dir / "wildcard.c";
  const std::vector<std::string> symbols{"alpha",   "alpine",   "alps", "beta", "bet", "bot", "gamma_1",
                                         "gamma_2", "gamma_10", "x1",   "x22",  "y_",  "yy",  "zeta",
                                         "a_b",     "ab",       "abc",  "q1",   "q2",  "Q3"};
  {
    std::ofstream out(source);
    for (const auto& s : symbols) out << "int " << s << " = 1;\n";
  }
  const auto object = dir / "wildcard.o";
  const auto r = run_process({"gcc", "-c", "-O0", "-fno-common", "-o", object.string(), source.string()});
  REQUIRE(r.ok());

  const std::vector<std::vector<std::string>> rules{
      {"al*", "!alp*"},
      {"!alp*", "al*"},  // order does not matter
      {"[a-b]*", "!b?t", "!a[!l]*"},
      {"gamma_?", "x*", "!x2*"},
      {"!q*"},  // only exclusions: nothing
      {"q[!0-1]", "Q?", "?_"},
      {"[xy]*", "!*[_2]", "z*"},
      {"*", "!*a*", "!*.c"},
  };
  const auto before = readelf_symtab(object);
  for (const auto& patterns : rules) {
    std::string shown;
    for (const auto& p : patterns) shown += p + " ";
    CAPTURE(shown);
    const auto stripped = dir / "wildcard.stripped.o";
    std::vector<std::string> argv{"objcopy", "--wildcard"};
    for (const auto& p : patterns) argv.push_back("--strip-symbol=" + p);
    argv.push_back(object.string());
    argv.push_back(stripped.string());
    const auto o = run_process(argv);
    REQUIRE(o.ok());
    const auto removed = removed_names(before, readelf_symtab(stripped), true);

    std::vector<std::string> matched;
    const glob_policy policy(patterns);
    for (auto i : matched_indices(object, policy)) matched.push_back(before.at(i).name);
    CHECK(sorted(matched) == sorted(removed));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The built-in policies over the corpus, against rules written here and against GNU tools.

namespace {

bool starts_with_longer(std::string_view name, std::string_view prefix) {
  return name.size() > prefix.size() && name.starts_with(prefix);
}

std::string section_name_of(const readelf_dump& dump, const readelf_symbol& s) {
  for (const auto& sec : dump.sections)
    if (std::to_string(sec.index) == s.ndx) return sec.name;
  return s.ndx;  // UND, ABS, COM
}

readelf_dump readelf_sections_and_symbols(const std::filesystem::path& path) {
  const process_result r = run_process({"readelf", "-W", "-S", "-s", "-r", path.string()});
  REQUIRE(r.ok());
  readelf_dump dump = parse_readelf(r.out, elfsieve::test::detail::is_elf64(path));
  REQUIRE(dump.parse_errors.empty());
  return dump;
}

const readelf_symbol_table* symtab_of(const readelf_dump& dump) {
  for (const auto& t : dump.symbol_tables)
    if (t.name == ".symtab") return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("policy: crc and ksymtab over the corpus equal the name and section rules", "[policy][corpus]") {
  REQUIRE_FALSE(corpus_objects().empty());
  std::size_t crcs = 0, exports = 0, section_symbols_named_like_ksymtab = 0;
  for (const auto& object : corpus_objects()) {
    CAPTURE(object.name);
    const readelf_dump dump = readelf_sections_and_symbols(object.path);
    const readelf_symbol_table* symtab = symtab_of(dump);
    if (symtab == nullptr) continue;
    std::vector<std::uint64_t> expected_crc, expected_ksymtab;
    for (const auto& s : symtab->symbols) {
      if (s.num == 0) continue;
      const std::string section = section_name_of(dump, s);
      if (s.type == "SECTION") {
        // readelf shows a section symbol by its section's name: __ksymtab_strings, __ksymtab_gpl, ...
        if (starts_with_longer(s.name, "__ksymtab_") || starts_with_longer(s.name, "__kcrctab_"))
          ++section_symbols_named_like_ksymtab;
        continue;
      }
      if (starts_with_longer(s.name, "__crc_")) {
        CAPTURE(s.name);
        CHECK(section.starts_with("__kcrctab"));  // 6.1: __kcrctab or __kcrctab_gpl
        expected_crc.push_back(s.num);
      }
      const bool ksymtab = starts_with_longer(s.name, "__ksymtab_");
      const bool kstrtab = starts_with_longer(s.name, "__kstrtab_") || starts_with_longer(s.name, "__kstrtabns_");
      if (ksymtab || kstrtab || starts_with_longer(s.name, "__kcrctab_")) {
        CAPTURE(s.name, section);
        if (ksymtab) CHECK((section == "__ksymtab" || section == "__ksymtab_gpl"));
        if (kstrtab) CHECK(section == "__ksymtab_strings");
        expected_ksymtab.push_back(s.num);
      }
    }
    CHECK(matched_indices(object.path, crc_policy{}) == expected_crc);
    CHECK(matched_indices(object.path, ksymtab_policy{}) == expected_ksymtab);
    crcs += expected_crc.size();
    exports += expected_ksymtab.size();
  }
  CHECK(crcs > 1000);
  CHECK(exports > 1000);
  CHECK(section_symbols_named_like_ksymtab > 0);
}

TEST_CASE("policy: ksymtab never matches the __ksymtab_strings section symbol that ppc relocations name",
          "[policy][corpus]") {
  std::size_t seen = 0;
  for (const std::string arch : {"ppc32", "ppc64"}) {
    for (const auto& object : corpus_objects_of(arch)) {
      if (!object.name.ends_with(".ko")) continue;
      CAPTURE(object.name);
      const readelf_dump dump = readelf_sections_and_symbols(object.path);
      // readelf names the relocation's symbol: the section symbol __ksymtab_strings.
      std::size_t named = 0;
      for (const auto& rs : dump.relocation_sections)
        for (const auto& r : rs.relocations)
          if (r.symbol_name == "__ksymtab_strings") ++named;
      if (named == 0) continue;
      const readelf_symbol_table* symtab = symtab_of(dump);
      REQUIRE(symtab != nullptr);
      with_symtab(object.path, [&](const auto&, const auto& sections, const auto& table, const auto& index) {
        for (const auto& rs : symtab->symbols) {
          if (rs.type != "SECTION" || rs.name != "__ksymtab_strings") continue;
          auto s = table[symbol_index(static_cast<std::uint32_t>(rs.num))];
          auto c = make_symbol_context(sections, table, s, &index);
          REQUIRE(c);
          CHECK(c->is_section_symbol());
          CHECK(c->named_in_relocation());
          CHECK_FALSE(ksymtab_policy{}(c.value()));
          CHECK_FALSE(crc_policy{}(c.value()));
          CHECK_FALSE(debug_policy{}(c.value()));
          ++seen;
        }
      });
    }
  }
  CHECK(seen >= 10);
}

TEST_CASE("policy: undefs over the corpus equals nm -u without __this_module", "[policy][corpus]") {
  std::size_t total = 0;
  for (const auto& object : corpus_objects()) {
    CAPTURE(object.name);
    const process_result nm = run_process({"nm", "-u", object.path.string()});
    REQUIRE(nm.started);
    std::vector<std::string> expected;
    std::string_view text = nm.out;
    while (!text.empty()) {
      const auto eol = text.find('\n');
      std::string_view line = text.substr(0, eol);
      text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
      // "                 U name" / "                 w name"
      const auto letter = line.find_first_not_of(' ');
      if (letter == std::string_view::npos || line.size() < letter + 2) continue;
      const std::string name(line.substr(letter + 2));
      if (name != "__this_module") expected.push_back(name);
    }
    std::vector<std::string> actual;
    with_symtab(object.path, [&](const auto&, const auto& sections, const auto& symtab, const auto& index) {
      for (auto s : symtab) {
        auto c = make_symbol_context(sections, symtab, s, &index);
        REQUIRE(c);
        if (undefs_policy{}(c.value())) actual.emplace_back(c->name);
      }
    });
    CHECK(sorted(actual) == sorted(expected));
    total += expected.size();
  }
  CHECK(total > 1000);
}

TEST_CASE("policy: debug equals what GNU strip --strip-debug removes from the corpus", "[policy][corpus][objcopy]") {
  if (!program_available("objcopy")) {
    WARN("needs objcopy");
    return;
  }
  const auto dir = policy_work_dir();
  std::size_t objects = 0, removed_total = 0;
  for (const auto& object : corpus_objects()) {
    const readelf_dump dump = readelf_sections_and_symbols(object.path);
    const bool has_debug_info = std::any_of(dump.sections.begin(), dump.sections.end(),
                                            [](const readelf_section& s) { return s.name == ".debug_info"; });
    if (!has_debug_info) continue;
    CAPTURE(object.name);
    ++objects;
    const readelf_symbol_table* symtab = symtab_of(dump);
    REQUIRE(symtab != nullptr);
    const auto stripped = dir / (object.arch + "-" + object.path.filename().string() + ".stripped");
    const auto r = run_process({"objcopy", "--strip-debug", object.path.string(), stripped.string()});
    REQUIRE(r.ok());
    const auto removed = removed_names(symtab->symbols, readelf_symtab(stripped));
    std::filesystem::remove(stripped);

    std::vector<std::string> matched;
    for (auto i : matched_indices(object.path, debug_policy{})) matched.push_back(key_of(symtab->symbols.at(i)));
    std::sort(matched.begin(), matched.end());
    CHECK(matched == removed);
    removed_total += removed.size();
  }
  // ppc32, ppc64 and x86_64-tiny modules carry DWARF.
  CHECK(objects >= 30);
  CHECK(removed_total > 100);
}

TEMPLATE_TEST_CASE("policy: debug equals GNU strip --strip-debug on a built object", "[policy][objcopy]", elf32le,
                   elf32be, elf64le, elf64be) {
  if (!program_available("objcopy")) {
    WARN("needs objcopy");
    return;
  }
  using L = TestType;
  const auto img = build_policy_image<L>();
  const auto dir = policy_work_dir();
  const std::string stem = std::string(L::is64 ? "64" : "32") + (L::endianness == std::endian::little ? "le" : "be");
  const auto object = dir / ("debug-" + stem + ".o");
  const auto stripped = dir / ("debug-" + stem + ".stripped.o");
  {
    std::ofstream out(object, std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.image.bytes.data()),
              static_cast<std::streamsize>(img.image.bytes.size()));
  }
  const auto r = run_process({"objcopy", "--strip-debug", object.string(), stripped.string()});
  INFO(r.err);
  REQUIRE(r.ok());
  const auto before = readelf_symtab(object);
  const auto removed = removed_names(before, readelf_symtab(stripped), true);
  std::vector<std::string> matched;
  for (auto i : matched_indices(object, debug_policy{})) matched.push_back(before.at(i).name);
  std::sort(matched.begin(), matched.end());
  CHECK(matched == removed);
  CHECK(removed.size() == 5);
}

// ---------------------------------------------------------------------------------------------------------------
// elfsieve-nm --policy / --why.

#ifdef ELFSIEVE_NM_PATH

namespace {

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    out.emplace_back(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  }
  return out;
}

std::string_view name_of_nm_line(std::string_view line) {
  const auto space = line.rfind(' ');
  return space == std::string_view::npos ? line : line.substr(space + 1);
}

}  // namespace

TEST_CASE("elfsieve-nm --policy lists what GNU nm lists, filtered by the policy", "[policy][nm]") {
  std::size_t listed = 0;
  for (const auto& object : corpus_objects()) {
    if (!object.name.ends_with(".ko")) continue;
    CAPTURE(object.name);
    const auto gnu = run_process({"nm", object.path.string()});
    REQUIRE(gnu.ok());
    std::vector<std::string> expected;
    for (const auto& line : lines_of(gnu.out)) {
      const auto name = name_of_nm_line(line);
      if (starts_with_longer(name, "__crc_") || starts_with_longer(name, "__ksymtab_") ||
          starts_with_longer(name, "__kstrtab_") || starts_with_longer(name, "__kstrtabns_") ||
          starts_with_longer(name, "__kcrctab_"))
        expected.push_back(line);
    }
    const auto ours = run_process({ELFSIEVE_NM_PATH, "--policy=crc,ksymtab", object.path.string()});
    CHECK(ours.status == 0);
    CHECK(ours.err.empty());
    CHECK(lines_of(ours.out) == expected);
    listed += expected.size();

    // --why: the same lines, each followed by a tab and the alternative that matched.
    const auto why = run_process({ELFSIEVE_NM_PATH, "--policy=crc, ksymtab", "--why", object.path.string()});
    CHECK(why.status == 0);
    const auto why_lines = lines_of(why.out);
    REQUIRE(why_lines.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const bool crc = name_of_nm_line(expected[i]).starts_with("__crc_");
      CHECK(why_lines[i] == expected[i] + (crc ? "\t[crc]" : "\t[ksymtab]"));
    }

    // undefs: nm -u without __this_module.
    const auto gnu_u = run_process({"nm", "-u", object.path.string()});
    std::vector<std::string> expected_u;
    for (const auto& line : lines_of(gnu_u.out))
      if (name_of_nm_line(line) != "__this_module") expected_u.push_back(line);
    const auto ours_u = run_process({ELFSIEVE_NM_PATH, "--policy=undefs", object.path.string()});
    CHECK(ours_u.status == 0);
    CHECK(lines_of(ours_u.out) == expected_u);
  }
  CHECK(listed > 1000);
}

TEST_CASE("elfsieve-nm --policy: debug lists file symbols, names: reads files, other options still apply",
          "[policy][nm]") {
  const auto dir = policy_work_dir();
  const auto object = corpus_dir() / "ppc32" / "crc8.ko";
  // debug: the STT_FILE symbols nm shows only with -a.
  const auto gnu_a = run_process({"nm", "-a", object.string()});
  REQUIRE(gnu_a.ok());
  std::vector<std::string> expected;
  for (const auto& line : lines_of(gnu_a.out))
    if (line.find(" a ") != std::string::npos) expected.push_back(line);  // the STT_FILE symbols
  REQUIRE_FALSE(expected.empty());
  const auto debug = run_process({ELFSIEVE_NM_PATH, "--policy=debug", object.string()});
  CHECK(debug.status == 0);
  CHECK(lines_of(debug.out) == expected);

  // names:FILE, with -g and -p still in force.
  const auto list = dir / "names.txt";
  {
    std::ofstream out(list);
    out << "# two names\ncrc8\n  crc8_populate_lsb \n__kstrtab_crc8\nnot_there\n";
  }
  const auto names_run = run_process({ELFSIEVE_NM_PATH, "--policy=names:" + list.string(), object.string()});
  CHECK(names_run.status == 0);
  const auto names_lines = lines_of(names_run.out);
  REQUIRE(names_lines.size() == 3);
  CHECK(name_of_nm_line(names_lines[0]) == "__kstrtab_crc8");
  CHECK(name_of_nm_line(names_lines[1]) == "crc8");
  const auto extern_only =
      run_process({ELFSIEVE_NM_PATH, "-g", "--policy=names:" + list.string() + "|crc", "--why", object.string()});
  CHECK(extern_only.status == 0);
  for (const auto& line : lines_of(extern_only.out)) {
    CAPTURE(line);
    CHECK(line.find(" T ") != std::string::npos);
    CHECK(line.ends_with("\t[names:" + list.string() + "]"));
  }
  CHECK(lines_of(extern_only.out).size() == 2);
}

TEST_CASE("elfsieve-nm --policy: a malformed expression exits 2 and points at the position", "[policy][nm]") {
  const auto object = (corpus_dir() / "ppc32" / "crc8.ko").string();
  struct bad {
    std::string expression;
    std::string message;
    std::size_t position;
  };
  const bad cases[] = {
      {"crc,(ksymtab", "expected ')'", 12},
      {"crc,foo", "unknown policy name", 4},
      {"crc,", "expected a policy name", 4},
      {"crc ksymtab", "unexpected character", 4},
      {"name:", "empty argument", 5},
      {"debug&names:/nonexistent/list", "cannot read names file '/nonexistent/list'", 6},
  };
  for (const bad& b : cases) {
    CAPTURE(b.expression);
    const auto r = run_process({ELFSIEVE_NM_PATH, "--policy=" + b.expression, object});
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    const auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find("--policy: ") != std::string::npos);
    CHECK(lines[0].find(b.message) != std::string::npos);
    CHECK(lines[0].ends_with(" at position " + std::to_string(b.position) + ":"));
    CHECK(lines[1] == "  " + b.expression);
    CHECK(lines[2] == std::string(2 + b.position, ' ') + "^");
  }
  const auto why_alone = run_process({ELFSIEVE_NM_PATH, "--why", object});
  CHECK(why_alone.status == 2);
  CHECK(why_alone.err.find("--why needs --policy") != std::string::npos);

  const auto help = run_process({ELFSIEVE_NM_PATH, "--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--policy=EXPR") != std::string::npos);
  for (const auto& atom : policy_atoms) {
    CAPTURE(atom.syntax);
    CHECK(help.out.find(std::string(atom.description)) != std::string::npos);
  }
}

#endif  // ELFSIEVE_NM_PATH
