// autoksyms: the symbols a module needs from the kernel, as scripts/gen_autoksyms.sh computes them from
// `nm | sed -n 's/^  *U //p'` (the *.usyms files), and the autoksyms.h it writes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <ranges>
#include <type_traits>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbols.hpp"

namespace elfsieve::kernel {

// The symbol nm lists with type 'U': undefined, not weak, not the null symbol, not a section or file symbol.
template <elf_layout L>
[[nodiscard]] bool is_nm_undefined(const symbol_ref<L>& s) noexcept {
  return s.index().value != 0 && s.is_undefined() && s.bind() != elf::STB_WEAK && s.type() != elf::STT_SECTION &&
         s.type() != elf::STT_FILE;
}

// Calls emit(name) for every symbol of the object's .symtab that nm prints as 'U', in table order (the
// contents of a *.usyms file). Names are views into the file's bytes.
template <elf_layout L, class Emit>
[[nodiscard]] result<void> for_each_undefined(const file<L>& f, Emit&& emit) {
  ELFSIEVE_TRY(const section_table<L> sections, f.sections());
  auto symbols = find_symbol_table(sections, elf::SHT_SYMTAB);
  if (!symbols) {
    if (symbols.error().code == errc::not_found) return {};  // a stripped object needs nothing nm can see
    return symbols.error();
  }
  for (auto s : *symbols) {
    if (!is_nm_undefined(s)) continue;
    ELFSIEVE_TRY(const std::string_view name, symbols->name(s));
    emit(name);
  }
  return {};
}

// The same for the bytes of an ELF object of any layout (detected as visit() does); the error says why the bytes
// are no ELF object or where its symbol table is malformed.
template <class Emit>
[[nodiscard]] result<void> for_each_undefined(std::span<const std::byte> bytes, Emit&& emit) {
  return visit(bytes, [&emit](const auto& f) { return for_each_undefined(f, emit); });
}
// A view must not outlive its bytes: refuse a temporary owning buffer (the names point into it).
template <class Owner, class Emit>
requires(std::is_rvalue_reference_v<Owner&&> && !std::ranges::borrowed_range<Owner> &&
         std::is_constructible_v<std::span<const std::byte>, Owner&&>) result<void> for_each_undefined(Owner&&, Emit&&)
= delete;

// The needed-symbol list of gen_autoksyms.sh: names are split on blanks, a leading '.' (ppc64 ELFv1 entry
// points) is dropped, the list is sorted bytewise (kbuild runs with LC_COLLATE=C) and made unique, and
// __this_module (resolved when the .ko is linked) is left out.
class needed_symbols {
 public:
  void add(std::string_view name) {
    if (!name.empty() && name.front() == '.') name.remove_prefix(1);
    if (name.empty()) return;
    names_.emplace_back(name);
    sorted_ = false;
  }
  // Whitespace-separated names, as in a CONFIG_UNUSED_KSYMS_WHITELIST file.
  void add_words(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && is_blank(text[i])) ++i;
      const std::size_t start = i;
      while (i < text.size() && !is_blank(text[i])) ++i;
      if (i > start) add(text.substr(start, i - start));
    }
  }
  [[nodiscard]] const std::vector<std::string>& sorted() {
    if (!sorted_) {
      std::sort(names_.begin(), names_.end());
      names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
      std::erase(names_, std::string_view("__this_module"));
      sorted_ = true;
    }
    return names_;
  }
  [[nodiscard]] bool contains(std::string_view name) {
    const auto& s = sorted();
    return std::binary_search(s.begin(), s.end(), name, std::less<>{});
  }

  // autoksyms.h exactly as gen_autoksyms.sh writes it.
  [[nodiscard]] std::string autoksyms_header() {
    std::string out = "/*\n * Automatically generated file; DO NOT EDIT.\n */\n\n";
    for (const auto& n : sorted()) {
      out += "#define __KSYM_";
      out += n;
      out += " 1\n";
    }
    return out;
  }

 private:
  static constexpr bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }
  std::vector<std::string> names_;
  bool sorted_ = true;
};

// Reads the names an existing autoksyms.h defines (`#define __KSYM_<name> 1`), or, when the text has no such
// line, treats it as a whitespace-separated name list.
inline void add_known_symbols(needed_symbols& out, std::string_view text) {
  constexpr std::string_view prefix = "#define __KSYM_";
  bool header = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (!line.starts_with(prefix)) continue;
    line.remove_prefix(prefix.size());
    const auto end = line.find_first_of(" \t");
    out.add(line.substr(0, end));
    header = true;
  }
  if (!header) out.add_words(text);
}

}  // namespace elfsieve::kernel
