// The string-table builder: every name resolves to its offset, a name that ends another shares its bytes (tail
// merging), and the table depends only on the set of names, not the order they were added in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
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
