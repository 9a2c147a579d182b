// Module.symvers text and the loader's version check, against files and rules we did not write:
//  - parse_symvers over the committed Module.symvers of each cross build (written by that build's modpost), and
//    append_symvers_line writing them back byte for byte; each of read_dump's refusals (scripts/mod/modpost.c);
//  - the exports of each build's vmlinux and modules, read by the library, equal that build's Module.symvers lines
//    (module column: the file's own name; modpost writes the path in the build tree);
//  - check_module_versions: every cross-built module against its own build's Module.symvers is clean; copies
//    mutated as a wrong kernel or a wrong module would be (a __versions CRC bit, a symbol missing from the exports,
//    a non-GPL license, a namespace not imported) give exactly the loader's complaint (kernel/module/main.c,
//    version.c), the expected set derived here from GNU readelf's listing of the module's undefined symbols.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/export_table.hpp"
#include "elfsieve/kernel/symvers.hpp"
#include "elfsieve/kernel/version_check.hpp"
#include "elfsieve/read/open.hpp"
#include "support/corpus.hpp"
#include "support/corpus_modules.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/readelf_dump.hpp"

using namespace elfsieve::test;
namespace k = elfsieve::kernel;

namespace {

const char* const builds[] = {"ppc32", "ppc64", "x86_64-tiny"};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct problem {
  k::version_problem_kind kind{};
  std::string symbol, name_space;
  bool operator<(const problem& o) const {
    return std::tie(kind, symbol, name_space) < std::tie(o.kind, o.symbol, o.name_space);
  }
  bool operator==(const problem& o) const = default;
};

std::ostream& operator<<(std::ostream& os, const problem& p) {
  return os << static_cast<int>(p.kind) << ' ' << p.symbol << " [" << p.name_space << ']';
}

struct checked {
  std::string module_name;
  std::uint32_t symbols_checked = 0;
  std::vector<problem> problems;
  std::string messages;
};

checked check(std::span<const std::byte> bytes, const k::export_lookup& exports) {
  checked c;
  auto done = elfsieve::visit(bytes, [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    ELFSIEVE_TRY(const auto v, k::check_module_versions(f, sections, exports));
    c.module_name = std::string(v.module_name);
    c.symbols_checked = v.symbols_checked;
    for (const auto& p : v.problems) c.problems.push_back({p.kind, std::string(p.symbol), std::string(p.name_space)});
    k::append_kernel_messages(c.messages, v);
    return {};
  });
  REQUIRE(done);
  return c;
}

// A module's undefined symbols as GNU readelf lists them (name, weak).
std::vector<std::pair<std::string, bool>> undefined_symbols(const readelf::dump& d) {
  std::vector<std::pair<std::string, bool>> out;
  for (std::size_t i = 1; i < d.symbols.size(); ++i)
    if (d.symbols[i].ndx == "UND") out.emplace_back(d.symbols[i].name, d.symbols[i].bind == "WEAK");
  return out;
}

// Flips bit 0 of the CRC word of __versions entry `entry` in `bytes`.
void flip_crc_bit(std::vector<std::byte>& bytes, const readelf::dump& d, std::size_t entry) {
  const auto* sec = d.find("__versions");
  REQUIRE(sec != nullptr);
  const std::size_t word = d.is64 ? 8 : 4;
  const std::size_t at = static_cast<std::size_t>(sec->offset) + entry * 64 + (d.big_endian ? word - 1 : 0);
  bytes.at(at) ^= std::byte{1};
}

// The file offset of `needle` inside section `name` (first occurrence), or npos.
std::size_t find_in_section(const std::vector<std::byte>& bytes, const readelf::dump& d, const std::string& name,
                            std::string_view needle) {
  const auto* sec = d.find(name);
  if (sec == nullptr) return std::string_view::npos;
  const std::string_view data(reinterpret_cast<const char*>(bytes.data()) + sec->offset,
                              static_cast<std::size_t>(sec->size));
  const auto at = data.find(needle);
  return at == std::string_view::npos ? at : static_cast<std::size_t>(sec->offset) + at;
}

}  // namespace

