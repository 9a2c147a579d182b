// Facts about kernel modules that rewriting needs: whether an object is a module (the module loader, not a
// linker, reads it) and the signature scripts/sign-file appends after the ELF contents (see KERNEL.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/read/file.hpp"

namespace elfsieve::kernel {

// The marker sign-file writes at the very end of a signed module (include/linux/module_signature.h).
inline constexpr std::string_view module_signature_magic = "~Module signature appended~\n";

// A module has .modinfo (modpost's tags) or .gnu.linkonce.this_module (struct module); a plain object has neither.
template <elf_layout L>
[[nodiscard]] bool is_module(const section_table<L>& sections) noexcept {
  for (auto name : {".modinfo", ".gnu.linkonce.this_module"})
    if (sections.find(name)) return true;
  return false;
}

// What follows the last byte any header or section covers.
struct trailer_info {
  std::uint64_t bytes = 0;        // bytes after the ELF contents
  bool module_signature = false;  // they end in the module-signature marker
};

// Whether `bytes` ends in the module-signature marker.
[[nodiscard]] inline bool ends_with_module_signature(std::span<const std::byte> bytes) noexcept {
  const auto magic = module_signature_magic;
  if (bytes.size() < magic.size()) return false;
  const auto tail = bytes.subspan(bytes.size() - magic.size());
  return std::equal(magic.begin(), magic.end(), tail.begin(),
                    [](char a, std::byte b) { return static_cast<std::byte>(a) == b; });
}

// Measures the trailer: everything past the file header, both header tables, every segment's file bytes and
// every section with file bytes. A module signature lives there; a rewrite cannot keep it valid.
template <elf_layout L>
[[nodiscard]] trailer_info measure_trailer(const file<L>& f, const section_table<L>& sections) noexcept {
  const auto bytes = f.bytes();
  const auto& h = f.header();
  std::uint64_t end = sizeof(typename L::ehdr);
  end = std::max<std::uint64_t>(end, h.e_shoff.value() + std::uint64_t{sections.size()} * sizeof(typename L::shdr));
  if (auto ph = f.program_headers(); ph) {
    end = std::max<std::uint64_t>(end, h.e_phoff.value() + ph->size() * sizeof(typename L::phdr));
    for (const auto& p : ph.value()) end = std::max<std::uint64_t>(end, p.p_offset.value() + p.p_filesz.value());
  }
  for (auto s : sections)
    if (s.type() != elf::SHT_NOBITS) end = std::max<std::uint64_t>(end, s.offset() + s.size());
  trailer_info t;
  t.bytes = end < bytes.size() ? bytes.size() - end : 0;
  t.module_signature = t.bytes >= module_signature_magic.size() && ends_with_module_signature(bytes);
  return t;
}

}  // namespace elfsieve::kernel
