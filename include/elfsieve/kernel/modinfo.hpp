// A module's .modinfo tags and its name, as the module loader reads them (Linux 6.1 and 6.12
// kernel/module/main.c: get_modinfo/get_next_modinfo, set_license; include/linux/license.h; struct module).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/read/file.hpp"

namespace elfsieve::kernel {

// The values of `key=` tags in .modinfo (NUL-separated key=value strings, zero padding allowed between them),
// in order. for_each_modinfo_value(modinfo, "import_ns", f) calls f(value) for each; f returns false to stop.
template <class F>
void for_each_modinfo_value(std::span<const std::byte> modinfo, std::string_view key, F&& f) {
  const std::string_view text(reinterpret_cast<const char*>(modinfo.data()), modinfo.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\0', pos);
    if (end == std::string_view::npos) end = text.size();
    const auto entry = text.substr(pos, end - pos);
    if (entry.size() > key.size() && entry.starts_with(key) && entry[key.size()] == '=')
      if (!f(entry.substr(key.size() + 1))) return;
    pos = end + 1;
  }
}

// The first value of `key=` in .modinfo, or empty (get_modinfo).
[[nodiscard]] inline std::string_view modinfo_value(std::span<const std::byte> modinfo, std::string_view key) noexcept {
  std::string_view found;
  for_each_modinfo_value(modinfo, key, [&](std::string_view v) {
    found = v;
    return false;
  });
  return found;
}

// license_is_gpl_compatible() of include/linux/license.h (the same list in 6.1 and 6.12).
[[nodiscard]] constexpr bool license_is_gpl_compatible(std::string_view license) noexcept {
  constexpr std::string_view gpl[] = {"GPL",          "GPL v2",       "GPL and additional rights",
                                      "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"};
  return std::find(std::begin(gpl), std::end(gpl), license) != std::end(gpl);
}

// struct module { enum module_state state; struct list_head list; char name[MODULE_NAME_LEN]; ... }: name sits
// after an int and two pointers (padded to pointer alignment), MODULE_NAME_LEN = 64 - sizeof(unsigned long).
// The name in .gnu.linkonce.this_module's bytes, or empty.
template <elf_layout L>
[[nodiscard]] std::string_view this_module_name(std::span<const std::byte> this_module) noexcept {
  constexpr std::size_t pointer = L::is64 ? 8 : 4;
  constexpr std::size_t offset = 3 * pointer;
  constexpr std::size_t capacity = 64 - pointer;
  if (this_module.size() < offset + 1) return {};
  const auto bytes = this_module.subspan(offset, std::min(capacity, this_module.size() - offset));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.substr(0, text.find('\0'));
}

// What the loader reads of a module before it links it: its name (struct module's, else .modinfo name=), the
// .modinfo bytes, and whether the first license= tag is GPL-compatible (set_license: a missing tag is
// "unspecified", which is not).
struct module_facts {
  std::string_view name;
  std::span<const std::byte> modinfo;
  bool gpl_compatible = false;
};

template <elf_layout L>
[[nodiscard]] module_facts read_module_facts(const section_table<L>& sections) noexcept {
  module_facts m;
  std::span<const std::byte> this_module;
  bool have_modinfo = false, have_this_module = false;
  for (auto s : sections) {
    auto name = sections.name(s);
    if (!name) continue;
    if (!have_modinfo && *name == ".modinfo") {
      if (auto d = sections.data(s)) m.modinfo = *d, have_modinfo = true;
    } else if (!have_this_module && *name == ".gnu.linkonce.this_module") {
      if (auto d = sections.data(s)) this_module = *d, have_this_module = true;
    }
  }
  m.name = this_module_name<L>(this_module);
  if (m.name.empty()) m.name = modinfo_value(m.modinfo, "name");
  m.gpl_compatible = license_is_gpl_compatible(modinfo_value(m.modinfo, "license"));
  return m;
}

}  // namespace elfsieve::kernel
