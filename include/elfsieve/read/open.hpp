// The runtime opener: detect the layout of some bytes and call a generic visitor with the matching file<L>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <type_traits>

#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/core/layout.hpp"

namespace elfsieve {

enum class layout_id : std::uint8_t { le32, be32, le64, be64 };

[[nodiscard]] inline result<layout_id> detect_layout(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < elf::EI_NIDENT) return make_error_at(errc::truncated_header, 0);
  if (bytes[0] != std::byte{0x7f} || bytes[1] != std::byte{'E'} || bytes[2] != std::byte{'L'} ||
      bytes[3] != std::byte{'F'})
    return make_error_at(errc::bad_magic, 0);
  const auto cls = std::to_integer<std::uint8_t>(bytes[elf::EI_CLASS]);
  const auto data = std::to_integer<std::uint8_t>(bytes[elf::EI_DATA]);
  if (cls != elf::ELFCLASS32 && cls != elf::ELFCLASS64) return make_error_at(errc::bad_class, elf::EI_CLASS);
  if (data != elf::ELFDATA2LSB && data != elf::ELFDATA2MSB) return make_error_at(errc::bad_data_encoding, elf::EI_DATA);
  const bool little = data == elf::ELFDATA2LSB;
  if (cls == elf::ELFCLASS32) return little ? layout_id::le32 : layout_id::be32;
  return little ? layout_id::le64 : layout_id::be64;
}

namespace detail {
template <class R>
struct visit_result {
  using type = result<R>;
};
template <class R>
struct visit_result<result<R>> {
  using type = result<R>;
};
template <class V, class L>
decltype(auto) call_visitor(V& visitor, const file<L>& f) {
  using R = std::invoke_result_t<V&, const file<L>&>;
  using out = typename visit_result<R>::type;
  if constexpr (std::is_void_v<R>) {
    visitor(f);
    return out{};
  } else {
    return out(visitor(f));
  }
}
}  // namespace detail

// Calls visitor(const file<L>&) for the layout of `bytes`, written once as a generic lambda. The visitor returns
// the same type R (or result<R>) for every layout; visit returns result<R> carrying either its value or the
// error that stopped the file from opening.
template <class V>
auto visit(std::span<const std::byte> bytes, V&& visitor) {
  using R = std::invoke_result_t<V&, const file<elf64le>&>;
  using out = typename detail::visit_result<R>::type;
  static_assert(std::is_same_v<R, std::invoke_result_t<V&, const file<elf32le>&>> &&
                    std::is_same_v<R, std::invoke_result_t<V&, const file<elf32be>&>> &&
                    std::is_same_v<R, std::invoke_result_t<V&, const file<elf64be>&>>,
                "the visitor must return the same type for every layout");
  auto id = detect_layout(bytes);
  if (!id) return out(id.error());
  auto run = [&](auto tag) -> out {
    using L = decltype(tag);
    ELFSIEVE_TRY(const file<L> f, file<L>::create(bytes));
    return detail::call_visitor(visitor, f);
  };
  switch (id.value()) {
    case layout_id::le32: return run(elf32le{});
    case layout_id::be32: return run(elf32be{});
    case layout_id::le64: return run(elf64le{});
    case layout_id::be64: break;
  }
  return run(elf64be{});
}

// A view must not outlive its bytes: refuse to visit a temporary owning buffer.
template <class Owner, class V>
requires(std::is_rvalue_reference_v<Owner&&> && !std::ranges::borrowed_range<Owner> &&
         std::is_constructible_v<std::span<const std::byte>, Owner&&>) auto visit(Owner&&, V&&) = delete;

}  // namespace elfsieve
