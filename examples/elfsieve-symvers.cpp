// elfsieve-symvers: Module.symvers from finished binaries (linked vmlinux images and .ko modules), and the module
// loader's symbol-version check of modules against a Module.symvers or against those binaries' exports.
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/kernel/export_table.hpp"
#include "elfsieve/kernel/symvers.hpp"
#include "elfsieve/kernel/version_check.hpp"
#include "elfsieve/read/open.hpp"
#include "kallsyms_payload.hpp"
#include "progress.hpp"
#include "tool.hpp"

namespace {

constexpr const char* usage_text =
    "Usage: %s [OPTION]... FILE...\n"
    "       %s --check-versions=SYMVERS [--against=FILE]... MODULE...\n"
    "       %s --check-versions --against=FILE... MODULE...\n"
    "Write Module.symvers lines (CRC, symbol, module, EXPORT_SYMBOL[_GPL], namespace) for the exports of\n"
    "finished kernel binaries: linked images (vmlinux; module column \"vmlinux\") and modules (.ko, also\n"
    ".ko.xz/.ko.zst/.ko.gz). Exports are read from __ksymtab/__ksymtab_gpl through their relocations, CRCs\n"
    "from __kcrctab/__kcrctab_gpl (or __crc_* symbols), so stripped modules read the same.\n"
    "Or, with --check-versions, check each MODULE's __versions the way the module loader does, before insmod.\n"
    "\n"
    "  -r, --root=DIR          the module column is a module's path relative to DIR, without .ko (as\n"
    "                          modpost names it in a build tree: lib/crc7); default: the path as given\n"
    "  -u, --unsorted          each file's exports in export-table order (__ksymtab, then __ksymtab_gpl) and\n"
    "                          the files in argument order; default: modpost's order (linked images first,\n"
    "                          then the modules in argument order, as modpost reads modules.order; in each\n"
    "                          file the order of the __ksymtab_* symbols modpost reads)\n"
    "  -T, --files-from=FILE   read further file names from FILE, one per line ('-' for standard input);\n"
    "                          `sed 's/\\.o$/.ko/' modules.order` gives modpost's module order\n"
    "  -j, --jobs=N            read N files at once (the output does not depend on N; default: the\n"
    "                          number of CPUs this process may use)\n"
    "      --no-progress       no progress line (shown on standard error only when it is a terminal and\n"
    "                          there are several files)\n"
    "  -o, --output=FILE       write to FILE (replaced atomically) instead of standard output\n"
    "  -c, --check-versions[=SYMVERS]\n"
    "                          check MODULE... against the exports in SYMVERS (a Module.symvers) and in\n"
    "                          the --against files: print nothing and exit 0 when the loader would link\n"
    "                          every module, else print each message the loader would log (\"disagrees\n"
    "                          about version of symbol X\", \"Unknown symbol X (err -2)\", ...) after the\n"
    "                          module's file name, and exit 1\n"
    "  -a, --against=FILE      with --check-versions: also take the exports of FILE (a vmlinux or a module)\n"
    "  -h, --help              display this help and exit\n"
    "  -V, --version           display the version and exit\n"
    "\n"
    "Exit status: 0 on success (and for --check-versions: every module would link), 1 if a file could\n"
    "not be read (the others are still read, nothing is written) or --check-versions found a problem,\n"
    "2 on a usage error (including a SYMVERS or --files-from FILE that cannot be read or parsed).\n";

// One input file, mapped, decompressed when it is a compressed module.
struct input {
  std::optional<elfsieve::mapped_file> mapped;
  std::vector<std::byte> storage;
  std::span<const std::byte> bytes;
};

elfsieve::result<void> open_input(const char* path, input& in) {
  auto mapped = elfsieve::mapped_file::open(path);
  if (!mapped) return mapped.error();
  in.mapped.emplace(std::move(*mapped));
  const auto raw = in.mapped->bytes();
  // A compressed module or an x86 boot image is opened; anything else is read as ELF (and named as not ELF).
  in.bytes = raw;
  if (kallsyms_payload::detect(raw) != kallsyms_payload::compression::none || kallsyms_payload::x86_boot_payload(raw)) {
    ELFSIEVE_TRY(in.bytes, kallsyms_payload::kernel_elf(raw, in.storage));
  }
  return {};
}

// The end of one file's work: a file that shrank while it was read is an error too; an error replaces the output.
template <class Result>
void finish(const std::string& path, const input& in, elfsieve::result<void> done, Result& r) {
  if (done && in.mapped) {
    if (auto intact = in.mapped->check_intact(); !intact) done = intact.error();
  }
  if (!done) {
    r.err = tool::file_error(path.c_str(), done.error());
    r.ok = false;
    r.out.clear();
  }
}

// The module column for a module file: the path relative to `root` (or as given), without .ko[.xz|.zst|.gz].
std::string module_column(const std::string& path, const std::optional<std::filesystem::path>& root, bool& outside) {
  namespace fs = std::filesystem;
  std::string name = path;
  outside = false;
  if (root) {
    std::error_code ec;
    const fs::path abs = fs::absolute(fs::path(path), ec).lexically_normal();
    const fs::path rel = abs.lexically_relative(*root);
    if (ec || rel.empty() || *rel.begin() == "..") outside = true;
    else name = rel.generic_string();
  }
  for (const char* suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    const std::string_view s(suffix);
    if (name.size() > s.size() && std::string_view(name).substr(name.size() - s.size()) == s) {
      name.resize(name.size() - s.size());
      break;
    }
  }
  if (name.starts_with("./")) name.erase(0, 2);
  return name;
}

struct symvers_result {
  std::string out;  // Module.symvers lines
  std::string err;
  bool linked = false;
  bool ok = true;
};

void symvers_of(const std::string& path, const std::optional<std::filesystem::path>& root, bool unsorted,
                symvers_result& r) {
  input in;
  auto done = open_input(path.c_str(), in);
  if (done) {
    done = elfsieve::visit(in.bytes, [&](const auto& f) -> elfsieve::result<void> {
      ELFSIEVE_TRY(const auto sections, f.sections());
      ELFSIEVE_TRY(auto table, elfsieve::kernel::read_export_table(f, sections));
      if (!unsorted) elfsieve::kernel::sort_modpost_order(table);
      r.linked = table.linked;
      std::string column = "vmlinux";
      if (!table.linked) {
        bool outside = false;
        column = module_column(path, root, outside);
        if (outside) {
          tool::appendf(r.err, "%s: %s: not under --root %s\n", tool::program_name, path.c_str(), root->c_str());
          r.ok = false;
          return {};
        }
      }
      r.out.reserve(table.exports.size() * (48 + column.size()));
      for (const auto& x : table.exports) elfsieve::kernel::append_symvers_line(r.out, x, column);
      return {};
    });
  }
  finish(path, in, done, r);
}

// Runs work(i) for every i < n on `jobs` threads, with a progress line on a terminal; the messages are printed
// afterwards, in file order.
template <class F>
void for_each_file(std::size_t n, unsigned jobs, bool show_progress, F&& work) {
  tool::progress bar(n, show_progress);
  tool::run_batch(n, jobs, bar, work, [](std::size_t) {});
}

bool write_output(const char* output_file, const std::string& out) {
  if (output_file != nullptr) {
    const auto bytes = std::as_bytes(std::span(out.data(), out.size()));
    if (auto w = elfsieve::write_file_atomically(output_file, bytes); !w) {
      tool::print_file_error(output_file, w.error());
      return false;
    }
    return true;
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error: %s\n", tool::program_name, std::strerror(errno));
    return false;
  }
  return true;
}

// --check-versions: the exports to check against, kept alive with the texts and files they point into.
struct export_source {
  std::string symvers_text;
  std::vector<std::unique_ptr<input>> files;
  std::vector<std::string> module_names;  // for --against modules
  std::vector<elfsieve::kernel::symvers_entry> entries;
};

// Adds the exports of FILE (a linked image or a module) to `src`; false after printing the error.
bool add_against(const char* path, export_source& src) {
  auto in = std::make_unique<input>();
  auto done = open_input(path, *in);
  std::vector<elfsieve::kernel::symvers_entry> found;
  if (done) {
    done = elfsieve::visit(in->bytes, [&](const auto& f) -> elfsieve::result<void> {
      ELFSIEVE_TRY(const auto sections, f.sections());
      ELFSIEVE_TRY(const auto table, elfsieve::kernel::read_export_table(f, sections));
      for (const auto& x : table.exports)
        found.push_back({x.crc, x.name, table.linked ? std::string_view("vmlinux") : std::string_view(path),
                         x.name_space, x.gpl_only});
      return {};
    });
  }
  if (done && in->mapped) {
    if (auto intact = in->mapped->check_intact(); !intact) done = intact.error();
  }
  if (!done) {
    tool::print_file_error(path, done.error());
    return false;
  }
  src.entries.insert(src.entries.end(), found.begin(), found.end());
  src.files.push_back(std::move(in));
  return true;
}

struct check_result {
  std::string out;
  std::string err;
  bool ok = true;         // the file could be read
  bool problems = false;  // the loader would refuse it
};

void check_one(const std::string& path, const elfsieve::kernel::export_lookup& lookup, check_result& r) {
  input in;
  auto done = open_input(path.c_str(), in);
  if (done) {
    done = elfsieve::visit(in.bytes, [&](const auto& f) -> elfsieve::result<void> {
      if (f.type() != elfsieve::elf::ET_REL) {
        tool::appendf(r.err, "%s: %s: not a module (not a relocatable object)\n", tool::program_name, path.c_str());
        r.ok = false;
        return {};
      }
      ELFSIEVE_TRY(const auto sections, f.sections());
      ELFSIEVE_TRY(const auto check, elfsieve::kernel::check_module_versions(f, sections, lookup));
      if (check.problems.empty()) return {};
      r.problems = true;
      std::string messages;
      elfsieve::kernel::append_kernel_messages(messages, check);
      for (std::size_t pos = 0; pos < messages.size();) {
        const auto eol = messages.find('\n', pos);
        r.out += path;
        r.out += ": ";
        r.out.append(messages, pos, eol - pos + 1);
        pos = eol + 1;
      }
      return {};
    });
  }
  finish(path, in, done, r);
}

}  // namespace

