// mapped_file::bytes() on a temporary would hand out a span into memory unmapped at the end of the statement.
#include <cstddef>
#include <span>

#include "elfsieve/elfsieve.hpp"

std::size_t size_of(const char* path) {
#ifdef ELFSIEVE_COMPILE_FAIL_CONTROL
  auto mapped = elfsieve::mapped_file::open(path);
  return mapped ? mapped->bytes().size() : 0;
#else
  std::span<const std::byte> bytes = elfsieve::mapped_file::open(path).value().bytes();
  return bytes.size();
#endif
}
