// Lays out kallsyms tables as scripts/kallsyms' .S does once assembled (each label aligned to the word size, the
// order of 6.1 or 6.12), and wraps them in a small ELF image with or without kallsyms_* symbols: images of the
// layouts no corpus vmlinux has (6.12, absolute addresses) for the image reader's tests and the fuzz seeds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "elfsieve/kernel/kallsyms_image.hpp"
#include "support/elf_builder.hpp"

namespace elfsieve::testing {

struct kallsyms_blob {
  byte_vector bytes;
  std::array<std::optional<std::uint64_t>, kernel::kallsyms::table_count> offset{};  // by table_id
};

template <elf_layout L>
kallsyms_blob lay_out_kallsyms(const kernel::kallsyms::tables& t, kernel::kallsyms::kernel_version version) {
  using kernel::kallsyms::table_id;
  constexpr bool big = L::endianness == std::endian::big;
  kallsyms_blob blob;
  byte_vector& b = blob.bytes;
  auto put_uint = [&b](std::uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      b.push_back(std::byte(static_cast<std::uint8_t>(v >> (8 * (big ? n - 1 - i : i)))));
  };
  auto label = [&](table_id id) {
    pad_to(b, L::word_bytes);
    blob.offset[static_cast<std::size_t>(id)] = b.size();
  };
  auto offsets = [&] {
    if (t.base_relative) {
      label(table_id::offsets);
      for (std::int32_t o : t.offsets) put_uint(static_cast<std::uint32_t>(o), 4);
      label(table_id::relative_base);
      put_uint(t.relative_base, L::word_bytes);
    } else {
      label(table_id::addresses);
      for (std::uint64_t a : t.addresses) put_uint(a, L::word_bytes);
    }
  };
  auto bytes_of_table = [&](table_id id, const auto& v) {
    label(id);
    for (auto c : v) b.push_back(std::byte(static_cast<std::uint8_t>(c)));
  };
  auto markers = [&] {
    label(table_id::markers);
    for (std::uint32_t m : t.markers) put_uint(m, 4);
  };
  auto tokens = [&] {
    bytes_of_table(table_id::token_table, t.token_table);
    label(table_id::token_index);
    for (std::uint16_t i : t.token_index) put_uint(i, 2);
  };
  auto num_syms = [&] {
    label(table_id::num_syms);
    put_uint(t.num_syms, 4);
  };
  if (version == kernel::kallsyms::kernel_version::v6_1) {
    offsets();
    num_syms();
    bytes_of_table(table_id::names, t.names);
    markers();
    bytes_of_table(table_id::seqs_of_names, t.seqs_of_names);
    tokens();
  } else {
    num_syms();
    bytes_of_table(table_id::names, t.names);
    markers();
    tokens();
    offsets();
    bytes_of_table(table_id::seqs_of_names, t.seqs_of_names);
  }
  pad_to(b, L::word_bytes);
  return blob;
}

// An executable whose .rodata at `address` holds the tables between `before` and `after` bytes of filler, with
// a .symtab naming each table when `symbols` is set.
template <elf_layout L>
elf_image<L> kallsyms_elf(const kernel::kallsyms::tables& t, kernel::kallsyms::kernel_version version,
                          std::uint64_t address, bool symbols, std::size_t before = 64, std::size_t after = 64) {
  kallsyms_blob blob = lay_out_kallsyms<L>(t, version);
  byte_vector data(before, std::byte{0x5a});
  data.insert(data.end(), blob.bytes.begin(), blob.bytes.end());
  data.insert(data.end(), after, std::byte{0xa5});
  elf_builder<L> builder;
  builder.options().type = elf::ET_EXEC;
  section_spec rodata;
  rodata.name = ".rodata";
  rodata.flags = elf::SHF_ALLOC;
  rodata.addr = address;
  rodata.addralign = L::word_bytes;
  rodata.data = std::move(data);
  const std::uint32_t index = builder.add(std::move(rodata));
  if (symbols) {
    std::vector<symbol_spec> specs;
    for (std::size_t i = 0; i < kernel::kallsyms::table_count; ++i)
      if (blob.offset[i])
        specs.push_back({std::string(kernel::kallsyms::table_names[i]), address + before + *blob.offset[i], 0,
                         elf::STB_GLOBAL, elf::STT_OBJECT, 0, static_cast<std::uint16_t>(index)});
    builder.add_symbols(specs);
  }
  return builder.build();
}

}  // namespace elfsieve::testing
