// Shell-style wildcard matching as GNU objcopy's --wildcard uses it (fnmatch with no flags): `*`, `?`, bracket
// expressions with ranges and `!`/`^` negation, and backslash escapes. `*` matches any character, `/` and
// leading `.` included. Iterative with one backtrack point, so it is linear in practice and never recurses.
// Not supported: POSIX classes, collating symbols and equivalence classes inside brackets ([:alpha:], [.x.],
// [=x=]); here a `[` inside a bracket expression is an ordinary character.
#pragma once

#include <cstddef>
#include <string_view>

namespace elfsieve {

namespace detail {

// Matches the bracket expression starting at pattern[p] (just after '[') against c. On return `p` is just past
// the closing ']'. Returns false with p unchanged (at the '[') when the bracket is unterminated: fnmatch then
// treats '[' as an ordinary character.
[[nodiscard]] constexpr bool match_bracket(std::string_view pattern, std::size_t& p, char c, bool& valid) noexcept {
  std::size_t i = p;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    ++i;
    char hi = lo;
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      hi = pattern[i + 1];
      i += 2;
      if (hi == '\\' && i < pattern.size()) hi = pattern[i++];
    }
    const auto uc = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= uc && uc <= static_cast<unsigned char>(hi)) matched = true;
  }
  if (i >= pattern.size()) {
    valid = false;
    return false;
  }
  valid = true;
  p = i + 1;
  return matched != negate;
}

}  // namespace detail

[[nodiscard]] constexpr bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t q = p + 1;
        bool valid = false;
        const bool ok = detail::match_bracket(pattern, q, text[t], valid);
        if (valid) {
          if (ok) {
            p = q;
            ++t;
            continue;
          }
        } else if (text[t] == '[') {  // unterminated: a literal '['
          ++p;
          ++t;
          continue;
        }
      } else {
        char literal = pc;
        std::size_t next = p + 1;
        if (pc == '\\') {
          if (p + 1 == pattern.size()) return false;  // fnmatch: a trailing backslash never matches
          literal = pattern[p + 1];
          next = p + 2;
        }
        if (literal == text[t]) {
          p = next;
          ++t;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

static_assert(glob_match("__crc_*", "__crc_foo") && !glob_match("__crc_*", "__kstrtab_foo"));
static_assert(glob_match("a?c", "abc") && glob_match("[a-c]x", "bx") && !glob_match("[!a-c]x", "bx"));
static_assert(glob_match("*", "") && glob_match("a*b*c", "aXbYc") && !glob_match("a*b", "a"));
static_assert(glob_match("a\\*", "a*") && !glob_match("a\\", "a\\") && !glob_match("*\\", "x\\"));

}  // namespace elfsieve
