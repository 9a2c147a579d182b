// elfsieve-kallsyms --dump and --verify: the tool side of reading the kallsyms tables an image carries
// (kernel/kallsyms_image.hpp). Included by elfsieve-kallsyms.cpp, which parses the options and dispatches.
//   --dump IMAGE      /proc/kallsyms as root would read it for that kernel (vmlinux symbols only, table order);
//                     IMAGE is an ELF vmlinux with or without .symtab, an x86 bzImage, or a compressed vmlinux.
//   --verify VMLINUX  the tables regenerated from the image's own symbols (System.map, then scripts/kallsyms'
//                     rules) against the embedded ones; options inferred from the image unless given.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/kernel/kallsyms_generate.hpp"
#include "elfsieve/kernel/kallsyms_image.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/kernel/system_map.hpp"
#include "kallsyms_cli.hpp"
#include "kallsyms_payload.hpp"
#include "tool.hpp"

namespace kallsyms_tool {

namespace ks = elfsieve::kernel::kallsyms;

// The options given on the command line; each one not given is inferred from the image.
struct given_options {
  std::optional<bool> all_symbols;            // --all-symbols
  std::optional<bool> absolute_percpu;        // --absolute-percpu
  std::optional<bool> base_relative;          // --base-relative
  std::optional<bool> lto_clang;              // --lto-clang
  std::optional<ks::kernel_version> version;  // --kernel=6.1|6.12
};

// elfsieve-kallsyms' command line as given_options: scripts/kallsyms' flags are given as a set (any flag on the
// command line states the build's whole set, as the kernel's Makefile passes them), --kernel on its own.
[[nodiscard]] inline given_options given_by(const tool::kallsyms_cli& cli) {
  given_options g;
  const ks::options& o = cli.options;
  const bool flags = cli.flags_given && (!cli.kernel_given || o.all_symbols || o.absolute_percpu ||
                                         (o.base_relative && o.version == ks::kernel_version::v6_1) || o.lto_clang);
  if (flags) {
    g.all_symbols = o.all_symbols;
    g.absolute_percpu = o.absolute_percpu;
    g.base_relative = o.base_relative;
    g.lto_clang = o.lto_clang;
  }
  if (cli.kernel_given) g.version = o.version;
  return g;
}

[[nodiscard]] inline const char* version_name(ks::kernel_version v) noexcept {
  return v == ks::kernel_version::v6_12 ? "6.12" : "6.1";
}

// "6.1, base-relative, absolute-percpu, all-symbols"
[[nodiscard]] inline std::string describe(const ks::options& o) {
  std::string s = version_name(o.version);
  s += o.base_relative ? ", base-relative" : ", absolute addresses";
  if (o.absolute_percpu) s += ", absolute-percpu";
  if (o.all_symbols) s += ", all-symbols";
  if (o.lto_clang) s += ", lto-clang";
  return s;
}

// The ELF bytes of IMAGE: the mapped file, or its decompressed payload kept in `storage`.
[[nodiscard]] inline elfsieve::result<std::span<const std::byte>> image_bytes(const elfsieve::mapped_file& file,
                                                                              std::vector<std::byte>& storage) {
  return kallsyms_payload::kernel_elf(file.bytes(), storage);
}

// --dump IMAGE: exit status 0, or 1 with "prog: IMAGE: reason" on stderr.
inline int run_dump(const char* image_path) {
  elfsieve::install_truncation_guard();
  auto file = elfsieve::mapped_file::open(image_path);
  if (!file) {
    tool::print_file_error(image_path, file.error());
    return tool::exit_file_error;
  }
  std::vector<std::byte> storage;
  auto bytes = image_bytes(file.value(), storage);
  if (!bytes) {
    tool::print_file_error(image_path, bytes.error());
    return tool::exit_file_error;
  }
  auto image = ks::read_image_tables(bytes.value());
  if (!image) {
    tool::print_file_error(image_path, image.error());
    return tool::exit_file_error;
  }
  auto symbols = ks::expand_symbols(image.value());
  if (!symbols) {
    tool::print_file_error(image_path, symbols.error());
    return tool::exit_file_error;
  }
  if (auto intact = file->check_intact(); !intact) {
    tool::print_file_error(image_path, intact.error());
    return tool::exit_file_error;
  }
  std::string out;
  ks::append_proc_kallsyms(out, symbols.value());
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error: %s\n", tool::program_name, std::strerror(errno));
    return tool::exit_file_error;
  }
  return 0;
}

