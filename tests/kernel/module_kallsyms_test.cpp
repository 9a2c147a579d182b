// kernel::compute_module_kallsyms against two oracles we did not write:
//  - the kernel itself: /proc/kallsyms captured by `corpus/regenerate --boot-test --capture-kallsyms` after the
//    x86_64-tiny bzImage loaded every x86_64-tiny module (corpus/x86_64-tiny/proc-kallsyms.xz). Each module's
//    lines (names, type letters, order; addresses aside) must equal ours, and within a section the loaded
//    addresses must be our offsets plus one constant.
//  - GNU readelf: for the Debian modules (x86_64, i386, ppc64le) the test applies the loader's rules, written
//    again here from kernel/module/{main,kallsyms}.c, to `readelf -SW` and `readelf -sW` output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/module_kallsyms.hpp"
#include "elfsieve/read/open.hpp"
#include "support/corpus.hpp"
#include "support/process.hpp"

using namespace elfsieve::test;

namespace {

struct line {
  std::string address;
  char type = '?';
  std::string name;
  std::string module;
  bool operator==(const line& o) const { return type == o.type && name == o.name && module == o.module; }
};

std::ostream& operator<<(std::ostream& os, const line& l) {
  return os << l.type << ' ' << l.name << "\t[" << l.module << ']';
}

// "ADDRESS TYPE NAME\t[MODULE]" lines; kernel lines (no module column) are skipped.
std::vector<line> parse_module_lines(const std::string& text) {
  std::vector<line> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    const auto tab = l.find('\t');
    if (tab == std::string::npos || l.size() < tab + 3 || l[tab + 1] != '[' || l.back() != ']') continue;
    const auto sp1 = l.find(' ');
    if (sp1 == std::string::npos || sp1 + 3 > tab) continue;
    line x;
    x.address = l.substr(0, sp1);
    x.type = l[sp1 + 1];
    x.name = l.substr(sp1 + 3, tab - sp1 - 3);
    x.module = l.substr(tab + 2, l.size() - tab - 3);
    out.push_back(x);
  }
  return out;
}

struct ours {
  std::string module;
  std::vector<line> lines;
  std::vector<std::uint16_t> sections;  // per line
  std::vector<std::uint64_t> values;    // per line
};

ours compute(const std::filesystem::path& path) {
  ours o;
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  REQUIRE(mapped);
  auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto k, elfsieve::kernel::compute_module_kallsyms(f));
    o.module = std::string(k.module_name);
    std::string text;
    elfsieve::kernel::append_proc_kallsyms_lines(text, k, 16);
    o.lines = parse_module_lines(text);
    for (const auto& s : k.symbols) {
      o.sections.push_back(s.section);
      o.values.push_back(s.value);
    }
    return {};
  });
  INFO(path.string());
  REQUIRE(done);
  return o;
}

std::string xz_text(const std::filesystem::path& p) {
  const auto r = run_process({"xz", "-dc", p.string()});
  REQUIRE(r.ok());
  return r.out;
}

}  // namespace

TEST_CASE("module kallsyms equal /proc/kallsyms of the booted x86_64-tiny kernel", "[kallsyms]") {
  const auto dir = corpus_dir() / "x86_64-tiny";
  const auto fixture = dir / "proc-kallsyms.xz";
  if (!std::filesystem::exists(fixture)) {
    WARN("SKIP: " << fixture << " missing (corpus/regenerate --boot-test --capture-kallsyms makes it)");
    return;
  }
  if (!program_available("xz")) {
    WARN("SKIP: xz not installed");
    return;
  }
  const auto captured = parse_module_lines(xz_text(fixture));
  std::map<std::string, std::vector<const line*>> by_module;
  for (const auto& l : captured) by_module[l.module].push_back(&l);
  REQUIRE(by_module.size() >= 10);

  std::set<std::string> compared;
  for (const auto& obj : corpus_objects_of("x86_64-tiny")) {
    if (!obj.name.ends_with(".ko")) continue;
    const auto o = compute(obj.path);
    const auto it = by_module.find(o.module);
    if (it == by_module.end()) {
      WARN(obj.name << " (" << o.module << ") was not loaded in the captured boot (dependencies not committed)");
      continue;
    }
    INFO(obj.name);
    const auto& theirs = it->second;
    REQUIRE(o.lines.size() == theirs.size());
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      INFO("line " << i);
      REQUIRE(o.lines[i] == *theirs[i]);
    }
    // ADDRESS is the offset within the section: the kernel's address minus ours is one constant per section
    // (the per-cpu section is copied per CPU; its symbols print as that area's address plus the offset too).
    std::map<std::uint16_t, std::uint64_t> delta;
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      const std::uint64_t address = std::stoull(theirs[i]->address, nullptr, 16);
      REQUIRE(address != 0);
      const auto [at, fresh] = delta.emplace(o.sections[i], address - o.values[i]);
      INFO(theirs[i]->name);
      CHECK(at->second == address - o.values[i]);
    }
    compared.insert(o.module);
  }
  // The boot also loaded dependencies that are not committed (btrfs's zstd, lzo, raid6_pq, ... from the build
  // tree); they have lines in the fixture but no .ko here.
  CHECK(compared.size() >= 10);
}

