// The strip plan and the writer on small objects assembled here, one rule of KERNEL.md "Retargeting a relocation"
// at a time: what is retargeted, resolved or kept (and why) for each consumer, checked against GNU readelf's view
// of the output and the independent semantic oracle. Also the relocation tables against readelf's type names and
// the kernel's loaders (every relocation a shipped module applies must be a loader type in our table).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/strip_oracle.hpp"

using namespace elfsieve;
using namespace elfsieve::test;

namespace {

void write_bytes(const std::filesystem::path& p, std::span<const std::byte> bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::filesystem::path work_dir() {
  auto d = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "strip_plan";
  std::filesystem::create_directories(d);
  return d;
}

// Assembles `source` with `assembler` (extra flags allowed) into work_dir()/name.o.
std::filesystem::path assemble(const std::string& name, const std::vector<std::string>& assembler,
                               const std::string& source) {
  const auto dir = work_dir();
  const auto s = dir / (name + ".s");
  const auto o = dir / (name + ".o");
  std::ofstream(s) << source;
  auto args = assembler;
  args.insert(args.end(), {"-o", o.string(), s.string()});
  auto r = run_process(args);
  INFO(r.err);
  REQUIRE(r.ok());
  return o;
}

struct stripped {
  std::vector<std::byte> input, output;
  std::map<std::string, symbol_decision> decisions;
  std::map<std::string, std::string> types;    // reloc type named in a keep reason
  std::map<std::string, std::string> targets;  // retarget section
  strip_outcome outcome;
  std::filesystem::path out_path;
};

stripped strip_names(const std::filesystem::path& object, const std::set<std::string>& names, strip_options options) {
  stripped s;
  s.input = read_bytes(object);
  auto request = [&](const auto& c) {
    return names.count(std::string(c.name)) != 0 ? symbol_request::remove : symbol_request::keep;
  };
  auto report = [&](const symbol_report& r) {
    s.decisions.emplace(std::string(r.name), r.decision);
    s.types.emplace(std::string(r.name), std::string(r.reloc_type));
    s.targets.emplace(std::string(r.name), std::string(r.target_section));
  };
  auto outcome = strip_object(
      s.input, options, [](std::string_view, const auto&) { return false; }, request, report, s.output);
  if (!outcome) FAIL_CHECK("strip_object: " << outcome.error().message);
  REQUIRE(outcome.has_value());
  s.outcome = outcome.value();
  s.out_path = object;
  s.out_path.replace_extension(".stripped.o");
  write_bytes(s.out_path, s.output);
  const auto report_oracle = elfsieve::testing::check_strip_semantics(s.input, s.output);
  for (const auto& p : report_oracle.problems) FAIL_CHECK(object.filename().string() << ": " << p);
  auto readelf = run_process({"readelf", "-aW", s.out_path.string()});
  CHECK(readelf.ok());
  CHECK(readelf.err.empty());
  return s;
}

std::string relocations_of(const std::filesystem::path& p) { return run_process({"readelf", "-rW", p.string()}).out; }

// x86_64: a "module" (it has .modinfo) whose data and code name a global, a TLS variable, a GOT entry, an absolute
// symbol (absolutely and PC-relatively), an undefined function and a 16-bit field.
const char* x86_64_source = R"(
  .section .modinfo,"a"
  .string "license=GPL"
  .data
  .skip 8
  .globl gdata
gdata: .long 1
  .section .data.rel,"aw"
  .quad gdata + 2
  .quad abs_sym
  .section .rodata.str1.1,"aMS",@progbits,1
  .skip 3
lstr: .string "abc"
  .section .tbss,"awT",@nobits
  .globl tls_var
tls_var: .zero 4
  .text
  .globl entry
entry:
  movl gdata(%rip), %eax
  leaq lstr(%rip), %rax
  movq tls_var@tpoff, %rax
  movq gotsym@GOTPCREL(%rip), %rax
  call abs_pc
  call ext_fn
  ret
  .globl gotsym
gotsym: ret
  .section .data.w,"aw"
  .word gdata
  .globl abs_sym, abs_pc
  .set abs_sym, 0x1234
  .set abs_pc, 0x10
)";

}  // namespace

