// How Catch prints the library's index types (precompiled into every test, after catch.hpp).
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "elfsieve/core/index.hpp"

namespace Catch {
template <>
struct StringMaker<elfsieve::section_index> {
  static std::string convert(elfsieve::section_index i) { return "section " + std::to_string(i.value); }
};
template <>
struct StringMaker<elfsieve::symbol_index> {
  static std::string convert(elfsieve::symbol_index i) { return "symbol " + std::to_string(i.value); }
};
}  // namespace Catch