#ifdef ELFSIEVE_KALLSYMS_PATH
TEST_CASE("elfsieve-kallsyms --module prints the library's lines", "[kallsyms]") {
  for (const auto& obj : corpus_objects_of("x86_64-tiny")) {
    if (!obj.name.ends_with(".ko")) continue;
    INFO(obj.name);
    const auto r = run_process({ELFSIEVE_KALLSYMS_PATH, "--module", obj.path.string()});
    REQUIRE(r.ok());
    const auto o = compute(obj.path);
    const auto printed = parse_module_lines(r.out);
    REQUIRE(printed.size() == o.lines.size());
    for (std::size_t i = 0; i < printed.size(); ++i) {
      REQUIRE(printed[i] == o.lines[i]);
      CHECK(std::stoull(printed[i].address, nullptr, 16) == o.values[i]);
    }
  }
}
#endif

namespace {

// The loader's rules applied to readelf's view of a module (an independent restatement of
// kernel/module/main.c and kernel/module/kallsyms.c, not the library's code).
struct readelf_section {
  std::string name, type, flags;
};

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<readelf_section> readelf_sections(const std::string& path) {
  const auto r = run_process({"readelf", "-SW", path});
  REQUIRE(r.ok());
  std::vector<readelf_section> out;
  std::istringstream in(r.out);
  std::string l;
  while (std::getline(in, l)) {
    const auto open = l.find('[');
    const auto close = l.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    const std::string number = l.substr(open + 1, close - open - 1);
    if (words(number).size() != 1 || !std::isdigit(static_cast<unsigned char>(words(number)[0][0]))) continue;
    const auto index = std::stoul(number);
    const auto w = words(l.substr(close + 1));
    REQUIRE(out.size() == index);
    readelf_section s;
    if (index != 0) {
      // Name Type Address Off Size ES [Flg] Lk Inf Al
      REQUIRE((w.size() == 9 || w.size() == 10));
      s.name = w[0];
      s.type = w[1];
      if (w.size() == 10) s.flags = w[6];
    }
    out.push_back(s);
  }
  return out;
}

struct readelf_symbol {
  std::string type, bind, ndx, name;
};

std::vector<readelf_symbol> readelf_symbols(const std::string& path) {
  const auto r = run_process({"readelf", "-sW", path});
  REQUIRE(r.ok());
  std::vector<readelf_symbol> out;
  std::istringstream in(r.out);
  std::string l;
  bool in_symtab = false;
  while (std::getline(in, l)) {
    if (l.starts_with("Symbol table ")) {
      in_symtab = l.find("'.symtab'") != std::string::npos;
      continue;
    }
    if (!in_symtab) continue;
    auto w = words(l);
    if (w.size() < 7 || w[0].back() != ':' || w[0] == "Num:") continue;
    REQUIRE(std::stoul(w[0]) == out.size());
    // Num Value Size Type Bind Vis [<localentry>: N] Ndx [Name]
    std::size_t i = 6;
    if (w[i].starts_with("[")) {
      while (i < w.size() && w[i].back() != ']') ++i;
      ++i;
    }
    REQUIRE(i < w.size());
    readelf_symbol s{w[3], w[4], w[i], ""};
    // The name is the rest of the line after Ndx (names hold no blanks in these modules).
    if (i + 1 < w.size()) s.name = w[i + 1];
    out.push_back(s);
  }
  return out;
}

std::string readelf_module_name(const std::string& path) {
  const auto r = run_process({"readelf", "-p", ".modinfo", path});
  REQUIRE(r.ok());
  std::istringstream in(r.out);
  std::string l;
  while (std::getline(in, l)) {
    const auto p = l.find("] ");
    if (p == std::string::npos) continue;
    auto text = l.substr(p + 2);
    while (!text.empty() && text.front() == ' ') text.erase(0, 1);
    if (text.starts_with("name=")) return text.substr(5);
  }
  return {};
}

struct oracle_config {
  bool ppc64 = false;         // module_64.c: no section is an init section
  bool kallsyms_all = true;   // CONFIG_KALLSYMS_ALL
  bool module_unload = true;  // CONFIG_MODULE_UNLOAD
};

std::vector<line> readelf_oracle(const std::string& path, const oracle_config& c) {
  auto sections = readelf_sections(path);
  const auto symbols = readelf_symbols(path);
  const std::string module = readelf_module_name(path);
  // find_sec: the first SHF_ALLOC section of that name loses SHF_ALLOC; .data..percpu is the per-cpu area.
  std::size_t percpu = 0;
  std::set<std::string> cleared;
  for (std::size_t i = 1; i < sections.size(); ++i) {
    auto& s = sections[i];
    const bool alloc = s.flags.find('A') != std::string::npos;
    if (!alloc || cleared.count(s.name)) continue;
    if (s.name == ".modinfo" || s.name == "__versions" || s.name == ".data..percpu") {
      cleared.insert(s.name);
      s.flags.erase(s.flags.find('A'), 1);
      if (s.name == ".data..percpu") percpu = i;
    }
  }
  auto section_number = [&](const std::string& ndx) -> long {
    if (ndx.empty() || !std::isdigit(static_cast<unsigned char>(ndx[0]))) return -1;
    return std::stol(ndx);
  };
  std::set<std::string> exported;
  for (const auto& s : symbols) {
    const long n = section_number(s.ndx);
    if (n > 0 && s.name.starts_with("__ksymtab_") && sections.at(static_cast<std::size_t>(n)).name == "__ksymtab")
      exported.insert(s.name.substr(10));
  }
  // Symbol table and its strings go to init memory, like .init* (not on ppc64, which keeps .init in core).
  auto is_init = [&](const readelf_section& s) {
    return s.type == "SYMTAB" || s.type == "STRTAB" || (!c.ppc64 && s.name.starts_with(".init")) ||
           (!c.module_unload && s.name.starts_with(".exit"));
  };
  std::vector<line> out;
  std::vector<std::string> binds;
  for (std::size_t i = 1; i < symbols.size(); ++i) {
    const auto& s = symbols[i];
    const long n = section_number(s.ndx);
    if (n <= 0 || s.name.empty()) continue;  // UND, ABS, COM, reserved; st_name 0 prints as no name
    // readelf prints a section symbol (st_name 0 in these modules) with its section's name.
    if (s.type == "SECTION") continue;
    const auto& sec = sections.at(static_cast<std::size_t>(n));
    const bool is_percpu = static_cast<std::size_t>(n) == percpu;
    if (is_percpu && !c.kallsyms_all) continue;
    if (!is_percpu && (sec.flags.find('A') == std::string::npos || is_init(sec))) continue;
    if (!is_percpu && !c.kallsyms_all && sec.flags.find('X') == std::string::npos) continue;
    char t;
    if (s.bind == "WEAK") t = s.type == "OBJECT" ? 'v' : 'w';
    else if (is_percpu) t = 'a';
    else if (sec.flags.find('X') != std::string::npos) t = 't';
    else if (sec.type != "NOBITS") t = sec.flags.find('W') != std::string::npos ? 'd' : 'r';
    else t = 'b';
    out.push_back(line{"", t, s.name, module});
    binds.push_back(s.bind);
  }
  std::set<std::string> nonlocal;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (binds[i] != "LOCAL") nonlocal.insert(out[i].name);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (exported.count(out[i].name) && (binds[i] != "LOCAL" || !nonlocal.count(out[i].name)))
      out[i].type = static_cast<char>(out[i].type - 'a' + 'A');
  return out;
}

}  // namespace

