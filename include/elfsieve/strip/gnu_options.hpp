// GNU strip's option semantics (binutils objcopy.c: is_strip_section, filter_symbols), for tools that take its
// command line: which sections go, and what is asked for each symbol, as strip_object's section filter and symbol
// request. The default, with no symbol option at all, is --strip-all; --strip-unneeded and --strip-all remove the
// debug sections too.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/strip/strip_object.hpp"

namespace elfsieve {

struct gnu_strip_options {
  strip_options plan;                        // --consumer, --unmerge; plan.strip_debug is -g, -S, -d, --strip-debug
  bool strip_unneeded = false;               // --strip-unneeded
  bool strip_all = false;                    // -s, --strip-all
  bool wildcard = false;                     // -w: the names of -N, -K and the name files are patterns
  std::vector<std::string> strip_symbols;    // -N, --strip-symbols
  std::vector<std::string> keep_symbols;     // -K, --keep-symbols
  std::vector<std::string> remove_sections;  // -R: patterns, a leading ! excludes
  std::optional<policy_expr> policy;         // elfsieve's --policy: remove the symbols it matches
};

// The options turned into decisions, built once and shared read-only between threads.
class gnu_strip {
 public:
  explicit gnu_strip(gnu_strip_options o) : o_(std::move(o)) {
    if (o_.wildcard) {
      if (!o_.strip_symbols.empty()) strip_glob_.emplace(o_.strip_symbols);
      if (!o_.keep_symbols.empty()) keep_glob_.emplace(o_.keep_symbols);
    } else {
      if (!o_.strip_symbols.empty()) strip_exact_.emplace(o_.strip_symbols);
      if (!o_.keep_symbols.empty()) keep_exact_.emplace(o_.keep_symbols);
    }
    if (!o_.remove_sections.empty()) sections_.emplace(o_.remove_sections);
    plan_ = o_.plan;
    plan_.strip_debug = plan_.strip_debug || o_.strip_unneeded || strips_all();
    plan_.section_symbols = o_.strip_unneeded || strips_all() ? section_symbol_rule::drop_unused
                            : o_.plan.strip_debug             ? section_symbol_rule::keep_in_executables
                                                              : section_symbol_rule::keep_all;
  }

  // -s, or GNU strip's default: no -g, --strip-unneeded, -N, --strip-symbols or --policy.
  [[nodiscard]] bool strips_all() const noexcept {
    const bool explicit_symbols = !o_.strip_symbols.empty() || o_.policy.has_value();
    return o_.strip_all || (!o_.plan.strip_debug && !o_.strip_unneeded && !explicit_symbols);
  }
  // The plan's options: debug sections go for --strip-unneeded and --strip-all too.
  [[nodiscard]] const strip_options& plan_options() const noexcept { return plan_; }

  // -R: the section filter (relocation sections follow their target in the plan).
  [[nodiscard]] bool removes_section(std::string_view name) const noexcept {
    return sections_ && sections_->matches_name(name);
  }

  // What is asked for one symbol: -K wins over -N and --policy, which win over --strip-all, then --strip-unneeded
  // (its "needed" depends on whether the file will be linked again: `relocatable`, ET_REL), then the symbols
  // --strip-debug removes.
  template <elf_layout L>
  [[nodiscard]] symbol_request request(const symbol_context<L>& c, bool relocatable) const {
    if (c.is_null_symbol() || c.is_section_symbol()) return symbol_request::keep;
    if (keeps(c.name)) return symbol_request::keep;
    if (strips(c.name) || (o_.policy && (*o_.policy)(c))) return symbol_request::remove;
    if (strips_all()) return symbol_request::remove_if_unreferenced;
    if (o_.strip_unneeded) {
      const auto u = unneeded_request(c, relocatable);
      if (u != symbol_request::keep) return u;
    }
    if ((o_.plan.strip_debug || o_.strip_unneeded) && policies::debug(c)) return symbol_request::remove;
    return symbol_request::keep;
  }

  // Strips one object into `sink` (rewrite/sink.hpp); `report` as for strip_object.
  template <class Report, output_sink Sink>
  [[nodiscard]] result<strip_outcome> run(std::span<const std::byte> input, Report&& report, Sink& sink) const {
    const bool relocatable = visit(input, [](const auto& f) { return f.type() == elf::ET_REL; }).value_or(false);
    auto remove_section = [&](std::string_view name, const auto&) { return removes_section(name); };
    auto ask = [&](const auto& c) { return request(c, relocatable); };
    return strip_object(input, plan_, remove_section, ask, report, sink);
  }
  // Strips one object in memory into `out`.
  template <class Report>
  [[nodiscard]] result<strip_outcome> run(std::span<const std::byte> input, Report&& report,
                                          std::vector<std::byte>& out) const {
    vector_sink sink(out);
    return run(input, report, sink);
  }

 private:
  [[nodiscard]] bool strips(std::string_view name) const noexcept {
    if (strip_glob_) return strip_glob_->matches_name(name);
    return strip_exact_ && strip_exact_->contains(name);
  }
  [[nodiscard]] bool keeps(std::string_view name) const noexcept {
    if (keep_glob_) return keep_glob_->matches_name(name);
    return keep_exact_ && keep_exact_->contains(name);
  }

  gnu_strip_options o_;
  strip_options plan_;
  std::optional<names_policy> strip_exact_, keep_exact_;
  std::optional<glob_policy> strip_glob_, keep_glob_, sections_;
};

}  // namespace elfsieve
