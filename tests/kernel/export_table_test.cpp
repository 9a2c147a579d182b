// kernel::read_export_table against a decoder written here on GNU readelf's output only (`readelf -hSsrW -x
// __ksymtab -x __ksymtab_gpl -x __kcrctab -x __kcrctab_gpl -x __ksymtab_strings`), applying the layout of
// include/linux/export.h (6.1) again:
//  - a module's entry field is whatever its relocation names (symbol value + addend; REL: the addend is the field's
//    bytes), or, without a relocation, a PREL32 offset from the field itself (or null);
//  - a linked image's field holds the address itself (pointers on ppc) or an offset from the field's address (x86);
//  - the CRC of entry i is word i of the matching __kcrctab section (or what a relocation there names);
//  - modpost's order is the .symtab order of the __ksymtab_<name> labels, then unlabelled entries in table order.
// Over every corpus module (Debian x86_64, i386, ppc64le; the ppc32, ppc64 and x86_64-tiny builds, btrfs included,
// and their deps/ when present), the same modules after `elfsieve-strip --policy=crc,ksymtab --strip-debug` (the
// labels gone, the relocations retargeted to section symbols) and the three built vmlinux images.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/export_table.hpp"
#include "elfsieve/read/open.hpp"
#include "support/corpus.hpp"
#include "support/corpus_modules.hpp"
#include "support/process.hpp"
#include "support/readelf_dump.hpp"

using namespace elfsieve::test;

namespace {

// One export as a comparable line: everything the two sides derive independently.
struct decoded {
  std::vector<std::string> exports;  // "GPL? name [ns] crc value-place", table order
  std::vector<std::string> modpost_order;
  std::size_t count = 0;
  std::string error;
};

std::string describe(std::string_view name, std::string_view ns, bool has_crc, std::uint32_t crc, bool gpl,
                     unsigned value_section, std::uint64_t value) {
  std::ostringstream os;
  os << (gpl ? "GPL " : "    ") << name << " [" << ns << "] ";
  if (has_crc) os << std::hex << "crc=0x" << crc;
  else os << "no-crc";
  os << std::hex << " value=" << value_section << ":0x" << value;
  return os.str();
}

const std::vector<std::string> export_sections = {"__ksymtab", "__ksymtab_gpl", "__kcrctab", "__kcrctab_gpl",
                                                  "__ksymtab_strings"};

bool prel32_machine(const std::string& machine) {
  return machine.find("X86-64") != std::string::npos || machine.find("80386") != std::string::npos ||
         machine.find("AArch64") != std::string::npos;
}

std::uint64_t sign_extend(std::uint64_t v, unsigned width) {
  if (width == 4) return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(v)));
  return v;
}

// A NUL-terminated string at `offset` of the dumped section `name`.
bool string_at(const readelf::dump& d, const std::string& name, std::uint64_t offset, std::string& out) {
  const auto it = d.hex.find(name);
  if (it == d.hex.end() || offset >= it->second.size()) return false;
  out.clear();
  for (auto i = static_cast<std::size_t>(offset); i < it->second.size(); ++i) {
    if (it->second[i] == 0) return true;
    out += static_cast<char>(it->second[i]);
  }
  return false;
}

