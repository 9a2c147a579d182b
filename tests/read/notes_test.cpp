// note_range<L>: notes in SHT_NOTE sections and PT_NOTE segments, 4- and 8-byte aligned.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

namespace {

struct seen {
  std::uint32_t type;
  std::string name;
  std::string desc;
  friend bool operator==(const seen&, const seen&) = default;
};

template <elf_layout L>
std::vector<seen> read_all(std::span<const std::byte> data, std::uint64_t align, std::vector<error>* errors = nullptr) {
  std::vector<seen> out;
  for (const auto& n : note_range<L>(data, align, section_index(3), 0x100)) {
    if (!n) {
      if (errors) errors->push_back(n.error());
      continue;
    }
    out.push_back(
        {n->type, std::string(n->name), std::string(reinterpret_cast<const char*>(n->desc.data()), n->desc.size())});
  }
  return out;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<seen> {
  static std::string convert(const seen& s) { return std::to_string(s.type) + ":" + s.name + ":" + s.desc; }
};
}  // namespace Catch

TEMPLATE_TEST_CASE("note.four_byte_alignment", "[note]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  const std::vector<note_spec> notes{
      {"GNU", 3, bytes_of("build-id!")},  // desc of 9 bytes: 3 bytes of padding follow
      {"", 7, bytes_of("xy")},            // no name at all
      {"Linux", 1, {}},                   // no descriptor; name padded from 6 to 8
      {"a", 0x12345678, bytes_of("abcd")},
  };
  const byte_vector data = encode_notes<L>(notes, 4);
  CHECK(data.size() % 4 == 0u);
  const std::vector<seen> expected{{3, "GNU", "build-id!"}, {7, "", "xy"}, {1, "Linux", ""}, {0x12345678, "a", "abcd"}};
  CHECK(read_all<L>(data, 4) == expected);
  // Any alignment other than 8 means 4.
  CHECK(read_all<L>(data, 0) == expected);
  CHECK(read_all<L>(data, 1) == expected);
  CHECK(read_all<L>(data, 16) == expected);
}

TEMPLATE_TEST_CASE("note.eight_byte_alignment", "[note]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  // A GNU property note as in ELF64 objects: 8-aligned, desc padded to 8.
  const std::vector<note_spec> notes{
      {"GNU", 5, bytes_of("0123456789ab")}, {"GNUX", 6, bytes_of("z")},  // name ends at 12+5=17, desc starts at 24
  };
  const byte_vector data = encode_notes<L>(notes, 8);
  CHECK(data.size() == 32u + 32u);
  const std::vector<seen> expected{{5, "GNU", "0123456789ab"}, {6, "GNUX", "z"}};
  CHECK(read_all<L>(data, 8) == expected);
  // Read with 4-byte alignment the second note's descriptor starts 4 bytes early: the alignment matters.
  std::vector<error> errors;
  CHECK(read_all<L>(data, 4, &errors) != expected);
}

TEMPLATE_TEST_CASE("note.empty_and_errors", "[note]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  const note_range<L> none({}, 4);
  CHECK(none.begin() == none.end());

  // A good note followed by one whose descriptor runs past the end: one note, then one error, then the end.
  byte_vector data = encode_notes<L>({{"GNU", 1, bytes_of("abcd")}, {"GNU", 2, bytes_of("efgh")}}, 4);
  auto& second = *reinterpret_cast<typename L::nhdr*>(data.data() + 20);
  put(second.n_descsz, 0x7fffffffu);
  std::vector<error> errors;
  const auto notes = read_all<L>(data, 4, &errors);
  REQUIRE(notes.size() == 1u);
  CHECK(notes[0] == seen{1, "GNU", "abcd"});
  REQUIRE(errors.size() == 1u);
  CHECK(errors[0].code == errc::bad_note);
  CHECK(errors[0].section == section_index(3u));
  CHECK(errors[0].offset == 0x100u + 20u);
}

TEMPLATE_TEST_CASE("note.name_without_nul", "[note]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  byte_vector data;
  typename L::nhdr h{};
  put(h.n_namesz, 3);  // "GNU" without its terminator, as some producers write it
  put(h.n_descsz, 4);
  put(h.n_type, 9);
  append_record(data, h);
  append_string(data, "GNU");
  pad_to(data, 4);
  append_string(data, "dddd");
  CHECK(read_all<L>(data, 4) == std::vector<seen>{{9, "GNU", "dddd"}});
}

TEMPLATE_TEST_CASE("note.in_sections_and_segments", "[note]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  elf_builder<L> b;
  const std::uint32_t four = b.add_notes(".note.gnu.build-id", {{"GNU", 3, bytes_of("12345678")}}, 4);
  const std::uint32_t eight = b.add_notes(".note.gnu.property", {{"GNU", 5, bytes_of("0123456789ab")}}, 8);
  b.add_segment({elf::PT_NOTE, 4, four, 0, 0, 0, 0, 4});
  b.add_segment({elf::PT_NOTE, 4, eight, 0, 0, 0, 0, 8});
  auto img = b.build();
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  for (std::uint32_t i : {four, eight}) {
    const auto s = (*sections)[section_index(i)];
    auto data = sections->data(s);
    REQUIRE(data);
    std::size_t count = 0;
    for (const auto& n : note_range<L>(*data, s.addralign(), s.index(), s.offset())) {
      REQUIRE(n);
      CHECK(n->name == "GNU");
      CHECK(n->type == (i == four ? 3u : 5u));
      ++count;
    }
    CHECK(count == 1u);
  }
  auto phdrs = f->program_headers();
  REQUIRE(phdrs);
  REQUIRE(phdrs->size() == 2u);
  for (const auto& p : *phdrs) {
    CHECK(p.p_type.value() == elf::PT_NOTE);
    auto data = f->segment_data(p);
    REQUIRE(data);
    std::size_t count = 0;
    for (const auto& n : note_range<L>(*data, p.p_align.value())) {
      REQUIRE(n);
      CHECK(n->name == "GNU");
      CHECK(n->desc.size() == (p.p_align.value() == 8 ? 12u : 8u));
      ++count;
    }
    CHECK(count == 1u);
  }
}
