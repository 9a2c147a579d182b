// elfsieve-strip: GNU strip's options for kernel builds and distributions, plus what GNU refuses: removing a symbol
// that relocations name, by retargeting those relocations to the section symbol. One process, many files, -j N.
#include <getopt.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/io/atomic_output.hpp"
#include "elfsieve/strip/strip_object.hpp"

namespace {

const char* program_name = "elfsieve-strip";

constexpr const char* usage_text =
    "Usage: %s [OPTION]... FILE...\n"
    "Remove sections and symbols from ELF objects (kernel modules, .o files, executables), like GNU strip,\n"
    "and also symbols that relocations name: their relocations are retargeted to the section symbol with the\n"
    "symbol's value folded into the addend (or resolved, for absolute symbols), wherever that means the same\n"
    "thing to the consumer; otherwise the symbol stays and a warning says why. Each FILE is replaced in place\n"
    "(through a temporary file in the same directory, mode kept) unless -o is given.\n"
    "\n"
    "  -o FILE                        write the output to FILE (one input only)\n"
    "  -g, -S, -d, --strip-debug      remove debugging sections and the symbols GNU strip -g removes\n"
    "      --strip-unneeded           remove every symbol that no kept relocation needs (and debug sections)\n"
    "  -s, --strip-all                remove every symbol except those kept relocations need (the default\n"
    "                                 when no -g, --strip-unneeded, -N, --strip-symbols or --policy is given;\n"
    "                                 GNU strip -s also drops a relocatable file's relocations, elfsieve does not)\n"
    "  -N, --strip-symbol=NAME        remove symbol NAME (repeatable)\n"
    "      --strip-symbols=FILE       remove the symbols named in FILE (one per line, '#' comments)\n"
    "  -K, --keep-symbol=NAME         never remove symbol NAME (repeatable)\n"
    "      --keep-symbols=FILE        never remove the symbols named in FILE\n"
    "  -w, --wildcard                 symbol names in -N, -K and the name files are wildcard patterns\n"
    "                                 (*, ?, [...]; a leading ! excludes)\n"
    "  -R, --remove-section=PATTERN   remove sections matching PATTERN (wildcards; a leading ! excludes);\n"
    "                                 their relocation sections go with them\n"
    "      --policy=EXPR              remove the symbols a policy expression selects, e.g. crc,ksymtab\n"
    "                                 (see elfsieve-nm --help for the grammar)\n"
    "      --consumer=WHO             auto (default: module when the file has .modinfo or\n"
    "                                 .gnu.linkonce.this_module, else linker), module or linker: who reads\n"
    "                                 the output, which decides what retargeting is equivalent\n"
    "      --unmerge                  allow retargeting into SHF_MERGE sections by clearing SHF_MERGE there\n"
    "      --report                   print every symbol decision and a summary line per file on stdout\n"
    "  -j, --jobs=N                   process N files at once (the output does not depend on N)\n"
    "  -p, --preserve-dates           keep the input's access and modification times\n"
    "  -h, --help                     display this help and exit\n"
    "  -V, --version                  display the version and exit\n"
    "\n"
    "Report lines: FILE: removed SYM | retargeted SYM: N relocations now name section SEC |\n"
    "resolved SYM: N relocations now absolute | kept SYM: REASON, then FILE: summary: ...\n"
    "Module signatures appended to a file are not copied (a warning says so; sign after stripping).\n"
    "Exit status: 0 on success, 1 if any file could not be stripped (that file and any previous output are\n"
    "left untouched; the other files are still processed), 2 on a usage error.\n";

struct options {
  elfsieve::strip_options strip;
  bool strip_all = false, strip_unneeded = false, wildcard = false, report = false, preserve_dates = false;
  const char* output = nullptr;
  std::vector<std::string> strip_names, keep_names, remove_sections;
  std::optional<elfsieve::policy_expr> policy;
  unsigned jobs = 1;
};

// The selections, built once and shared read-only by the worker threads.
struct selection {
  std::optional<elfsieve::names_policy> strip_exact, keep_exact;
  std::optional<elfsieve::glob_policy> strip_glob, keep_glob;
  std::optional<elfsieve::glob_policy> sections;

