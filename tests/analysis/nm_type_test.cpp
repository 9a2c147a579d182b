// nm_type.hpp: GNU nm's symbol letters. Section letters are checked against the BFD rules directly; symbol
// letters on objects compiled here by every installed toolchain are checked by hand-picked expectations and,
// symbol by symbol, against GNU nm itself.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/analysis/nm_type.hpp"
#include "support/process.hpp"

namespace {

using namespace elfsieve;
namespace fs = std::filesystem;

constexpr std::uint64_t A = elf::SHF_ALLOC, W = elf::SHF_WRITE, X = elf::SHF_EXECINSTR;

// One symbol as a listing prints it.
struct listed {
  char type = '?';
  std::uint64_t value = 0;
  bool has_value = false;
  std::string name;
};

// Parses `nm -a -p` (BSD format): one line per symbol in symbol-table order.
std::vector<listed> parse_nm(const std::string& text, int width) {
  std::vector<listed> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < static_cast<std::size_t>(width) + 3) continue;
    listed l;
    const std::string value = line.substr(0, static_cast<std::size_t>(width));
    l.has_value = value.find_first_not_of(' ') != std::string::npos;
    if (l.has_value) l.value = std::stoull(value, nullptr, 16);
    l.type = line[static_cast<std::size_t>(width) + 1];
    l.name = line.substr(static_cast<std::size_t>(width) + 3);
    out.push_back(l);
  }
  return out;
}

// What nm_classifier says about every symbol of the .symtab except the null one, in table order.
struct classified {
  std::vector<listed> symbols;
  std::string error;
};

classified classify_file(const fs::path& path) {
  classified result;
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) {
    result.error = "cannot open " + path.string();
    return result;
  }
  auto visited = visit(mapped->bytes(), [&](const auto& f) {
    auto sections = f.sections();
    if (!sections) {
      result.error = sections.error().message;
      return;
    }
    auto symtab = find_symbol_table(sections.value(), elf::SHT_SYMTAB);
    if (!symtab) {
      result.error = symtab.error().message;
      return;
    }
    const auto classifier = make_nm_classifier(f, sections.value());
    for (std::uint32_t i = 1; i < symtab->size(); ++i) {
      const auto s = (*symtab)[symbol_index(i)];
      const nm_symbol info = classifier.classify(symtab.value(), s);
      listed l;
      l.type = info.type;
      l.value = info.value;
      l.has_value = !info.undefined_class();
      l.name = std::string(classifier.name(symtab.value(), s));
      result.symbols.push_back(l);
    }
  });
  if (!visited) result.error = visited.error().message;
  return result;
}

fs::path work_dir() {
  fs::path dir = fs::path(ELFSIEVE_TEST_WORK_DIR) / "nm_type";
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

constexpr std::string_view c_source = R"(
static int s_counter;
static int s_init = 3;
int g_init = 5;
int g_common;
const int g_const = 7;
static const char s_str[] = "hello";
__thread int tls_var = 1;
__thread int tls_bss;
extern int ext_var;
__attribute__((weak)) int weak_var = 1;
__attribute__((weak)) void weak_func(void) {}
extern __attribute__((weak)) void weak_undef(void);
extern __attribute__((weak)) int weak_undef_obj;
static void local_func(void) { s_counter++; }
static int impl(void) { return 1; }
static void *resolve(void) { return (void *)impl; }
int ifunc_f(void) __attribute__((ifunc("resolve")));
__attribute__((section(".mysec"))) int in_mysec = 9;
int main(void) {
  local_func();
  if (weak_undef) weak_undef();
  return s_init + s_str[0] + ext_var + weak_undef_obj + ifunc_f() + tls_var + tls_bss;
}
)";

constexpr std::string_view asm_source = R"(
	.section .sdata,"aw",@progbits
	.globl sd
sd:	.long 1
	.section .sbss,"aw",@nobits
	.globl sb
sb:	.zero 4
	.section .nonalloc_w,"w",@progbits
naw:	.long 1
	.section .idata$2,"aw",@progbits
id:	.long 1
	.text
	.globl uniq
	.type uniq, @gnu_unique_object
uniq:	.long 0
	.globl absg
	.set absg, 0x1234
	.weak absw
	.set absw, 0x99
	.type absw, @object
	.local ifl
	.type ifl, @gnu_indirect_function
ifl:	.long 0
	.comm cm, 8, 4
	.weak undw
	.type undw, @object
	.long undw
)";

struct toolchain {
  const char* name;
  const char* cc;
  std::uint16_t machine;
};

constexpr toolchain toolchains[] = {
    {"x86_64", "gcc", elf::EM_X86_64},
    {"i686", "i686-linux-gnu-gcc", elf::EM_386},
    {"ppc32", "powerpc-linux-gnu-gcc", elf::EM_PPC},
    {"ppc64", "powerpc64-linux-gnu-gcc", elf::EM_PPC64},
};

