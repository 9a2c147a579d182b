// kallsyms link passes compared (kernel/kallsyms_diff.hpp) on the real passes of one x86_64 build
// (corpus/x86_64-tiny/passes/: .tmp_vmlinux.kallsyms1, 2 (3 if the build made one) and the final vmlinux). The
// oracles are the kernel's own: the verdict must agree with link-vmlinux.sh's `cmp` of the two System.map
// listings, made by scripts/mksysmap's `nm -n | grep -v ...` with GNU nm; the first differing symbol and its
// address delta must agree with those listings; its section with GNU readelf's section headers of the later pass.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/kallsyms_diff.hpp"
#include "support/corpus.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
namespace ks = elfsieve::kernel::kallsyms;

namespace {

std::filesystem::path passes_dir() { return corpus_dir() / "x86_64-tiny" / "passes"; }

// corpus/x86_64-tiny/passes/NAME.xz decompressed into the test work directory (once per process and file).
std::optional<std::filesystem::path> pass_file(const std::string& name) {
  const auto xz = passes_dir() / (name + ".xz");
  if (!std::filesystem::exists(xz)) return std::nullopt;
  const auto out = test_work_dir() / "passes" / name;
  if (!std::filesystem::exists(out) || std::filesystem::last_write_time(out) < std::filesystem::last_write_time(xz)) {
    std::filesystem::create_directories(out.parent_path());
    const std::string tmp = out.string() + ".tmp." + std::to_string(::getpid());
    const auto r = run_process({"sh", "-c", "xz -dc \"$1\" > \"$2\"", "sh", xz.string(), tmp});
    INFO(r.err);
    REQUIRE(r.ok());
    std::filesystem::rename(tmp, out);
  }
  return out;
}

// The passes in link order, then the final vmlinux.
std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const char* n : {"tmp_vmlinux.kallsyms1", "tmp_vmlinux.kallsyms2", "tmp_vmlinux.kallsyms3"})
    if (std::filesystem::exists(passes_dir() / (std::string(n) + ".xz"))) names.push_back(n);
  names.push_back("vmlinux");
  return names;
}

// scripts/mksysmap of Linux 6.1, as link-vmlinux.sh runs it (with GNU nm, LC_ALL=C).
std::string system_map_by_nm(const std::filesystem::path& image) {
  const auto r = run_process({"sh", "-c",
                              "nm -n \"$1\" | grep -v -e ' [aNUw] ' -e ' \\$' -e ' \\.L' -e ' __crc_' -e ' __kstrtab_' "
                              "-e ' __kstrtabns_' -e ' L0$'",
                              "sh", image.string()});
  INFO(r.err);
  REQUIRE(r.started);
  REQUIRE(r.status == 0);
  return r.out;
}

struct line {
  std::uint64_t address;
  char type;
  std::string name;
};

std::vector<line> parse(const std::string& map) {
  std::vector<line> out;
  std::istringstream in(map);
  std::string address, type, name;
  while (in >> address >> type >> name) out.push_back({std::stoull(address, nullptr, 16), type[0], name});
  return out;
}

// What scripts/kallsyms 6.1 (--all-symbols, as CONFIG_KALLSYMS_ALL in this build) reads from such a listing: not
// the table labels of ignored_symbols[] in scripts/kallsyms.c and no absolute symbols (x86_64 has none of the
// other names is_ignored_symbol lists).
std::vector<line> kallsyms_input(const std::vector<line>& map) {
  static const std::vector<std::string> ignored{
      "kallsyms_addresses", "kallsyms_offsets",     "kallsyms_relative_base", "kallsyms_num_syms",     "kallsyms_names",
      "kallsyms_markers",   "kallsyms_token_table", "kallsyms_token_index",   "kallsyms_seqs_of_names"};
  std::vector<line> out;
  for (const line& l : map)
    if (std::find(ignored.begin(), ignored.end(), l.name) == ignored.end() && l.type != 'A' && l.type != 'a')
      out.push_back(l);
  return out;
}

