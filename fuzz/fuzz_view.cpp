// Opens arbitrary bytes with elfsieve::visit and walks every accessor. Errors are fine; crashes, hangs, UB and
// allocations out of proportion to the input are not.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "elfsieve/elfsieve.hpp"

namespace {

// Folds everything read into one value so the optimizer cannot drop the reads.
struct sink {
  std::uint64_t v = 0;
  void add(std::uint64_t x) noexcept { v = v * 31 + x; }
  void add(std::string_view s) noexcept {
    add(s.size());
    if (!s.empty()) add(static_cast<unsigned char>(s.front()) + static_cast<unsigned char>(s.back()));
  }
  void add(std::span<const std::byte> b) noexcept {
    add(b.size());
    if (!b.empty()) add(std::to_integer<std::uint8_t>(b.front()) + std::to_integer<std::uint8_t>(b.back()));
  }
  template <class T>
  void add_error(const elfsieve::result<T>& r) noexcept {
    if (!r)
      add(static_cast<std::uint64_t>(r.error().code) + r.error().offset.value_or(0) + r.error().detail.value_or(0) +
          (r.error().section ? r.error().section->value : 0));
  }
};

template <elfsieve::elf_layout L>
void walk_notes(sink& out, std::span<const std::byte> data, std::uint64_t align,
                std::optional<elfsieve::section_index> section, std::uint64_t offset) {
  for (const auto& n : elfsieve::note_range<L>(data, align, section, offset)) {
    if (!n) {
      out.add_error(n);
      continue;
    }
    out.add(n->type);
    out.add(n->name);
    out.add(n->desc);
  }
}

template <elfsieve::elf_layout L>
void walk_symbols(sink& out, const elfsieve::section_table<L>& sections, elfsieve::section_index index) {
  using namespace elfsieve;
  auto symbols = symbol_table<L>::create(sections, index);
  if (!symbols) return out.add_error(symbols);
  out.add(symbols->size() + symbols->first_nonlocal() + symbols->type());
  for (auto s : *symbols) {
    out.add(s.value() + s.size() + s.info() + s.other() + s.visibility() + s.bind() + s.type());
    auto name = symbols->name(s);
    if (name) out.add(name.value());
    else out.add_error(name);
    auto where = symbols->section_of(s);
    if (where) out.add(static_cast<std::uint64_t>(where->where) + where->index.value);
    else out.add_error(where);
    auto again = symbols->at(s.index());
    out.add(again ? again->raw_shndx() : 0u);
  }
  out.add_error(symbols->at(symbol_index(static_cast<std::uint32_t>(symbols->size()))));

  auto versions = symbol_versions<L>::create(sections, *symbols);
  if (!versions) return out.add_error(versions);
  out.add(versions->empty());
  for (auto s : *symbols) {
    auto v = versions->get(s.index());
    if (!v) {
      out.add_error(v);
      continue;
    }
    out.add(std::uint64_t{v->index} + v->hidden + v->defined + v->base);
    out.add(v->name);
  }
}

template <elfsieve::elf_layout L>
void walk_relocs(sink& out, const elfsieve::section_table<L>& sections, elfsieve::section_index index) {
  using namespace elfsieve;
  auto relocs = reloc_table<L>::create(sections, index);
  if (!relocs) return out.add_error(relocs);
  out.add(relocs->size() + relocs->is_rela() + relocs->entry_size() + relocs->target_section().value);
  std::optional<result<symbol_table<L>>> symbols;
  if (relocs->symbol_table_index().value != 0)
    symbols.emplace(symbol_table<L>::create(sections, relocs->symbol_table_index()));
  for (std::size_t i = 0; i < relocs->size(); ++i) {
    const relocation r = (*relocs)[i];
    out.add(r.offset + r.symbol.value + r.type + static_cast<std::uint64_t>(r.addend) + r.explicit_addend);
    out.add(relocs->entry_file_offset(i));
    if (symbols && symbols->has_value()) {
      auto s = relocs->symbol_of(i, symbols->value());
      if (s) {
        auto name = symbols->value().name(s.value());
        if (name) out.add(name.value());
      } else {
        out.add_error(s);
      }
    }
  }
  for (const relocation& r : *relocs) out.add(r.type);
}

template <elfsieve::elf_layout L>
elfsieve::result<std::uint64_t> walk(const elfsieve::file<L>& f) {
  using namespace elfsieve;
  sink out;
  out.add(f.type() + f.machine() + f.flags() + f.entry() + f.os_abi());
  out.add_error(f.section_zero());
  out.add_error(f.section_headers());

  auto segments = f.program_headers();
  if (segments) {
    for (const auto& p : *segments) {
      auto data = f.segment_data(p);
      if (!data) {
        out.add_error(data);
        continue;
      }
      out.add(data.value());
      if (p.p_type.value() == elf::PT_NOTE)
        walk_notes<L>(out, data.value(), p.p_align.value(), std::nullopt, p.p_offset.value());
    }
  } else {
    out.add_error(segments);
  }

  auto sections = f.sections();
  if (!sections) {
    out.add_error(sections);
    return out.v;
  }
  out.add(sections->size() + sections->shstrndx().value);
  out.add_error(sections->find(".text"));
  out.add_error(sections->find_type(elf::SHT_DYNSYM));
  out.add_error(sections->at(section_index(static_cast<std::uint32_t>(sections->size()))));
  for (auto s : *sections) {
    out.add(s.name_offset() + s.type() + s.flags() + s.addr() + s.offset() + s.size() + s.link() + s.info() +
            s.addralign() + s.entsize());
    out.add(sections->offset_of_header(s));
    auto name = sections->name(s);
    if (name) out.add(name.value());
    else out.add_error(name);
    auto data = sections->data(s);
    if (data) out.add(data.value());
    else out.add_error(data);
    out.add_error(sections->string_table_at(s.index()));
    out.add_error(sections->linked(s, {elf::SHT_STRTAB, elf::SHT_SYMTAB, elf::SHT_DYNSYM}));
    out.add_error(sections->template records<typename L::word>(s));

    switch (s.type()) {
      case elf::SHT_SYMTAB:
      case elf::SHT_DYNSYM: walk_symbols<L>(out, *sections, s.index()); break;
      case elf::SHT_REL:
      case elf::SHT_RELA: walk_relocs<L>(out, *sections, s.index()); break;
      case elf::SHT_RELR: {
        auto relr = relr_table<L>::create(*sections, s.index());
        if (!relr) {
          out.add_error(relr);
          break;
        }
        out.add(relr->entries().size());
        relr->for_each_address([&](std::uint64_t address) { out.add(address); });
        out.add(relr->address_count());
        break;
      }
      case elf::SHT_GROUP: {
        auto group = section_group<L>::create(*sections, s.index());
        if (!group) {
          out.add_error(group);
          break;
        }
        out.add(group->flags() + group->is_comdat() + group->signature_table().value + group->signature().value);
        for (std::size_t i = 0; i < group->size(); ++i) out.add(sections->operator[](group->member(i)).type());
        auto symbols = symbol_table<L>::create(*sections, group->signature_table());
        if (symbols) {
          auto signature = symbols->at(group->signature());
          if (signature) out.add_error(symbols->name(signature.value()));
        }
        break;
      }
      case elf::SHT_NOTE:
        if (data) walk_notes<L>(out, data.value(), s.addralign(), s.index(), s.offset());
        break;
      default: break;
    }
  }
  return out.v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = elfsieve::visit(bytes, [](const auto& f) { return walk(f); });
  static volatile std::uint64_t keep = 0;
  keep = keep + (r ? r.value() : static_cast<std::uint64_t>(r.error().code));
  return 0;
}
