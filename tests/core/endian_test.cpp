// endian_int / load / store: byte order chosen at compile time, any alignment.
#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/layout.hpp"

using namespace elfsieve;

namespace {
template <std::size_t N>
std::array<std::byte, N> bytes(const std::array<unsigned, N>& v) {
  std::array<std::byte, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::byte>(v[i]);
  return out;
}
}  // namespace

TEST_CASE("endian.load_both_orders", "[endian]") {
  const auto b = bytes<8>({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  CHECK(load<std::uint16_t, std::endian::little>(b.data()) == 0x0201u);
  CHECK(load<std::uint16_t, std::endian::big>(b.data()) == 0x0102u);
  CHECK(load<std::uint32_t, std::endian::little>(b.data()) == 0x04030201u);
  CHECK(load<std::uint32_t, std::endian::big>(b.data()) == 0x01020304u);
  CHECK(load<std::uint64_t, std::endian::little>(b.data()) == 0x0807060504030201ull);
  CHECK(load<std::uint64_t, std::endian::big>(b.data()) == 0x0102030405060708ull);
  // At an odd address: fields have alignment 1.
  CHECK(load<std::uint32_t, std::endian::big>(b.data() + 1) == 0x02030405u);
  CHECK(load<std::uint64_t, std::endian::little>(b.data()) != 0u);
}

TEST_CASE("endian.signed_values", "[endian]") {
  const auto minus_two = bytes<4>({0xff, 0xff, 0xff, 0xfe});
  CHECK(load<std::int32_t, std::endian::big>(minus_two.data()) == -2);
  CHECK(load<std::int32_t, std::endian::little>(minus_two.data()) == -16777217);
  std::array<std::byte, 8> out{};
  store<std::int64_t, std::endian::little>(out.data(), -3);
  CHECK(out == bytes<8>({0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  CHECK(load<std::int64_t, std::endian::little>(out.data()) == -3);
}

TEST_CASE("endian.store_both_orders", "[endian]") {
  std::array<std::byte, 4> out{};
  store<std::uint32_t, std::endian::big>(out.data(), 0xa1b2c3d4u);
  CHECK(out == bytes<4>({0xa1, 0xb2, 0xc3, 0xd4}));
  store<std::uint32_t, std::endian::little>(out.data(), 0xa1b2c3d4u);
  CHECK(out == bytes<4>({0xd4, 0xc3, 0xb2, 0xa1}));
  std::array<std::byte, 2> half{};
  store<std::uint16_t, std::endian::big>(half.data(), 0xbeefu);
  CHECK(half == bytes<2>({0xbe, 0xef}));
}

TEST_CASE("endian.endian_int_fields", "[endian]") {
  endian_int<std::uint64_t, std::endian::big> be{};
  be.set(0x1122334455667788ull);
  CHECK(be.raw == bytes<8>({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}));
  CHECK(be.value() == 0x1122334455667788ull);
  endian_int<std::uint16_t, std::endian::little> le{};
  le.set(0x1234);
  CHECK(le.raw == bytes<2>({0x34, 0x12}));
  CHECK(le.value() == 0x1234u);
  static_assert(alignof(endian_int<std::uint64_t, std::endian::big>) == 1);
  static_assert(sizeof(endian_int<std::uint32_t, std::endian::little>) == 4);
  CHECK(detail::byteswap(std::uint32_t{0x01020304}) == 0x04030201u);
  CHECK(detail::byteswap(std::uint8_t{0x7f}) == 0x7fu);
}

TEST_CASE("endian.layout_records_read_in_their_order", "[endian]") {
  // The same section header bytes read by the big- and little-endian layouts.
  elf32be::shdr be{};
  be.sh_type.set(2);
  std::array<std::byte, 4> raw{};
  std::memcpy(raw.data(), &be.sh_type, 4);
  CHECK(raw == bytes<4>({0, 0, 0, 2}));
  elf32le::shdr le{};
  std::memcpy(&le, &be, sizeof le);
  CHECK(le.sh_type.value() == 0x02000000u);
  elf64be::sym s{};
  s.st_value.set(0x0102030405060708ull);
  const auto* p = reinterpret_cast<const std::byte*>(&s) + 8;  // st_value follows name, info, other, shndx
  CHECK(std::to_integer<unsigned>(p[0]) == 1u);
  CHECK(std::to_integer<unsigned>(p[7]) == 8u);
}