TEST_CASE("parse_symvers reads each committed Module.symvers and append_symvers_line writes it back", "[symvers]") {
  std::size_t files = 0;
  for (const char* build : builds) {
    const auto path = corpus_dir() / build / "Module.symvers";
    if (!std::filesystem::exists(path)) continue;
    INFO(path.string());
    const std::string text = read_text(path);
    const auto entries = k::parse_symvers(text);
    REQUIRE(entries);
    CHECK(entries->size() == static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    std::string again;
    for (const auto& e : *entries) k::append_symvers_line(again, e.crc, e.name, e.module, e.gpl_only, e.name_space);
    CHECK(again == text);
    // The lookup finds each name's first line.
    const k::export_lookup lookup(*entries);
    std::set<std::string_view> seen;
    for (const auto& e : *entries) {
      if (!seen.insert(e.name).second) continue;
      const auto* found = lookup.find(e.name);
      REQUIRE(found != nullptr);
      CHECK(found == &e);
    }
    CHECK(lookup.find("no such symbol") == nullptr);
    ++files;
  }
  CHECK(files == 3);
}

TEST_CASE("parse_symvers refuses what read_dump refuses, naming the line", "[symvers]") {
  const std::string good = "0x12345678\tgood\tvmlinux\tEXPORT_SYMBOL\t\n";
  struct bad_line {
    const char* why;
    std::string line;
  };
  const bad_line cases[] = {
      {"no tab", "0x12345678 sym vmlinux EXPORT_SYMBOL"},
      {"two fields", "0x12345678\tsym"},
      {"three fields", "0x12345678\tsym\tvmlinux"},
      {"four fields (no namespace tab)", "0x12345678\tsym\tvmlinux\tEXPORT_SYMBOL"},
      {"empty symbol", "0x12345678\t\tvmlinux\tEXPORT_SYMBOL\t"},
      {"empty module", "0x12345678\tsym\t\tEXPORT_SYMBOL\t"},
      {"CRC with a non-hex digit", "0x1234567g\tsym\tvmlinux\tEXPORT_SYMBOL\t"},
      {"CRC followed by a space", "0x12345678 \tsym\tvmlinux\tEXPORT_SYMBOL\t"},
      {"CRC of just 0x", "0x\tsym\tvmlinux\tEXPORT_SYMBOL\t"},
      {"unknown export type", "0x12345678\tsym\tvmlinux\tEXPORT_SYMBOL_GPL_FUTURE\t"},
      {"lower-case export type", "0x12345678\tsym\tvmlinux\texport_symbol\t"},
      {"empty line", ""},
  };
  for (const auto& c : cases) {
    INFO(c.why);
    for (std::size_t before : {0u, 1u, 3u}) {
      std::string text;
      for (std::size_t i = 0; i < before; ++i) text += good;
      text += c.line + "\n" + good;
      const auto r = k::parse_symvers(text);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == elfsieve::errc::symvers_syntax);
      CHECK(r.error().detail == before + 1);
      CHECK(r.error().offset == good.size() * before);
    }
  }
  SECTION("what read_dump takes") {
    const auto r = k::parse_symvers(
        "0xABCDEF01\ta\tm\tEXPORT_SYMBOL_GPL\tNS with spaces\tand tab\n"
        "deadbeef\tb\tdrivers/x/m\tEXPORT_SYMBOL\t\n"
        "0x0\tc\tm\tEXPORT_SYMBOL\tNS");  // no final newline
    REQUIRE(r);
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].crc == 0xabcdef01u);
    CHECK((*r)[0].gpl_only);
    CHECK((*r)[0].name_space == "NS with spaces\tand tab");
    CHECK((*r)[1].crc == 0xdeadbeefu);
    CHECK((*r)[1].module == "drivers/x/m");
    CHECK_FALSE((*r)[1].gpl_only);
    CHECK((*r)[2].name_space == "NS");
    CHECK(k::parse_symvers("")->empty());
  }
}

TEST_CASE("the exports of each build's vmlinux and modules equal its Module.symvers", "[symvers]") {
  for (const char* build : builds) {
    INFO(build);
    const auto path = corpus_dir() / build / "Module.symvers";
    REQUIRE(std::filesystem::exists(path));
    const std::string text = read_text(path);
    const auto committed = k::parse_symvers(text);
    REQUIRE(committed);
    // Committed lines by module file name (the last path component of modpost's module column).
    std::map<std::string, std::vector<std::string>> expected;
    for (const auto& e : *committed) {
      const auto module = std::string(e.module.substr(e.module.rfind('/') + 1));
      std::string line;
      k::append_symvers_line(line, e.crc, e.name, module, e.gpl_only, e.name_space);
      expected[module].push_back(line);
    }
    std::size_t compared = 0;
    auto files = corpus_modules_of(build);
    for (const auto& o : corpus_objects_of(build))
      if (o.path.filename() == "vmlinux") files.push_back(o);
    for (const auto& o : files) {
      const auto file = o.path.filename().string();
      const std::string module = file == "vmlinux" ? file : file.substr(0, file.size() - 3);
      INFO(o.name);
      auto mapped = elfsieve::mapped_file::open(o.path.c_str());
      REQUIRE(mapped);
      std::vector<std::string> ours;
      auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) -> elfsieve::result<void> {
        ELFSIEVE_TRY(const auto sections, f.sections());
        ELFSIEVE_TRY(auto t, k::read_export_table(f, sections));
        k::sort_modpost_order(t);
        for (const auto& x : t.exports) {
          std::string line;
          k::append_symvers_line(line, x, module);
          ours.push_back(line);
        }
        return {};
      });
      REQUIRE(done);
      CHECK(ours == expected[module]);  // same lines, in modpost's order
      ++compared;
    }
    CHECK(compared >= 13);
  }
}

