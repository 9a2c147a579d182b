// string_table: every offset bounds-checked, every table NUL-terminated.
#include <catch2/catch.hpp>

#include <cstddef>
#include <string_view>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

TEST_CASE("strings.lookup", "[strings]") {
  const byte_vector bytes = bytes_of(std::string_view("\0.text\0.rela.text\0", 18));
  auto table = string_table::create(bytes, section_index(7), 0x100);
  REQUIRE(table);
  CHECK(table->section() == section_index(7));
  CHECK(table->bytes().size() == 18u);
  CHECK_FALSE(table->empty());
  CHECK(table->get(0).value() == "");
  CHECK(table->get(1).value() == ".text");
  CHECK(table->get(7).value() == ".rela.text");
  CHECK(table->get(12).value() == ".text");  // suffix sharing, as linkers do
  CHECK(table->get(17).value() == "");
  auto past = table->get(18);
  REQUIRE_FALSE(past);
  CHECK(past.error().code == errc::string_out_of_range);
  CHECK(past.error().section == section_index(7u));
  CHECK(past.error().offset == 0x100u + 18u);
  CHECK(table->get(~std::uint64_t{0}).error().code == errc::string_out_of_range);
}

TEST_CASE("strings.table_must_be_terminated_and_non_empty", "[strings]") {
  const byte_vector unterminated = bytes_of(std::string_view("\0abc", 4));
  auto bad = string_table::create(unterminated, section_index(3), 0x40);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::string_table_not_terminated);
  CHECK(bad.error().section == section_index(3u));
  CHECK(bad.error().offset == 0x43u);

  auto empty = string_table::create({}, section_index(4), 0x80);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == errc::empty_string_table);
  CHECK(empty.error().section == section_index(4u));
  CHECK(empty.error().offset == 0x80u);

  const byte_vector only_nul(1, std::byte{0});
  auto minimal = string_table::create(only_nul, section_index(1), 0);
  REQUIRE(minimal);
  CHECK(minimal->get(0).value() == "");
  CHECK_FALSE(minimal->get(1));
}

TEST_CASE("strings.default_table_has_no_strings", "[strings]") {
  const string_table none;
  CHECK(none.empty());
  CHECK(none.get(0).error().code == errc::string_out_of_range);
}

TEST_CASE("strings.builder_round_trip", "[strings]") {
  string_table_builder b;
  const auto foo = b.add("foo");
  const auto empty = b.add("");
  const auto bar = b.add("bar");
  auto table = string_table::create(b.bytes(), section_index(1), 0);
  REQUIRE(table);
  CHECK(empty == 0u);
  CHECK(table->get(foo).value() == "foo");
  CHECK(table->get(bar).value() == "bar");
}
