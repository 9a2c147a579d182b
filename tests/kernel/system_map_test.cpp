// System.map from the image: equal, byte for byte, to the real 6.1 build's System.map of every corpus vmlinux, and
// to `nm -n | sed -f scripts/mksysmap` of linux-source-6.12 (GNU nm and sed as the oracle).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "elfsieve/kernel/system_map.hpp"
#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/kernel_sources.hpp"
#include "support/process.hpp"

using namespace elfsieve;
using namespace elfsieve::test;
using kernel::kallsyms::kernel_version;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const corpus_object* corpus_vmlinux(const std::string& arch) {
  for (const auto& o : corpus_objects())
    if (o.arch == arch && o.path.filename() == "vmlinux") return &o;
  return nullptr;
}

std::string system_map_text(std::span<const std::byte> image, kernel_version version) {
  kernel::system_map map;
  auto r = kernel::read_system_map(image, version, map);
  INFO((r ? "" : r.error().message));
  REQUIRE(r.has_value());
  std::string text;
  kernel::append_system_map(map, text);
  return text;
}

// The first line where two listings differ, for the failure message.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string lx, ly;
  for (int line = 1;; ++line) {
    const bool gx = static_cast<bool>(std::getline(x, lx)), gy = static_cast<bool>(std::getline(y, ly));
    if (!gx && !gy) return "none";
    if (!gx || !gy || lx != ly)
      return "line " + std::to_string(line) + ": ours '" + (gx ? lx : "<end>") + "' vs '" + (gy ? ly : "<end>") + "'";
  }
}

}  // namespace

TEST_CASE("system_map.equals_the_6_1_builds_system_map", "[kallsyms][kernel]") {
  for (const std::string arch : {"ppc32", "ppc64", "x86_64-tiny"}) {
    const corpus_object* vmlinux = corpus_vmlinux(arch);
    INFO(arch);
    REQUIRE(vmlinux != nullptr);
    const auto bytes = read_bytes(vmlinux->path);
    const std::string ours = system_map_text(bytes, kernel_version::v6_1);
    const std::string theirs = read_text(corpus_dir() / arch / "System.map");
    INFO(first_difference(ours, theirs));
    CHECK(ours == theirs);
  }
}

TEST_CASE("system_map.equals_nm_and_the_6_12_sed_script", "[kallsyms][kernel]") {
  const auto scripts = kernel_scripts("6.12");
  if (scripts.empty()) {
    WARN("/usr/src/linux-source-6.12.tar.xz is not installed (Debian package linux-source-6.12): skipped");
    return;
  }
  for (const std::string arch : {"ppc32", "ppc64", "x86_64-tiny"}) {
    const corpus_object* vmlinux = corpus_vmlinux(arch);
    INFO(arch);
    REQUIRE(vmlinux != nullptr);
    const auto bytes = read_bytes(vmlinux->path);
    const std::string ours = system_map_text(bytes, kernel_version::v6_12);
    const auto r = run_process({"sh", "-c", "nm -n \"$1\" | sed -f \"$2\"", "sh", vmlinux->path.string(),
                                (scripts / "scripts" / "mksysmap").string()});
    REQUIRE(r.ok());
    INFO(first_difference(ours, r.out));
    CHECK(ours == r.out);
    // The 6.12 filter drops everything 6.1's does, and more.
    CHECK(ours.size() <= system_map_text(bytes, kernel_version::v6_1).size());
  }
}