TEST_CASE("check_module_versions: every cross-built module against its own build's Module.symvers", "[symvers]") {
  std::size_t modules = 0, symbols = 0;
  for (const char* build : builds) {
    const std::string text = read_text(corpus_dir() / build / "Module.symvers");
    const auto entries = k::parse_symvers(text);
    REQUIRE(entries);
    const k::export_lookup lookup(*entries);
    for (const auto& m : corpus_modules_of(build)) {
      INFO(m.name);
      const auto bytes = read_bytes(m.path);
      const auto c = check(bytes, lookup);
      CHECK(c.problems.empty());
      CHECK(c.messages.empty());
      CHECK(c.symbols_checked >= 1);  // module_layout at least
      ++modules;
      symbols += c.symbols_checked;
    }
  }
  CHECK(modules >= 38);
  WARN("checked " << modules << " modules, " << symbols << " symbols");
}

TEST_CASE("check_module_versions: the loader's complaints on mutated copies", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  for (const char* build : builds) {
    const std::string text = read_text(corpus_dir() / build / "Module.symvers");
    const auto entries = k::parse_symvers(text);
    REQUIRE(entries);
    const k::export_lookup lookup(*entries);
    for (const auto& m : corpus_modules_of(build)) {
      INFO(m.name);
      const auto d = readelf::run(m.path, {"__versions", ".modinfo"}, true, false);
      REQUIRE(d.error.empty());
      const auto original = read_bytes(m.path);
      const auto& versions = d.hex.at("__versions");
      const std::size_t word = d.is64 ? 8 : 4;
      auto version_name = [&](std::size_t entry) {
        std::string n;
        for (std::size_t i = entry * 64 + word; i < entry * 64 + 64 && versions.at(i) != 0; ++i)
          n += static_cast<char>(versions[i]);
        return n;
      };
      const auto undefined = undefined_symbols(d);
      const std::string module_name = check(original, lookup).module_name;
      REQUIRE_FALSE(module_name.empty());

      {
        INFO("one bit of one __versions CRC: that symbol disagrees");
        // A few entries per module (btrfs has hundreds): the first (module_layout), the second, the middle, the last.
        const std::size_t n = versions.size() / 64;
        REQUIRE(n >= 1);
        for (std::size_t entry : std::set<std::size_t>{0, std::min<std::size_t>(1, n - 1), n / 2, n - 1}) {
          const bool ppc64 = d.machine.find("PowerPC64") != std::string::npos;
          auto loader_name = [&](std::size_t e) {
            std::string name = version_name(e);
            if (ppc64 && name.starts_with('.')) name.erase(0, 1);  // dedotify_versions
            return name;
          };
          const std::string symbol = loader_name(entry);
          auto bytes = original;
          flip_crc_bit(bytes, d, entry);
          const auto c = check(bytes, lookup);
          INFO("entry " << entry << ": " << symbol);
          // check_version takes the first entry of that name: on ppc64 ELFv1 a module may need both "foo" and
          // ".foo", two entries that read the same after dedotify_versions; a flip in the later one goes unseen.
          bool shadowed = false;
          for (std::size_t earlier = 0; earlier < entry; ++earlier) shadowed |= loader_name(earlier) == symbol;
          if (shadowed) {
            CHECK(c.problems.empty());
            continue;
          }
          REQUIRE(c.problems.size() == 1);
          CHECK(c.problems[0] == problem{k::version_problem_kind::disagrees, symbol, ""});
          std::string expected = module_name + ": disagrees about version of symbol " + symbol + "\n";
          if (symbol != "module_layout") expected += module_name + ": Unknown symbol " + symbol + " (err -22)\n";
          CHECK(c.messages == expected);
        }
      }
      {
        INFO("a needed symbol missing from the exports: Unknown symbol (err -2)");
        for (const auto& [symbol, weak] : undefined) {
          if (symbol.empty() || symbol == ".TOC." || lookup.find(symbol) == nullptr) continue;
          std::vector<k::symvers_entry> fewer;
          for (const auto& e : *entries)
            if (e.name != symbol) fewer.push_back(e);
          const k::export_lookup without(fewer);
          const auto c = check(original, without);
          INFO(symbol);
          if (weak) {
            CHECK(c.problems.empty());
            continue;
          }
          REQUIRE(c.problems.size() == 1);
          CHECK(c.problems[0] == problem{k::version_problem_kind::unknown_symbol, symbol, ""});
          CHECK(c.messages == module_name + ": Unknown symbol " + symbol + " (err -2)\n");
          break;  // one symbol per module keeps it quick
        }
      }
      {
        INFO("a non-GPL license: every EXPORT_SYMBOL_GPL the module uses is unknown");
        auto bytes = original;
        const auto at = find_in_section(bytes, d, ".modinfo", "license=");
        REQUIRE(at != std::string_view::npos);
        bytes.at(at + 8) = std::byte{'X'};  // "GPL" -> "XPL", "Dual BSD/GPL" -> "Xual BSD/GPL"
        std::vector<problem> expected;
        for (const auto& [symbol, weak] : undefined) {
          std::string name = symbol;
          if (d.machine.find("PowerPC64") != std::string::npos && name.starts_with('.')) name.erase(0, 1);
          const auto* x = lookup.find(name);
          if (x != nullptr && x->gpl_only && !weak)
            expected.push_back({k::version_problem_kind::unknown_symbol, name, ""});
        }
        const auto c = check(bytes, lookup);
        auto got = c.problems;
        std::sort(got.begin(), got.end());
        std::sort(expected.begin(), expected.end());
        CHECK(got == expected);
      }
    }
  }
}