// The test-side decoder for a relocatable module.
decoded decode_module(const readelf::dump& d) {
  decoded out;
  const bool prel32 = prel32_machine(d.machine);
  const unsigned width = prel32 ? 4 : (d.is64 ? 8 : 4);
  const std::uint64_t entry_size = 3 * width;
  struct entry_names {
    std::vector<std::string> names;
  } tables[2];
  for (int gpl = 0; gpl < 2; ++gpl) {
    const auto* sec = d.find(gpl ? "__ksymtab_gpl" : "__ksymtab");
    if (sec == nullptr || sec->type == "NOBITS") continue;
    const auto& bytes = d.hex.at(sec->name);
    if (bytes.size() != sec->size || bytes.size() % entry_size != 0) {
      out.error = sec->name + ": hex dump size differs from the section header or is not whole entries";
      return out;
    }
    // The first relocation at each offset of this section, as the loader applies them in file order.
    std::map<std::uint64_t, std::pair<const readelf::reloc*, bool>> at;  // offset -> (reloc, rela)
    for (const auto& [rs, list] : d.relocs) {
      if (d.sections[rs].info != sec->index) continue;
      for (const auto& r : list) at.emplace(r.offset, std::pair{&r, d.sections[rs].type == "RELA"});
    }
    // A field's target: (section index, offset); section 0 for undefined or absolute; nullopt for a null field.
    auto resolve = [&](std::uint64_t off, unsigned& section, std::uint64_t& value) -> bool {
      const std::uint64_t raw = d.load(bytes, off, width);
      const auto hit = at.find(off);
      if (hit == at.end()) {
        if (raw == 0) return false;
        if (prel32) {
          section = sec->index;
          value = off + sign_extend(raw, 4);
        } else {
          section = 0;
          value = raw;
        }
        return true;
      }
      const auto& [r, rela] = hit->second;
      const auto& sym = d.symbols.at(d.symbol_of(*r));
      const std::uint64_t addend = rela ? static_cast<std::uint64_t>(r->addend) : sign_extend(raw, width);
      value = sym.value + addend;
      section =
          sym.ndx == "UND" || sym.ndx == "ABS" || sym.ndx == "COM" ? 0 : static_cast<unsigned>(std::stoul(sym.ndx));
      return true;
    };
    std::vector<std::uint32_t> crcs;
    bool has_crc = false;
    if (const auto* crcsec = d.find(gpl ? "__kcrctab_gpl" : "__kcrctab")) {
      has_crc = true;
      const auto& cb = d.hex.at(crcsec->name);
      std::map<std::uint64_t, std::pair<const readelf::reloc*, bool>> crc_at;
      for (const auto& [rs, list] : d.relocs) {
        if (d.sections[rs].info != crcsec->index) continue;
        for (const auto& r : list) crc_at.emplace(r.offset, std::pair{&r, d.sections[rs].type == "RELA"});
      }
      for (std::uint64_t o = 0; o + 4 <= cb.size(); o += 4) {
        std::uint64_t v = d.load(cb, o, 4);
        if (auto hit = crc_at.find(o); hit != crc_at.end())
          v = d.symbols.at(d.symbol_of(*hit->second.first)).value +
              (hit->second.second ? static_cast<std::uint64_t>(hit->second.first->addend) : v);
        crcs.push_back(static_cast<std::uint32_t>(v));
      }
    }
    const std::uint64_t count = bytes.size() / entry_size;
    if (has_crc && crcs.size() < count) {
      out.error = sec->name + ": CRC table shorter than the export table";
      return out;
    }
    for (std::uint64_t e = 0; e < count; ++e) {
      const std::uint64_t base = e * entry_size;
      unsigned value_section = 0, name_section = 0, ns_section = 0;
      std::uint64_t value = 0, name_off = 0, ns_off = 0;
      resolve(base, value_section, value);
      std::string name, ns;
      if (!resolve(base + width, name_section, name_off) || name_section == 0 ||
          !string_at(d, d.sections.at(name_section).name, name_off, name)) {
        out.error = sec->name + ": entry " + std::to_string(e) + ": name not in a dumped string section";
        return out;
      }
      if (resolve(base + 2 * width, ns_section, ns_off) &&
          (ns_section == 0 || !string_at(d, d.sections.at(ns_section).name, ns_off, ns))) {
        out.error = sec->name + ": entry " + std::to_string(e) + ": namespace not in a dumped string section";
        return out;
      }
      out.exports.push_back(
          describe(name, ns, has_crc, has_crc ? crcs[static_cast<std::size_t>(e)] : 0, gpl == 1, value_section, value));
      tables[gpl].names.push_back(name);
    }
  }
  out.count = out.exports.size();
  // modpost's order: the __ksymtab_<name> labels in .symtab order, then the unlabelled entries in table order.
  std::vector<bool> labelled[2] = {std::vector<bool>(tables[0].names.size()),
                                   std::vector<bool>(tables[1].names.size())};
  for (const auto& sym : d.symbols) {
    if (!sym.name.starts_with("__ksymtab_") || sym.ndx == "UND" || sym.ndx == "ABS" || sym.ndx == "COM") continue;
    for (int gpl = 0; gpl < 2; ++gpl) {
      const auto* sec = d.find(gpl ? "__ksymtab_gpl" : "__ksymtab");
      if (sec == nullptr || std::to_string(sec->index) != sym.ndx || sym.value % entry_size != 0) continue;
      const auto e = static_cast<std::size_t>(sym.value / entry_size);
      if (e >= tables[gpl].names.size() || labelled[gpl][e] || tables[gpl].names[e] != sym.name.substr(10)) continue;
      labelled[gpl][e] = true;
      out.modpost_order.push_back(tables[gpl].names[e]);
    }
  }
  for (int gpl = 0; gpl < 2; ++gpl)
    for (std::size_t e = 0; e < tables[gpl].names.size(); ++e)
      if (!labelled[gpl][e]) out.modpost_order.push_back(tables[gpl].names[e]);
  return out;
}