TEST_CASE("strip_plan.x86_64_module_rules", "[strip][strip_plan]") {
  const auto object = assemble("x86_64-module", {"as", "--64"}, x86_64_source);
  strip_options options;  // consumer auto: .modinfo makes it a module
  auto s = strip_names(object, {"lstr", "tls_var", "gotsym", "abs_sym", "abs_pc", "ext_fn"}, options);
  CHECK(s.outcome.consumer == consumer_kind::module);
  CHECK(s.decisions.at("lstr").action == symbol_action::retarget);  // no merging in the module loader
  CHECK(s.targets.at("lstr") == ".rodata.str1.1");
  CHECK(s.decisions.at("tls_var").reason == keep_reason::tls_symbol);
  CHECK(s.decisions.at("gotsym").reason == keep_reason::not_equivalent);
  CHECK(s.types.at("gotsym") == "R_X86_64_REX_GOTPCRELX");
  CHECK(s.decisions.at("abs_sym").action == symbol_action::resolve);
  CHECK(s.decisions.at("abs_pc").reason == keep_reason::not_absolute);
  CHECK(s.decisions.at("ext_fn").reason == keep_reason::undefined);
  // readelf: the string is now named through the section with the label's offset (3) folded into the addend
  // (PC32: -4 + 3), and the absolute symbol's value sits in the addend of a symbol-less relocation.
  const std::string r = relocations_of(s.out_path);
  CHECK(std::regex_search(r, std::regex(R"(R_X86_64_PC32\s+0+\s+\.rodata\.str1\.1 - 1)")));
  CHECK(std::regex_search(r, std::regex(R"(R_X86_64_64\s+1234)")));
  CHECK(r.find("lstr") == std::string::npos);
  CHECK(r.find("abs_sym") == std::string::npos);

  SECTION("a 16-bit field names gdata: the module loader does not take R_X86_64_16") {
    auto t = strip_names(object, {"gdata"}, options);
    CHECK(t.decisions.at("gdata").reason == keep_reason::not_loader_type);
    CHECK(t.types.at("gdata") == "R_X86_64_16");
  }
}

TEST_CASE("strip_plan.x86_64_linker_rules", "[strip][strip_plan]") {
  const auto object = assemble("x86_64-linker", {"as", "--64"}, x86_64_source);
  strip_options options;
  options.consumer = consumer_kind::linker;
  auto s = strip_names(object, {"gdata", "lstr"}, options);
  CHECK(s.decisions.at("gdata").reason == keep_reason::preemptible);
  CHECK(s.decisions.at("lstr").reason == keep_reason::merge_section);  // PC-relative into SHF_MERGE
  auto flags_of = [](const std::filesystem::path& p) {
    auto out = run_process({"readelf", "-SW", p.string()}).out;
    std::smatch m;
    std::regex line(R"(\.rodata\.str1\.1\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+))");
    return std::regex_search(out, m, line) ? m[1].str() : std::string("?");
  };
  CHECK(flags_of(s.out_path) == "AMS");

  options.unmerge = true;
  auto u = strip_names(object, {"lstr"}, options);
  CHECK(u.decisions.at("lstr").action == symbol_action::retarget);
  CHECK(u.outcome.stats.sections_unmerged == 1);
  CHECK(flags_of(u.out_path) == "AS");  // SHF_MERGE cleared, SHF_STRINGS kept
}

