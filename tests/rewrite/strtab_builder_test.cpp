// The string-table builder: every name resolves to its offset, a name that ends another shares its bytes (tail
// merging), and the table depends only on the set of names, not the order they were added in. The keyed sort gives
// the bytes of the plain one (reversed texts compared with std::lexicographical_compare) for random names with
// shared suffixes, bytes >= 0x80 and names shorter and longer than the eight-byte key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/rewrite/strtab_builder.hpp"

using namespace elfsieve;

TEST_CASE("strtab_builder.tail_merging_and_determinism", "[strtab_builder]") {
  const std::vector<std::string> names = {"__kstrtab_foo", "foo", "oo", "bar", "foo", "", "kstrtab_foo", "zfoo"};
  auto build = [&](std::vector<std::string> order) {
    strtab_builder b;
    std::vector<std::uint32_t> handles;
    for (const auto& n : order) handles.push_back(b.add(n));
    b.finish();
    const auto bytes = b.bytes();
    REQUIRE(!bytes.empty());
    CHECK(bytes.front() == std::byte{0});
    CHECK(bytes.back() == std::byte{0});
    for (std::size_t i = 0; i < order.size(); ++i) {
      const char* at = reinterpret_cast<const char*>(bytes.data()) + b.offset(handles[i]);
      CHECK(std::string_view(at) == order[i]);
    }
    return std::vector<std::byte>(bytes.begin(), bytes.end());
  };
  const auto a = build(names);
  auto reversed = names;
  std::reverse(reversed.begin(), reversed.end());
  CHECK(build(reversed) == a);  // the same set of names gives the same table
  // "__kstrtab_foo", "kstrtab_foo", "foo", "oo" share one copy; "bar" and "zfoo" have their own.
  CHECK(a.size() == 1 + sizeof("__kstrtab_foo") + sizeof("bar") + sizeof("zfoo"));
}

TEST_CASE("strtab_builder.empty_table_is_one_nul", "[strtab_builder]") {
  strtab_builder b;
  const auto empty = b.add("");
  CHECK(b.finish() == 1);
  CHECK(b.offset(empty) == 0);
  CHECK(b.bytes().size() == 1);
}

namespace {

// The table as the builder laid it out before the keyed sort: the reference the keyed sort must reproduce.
std::vector<std::byte> reference_table(const std::vector<std::string>& names, std::vector<std::uint32_t>& offsets) {
  std::vector<std::uint32_t> order(names.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const std::string_view x = names[a], y = names[b];
    if (std::lexicographical_compare(x.rbegin(), x.rend(), y.rbegin(), y.rend())) return true;
    if (std::lexicographical_compare(y.rbegin(), y.rend(), x.rbegin(), x.rend())) return false;
    return a < b;
  });
  std::vector<std::byte> bytes(1, std::byte{0});
  offsets.assign(names.size(), 0);
  std::string_view previous;
  std::uint32_t previous_offset = 0;
  for (std::size_t k = order.size(); k-- > 0;) {
    const std::string_view name = names[order[k]];
    if (name.empty()) continue;
    if (!previous.empty() && previous.ends_with(name)) {
      offsets[order[k]] = previous_offset + static_cast<std::uint32_t>(previous.size() - name.size());
      continue;
    }
    previous = name;
    previous_offset = static_cast<std::uint32_t>(bytes.size());
    offsets[order[k]] = previous_offset;
    for (char c : name) bytes.push_back(static_cast<std::byte>(c));
    bytes.push_back(std::byte{0});
  }
  return bytes;
}

}  // namespace

TEST_CASE("strtab_builder.keyed_sort_lays_out_as_the_plain_sort", "[strtab_builder]") {
  std::mt19937 random(15);
  const std::vector<std::string> suffixes = {"", "_init", "_exit", "_ops", "\x80", "\xff_x", "a\x80\x80"};
  for (int round = 0; round < 200; ++round) {
    INFO("round " << round);
    std::vector<std::string> names;
    const int count = static_cast<int>(random() % 60);
    for (int i = 0; i < count; ++i) {
      std::string name;
      const int length = static_cast<int>(random() % 14);
      for (int k = 0; k < length; ++k) {
        const unsigned pick = random() % 8;
        name += pick == 0 ? static_cast<char>(0x80 + random() % 128) : static_cast<char>('a' + random() % 3);
      }
      name += suffixes[random() % suffixes.size()];
      names.push_back(name);
      if (random() % 5 == 0) names.push_back(name.substr(random() % (name.size() + 1)));  // a suffix of it
    }
    strtab_builder b;
    std::vector<std::uint32_t> handles;
    for (const auto& n : names) handles.push_back(b.add(n));
    b.finish();
    std::vector<std::uint32_t> expected_offsets;
    const auto expected = reference_table(names, expected_offsets);
    CHECK(std::vector<std::byte>(b.bytes().begin(), b.bytes().end()) == expected);
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(b.offset(handles[i]) == expected_offsets[i]);
  }
}