std::map<std::string, char> letters_by_name(const std::vector<listed>& symbols) {
  std::map<std::string, char> out;
  for (const auto& s : symbols) out[s.name] = s.type;
  return out;
}

// Compares the classifier with `nm -a -p` symbol by symbol.
void check_against_nm(const fs::path& object, int width) {
  INFO("object: " << object.string());
  auto nm = elfsieve::test::run_process({"nm", "-a", "-p", object.string()});
  REQUIRE(nm.ok());
  const auto expected = parse_nm(nm.out, width);
  const auto actual = classify_file(object);
  REQUIRE(actual.error.empty());
  REQUIRE(actual.symbols.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("symbol " << i + 1 << " " << expected[i].name);
    CHECK(actual.symbols[i].name == expected[i].name);
    CHECK(actual.symbols[i].type == expected[i].type);
    CHECK(actual.symbols[i].has_value == expected[i].has_value);
    if (expected[i].has_value) CHECK(actual.symbols[i].value == expected[i].value);
  }
}

}  // namespace

TEST_CASE("nm section letters follow BFD's section flags", "[nm_type]") {
  using elf::SHT_NOBITS;
  using elf::SHT_PROGBITS;
  CHECK(nm_section_letter(".text", SHT_PROGBITS, A | X, elf::EM_X86_64) == 't');
  CHECK(nm_section_letter(".data", SHT_PROGBITS, A | W, elf::EM_X86_64) == 'd');
  CHECK(nm_section_letter(".rodata", SHT_PROGBITS, A, elf::EM_X86_64) == 'r');
  CHECK(nm_section_letter(".bss", SHT_NOBITS, A | W, elf::EM_X86_64) == 'b');
  CHECK(nm_section_letter(".tbss", SHT_NOBITS, A | W | elf::SHF_TLS, elf::EM_X86_64) == 'b');
  CHECK(nm_section_letter(".xbss", SHT_NOBITS, A | W | X, elf::EM_X86_64) == 't');  // code wins over NOBITS
  CHECK(nm_section_letter(".debug_info", SHT_PROGBITS, 0, elf::EM_X86_64) == 'N');
  CHECK(nm_section_letter(".zdebug_line", SHT_PROGBITS, 0, elf::EM_X86_64) == 'N');
  CHECK(nm_section_letter(".debug_info", SHT_PROGBITS, A, elf::EM_X86_64) == 'r');  // allocated: not debugging
  CHECK(nm_section_letter(".comment", SHT_PROGBITS, elf::SHF_MERGE | elf::SHF_STRINGS, elf::EM_X86_64) == 'n');
  CHECK(nm_section_letter(".note.GNU-stack", SHT_PROGBITS, 0, elf::EM_X86_64) == 'n');
  CHECK(nm_section_letter(".nonalloc_w", SHT_PROGBITS, W, elf::EM_X86_64) == '?');
  CHECK(nm_section_letter(".idata$2", SHT_PROGBITS, A | W, elf::EM_X86_64) == 'i');
  CHECK(nm_section_letter(".idata", SHT_PROGBITS, A, elf::EM_X86_64) == 'i');
  CHECK(nm_section_letter(".idatax", SHT_PROGBITS, A, elf::EM_X86_64) == 'r');
  CHECK(nm_section_letter(".pdata5", SHT_PROGBITS, A, elf::EM_X86_64) == 'p');
  CHECK(nm_section_letter(".edata.x", SHT_PROGBITS, A, elf::EM_X86_64) == 'e');
  // Small data: every .sdata*/.sbss* section on ppc64, only sections of unknown type on ppc32, never on x86.
  CHECK(nm_section_letter(".sdata", SHT_PROGBITS, A | W, elf::EM_PPC64) == 'g');
  CHECK(nm_section_letter(".sbss", SHT_NOBITS, A | W, elf::EM_PPC64) == 's');
  CHECK(nm_section_letter(".sdata2", SHT_PROGBITS, A, elf::EM_PPC64) == 'r');
  CHECK(nm_section_letter(".sdata", SHT_PROGBITS, A | W, elf::EM_PPC) == 'd');
  CHECK(nm_section_letter(".sbss", SHT_NOBITS, A | W, elf::EM_PPC) == 'b');
  CHECK(nm_section_letter(".PPC.EMB.sdata0", 0x70000001u, A | W, elf::EM_PPC) == 'g');
  CHECK(nm_section_letter(".sdata", SHT_PROGBITS, A | W, elf::EM_X86_64) == 'd');
}