  [[nodiscard]] bool strips(std::string_view name) const {
    if (strip_glob) return strip_glob->matches_name(name);
    return strip_exact && strip_exact->contains(name);
  }
  [[nodiscard]] bool keeps(std::string_view name) const {
    if (keep_glob) return keep_glob->matches_name(name);
    return keep_exact && keep_exact->contains(name);
  }
};

struct file_result {
  std::string out, err;
  bool ok = true;
};

void append(std::string& s, const char* format, ...) __attribute__((format(printf, 2, 3)));
void append(std::string& s, const char* format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  if (n > 0) s.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buffer - 1));
}

std::string describe(const elfsieve::error& e) {
  return elfsieve::to_string(e);
}

void strip_one(const options& opt, const selection& sel, const std::string& path, file_result& r,
               std::vector<std::byte>& buffer) {
  using namespace elfsieve;
  auto fail = [&](const std::string& message) {
    append(r.err, "%s: %s: %s\n", program_name, path.c_str(), message.c_str());
    r.ok = false;
  };
  auto mapped = mapped_file::open(path.c_str());
  if (!mapped) return fail(describe(mapped.error()));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(std::strerror(errno));

  const bool explicit_symbols = !opt.strip_names.empty() || opt.policy.has_value();
  const bool strip_all = opt.strip_all || (!opt.strip.strip_debug && !opt.strip_unneeded && !explicit_symbols);
  const bool relocatable = [&] {
    auto id = detect_layout(mapped->bytes());
    if (!id || mapped->bytes().size() < 18) return false;
    // e_type is at offset 16 in every layout.
    const auto b = mapped->bytes();
    const bool little = *id == layout_id::le32 || *id == layout_id::le64;
    const auto type = little ? std::to_integer<unsigned>(b[16]) | std::to_integer<unsigned>(b[17]) << 8
                             : std::to_integer<unsigned>(b[17]) | std::to_integer<unsigned>(b[16]) << 8;
    return type == elf::ET_REL;
  }();

  auto remove_section = [&](std::string_view name, const auto&) {
    return sel.sections && sel.sections->matches_name(name);
  };
  auto request = [&](const auto& c) -> symbol_request {
    if (c.is_null_symbol() || c.is_section_symbol()) return symbol_request::keep;
    if (sel.keeps(c.name)) return symbol_request::keep;
    if (sel.strips(c.name) || (opt.policy && (*opt.policy)(c))) return symbol_request::remove;
    if (strip_all) return symbol_request::remove_if_unreferenced;
    if (opt.strip_unneeded) {
      const auto u = unneeded_request(c, relocatable);
      if (u != symbol_request::keep) return u;
    }
    if ((opt.strip.strip_debug || opt.strip_unneeded) && policies::debug(c)) return symbol_request::remove;
    return symbol_request::keep;
  };
  std::string report_text, warnings;
  auto report = [&](const symbol_report& s) {
    const auto& d = s.decision;
    const int n = static_cast<int>(s.name.size());
    const char* name = s.name.data();
    switch (d.action) {
      case symbol_action::remove:
        if (opt.report) append(report_text, "%s: removed %.*s\n", path.c_str(), n, name);
        break;
      case symbol_action::retarget:
        if (opt.report)
          append(report_text, "%s: retargeted %.*s: %u relocations now name section %.*s\n", path.c_str(), n, name,
                 d.relocations, static_cast<int>(s.target_section.size()), s.target_section.data());
        break;
      case symbol_action::resolve:
        if (opt.report)
          append(report_text, "%s: resolved %.*s: %u relocations now absolute\n", path.c_str(), n, name,
                 d.relocations);
        break;
      case symbol_action::keep: {
        const char* why = to_string(d.reason);
        const int tn = static_cast<int>(s.reloc_type.size());
        const char* open = tn != 0 ? " (" : "";
        const char* close = tn != 0 ? ")" : "";
        if (opt.report)
          append(report_text, "%s: kept %.*s: %s%s%.*s%s\n", path.c_str(), n, name, why, open, tn,
                 s.reloc_type.data(), close);
        // Asked for by name or policy, and refused: say so. remove-if-unreferenced symbols that are needed are
        // exactly what --strip-unneeded and --strip-all mean to keep.
        if (d.request == symbol_request::remove)
          append(warnings, "%s: %s: warning: keeping %.*s: %s%s%.*s%s\n", program_name, path.c_str(), n, name, why,
                 open, tn, s.reloc_type.data(), close);
        break;
      }
    }
  };
  // GNU strip removes the debug sections for --strip-unneeded and --strip-all too.
  strip_options options = opt.strip;
  options.strip_debug = options.strip_debug || opt.strip_unneeded || strip_all;
  auto outcome = strip_object(mapped->bytes(), options, remove_section, request, report, buffer);
  if (!outcome) return fail(describe(outcome.error()));

  const std::string target = opt.output != nullptr ? std::string(opt.output) : path;
  output_options out_options;
  struct stat existing {};
  if (opt.output != nullptr && ::stat(opt.output, &existing) != 0) out_options.mode = static_cast<int>(st.st_mode & 07777);
  if (auto w = write_file_atomically(target.c_str(), buffer, out_options); !w) {
    append(r.err, "%s: %s: %s\n", program_name, target.c_str(), describe(w.error()).c_str());
    r.ok = false;
    return;
  }
  if (opt.preserve_dates) {
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(AT_FDCWD, target.c_str(), times, 0) != 0)
      append(warnings, "%s: %s: warning: cannot preserve dates: %s\n", program_name, target.c_str(),
             std::strerror(errno));
  }
  if (outcome->module_signature)
    append(warnings, "%s: %s: warning: module signature removed (sign the stripped module again)\n", program_name,
           path.c_str());
  r.out = std::move(report_text);
  if (opt.report) {
    const auto& s = outcome->stats;
    append(r.out,
           "%s: summary: consumer %s, removed %u, retargeted %u symbols (%u relocations), resolved %u symbols (%u "
           "relocations), kept %u, section symbols added %u, sections removed %u, %llu -> %llu bytes\n",
           path.c_str(), to_string(outcome->consumer), s.symbols_removed, s.symbols_retargeted,
           s.relocations_retargeted, s.symbols_resolved, s.relocations_resolved, s.symbols_kept,
           s.section_symbols_added, s.sections_removed, static_cast<unsigned long long>(outcome->input_size),
           static_cast<unsigned long long>(outcome->output_size));
  }
  r.err += warnings;
}

