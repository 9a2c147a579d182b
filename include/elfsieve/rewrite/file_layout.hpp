// File layout: where each kept section goes in the output. In a file with program headers, everything a segment
// or an SHF_ALLOC section covers is pinned: it stays at its offset, because the loader maps it from there (unless
// a segment lies outside the file: then the program headers are another file's, see pin()). The
// rest is laid out after the pinned prefix in input file order, each section at its alignment, and the section
// header table last. Sections without file bytes get an offset that depends only on the section order, so that
// rewriting an output again gives the same bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/rewrite/edits.hpp"

namespace elfsieve {

namespace detail {

[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) noexcept {
  return a <= 1 ? v : (v + a - 1) / a * a;
}

// File-offset alignment for a section: its sh_addralign when that is a power of two, capped at a page so that a
// malformed alignment cannot blow the output up.
[[nodiscard]] constexpr std::uint64_t file_alignment(std::uint64_t addralign) noexcept {
  if (addralign <= 1 || (addralign & (addralign - 1)) != 0) return 1;
  return std::min<std::uint64_t>(addralign, 4096);
}

}  // namespace detail

template <elf_layout L>
class file_layout {
 public:
  // `section_count` is the number of output sections; `new_size(const section_ref<L>&) -> result<uint64_t>` gives
  // a kept section's output size (it may refuse a section). A pinned section must keep its size.
  template <class NewSize>
  [[nodiscard]] static result<file_layout> create(const object_edits<L>& edits, std::uint32_t section_count,
                                                  NewSize&& new_size) {
    file_layout layout(edits.sections().size());
    ELFSIEVE_TRY_VOID(layout.pin(edits));
    ELFSIEVE_TRY_VOID(layout.place(edits, section_count, new_size));
    return layout;
  }

  // The bytes copied unchanged from the input's start: the file header, and with segments everything pinned.
  [[nodiscard]] std::uint64_t prefix() const noexcept { return prefix_; }
  [[nodiscard]] bool has_segments() const noexcept { return has_segments_; }
  [[nodiscard]] std::uint64_t offset(section_index i) const noexcept { return offset_[i.value]; }
  [[nodiscard]] std::uint64_t size(section_index i) const noexcept { return size_[i.value]; }
  [[nodiscard]] std::uint64_t section_headers_offset() const noexcept { return shoff_; }
  [[nodiscard]] std::uint64_t total_size() const noexcept { return total_size_; }
  // Program headers whose segment lies outside the input (a separate debug file): copied unchanged, not pinned.
  [[nodiscard]] std::uint32_t segments_outside_file() const noexcept { return segments_outside_file_; }
  // Whether program header i describes such a segment (the writer clears its p_filesz).
  [[nodiscard]] bool segment_outside_file(std::size_t i) const noexcept { return i < outside_.size() && outside_[i]; }

 private:
  explicit file_layout(std::size_t sections) : offset_(sections, 0), size_(sections, 0), pinned_(sections, false) {}

  [[nodiscard]] static bool kept(const object_edits<L>& edits, const section_ref<L>& s) noexcept {
    return s.index().value != 0 && edits.section_kept(s.index());
  }

