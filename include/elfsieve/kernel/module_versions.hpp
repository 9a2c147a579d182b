// A module's __versions section: the CRC modpost recorded for each symbol the module needs (CONFIG_MODVERSIONS).
// Learned from Linux 6.1 and 6.12 include/linux/module.h (struct modversion_info), scripts/mod/modpost.c
// (add_versions) and kernel/module/version.c (check_version).
//
// struct modversion_info { unsigned long crc; char name[MODULE_NAME_LEN]; }, MODULE_NAME_LEN being
// 64 - sizeof(unsigned long): 64 bytes per entry on 32-bit and 64-bit kernels, the CRC a word of the file's
// class and byte order, the name NUL-terminated inside its field. 6.12 keeps this layout (the extended
// __version_ext_crcs/__version_ext_names tables for long names came later, in 6.14). On ppc64 the loader strips
// one leading '.' from each name (dedotify_versions); this reader returns the names as stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"

namespace elfsieve::kernel {

inline constexpr std::size_t modversion_info_size = 64;

struct module_version {
  std::uint64_t crc = 0;  // unsigned long: the kernel compares it with the 32-bit CRC, so upper bits never match
  std::string_view name;  // into the file
};

struct module_versions {
  bool present = false;  // the module has a __versions section (the loader's info->index.vers)
  std::vector<module_version> entries;
};

// Reads __versions: the first SHF_ALLOC section of that name, as the loader's find_sec picks it.
template <elf_layout L>
[[nodiscard]] result<module_versions> read_module_versions(const section_table<L>& sections) {
  module_versions out;
  for (auto s : sections) {
    if (!s.has_flag(elf::SHF_ALLOC)) continue;
    auto name = sections.name(s);
    if (!name || *name != "__versions") continue;
    out.present = true;
    if (s.type() == elf::SHT_NOBITS) return out;
    ELFSIEVE_TRY(const auto data, sections.data(s));
    if (data.size() % modversion_info_size != 0)
      return with_detail(make_error(errc::versions_size, s.index(), s.offset()), data.size());
    constexpr std::size_t word = L::is64 ? 8 : 4;
    out.entries.reserve(data.size() / modversion_info_size);
    for (std::size_t at = 0; at < data.size(); at += modversion_info_size) {
      const std::byte* p = data.data() + at;
      module_version v;
      v.crc = word == 8 ? load<std::uint64_t, L::endianness>(p) : load<std::uint32_t, L::endianness>(p);
      const std::string_view field(reinterpret_cast<const char*>(p) + word, modversion_info_size - word);
      const auto end = field.find('\0');
      if (end == std::string_view::npos)
        return with_detail(make_error(errc::versions_name_unterminated, s.index(), s.offset() + at),
                           at / modversion_info_size);
      v.name = field.substr(0, end);
      out.entries.push_back(v);
    }
    return out;
  }
  return out;
}

}  // namespace elfsieve::kernel