[[noreturn]] void usage_error(const char* format, const char* arg) {
  std::fprintf(stderr, "%s: ", program_name);
  std::fprintf(stderr, format, arg);
  std::fprintf(stderr, "\nTry '%s --help' for more information.\n", program_name);
  std::exit(2);
}

bool read_names(const char* path, std::vector<std::string>& names) {
  auto mapped = elfsieve::mapped_file::open(path);
  if (!mapped) {
    std::fprintf(stderr, "%s: %s: %s\n", program_name, path, describe(mapped.error()).c_str());
    return false;
  }
  const auto bytes = mapped->bytes();
  auto list = elfsieve::parse_name_list(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  names.insert(names.end(), list.begin(), list.end());
  return true;
}

struct name_file_loader {
  std::string failed;
  elfsieve::result<std::string> operator()(std::string_view path) {
    const std::string p(path);
    auto mapped = elfsieve::mapped_file::open(p.c_str());
    if (!mapped) {
      failed = p;
      return mapped.error();
    }
    const auto bytes = mapped->bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && argv[0] != nullptr && argv[0][0] != '\0') program_name = argv[0];
  enum : int {
    opt_strip_unneeded = 256, opt_strip_symbols, opt_keep_symbols, opt_policy, opt_consumer, opt_unmerge,
    opt_report
  };
  static const option long_options[] = {
      {"strip-debug", no_argument, nullptr, 'g'},
      {"strip-unneeded", no_argument, nullptr, opt_strip_unneeded},
      {"strip-all", no_argument, nullptr, 's'},
      {"strip-symbol", required_argument, nullptr, 'N'},
      {"strip-symbols", required_argument, nullptr, opt_strip_symbols},
      {"keep-symbol", required_argument, nullptr, 'K'},
      {"keep-symbols", required_argument, nullptr, opt_keep_symbols},
      {"wildcard", no_argument, nullptr, 'w'},
      {"remove-section", required_argument, nullptr, 'R'},
      {"policy", required_argument, nullptr, opt_policy},
      {"consumer", required_argument, nullptr, opt_consumer},
      {"unmerge", no_argument, nullptr, opt_unmerge},
      {"report", no_argument, nullptr, opt_report},
      {"jobs", required_argument, nullptr, 'j'},
      {"output-file", required_argument, nullptr, 'o'},
      {"preserve-dates", no_argument, nullptr, 'p'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0}};
  options opt;
  const char* policy_text = nullptr;
  for (int c; (c = getopt_long(argc, argv, "o:gSdsN:K:wR:j:phV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 'o': opt.output = optarg; break;
      case 'g':
      case 'S':
      case 'd': opt.strip.strip_debug = true; break;
      case opt_strip_unneeded: opt.strip_unneeded = true; break;
      case 's': opt.strip_all = true; break;
      case 'N': opt.strip_names.emplace_back(optarg); break;
      case opt_strip_symbols:
        if (!read_names(optarg, opt.strip_names)) return 2;
        break;
      case 'K': opt.keep_names.emplace_back(optarg); break;
      case opt_keep_symbols:
        if (!read_names(optarg, opt.keep_names)) return 2;
        break;
      case 'w': opt.wildcard = true; break;
      case 'R': opt.remove_sections.emplace_back(optarg); break;
      case opt_policy: policy_text = optarg; break;
      case opt_consumer:
        if (std::strcmp(optarg, "auto") == 0) opt.strip.consumer = elfsieve::consumer_kind::automatic;
        else if (std::strcmp(optarg, "module") == 0) opt.strip.consumer = elfsieve::consumer_kind::module;
        else if (std::strcmp(optarg, "linker") == 0) opt.strip.consumer = elfsieve::consumer_kind::linker;
        else usage_error("invalid --consumer '%s' (expected auto, module or linker)", optarg);
        break;
      case opt_unmerge: opt.strip.unmerge = true; break;
      case opt_report: opt.report = true; break;
      case 'j': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || n < 1 || n > 1024) usage_error("invalid job count '%s'", optarg);
        opt.jobs = static_cast<unsigned>(n);
        break;
      }
      case 'p': opt.preserve_dates = true; break;
      case 'h': std::printf(usage_text, program_name); return 0;
      case 'V': std::puts("elfsieve-strip (elfsieve) 0.1.0"); return 0;
      default: std::fprintf(stderr, "Try '%s --help' for more information.\n", program_name); return 2;
    }
  }
  std::vector<std::string> files(argv + optind, argv + argc);
  if (files.empty()) usage_error("%s", "no input files");
  if (opt.output != nullptr && files.size() > 1) usage_error("%s", "-o needs exactly one input file");
  if (policy_text != nullptr) {
    name_file_loader loader;
    auto parsed = elfsieve::policy_expr::parse(policy_text, loader);
    if (!parsed) {
      const auto& e = parsed.error();
      if (e.code == elfsieve::errc::io_error)
        std::fprintf(stderr, "%s: --policy: cannot read names file '%s': %s\n", program_name, loader.failed.c_str(),
                     std::strerror(e.sys_errno));
      else
        std::fprintf(stderr, "%s: --policy: %s at position %llu:\n  %s\n  %*s^\n", program_name, e.message,
                     static_cast<unsigned long long>(e.detail.value_or(0)), policy_text, static_cast<int>(e.detail.value_or(0)), "");
      return 2;
    }
    opt.policy.emplace(std::move(parsed.value()));
  }

  selection sel;
  if (opt.wildcard) {
    if (!opt.strip_names.empty()) sel.strip_glob.emplace(opt.strip_names);
    if (!opt.keep_names.empty()) sel.keep_glob.emplace(opt.keep_names);
  } else {
    if (!opt.strip_names.empty()) sel.strip_exact.emplace(opt.strip_names);
    if (!opt.keep_names.empty()) sel.keep_exact.emplace(opt.keep_names);
  }
  if (!opt.remove_sections.empty()) sel.sections.emplace(opt.remove_sections);

  std::vector<file_result> results(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    std::vector<std::byte> buffer;
    for (std::size_t i; (i = next.fetch_add(1)) < files.size();) strip_one(opt, sel, files[i], results[i], buffer);
  };
  const unsigned threads = std::min<unsigned>(opt.jobs, static_cast<unsigned>(files.size()));
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  int status = 0;
  for (const auto& r : results) {
    if (!r.out.empty()) std::fwrite(r.out.data(), 1, r.out.size(), stdout);
    if (!r.err.empty()) std::fwrite(r.err.data(), 1, r.err.size(), stderr);
    if (!r.ok) status = 1;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error: %s\n", program_name, std::strerror(errno));
    return 1;
  }
  return status;
}