// The decoded name of symbol i (table order) in `t`, walking the names from the start; "?" where it cannot be
// decoded (a malformed table).
[[nodiscard]] inline std::string symbol_name(const ks::tables& t, std::uint64_t i) {
  std::size_t off = 0;
  std::vector<char> name;
  for (std::uint64_t k = 0; k <= i && k < t.num_syms; ++k) {
    char type = 0;
    name.clear();
    const auto next = ks::expand_entry(t, off, type, name);
    if (!next) return "?";
    off = *next;
    if (k == i) return std::string(name.begin(), name.end());
  }
  return "?";
}

// The first position where the two tables' decoded names differ (walking both once), or the smaller count.
[[nodiscard]] inline std::uint64_t first_different_name(const ks::tables& a, const ks::tables& b) {
  const std::uint64_t common = std::min(a.num_syms, b.num_syms);
  std::size_t off_a = 0;
  std::size_t off_b = 0;
  std::vector<char> name_a;
  std::vector<char> name_b;
  for (std::uint64_t i = 0; i < common; ++i) {
    char type_a = 0;
    char type_b = 0;
    name_a.clear();
    name_b.clear();
    const auto next_a = ks::expand_entry(a, off_a, type_a, name_a);
    const auto next_b = ks::expand_entry(b, off_b, type_b, name_b);
    if (!next_a || !next_b || name_a != name_b) return i;
    off_a = *next_a;
    off_b = *next_b;
  }
  return common;
}

// The token holding byte `pos` of the token table.
[[nodiscard]] inline std::size_t token_at(const ks::tables& t, std::uint64_t pos) noexcept {
  std::size_t token = 0;
  for (std::size_t k = 0; k < t.token_index.size(); ++k)
    if (t.token_index[k] <= pos) token = k;
  return token;
}

// One line saying where the image's tables and the regenerated ones first differ.
[[nodiscard]] inline std::string explain(const ks::table_difference& d, const ks::tables& image,
                                         const ks::tables& regen, const ks::options& o, std::uint8_t word_bytes) {
  std::string s(ks::name_of(d.table));
  auto name_pair = [&](std::uint64_t i) {
    const std::string a = symbol_name(image, i);
    const std::string b = symbol_name(regen, i);
    return a == b ? a : a + "; regenerated: " + b;
  };
  switch (d.table) {
    case ks::table_id::num_syms: {
      tool::appendf(s, " differs: %" PRIu64 " symbols in the image, %" PRIu64 " regenerated", d.expected, d.actual);
      // Name the first symbol present on one side only, or ordered differently.
      const std::uint64_t common = std::min(image.num_syms, regen.num_syms);
      const std::uint64_t i = first_different_name(image, regen);
      if (i < common) tool::appendf(s, "; first different symbol %" PRIu64 " (%s)", i, name_pair(i).c_str());
      else
        tool::appendf(s, "; first extra symbol %" PRIu64 " (%s)", i,
                      (image.num_syms > regen.num_syms ? symbol_name(image, i) : symbol_name(regen, i)).c_str());
      break;
    }
    case ks::table_id::offsets:
    case ks::table_id::addresses: {
      const bool have = d.position < image.num_syms && d.position < regen.num_syms;
      tool::appendf(s, " differs at symbol %" PRIu64 " (%s)", d.position, name_pair(d.position).c_str());
      if (have && image.base_relative == regen.base_relative) {
        const std::uint64_t a = ks::symbol_address(image, o.absolute_percpu, word_bytes, d.position);
        const std::uint64_t b = ks::symbol_address(regen, o.absolute_percpu, word_bytes, d.position);
        tool::appendf(s, ": address 0x%" PRIx64 " in the image, 0x%" PRIx64 " regenerated", a, b);
      } else if (image.base_relative != regen.base_relative) {
        s += ": the image is ";
        s += image.base_relative ? "base-relative, the regenerated tables are not" : "not base-relative";
      }
      break;
    }
    case ks::table_id::relative_base:
      tool::appendf(s, " differs: 0x%" PRIx64 " in the image, 0x%" PRIx64 " regenerated", d.expected, d.actual);
      break;
    case ks::table_id::names:
      tool::appendf(s, " differs at symbol %" PRIu64 " (%s), byte %" PRIu64, d.symbol.value_or(0),
                    name_pair(d.symbol.value_or(0)).c_str(), d.position);
      break;
    case ks::table_id::token_table:
      tool::appendf(
          s, " differs at byte %" PRIu64 " (token %zu): 0x%02" PRIx64 " in the image, 0x%02" PRIx64 " regenerated",
          d.position, token_at(regen, d.position), d.expected & 0xff, d.actual & 0xff);
      break;
    case ks::table_id::markers:
    case ks::table_id::seqs_of_names:
    case ks::table_id::token_index:
      tool::appendf(s, " differs at entry %" PRIu64 ": 0x%" PRIx64 " in the image, 0x%" PRIx64 " regenerated",
                    d.position, d.expected, d.actual);
      break;
  }
  return s;
}