// The section of GNU readelf -SW's headers whose address range holds `address` (allocated, non-empty).
std::string readelf_section_at(const std::filesystem::path& image, std::uint64_t address) {
  const auto r = run_process({"readelf", "-SW", image.string()});
  REQUIRE(r.ok());
  std::istringstream in(r.out);
  std::string text;
  while (std::getline(in, text)) {
    const auto bracket = text.find(']');
    if (text.find('[') == std::string::npos || bracket == std::string::npos) continue;
    std::istringstream fields(text.substr(bracket + 1));
    std::string name, type, addr, off, size, es, flags;
    if (!(fields >> name >> type >> addr >> off >> size >> es >> flags)) continue;
    if (flags.find('A') == std::string::npos) continue;
    std::uint64_t start = 0, length = 0;
    try {
      start = std::stoull(addr, nullptr, 16);
      length = std::stoull(size, nullptr, 16);
    } catch (...) {
      continue;
    }
    if (length != 0 && address >= start && address - start < length) return name;
  }
  return "";
}

struct mapped_pass {
  mapped_file file;
  ks::pass_image image;
};

std::optional<mapped_pass> open_pass(const std::filesystem::path& p) {
  auto m = mapped_file::open(p.c_str());
  REQUIRE(m.has_value());
  mapped_pass out{std::move(m).value(), {}};
  const auto r = ks::read_pass(out.file.bytes(), ks::kernel_version::v6_1, out.image);
  INFO(p.string());
  if (!r) FAIL(to_string(r.error()));
  return out;
}

bool skip_without_passes() {
  if (std::filesystem::exists(passes_dir() / "tmp_vmlinux.kallsyms1.xz")) return false;
  WARN("SKIPPED: corpus/x86_64-tiny/passes/ is missing (corpus/regenerate --build x86_64-tiny makes it)");
  return true;
}

}  // namespace

TEST_CASE("kallsyms_diff.real_passes_agree_with_nm_and_cmp", "[kallsyms][kallsyms_diff]") {
  if (skip_without_passes()) return;
  if (!program_available("nm") || !program_available("readelf") || !program_available("xz")) {
    WARN("SKIPPED: GNU nm, readelf or xz is not installed");
    return;
  }
  const std::vector<std::string> names = pass_names();
  REQUIRE(names.size() >= 3);
  std::size_t needed = 0;
  for (std::size_t k = 0; k + 1 < names.size(); ++k) {
    CAPTURE(names[k], names[k + 1]);
    const auto path_a = pass_file(names[k]).value(), path_b = pass_file(names[k + 1]).value();
    auto a = open_pass(path_a);
    auto b = open_pass(path_b);
    ks::pass_diff d;
    REQUIRE(ks::diff_passes(a->image, b->image, {}, d).has_value());
    const std::string text = ks::explain(d, names[k], names[k + 1]);
    INFO(text);

    // link-vmlinux.sh: cmp -s of the two System.map listings.
    const std::string map_a = system_map_by_nm(path_a), map_b = system_map_by_nm(path_b);
    CHECK(d.maps_identical == (map_a == map_b));
    CHECK(d.another_pass_needed == (map_a != map_b));
    CHECK(d.all_symbols);  // CONFIG_KALLSYMS_ALL, inferred from kallsyms_num_syms
    if (d.another_pass_needed) ++needed;

    // The first difference among the symbols kallsyms reads, and its delta, from the nm listings.
    const std::vector<line> la = kallsyms_input(parse(map_a)), lb = kallsyms_input(parse(map_b));
    CHECK(d.kept_a == la.size());
    CHECK(d.kept_b == lb.size());
    std::size_t i = 0;
    while (i < la.size() && i < lb.size() && la[i].address == lb[i].address && la[i].type == lb[i].type &&
           la[i].name == lb[i].name)
      ++i;
    if (i == la.size() && i == lb.size()) {
      CHECK_FALSE(d.another_pass_needed);
      CHECK(text.find("no further kallsyms pass is needed") != std::string::npos);
      continue;
    }
    REQUIRE(d.another_pass_needed);
    REQUIRE(i < lb.size());
    CHECK(d.position == i);
    CHECK(d.symbol == lb[i].name);
    CHECK(d.address_b == lb[i].address);
    // The same name in the earlier pass: its first occurrence from that position on.
    std::optional<std::uint64_t> was;
    for (std::size_t j = i; j < la.size() && !was; ++j)
      if (la[j].name == lb[i].name) was = la[j].address;
    for (std::size_t j = 0; j < i && !was; ++j)
      if (la[j].name == lb[i].name) was = la[j].address;
    CHECK(d.address_a == was);
    if (was) {
      CHECK(d.delta() == static_cast<std::int64_t>(lb[i].address - *was));
      if (la[i].name == lb[i].name) CHECK(d.kind == ks::difference::moved);
    }
    CHECK(d.section == readelf_section_at(path_b, lb[i].address));
    CHECK(text.find("another kallsyms pass is needed") != std::string::npos);
    CHECK(text.find(std::string(d.symbol)) != std::string::npos);
    CHECK(text.find(std::string(d.section)) != std::string::npos);
    // Something grew before it: the cause names a kallsyms table when the tables appeared or changed size.
    CHECK_FALSE(d.causes.empty());
  }
  // Pass 2 is linked with pass 1's tables, which moves what follows .rodata: the first comparison needs a pass.
  CHECK(needed >= 1);
  // The committed files belong together: the build's System.map is the final vmlinux's listing.
  std::ifstream committed(passes_dir() / "System.map", std::ios::binary);
  std::stringstream text;
  text << committed.rdbuf();
  CHECK(text.str() == system_map_by_nm(pass_file("vmlinux").value()));
}