// nm -n's order on every corpus object, modules and object files included: their many symbols at value 0 (section
// offsets) are the long runs of equal values that names, then symbol numbers, order.
TEST_CASE("system_map.equals_nm_n_and_the_6_12_sed_script_on_every_corpus_object", "[kallsyms][kernel]") {
  const auto scripts = kernel_scripts("6.12");
  if (scripts.empty()) {
    WARN("/usr/src/linux-source-6.12.tar.xz is not installed (Debian package linux-source-6.12): skipped");
    return;
  }
  std::size_t compared = 0, lines = 0;
  for (const auto& o : corpus_objects()) {
    INFO(o.name);
    const auto r = run_process({"sh", "-c", "nm -n \"$1\" | sed -f \"$2\"", "sh", o.path.string(),
                                (scripts / "scripts" / "mksysmap").string()});
    if (!r.ok() || !r.err.empty()) continue;  // nm refuses it, or finds no symbols
    const auto bytes = read_bytes(o.path);
    const std::string ours = system_map_text(bytes, kernel_version::v6_12);
    INFO(first_difference(ours, r.out));
    CHECK(ours == r.out);
    ++compared;
    lines += static_cast<std::size_t>(std::count(ours.begin(), ours.end(), '\n'));
  }
  INFO(compared << " objects, " << lines << " lines");
  CHECK(compared >= 20);
}

TEST_CASE("system_map.mksysmap_rules", "[kallsyms][kernel]") {
  using kernel::mksysmap_drops;
  constexpr auto v61 = kernel_version::v6_1;
  constexpr auto v612 = kernel_version::v6_12;
  // Letters: a N U w go in both versions; the rest stay.
  for (char t : {'a', 'N', 'U', 'w'}) CHECK(mksysmap_drops(t, "x", v61));
  for (char t : {'A', 'T', 't', 'D', 'd', 'B', 'b', 'R', 'r', 'W', 'V', 'v', 'G', 'S'}) {
    CHECK_FALSE(mksysmap_drops(t, "x", v61));
    CHECK_FALSE(mksysmap_drops(t, "x", v612));
  }
  // Prefixes at the start of the name.
  for (const char* n : {"$x", ".Ltmp0", "__crc_foo", "__kstrtab_foo", "__kstrtabns_foo", "L0"}) {
    CHECK(mksysmap_drops('t', n, v61));
    CHECK(mksysmap_drops('t', n, v612));
  }
  for (const char* n : {"x$", "a.L", "x__crc_", "L01", "_L0", "__kstrtab", "L0x"})
    CHECK_FALSE(mksysmap_drops('t', n, v61));
  // The patterns match the line, so after a space inside a name too.
  CHECK(mksysmap_drops('t', "foo __crc_bar", v61));
  CHECK(mksysmap_drops('t', "foo U bar", v61));
  CHECK(mksysmap_drops('t', "a b", v61));  // " a " right after the letter's space
  CHECK(mksysmap_drops('t', "foo L0", v61));
  // 6.12 only.
  for (const char* n : {"__efistub_x", "__pi_$d", "__pi_.L1", "__kvm_nvhe_$x", "__kvm_nvhe_.L2", "__kcfi_typeid_f",
                        "__kvm_nvhe___kcfi_typeid_f", "__pi___kcfi_typeid_f", "__AArch64ADRPThunk_x", "__Thunk_",
                        "__ARMV7PILongThunk_foo", "f_from_arm", "f_from_thumb", "f_veneer", "_SDA_BASE_", "_SDA2_BASE_",
                        "x.long_branch.y", "12345.plt_branch.foo"}) {
    INFO(n);
    CHECK(mksysmap_drops('t', n, v612));
    CHECK_FALSE(mksysmap_drops('t', n, v61));
  }
  for (const char* n : {"__x_Thunk_", "__Thunkx", "__AThunk", "_SDA_BASE_x", "f_veneer_", "x.long_branch"})
    CHECK_FALSE(mksysmap_drops('t', n, v612));
}

TEST_CASE("system_map.not_elf_is_an_error", "[kallsyms][kernel]") {
  const std::string text = "not an ELF file";
  kernel::system_map map;
  auto r = kernel::read_system_map(std::as_bytes(std::span(text)), kernel_version::v6_1, map);
  CHECK_FALSE(r.has_value());
  CHECK(map.entries.empty());
}
