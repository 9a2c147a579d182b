// REL field arithmetic: reading and writing each field width in both byte orders, the bounds of a section's
// contents, and when a folded value fits (a narrow field holds it signed or unsigned; an address-wide field
// wraps like S + A; r_addend is a signed word of the class).
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <limits>

#include "elfsieve/rewrite/rel_field.hpp"

using namespace elfsieve;

namespace {
template <std::size_t N>
std::array<std::byte, N> bytes(std::initializer_list<unsigned> v) {
  std::array<std::byte, N> out{};
  std::size_t i = 0;
  for (unsigned b : v) out[i++] = static_cast<std::byte>(b);
  return out;
}
}  // namespace

TEST_CASE("rel_field.reads_each_width_sign_extended_in_the_file_order", "[rel_field]") {
  const auto data = bytes<10>({0xff, 0xfe, 0x01, 0x02, 0x03, 0x84, 0x05, 0x06, 0x07, 0x88});
  CHECK(read_rel_field<elf32le>(data, 0, 1)->value == -1);
  CHECK(read_rel_field<elf32le>(data, 1, 2)->value == 0x01fe);
  CHECK(read_rel_field<elf32be>(data, 1, 2)->value == std::int16_t(-0x01ff));         // 0xfe01
  CHECK(read_rel_field<elf32le>(data, 2, 4)->value == 0x84030201ll - 0x100000000ll);  // 0x84030201 as int32
  CHECK(read_rel_field<elf32be>(data, 2, 4)->value == 0x01020384);
  CHECK(read_rel_field<elf64le>(data, 2, 8)->value == std::int64_t(0x8807060584030201ull));
  CHECK(read_rel_field<elf64be>(data, 2, 8)->value == 0x0102038405060788ll);
  CHECK(read_rel_field<elf64be>(data, 2, 8)->width == 8);
}

TEST_CASE("rel_field.refuses_fields_outside_the_contents_and_odd_widths", "[rel_field]") {
  const auto data = bytes<8>({1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(read_rel_field<elf64le>(data, 0, 8).has_value());
  CHECK_FALSE(read_rel_field<elf64le>(data, 1, 8).has_value());
  CHECK(read_rel_field<elf64le>(data, 4, 4).has_value());
  CHECK_FALSE(read_rel_field<elf64le>(data, 5, 4).has_value());
  CHECK_FALSE(read_rel_field<elf64le>(data, 9, 1).has_value());
  CHECK_FALSE(read_rel_field<elf64le>(data, ~std::uint64_t{0}, 2).has_value());
  for (int width : {0, 3, 5, 6, 7, 16})
    CHECK_FALSE(read_rel_field<elf64le>(data, 0, static_cast<std::uint8_t>(width)).has_value());
}

TEST_CASE("rel_field.writes_the_low_bytes_and_reads_back", "[rel_field]") {
  std::array<std::byte, 8> out{};
  CHECK(write_rel_field<elf32be>(out.data(), 2, 0x12345));
  CHECK(out[0] == std::byte{0x23});
  CHECK(out[1] == std::byte{0x45});
  CHECK(out[2] == std::byte{0});
  CHECK(write_rel_field<elf64le>(out.data(), 8, -2));
  CHECK(read_rel_field<elf64le>(out, 0, 8)->value == -2);
  CHECK(write_rel_field<elf32le>(out.data(), 1, 0x1ff));
  CHECK(out[0] == std::byte{0xff});
  CHECK(out[1] == std::byte{0xff});  // untouched: still from the 8-byte write
  out = {};
  CHECK_FALSE(write_rel_field<elf32le>(out.data(), 3, 0x7fffff));
  CHECK(out == std::array<std::byte, 8>{});
  for (int w : {1, 2, 4, 8}) {
    const auto width = static_cast<std::uint8_t>(w);
    CHECK(write_rel_field<elf32be>(out.data(), width, -100));
    CHECK(read_rel_field<elf32be>(out, 0, width)->value == -100);
  }
}

TEST_CASE("rel_field.fits_holds_the_sum_signed_or_unsigned", "[rel_field]") {
  using f32 = rel_field_value<elf32le>;
  using f64 = rel_field_value<elf64le>;
  // 1 byte: -128..255.
  CHECK(f32{100, 1}.fits(155));
  CHECK_FALSE(f32{100, 1}.fits(156));
  CHECK(f32{0, 1}.fits(-128));
  CHECK_FALSE(f32{0, 1}.fits(-129));
  // 2 bytes: -32768..65535.
  CHECK(f32{-1, 2}.fits(65536));
  CHECK_FALSE(f32{0, 2}.fits(65536));
  CHECK_FALSE(f32{0, 2}.fits(-32769));
  // 4 bytes is an address in ELF32 (wraps), not in ELF64.
  CHECK(f32{0x7fffffff, 4}.fits(0x7fffffffffffll));
  CHECK(f64{0, 4}.fits(0xffffffffll));
  CHECK_FALSE(f64{0, 4}.fits(0x100000000ll));
  CHECK_FALSE(f64{0, 4}.fits(-0x80000001ll));
  // 8 bytes wraps in ELF64; the sum itself never overflows the check.
  CHECK(f64{std::numeric_limits<std::int64_t>::max(), 8}.fits(1));
  CHECK_FALSE(f64{std::numeric_limits<std::int64_t>::max(), 2}.fits(1));
}

TEST_CASE("rel_field.addend_fits_the_signed_word_of_the_class", "[rel_field]") {
  CHECK(addend_fits<elf32le>(0x7ffffff0, 0xf));
  CHECK_FALSE(addend_fits<elf32le>(0x7ffffff0, 0x10));
  CHECK(addend_fits<elf32be>(-0x80000000ll, 0));
  CHECK_FALSE(addend_fits<elf32be>(-0x80000000ll, -1));
  CHECK(addend_fits<elf64le>(std::numeric_limits<std::int64_t>::max(), 0));
  CHECK_FALSE(addend_fits<elf64le>(std::numeric_limits<std::int64_t>::max(), 1));
  CHECK_FALSE(addend_fits<elf64le>(std::numeric_limits<std::int64_t>::min(), -1));
}

TEST_CASE("rel_field.position_is_a_section_offset_or_an_address", "[rel_field]") {
  CHECK(rel_field_position(elf::ET_REL, 0x1000, 0x10) == 0x10);
  CHECK(rel_field_position(elf::ET_DYN, 0x1000, 0x1010) == 0x10);
  CHECK(rel_field_position(elf::ET_EXEC, 0x1000, 0x1010) == 0x10);
}