// The test-side decoder for a linked image (addresses; no relocations in the corpus images).
decoded decode_image(const readelf::dump& d) {
  decoded out;
  const bool prel32 = prel32_machine(d.machine);
  const unsigned width = prel32 ? 4 : (d.is64 ? 8 : 4);
  const std::uint64_t entry_size = 3 * width;
  const auto* strings = d.find("__ksymtab_strings");
  if (strings == nullptr) {
    out.error = "no __ksymtab_strings";
    return out;
  }
  auto string_at_address = [&](std::uint64_t address, std::string& s) {
    return address >= strings->addr && string_at(d, strings->name, address - strings->addr, s);
  };
  const std::uint64_t mask = d.is64 ? ~std::uint64_t{0} : 0xffffffffu;
  for (int gpl = 0; gpl < 2; ++gpl) {
    const auto* sec = d.find(gpl ? "__ksymtab_gpl" : "__ksymtab");
    if (sec == nullptr) continue;
    const auto& bytes = d.hex.at(sec->name);
    if (bytes.size() != sec->size || bytes.size() % entry_size != 0) {
      out.error = sec->name + ": hex dump size differs from the section header or is not whole entries";
      return out;
    }
    const auto* crcsec = d.find(gpl ? "__kcrctab_gpl" : "__kcrctab");
    for (std::uint64_t e = 0; e < bytes.size() / entry_size; ++e) {
      std::uint64_t target[3];
      bool null_field[3];
      for (unsigned f = 0; f < 3; ++f) {
        const std::uint64_t off = e * entry_size + f * width;
        const std::uint64_t raw = d.load(bytes, off, width);
        null_field[f] = raw == 0;
        target[f] = (prel32 ? sec->addr + off + sign_extend(raw, 4) : raw) & mask;
      }
      std::string name, ns;
      if (!string_at_address(target[1], name) || (!null_field[2] && !string_at_address(target[2], ns))) {
        out.error = sec->name + ": entry " + std::to_string(e) + ": string outside __ksymtab_strings";
        return out;
      }
      std::uint32_t crc = 0;
      if (crcsec != nullptr) crc = static_cast<std::uint32_t>(d.load(d.hex.at(crcsec->name), e * 4, 4));
      out.exports.push_back(describe(name, ns, crcsec != nullptr, crc, gpl == 1, 0, target[0]));
    }
  }
  out.count = out.exports.size();
  return out;
}

struct library_view {
  std::vector<std::string> exports;
  std::vector<std::string> modpost_order;
  std::string error;
};

library_view read_with_library(const std::filesystem::path& path) {
  library_view v;
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  if (!mapped) {
    v.error = "cannot map";
    return v;
  }
  auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    ELFSIEVE_TRY(auto t, elfsieve::kernel::read_export_table(f, sections));
    for (const auto& x : t.exports)
      v.exports.push_back(describe(x.name, x.name_space, x.has_crc, x.crc, x.gpl_only, x.value_section.value, x.value));
    elfsieve::kernel::sort_modpost_order(t);
    for (const auto& x : t.exports) v.modpost_order.emplace_back(x.name);
    return {};
  });
  if (!done) v.error = "read_export_table failed";
  return v;
}

// The first difference of two line lists, or "" when equal.
std::string first_difference(const std::vector<std::string>& ours, const std::vector<std::string>& theirs) {
  for (std::size_t i = 0; i < std::max(ours.size(), theirs.size()); ++i) {
    const std::string a = i < ours.size() ? ours[i] : "(none)";
    const std::string b = i < theirs.size() ? theirs[i] : "(none)";
    if (a != b)
      return "entry " + std::to_string(i) + " of " + std::to_string(theirs.size()) + ": library `" + a +
             "`, readelf `" + b + "`";
  }
  return {};
}

struct totals {
  std::size_t files = 0, exports = 0, with_namespace = 0, gpl = 0;
};

