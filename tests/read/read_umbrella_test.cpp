// The read-only umbrella is enough to parse: this file includes nothing else of elfsieve's (and, through it, no
// POSIX header: scripts/check-layers.py checks that part).
#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include "elfsieve/read.hpp"
#include "support/files.hpp"

using namespace elfsieve;

TEST_CASE("read.hpp: parse a corpus module with the read-only umbrella alone", "[read][umbrella]") {
  const std::vector<std::byte> bytes = test::read_bytes(ELFSIEVE_SOURCE_DIR "/corpus/x86_64-tiny/crc8.ko");
  REQUIRE(!bytes.empty());
  auto defined = visit(std::span<const std::byte>(bytes), [](const auto& f) -> result<std::size_t> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    ELFSIEVE_TRY(const auto symtab, find_symbol_table(sections, elf::SHT_SYMTAB));
    ELFSIEVE_TRY(const auto index, build_reloc_index(sections));
    std::size_t named = 0;
    for (auto s : symtab) named += index.is_referenced(symtab.section(), s.index()) ? 1u : 0u;
    return named;
  });
  REQUIRE(defined);
  CHECK(*defined > 0u);
}
