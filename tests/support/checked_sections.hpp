// The section table of a built image, REQUIREd to open: the preamble most unit tests share.
#pragma once

#include <catch2/catch.hpp>

#include "support/elf_builder.hpp"

namespace elfsieve::testing {

// A section_table borrows only the image's bytes, so it outlives the file<L> it came from.
template <elf_layout L>
result<section_table<L>> checked_sections(const elf_image<L>& img) {
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  return sections;
}

}  // namespace elfsieve::testing