TEST_CASE("nm symbol letters on compiled objects match hand-picked cases and GNU nm", "[nm_type][differential]") {
  if (!elfsieve::test::program_available("nm")) FAIL("GNU nm is required for this test");
  const fs::path dir = work_dir();
  write_file(dir / "letters.c", c_source);
  write_file(dir / "letters.s", asm_source);
  int compiled = 0;
  for (const toolchain& chain : toolchains) {
    if (!elfsieve::test::program_available(chain.cc)) {
      if (std::string_view(chain.name) == "x86_64") FAIL("the host gcc is required");
      WARN("skipping " << chain.name << ": " << chain.cc << " is not installed");
      continue;
    }
    DYNAMIC_SECTION(chain.name) {
      const fs::path c_object = dir / (std::string(chain.name) + "-letters.o");
      const fs::path s_object = dir / (std::string(chain.name) + "-letters-asm.o");
      auto cc = elfsieve::test::run_process(
          {chain.cc, "-O0", "-fcommon", "-g", "-c", (dir / "letters.c").string(), "-o", c_object.string()});
      INFO(cc.err);
      REQUIRE(cc.ok());
      auto as = elfsieve::test::run_process({chain.cc, "-c", (dir / "letters.s").string(), "-o", s_object.string()});
      INFO(as.err);
      REQUIRE(as.ok());
      ++compiled;
      const bool is64 = chain.machine == elf::EM_X86_64 || chain.machine == elf::EM_PPC64;

      const auto c_symbols = classify_file(c_object);
      REQUIRE(c_symbols.error.empty());
      auto c = letters_by_name(c_symbols.symbols);
      CHECK(c["s_counter"] == 'b');
      CHECK(c["s_init"] == 'd');
      CHECK(c["g_init"] == 'D');
      CHECK(c["g_common"] == 'C');
      // ppc32 puts small constants in writable small data.
      CHECK(c["g_const"] == (chain.machine == elf::EM_PPC ? 'D' : 'R'));
      CHECK(c["s_str"] == 'r');
      CHECK(c["tls_var"] == 'D');
      CHECK(c["tls_bss"] == 'B');
      CHECK(c["ext_var"] == 'U');
      CHECK(c["weak_var"] == 'V');
      CHECK(c["weak_func"] == 'W');
      CHECK(c["weak_undef"] == 'w');
      CHECK(c["weak_undef_obj"] == 'w');  // an undefined reference carries no STT_OBJECT; see undw below
      // ELFv1 ppc64 function symbols name descriptors in .opd, which is data.
      const bool descriptors = chain.machine == elf::EM_PPC64;
      CHECK(c["local_func"] == (descriptors ? 'd' : 't'));
      CHECK(c["ifunc_f"] == 'i');
      CHECK(c["in_mysec"] == 'D');
      CHECK(c["main"] == (descriptors ? 'D' : 'T'));
      CHECK(c["letters.c"] == 'a');  // STT_FILE
      CHECK(c[".text"] == 't');      // section symbol named after its section
      CHECK(c[".debug_info"] == 'N');

      const auto s_symbols = classify_file(s_object);
      REQUIRE(s_symbols.error.empty());
      auto s = letters_by_name(s_symbols.symbols);
      CHECK(s["uniq"] == 'u');
      CHECK(s["absg"] == 'A');
      CHECK(s["absw"] == 'V');
      CHECK(s["ifl"] == 'i');
      CHECK(s["cm"] == 'C');
      CHECK(s["undw"] == 'v');
      CHECK(s["naw"] == '?');
      CHECK(s["id"] == 'i');
      CHECK(s["sd"] == (chain.machine == elf::EM_PPC64 ? 'G' : 'D'));
      CHECK(s["sb"] == (chain.machine == elf::EM_PPC64 ? 'S' : 'B'));

      check_against_nm(c_object, is64 ? 16 : 8);
      check_against_nm(s_object, is64 ? 16 : 8);
    }
  }
  CHECK(compiled > 0);
}

TEST_CASE("nm values: commons give their size, linked images their address", "[nm_type][differential]") {
  const fs::path dir = work_dir();
  write_file(dir / "values.c", "int common_a[10];\nint data_b = 1;\nint main(void) { return data_b + common_a[1]; }\n");
  const fs::path object = dir / "values.o";
  const fs::path exe = dir / "values";
  REQUIRE(
      elfsieve::test::run_process({"gcc", "-fcommon", "-c", (dir / "values.c").string(), "-o", object.string()}).ok());
  REQUIRE(elfsieve::test::run_process({"gcc", object.string(), "-o", exe.string()}).ok());
  const auto rel = classify_file(object);
  REQUIRE(rel.error.empty());
  bool found_common = false;
  for (const auto& s : rel.symbols)
    if (s.name == "common_a") {
      found_common = true;
      CHECK(s.type == 'C');
      CHECK(s.value == 40);  // the size, not the alignment
    }
  CHECK(found_common);
  check_against_nm(object, 16);
  check_against_nm(exe, 16);
}
