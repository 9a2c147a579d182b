// The writer driven by edit descriptions built here, without a strip plan. Judged by GNU tools: an identity edit
// gives an object that readelf and nm describe exactly as the input (modules of every corpus architecture, a
// compiled object, a linked executable whose segments must not move); removing one non-allocated section gives
// what GNU objcopy -R gives; a redirect to no symbol folds the value into the addend as readelf shows it; a
// relocation naming a dropped symbol is refused with the symbol in the error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/rewrite/writer.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

void write_file(const std::filesystem::path& p, std::span<const std::byte> bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::filesystem::path work_dir() {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "writer";
  std::filesystem::create_directories(d);
  return d;
}

std::filesystem::path build(const std::string& name, const std::vector<std::string>& command_before_output,
                            const std::string& source, const std::string& extension) {
  const auto dir = work_dir();
  const auto src = dir / (name + extension);
  const auto out = dir / (name + ".o");
  std::ofstream(src) << source;
  auto args = command_before_output;
  args.insert(args.end(), {"-o", out.string(), src.string()});
  auto r = run_process(args);
  INFO(r.err);
  REQUIRE(r.ok());
  return out;
}

// Calls edit(object_edits&) on the edit description of `input`'s layout, writes it and returns the bytes (or the
// writer's error).
template <class Edit>
result<std::vector<std::byte>> rewrite(std::span<const std::byte> input, Edit&& edit) {
  return visit(input, [&](const auto& f) -> result<std::vector<std::byte>> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
    ELFSIEVE_TRY_VOID(edit(edits));
    std::vector<std::byte> out;
    ELFSIEVE_TRY_VOID(write_object(edits, out));
    return out;
  });
}

auto identity = [](auto&) -> result<void> { return {}; };

std::string run_out(const std::vector<std::string>& args) {
  auto r = run_process(args);
  INFO(args[0] << ": " << r.err);
  CHECK(r.ok());
  return r.out;
}

// readelf -SW without the columns a rewrite may change: the file offset (every section may move) and, for string
// tables (rebuilt with tail merging), the size.
std::string sections_of(const std::filesystem::path& p) {
  std::istringstream in(run_out({"readelf", "-SW", p.string()}));
  std::string out;
  const std::regex row(R"(^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+(.*)$)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    const bool strings = m[3] == "STRTAB";
    out += m[1].str() + " " + m[2].str() + " " + m[3].str() + " " + m[4].str() + " " +
           (strings ? std::string("-") : m[5].str()) + " " + m[6].str() + "\n";
  }
  return out;
}

// readelf -rW without the "at offset" of each relocation section.
std::string relocations_of(const std::filesystem::path& p) {
  return std::regex_replace(run_out({"readelf", "-rW", p.string()}), std::regex(" at offset 0x[0-9a-f]+"), "");
}

void check_identity(const std::filesystem::path& input_path, const std::string& label) {
  INFO(label);
  const auto input = read_bytes(input_path);
  auto out = rewrite(input, identity);
  REQUIRE(out.has_value());
  const auto out_path = work_dir() / (std::filesystem::path(label).filename().string() + ".identity");
  write_file(out_path, *out);
  const auto want_sections = sections_of(input_path);
  CHECK(!want_sections.empty());
  CHECK(sections_of(out_path) == want_sections);
  CHECK(run_out({"nm", "-a", out_path.string()}) == run_out({"nm", "-a", input_path.string()}));
  CHECK(relocations_of(out_path) == relocations_of(input_path));
  CHECK(run_out({"readelf", "-lW", out_path.string()}) == run_out({"readelf", "-lW", input_path.string()}));
}

std::size_t section_named(std::span<const std::byte> bytes, std::string_view name) {
  std::size_t found = 0;
  auto r = visit(bytes, [&](const auto& f) -> result<int> {
    ELFSIEVE_TRY(auto sections, f.sections());
    auto s = sections.find(name);
    if (s) found = s->index().value;
    return 0;
  });
  REQUIRE(r.has_value());
  return found;
}

}  // namespace

TEST_CASE("writer.identity_edits_describe_the_same_object", "[writer]") {
  // One module per corpus architecture (REL and RELA, both byte orders, both classes).
  for (const auto& arch : corpus_architectures()) {
    for (const auto& o : corpus_objects_of(arch)) {
      if (o.path.extension() != ".ko") continue;
      check_identity(o.path, o.name);
      break;
    }
  }
  const auto object = build("compiled", {"gcc", "-c", "-O1", "-g"},
                            "static int counter; int bump(int by) { counter += by; return counter; }\n"
                            "const char *name(void) { return \"name\"; }\n",
                            ".c");
  check_identity(object, "compiled.o");
}

TEST_CASE("writer.identity_keeps_segments_in_place", "[writer]") {
  const auto dir = work_dir();
  std::ofstream(dir / "prog.c") << "#include <stdio.h>\nint main(void) { puts(\"unchanged\"); return 0; }\n";
  const auto prog = dir / "prog";
  auto cc = run_process({"gcc", "-O1", "-o", prog.string(), (dir / "prog.c").string()});
  INFO(cc.err);
  REQUIRE(cc.ok());
  check_identity(prog, "prog");
  // The rewritten program still runs.
  const auto out_path = dir / "prog.identity";
  std::filesystem::permissions(out_path, std::filesystem::perms::owner_all);
  CHECK(run_out({out_path.string()}) == "unchanged\n");
}

