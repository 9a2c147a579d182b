// detect_layout and visit: the runtime opener dispatches to the right file<L>, or reports why it cannot.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

namespace {

template <elf_layout L>
constexpr std::string_view name_of() {
  if constexpr (std::is_same_v<L, elf32le>) return "elf32le";
  else if constexpr (std::is_same_v<L, elf32be>) return "elf32be";
  else if constexpr (std::is_same_v<L, elf64le>) return "elf64le";
  else return "elf64be";
}

template <elf_layout L>
constexpr layout_id id_of() {
  if constexpr (std::is_same_v<L, elf32le>) return layout_id::le32;
  else if constexpr (std::is_same_v<L, elf32be>) return layout_id::be32;
  else if constexpr (std::is_same_v<L, elf64le>) return layout_id::le64;
  else return layout_id::be64;
}

struct layout_name {
  template <elf_layout L>
  std::string_view operator()(const file<L>&) const {
    return name_of<L>();
  }
};

// readelf's "Number of section headers" for a file, or -1.
long readelf_section_count(const std::string& path) {
  const std::string cmd = "readelf -hW '" + path + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return -1;
  char line[512];
  long count = -1;
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    const std::string_view l(line);
    const auto at = l.find("Number of section headers:");
    if (at != std::string_view::npos) count = std::strtol(line + at + 26, nullptr, 10);
  }
  return count;
}

}  // namespace

TEMPLATE_TEST_CASE("open.visit_dispatches_on_layout", "[open]", ELFSIEVE_ALL_LAYOUTS) {
  using L = TestType;
  auto img = small_object<L>();
  auto id = detect_layout(img.span());
  REQUIRE(id);
  CHECK(id.value() == id_of<L>());
  auto name = visit(img.span(), layout_name{});
  REQUIRE(name);
  CHECK(name.value() == name_of<L>());

  // A visitor returning result<T> is not wrapped twice, and its error comes through.
  auto count = visit(img.span(), [](const auto& f) -> result<std::size_t> {
    auto sections = f.sections();
    if (!sections) return sections.error();
    return sections->size();
  });
  static_assert(std::is_same_v<decltype(count), result<std::size_t>>);
  REQUIRE(count);
  CHECK(count.value() == 9u);
  auto failing =
      visit(img.span(), [](const auto&) -> result<int> { return make_error(errc::bad_group, section_index(4), 8); });
  REQUIRE_FALSE(failing);
  CHECK(failing.error() == make_error(errc::bad_group, section_index(4), 8));

  // A void visitor gives result<void>.
  int calls = 0;
  auto done = visit(img.span(), [&](const auto&) { ++calls; });
  static_assert(std::is_same_v<decltype(done), result<void>>);
  CHECK(done);
  CHECK(calls == 1);
}

TEST_CASE("open.visit_reports_bad_input", "[open]") {
  const auto code_of = [](std::span<const std::byte> bytes) {
    auto r = visit(bytes, layout_name{});
    return r ? errc{} : r.error().code;
  };
  CHECK(code_of({}) == errc::truncated_header);
  const byte_vector short_ident = bytes_of(
      "\x7f"
      "ELF");
  CHECK(code_of(short_ident) == errc::truncated_header);
  CHECK(code_of(bytes_of("MZ\x90 this is not an ELF file")) == errc::bad_magic);

  auto img = small_object<elf64le>();
  img.set_byte(elf::EI_CLASS, 0);
  CHECK(code_of(img.span()) == errc::bad_class);
  img.set_byte(elf::EI_CLASS, elf::ELFCLASS64);
  img.set_byte(elf::EI_DATA, 3);
  CHECK(code_of(img.span()) == errc::bad_data_encoding);
  img.set_byte(elf::EI_DATA, elf::ELFDATA2LSB);
  CHECK(code_of(img.span()) == errc{});
  // A valid identification but no room for the header: the layout's file<L>::create reports it.
  img.truncate(40);
  auto r = visit(img.span(), layout_name{});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::truncated_header);
}

// Real objects, one per layout, as the cross compilers make them (fuzz/regressions/seed-*): the layout and the
// section count agree with GNU readelf.
TEST_CASE("open.real_objects_agree_with_readelf", "[open][oracle]") {
  const std::filesystem::path dir = std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "fuzz" / "regressions";
  const std::pair<const char*, std::string_view> seeds[] = {{"seed-i386.o", "elf32le"},
                                                            {"seed-ppc.o", "elf32be"},
                                                            {"seed-x86_64.o", "elf64le"},
                                                            {"seed-ppc64.o", "elf64be"},
                                                            {"seed-x86_64-versioned.so", "elf64le"},
                                                            {"seed-ppc-exe", "elf32be"}};
  for (const auto& [file_name, layout] : seeds) {
    const auto path = dir / file_name;
    INFO(path);
    auto m = mapped_file::open(path.c_str());
    REQUIRE(m);
    CHECK(visit(m->bytes(), layout_name{}).value() == layout);
    auto count = visit(m->bytes(), [](const auto& f) -> result<std::size_t> {
      auto sections = f.sections();
      if (!sections) return sections.error();
      return sections->size();
    });
    REQUIRE(count);
    const long expected = readelf_section_count(path.string());
    REQUIRE(expected >= 0);  // the seeds are committed: readelf must read them
    CHECK(static_cast<long>(count.value()) == expected);
  }
}
