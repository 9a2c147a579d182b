// Builds an ELF string table from names that live elsewhere (string_views into the input file): equal names are
// stored once and a name that ends another one shares its bytes (tail merging, as BFD and LLVM do). Offsets depend
// only on the set of names, so the same input always gives the same table.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace elfsieve {

class strtab_builder {
 public:
  // Adds a name and returns its handle (for offset()). The view must stay valid until finish().
  std::uint32_t add(std::string_view name) {
    names_.push_back(name);
    return static_cast<std::uint32_t>(names_.size() - 1);
  }

  // Lays the table out: a leading NUL, then the names. Returns the table's size.
  std::size_t finish() {
    const std::size_t n = names_.size();
    // Sorted by reversed text (bytes compared as char, as std::lexicographical_compare does), a name is
    // immediately followed by the names it is a suffix of; equal names keep their order. The sort compares a key
    // first, the last eight bytes packed so that integer order is that order, and the texts only on equal keys:
    // most comparisons are one integer comparison instead of two byte loops.
    order_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) order_[i] = {reversed_key(names_[i]), i};
    std::sort(order_.begin(), order_.end(), [&](const keyed& a, const keyed& b) {
      if (a.key != b.key) return a.key < b.key;
      const int c = compare_reversed(names_[a.index], names_[b.index]);
      return c != 0 ? c < 0 : a.index < b.index;
    });
    offsets_.assign(n, 0);
    bytes_.assign(1, std::byte{0});
    std::string_view previous;
    std::uint32_t previous_offset = 0;
    bool have_previous = false;
    for (std::size_t k = n; k-- > 0;) {
      const std::uint32_t handle = order_[k].index;
      const std::string_view name = names_[handle];
      if (name.empty()) {
        offsets_[handle] = 0;
        continue;
      }
      if (have_previous && previous.ends_with(name)) {
        offsets_[handle] = previous_offset + static_cast<std::uint32_t>(previous.size() - name.size());
        continue;
      }
      previous = name;
      previous_offset = static_cast<std::uint32_t>(bytes_.size());
      have_previous = true;
      offsets_[handle] = previous_offset;
      const auto* p = reinterpret_cast<const std::byte*>(name.data());
      bytes_.insert(bytes_.end(), p, p + name.size());
      bytes_.push_back(std::byte{0});
    }
    return bytes_.size();
  }

  // After finish(): the offset of the name added as `handle`, and the table's bytes.
  [[nodiscard]] std::uint32_t offset(std::uint32_t handle) const noexcept { return offsets_[handle]; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

 private:
  struct keyed {
    std::uint64_t key;
    std::uint32_t index;
  };

  // The last eight bytes, last first, each as (unsigned char)(c ^ 0x80) so that unsigned order is char order;
  // missing bytes (a shorter name) are 0. key(a) < key(b) implies a < b in reversed order; equal keys say nothing.
  [[nodiscard]] static std::uint64_t reversed_key(std::string_view name) noexcept {
    std::uint64_t key = 0;
    const std::size_t n = name.size() < 8 ? name.size() : 8;
    for (std::size_t k = 0; k < 8; ++k) {
      const std::uint64_t byte =
          k < n ? static_cast<unsigned char>(static_cast<unsigned char>(name[name.size() - 1 - k]) ^ 0x80u) : 0u;
      key = (key << 8) | byte;
    }
    return key;
  }

  // Three-way comparison of the reversed texts, bytes as char.
  [[nodiscard]] static int compare_reversed(std::string_view x, std::string_view y) noexcept {
    const char* a = x.data() + x.size();
    const char* b = y.data() + y.size();
    for (std::size_t n = x.size() < y.size() ? x.size() : y.size(); n > 0; --n) {
      --a;
      --b;
      if (*a != *b) return *a < *b ? -1 : 1;
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }

  std::vector<keyed> order_;
  std::vector<std::string_view> names_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::byte> bytes_;
};

}  // namespace elfsieve
