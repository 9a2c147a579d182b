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
    std::vector<std::uint32_t> order(n);
    for (std::uint32_t i = 0; i < n; ++i) order[i] = i;
    // Sorted by reversed text, a name is immediately followed by the names it is a suffix of.
    auto reversed_less = [&](std::uint32_t a, std::uint32_t b) {
      const std::string_view x = names_[a], y = names_[b];
      const bool r = std::lexicographical_compare(x.rbegin(), x.rend(), y.rbegin(), y.rend());
      if (r) return true;
      if (std::lexicographical_compare(y.rbegin(), y.rend(), x.rbegin(), x.rend())) return false;
      return a < b;  // equal names: keep a deterministic order
    };
    std::sort(order.begin(), order.end(), reversed_less);
    offsets_.assign(n, 0);
    bytes_.assign(1, std::byte{0});
    std::string_view previous;
    std::uint32_t previous_offset = 0;
    bool have_previous = false;
    for (std::size_t k = n; k-- > 0;) {
      const std::string_view name = names_[order[k]];
      if (name.empty()) {
        offsets_[order[k]] = 0;
        continue;
      }
      if (have_previous && previous.ends_with(name)) {
        offsets_[order[k]] = previous_offset + static_cast<std::uint32_t>(previous.size() - name.size());
        continue;
      }
      previous = name;
      previous_offset = static_cast<std::uint32_t>(bytes_.size());
      have_previous = true;
      offsets_[order[k]] = previous_offset;
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
  std::vector<std::string_view> names_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::byte> bytes_;
};

}  // namespace elfsieve
