// The runtime opener must refuse a temporary owning buffer too.
#include <cstddef>
#include <vector>

#include "elfsieve/elfsieve.hpp"

std::vector<std::byte> load_bytes();

bool visits() {
  auto count = [](const auto& f) { return static_cast<int>(f.type()); };
#ifdef ELFSIEVE_COMPILE_FAIL_CONTROL
  const std::vector<std::byte> bytes = load_bytes();
  return elfsieve::visit(bytes, count).has_value();
#else
  return elfsieve::visit(load_bytes(), count).has_value();
#endif
}