TEST_CASE("kallsyms_diff.pass1_to_pass2_names_the_appearing_tables", "[kallsyms][kallsyms_diff]") {
  if (skip_without_passes()) return;
  auto a = open_pass(pass_file("tmp_vmlinux.kallsyms1").value());
  auto b = open_pass(pass_file("tmp_vmlinux.kallsyms2").value());
  ks::pass_diff d;
  REQUIRE(ks::diff_passes(a->image, b->image, {}, d).has_value());
  const std::string text = ks::explain(d, "kallsyms1", "kallsyms2");
  INFO(text);
  REQUIRE(d.another_pass_needed);
  // 6.1's pass 1 has no tables (the kallsyms_* symbols are weak and undefined there); pass 2 has all of them.
  REQUIRE_FALSE(d.tables.empty());
  for (const ks::table_size& t : d.tables) {
    CAPTURE(t.name);
    CHECK_FALSE(t.size_a.has_value());
    CHECK(t.size_b.has_value());
  }
  CHECK(d.main_cause.starts_with("kallsyms_"));
  CHECK(text.find("appeared") != std::string::npos);
  CHECK(d.moved_with_it > 0);
}

TEST_CASE("kallsyms_diff.same_image_and_reversed_passes", "[kallsyms][kallsyms_diff]") {
  if (skip_without_passes()) return;
  auto v = open_pass(pass_file("vmlinux").value());
  ks::pass_diff d;
  REQUIRE(ks::diff_passes(v->image, v->image, {}, d).has_value());
  CHECK_FALSE(d.another_pass_needed);
  CHECK(d.maps_identical);
  CHECK(d.differing == 0);

  // Backwards (2 -> 1): the tables disappear and the symbols move back by as much.
  auto a = open_pass(pass_file("tmp_vmlinux.kallsyms1").value());
  auto b = open_pass(pass_file("tmp_vmlinux.kallsyms2").value());
  ks::pass_diff forward, backward;
  REQUIRE(ks::diff_passes(a->image, b->image, {}, forward).has_value());
  REQUIRE(ks::diff_passes(b->image, a->image, {}, backward).has_value());
  CHECK(backward.another_pass_needed);
  CHECK(backward.symbol == forward.symbol);
  CHECK(backward.delta() == -forward.delta());
  CHECK(ks::explain(backward, "kallsyms2", "kallsyms1").find("disappeared") != std::string::npos);

  // Given --all-symbols explicitly: the same answer, not marked as inferred.
  ks::pass_diff given;
  REQUIRE(ks::diff_passes(a->image, b->image, {ks::kernel_version::v6_1, true}, given).has_value());
  CHECK_FALSE(given.all_symbols_inferred);
  CHECK(given.symbol == forward.symbol);
}

TEST_CASE("kallsyms_diff.not_an_elf_image_is_an_error", "[kallsyms][kallsyms_diff]") {
  const std::byte junk[16]{};
  ks::pass_image p;
  const auto r = ks::read_pass(std::span<const std::byte>(junk), ks::kernel_version::v6_1, p);
  CHECK_FALSE(r.has_value());
}

