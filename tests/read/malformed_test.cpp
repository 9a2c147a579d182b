// The malformed suite: every case of support/malformed_cases.hpp becomes its own test case, named
// "malformed.cNN.what.layout" so the MALFORMED.md class shows in ctest's output.
#include <catch2/catch.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "support/malformed_cases.hpp"

namespace {

using namespace elfsieve;
using namespace elfsieve::testing;

const std::vector<malformed_case>& cases() {
  static const std::vector<malformed_case> all = all_malformed_cases();
  return all;
}

void run_case(const malformed_case& c) {
  INFO("case " << c.name);
  const prepared p = c.make();
  // A fresh buffer of exactly the input's size, so a read one byte past the end is a heap overflow ASan reports.
  const std::vector<std::byte> bytes(p.bytes.begin(), p.bytes.end());
  const outcome o = c.probe(std::span<const std::byte>(bytes.data(), bytes.size()));
  if (!c.expected) {
    if (o.failure) INFO("unexpected error: " << to_string(*o.failure));
    CHECK_FALSE(o.failure.has_value());
    CHECK(o.mismatch == "");
    return;
  }
  REQUIRE(o.mismatch == "");
  REQUIRE(o.failure.has_value());
  const error& e = *o.failure;
  CHECK(std::string_view(e.message) == to_string(e.code));
  CHECK(std::string_view(to_string(e.code)) == to_string(*c.expected));
  if (p.section) CHECK(e.section == section_index(*p.section));
  if (p.offset) CHECK(e.offset == *p.offset);
  if (p.detail) CHECK(e.detail == *p.detail);
  if (p.no_section) CHECK_FALSE(e.section.has_value());
}

class case_invoker final : public Catch::ITestInvoker {
 public:
  explicit case_invoker(std::size_t index) : index_(index) {}
  void invoke() const override { run_case(cases().at(index_)); }

 private:
  std::size_t index_;
};

// Registers one Catch2 test case per table entry (what TEST_CASE does, with a name known only at run time).
const bool registered = [] {
  for (std::size_t i = 0; i < cases().size(); ++i) {
    const std::string name = "malformed." + cases()[i].name;
    const Catch::AutoReg reg(new case_invoker(i), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                             Catch::NameAndTags{name, "[malformed]"});
  }
  return true;
}();

TEST_CASE("malformed.suite.covers_every_class", "[malformed]") {
  REQUIRE(registered);
  std::set<std::string> names;
  std::set<int> classes;
  for (const auto& c : cases()) {
    CHECK(names.insert(c.name).second);
    classes.insert(c.malformed_class);
  }
  // At least 30 distinct inputs per layout, and classes 1-24 (plus 25-27) each have one.
  CHECK(cases().size() >= 4 * 30);
  for (int cls = 1; cls <= 27; ++cls) {
    INFO("class " << cls);
    CHECK(classes.count(cls) == 1);
  }
}

}  // namespace