// The options --verify regenerates with: the given ones, the image's for the rest.
[[nodiscard]] inline ks::options effective_options(const ks::options& inferred, const given_options& given) {
  ks::options o = inferred;
  if (given.all_symbols) o.all_symbols = *given.all_symbols;
  if (given.absolute_percpu) o.absolute_percpu = *given.absolute_percpu;
  if (given.base_relative) o.base_relative = *given.base_relative;
  if (given.lto_clang) o.lto_clang = *given.lto_clang;
  if (given.version) o.version = *given.version;
  if (o.version == ks::kernel_version::v6_12) o.base_relative = true;  // 6.12 has no other kind
  return o;
}

// --verify VMLINUX: 0 when the embedded tables equal the regenerated ones ("VMLINUX: kallsyms tables match (...)"
// on stdout); 1 when they differ (the first difference on stdout) or the image cannot be read (stderr).
inline int run_verify(const char* vmlinux_path, const given_options& given) {
  elfsieve::install_truncation_guard();
  auto file = elfsieve::mapped_file::open(vmlinux_path);
  if (!file) {
    tool::print_file_error(vmlinux_path, file.error());
    return tool::exit_file_error;
  }
  const auto bytes = file->bytes();
  auto image = ks::read_image_tables(bytes);
  if (!image) {
    tool::print_file_error(vmlinux_path, image.error());
    return tool::exit_file_error;
  }
  if (!image->found_by_symbols) {
    std::fprintf(stderr, "%s: %s: no symbol table: --verify regenerates the tables from the image's own symbols\n",
                 tool::program_name, vmlinux_path);
    return tool::exit_file_error;
  }
  const ks::options o = effective_options(image->inferred, given);
  elfsieve::kernel::system_map map;
  if (auto r = elfsieve::kernel::read_system_map(bytes, o.version, map); !r) {
    tool::print_file_error(vmlinux_path, r.error());
    return tool::exit_file_error;
  }
  ks::generation regenerated;
  if (auto r = ks::generate(map, o, regenerated); !r) {
    tool::print_file_error(vmlinux_path, r.error());
    return tool::exit_file_error;
  }
  if (auto intact = file->check_intact(); !intact) {
    tool::print_file_error(vmlinux_path, intact.error());
    return tool::exit_file_error;
  }
  std::string out;
  const ks::tables& ours = image->contents;
  const ks::tables& theirs = regenerated.tables;
  if (auto d = ks::first_difference(ours, theirs)) {
    tool::appendf(out, "%s: kallsyms tables differ (%s): %s\n", vmlinux_path, describe(o).c_str(),
                  explain(*d, ours, theirs, o, image->word_bytes).c_str());
    std::fwrite(out.data(), 1, out.size(), stdout);
    return tool::exit_file_error;
  }
  tool::appendf(out, "%s: kallsyms tables match (%u symbols, %s)\n", vmlinux_path, ours.num_syms, describe(o).c_str());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace kallsyms_tool

namespace tool {

// elfsieve-kallsyms.cpp's dispatch points (found through the argument's namespace).
inline int run_dump(const kallsyms_cli& cli) { return kallsyms_tool::run_dump(cli.files.at(0)); }
inline int run_verify(const kallsyms_cli& cli) {
  return kallsyms_tool::run_verify(cli.files.at(0), kallsyms_tool::given_by(cli));
}

}  // namespace tool
