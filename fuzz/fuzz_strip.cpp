// Strips arbitrary bytes (and rewrites them with the identity edit, the writer without a plan): whatever elfsieve
// accepts as ELF is planned and rewritten with a policy and options chosen from the input; the output must open cleanly
// in every layer, must mean the same as the input to the independent semantic oracle (tests/support/strip_oracle.hpp,
// its own minimal ELF decoder), and stripping it again with the same settings must give the same bytes. Errors are
// fine; crashes, hangs, UB and broken promises are not.
//
// Input format:
//   - starts with "\x7fELF": the whole input is the object, stripped with every fixed setting in turn (so a plain
//     ELF seed reaches deep code);
//   - otherwise the first byte chooses the setting (policy, debug stripping, consumer, --unmerge) and the rest is
//     the object.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/strip_oracle.hpp"

namespace {

using namespace elfsieve;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::array<std::string_view, 8> policies_by_number = {
    "crc,ksymtab",       "debug",          "name:*", "undefs|crc", "!ksymtab&name:[a-m]*",
    "name:.L*|name:__*", "debug|name:*_*", "!debug",
};

struct setting {
  std::string_view policy;
  strip_options options;
  bool unneeded_only = false;  // remove-if-unreferenced instead of remove
};

setting decode(std::uint8_t b) {
  setting s;
  s.policy = policies_by_number[b & 7u];
  s.options.strip_debug = (b & 8u) != 0;
  switch ((b >> 4) & 3u) {
    case 0: s.options.consumer = consumer_kind::automatic; break;
    case 1: s.options.consumer = consumer_kind::module; break;
    default: s.options.consumer = consumer_kind::linker; break;
  }
  s.options.unmerge = (b & 64u) != 0;
  s.unneeded_only = (b & 128u) != 0;
  return s;
}

result<strip_outcome> run(std::span<const std::byte> input, const setting& s, const policy_expr& policy,
                          std::vector<std::byte>& out) {
  auto no_sections = [](std::string_view name, const auto&) { return name == ".comment"; };
  auto request = [&](const auto& c) {
    if (!policy(c)) return symbol_request::keep;
    return s.unneeded_only ? symbol_request::remove_if_unreferenced : symbol_request::remove;
  };
  auto report = [](const symbol_report& r) { check(r.decision.relocations < (1u << 31)); };
  return strip_object(input, s.options, no_sections, request, report, out);
}

// Every layer must accept the writer's output.
void check_opens(std::span<const std::byte> bytes) {
  auto opened = visit(bytes, [](const auto& f) -> result<int> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    auto sections = f.sections();
    if (!sections) return sections.error();
    for (auto s : sections.value()) {
      auto name = sections->name(s);
      if (!name) return name.error();
      auto data = sections->data(s);
      if (!data) return data.error();
    }
    auto index = reloc_index<L>::build(sections.value());
    if (!index) return index.error();
    if (auto symbols = symbol_table<L>::find(sections.value(), elf::SHT_SYMTAB)) {
      for (auto sym : symbols.value()) {
        auto name = symbols->name(sym);
        if (!name) return name.error();
        auto where = symbols->section_of(sym);
        if (!where) return where.error();
      }
      // Locals first, and sh_info says where they end.
      for (auto sym : symbols.value())
        check((sym.index().value < symbols->first_nonlocal()) == (sym.bind() == elf::STB_LOCAL));
    }
    return 0;
  });
  check(opened.has_value());
}

void strip_and_check(std::span<const std::byte> input, const setting& s) {
  auto policy = policy_expr::parse(s.policy);
  check(policy.has_value());
  std::vector<std::byte> once, twice;
  auto first = run(input, s, policy.value(), once);
  if (!first) return;
  check_opens(once);
  const auto report = elfsieve::testing::check_strip_semantics(input, once);
  check(report.ok());
  auto second = run(once, s, policy.value(), twice);
  check(second.has_value());
  check(once == twice);
}

// The writer alone, on the identity edit (no plan, so no refusals first): errors are fine, crashes are not.
void rewrite_identity(std::span<const std::byte> input) {
  (void)visit(input, [](const auto& f) -> result<int> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
    std::vector<std::byte> out;
    ELFSIEVE_TRY_VOID(write_object(edits, out));
    return 0;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  if (size >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F') {
    for (unsigned b : {0x00u, 0x09u, 0x22u, 0x61u, 0x8au, 0x13u})
      strip_and_check(bytes, decode(static_cast<std::uint8_t>(b)));
    rewrite_identity(bytes);
    return 0;
  }
  if (size < 1) return 0;
  strip_and_check(bytes.subspan(1), decode(data[0]));
  return 0;
}
