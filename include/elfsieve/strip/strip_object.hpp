// Strip one object: open it (any layout), plan, report every decision, write the edits the plan makes.
// The requests are generic callables, written once for every layout:
//   remove_section(std::string_view name, const section_ref<L>&) -> bool
//   request(const symbol_context<L>&) -> symbol_request
//   report(const symbol_report&) -> void, called for every symbol whose removal was requested or that goes
//   with a removed section, in symbol-table order.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/error.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/analysis/reloc_kinds.hpp"
#include "elfsieve/rewrite/sink.hpp"
#include "elfsieve/rewrite/writer.hpp"
#include "elfsieve/strip/decision.hpp"
#include "elfsieve/strip/plan.hpp"

namespace elfsieve {

struct symbol_report {
  std::string_view name;
  const symbol_decision& decision;
  std::string_view target_section;  // retarget: the section whose symbol the relocations now name
  std::string_view reloc_type;      // type-related keep reasons: the relocation type's name (empty if unknown)
};

struct strip_outcome {
  strip_stats stats;
  consumer_kind consumer = consumer_kind::linker;
  std::uint64_t input_size = 0;
  std::uint64_t output_size = 0;
  std::uint64_t trailer_bytes = 0;  // bytes after the ELF contents, not copied (e.g. a module signature)
  bool module_signature = false;
};

// The GNU strip/objcopy meaning of "unneeded" (binutils 2.40 filter_symbols, --strip-unneeded): in an object
// that will be linked again, defined global symbols, weak symbols (defined or not) and common symbols are
// needed; everything else only if a relocation names it. BFD gives an undefined STB_GLOBAL symbol no BSF_GLOBAL
// flag and an STB_GNU_UNIQUE symbol only BSF_GNU_UNIQUE, so both go unless referenced, like a local symbol.
// Section symbols and symbol 0 are the plan's business.
template <elf_layout L>
[[nodiscard]] symbol_request unneeded_request(const symbol_context<L>& c, bool relocatable) noexcept {
  if (c.is_null_symbol() || c.is_section_symbol()) return symbol_request::keep;
  const auto bind = c.symbol.bind();
  const bool common = c.where.where == symbol_section::kind::common;
  const bool needed = bind == elf::STB_WEAK || common || (bind == elf::STB_GLOBAL && !c.is_undefined());
  if (relocatable && needed) return symbol_request::keep;
  return symbol_request::remove_if_unreferenced;
}

// Strips `input` into `sink` (rewrite/sink.hpp: a vector_sink, or an io/fd_sink over the output file).
template <class SectionFilter, class SymbolRequest, class Report, output_sink Sink>
[[nodiscard]] result<strip_outcome> strip_object(std::span<const std::byte> input, const strip_options& options,
                                                 SectionFilter&& remove_section, SymbolRequest&& request,
                                                 Report&& report, Sink& sink) {
  return visit(input, [&](const auto& f) -> result<strip_outcome> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(const strip_plan<L> p, strip_plan<L>::create(f, options, remove_section, request));
    if (const symbol_table<L>* symbols = p.symbols()) {
      const auto& sections = p.sections();
      for (auto s : *symbols) {
        const symbol_decision& d = p.decision(s.index());
        if (d.request == symbol_request::keep && d.action == symbol_action::keep) continue;
        if (s.type() == elf::STT_SECTION) continue;
        auto name = symbols->name(s);
        std::string_view target;
        if (d.action == symbol_action::retarget) {
          auto n = sections.name(sections[section_index(d.detail)]);
          if (n) target = n.value();
        }
        std::string_view type;
        if (d.action == symbol_action::keep && d.detail != 0) {
          if (const reloc_kind* k = find_reloc_kind(f.machine(), d.detail)) type = k->name;
        }
        report(symbol_report{name ? name.value() : std::string_view{}, d, target, type});
      }
    }
    size_recording_sink<Sink> sized(sink);
    ELFSIEVE_TRY_VOID(write_object(p.edits(), sized));
    strip_outcome o;
    o.stats = p.stats();
    o.consumer = p.consumer();
    o.input_size = input.size();
    o.output_size = sized.size();
    o.trailer_bytes = p.trailer_bytes();
    o.module_signature = p.has_module_signature();
    return o;
  });
}

// Strips `input` into `out` (replacing its contents; its capacity is reused).
template <class SectionFilter, class SymbolRequest, class Report>
[[nodiscard]] result<strip_outcome> strip_object(std::span<const std::byte> input, const strip_options& options,
                                                 SectionFilter&& remove_section, SymbolRequest&& request,
                                                 Report&& report, std::vector<std::byte>& out) {
  vector_sink sink(out);
  return strip_object(input, options, remove_section, request, report, sink);
}

}  // namespace elfsieve