TEST_CASE("check_module_versions: an export namespace the module does not import", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  struct pair_case {
    const char* importer;
    const char* exporter;
    const char* name_space;
  };
  const pair_case cases[] = {{"x86_64/uas.ko", "x86_64/usb-storage.ko", "USB_STORAGE"},
                             {"i386/uas.ko", "i386/usb-storage.ko", "USB_STORAGE"},
                             {"x86_64/st_accel.ko", "x86_64/st_sensors.ko", "IIO_ST_SENSORS"},
                             {"i386/st_accel.ko", "i386/st_sensors.ko", "IIO_ST_SENSORS"}};
  for (const auto& pc : cases) {
    INFO(pc.importer << " using " << pc.exporter);
    // The exporter's table as the loader holds it, from the Debian module itself.
    const auto exporter_bytes = read_bytes(corpus_dir() / pc.exporter);
    std::vector<k::symvers_entry> exported;
    auto done =
        elfsieve::visit(std::span<const std::byte>(exporter_bytes), [&](const auto& f) -> elfsieve::result<void> {
          ELFSIEVE_TRY(const auto sections, f.sections());
          ELFSIEVE_TRY(const auto t, k::read_export_table(f, sections));
          for (const auto& x : t.exports) exported.push_back({x.crc, x.name, "exporter", x.name_space, x.gpl_only});
          return {};
        });
    REQUIRE(done);
    REQUIRE_FALSE(exported.empty());
    const k::export_lookup lookup(exported);

    const auto importer_path = corpus_dir() / pc.importer;
    const auto d = readelf::run(importer_path, {".modinfo"}, true, false);
    REQUIRE(d.error.empty());
    std::vector<problem> namespace_problems;
    for (const auto& [symbol, weak] : undefined_symbols(d)) {
      const auto* x = lookup.find(symbol);
      if (x != nullptr) {
        REQUIRE(x->name_space == pc.name_space);
        namespace_problems.push_back({k::version_problem_kind::namespace_not_imported, symbol, pc.name_space});
      }
    }
    REQUIRE(!namespace_problems.empty());
    std::sort(namespace_problems.begin(), namespace_problems.end());
    // Only the exporter's symbols are in the lookup: the others are "Unknown", whatever the namespace.
    auto about_exporter = [&](const checked& c) {
      std::vector<problem> out;
      for (const auto& p : c.problems)
        if (lookup.find(p.symbol) != nullptr) out.push_back(p);
      std::sort(out.begin(), out.end());
      return out;
    };

    const auto original = read_bytes(importer_path);
    // As shipped: the namespace is imported and the importer's __versions agree with the exporter's CRCs.
    CHECK(about_exporter(check(original, lookup)).empty());

    const std::string tag = std::string("import_ns=") + pc.name_space;
    const auto at = find_in_section(original, d, ".modinfo", tag);
    REQUIRE(at != std::string_view::npos);
    {
      INFO("import_ns= renamed");
      auto bytes = original;
      bytes.at(at) = std::byte{'X'};  // "Xmport_ns=..."
      const auto c = check(bytes, lookup);
      CHECK(about_exporter(c) == namespace_problems);
      const std::string line = c.module_name + ": module uses symbol (" + namespace_problems[0].symbol +
                               ") from namespace " + pc.name_space + ", but does not import it.\n" + c.module_name +
                               ": Unknown symbol " + namespace_problems[0].symbol + " (err -22)\n";
      CHECK(c.messages.find(line) != std::string::npos);
    }
    {
      INFO("another namespace imported");
      auto bytes = original;
      bytes.at(at + tag.size() - 1) ^= std::byte{1};  // last letter of the namespace
      CHECK(about_exporter(check(bytes, lookup)) == namespace_problems);
    }
  }
}
