// The run-time form of symbol policies, parsed from a string for tools:
//
//   expr    := term { ("," | "|") term }          either matches
//   term    := factor { "&" factor }              both match
//   factor  := "!" factor | "(" expr ")" | atom    negation, grouping
//   atom    := "crc" | "ksymtab" | "undefs" | "debug"
//            | "name:" GLOB                       one GNU --wildcard pattern
//            | "names:" FILE                      exact names, one per line (objcopy's list format)
//
// A GLOB or FILE runs to the next unescaped ",", "|", "&" or ")"; a backslash escapes the next character.
// Blanks around operators are ignored. Errors carry a code per mistake (errc::policy_unexpected_character,
// unknown_policy, policy_too_deep, policy_missing_paren, policy_empty_argument, policy_expected_name,
// policy_names_unavailable, or the loader's own error for a names: file) with `detail` set to the character
// position.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/analysis/policy.hpp"

namespace elfsieve {

// One line per built-in atom, for --help.
struct policy_help_entry {
  std::string_view syntax;
  std::string_view description;
};
inline constexpr policy_help_entry policy_atoms[] = {
    {"crc", crc_policy::description},
    {"ksymtab", ksymtab_policy::description},
    {"undefs", undefs_policy::description},
    {"debug", debug_policy::description},
    {"name:GLOB", "symbols matching one wildcard pattern (*, ?, [...]; GNU --wildcard rules)"},
    {"names:FILE", "symbols named in FILE (one name per line, # comments)"},
};

class policy_expr : public policy_tag {
 public:
  static constexpr std::string_view description = "a policy expression";
  static constexpr std::size_t max_depth = 200;

  // Parses `text`. `load_names(path)` returns result<std::string> with the contents of a names: file; pass
  // no_name_files to refuse names: atoms.
  template <class Loader>
  [[nodiscard]] static result<policy_expr> parse(std::string_view text, Loader&& load_names) {
    policy_expr expr;
    expr.text_ = std::string(text);
    parser<Loader> p{expr, expr.text_, load_names, 0, 0};
    ELFSIEVE_TRY(expr.root_, p.parse_or());
    p.skip_blanks();
    if (p.pos != p.text.size()) return syntax_error(errc::policy_unexpected_character, p.pos);
    return expr;
  }
  [[nodiscard]] static result<policy_expr> parse(std::string_view text) { return parse(text, no_name_files); }
  static result<std::string> no_name_files(std::string_view) { return make_error(errc::policy_names_unavailable); }

  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  // Whether an atom asks which relocations name a symbol (debug does): callers build a reloc_index only then.
  [[nodiscard]] bool needs_relocations() const noexcept;

  template <elf_layout L>
  bool operator()(const symbol_context<L>& c) const {
    return eval(root_, c);
  }

  // The part of the expression that made the symbol match: the first alternative of the top-level "," / "|"
  // that holds (or the whole expression). Empty when it does not match.
  template <elf_layout L>
  [[nodiscard]] std::string_view why(const symbol_context<L>& c) const {
    std::uint32_t n = root_;
    while (nodes_[n].k == kind::op_or) n = eval(nodes_[n].a, c) ? nodes_[n].a : nodes_[n].b;
    if (!eval(n, c)) return {};
    return std::string_view(text_).substr(nodes_[n].begin, nodes_[n].end - nodes_[n].begin);
  }

 private:
  enum class kind : std::uint8_t { crc, ksymtab, undefs, debug, glob, names, op_and, op_or, op_not };
  struct node {
    kind k;
    std::uint32_t a = 0, b = 0;        // children, or an index into globs_ / names_
    std::uint32_t begin = 0, end = 0;  // source text span
  };

  static error syntax_error(errc code, std::size_t pos) noexcept { return with_detail(make_error(code), pos); }

  template <class Loader>
  struct parser {
    policy_expr& out;
    std::string_view text;
    Loader& load_names;
    std::size_t pos;
    std::size_t depth;