TEST_CASE("strip_plan.i386_rel_fields_are_patched", "[strip][strip_plan]") {
  // REL: the addend lives in the field. gdata sits at .data+8; `.long gdata + 4` holds 4 and must hold 12 once it
  // names .data; `.long gdata - .` (PC32) holds 0 and must hold 8.
  const auto object = assemble("i386-rel", {"i686-linux-gnu-as", "--32"}, R"(
  .section .modinfo,"a"
  .string "license=GPL"
  .data
  .skip 8
  .globl gdata
gdata: .long 7
  .section .data.rel,"aw"
  .long gdata + 4
  .long gdata - .
  .text
  .globl f
f: movl gdata, %eax
  ret
)");
  auto s = strip_names(object, {"gdata"}, {});
  CHECK(s.decisions.at("gdata").action == symbol_action::retarget);
  CHECK(s.decisions.at("gdata").relocations == 3);
  auto dump = run_process({"objdump", "-s", "-j", ".data.rel", s.out_path.string()}).out;
  CHECK(dump.find("0c000000 08000000") != std::string::npos);
  CHECK(relocations_of(s.out_path).find("gdata") == std::string::npos);
}

TEST_CASE("strip_plan.i386_overlapping_rel_fields_are_never_patched", "[strip][strip_plan]") {
  // A module (globals named by relocations may go). `loc` is named by an R_386_32 whose field (bytes 4..8) shares
  // bytes 6..8 with an R_386_16 field: folding loc's value into the first would change the second's addend, so
  // loc is kept and says why; `far` is retargeted.
  const auto object = assemble("i386-overlap", {"as", "--32"}, R"(
  .section .modinfo,"a"
  .string "license=GPL"
  .data
  .globl loc, far
  .long far
fld: .long loc
  .reloc fld+2, R_386_16, ext
loc: .long 7
far: .long 8
)");
  auto s = strip_names(object, {"loc", "far"}, strip_options{});
  REQUIRE(s.decisions.count("loc") == 1);
  CHECK(s.decisions["loc"].action == symbol_action::keep);
  CHECK(s.decisions["loc"].reason == keep_reason::field_overlap);
  CHECK(s.decisions["far"].action == symbol_action::retarget);
  CHECK(s.outcome.stats.kept_by_reason[static_cast<std::size_t>(keep_reason::field_overlap)] == 1u);
}

TEST_CASE("strip_plan.ppc64_local_entry_and_opd", "[strip][strip_plan]") {
  // ELFv2: a branch to a function with a local entry point must keep naming the function.
  const auto v2 = assemble("ppc64-v2", {"powerpc64-linux-gnu-as", "-a64", "-mbig"}, R"(
  .abiversion 2
  .section .modinfo,"a"
  .string "license=GPL"
  .section .text.f,"ax",@progbits
  .globl f
f: addis 2,12,.TOC.-f@ha
  addi 2,2,.TOC.-f@l
  .localentry f,.-f
  blr
  .section .text.g,"ax",@progbits
  .globl g
g: bl f
  nop
  blr
  .section .text.h,"ax",@progbits
  .globl h
h: bl g
  nop
  blr
)");
  auto s = strip_names(v2, {"f", "g"}, {});
  CHECK(s.decisions.at("f").reason == keep_reason::local_entry);
  CHECK(s.decisions.at("g").action == symbol_action::retarget);  // no local entry: the section symbol will do

  // ELFv1: function symbols are descriptors in .opd.
  const auto v1 = assemble("ppc64-v1", {"powerpc64-linux-gnu-as", "-a64", "-mbig"}, R"(
  .abiversion 1
  .section .modinfo,"a"
  .string "license=GPL"
  .section .opd,"aw"
  .align 3
  .globl fn
fn: .quad .L.fn, .TOC.@tocbase, 0
  .text
.L.fn: blr
  .data
  .quad fn
)");
  auto t = strip_names(v1, {"fn"}, {});
  CHECK(t.decisions.at("fn").reason == keep_reason::opd_entry);
}

