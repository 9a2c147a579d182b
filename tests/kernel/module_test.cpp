// Module facts: the signature sign-file appends (its length read from the kernel's own trailer format, struct
// module_signature's big-endian sig_len, and the end of the ELF data from GNU readelf's header fields), and
// which objects are modules (the module loader consumes them) and which are not.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/kernel/module.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

// The number after `label` in readelf -h's output.
std::uint64_t header_field(const std::string& readelf, const std::string& label) {
  std::smatch m;
  REQUIRE(std::regex_search(readelf, m, std::regex(label + R"(:\s+(\d+))")));
  return std::stoull(m[1].str());
}

struct module_facts {
  kernel::trailer_info trailer;
  bool is_module = false;
};

module_facts facts_of(std::span<const std::byte> bytes) {
  module_facts out;
  auto r = visit(bytes, [&](const auto& f) -> result<int> {
    ELFSIEVE_TRY(auto sections, f.sections());
    out.trailer = kernel::measure_trailer(f, sections);
    out.is_module = kernel::is_module(sections);
    return 0;
  });
  REQUIRE(r.has_value());
  return out;
}

std::filesystem::path assemble(const std::string& name, const std::string& source) {
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "module";
  std::filesystem::create_directories(dir);
  const auto s = dir / (name + ".s"), o = dir / (name + ".o");
  std::ofstream(s) << source;
  auto r = run_process({"as", "--64", "-o", o.string(), s.string()});
  INFO(r.err);
  REQUIRE(r.ok());
  return o;
}

}  // namespace

TEST_CASE("module.signature_trailer_of_corpus_modules", "[module][kernel]") {
  std::size_t signed_modules = 0, unsigned_modules = 0;
  for (const auto& o : corpus_objects()) {
    if (o.path.extension() != ".ko") continue;
    INFO(o.name);
    const auto bytes = read_bytes(o.path);
    const auto facts = facts_of(bytes);
    CHECK(facts.is_module);
    const bool marker = kernel::ends_with_module_signature(bytes);
    CHECK(facts.trailer.module_signature == marker);
    if (!marker) {
      ++unsigned_modules;
      CHECK(facts.trailer.bytes == 0);
      continue;
    }
    ++signed_modules;
    // include/linux/module_signature.h: ... signature, struct module_signature (12 bytes, sig_len big-endian in
    // its last 4), then the 28-byte marker.
    const std::size_t n = bytes.size();
    std::uint64_t sig_len = 0;
    for (std::size_t i = n - 32; i < n - 28; ++i) sig_len = sig_len << 8 | std::to_integer<std::uint64_t>(bytes[i]);
    CHECK(facts.trailer.bytes == sig_len + 12 + 28);
    // The ELF data ends with the section header table (GNU readelf's view of the header).
    const auto h = run_process({"readelf", "-hW", o.path.string()}).out;
    const std::uint64_t end = header_field(h, "Start of section headers") +
                              header_field(h, "Number of section headers") * header_field(h, "Size of section headers");
    CHECK(facts.trailer.bytes == n - end);
  }
  CHECK(signed_modules > 0);
  CHECK(unsigned_modules > 0);
}

TEST_CASE("module.consumer_detection", "[module][kernel]") {
  const auto plain = assemble("plain", ".text\n.globl f\nf: ret\n");
  CHECK_FALSE(facts_of(read_bytes(plain)).is_module);
  const auto modinfo = assemble("modinfo", ".section .modinfo,\"a\"\n.string \"license=GPL\"\n");
  CHECK(facts_of(read_bytes(modinfo)).is_module);
  const auto this_module = assemble("this_module", ".section .gnu.linkonce.this_module,\"aw\"\n.zero 64\n");
  CHECK(facts_of(read_bytes(this_module)).is_module);
  // A plain object has no trailer.
  const auto facts = facts_of(read_bytes(plain));
  CHECK(facts.trailer.bytes == 0);
  CHECK_FALSE(facts.trailer.module_signature);
}

TEST_CASE("module.marker_alone_is_recognised_only_at_the_end", "[module][kernel]") {
  const std::string magic(kernel::module_signature_magic);
  std::string text = "xx" + magic;
  CHECK(kernel::ends_with_module_signature(std::as_bytes(std::span(text.data(), text.size()))));
  text += "x";
  CHECK_FALSE(kernel::ends_with_module_signature(std::as_bytes(std::span(text.data(), text.size()))));
  CHECK_FALSE(kernel::ends_with_module_signature(std::as_bytes(std::span(magic.data(), magic.size() - 1))));
}
