// One forward iterator for every table indexed 0..size(): it yields (*owner)[Index(i)].
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

namespace elfsieve::detail {

template <class Owner, class Index>
class index_iterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = decltype(std::declval<const Owner&>()[Index{}]);
  using difference_type = std::ptrdiff_t;

  index_iterator() = default;
  index_iterator(const Owner* owner, std::size_t i) noexcept : owner_(owner), i_(i) {}

  value_type operator*() const noexcept { return (*owner_)[Index(static_cast<std::uint32_t>(i_))]; }
  index_iterator& operator++() noexcept {
    ++i_;
    return *this;
  }
  index_iterator operator++(int) noexcept {
    auto old = *this;
    ++i_;
    return old;
  }
  friend bool operator==(const index_iterator& a, const index_iterator& b) noexcept { return a.i_ == b.i_; }

 private:
  const Owner* owner_ = nullptr;
  std::size_t i_ = 0;
};

}  // namespace elfsieve::detail
