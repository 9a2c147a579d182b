// kernel::read_module_versions against GNU readelf: `readelf -x __versions` decoded here as struct modversion_info
// (include/linux/module.h: an unsigned long CRC, then the NUL-terminated name, 64 bytes per entry) over every corpus
// module; and the two malformed cases on mutated copies (a size that is not whole entries, a name without a NUL).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/module_versions.hpp"
#include "elfsieve/read/open.hpp"
#include "support/corpus.hpp"
#include "support/corpus_modules.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/readelf_dump.hpp"

using namespace elfsieve::test;

namespace {

struct entry {
  std::uint64_t crc = 0;
  std::string name;
  bool operator==(const entry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const entry& e) { return os << std::hex << "0x" << e.crc << ' ' << e.name; }

struct library_view {
  bool present = false;
  std::vector<entry> entries;
  std::optional<elfsieve::error> error;
  elfsieve::section_index versions_section{};
  std::uint64_t versions_offset = 0;
};

library_view read_versions(std::span<const std::byte> bytes) {
  library_view v;
  auto done = elfsieve::visit(bytes, [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    auto r = elfsieve::kernel::read_module_versions(sections);
    if (!r) {
      v.error = r.error();
      return {};
    }
    v.present = r->present;
    for (const auto& e : r->entries) v.entries.push_back({e.crc, std::string(e.name)});
    return {};
  });
  REQUIRE(done);
  return v;
}

// The section header field `field_offset` (bytes into Elf32_Shdr/Elf64_Shdr) of section `index`, as written in the
// ELF header's e_shoff: the file offset of that field.
std::size_t section_header_field(const std::vector<std::byte>& bytes, const readelf::dump& d, unsigned index,
                                 std::size_t field32, std::size_t field64) {
  const std::uint64_t shoff =
      d.is64 ? d.load(std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()) + 0x28,
                                                reinterpret_cast<const std::uint8_t*>(bytes.data()) + 0x30),
                      0, 8)
             : d.load(std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()) + 0x20,
                                                reinterpret_cast<const std::uint8_t*>(bytes.data()) + 0x24),
                      0, 4);
  return static_cast<std::size_t>(shoff + index * (d.is64 ? 64u : 40u) + (d.is64 ? field64 : field32));
}

void store(std::vector<std::byte>& bytes, std::size_t at, std::uint64_t v, unsigned width, bool big_endian) {
  for (unsigned i = 0; i < width; ++i)
    bytes.at(at + (big_endian ? width - 1 - i : i)) = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

}  // namespace

TEST_CASE("__versions of every corpus module equal readelf -x __versions", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  std::size_t files = 0, with_versions = 0, entries = 0;
  for (const auto& m : corpus_modules()) {
    INFO(m.name);
    const auto d = readelf::run(m.path, {"__versions"}, false, false);
    REQUIRE(d.error.empty());
    std::vector<entry> theirs;
    const auto* sec = d.find("__versions");
    if (sec != nullptr) {
      const auto& bytes = d.hex.at("__versions");
      REQUIRE(bytes.size() == sec->size);
      REQUIRE(bytes.size() % 64 == 0);
      const unsigned word = d.is64 ? 8 : 4;
      for (std::size_t at = 0; at < bytes.size(); at += 64) {
        entry e;
        e.crc = d.load(bytes, at, word);
        for (std::size_t i = at + word; i < at + 64 && bytes[i] != 0; ++i) e.name += static_cast<char>(bytes[i]);
        theirs.push_back(e);
      }
    }
    const auto file_bytes = read_bytes(m.path);
    const auto ours = read_versions(file_bytes);
    REQUIRE_FALSE(ours.error);
    CHECK(ours.present == (sec != nullptr));
    CHECK(ours.entries == theirs);
    ++files;
    with_versions += sec != nullptr ? 1 : 0;
    entries += theirs.size();
  }
  // Every corpus module was built with CONFIG_MODVERSIONS (Debian's and the cross builds).
  CHECK(files >= 110);
  CHECK(with_versions == files);
  CHECK(entries >= 3000);
  WARN("compared " << files << " modules, " << entries << " __versions entries");
}