TEST_CASE("strip_plan.removed_sections_take_their_relocations_and_groups", "[strip][strip_plan]") {
  const auto object = assemble("x86_64-groups", {"as", "--64"}, R"(
  .section .text.inl,"axG",@progbits,inl,comdat
  .globl inl
  .weak inl
inl: ret
  .section .debug_info,"",@progbits
  .quad inl
  .long .Ldbg
  .text
.Ldbg:
  .globl main
main: call inl
  ret
)");
  std::vector<std::byte> input = read_bytes(object), output;
  strip_options options;
  options.strip_debug = true;
  auto outcome = strip_object(
      input, options, [](std::string_view name, const auto&) { return name == ".text.inl"; },
      [](const auto&) { return symbol_request::keep; }, [](const symbol_report&) {}, output);
  // .text.inl is named by a kept relocation of .text: removing it is refused, with the section in the error.
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().code == errc::symbol_in_removed_section);

  auto debug_only = strip_object(
      input, options, [](std::string_view, const auto&) { return false; },
      [](const auto&) { return symbol_request::keep; }, [](const symbol_report&) {}, output);
  REQUIRE(debug_only.has_value());
  const auto out_path = work_dir() / "x86_64-groups.stripped.o";
  write_bytes(out_path, output);
  auto sections = run_process({"readelf", "-SW", out_path.string()}).out;
  CHECK(sections.find(".debug_info") == std::string::npos);
  CHECK(sections.find(".rela.debug_info") == std::string::npos);
  CHECK(sections.find(".group") != std::string::npos);
  auto groups = run_process({"readelf", "-gW", out_path.string()}).out;
  CHECK(groups.find("[inl]") != std::string::npos);
  CHECK(groups.find(".text.inl") != std::string::npos);
  auto oracle = elfsieve::testing::check_strip_semantics(input, output);
  for (const auto& p : oracle.problems) FAIL_CHECK(p);
}

// Section header fields of a little-endian ELF64 object, patched in place (the malformed inputs below).
struct elf64le_headers {
  std::vector<std::byte>& bytes;
  template <class T>
  T get(std::size_t at) const {
    T v{};
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
  }
  template <class T>
  void set(std::size_t at, T v) {
    std::memcpy(bytes.data() + at, &v, sizeof v);
  }
  [[nodiscard]] std::size_t header(std::size_t i) const { return get<std::uint64_t>(0x28) + i * 64; }
  [[nodiscard]] std::size_t count() const { return get<std::uint16_t>(0x3c); }
  [[nodiscard]] std::string name(std::size_t i) const {
    const auto names = header(get<std::uint16_t>(0x3e));
    const auto at = get<std::uint64_t>(names + 0x18) + get<std::uint32_t>(header(i));
    return std::string(reinterpret_cast<const char*>(bytes.data() + at));
  }
  [[nodiscard]] std::size_t find(std::string_view n) const {
    for (std::size_t i = 1; i < count(); ++i)
      if (name(i) == n) return i;
    FAIL("no section " << n);
    return 0;
  }
};

TEST_CASE("strip_plan.debug_stripping_goes_by_target_and_never_rebuilds_loaded_tables", "[strip][strip_plan]") {
  const auto object = assemble("x86_64-debug-names", {"as", "--64"}, R"(
  .section .debug_info,"",@progbits
  .quad main
  .text
  .globl main
main: call ext
  ret
)");
  const std::vector<std::byte> pristine = read_bytes(object);
  strip_options options;
  options.strip_debug = true;
  auto keep_all = [](const auto&) { return symbol_request::keep; };
  auto no_sections = [](std::string_view, const auto&) { return false; };

  // A relocation section that carries a debug name (.rela.text renamed .debug_info, as BFD would never see it:
  // BFD folds relocations into their target) stays with .text; the real .debug_info and its relocations go.
  std::vector<std::byte> input = pristine, output;
  elf64le_headers h{input};
  const auto rela_text = h.find(".rela.text");
  h.set<std::uint32_t>(h.header(rela_text), h.get<std::uint32_t>(h.header(h.find(".debug_info"))));
  auto renamed = strip_object(
      input, options, no_sections, keep_all, [](const symbol_report&) {}, output);
  REQUIRE(renamed.has_value());
  const auto out_path = work_dir() / "x86_64-debug-names.stripped.o";
  write_bytes(out_path, output);
  const auto relocs = relocations_of(out_path);
  CHECK(relocs.find("Relocation section '.debug_info'") != std::string::npos);
  CHECK(relocs.find("ext") != std::string::npos);
  CHECK(relocs.find("'.rela.debug_info'") == std::string::npos);
  auto oracle = elfsieve::testing::check_strip_semantics(input, output);
  for (const auto& p : oracle.problems) FAIL_CHECK(p);

  // A loaded (SHF_ALLOC) symbol table, string table or section-name table would have to move or change inside
  // the image: refused with the section in the error, and nothing is written.
  for (const char* table : {".symtab", ".strtab", ".shstrtab"}) {
    INFO(table);
    input = pristine;
    elf64le_headers t{input};
    const auto i = t.find(table);
    t.set<std::uint64_t>(t.header(i) + 8, t.get<std::uint64_t>(t.header(i) + 8) | elf::SHF_ALLOC);
    output.clear();
    auto refused = strip_object(
        input, options, no_sections, keep_all, [](const symbol_report&) {}, output);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::allocated_table);
    CHECK(refused.error().section == section_index(static_cast<std::uint32_t>(i)));
    CHECK(output.empty());
  }
}