TEST_CASE("module kallsyms of the Debian modules equal the loader's rules applied to readelf", "[kallsyms]") {
  if (!program_available("readelf")) {
    WARN("SKIP: readelf (binutils) not installed");
    return;
  }
  std::size_t modules = 0, symbols = 0;
  // The Debian modules, and the cross-built ones (ppc32, ppc64 ELFv1 BE) the boot cannot load.
  for (const std::string arch : {"x86_64", "i386", "ppc64le", "ppc32", "ppc64"}) {
    for (const auto& obj : corpus_objects_of(arch)) {
      if (!obj.name.ends_with(".ko")) continue;
      INFO(obj.name);
      const auto o = compute(obj.path);
      oracle_config c;
      c.ppc64 = arch == "ppc64le" || arch == "ppc64";
      const auto expected = readelf_oracle(obj.path.string(), c);
      CHECK(o.module == readelf_module_name(obj.path.string()));
      REQUIRE(o.lines.size() == expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("line " << i);
        REQUIRE(o.lines[i] == expected[i]);
      }
      ++modules;
      symbols += expected.size();
    }
  }
  CHECK(modules >= 100);
  CHECK(symbols > 1000);
}

TEST_CASE("module kallsyms without CONFIG_KALLSYMS_ALL or CONFIG_MODULE_UNLOAD", "[kallsyms]") {
  if (!program_available("readelf")) {
    WARN("SKIP: readelf (binutils) not installed");
    return;
  }
  for (const std::string arch : {"x86_64", "x86_64-tiny"}) {
    for (const auto& obj : corpus_objects_of(arch)) {
      if (!obj.name.ends_with(".ko")) continue;
      for (const bool all : {false, true}) {
        for (const bool unload : {false, true}) {
          if (all && unload) continue;  // the default, above
          INFO(obj.name << " kallsyms_all=" << all << " module_unload=" << unload);
          auto mapped = elfsieve::mapped_file::open(obj.path.c_str());
          REQUIRE(mapped);
          std::string text;
          auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) -> elfsieve::result<void> {
            auto options = elfsieve::kernel::default_module_kallsyms_options(f);
            options.kallsyms_all = all;
            options.module_unload = unload;
            ELFSIEVE_TRY(const auto k, elfsieve::kernel::compute_module_kallsyms(f, options));
            elfsieve::kernel::append_proc_kallsyms_lines(text, k, 16);
            return {};
          });
          REQUIRE(done);
          oracle_config c;
          c.kallsyms_all = all;
          c.module_unload = unload;
          const auto expected = readelf_oracle(obj.path.string(), c);
          const auto got = parse_module_lines(text);
          REQUIRE(got.size() == expected.size());
          for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(got[i] == expected[i]);
        }
      }
    }
  }
}