    void skip_blanks() {
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    }
    bool eat(char c) {
      skip_blanks();
      if (pos < text.size() && text[pos] == c) {
        ++pos;
        return true;
      }
      return false;
    }
    std::uint32_t add(node n) {
      out.nodes_.push_back(n);
      return static_cast<std::uint32_t>(out.nodes_.size() - 1);
    }
    std::uint32_t binary(kind k, std::uint32_t a, std::uint32_t b) {
      return add(node{k, a, b, out.nodes_[a].begin, out.nodes_[b].end});
    }

    result<std::uint32_t> parse_or() {
      if (++depth > max_depth) return syntax_error(errc::policy_too_deep, pos);
      std::vector<std::uint32_t> operands;
      auto left = parse_and();
      if (!left) return left;
      operands.push_back(left.value());
      while (eat(',') || eat('|')) {
        auto right = parse_and();
        if (!right) return right;
        operands.push_back(right.value());
      }
      --depth;
      return chain(kind::op_or, operands);
    }
    // Folds a chain of one operator to the right (a op (b op c)), so that eval and why walk it in a loop: a long
    // chain such as "crc,crc,...,crc" must not recurse once per operand (stack overflow).
    std::uint32_t chain(kind k, const std::vector<std::uint32_t>& operands) {
      std::uint32_t n = operands.back();
      for (std::size_t i = operands.size() - 1; i-- > 0;) n = binary(k, operands[i], n);
      return n;
    }
    result<std::uint32_t> parse_and() {
      std::vector<std::uint32_t> operands;
      auto left = parse_not();
      if (!left) return left;
      operands.push_back(left.value());
      while (eat('&')) {
        auto right = parse_not();
        if (!right) return right;
        operands.push_back(right.value());
      }
      return chain(kind::op_and, operands);
    }
    result<std::uint32_t> parse_not() {
      skip_blanks();
      const auto start = static_cast<std::uint32_t>(pos);
      if (eat('!')) {
        if (++depth > max_depth) return syntax_error(errc::policy_too_deep, pos);
        auto inner = parse_not();
        if (!inner) return inner;
        --depth;
        return add(node{kind::op_not, inner.value(), 0, start, out.nodes_[inner.value()].end});
      }
      if (eat('(')) {
        auto inner = parse_or();
        if (!inner) return inner;
        if (!eat(')')) return syntax_error(errc::policy_missing_paren, pos);
        out.nodes_[inner.value()].begin = start;
        out.nodes_[inner.value()].end = static_cast<std::uint32_t>(pos);
        return inner;
      }
      return parse_atom();
    }
    // The argument of name: / names:, up to an unescaped operator.
    result<std::string> argument() {
      std::string arg;
      const std::size_t start = pos;
      while (pos < text.size()) {
        const char c = text[pos];
        if (c == ',' || c == '|' || c == '&' || c == ')') break;
        if (c == '\\' && pos + 1 < text.size()) ++pos;
        arg.push_back(text[pos++]);
      }
      while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t') && text[pos - 1] != '\\') arg.pop_back();
      if (arg.empty()) return syntax_error(errc::policy_empty_argument, start);
      return arg;
    }
    result<std::uint32_t> parse_atom() {
      skip_blanks();
      const std::size_t start = pos;
      while (pos < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[pos])) != 0 || text[pos] == '_' || text[pos] == '-'))
        ++pos;
      const std::string_view word = text.substr(start, pos - start);
      if (word.empty()) return syntax_error(errc::policy_expected_name, start);
      auto leaf = [&](kind k, std::uint32_t a = 0) {
        return add(node{k, a, 0, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos)});
      };
      if (word == "crc") return leaf(kind::crc);
      if (word == "ksymtab") return leaf(kind::ksymtab);
      if (word == "undefs") return leaf(kind::undefs);
      if (word == "debug") return leaf(kind::debug);
      if ((word == "name" || word == "names") && pos < text.size() && text[pos] == ':') {
        ++pos;
        ELFSIEVE_TRY(std::string arg, argument());
        if (word == "name") {
          out.globs_.emplace_back(std::vector<std::string>{std::move(arg)});
          return leaf(kind::glob, static_cast<std::uint32_t>(out.globs_.size() - 1));
        }
        auto contents = load_names(std::string_view(arg));
        if (!contents) return with_detail(contents.error(), start);  // where the names: atom starts
        out.names_.emplace_back(parse_name_list(contents.value()));
        return leaf(kind::names, static_cast<std::uint32_t>(out.names_.size() - 1));
      }
      pos = start;
      return syntax_error(errc::unknown_policy, start);
    }
  };

  template <elf_layout L>
  bool eval(std::uint32_t n, const symbol_context<L>& c) const {
    // Chains are right-folded: iterate on the right operand, recurse only into the left one (bounded by
    // max_depth, since a left operand is an atom, a negation or a parenthesised expression).
    for (;;) {
      const node& x = nodes_[n];
      switch (x.k) {
        case kind::crc: return crc_policy{}(c);
        case kind::ksymtab: return ksymtab_policy{}(c);
        case kind::undefs: return undefs_(c);
        case kind::debug: return debug_policy{}(c);
        case kind::glob: return globs_[x.a](c);
        case kind::names: return names_[x.a](c);
        case kind::op_and:
          if (!eval(x.a, c)) return false;
          n = x.b;
          continue;
        case kind::op_or:
          if (eval(x.a, c)) return true;
          n = x.b;
          continue;
        case kind::op_not: return !eval(x.a, c);
      }
      return false;
    }
  }

  std::string text_;
  std::vector<node> nodes_;
  std::vector<glob_policy> globs_;
  std::vector<names_policy> names_;
  undefs_policy undefs_;
  std::uint32_t root_ = 0;
};

