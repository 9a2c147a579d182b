// elfsieve-kallsyms --dump and --verify as a user runs them. --dump of the corpus x86_64 bzImage (its payload
// compressed with xz) equals --dump of the same build's vmlinux (the acceptance criterion), and so do the
// vmlinux compressed by gzip, xz, lzma, zstd, lz4 and bzip2 made here with their own command-line tools; --verify
// passes on every corpus vmlinux and fails on mutated copies (one symbol's st_value in .symtab, one byte of
// kallsyms_names, one byte of kallsyms_token_table) naming that symbol or table. When a boot of the corpus x86_64
// kernel captured its /proc/kallsyms (corpus/x86_64-tiny/proc-kallsyms.xz), --dump equals its vmlinux lines.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/kernel/kallsyms_image.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#ifdef ELFSIEVE_KALLSYMS_PATH

using namespace elfsieve;
using namespace elfsieve::test;
namespace ks = elfsieve::kernel::kallsyms;

namespace {

const std::string kallsyms_tool = ELFSIEVE_KALLSYMS_PATH;

std::filesystem::path work_dir() {
  const auto dir = test_work_dir() / "kallsyms_tool";
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path vmlinux_of(const std::string& arch) {
  for (const auto& o : corpus_objects())
    if (o.name == arch + "/vmlinux") return o.path;
  FAIL("no corpus/" << arch << "/vmlinux.xz");
  return {};
}

const std::vector<std::string> kernel_arches = {"ppc32", "ppc64", "x86_64-tiny"};

void write_bytes(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string dump(const std::filesystem::path& image) {
  const auto r = run_process({kallsyms_tool, "--dump", image.string()});
  INFO(image << ": " << r.err);
  REQUIRE(r.ok());
  REQUIRE(r.err.empty());
  return r.out;
}

// The file offset of virtual address `address` (an allocated section with file bytes holds it).
std::uint64_t file_offset_of(std::span<const std::byte> bytes, std::uint64_t address) {
  auto r = visit(bytes, [&](const auto& f) -> result<std::uint64_t> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    for (auto s : sections)
      if (s.has_flag(elf::SHF_ALLOC) && s.type() != elf::SHT_NOBITS && address >= s.addr() &&
          address - s.addr() < s.size())
        return s.offset() + (address - s.addr());
    return make_error(errc::not_found);
  });
  REQUIRE(r);
  return r.value();
}

// Adds one to the st_value of the .symtab symbol called `name` whose value is `value`.
void bump_symbol_value(std::vector<std::byte>& bytes, const std::string& name, std::uint64_t value) {
  std::uint64_t field = 0;
  unsigned width = 0;
  bool big = false;
  auto r = visit(std::span<const std::byte>(bytes), [&](const auto& f) -> result<int> {
    using L = typename std::decay_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(const auto sections, f.sections());
    ELFSIEVE_TRY(const auto symbols, find_symbol_table(sections, elf::SHT_SYMTAB));
    for (auto s : symbols) {
      auto n = symbols.name(s);
      if (n && *n == name && s.value() == value) {
        field = static_cast<std::uint64_t>(reinterpret_cast<const std::byte*>(&s.record().st_value) - f.bytes().data());
        width = L::word_bytes;
        big = L::endianness == std::endian::big;
        return 1;
      }
    }
    return make_error(errc::not_found);
  });
  REQUIRE(r);
  const std::uint64_t bumped = value + 1;
  for (unsigned i = 0; i < width; ++i)
    bytes.at(field + i) = std::byte(static_cast<std::uint8_t>(bumped >> (8 * (big ? width - 1 - i : i))));
}

bool verify_available() {
  const auto r = run_process({kallsyms_tool, "--verify", vmlinux_of("ppc32").string()});
  if (r.err.find("needs the table generator") != std::string::npos) {
    WARN("SKIPPED: --verify needs the table generator (kernel/kallsyms_generate.hpp), not built in");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("kallsyms_tool.dump_of_the_bzimage_equals_dump_of_its_vmlinux", "[kallsyms][tools]") {
  const auto from_vmlinux = dump(vmlinux_of("x86_64-tiny"));
  const auto from_bzimage = dump(corpus_dir() / "x86_64-tiny/bzImage");
  CHECK(from_bzimage.size() > 500000);
  CHECK(from_bzimage == from_vmlinux);
  // The payload is the vmlinux without .symtab (objcopy -S): found by scanning, yet the same listing. The first
  // lines are the per-cpu symbols, absolute ('A') under --absolute-percpu.
  CHECK(from_vmlinux.substr(0, 37) == "0000000000000000 A fixed_percpu_data\n");
}

TEST_CASE("kallsyms_tool.dump_of_compressed_vmlinux", "[kallsyms][tools]") {
  const auto vmlinux = vmlinux_of("ppc32");
  const auto expected = dump(vmlinux);
  CHECK(dump(corpus_dir() / "ppc32/vmlinux.xz") == expected);
  struct compressor {
    std::string program;
    std::vector<std::string> args;
  };
  const std::vector<compressor> compressors = {
      {"gzip", {"-9", "-c"}}, {"xz", {"--format=lzma", "-c"}},
      {"zstd", {"-q", "-c"}}, {"lz4", {"-l", "-c"}},
      {"lz4", {"-c"}},        {"bzip2", {"-c"}},
  };
  for (const auto& c : compressors) {
    INFO(c.program);
    if (!program_available(c.program)) {
      WARN("SKIPPED: " << c.program << " is not installed");
      continue;
    }
    const auto out = work_dir() / ("vmlinux." + c.program + std::to_string(c.args.size() + c.args[0].size()));
    std::string command = c.program;
    for (const auto& a : c.args) command += " " + a;
    const auto r = run_process({"sh", "-c", command + " \"$1\" > \"$2\"", "sh", vmlinux.string(), out.string()});
    REQUIRE(r.ok());
    CHECK(dump(out) == expected);
    // Cut short: an error, never a crash.
    auto bytes = read_bytes(out);
    bytes.resize(bytes.size() / 2);
    const auto cut = work_dir() / "cut";
    write_bytes(cut, bytes);
    const auto e = run_process({kallsyms_tool, "--dump", cut.string()});
    CHECK(e.status == 1);
    CHECK(e.out.empty());
    CHECK(e.err.find("corrupt or truncated compressed data") != std::string::npos);
  }
}

TEST_CASE("kallsyms_tool.dump_errors", "[kallsyms][tools]") {
  const auto text = work_dir() / "not-an-image";
  write_bytes(text, {std::byte{'h'}, std::byte{'i'}, std::byte{'\n'}});
  auto r = run_process({kallsyms_tool, "--dump", text.string()});
  CHECK(r.status == 1);
  CHECK(r.err == "elfsieve-kallsyms: " + text.string() + ": not an ELF file (bad magic) (offset 0x0)\n");
  // An ELF file without kallsyms tables.
  r = run_process({kallsyms_tool, "--dump", ELFSIEVE_KALLSYMS_PATH});
  CHECK(r.status == 1);
  CHECK(r.err.find("no kallsyms tables found") != std::string::npos);
  // A bzImage whose payload_length runs past the file.
  auto bz = read_bytes(corpus_dir() / "x86_64-tiny/bzImage");
  bz.at(0x24f) = std::byte{0x7f};
  const auto broken = work_dir() / "broken-bzImage";
  write_bytes(broken, bz);
  r = run_process({kallsyms_tool, "--dump", broken.string()});
  CHECK(r.status == 1);
  CHECK(r.err.find("malformed boot image header") != std::string::npos);
}

TEST_CASE("kallsyms_tool.verify_passes_on_every_corpus_vmlinux", "[kallsyms][tools]") {
  if (!verify_available()) return;
  for (const auto& arch : kernel_arches) {
    INFO(arch);
    const auto vmlinux = vmlinux_of(arch);
    const auto r = run_process({kallsyms_tool, "--verify", vmlinux.string()});
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    const std::string options =
        arch == "x86_64-tiny" ? "6.1, base-relative, absolute-percpu, all-symbols" : "6.1, base-relative, all-symbols";
    const auto bytes = read_bytes(vmlinux);
    const auto image = ks::read_image_tables(bytes);
    REQUIRE(image);
    CHECK(r.out == vmlinux.string() + ": kallsyms tables match (" + std::to_string(image->contents.num_syms) +
                       " symbols, " + options + ")\n");
  }
}

TEST_CASE("kallsyms_tool.verify_needs_the_images_symbols", "[kallsyms][tools]") {
  if (!verify_available() || !program_available("strip")) return;
  const auto stripped = work_dir() / "ppc32-stripped";
  REQUIRE(run_process({"strip", "-s", "-o", stripped.string(), vmlinux_of("ppc32").string()}).ok());
  const auto r = run_process({kallsyms_tool, "--verify", stripped.string()});
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "elfsieve-kallsyms: " + stripped.string() +
                     ": no symbol table: --verify regenerates the tables from the image's own symbols\n");
  // --dump needs no symbols.
  CHECK(dump(stripped) == dump(vmlinux_of("ppc32")));
}

TEST_CASE("kallsyms_tool.verify_names_what_a_mutation_changed", "[kallsyms][tools]") {
  if (!verify_available()) return;
  for (const auto& arch : kernel_arches) {
    INFO(arch);
    const auto vmlinux = vmlinux_of(arch);
    const auto original = read_bytes(vmlinux);
    const auto image = ks::read_image_tables(original);
    REQUIRE(image);
    const auto listing = ks::expand_symbols(*image);
    REQUIRE(listing);
    // A text symbol in the middle whose address + 1 keeps its place in the order, and whose name is unique.
    std::size_t pick = listing->size() / 2;
    auto unique = [&](std::size_t i) {
      std::size_t same = 0;
      for (std::size_t k = 0; k < listing->size(); ++k) same += listing->name(k) == listing->name(i);
      return same == 1;
    };
    while (pick + 2 < listing->size() &&
           !((listing->types[pick] | 0x20) == 't' && listing->addresses[pick - 1] < listing->addresses[pick] &&
             listing->addresses[pick] + 1 < listing->addresses[pick + 1] && unique(pick)))
      ++pick;
    REQUIRE(pick + 2 < listing->size());
    const std::string name(listing->name(pick));
    const auto mutated = work_dir() / (arch + "-mutated");

    SECTION("st_value") {
      auto bytes = original;
      bump_symbol_value(bytes, name, listing->addresses[pick]);
      write_bytes(mutated, bytes);
      const auto r = run_process({kallsyms_tool, "--verify", mutated.string()});
      INFO(r.out << r.err);
      CHECK(r.status == 1);
      CHECK(r.out.find(": kallsyms tables differ") != std::string::npos);
      CHECK(r.out.find("kallsyms_offsets differs at symbol " + std::to_string(pick) + " (" + name + ")") !=
            std::string::npos);
    }
    SECTION("kallsyms_names") {
      // The second token of the symbol's entry (its first is the type letter).
      const auto& names = image->contents.names;
      std::size_t off = 0;
      for (std::size_t i = 0; i < pick; ++i)
        off += (names[off] & 0x80) != 0 ? 2 + ((names[off] & 0x7fu) | (std::size_t{names[off + 1]} << 7))
                                        : 1 + std::size_t{names[off]};
      REQUIRE(names[off] >= 2);
      REQUIRE(names[off] < 0x80);
      auto bytes = original;
      const auto at = file_offset_of(original, image->address[static_cast<std::size_t>(ks::table_id::names)]) + off + 2;
      bytes.at(at) ^= std::byte{1};
      write_bytes(mutated, bytes);
      const auto r = run_process({kallsyms_tool, "--verify", mutated.string()});
      INFO(r.out << r.err);
      CHECK(r.status == 1);
      CHECK(r.out.find("kallsyms_names differs at symbol " + std::to_string(pick) + " (") != std::string::npos);
      CHECK(r.out.find("regenerated: " + name + ")") != std::string::npos);
    }
    SECTION("kallsyms_token_table") {
      const std::size_t token = 'e';  // a letter every kernel's names use, kept as itself
      const std::size_t at_token = image->contents.token_index[token];
      REQUIRE(image->contents.token_table[at_token] != '\0');
      auto bytes = original;
      const auto at =
          file_offset_of(original, image->address[static_cast<std::size_t>(ks::table_id::token_table)]) + at_token;
      bytes.at(at) ^= std::byte{0x20};
      write_bytes(mutated, bytes);
      const auto r = run_process({kallsyms_tool, "--verify", mutated.string()});
      INFO(r.out << r.err);
      CHECK(r.status == 1);
      CHECK(r.out.find("kallsyms_token_table differs at byte " + std::to_string(at_token) + " (token " +
                       std::to_string(token) + ")") != std::string::npos);
    }
  }
}

TEST_CASE("kallsyms_tool.dump_equals_the_booted_kernels_proc_kallsyms", "[kallsyms][tools]") {
  const auto fixture = corpus_dir() / "x86_64-tiny/proc-kallsyms.xz";
  if (!std::filesystem::exists(fixture)) {
    WARN("SKIPPED: " << fixture << " is not in the corpus (captured from a qemu boot of the corpus bzImage)");
    return;
  }
  const auto r = run_process({"xz", "-dc", fixture.string()});
  REQUIRE(r.ok());
  // vmlinux lines only: module symbols carry a "\t[module]" column.
  std::string expected;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.find('\t') == std::string::npos) expected += line + "\n";
  CHECK(dump(vmlinux_of("x86_64-tiny")) == expected);
}

#endif  // ELFSIEVE_KALLSYMS_PATH
