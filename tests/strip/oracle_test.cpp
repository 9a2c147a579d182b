// The semantic oracle (support/strip_oracle.hpp) itself, and the writer judged by it over the whole corpus.
// The oracle must accept an identical copy and GNU objcopy's own --strip-debug output (a writer we did not write),
// and must reject each kind of damage a broken writer could do. Then every committed object of every architecture
// is stripped in memory with several settings, and every output must satisfy it, open cleanly, and strip to the
// same bytes a second time.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/strip_oracle.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
using elfsieve::testing::check_strip_semantics;
namespace od = elfsieve::testing::oracle_detail;

namespace {

std::filesystem::path work_dir() {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "strip_oracle";
  std::filesystem::create_directories(d);
  return d;
}

bool mentions(const elfsieve::testing::oracle_report& r, const std::string& text) {
  for (const auto& p : r.problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

// Writes a value of `width` bytes at `at` in the file's byte order.
void poke(std::vector<std::byte>& b, std::uint64_t at, std::uint64_t v, unsigned width, bool little) {
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = little ? 8 * i : 8 * (width - 1 - i);
    b[at + i] = static_cast<std::byte>((v >> shift) & 0xff);
  }
}

std::size_t find_section(const od::elf& f, const std::string& name) {
  for (std::size_t i = 0; i < f.sections().size(); ++i)
    if (f.section_name(i) == name) return i;
  return SIZE_MAX;
}

// The file offset of section header i's field at byte `field` (ELF64 layout offsets given; ELF32 derived).
std::uint64_t header_field(const std::vector<std::byte>& b, const od::elf& f, std::size_t i, unsigned field64,
                           unsigned field32) {
  const std::uint64_t shoff = f.is64() ? f.u64(b.data() + 40) : f.u32(b.data() + 32);
  return shoff + i * (f.is64() ? 64 : 40) + (f.is64() ? field64 : field32);
}

template <class Request>
result<strip_outcome> strip_in_memory(std::span<const std::byte> in, strip_options options, Request request,
                                      std::vector<std::byte>& out) {
  return strip_object(
      in, options, [](std::string_view, const auto&) { return false; }, request, [](const symbol_report&) {}, out);
}

}  // namespace

TEST_CASE("strip_oracle.accepts_identical_copies", "[strip][oracle]") {
  for (const auto& o : corpus_objects()) {
    const auto bytes = read_bytes(o.path);
    const auto r = check_strip_semantics(bytes, bytes);
    INFO(o.name);
    for (const auto& p : r.problems) FAIL_CHECK(p);
    if (o.name.find(".ko") != std::string::npos) CHECK(r.relocations_checked > 0);
  }
}

TEST_CASE("strip_oracle.accepts_gnu_objcopy_strip_debug", "[strip][oracle]") {
  // GNU objcopy is a writer we did not write: its --strip-debug output of every corpus object means the same.
  std::size_t checked = 0;
  for (const auto& o : corpus_objects()) {
    const auto out = work_dir() / "gnu.out";
    auto r = run_process({"objcopy", "--strip-debug", o.path.string(), out.string()});
    if (!r.ok()) {
      WARN(o.name << ": GNU objcopy failed: " << r.err);
      continue;
    }
    const auto report = check_strip_semantics(read_bytes(o.path), read_bytes(out));
    INFO(o.name);
    for (const auto& p : report.problems) FAIL_CHECK(p);
    ++checked;
  }
  CHECK(checked == corpus_objects().size());
}

TEST_CASE("strip_oracle.rejects_damage", "[strip][oracle]") {
  // A stripped x86_64 module (RELA) and an i386 one (REL) as the "good" outputs, damaged one way at a time.
  for (const char* name : {"x86_64/libata.ko", "i386/libata.ko"}) {
    const auto input = read_bytes(corpus_dir() / name);
    std::vector<std::byte> good;
    auto stripped = strip_in_memory(
        input, {},
        [](const auto& c) {
          return policies::crc(c) || policies::ksymtab(c) ? symbol_request::remove : symbol_request::keep;
        },
        good);
    REQUIRE(stripped.has_value());
    REQUIRE(check_strip_semantics(input, good).ok());
    const od::elf f(good);
    REQUIRE(f.ok());
    const bool little = f.little();
    INFO(name);

    DYNAMIC_SECTION(name << ": a byte of .text") {
      auto bad = good;
      const auto text = find_section(f, ".text");
      bad[f.sections()[text].offset + 17] ^= std::byte{0x40};
      CHECK(mentions(check_strip_semantics(input, bad), "section .text byte"));
    }
    DYNAMIC_SECTION(name << ": a relocation's addend or REL field") {
      auto bad = good;
      const bool rela = f.sections()[find_section(f, ".text") + 1].type == od::SHT_RELA;
      if (rela) {
        const auto s = find_section(f, ".rela.text");
        const auto at = f.sections()[s].offset + 24 * 3 + 16;  // entry 3's r_addend
        poke(bad, at, f.u64(bad.data() + at) + 1, 8, little);
        CHECK(mentions(check_strip_semantics(input, bad), ".rela.text[3]"));
      } else {
        // The first R_386_32 in .rel.text: bump its field in .text.
        std::vector<od::rel> rels;
        const auto s = find_section(f, ".rel.text");
        REQUIRE(f.relocations(s, rels));
        std::size_t e = 0;
        while (e < rels.size() && rels[e].type != 1) ++e;
        REQUIRE(e < rels.size());
        const auto at = f.sections()[find_section(f, ".text")].offset + rels[e].offset;
        poke(bad, at, f.u32(bad.data() + at) + 4, 4, little);
        CHECK(mentions(check_strip_semantics(input, bad), ".rel.text[" + std::to_string(e) + "]"));
      }
    }
    DYNAMIC_SECTION(name << ": a relocation names another symbol") {
      auto bad = good;
      const auto s =
          find_section(f, f.sections()[find_section(f, ".text") + 1].type == od::SHT_RELA ? ".rela.text" : ".rel.text");
      std::vector<od::rel> rels;
      REQUIRE(f.relocations(s, rels));
      const auto at = f.sections()[s].offset + (f.is64() ? 24 * 5 + 12 : 8 * 5 + 5);
      // r_sym + 1 (ELF64: high half of r_info, little endian at +12; ELF32 REL: bits 8.. at +5 for little endian)
      poke(bad, at, f.u16(bad.data() + at) + 1u, 2, little);
      CHECK(mentions(check_strip_semantics(input, bad), "[5]"));
    }
    DYNAMIC_SECTION(name << ": a relocation dropped") {
      auto bad = good;
      const auto s =
          find_section(f, f.sections()[find_section(f, ".text") + 1].type == od::SHT_RELA ? ".rela.text" : ".rel.text");
      const auto at = header_field(bad, f, s, 32, 20);
      poke(bad, at, f.sections()[s].size - f.sections()[s].entsize, f.is64() ? 8 : 4, little);
      CHECK(mentions(check_strip_semantics(input, bad), "relocations in"));
    }
    DYNAMIC_SECTION(name << ": a symbol's value") {
      auto bad = good;
      const auto st = f.symtab();
      const auto last = f.symbols().size() - 1;
      const auto at = f.sections()[st].offset + last * (f.is64() ? 24 : 16) + (f.is64() ? 8 : 4);
      poke(bad, at, f.symbols()[last].value + 1, f.is64() ? 8 : 4, little);
      CHECK(mentions(check_strip_semantics(input, bad), "is not an input symbol"));
    }
    DYNAMIC_SECTION(name << ": a section's flags") {
      auto bad = good;
      const auto text = find_section(f, ".text");
      const auto at = header_field(bad, f, text, 8, 8);
      poke(bad, at, f.sections()[text].flags & ~od::SHF_ALLOC, f.is64() ? 8 : 4, little);
      CHECK(mentions(check_strip_semantics(input, bad), "section .text: flags"));
    }
    DYNAMIC_SECTION(name << ": a global before a local") {
      auto bad = good;
      const auto st = f.symtab();
      const auto at = f.sections()[st].offset + (f.is64() ? 24u + 4u : 16u + 12u);
      bad[at] = static_cast<std::byte>((1u << 4) | (std::to_integer<unsigned>(bad[at]) & 0xfu));
      CHECK(mentions(check_strip_semantics(input, bad), "a local after the first global"));
    }
    DYNAMIC_SECTION(name << ": a truncated file") {
      std::vector<std::byte> bad(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
      CHECK_FALSE(check_strip_semantics(input, bad).ok());
    }
    DYNAMIC_SECTION(name << ": a removed relocation section whose target stays") {
      // Rename .rela.text / .rel.text's type to PROGBITS: the relocations vanish from the oracle's view.
      auto bad = good;
      const auto s =
          find_section(f, f.sections()[find_section(f, ".text") + 1].type == od::SHT_RELA ? ".rela.text" : ".rel.text");
      poke(bad, header_field(bad, f, s, 4, 4), 1, 4, little);
      CHECK_FALSE(check_strip_semantics(input, bad).ok());
    }
  }
}

TEST_CASE("strip_oracle.group_member_removed", "[strip][oracle]") {
  const auto dir = work_dir();
  std::ofstream(dir / "g.s") << ".section .text.a,\"axG\",@progbits,sig,comdat\n.globl sig\nsig: ret\n"
                                ".section .text.b,\"axG\",@progbits,sig,comdat\nret\n";
  REQUIRE(run_process({"as", "--64", "-o", (dir / "g.o").string(), (dir / "g.s").string()}).ok());
  const auto input = read_bytes(dir / "g.o");
  const od::elf f(input);
  const auto group = find_section(f, ".group");
  REQUIRE(group != SIZE_MAX);
  REQUIRE(f.sections()[group].size == 12);
  auto bad = input;
  poke(bad, header_field(bad, f, group, 32, 20), 8, 8, true);  // the group loses its last member
  CHECK(mentions(check_strip_semantics(input, bad), "members differ"));
}

TEST_CASE("strip.corpus_outputs_satisfy_the_oracle_open_cleanly_and_are_idempotent", "[strip][oracle][corpus]") {
  // Every committed object, stripped in memory with the kernel settings and with everything requested.
  struct setting {
    const char* what;
    strip_options options;
    const char* policy;
  };
  strip_options debug;
  debug.strip_debug = true;
  strip_options linker;
  linker.consumer = consumer_kind::linker;
  const setting settings[] = {{"--policy=crc,ksymtab -g", debug, "crc,ksymtab"},
                              {"--policy='name:*' (module/auto)", {}, "name:*"},
                              {"--policy='name:*' --consumer=linker", linker, "name:*"}};
  std::size_t objects = 0, relocations = 0, retargeted = 0;
  for (const auto& o : corpus_objects()) {
    const auto input = read_bytes(o.path);
    for (const auto& s : settings) {
      auto policy = policy_expr::parse(s.policy);
      REQUIRE(policy.has_value());
      auto request = [&](const auto& c) { return policy.value()(c) ? symbol_request::remove : symbol_request::keep; };
      std::vector<std::byte> once, twice;
      auto first = strip_in_memory(input, s.options, request, once);
      INFO(o.name << " " << s.what);
      REQUIRE(first.has_value());
      const auto report = check_strip_semantics(input, once);
      for (const auto& p : report.problems) FAIL_CHECK(p);
      relocations += report.relocations_checked;
      retargeted += report.relocations_retargeted + report.relocations_resolved;
      auto opened = visit(std::span<const std::byte>(once), [](const auto& f) -> result<int> {
        using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
        auto sections = f.sections();
        if (!sections) return sections.error();
        auto index = reloc_index<L>::build(*sections);
        if (!index) return index.error();
        return 0;
      });
      CHECK(opened.has_value());
      auto second = strip_in_memory(once, s.options, request, twice);
      REQUIRE(second.has_value());
      CHECK(once == twice);
      CHECK(second->stats.relocations_retargeted == 0);
    }
    ++objects;
  }
  CHECK(objects == corpus_objects().size());
  CHECK(retargeted > 1000);
  WARN("oracle: " << objects << " objects x 3 settings, " << relocations << " relocations checked, " << retargeted
                  << " retargeted or resolved");
}