#ifdef ELFSIEVE_KALLSYMS_PATH
// elfsieve-kallsyms --diff: exit 0 when no pass is needed, 1 with the explanation when one is, 2 for trouble.
TEST_CASE("kallsyms_diff.tool_exit_statuses_and_message", "[kallsyms][kallsyms_diff][kallsyms_tool]") {
  if (skip_without_passes()) return;
  const auto p1 = pass_file("tmp_vmlinux.kallsyms1").value().string();
  const auto p2 = pass_file("tmp_vmlinux.kallsyms2").value().string();
  const std::vector<std::string> names = pass_names();
  const auto last = pass_file(names[names.size() - 2]).value().string();
  const auto final_image = pass_file("vmlinux").value().string();

  const auto needed = run_process({ELFSIEVE_KALLSYMS_PATH, "--diff", p1, p2});
  INFO(needed.out << needed.err);
  CHECK(needed.status == 1);
  CHECK(needed.out.find("another kallsyms pass is needed") != std::string::npos);
  CHECK(needed.out.find("first difference: kept symbol") != std::string::npos);
  CHECK(needed.out.find("kallsyms tables") != std::string::npos);
  CHECK(needed.err.empty());

  const auto done = run_process({ELFSIEVE_KALLSYMS_PATH, "--diff", last, final_image});
  INFO(done.out << done.err);
  CHECK(done.status == 0);
  CHECK(done.out.find("no further kallsyms pass is needed") != std::string::npos);

  const auto missing = run_process({ELFSIEVE_KALLSYMS_PATH, "--diff", p1, p1 + ".does-not-exist"});
  CHECK(missing.status == 2);
  CHECK(missing.err.find("does-not-exist") != std::string::npos);
  CHECK(missing.out.empty());

  const auto usage = run_process({ELFSIEVE_KALLSYMS_PATH, "--diff", p1});
  CHECK(usage.status == 2);
}
#endif

namespace {

// A linked image whose .rodata holds a kallsyms_names of `names_size` bytes with symbols after it.
std::optional<std::filesystem::path> synthetic_pass(const std::string& name, int names_size) {
  const auto dir = test_work_dir() / "kallsyms_diff";
  std::filesystem::create_directories(dir);
  const auto s = dir / (name + ".s"), o = dir / (name + ".o"), image = dir / name;
  std::ofstream(s) << ".text\n.globl _stext\n_stext:\n.globl f1\nf1: .fill 16,1,0x90\n.globl _etext\n_etext:\n"
                      ".section .rodata,\"a\"\n.globl r1\nr1: .fill 32\n.globl kallsyms_num_syms\n"
                      "kallsyms_num_syms: .long 0\n.globl kallsyms_names\nkallsyms_names: .fill "
                   << names_size << "\n.globl r2\nr2: .fill 8\n.globl r3\nr3: .fill 8\n"
                   << ".data\n.globl d1\nd1: .quad 0\n";
  if (!run_process({"as", "--64", "-o", o.string(), s.string()}).ok()) return std::nullopt;
  if (!run_process({"ld", "-e", "f1", "-o", image.string(), o.string()}).ok()) return std::nullopt;
  return image;
}

}  // namespace

TEST_CASE("kallsyms_diff.table_growth_inside_its_section", "[kallsyms][kallsyms_diff]") {
  const auto path_a = synthetic_pass("grow_a", 16), path_b = synthetic_pass("grow_b", 24);
  if (!path_a || !path_b) {
    WARN("SKIPPED: GNU as/ld for x86_64 are not available");
    return;
  }
  auto a = open_pass(*path_a);
  auto b = open_pass(*path_b);
  ks::pass_diff d;
  REQUIRE(ks::diff_passes(a->image, b->image, {ks::kernel_version::v6_1, true}, d).has_value());
  const std::string text = ks::explain(d, "A", "B");
  INFO(text);
  REQUIRE(d.another_pass_needed);
  CHECK(d.kind == ks::difference::moved);
  CHECK(d.symbol == "r2");
  CHECK(d.delta() == 8);
  CHECK(d.section == ".rodata");
  CHECK_FALSE(d.section_moved);
  CHECK(d.main_cause == "kallsyms_names");
  REQUIRE(d.causes.size() == 1);
  CHECK(d.causes[0].size_a == 16u);
  CHECK(d.causes[0].size_b == 24u);
  CHECK(d.moved_in_section == 2);  // r2 and r3
  CHECK(text.find("summary: kallsyms_names grew by 8 bytes; ") != std::string::npos);
  CHECK(text.find(" on moved, 6 of them by +8 (2 in .rodata)") != std::string::npos);
  REQUIRE(d.tables.size() == 2);
  CHECK(d.tables[1].name == "kallsyms_names");
  CHECK(d.tables[1].size_a == 16u);
  CHECK(d.tables[1].size_b == 24u);
}