inline bool policy_expr::needs_relocations() const noexcept {
  for (const node& n : nodes_)
    if (n.k == kind::debug) return true;
  return false;
}

// A policy expression that did not parse, for a tool's message: the reason and the position, then the expression
// and a caret under the position (tabs kept, so the caret lines up):
//   unknown policy name ... at position 4:
//     crc,foo
//         ^
// `names_file` is the names: file that could not be read (names_file_loader::failed_path), for I/O errors.
[[nodiscard]] inline std::string format_policy_error(const error& e, std::string_view expression,
                                                     std::string_view names_file = {}) {
  const std::uint64_t position = e.detail.value_or(0);
  std::string s;
  if (e.code == errc::io_error || e.code == errc::not_regular_file) {
    s += "cannot read names file '";
    s += names_file;
    s += "': ";
    s += e.code == errc::io_error ? std::strerror(e.sys_errno) : e.message;
  } else {
    s += e.message;
  }
  s += " at position " + std::to_string(position) + ":\n  ";
  s += expression;
  s += "\n  ";
  for (std::size_t i = 0; i < position && i < expression.size(); ++i) s += expression[i] == '\t' ? '\t' : ' ';
  s += "^\n";
  return s;
}

// The grammar and the atoms, for a tool's --help: indented lines, each ending in a newline.
[[nodiscard]] inline std::string policy_grammar_help() {
  std::string s =
      "  expr   := term { (',' | '|') term }     either matches\n"
      "  term   := factor { '&' factor }         both match\n"
      "  factor := '!' factor | '(' expr ')' | atom\n"
      "  A GLOB or FILE runs to the next unescaped ',', '|', '&' or ')'; '\\' escapes the\n"
      "  next character; blanks around operators are ignored.  Atoms:\n";
  for (const auto& atom : policy_atoms) {
    s += "  ";
    s += atom.syntax;
    if (atom.syntax.size() < 12) s.append(12 - atom.syntax.size(), ' ');
    s += ' ';
    s += atom.description;
    s += '\n';
  }
  return s;
}

}  // namespace elfsieve
