// GNU strip's option semantics: the default --strip-all, debug sections implied by --strip-unneeded and
// --strip-all, -R patterns, the symbol requests of -N/-K/-w/--policy/--strip-unneeded/--strip-debug on a built
// object, and "relocatable" taken from the file header (ET_REL) for --strip-unneeded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "elfsieve/strip/gnu_options.hpp"
#include "support/elf_builder.hpp"

using namespace elfsieve;
using namespace elfsieve::testing;

namespace {

const char* const symbol_names[] = {"file.c", "local_fn", "global_fn", "weak_fn", "undef",
                                    "common", "in_debug", "__crc_foo", "keep_me"};

template <elf_layout L>
elf_image<L> build_object(std::uint16_t type) {
  elf_builder<L> b;
  b.options().type = type;
  const auto text =
      static_cast<std::uint16_t>(b.add_progbits(".text", byte_vector(32), elf::SHF_ALLOC | elf::SHF_EXECINSTR));
  const auto debug = static_cast<std::uint16_t>(b.add_progbits(".debug_info", byte_vector(16), 0));
  b.add_progbits(".comment", byte_vector(4), 0);
  const auto* n = symbol_names;
  b.add_symbols({
      {"", 0, 0, elf::STB_LOCAL, elf::STT_SECTION, 0, text},
      {n[0], 0, 0, elf::STB_LOCAL, elf::STT_FILE, 0, elf::SHN_ABS},
      {n[1], 0, 4, elf::STB_LOCAL, elf::STT_FUNC, 0, text},
      {n[2], 4, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
      {n[3], 8, 4, elf::STB_WEAK, elf::STT_FUNC, 0, text},
      {n[4], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_UNDEF},
      {n[5], 8, 8, elf::STB_GLOBAL, elf::STT_OBJECT, 0, elf::SHN_COMMON},
      {n[6], 0, 0, elf::STB_LOCAL, elf::STT_NOTYPE, 0, debug},
      {n[7], 0, 0, elf::STB_GLOBAL, elf::STT_NOTYPE, 0, elf::SHN_ABS},
      {n[8], 12, 4, elf::STB_GLOBAL, elf::STT_FUNC, 0, text},
  });
  return b.build();
}

const char* request_name(symbol_request r) {
  switch (r) {
    case symbol_request::keep: return "keep";
    case symbol_request::remove: return "remove";
    case symbol_request::remove_if_unreferenced: return "unreferenced";
  }
  return "?";
}

// name -> request for every named symbol, and "(section)" / "(null)" for the others.
template <elf_layout L>
std::map<std::string, std::string> requests(const gnu_strip& strip, bool relocatable) {
  const auto img = build_object<L>(elf::ET_REL);
  auto f = img.open();
  REQUIRE(f);
  auto sections = f->sections();
  REQUIRE(sections);
  auto symbols = symbol_table<L>::find(*sections, elf::SHT_SYMTAB);
  REQUIRE(symbols);
  std::map<std::string, std::string> out;
  for (auto s : *symbols) {
    auto c = make_symbol_context(*sections, *symbols, s);
    REQUIRE(c);
    const std::string key = c->is_null_symbol()      ? "(null)"
                            : c->is_section_symbol() ? "(section)"
                                                     : std::string(c->name);
    out[key] = request_name(strip.request(c.value(), relocatable));
  }
  return out;
}

gnu_strip_options with(std::initializer_list<const char*> strip, std::initializer_list<const char*> keep = {}) {
  gnu_strip_options o;
  for (const char* s : strip) o.strip_symbols.emplace_back(s);
  for (const char* k : keep) o.keep_symbols.emplace_back(k);
  return o;
}

}  // namespace

TEST_CASE("gnu_options: --strip-all is the default and implies the debug sections", "[strip][gnu_options]") {
  gnu_strip_options none;
  CHECK(gnu_strip(none).strips_all());
  CHECK(gnu_strip(none).plan_options().strip_debug);

  gnu_strip_options keep_only = with({}, {"foo"});  // -K alone still strips everything else
  CHECK(gnu_strip(keep_only).strips_all());

  gnu_strip_options debug;
  debug.plan.strip_debug = true;
  CHECK_FALSE(gnu_strip(debug).strips_all());
  CHECK(gnu_strip(debug).plan_options().strip_debug);

  gnu_strip_options unneeded;
  unneeded.strip_unneeded = true;
  CHECK_FALSE(gnu_strip(unneeded).strips_all());
  CHECK(gnu_strip(unneeded).plan_options().strip_debug);

  const gnu_strip named(with({"foo"}));
  CHECK_FALSE(named.strips_all());
  CHECK_FALSE(named.plan_options().strip_debug);

  gnu_strip_options policy;
  policy.policy.emplace(policy_expr::parse("crc").value());
  CHECK_FALSE(gnu_strip(policy).strips_all());

  gnu_strip_options all = with({"foo"});
  all.strip_all = true;
  all.plan.consumer = consumer_kind::linker;
  all.plan.unmerge = true;
  const gnu_strip s(all);
  CHECK(s.strips_all());
  CHECK(s.plan_options().strip_debug);
  CHECK(s.plan_options().consumer == consumer_kind::linker);
  CHECK(s.plan_options().unmerge);
}

TEST_CASE("gnu_options: -R patterns", "[strip][gnu_options]") {
  CHECK_FALSE(gnu_strip(gnu_strip_options{}).removes_section(".comment"));
  gnu_strip_options o;
  o.remove_sections = {".c*", "!.comment", ".note.GNU-stack"};
  const gnu_strip s(o);
  CHECK(s.removes_section(".cold"));
  CHECK_FALSE(s.removes_section(".comment"));
  CHECK(s.removes_section(".note.GNU-stack"));
  CHECK_FALSE(s.removes_section(".text"));
}

TEMPLATE_TEST_CASE("gnu_options: symbol requests", "[strip][gnu_options]", elf32le, elf64be) {
  using L = TestType;
  using m = std::map<std::string, std::string>;
  const std::string u = "unreferenced";
  // Default: --strip-all. -K wins.
  CHECK(requests<L>(gnu_strip(with({}, {"keep_me"})), true) == m{{"(null)", "keep"},
                                                                 {"(section)", "keep"},
                                                                 {"file.c", u},
                                                                 {"local_fn", u},
                                                                 {"global_fn", u},
                                                                 {"weak_fn", u},
                                                                 {"undef", u},
                                                                 {"common", u},
                                                                 {"in_debug", u},
                                                                 {"__crc_foo", u},
                                                                 {"keep_me", "keep"}});
  // -N: only the named symbols, even when -K does not name them; exact names without -w.
  CHECK(requests<L>(gnu_strip(with({"global_fn", "*_fn"})), true) == m{{"(null)", "keep"},
                                                                       {"(section)", "keep"},
                                                                       {"file.c", "keep"},
                                                                       {"local_fn", "keep"},
                                                                       {"global_fn", "remove"},
                                                                       {"weak_fn", "keep"},
                                                                       {"undef", "keep"},
                                                                       {"common", "keep"},
                                                                       {"in_debug", "keep"},
                                                                       {"__crc_foo", "keep"},
                                                                       {"keep_me", "keep"}});
  // -w: patterns; -K beats -N.
  auto wild = with({"*_fn", "keep_*"}, {"weak_*"});
  wild.wildcard = true;
  const auto w = requests<L>(gnu_strip(wild), true);
  CHECK(w.at("local_fn") == "remove");
  CHECK(w.at("global_fn") == "remove");
  CHECK(w.at("keep_me") == "remove");
  CHECK(w.at("weak_fn") == "keep");
  CHECK(w.at("undef") == "keep");
  // --policy: like -N.
  gnu_strip_options policy;
  policy.policy.emplace(policy_expr::parse("crc").value());
  const auto p = requests<L>(gnu_strip(std::move(policy)), true);
  CHECK(p.at("__crc_foo") == "remove");
  CHECK(p.at("global_fn") == "keep");
  // --strip-debug: the file symbol and the symbols of debug sections.
  gnu_strip_options debug;
  debug.plan.strip_debug = true;
  CHECK(requests<L>(gnu_strip(debug), true) == m{{"(null)", "keep"},
                                                 {"(section)", "keep"},
                                                 {"file.c", "remove"},
                                                 {"local_fn", "keep"},
                                                 {"global_fn", "keep"},
                                                 {"weak_fn", "keep"},
                                                 {"undef", "keep"},
                                                 {"common", "keep"},
                                                 {"in_debug", "remove"},
                                                 {"__crc_foo", "keep"},
                                                 {"keep_me", "keep"}});
  // --strip-unneeded: in a relocatable object, defined global, weak and common symbols are needed.
  gnu_strip_options unneeded;
  unneeded.strip_unneeded = true;
  CHECK(requests<L>(gnu_strip(unneeded), true) == m{{"(null)", "keep"},
                                                    {"(section)", "keep"},
                                                    {"file.c", u},
                                                    {"local_fn", u},
                                                    {"global_fn", "keep"},
                                                    {"weak_fn", "keep"},
                                                    {"undef", u},
                                                    {"common", "keep"},
                                                    {"in_debug", u},
                                                    {"__crc_foo", "keep"},
                                                    {"keep_me", "keep"}});
  // ... and in a linked object only relocations make a symbol needed.
  const auto linked = requests<L>(gnu_strip(unneeded), false);
  CHECK(linked.at("global_fn") == u);
  CHECK(linked.at("weak_fn") == u);
  CHECK(linked.at("common") == u);
}

TEMPLATE_TEST_CASE("gnu_options: --strip-unneeded reads relocatable from e_type", "[strip][gnu_options]", elf32be,
                   elf64le) {
  using L = TestType;
  gnu_strip_options unneeded;
  unneeded.strip_unneeded = true;
  const gnu_strip strip(unneeded);
  for (const std::uint16_t type : {elf::ET_REL, elf::ET_DYN}) {
    INFO("e_type " << type);
    const auto img = build_object<L>(type);
    std::vector<std::string> removed;
    std::vector<std::byte> out;
    auto outcome = strip.run(
        img.span(),
        [&](const symbol_report& r) {
          if (r.decision.action == symbol_action::remove) removed.emplace_back(r.name);
        },
        out);
    REQUIRE(outcome);
    CHECK(!out.empty());
    const bool global_removed = std::find(removed.begin(), removed.end(), "global_fn") != removed.end();
    CHECK(global_removed == (type != elf::ET_REL));
    CHECK(std::find(removed.begin(), removed.end(), "local_fn") != removed.end());
  }
}
