// A view borrows its bytes; building one over a temporary owning buffer would dangle, so it must not compile.
#include <cstddef>
#include <vector>

#include "elfsieve/elfsieve.hpp"

std::vector<std::byte> load_bytes();

bool opens() {
#ifdef ELFSIEVE_COMPILE_FAIL_CONTROL
  const std::vector<std::byte> bytes = load_bytes();
  return elfsieve::file<elfsieve::elf64le>::create(bytes).has_value();
#else
  return elfsieve::file<elfsieve::elf64le>::create(load_bytes()).has_value();
#endif
}
