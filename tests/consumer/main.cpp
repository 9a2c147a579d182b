// A minimal consumer: counts the sections of the ELF file named on the command line.
#include <cstdio>

#include <elfsieve/elfsieve.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto mapped = elfsieve::mapped_file::open(argv[1]);
  if (!mapped) return 1;
  auto count = elfsieve::visit(mapped->bytes(), [](const auto& f) -> elfsieve::result<std::size_t> {
    auto sections = f.sections();
    if (!sections) return sections.error();
    return sections->size();
  });
  if (!count) return 1;
  std::printf("%zu sections\n", count.value());
  return count.value() > 0 ? 0 : 1;
}