  // The pinned prefix: the file header, the program headers, every segment and every kept allocated section.
  result<void> pin(const object_edits<L>& edits) {
    const file<L>& f = edits.input();
    const auto& sections = edits.sections();
    ELFSIEVE_TRY(auto phdrs, f.program_headers());
    has_segments_ = !phdrs.empty();
    prefix_ = sizeof(typename L::ehdr);
    if (!has_segments_) return {};
    const std::uint64_t phoff = f.header().e_phoff.value();
    // The file header is rewritten; program headers that share its bytes would change with it.
    if (phoff < sizeof(typename L::ehdr)) return make_error_at(errc::program_headers_overlap_header, phoff);
    prefix_ = std::max<std::uint64_t>(prefix_, phoff + phdrs.size() * sizeof(typename L::phdr));
    // A separate debug file (eu-strip -f, objcopy --only-keep-debug) keeps the program headers of the executable
    // it was split from, whose segments may lie past its end: they describe another file's bytes. GNU strip
    // accepts such a file; so do we, pinning none of its segments (their bytes here are not theirs) but still the
    // file header, the program header table and the allocated sections below, which are checked to be inside.
    // GNU writes such a segment with p_filesz 0, and so does the writer (segment_outside_file), so that the
    // output, which may be long enough to hold the old range, is laid out the same way when it is stripped again.
    // For the same reason a segment without file bytes (p_filesz 0) pins nothing.
    segments_outside_file_ = 0;
    outside_.assign(phdrs.size(), false);
    for (std::size_t i = 0; i < phdrs.size(); ++i) {
      const auto& p = phdrs[i];
      if (!f.segment_data(p)) {
        outside_[i] = true;
        ++segments_outside_file_;
        continue;
      }
      if (p.p_filesz.value() == 0) continue;
      prefix_ = std::max<std::uint64_t>(prefix_, p.p_offset.value() + p.p_filesz.value());
    }
    // The writer clears the p_filesz of a segment outside the file; where that field lies inside a kept section's
    // bytes (program headers overlapping a section: no linker makes that), the section would change with it.
    if (segments_outside_file_ != 0) {
      using phdr = typename L::phdr;
      constexpr std::uint64_t field = offsetof(phdr, p_filesz);
      constexpr std::uint64_t width = sizeof(decltype(phdr::p_filesz));
      for (std::size_t i = 0; i < phdrs.size(); ++i) {
        if (!outside_[i] || phdrs[i].p_filesz.value() == 0) continue;
        const std::uint64_t at = phoff + i * sizeof(typename L::phdr) + field;
        for (auto s : sections) {
          if (!kept(edits, s) || s.type() == elf::SHT_NOBITS || s.size() == 0) continue;
          if (at < s.offset() + s.size() && s.offset() < at + width)
            return make_error(errc::program_headers_overlap_section, s.index(), s.offset());
        }
      }
    }
    for (auto s : sections) {
      if (!kept(edits, s) || !s.has_flag(elf::SHF_ALLOC)) continue;
      ELFSIEVE_TRY_VOID(sections.data(s));
      pinned_[s.index().value] = true;
      // The file header is rewritten (e_shoff, e_shnum): a section that stays in place cannot share its bytes.
      if (s.type() != elf::SHT_NOBITS && s.size() != 0 && s.offset() < sizeof(typename L::ehdr))
        return make_error(errc::section_overlaps_header, s.index(), s.offset());
      if (s.type() != elf::SHT_NOBITS) prefix_ = std::max<std::uint64_t>(prefix_, s.offset() + s.size());
    }
    if (prefix_ > f.bytes().size()) return make_error(errc::program_table_out_of_bounds);
    return {};
  }

  template <class NewSize>
  result<void> place(const object_edits<L>& edits, std::uint32_t section_count, NewSize& new_size) {
    const auto& sections = edits.sections();
    // Unpinned kept sections in file order (ties by index).
    std::vector<std::uint32_t> order;
    for (auto s : sections) {
      if (!kept(edits, s)) continue;
      const std::uint32_t i = s.index().value;
      ELFSIEVE_TRY(size_[i], new_size(s));
      if (pinned_[i]) {
        if (size_[i] != s.size()) return make_error(errc::allocated_section_resized, s.index(), s.offset());
        offset_[i] = s.offset();
        continue;
      }
      order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return sections[section_index(a)].offset() < sections[section_index(b)].offset();
    });
    // Sections with file bytes in input file order; then each section without (SHT_NOBITS or empty) placed after
    // the nearest section before it in the section table, so that its offset does not depend on the input's.
    std::uint64_t at = prefix_;
    for (std::uint32_t i : order) {
      const auto s = sections[section_index(i)];
      if (s.type() == elf::SHT_NOBITS || size_[i] == 0) continue;
      at = detail::align_up(at, detail::file_alignment(s.addralign()));
      offset_[i] = at;
      at += size_[i];
    }
    std::uint64_t after_previous = prefix_;
    for (auto s : sections) {
      if (!kept(edits, s)) continue;
      const std::uint32_t i = s.index().value;
      if (s.type() != elf::SHT_NOBITS && size_[i] != 0) {
        after_previous = offset_[i] + size_[i];
        continue;
      }
      if (pinned_[i]) continue;
      offset_[i] = std::min(detail::align_up(after_previous, detail::file_alignment(s.addralign())), at);
    }
    shoff_ = detail::align_up(at, L::word_bytes);
    total_size_ = shoff_ + std::uint64_t{section_count} * sizeof(typename L::shdr);
    if (sections.size() == 0) {  // no section header table at all
      shoff_ = 0;
      total_size_ = at;
    }
    if (!L::is64 && total_size_ > 0xffffffffu) return make_error(errc::output_too_large);
    if (total_size_ > (std::uint64_t{1} << 40)) return make_error(errc::output_too_large);
    return {};
  }

  std::vector<std::uint64_t> offset_, size_;  // per input section (kept ones only)
  std::vector<bool> pinned_;
  std::vector<bool> outside_;  // per program header
  std::uint64_t prefix_ = 0, shoff_ = 0, total_size_ = 0;
  std::uint32_t segments_outside_file_ = 0;
  bool has_segments_ = false;
};

}  // namespace elfsieve
