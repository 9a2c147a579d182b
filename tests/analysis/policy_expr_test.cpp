// policy_expr: whether an expression needs the relocation index, the caret message of a malformed expression, and
// the grammar help.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "elfsieve/analysis/policy_expr.hpp"

using namespace elfsieve;

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