TEST_CASE("__versions: a size that is not whole entries, a name without a NUL", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  for (const char* name : {"x86_64/libcrc32c.ko", "i386/libcrc32c.ko", "ppc64le/libcrc32c.ko", "ppc32/libcrc32c.ko",
                           "ppc64/libcrc32c.ko"}) {
    INFO(name);
    const auto path = corpus_dir() / name;
    const auto d = readelf::run(path, {}, false, false);
    REQUIRE(d.error.empty());
    const auto* sec = d.find("__versions");
    REQUIRE(sec != nullptr);
    REQUIRE(sec->size >= 128);
    const auto original = read_bytes(path);
    const auto base = read_versions(original);
    REQUIRE_FALSE(base.error);
    REQUIRE(base.entries.size() == sec->size / 64);

    {
      INFO("sh_size one short of whole entries");
      auto bytes = original;
      store(bytes, section_header_field(bytes, d, sec->index, 20, 32), sec->size - 1, d.is64 ? 8 : 4, d.big_endian);
      const auto v = read_versions(bytes);
      REQUIRE(v.error);
      CHECK(v.error->code == elfsieve::errc::versions_size);
      CHECK(v.error->section == elfsieve::section_index{sec->index});
      CHECK(v.error->offset == sec->offset);
      CHECK(v.error->detail == sec->size - 1);
    }
    {
      INFO("sh_size one entry and a half");
      auto bytes = original;
      store(bytes, section_header_field(bytes, d, sec->index, 20, 32), 96, d.is64 ? 8 : 4, d.big_endian);
      const auto v = read_versions(bytes);
      REQUIRE(v.error);
      CHECK(v.error->code == elfsieve::errc::versions_size);
      CHECK(v.error->detail == 96u);
    }
    {
      INFO("the second entry's name fills its field");
      auto bytes = original;
      const std::size_t word = d.is64 ? 8 : 4;
      for (std::size_t i = word; i < 64; ++i) bytes.at(static_cast<std::size_t>(sec->offset) + 64 + i) = std::byte{'A'};
      const auto v = read_versions(bytes);
      REQUIRE(v.error);
      CHECK(v.error->code == elfsieve::errc::versions_name_unterminated);
      CHECK(v.error->section == elfsieve::section_index{sec->index});
      CHECK(v.error->offset == sec->offset + 64);
      CHECK(v.error->detail == 1u);
    }
    {
      INFO("a name of 55/59 bytes plus its NUL is whole");
      auto bytes = original;
      const std::size_t word = d.is64 ? 8 : 4;
      for (std::size_t i = word; i < 63; ++i) bytes.at(static_cast<std::size_t>(sec->offset) + i) = std::byte{'B'};
      bytes.at(static_cast<std::size_t>(sec->offset) + 63) = std::byte{0};
      const auto v = read_versions(bytes);
      REQUIRE_FALSE(v.error);
      REQUIRE(!v.entries.empty());
      CHECK(v.entries[0].name == std::string(63 - word, 'B'));
      CHECK(v.entries[0].crc == base.entries[0].crc);
    }
    {
      INFO("no __versions section: present is false");
      auto bytes = original;
      // Rename it: the first byte of its name in .shstrtab becomes 'X'.
      const auto* shstrtab = d.find(".shstrtab");
      REQUIRE(shstrtab != nullptr);
      const auto name_field = section_header_field(bytes, d, sec->index, 0, 0);
      const auto name_offset =
          d.load(std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()) + name_field,
                                           reinterpret_cast<const std::uint8_t*>(bytes.data()) + name_field + 4),
                 0, 4);
      bytes.at(static_cast<std::size_t>(shstrtab->offset + name_offset)) = std::byte{'X'};
      const auto v = read_versions(bytes);
      REQUIRE_FALSE(v.error);
      CHECK_FALSE(v.present);
      CHECK(v.entries.empty());
    }
  }
}
