// The kallsyms tables as values: what scripts/kallsyms emits into the .S file that is linked into vmlinux, and what
// an image carries. The generator (kallsyms_generate.hpp) fills it from a symbol listing; the image reader
// (kallsyms_image.hpp) decodes an image's embedded copy into it; --verify compares two of them.
//
// Linux 6.1 (Debian's 6.1.y, which has kallsyms_seqs_of_names) and 6.12 differ in which tables exist and in the
// order they are emitted, not in their meaning:
//   6.1:  kallsyms_addresses | (kallsyms_offsets, kallsyms_relative_base), kallsyms_num_syms, kallsyms_names,
//         kallsyms_markers, kallsyms_seqs_of_names, kallsyms_token_table, kallsyms_token_index
//   6.12: kallsyms_num_syms, kallsyms_names, kallsyms_markers, kallsyms_token_table, kallsyms_token_index,
//         kallsyms_offsets, kallsyms_relative_base, kallsyms_seqs_of_names (always base-relative)
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace elfsieve::kernel::kallsyms {

enum class kernel_version : std::uint8_t { v6_1, v6_12 };

// scripts/kallsyms' options (6.12 has no --base-relative: it is always base-relative there).
struct options {
  bool all_symbols = false;      // --all-symbols (CONFIG_KALLSYMS_ALL)
  bool absolute_percpu = false;  // --absolute-percpu (CONFIG_KALLSYMS_ABSOLUTE_PERCPU)
  bool base_relative = false;    // --base-relative (CONFIG_KALLSYMS_BASE_RELATIVE; implied by 6.12)
  kernel_version version = kernel_version::v6_1;
  bool lto_clang = false;  // --lto-clang (6.1 only: names compare without their ".llvm." suffix)
};

// The tables' contents. Each vector is allocated once per image, never per symbol.
struct tables {
  bool base_relative = false;               // kallsyms_offsets + kallsyms_relative_base, else kallsyms_addresses
  std::uint32_t num_syms = 0;               // kallsyms_num_syms
  std::vector<std::uint8_t> names;          // kallsyms_names: per symbol a length (1 or 2 bytes) and token numbers
  std::vector<std::uint32_t> markers;       // kallsyms_markers: offset in names of every 256th symbol
  std::vector<std::uint8_t> seqs_of_names;  // kallsyms_seqs_of_names: 3 big-endian bytes per symbol
  std::vector<char> token_table;            // kallsyms_token_table: 256 NUL-terminated tokens, concatenated
  std::vector<std::uint16_t> token_index;   // kallsyms_token_index: 256 offsets into token_table
  std::vector<std::int32_t> offsets;        // kallsyms_offsets (base-relative), as the .long values
  std::uint64_t relative_base = 0;          // kallsyms_relative_base (base-relative), the address it resolves to
  std::vector<std::uint64_t> addresses;     // kallsyms_addresses (absolute), the addresses they resolve to
};

// The table names as the kernel spells them, for messages ("kallsyms_names differs at byte 1234").
inline constexpr std::string_view table_names[] = {
    "kallsyms_addresses", "kallsyms_offsets",       "kallsyms_relative_base", "kallsyms_num_syms",    "kallsyms_names",
    "kallsyms_markers",   "kallsyms_seqs_of_names", "kallsyms_token_table",   "kallsyms_token_index",
};

}  // namespace elfsieve::kernel::kallsyms