TEST_CASE("reloc_kinds.names_match_readelf_and_loader_types_cover_shipped_modules", "[strip][reloc_kinds]") {
  // Every relocation type in every committed object: our name equals GNU readelf's, and in modules every
  // relocation the loader applies (target section SHF_ALLOC) has a type our table marks as a loader type, since
  // these modules load in the kernels they were built for.
  std::size_t checked = 0;
  for (const auto& o : corpus_objects()) {
    const auto bytes = read_bytes(o.path);
    auto r = visit(std::span<const std::byte>(bytes), [&](const auto& f) -> result<int> {
      using L = typename std::remove_cvref_t<decltype(f)>::layout_type;
      auto sections = f.sections();
      if (!sections) return sections.error();
      const bool is_module = sections->find(".modinfo").has_value();
      std::map<std::uint32_t, std::string> seen;
      for (auto s : *sections) {
        if (s.type() != elf::SHT_REL && s.type() != elf::SHT_RELA) continue;
        auto table = reloc_table<L>::create(*sections, s.index());
        if (!table) return table.error();
        const bool applied =
            table->target_section().value != 0 && (*sections)[table->target_section()].has_flag(elf::SHF_ALLOC);
        // Distinct types first (a flat scan of the raw records), then each one checked once.
        std::set<std::uint32_t> types;
        if (table->is_rela())
          for (const auto& record : table->rela_records()) types.insert(L::r_type(record.r_info.value()));
        else
          for (const auto& record : table->rel_records()) types.insert(L::r_type(record.r_info.value()));
        checked += table->size();
        for (const std::uint32_t type : types) {
          const reloc_kind* k = find_reloc_kind(f.machine(), type);
          if (k == nullptr) {
            FAIL_CHECK(o.name << ": relocation type " << type << " is not in the table");
            continue;
          }
          if (is_module && applied && f.type() == elf::ET_REL && !k->loader)
            FAIL_CHECK(o.name << ": " << k->name << " is applied by the module loader but not marked as a loader type");
          seen.emplace(type, std::string(k->name));
        }
      }
      // readelf's names for the same types (its third column), on the objects small enough to list quickly.
      if (!seen.empty() && bytes.size() < (4u << 20)) {
        std::set<std::string> readelf_types;
        std::istringstream lines(run_process({"readelf", "-rW", o.path.string()}).out);
        for (std::string line; std::getline(lines, line);) {
          std::istringstream fields(line);
          std::string offset, info, type;
          if (fields >> offset >> info >> type && type.rfind("R_", 0) == 0) readelf_types.insert(type);
        }
        std::set<std::string> ours;
        for (const auto& entry : seen) ours.insert(entry.second);
        INFO(o.name);
        CHECK(ours == readelf_types);
      }
      return 0;
    });
    INFO(o.name);
    CHECK(r.has_value());
  }
  CHECK(checked > 100000);
}
