// policy_expr: the run-time policy parser (precedence, escapes, names: files, why) and its errors, each with its
// own code and the character position; whether an expression needs the relocation index, the caret message
// of a malformed expression, and the grammar help.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/elf_builder.hpp"
#include "support/policy_image.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

namespace {

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
  CHECK(why("(crc,ksymtab),undefs", "__crc_foo") == "crc");       // alternatives inside parentheses too
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

TEST_CASE("policy_expr: needs_relocations only for debug", "[policy][policy_expr]") {
  auto needs = [](const char* text) { return policy_expr::parse(text).value().needs_relocations(); };
  CHECK(needs("debug"));
  CHECK(needs("crc,!(ksymtab|debug)"));
  CHECK(needs("name:foo & debug"));
  CHECK_FALSE(needs("crc,ksymtab"));
  CHECK_FALSE(needs("undefs"));
  CHECK_FALSE(needs("name:*debug*"));  // the word in a glob is not the atom
  CHECK_FALSE(needs("name:debug"));
}

TEST_CASE("policy_expr: format_policy_error", "[policy][policy_expr]") {
  auto message = [](const std::string& text) {
    auto parsed = policy_expr::parse(text);
    REQUIRE_FALSE(parsed.has_value());
    return format_policy_error(parsed.error(), text);
  };
  const std::string unknown = message("crc,foo");
  CHECK(unknown.find(" at position 4:\n  crc,foo\n      ^\n") != std::string::npos);
  CHECK(unknown.rfind("unknown policy name", 0) == 0);
  CHECK(message("crc,(ksymtab") == std::string(policy_expr::parse("crc,(ksymtab").error().message) +
                                       " at position 12:\n  crc,(ksymtab\n              ^\n");
  // A tab before the position stays a tab, so the caret lines up under the character.
  CHECK(message("\tcrc,zzz").ends_with(" at position 5:\n  \tcrc,zzz\n  \t    ^\n"));

  error io = make_error(errc::io_error);
  io.sys_errno = ENOENT;
  io.detail = 6;
  CHECK(format_policy_error(io, "debug&names:/x/list", "/x/list") ==
        "cannot read names file '/x/list': No such file or directory at position 6:\n"
        "  debug&names:/x/list\n"
        "        ^\n");
}

TEST_CASE("policy_expr: grammar help names every atom", "[policy][policy_expr]") {
  const std::string help = policy_grammar_help();
  CHECK(help.rfind("  expr   := term", 0) == 0);
  for (const auto& atom : policy_atoms) {
    CAPTURE(atom.syntax);
    std::string line = "  " + std::string(atom.syntax);
    line.resize(std::max<std::size_t>(line.size(), 14), ' ');
    CHECK(help.find(line + " " + std::string(atom.description) + "\n") != std::string::npos);
  }
  CHECK(help.back() == '\n');
}