// The same over every module of the cached Debian images (hidden: `elfsieve_tests '[.extended]'`; the cache is
// filled by corpus/regenerate --cache, ELFSIEVE_CORPUS_CACHE moves it, ELFSIEVE_EXTENDED_LIMIT caps the count).
TEST_CASE("module kallsyms of every cached Debian module equal the rules applied to readelf", "[.extended]") {
  namespace fs = std::filesystem;
  const char* moved = std::getenv("ELFSIEVE_CORPUS_CACHE");
  const fs::path cache = moved != nullptr && *moved != '\0' ? fs::path(moved) : corpus_cache_dir();
  const char* limit_text = std::getenv("ELFSIEVE_EXTENDED_LIMIT");
  const std::size_t limit = limit_text != nullptr && *limit_text != '\0' ? std::stoul(limit_text) : 0;
  std::size_t modules = 0, symbols = 0;
  for (const std::string arch : {"x86_64", "i386", "ppc64le"}) {
    const fs::path root = cache / arch / "lib" / "modules";
    if (!fs::exists(root)) {
      WARN("SKIP: " << root << " missing (corpus/regenerate --cache fills it)");
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && e.path().extension() == ".ko") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (limit != 0 && files.size() > limit) files.resize(limit);
    for (const auto& file : files) {
      INFO(file.string());
      const auto o = compute(file);
      oracle_config c;
      c.ppc64 = arch == "ppc64le";
      const auto expected = readelf_oracle(file.string(), c);
      REQUIRE(o.lines.size() == expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(o.lines[i] == expected[i]);
      ++modules;
      symbols += expected.size();
    }
  }
  WARN(modules << " cached modules, " << symbols << " symbols compared");
}