TEST_CASE("writer.removing_a_section_matches_objcopy", "[writer]") {
  const auto object = build("remove", {"gcc", "-c", "-O1"}, "int answer(void) { return 42; }\nint data = 7;\n", ".c");
  const auto input = read_bytes(object);
  const auto comment = section_named(input, ".comment");
  REQUIRE(comment != 0);
  auto out = rewrite(input, [&](auto& edits) -> result<void> {
    edits.remove_section(section_index(static_cast<std::uint32_t>(comment)));
    return {};
  });
  REQUIRE(out.has_value());
  const auto ours = work_dir() / "remove.ours.o";
  write_file(ours, *out);
  const auto theirs = work_dir() / "remove.objcopy.o";
  auto r = run_process({"objcopy", "-R", ".comment", object.string(), theirs.string()});
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK(sections_of(ours).find(".comment") == std::string::npos);
  CHECK(sections_of(ours) == sections_of(theirs));
  CHECK(run_out({"nm", "-a", ours.string()}) == run_out({"nm", "-a", theirs.string()}));
  CHECK(relocations_of(ours) == relocations_of(theirs));
}

TEST_CASE("writer.redirects_and_refusals", "[writer]") {
  const auto object = build("redirect", {"as", "--64"}, R"(
  .data
  .quad abs_sym + 2
  .quad gone
  .globl abs_sym, gone
  .set abs_sym, 0x1230
gone: .quad 0
)",
                            ".s");
  const auto input = read_bytes(object);
  auto symbol_named = [&](const auto& edits, std::string_view name) {
    for (auto s : *edits.symbols())
      if (auto n = edits.symbols()->name(s); n && n.value() == name) return s.index();
    FAIL("no symbol " << name);
    return symbol_index{};
  };

  SECTION("a redirect to no symbol folds the value into the addend") {
    auto out = rewrite(input, [&](auto& edits) -> result<void> {
      edits.redirect_to_nothing(symbol_named(edits, "abs_sym"), 0x1230);
      return {};
    });
    REQUIRE(out.has_value());
    const auto path = work_dir() / "redirect.out.o";
    write_file(path, *out);
    const auto relocs = relocations_of(path);
    CHECK(std::regex_search(relocs, std::regex(R"(R_X86_64_64\s+1232)")));
    CHECK(relocs.find("abs_sym") == std::string::npos);
    CHECK(run_out({"nm", "-a", path.string()}).find("abs_sym") == std::string::npos);
  }
  SECTION("a kept relocation naming a dropped symbol is refused, with the symbol in the detail") {
    symbol_index dropped{};
    auto out = rewrite(input, [&](auto& edits) -> result<void> {
      dropped = symbol_named(edits, "gone");
      edits.drop_symbol(dropped);
      return {};
    });
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == errc::relocation_names_removed_symbol);
    CHECK(out.error().detail == std::optional<std::uint64_t>(dropped.value));
    CHECK(out.error().section == section_index(static_cast<std::uint32_t>(section_named(input, ".rela.data"))));
  }
}

TEST_CASE("writer.a_kept_group_needs_its_signature", "[writer]") {
  const auto object = build("group", {"as", "--64"}, R"(
  .section .text.b,"axG",@progbits,b,comdat
  .globl b
b: ret
)",
                            ".s");
  const auto input = read_bytes(object);
  auto out = rewrite(input, [&](auto& edits) -> result<void> {
    for (auto s : *edits.symbols())
      if (auto n = edits.symbols()->name(s); n && n.value() == "b") edits.drop_symbol(s.index());
    return {};
  });
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == errc::bad_group_signature);
  CHECK(out.error().section == section_index(static_cast<std::uint32_t>(section_named(input, ".group"))));
}

// A segment outside the file gets p_filesz 0 (as GNU writes it); when that field lies inside a kept section's bytes
// (here a fuzzer's program header table inside a string table and two SHT_NOTE sections), writing it would change
// the section: refused, with the section named. Found by fuzz_strip's semantic oracle.
TEST_CASE("writer.refuses_to_change_a_program_header_inside_a_section", "[writer]") {
  const auto bytes = read_bytes(std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "fuzz" / "regressions" /
                                "strip-program-header-field-inside-section");
  auto outcome = visit(std::span<const std::byte>(bytes), [](const auto& f) -> result<int> {
    using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
    ELFSIEVE_TRY(auto edits, object_edits<L>::keep_everything(f));
    std::vector<std::byte> out;
    ELFSIEVE_TRY_VOID(write_object(edits, out));
    return 0;
  });
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().code == errc::program_headers_overlap_section);
  REQUIRE(outcome.error().section.has_value());
  CHECK(outcome.error().section->value == 30);  // [30] covers bytes 0-0x1043 (readelf -S)
}