int main(int argc, char** argv) {
  elfsieve::install_truncation_guard();
  tool::set_program_name(argc, argv);
  std::optional<std::filesystem::path> root;
  std::vector<const char*> lists, against;
  const char* output_file = nullptr;
  const char* symvers_file = nullptr;
  bool check = false, unsorted = false, show_progress = true;
  unsigned jobs = 0;  // 0: the default, the CPUs

  enum : int { opt_no_progress = 256 };
  // clang-format off
  static const option long_options[] = {
      {"root", required_argument, nullptr, 'r'},           {"unsorted", no_argument, nullptr, 'u'},
      {"files-from", required_argument, nullptr, 'T'},     {"jobs", required_argument, nullptr, 'j'},
      {"output", required_argument, nullptr, 'o'},         {"check-versions", optional_argument, nullptr, 'c'},
      {"against", required_argument, nullptr, 'a'},        {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},              {"no-progress", no_argument, nullptr, opt_no_progress},
      {nullptr, 0, nullptr, 0}};
  // clang-format on
  for (int c; (c = getopt_long(argc, argv, "r:uT:j:o:c::a:hV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 'r': {
        std::error_code ec;
        root = std::filesystem::absolute(std::filesystem::path(optarg), ec).lexically_normal();
        if (ec) tool::usage_error("--root %s: %s", optarg, ec.message().c_str());
        if (!root->has_filename() && root->has_parent_path() && *root != root->root_path())
          root = root->parent_path();  // "dir/" -> "dir"
        break;
      }
      case 'u': unsorted = true; break;
      case 'T': lists.push_back(optarg); break;
      case 'j': jobs = tool::parse_jobs_or_exit(optarg != nullptr ? optarg : ""); break;
      case opt_no_progress: show_progress = false; break;
      case 'o': output_file = optarg; break;
      case 'c':
        check = true;
        if (optarg != nullptr) symvers_file = optarg;
        break;
      case 'a': against.push_back(optarg); break;
      case 'h': std::printf(usage_text, tool::program_name, tool::program_name, tool::program_name); return 0;
      case 'V': std::printf("elfsieve-symvers (elfsieve) %s\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  std::vector<std::string> files(argv + optind, argv + argc);
  for (const char* list : lists) {
    const std::string text = std::strcmp(list, "-") == 0 ? tool::read_stdin_or_exit() : tool::read_text_or_exit(list);
    for (std::size_t pos = 0, eol = 0; pos < text.size(); pos = eol + 1) {
      eol = std::min(text.find('\n', pos), text.size());
      if (eol > pos) files.push_back(text.substr(pos, eol - pos));
    }
  }
  if (files.empty()) tool::usage_error("%s", check ? "no modules to check" : "no input files");
  if (!check && !against.empty()) tool::usage_error("%s", "--against needs --check-versions");
  if (check && symvers_file == nullptr && against.empty())
    tool::usage_error("%s", "--check-versions needs a SYMVERS file (--check-versions=FILE) or --against files");
  if (jobs == 0) jobs = files.size() > 1 ? tool::default_jobs() : 1;

  if (check) {
    export_source src;
    if (symvers_file != nullptr) {
      src.symvers_text = tool::read_text_or_exit(symvers_file);
      auto parsed = elfsieve::kernel::parse_symvers(src.symvers_text);
      if (!parsed) {
        std::fprintf(stderr, "%s: %s: %s (line %llu)\n", tool::program_name, symvers_file, parsed.error().message,
                     static_cast<unsigned long long>(parsed.error().detail.value_or(0)));
        return tool::exit_usage;
      }
      src.entries = std::move(*parsed);
    }
    bool trouble = false;
    for (const char* a : against) trouble |= !add_against(a, src);
    if (trouble) return tool::exit_file_error;
    const elfsieve::kernel::export_lookup lookup(src.entries);
    std::vector<check_result> results(files.size());
    for_each_file(files.size(), jobs, show_progress, [&](std::size_t i) { check_one(files[i], lookup, results[i]); });
    std::string out;
    int status = 0;
    for (const auto& r : results) {
      out += r.out;
      if (!r.err.empty()) std::fputs(r.err.c_str(), stderr);
      if (!r.ok || r.problems) status = tool::exit_file_error;
    }
    if (!write_output(output_file, out)) return tool::exit_file_error;
    return status;
  }

  std::vector<symvers_result> results(files.size());
  for_each_file(files.size(), jobs, show_progress,
                [&](std::size_t i) { symvers_of(files[i], root, unsorted, results[i]); });
  bool trouble = false;
  for (const auto& r : results) {
    if (!r.err.empty()) std::fputs(r.err.c_str(), stderr);
    trouble |= !r.ok;
  }
  if (trouble) return tool::exit_file_error;
  std::string out;
  std::size_t total = 0;
  for (const auto& r : results) total += r.out.size();
  out.reserve(total);
  // modpost reads vmlinux.o first, then the modules in modules.order's order.
  if (!unsorted)
    for (const auto& r : results)
      if (r.linked) out += r.out;
  for (const auto& r : results)
    if (unsorted || !r.linked) out += r.out;
  if (!write_output(output_file, out)) return tool::exit_file_error;
  return 0;
}
