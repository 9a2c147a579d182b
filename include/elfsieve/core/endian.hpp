// Endian-aware integer fields stored as byte arrays: alignment 1, readable at any offset of a mapped file.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace elfsieve {

namespace detail {
template <class U>
constexpr U byteswap(U v) noexcept {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return static_cast<U>(__builtin_bswap16(v));
  } else if constexpr (sizeof(U) == 4) {
    return static_cast<U>(__builtin_bswap32(v));
  } else {
    return static_cast<U>(__builtin_bswap64(v));
  }
}
}  // namespace detail

// Reads T (an integer) stored in byte order E from the first sizeof(T) bytes at p.
template <class T, std::endian E>
[[nodiscard]] inline T load(const std::byte* p) noexcept {
  using U = std::make_unsigned_t<T>;
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (E != std::endian::native) v = detail::byteswap(v);
  return static_cast<T>(v);
}

template <class T, std::endian E>
inline void store(std::byte* p, T value) noexcept {
  using U = std::make_unsigned_t<T>;
  auto v = static_cast<U>(value);
  if constexpr (E != std::endian::native) v = detail::byteswap(v);
  std::memcpy(p, &v, sizeof v);
}

// An integer field of an on-disk record.
template <class T, std::endian E>
struct endian_int {
  static_assert(std::is_integral_v<T>);
  using value_type = T;
  std::array<std::byte, sizeof(T)> raw;

  [[nodiscard]] T value() const noexcept { return load<T, E>(raw.data()); }
  void set(T v) noexcept { store<T, E>(raw.data(), v); }
};

}  // namespace elfsieve
