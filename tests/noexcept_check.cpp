// Built with -fno-exceptions -fno-rtti: instantiates every core accessor for all four layouts and walks a file
// (its own binary by default), proving the core needs neither exceptions nor RTTI.
#include <cstdio>
#include <type_traits>
#include <vector>

#include "elfsieve/elfsieve.hpp"

namespace {

template <elfsieve::elf_layout L>
elfsieve::result<unsigned long> walk(const elfsieve::file<L>& f) {
  using namespace elfsieve;
  unsigned long items = 0;
  auto sections = f.sections();
  if (!sections) return sections.error();
  for (auto s : *sections) {
    if (auto name = sections->name(s); name) ++items;
    if (auto data = sections->data(s); data) ++items;
    switch (s.type()) {
      case elf::SHT_SYMTAB:
      case elf::SHT_DYNSYM: {
        auto symbols = symbol_table<L>::create(*sections, s.index());
        if (!symbols) return symbols.error();
        for (auto sym : *symbols) {
          if (symbols->name(sym) && symbols->section_of(sym)) ++items;
        }
        if (s.type() == elf::SHT_DYNSYM) {
          auto versions = symbol_versions<L>::create(*sections, *symbols);
          if (!versions) return versions.error();
          for (auto sym : *symbols)
            if (versions->get(sym.index())) ++items;
        }
        break;
      }
      case elf::SHT_REL:
      case elf::SHT_RELA: {
        auto relocs = reloc_table<L>::create(*sections, s.index());
        if (!relocs) return relocs.error();
        for (auto r : *relocs) items += r.type != 0;
        break;
      }
      case elf::SHT_RELR: {
        auto relr = relr_table<L>::create(*sections, s.index());
        if (!relr) return relr.error();
        items += relr->address_count();
        break;
      }
      case elf::SHT_GROUP: {
        auto group = section_group<L>::create(*sections, s.index());
        if (!group) return group.error();
        items += group->size();
        break;
      }
      case elf::SHT_NOTE: {
        auto data = sections->data(s);
        if (!data) return data.error();
        for (const auto& n : note_range<L>(*data, s.addralign(), s.index(), s.offset())) {
          if (!n) return n.error();
          ++items;
        }
        break;
      }
      default: break;
    }
  }
  auto segments = f.program_headers();
  if (!segments) return segments.error();
  items += segments->size();
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ELF-FILE\n", argv[0]);
    return 2;
  }
  auto mapped = elfsieve::mapped_file::open(argv[1]);
  if (!mapped) {
    std::fprintf(stderr, "%s: %s\n", argv[1], mapped.error().message);
    return 1;
  }
  auto items = elfsieve::visit(mapped->bytes(), [](const auto& f) { return walk(f); });
  // The writer too: the file rewritten unchanged, into memory and through a file descriptor.
  auto rewritten = elfsieve::visit(mapped->bytes(), [](const auto& f) -> elfsieve::result<void> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, elfsieve::object_edits<L>::keep_everything(f));
    std::vector<std::byte> out;
    elfsieve::vector_sink to_memory(out);
    ELFSIEVE_TRY_VOID(elfsieve::write_object(edits, to_memory));
    std::FILE* temporary = std::tmpfile();
    if (temporary == nullptr) return elfsieve::make_error(elfsieve::errc::cannot_create_temporary);
    elfsieve::fd_sink to_file(fileno(temporary));
    auto written = elfsieve::write_object(edits, to_file);
    std::fclose(temporary);
    return written;
  });
  if (!rewritten) {
    std::fprintf(stderr, "%s: rewrite: %s\n", argv[1], elfsieve::to_string(rewritten.error()).c_str());
    return 1;
  }
  if (!items) {
    std::fprintf(stderr, "%s: %s\n", argv[1], elfsieve::to_string(items.error()).c_str());
    return 1;
  }
  std::printf("%s: %lu items\n", argv[1], items.value());
  return items.value() > 0 ? 0 : 1;
}