// Compares one module; returns its export count.
void compare_module(const std::filesystem::path& path, const std::string& name, totals& t) {
  INFO(name << " (" << path.string() << ")");
  const auto dump = readelf::run(path, export_sections);
  REQUIRE(dump.error.empty());
  REQUIRE(dump.type == "REL");
  const auto theirs = decode_module(dump);
  REQUIRE(theirs.error.empty());
  const auto ours = read_with_library(path);
  REQUIRE(ours.error.empty());
  CHECK(first_difference(ours.exports, theirs.exports).empty());
  CHECK(first_difference(ours.modpost_order, theirs.modpost_order).empty());
  ++t.files;
  t.exports += theirs.count;
  for (const auto& e : theirs.exports) {
    if (e.find(" [] ") == std::string::npos) ++t.with_namespace;
    if (e.starts_with("GPL")) ++t.gpl;
  }
}

}  // namespace

TEST_CASE("export tables of every corpus module equal GNU readelf's", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  totals t;
  for (const auto& m : corpus_modules()) compare_module(m.path, m.name, t);
  // Every architecture and layout: 74 Debian modules and 38 built ones (2,715 exports at the time of writing).
  CHECK(t.files >= 110);
  CHECK(t.exports >= 2500);
  CHECK(t.gpl >= 1500);
  CHECK(t.with_namespace >= 10);
  WARN("compared " << t.files << " modules, " << t.exports << " exports (" << t.gpl << " GPL-only, " << t.with_namespace
                   << " in a namespace)");
}

#ifdef ELFSIEVE_STRIP_PATH
TEST_CASE("export tables survive elfsieve-strip --policy=crc,ksymtab --strip-debug", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  const auto dir = test_work_dir() / "export-table-strip";
  std::filesystem::create_directories(dir);
  totals t;
  for (const auto& m : corpus_modules()) {
    INFO(m.name);
    std::string flat = m.name;
    std::replace(flat.begin(), flat.end(), '/', '_');
    const auto stripped = dir / (flat + "." + std::to_string(::getpid()));
    const auto r = run_process(
        {ELFSIEVE_STRIP_PATH, "--policy=crc,ksymtab", "--strip-debug", "-o", stripped.string(), m.path.string()});
    INFO(r.err);
    REQUIRE(r.ok());
    // The bookkeeping symbols are gone: only relocations against section symbols remain.
    const auto dump = readelf::run(stripped, export_sections);
    REQUIRE(dump.error.empty());
    for (const auto& s : dump.symbols) {
      INFO(s.name);
      CHECK_FALSE((s.type != "SECTION" && (s.name.starts_with("__ksymtab_") || s.name.starts_with("__kstrtab") ||
                                           s.name.starts_with("__crc_"))));
    }
    // The exports read from the stripped copy equal both readelf's reading of it and the original's.
    const auto theirs = decode_module(dump);
    REQUIRE(theirs.error.empty());
    const auto ours = read_with_library(stripped);
    REQUIRE(ours.error.empty());
    CHECK(first_difference(ours.exports, theirs.exports).empty());
    CHECK(first_difference(ours.modpost_order, theirs.modpost_order).empty());
    const auto original = read_with_library(m.path);
    auto names_crcs = [](const std::vector<std::string>& lines) {
      std::vector<std::string> out;
      for (const auto& l : lines) out.push_back(l.substr(0, l.find(" value=")));
      return out;
    };
    CHECK(first_difference(names_crcs(ours.exports), names_crcs(original.exports)).empty());
    std::filesystem::remove(stripped);
    ++t.files;
    t.exports += theirs.count;
  }
  CHECK(t.files >= 110);
  CHECK(t.exports >= 2500);
  WARN("compared " << t.files << " stripped modules, " << t.exports << " exports");
}
#endif

TEST_CASE("export tables of the corpus vmlinux images equal GNU readelf's", "[symvers]") {
  if (!program_available("readelf")) {
    WARN("SKIP: GNU readelf (binutils) not installed");
    return;
  }
  std::size_t images = 0;
  for (const auto& o : corpus_objects()) {
    if (!o.name.ends_with("/vmlinux")) continue;
    INFO(o.name);
    const auto dump = readelf::run(o.path, export_sections, false, false);
    REQUIRE(dump.error.empty());
    REQUIRE(dump.type == "EXEC");
    const auto theirs = decode_image(dump);
    REQUIRE(theirs.error.empty());
    const auto ours = read_with_library(o.path);
    REQUIRE(ours.error.empty());
    CHECK(first_difference(ours.exports, theirs.exports).empty());
    CHECK(theirs.count >= 2000);
    ++images;
  }
  CHECK(images >= 3);
}
