// Symbol policies: every built-in on built images, compile-time composition, the run-time parser (precedence,
// escapes, errors with their positions), glob_match against POSIX fnmatch(3), glob `!` negation against GNU
// objcopy --wildcard, corpus-wide results against rules written here and against GNU nm / objcopy --strip-debug,
// and elfsieve-nm --policy / --why.
#include <catch2/catch.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/corpus.hpp"
#include "support/elf_builder.hpp"
#include "support/oracle.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
using namespace elfsieve::testing;

namespace {

// ---------------------------------------------------------------------------------------------------------------
// A small object with one symbol of every kind a policy distinguishes.

struct policy_image_names {
  static constexpr const char* all[] = {
      "a.c",                // 1  local FILE, ABS
      "kept.c",             // 2  local FILE in .text, named by a relocation of .text (strip keeps it)
      "dbgref.c",           // 3  local FILE in .text, named only by a relocation of .debug_info
      "__ksymtab_strings",  // 4  section symbol of __ksymtab_strings, with a name
      "__crc_fake",         // 5  section symbol of .data named like a CRC
      "__crc_foo",          // 6  CRC
      "__crc_",             // 7  bare prefix
      "__ksymtab_foo",      // 8
      "__kstrtab_foo",      // 9
      "__kstrtabns_foo",    // 10
      "__kcrctab_foo",      // 11
      "__ksymtab_",         // 12 bare prefix
      "in_debug",           // 13 local in .debug_info
      "alloc_debug",        // 14 local in an SHF_ALLOC .debug_alloc (strip keeps it)
      "stab_sym",           // 15 local in .stab
      "common.c",           // 16 local FILE, SHN_COMMON
      "g.c",                // 17 global FILE
      "w.c",                // 18 weak FILE
      "global_in_debug",    // 19 global in .debug_info
      "foo",                // 20 global in .text
      "printk",             // 21 undefined
      "__this_module",      // 22 undefined
      "maybe",              // 23 weak undefined
      "a,b",                // 24 global in .data, for escapes
      "x)y",                // 25
      "sp ace",             // 26
  };
};

template <elf_layout L>
struct policy_image {
  elf_image<L> image;
  std::uint32_t symtab = 0;
};

template <elf_layout L>
policy_image<L> build_policy_image() {
  elf_builder<L> b;
  const auto text =
      static_cast<std::uint16_t>(b.add_progbits(".text", byte_vector(32), elf::SHF_ALLOC | elf::SHF_EXECINSTR));
  const auto data =
      static_cast<std::uint16_t>(b.add_progbits(".data", byte_vector(32), elf::SHF_ALLOC | elf::SHF_WRITE));
  const auto strings = static_cast<std::uint16_t>(
      b.add_progbits("__ksymtab_strings", byte_vector(16), elf::SHF_ALLOC | elf::SHF_MERGE | elf::SHF_STRINGS));
  const auto debug_info = static_cast<std::uint16_t>(b.add_progbits(".debug_info", byte_vector(16), 0));
  const auto debug_alloc = static_cast<std::uint16_t>(b.add_progbits(".debug_alloc", byte_vector(16), elf::SHF_ALLOC));
  const auto stab = static_cast<std::uint16_t>(b.add_progbits(".stab", byte_vector(16), 0));
  const auto& n = policy_image_names::all;
  auto st = b.add_symbols({
      {n[0], 0, 0, elf::STB_LOCAL, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[1], 4, 0, elf::STB_LOCAL, elf::STT_FILE, 0, text},
      {n[2], 8, 0, elf::STB_LOCAL, elf::STT_FILE, 0, text},
      {n[3], 0, 0, elf::STB_LOCAL, elf::STT_SECTION, 0, strings},
      {n[4], 0, 0, elf::STB_LOCAL, elf::STT_SECTION, 0, data},
      {n[5], 0, 4, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
      {n[6], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
      {n[7], 0, 8, elf::STB_LOCAL, elf::STT_OBJECT, 0, data},
      {n[8], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, strings},
      {n[9], 4, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, strings},
      {n[10], 8, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, data},
      {n[11], 12, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, data},
      {n[12], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, debug_info},
      {n[13], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, debug_alloc},
      {n[14], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, stab},
      {n[15], 4, 4, elf::STB_LOCAL, elf::STT_FILE, 0, elf::SHN_COMMON},
      {n[16], 0, 0, elf::STB_GLOBAL, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[17], 0, 0, elf::STB_WEAK, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[18], 4, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, debug_info},
      {n[19], 0, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
      {n[20], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[21], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[22], 0, 0, elf::STB_WEAK, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[23], 16, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
      {n[24], 20, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
      {n[25], 24, 4, elf::STB_GLOBAL, elf::STT_OBJECT, 0, data},
  });
  // Type 1 is a word-sized absolute relocation on every default machine (R_386_32, R_X86_64_64, R_PPC_ADDR32,
  // R_PPC64_ADDR32), so GNU objcopy reads these.
  b.add_relocs(".rela.text", {{0, 2, 1, 0}, {8, 21, 1, 0}, {16, 20, 1, 0}}, true, st.symtab, text);
  b.add_relocs(".rela__ksymtab_strings", {{0, 4, 1, 0}}, true, st.symtab, strings);
  b.add_relocs(".rela.debug_info", {{0, 3, 1, 0}, {4, 13, 1, 0}}, true, st.symtab, debug_info);
  policy_image<L> out;
  out.symtab = st.symtab;
  out.image = b.build();
  return out;
}

// Names of the symbols of `image` that `policy` matches, in table order.
template <elf_layout L, class P>
std::vector<std::string> matched_names(const policy_image<L>& img, const P& policy, bool with_index = true) {
  std::vector<std::string> out;
  auto f = img.image.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto symbols = symbol_table<L>::create(*sections, section_index(img.symtab));
  REQUIRE(symbols);
  auto index = reloc_index<L>::build(*sections);
  REQUIRE(index);
  for (auto s : *symbols) {
    auto c = make_symbol_context(*sections, *symbols, s, with_index ? &index.value() : nullptr);
    REQUIRE(c);
    if (policy(c.value())) out.emplace_back(c->name);
  }
  return out;
}

using names = std::vector<std::string>;

// Parses `text` with names: files served from memory.
result<policy_expr> parse_with(std::string_view text) {
  return policy_expr::parse(text, [](std::string_view path) -> result<std::string> {
    if (path == "exports.txt") return std::string("# exported\n  foo  \nprintk\n\n__crc_foo # trailing\n");
    if (path == "a,b") return std::string("a,b\n");
    error e = make_error(errc::io_error);
    e.sys_errno = 2;
    return e;
  });
}

}  // namespace

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
  CHECK(matched_names(img, debug_policy{}) ==
        names{"a.c", "dbgref.c", "in_debug", "stab_sym", "global_in_debug"});
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

TEMPLATE_TEST_CASE("policy_expr: atoms, precedence, parentheses, escapes, blanks", "[policy]", elf64le, elf32be) {
  using L = TestType;
  const auto img = build_policy_image<L>();
  auto run = [&](std::string_view text) {
    auto p = parse_with(text);
    INFO(text);
    REQUIRE(p);
    CHECK(p->text() == text);
    return matched_names(img, p.value());
  };
  CHECK(run("crc") == matched_names(img, crc_policy{}));
  CHECK(run("ksymtab") == matched_names(img, ksymtab_policy{}));
  CHECK(run("undefs") == matched_names(img, undefs_policy{}));
  CHECK(run("debug") == matched_names(img, debug_policy{}));
  CHECK(run("crc,ksymtab") == matched_names(img, policies::crc | policies::ksymtab));
  CHECK(run("crc|ksymtab") == run("crc,ksymtab"));
  // & binds tighter than , and |; ! tighter than &.
  CHECK(run("crc,ksymtab&name:__kstr*") == names{"__crc_foo", "__kstrtab_foo", "__kstrtabns_foo"});
  CHECK(run("(crc,ksymtab)&name:__kstr*") == names{"__kstrtab_foo", "__kstrtabns_foo"});
  CHECK(run("!crc&ksymtab") == matched_names(img, ksymtab_policy{}));
  CHECK(run("!(crc,ksymtab)&name:__*") == names{"__crc_", "__ksymtab_", "__this_module"});
  CHECK(run("!!crc") == run("crc"));
  CHECK(run("  crc ,\tksymtab & name:__kstr* ") == run("crc,ksymtab&name:__kstr*"));
  CHECK(run("( ( crc ) )") == run("crc"));
  // A GLOB runs to the next unescaped operator; backslashes escape; inner blanks stay.
  CHECK(run("name:a\\,b") == names{"a,b"});
  CHECK(run("name:x\\)y") == names{"x)y"});
  CHECK(run("name:sp ace") == names{"sp ace"});
  CHECK(run("name:sp\\ ace") == names{"sp ace"});
  CHECK(run("name:foo ,crc") == names{"__crc_foo", "foo"});
  CHECK(run("name:\\a\\,b|crc") == names{"__crc_foo", "a,b"});
  CHECK(run("name:[!_]*&!debug&!undefs") ==
        names{"kept.c", "alloc_debug", "common.c", "g.c", "w.c", "foo", "a,b", "x)y", "sp ace"});
  CHECK(run("names:exports.txt") == names{"__crc_foo", "foo", "printk"});
  CHECK(run("names:exports.txt&!undefs") == names{"__crc_foo", "foo"});
  CHECK(run("names:a\\,b") == names{"a,b"});
}

TEMPLATE_TEST_CASE("policy_expr: why names the alternative that matched", "[policy]", elf64le, elf32le) {
  using L = TestType;
  const auto img = build_policy_image<L>();
  auto f = img.image.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto symbols = symbol_table<L>::create(*sections, section_index(img.symtab));
  REQUIRE(symbols);
  auto why = [&](std::string_view text, std::string_view name) {
    auto p = parse_with(text);
    REQUIRE(p);
    for (auto s : *symbols) {
      auto c = make_symbol_context(*sections, *symbols, s);
      REQUIRE(c);
      if (c->name == name && !c->is_section_symbol()) return std::string(p->why(c.value()));
    }
    FAIL("no symbol " << name);
    return std::string();
  };
  CHECK(why("crc,ksymtab", "__crc_foo") == "crc");
  CHECK(why("crc,ksymtab", "__kstrtab_foo") == "ksymtab");
  CHECK(why("crc,ksymtab", "foo").empty());
  CHECK(why(" crc , ksymtab ", "__kstrtab_foo") == "ksymtab");
  CHECK(why("crc|ksymtab,undefs", "printk") == "undefs");
  CHECK(why("name:__k*&!name:__kstr*, crc", "__ksymtab_foo") == "name:__k*&!name:__kstr*");
  CHECK(why("(crc,ksymtab)&name:*foo", "__crc_foo") == "(crc,ksymtab)&name:*foo");
  CHECK(why("(crc,ksymtab),undefs", "__crc_foo") == "crc");  // alternatives inside parentheses too
  CHECK(why("ksymtab,name:*foo", "__ksymtab_foo") == "ksymtab");  // the first that holds
  CHECK(why("name:a\\,b,crc", "a,b") == "name:a\\,b");
}

TEST_CASE("policy_expr: errors name their position and code", "[policy]") {
  struct bad {
    std::string_view text;
    errc code;
    std::uint64_t offset;
  };
  const bad cases[] = {
      {"", errc::policy_expected_name, 0},
      {"   ", errc::policy_expected_name, 3},
      {"crc,", errc::policy_expected_name, 4},
      {"crc,,ksymtab", errc::policy_expected_name, 4},
      {"crc&", errc::policy_expected_name, 4},
      {"!", errc::policy_expected_name, 1},
      {"crc,(ksymtab", errc::policy_missing_paren, 12},
      {"(crc", errc::policy_missing_paren, 4},
      {"()", errc::policy_expected_name, 1},
      {"crc)", errc::policy_unexpected_character, 3},
      {"crc ksymtab", errc::policy_unexpected_character, 4},
      {"crc,foo", errc::unknown_policy, 4},
      {"crcs", errc::unknown_policy, 0},
      {"name", errc::unknown_policy, 0},
      {"name:", errc::policy_empty_argument, 5},
      {"crc,name:&crc", errc::policy_empty_argument, 9},
      {"name:   ", errc::policy_empty_argument, 5},
      {"Crc", errc::unknown_policy, 0},
      {"debug&!(undefs,nam:x)", errc::unknown_policy, 15},
      {"names:missing", errc::io_error, 0},
      {"crc, names:missing", errc::io_error, 5},
      {"crc,#", errc::policy_expected_name, 4},
  };
  for (const bad& b : cases) {
    CAPTURE(b.text);
    auto p = parse_with(b.text);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == b.code);
    CHECK(p.error().detail == b.offset);
    CHECK(std::string_view(p.error().message).size() > 0);
  }
  // Without a loader, names: is refused where it stands.
  auto no_files = policy_expr::parse("crc,names:x");
  REQUIRE_FALSE(no_files);
  CHECK(no_files.error().code == errc::policy_names_unavailable);
  CHECK(no_files.error().detail == 4u);
}

TEST_CASE("policy_expr: nesting limit", "[policy]") {
  auto nested = [](std::size_t depth, char open) {
    std::string text(depth, open);
    text += "crc";
    if (open == '(') text += std::string(depth, ')');
    return text;
  };
  // The top level counts as one level.
  for (char open : {'(', '!'}) {
    CAPTURE(open);
    CHECK(parse_with(nested(policy_expr::max_depth - 1, open)));
    auto deep = parse_with(nested(policy_expr::max_depth, open));
    REQUIRE_FALSE(deep);
    CHECK(deep.error().code == errc::policy_too_deep);
    CHECK(deep.error().detail == policy_expr::max_depth);
  }
  // Far beyond the limit: an error, not a stack overflow.
  auto huge = parse_with(nested(100000, '('));
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code == errc::policy_too_deep);
  // Long but flat expressions are fine.
  std::string flat = "crc";
  for (int i = 0; i < 5000; ++i) flat += ",ksymtab&!debug";
  CHECK(parse_with(flat));
}

// ---------------------------------------------------------------------------------------------------------------
// glob_match against fnmatch(3) with flags 0, which is what GNU objcopy --wildcard calls.

namespace {

class glob_generator {
 public:
  explicit glob_generator(std::uint32_t seed) : rng_(seed) {}

  std::string pattern() {
    std::string p;
    const int tokens = pick(0, 6);
    for (int i = 0; i < tokens; ++i) {
      switch (pick(0, 9)) {
        case 0: p += '*'; break;
        case 1: p += '?'; break;
        case 2: p += '\\'; p += literal(); break;
        case 3: case 4: p += bracket(); break;
        case 5: p += '['; break;  // often unterminated
        default: p += literal(); break;
      }
    }
    if (pick(0, 15) == 0) p += '\\';  // a trailing backslash
    return p;
  }
  std::string name() {
    std::string n;
    const int length = pick(0, 6);
    for (int i = 0; i < length; ++i) n += literal("abcab-]![^\\.*?/_");
    return n;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // Patterns leave out '.': after a '[' inside a bracket it would start a POSIX collating symbol ([.x.]),
  // which glob_match does not support (see glob.hpp). Names have it.
  char literal(std::string_view alphabet = "abcab-]![^\\*?/_") {
    return alphabet[static_cast<std::size_t>(pick(0, static_cast<int>(alphabet.size()) - 1))];
  }
  std::string bracket() {
    std::string b = "[";
    if (pick(0, 2) == 0) b += pick(0, 1) == 0 ? '!' : '^';
    if (pick(0, 5) == 0) b += ']';
    const int items = pick(0, 3);
    for (int i = 0; i < items; ++i) {
      if (pick(0, 4) == 0) b += '\\';
      b += literal();
      if (pick(0, 2) == 0) {
        b += '-';
        if (pick(0, 4) == 0) b += '\\';
        b += literal();
      }
    }
    if (pick(0, 7) != 0) b += ']';
    return b;
  }
  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("glob_match: agrees with fnmatch(3) on chosen cases", "[policy][glob]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},           {"", "a"},          {"*", ""},           {"*", ".hidden/x"},  {"a*", "a"},
      {"a*b", "axxb"},    {"a*b", "axxbc"},   {"*a*b*", "xaybz"},  {"?", ""},           {"?", "/"},
      {"[abc]", "b"},     {"[!abc]", "b"},    {"[^abc]", "d"},     {"[a-c]", "b"},      {"[c-a]", "b"},
      {"[]]", "]"},       {"[]a]", "a"},      {"[!]]", "]"},       {"[!]]", "a"},       {"[a-]", "-"},
      {"[-a]", "-"},      {"[\\]]", "]"},     {"[\\!]", "!"},      {"[a\\-z]", "-"},    {"[a\\-z]", "b"},
      {"[", "["},         {"[a", "[a"},       {"[!", "[!"},        {"a[", "a["},        {"[]", "[]"},
      {"\\*", "*"},       {"\\*", "a"},       {"\\", "\\"},        {"a\\", "a\\"},      {"\\a", "a"},
      {"*\\", "x\\"},     {"[a-c-e]", "d"},   {"[a-c-e]", "-"},    {"**a", "ba"},       {"*?*", ""},
      {"__crc_*", "__crc_foo"}, {"__k[sc]*", "__kstrtab_x"}, {"[_a-z]*.c", "x.c"}, {"[.]x", ".x"},
      {"\\.c", ".c"},   {"*\\\\", "a\\"},  {"[\\\\]", "\\"},
  };
  for (const auto& [pattern, name] : cases) {
    CAPTURE(pattern, name);
    const std::string p(pattern), n(name);
    CHECK(glob_match(pattern, name) == (::fnmatch(p.c_str(), n.c_str(), 0) == 0));
  }
}

TEST_CASE("glob_match: agrees with fnmatch(3) on generated patterns", "[policy][glob]") {
  glob_generator gen(20240601);
  int matches = 0, brackets = 0;
  constexpr int pairs = 20000;
  for (int i = 0; i < pairs; ++i) {
    const std::string pattern = gen.pattern();
    const std::string name = gen.name();
    const bool expected = ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
    if (glob_match(pattern, name) != expected) {
      CAPTURE(pattern, name, expected);
      FAIL_CHECK("glob_match disagrees with fnmatch");
    }
    matches += expected ? 1 : 0;
    brackets += pattern.find('[') != std::string::npos ? 1 : 0;
  }
  // The generator must exercise both outcomes and bracket expressions.
  CHECK(matches > 1000);
  CHECK(brackets > 5000);
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
    using L = typename std::remove_cvref_t<decltype(file)>::layout_type;
    auto sections = file.sections();
    REQUIRE(sections);
    auto symtab = symbol_table<L>::find(*sections, elf::SHT_SYMTAB);
    if (!symtab && symtab.error().code == errc::not_found) return;
    REQUIRE(symtab);
    auto index = reloc_index<L>::build(*sections);
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
  const std::vector<std::string> symbols{"alpha", "alpine", "alps",  "beta",  "bet",    "bot",   "gamma_1",
                                         "gamma_2", "gamma_10", "x1",  "x22",   "y_",     "yy",    "zeta",
                                         "a_b",   "ab",     "abc",   "q1",    "q2",     "Q3"};
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
      {"!q*"},           // only exclusions: nothing
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
