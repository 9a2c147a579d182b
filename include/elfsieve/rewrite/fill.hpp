// Fill a reserved section after the link: space is reserved at link time (a section of the final size), and data
// computed later (after modpost, say) is written into it without moving or relinking anything. Optionally the
// data's length is stored at a symbol's location, as an unsigned word of the layout (4 bytes ELF32, 8 bytes
// ELF64) in the file's byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/rewrite/sink.hpp"

namespace elfsieve {

struct fill_request {
  std::string_view section;         // the section to fill, by name
  std::span<const std::byte> data;  // written at its start; the rest of the section becomes zero
  std::string_view length_symbol;   // empty: store no length
};

// Where a fill goes, without changing anything: the section's file range and, if asked, the length field's.
struct fill_plan {
  std::uint64_t section_offset = 0, section_size = 0;
  std::uint64_t length_offset = 0;
  unsigned length_width = 0;  // 0: no length field
};

namespace detail {

[[nodiscard]] constexpr bool ranges_overlap(std::uint64_t a, std::uint64_t a_size, std::uint64_t b,
                                            std::uint64_t b_size) noexcept {
  // Both ranges lie inside the file (checked before), so the sums cannot wrap.
  return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}

// Zeroing the target must not touch anything else the file holds: the file header, the program header table, the
// section header table, or another section's bytes (a malformed sh_offset/sh_size can point anywhere).
template <elf_layout L>
[[nodiscard]] result<void> refuse_fill_overlaps(const file<L>& f, const section_table<L>& sections,
                                                const section_ref<L>& target) noexcept {
  const std::uint64_t at = target.offset(), size = target.size();
  const error headers = make_error(errc::fill_overlaps_headers, target.index(), at);
  if (ranges_overlap(at, size, 0, sizeof(typename L::ehdr))) return headers;
  ELFSIEVE_TRY(const auto phdrs, f.program_headers());
  if (ranges_overlap(at, size, f.header().e_phoff.value(), phdrs.size_bytes())) return headers;
  if (ranges_overlap(at, size, f.header().e_shoff.value(), sections.headers().size_bytes())) return headers;
  for (auto other : sections) {
    if (other.index() == target.index() || other.index().value == 0 || other.type() == elf::SHT_NOBITS) continue;
    if (!sections.data(other)) continue;  // bytes outside the file are not the file's: nothing to protect
    if (ranges_overlap(at, size, other.offset(), other.size()))
      return with_detail(make_error(errc::fill_overlaps_section, target.index(), at), other.index().value);
  }
  return {};
}

}  // namespace detail

template <elf_layout L>
[[nodiscard]] result<fill_plan> plan_fill(const file<L>& f, const fill_request& request) noexcept {
  ELFSIEVE_TRY(const auto sections, f.sections());
  const auto target = sections.find(request.section);
  if (!target) return make_error(errc::no_such_section);
  if (target->type() == elf::SHT_NOBITS) return make_error(errc::fill_bad_section, target->index(), target->offset());
  ELFSIEVE_TRY_VOID(sections.data(*target));
  ELFSIEVE_TRY_VOID(detail::refuse_fill_overlaps(f, sections, *target));
  fill_plan plan{target->offset(), target->size(), 0, 0};
  if (request.data.size() > plan.section_size)
    return with_detail(make_error(errc::fill_too_large, target->index(), target->offset()),
                       request.data.size() - plan.section_size);
  if (request.length_symbol.empty()) return plan;

  auto symbols = symbol_table<L>::find(sections, elf::SHT_SYMTAB);
  if (!symbols && symbols.error().code == errc::not_found) return make_error(errc::no_such_symbol);
  if (!symbols) return symbols.error();
  for (auto s : *symbols) {
    ELFSIEVE_TRY(const auto name, symbols->name(s));
    if (s.index().value == 0 || name != request.length_symbol) continue;
    ELFSIEVE_TRY(const auto where, symbols->section_of(s));
    const std::uint64_t width = L::word_bytes;
    // Where the symbol's record lies in the file; the symbol index goes in the detail.
    const auto table = sections[symbols->section()];
    const error bad = with_detail(
        make_error(errc::fill_bad_symbol, table.index(), table.offset() + s.index().value * sizeof(typename L::sym)),
        s.index().value);
    if (!where.is_regular() || (s.size() != 0 && s.size() != width)) return bad;
    const auto home = sections[where.index];
    if (home.type() == elf::SHT_NOBITS) return bad;
    const std::uint64_t base = f.type() == elf::ET_REL ? 0 : home.addr();
    if (s.value() < base) return bad;
    const std::uint64_t at = s.value() - base;
    if (at > home.size() || home.size() - at < width) return bad;
    if (!sections.data(home)) return bad;
    plan.length_offset = home.offset() + at;
    plan.length_width = static_cast<unsigned>(width);
    // The length must not land inside the data it describes.
    if (plan.length_offset + width > plan.section_offset &&
        plan.length_offset < plan.section_offset + plan.section_size)
      return bad;
    return plan;
  }
  return make_error(errc::no_such_symbol);
}

// The whole file with the fill applied, into `sink` (sink.hpp): the input's bytes around the section, the data at
// its start (the rest of it stays zero), the length field. Nothing is written when the request is refused; the
// input is not changed.
template <output_sink Sink>
[[nodiscard]] result<void> fill_section(std::span<const std::byte> file_bytes, const fill_request& request,
                                        Sink& sink) {
  return visit(file_bytes, [&](const auto& f) -> result<void> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(const fill_plan plan, plan_fill(f, request));
    const auto offset = static_cast<std::size_t>(plan.section_offset);
    const auto end = static_cast<std::size_t>(plan.section_offset + plan.section_size);
    ELFSIEVE_TRY_VOID(sink.resize(file_bytes.size()));
    ELFSIEVE_TRY_VOID(sink.write(0, file_bytes.first(offset)));
    ELFSIEVE_TRY_VOID(sink.write(end, file_bytes.subspan(end)));
    if (!request.data.empty()) ELFSIEVE_TRY_VOID(sink.write(plan.section_offset, request.data));
    std::byte length[8] = {};
    if (plan.length_width == 4)
      store<std::uint32_t, L::endianness>(length, static_cast<std::uint32_t>(request.data.size()));
    else if (plan.length_width == 8) store<std::uint64_t, L::endianness>(length, request.data.size());
    if (plan.length_width != 0) ELFSIEVE_TRY_VOID(sink.write(plan.length_offset, std::span(length, plan.length_width)));
    return {};
  });
}

// The same into a new buffer.
[[nodiscard]] inline result<std::vector<std::byte>> fill_section(std::span<const std::byte> file_bytes,
                                                                 const fill_request& request) {
  std::vector<std::byte> out;
  vector_sink sink(out);
  ELFSIEVE_TRY_VOID(fill_section(file_bytes, request, sink));
  return out;
}

}  // namespace elfsieve
