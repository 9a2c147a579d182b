// The input as an ELF file: export tables (read_export_table, sort_modpost_order, append_symvers_line), __versions
// (read_module_versions) and the loader's version check (check_module_versions, append_kernel_messages) against a
// small fixed export list and against the file's own exports. The same bytes as Module.symvers text
// (parse_symvers): whatever parses must write back (append_symvers_line) to text that parses to the same entries.
// Errors are fine; crashes, hangs, UB and allocations out of proportion to the input are not.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/kernel/export_table.hpp"
#include "elfsieve/kernel/module_versions.hpp"
#include "elfsieve/kernel/symvers.hpp"
#include "elfsieve/kernel/version_check.hpp"
#include "elfsieve/read/open.hpp"

namespace {

namespace k = elfsieve::kernel;

// Folds everything read into one value so the optimizer cannot drop the reads.
struct sink {
  std::uint64_t v = 0;
  void add(std::uint64_t x) noexcept { v = v * 31 + x; }
  void add(std::string_view s) noexcept {
    add(s.size());
    if (!s.empty()) add(static_cast<unsigned char>(s.front()) + static_cast<unsigned char>(s.back()));
  }
  template <class T>
  void add_error(const elfsieve::result<T>& r) noexcept {
    if (!r)
      add(static_cast<std::uint64_t>(r.error().code) + r.error().offset.value_or(0) + r.error().detail.value_or(0) +
          (r.error().section ? r.error().section->value : 0));
  }
};

// Output text is bounded by the input only quadratically (many entries may name one long string): keep it small.
constexpr std::size_t text_cap = std::size_t{1} << 20;

void append_capped(sink& out, std::string& text) {
  if (text.size() > text_cap) {
    out.add(text);
    text.clear();
  }
}

// A few exports of each kind the loader distinguishes: plain, GPL-only, in a namespace, module_layout.
const std::vector<k::symvers_entry>& fixed_exports() {
  static const std::vector<k::symvers_entry> all = {
      {0x0b0c0d0e, "module_layout", "vmlinux", "", false},
      {0x92997ed8, "_printk", "vmlinux", "", false},
      {0x37a0cba1, "kfree", "vmlinux", "", false},
      {0x12345678, "crc7_be", "lib/crc7", "", true},
      {0x9abcdef0, "crc8", "lib/crc8", "", false},
      {0xdeadbeef, "usb_stor_probe1", "drivers/usb/storage/usb-storage", "USB_STORAGE", true},
      {0x0badf00d, "usb_stor_probe2", "drivers/usb/storage/usb-storage", "USB_STORAGE", true},
      {0x00000000, "__fentry__", "vmlinux", "", false},
  };
  return all;
}

template <elfsieve::elf_layout L>
void check_against(sink& out, const elfsieve::file<L>& f, const elfsieve::section_table<L>& sections,
                   const k::export_lookup& exports) {
  auto c = k::check_module_versions(f, sections, exports);
  if (!c) return out.add_error(c);
  out.add(c->module_name);
  out.add(c->symbols_checked + c->problems.size());
  for (const auto& p : c->problems) {
    out.add(static_cast<std::uint64_t>(p.kind) + p.module_crc + p.export_crc);
    out.add(p.symbol);
    out.add(p.name_space);
  }
  std::string text;
  k::append_kernel_messages(text, *c);
  out.add(text);
}

std::uint64_t run_elf(std::span<const std::byte> bytes) {
  sink out;
  auto done = elfsieve::visit(bytes, [&](const auto& f) -> elfsieve::result<void> {
    ELFSIEVE_TRY(const auto sections, f.sections());
    std::vector<k::symvers_entry> own;
    auto table = k::read_export_table(f, sections);
    if (table) {
      out.add(table->exports.size() + table->linked + table->prel32 + table->has_crcs + table->release_major +
              table->release_minor);
      k::sort_modpost_order(*table);
      std::string text;
      for (const auto& x : table->exports) {
        out.add(x.entry + x.value + x.value_section.value + x.value_symbol + x.label);
        k::append_symvers_line(text, x, table->linked ? "vmlinux" : "fuzz/module");
        append_capped(out, text);
        own.push_back({x.crc, x.name, "fuzz/module", x.name_space, x.gpl_only});
      }
      out.add(text);
      // What was written reads back (names and namespaces taken from the file may hold tabs or newlines: then
      // the text is simply not a valid dump, which parse_symvers must say without crashing).
      out.add_error(k::parse_symvers(text));
    } else {
      out.add_error(table);
    }
    auto versions = k::read_module_versions(sections);
    if (versions) {
      out.add(versions->present + versions->entries.size());
      for (const auto& v : versions->entries) {
        out.add(v.crc);
        out.add(v.name);
      }
    } else {
      out.add_error(versions);
    }
    check_against(out, f, sections, k::export_lookup(fixed_exports()));
    check_against(out, f, sections, k::export_lookup(own));
    return {};
  });
  out.add_error(done);
  return out.v;
}

std::uint64_t run_text(std::string_view text) {
  sink out;
  auto entries = k::parse_symvers(text);
  if (!entries) {
    out.add_error(entries);
    return out.v;
  }
  const k::export_lookup lookup(*entries);
  std::string again;
  for (const auto& e : *entries) {
    if (lookup.find(e.name) == nullptr) __builtin_trap();  // every parsed name is found
    k::append_symvers_line(again, e.crc, e.name, e.module, e.gpl_only, e.name_space);
  }
  auto reread = k::parse_symvers(again);
  if (!reread || reread->size() != entries->size()) __builtin_trap();
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& a = (*entries)[i];
    const auto& b = (*reread)[i];
    if (a.crc != b.crc || a.name != b.name || a.module != b.module || a.name_space != b.name_space ||
        a.gpl_only != b.gpl_only)
      __builtin_trap();
  }
  out.add(again);
  return out.v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  static volatile std::uint64_t keep = 0;
  keep = keep + run_elf(bytes) + run_text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
