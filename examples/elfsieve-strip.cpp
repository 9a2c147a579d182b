// elfsieve-strip: GNU strip's options for kernel builds and distributions, plus what GNU refuses: removing a symbol
// that relocations name, by retargeting those relocations to the section symbol. One process, many files, -j N.
#include <getopt.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "elfsieve/io/fd_sink.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/strip/gnu_options.hpp"
#include "tool.hpp"

namespace {

using tool::appendf;
using tool::program_name;

constexpr const char* usage_text =
    "Usage: %s [OPTION]... FILE...\n"
    "Remove sections and symbols from ELF objects (kernel modules, .o files, executables), like GNU strip,\n"
    "and also symbols that relocations name: their relocations are retargeted to the section symbol with the\n"
    "symbol's value folded into the addend (or resolved, for absolute symbols), wherever that means the same\n"
    "thing to the consumer; otherwise the symbol stays and a warning says why. Each FILE is replaced in place\n"
    "(through a temporary file in the same directory; owner, mode, hard links and extended attributes kept;\n"
    "the caller must be allowed to write it) unless -o is given.\n"
    "\n"
    "  -o FILE                        write the output to FILE (one input only; a new file is created like GNU\n"
    "                                 strip's: 0666, 0777 for executables, minus the umask)\n"
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
    "Inputs must be ordinary files; one that shrinks while it is read is not written (\"file truncated\").\n"
    "Exit status: 0 on success, 1 if any file could not be stripped (that file and any previous output are\n"
    "left untouched; the other files are still processed), 2 on a usage error.\n";

struct options {
  bool report = false, preserve_dates = false;
  const char* output = nullptr;
};

struct file_result {
  std::string out, err;
  bool ok = true;
};

// The report line of one symbol decision (--report), and a warning when a removal asked by name or policy was
// refused; remove-if-unreferenced symbols that are needed are exactly what --strip-unneeded and --strip-all keep.
void describe(const elfsieve::symbol_report& s, const char* path, bool report, std::string& lines,
              std::string& warnings) {
  using elfsieve::symbol_action;
  const auto& d = s.decision;
  const int n = static_cast<int>(s.name.size());
  const char* name = s.name.data();
  if (d.action == symbol_action::remove && report) appendf(lines, "%s: removed %.*s\n", path, n, name);
  if (d.action == symbol_action::retarget && report)
    appendf(lines, "%s: retargeted %.*s: %u relocations now name section %.*s\n", path, n, name, d.relocations,
            static_cast<int>(s.target_section.size()), s.target_section.data());
  if (d.action == symbol_action::resolve && report)
    appendf(lines, "%s: resolved %.*s: %u relocations now absolute\n", path, n, name, d.relocations);
  if (d.action != symbol_action::keep) return;
  const char* why = to_string(d.reason);
  const int tn = static_cast<int>(s.reloc_type.size());
  const char* open = tn != 0 ? " (" : "";
  const char* close = tn != 0 ? ")" : "";
  if (report) appendf(lines, "%s: kept %.*s: %s%s%.*s%s\n", path, n, name, why, open, tn, s.reloc_type.data(), close);
  if (d.request == elfsieve::symbol_request::remove)
    appendf(warnings, "%s: %s: warning: keeping %.*s: %s%s%.*s%s\n", program_name, path, n, name, why, open, tn,
            s.reloc_type.data(), close);
}

void strip_one(const options& opt, const elfsieve::gnu_strip& strip, const std::string& path, file_result& r) {
  auto fail = [&](const char* file, const std::string& message) {
    appendf(r.err, "%s: %s: %s\n", program_name, file, message.c_str());
    r.ok = false;
  };
  auto mapped = elfsieve::mapped_file::open(path.c_str());
  if (!mapped) return fail(path.c_str(), to_string(mapped.error()));
  // The status taken at open, before any byte is read: the inode replaced in place, and the times -p keeps.
  const struct stat& st = mapped->status();

  std::string report_text, warnings;
  auto report = [&](const elfsieve::symbol_report& s) { describe(s, path.c_str(), opt.report, report_text, warnings); };
  // In place: the file read must be the file replaced (output_file checks the inode), with its owner, mode,
  // links and attributes; -o: a new file as GNU strip creates it. The output is written into output_file's
  // temporary as it is produced; nothing is committed unless the strip succeeded and the input stayed intact.
  const char* target = opt.output != nullptr ? opt.output : path.c_str();
  auto out = opt.output != nullptr ? elfsieve::output_file::create(target, elfsieve::is_executable_elf(mapped->bytes()))
                                   : elfsieve::output_file::replace(target, st);
  if (!out) return fail(target, to_string(out.error()));
  elfsieve::fd_sink sink(out->fd());
  auto outcome = strip.run(mapped->bytes(), report, sink);
  // A file that shrank while it was read gave zeros for the missing bytes: nothing of it may be written.
  if (auto intact = mapped->check_intact(); !intact) return fail(path.c_str(), to_string(intact.error()));
  // I/O errors are the output's; anything else is the input's.
  if (!outcome) return fail(is_io_error(outcome.error().code) ? target : path.c_str(), to_string(outcome.error()));
  elfsieve::commit_options commit;
  if (opt.preserve_dates) commit.times = std::array<struct timespec, 2>{st.st_atim, st.st_mtim};
  if (auto w = out->commit(commit); !w) return fail(target, to_string(w.error()));
  if (outcome->module_signature)
    appendf(warnings, "%s: %s: warning: module signature removed (sign the stripped module again)\n", program_name,
            path.c_str());
  r.out = std::move(report_text);
  if (opt.report) {
    const auto& s = outcome->stats;
    appendf(r.out,
            "%s: summary: consumer %s, removed %u, retargeted %u symbols (%u relocations), resolved %u symbols (%u "
            "relocations), kept %u, section symbols added %u, sections removed %u, %llu -> %llu bytes\n",
            path.c_str(), to_string(outcome->consumer), s.symbols_removed, s.symbols_retargeted,
            s.relocations_retargeted, s.symbols_resolved, s.relocations_resolved, s.symbols_kept,
            s.section_symbols_added, s.sections_removed, static_cast<unsigned long long>(outcome->input_size),
            static_cast<unsigned long long>(outcome->output_size));
  }
  r.err += warnings;
}

// --strip-symbols / --keep-symbols: objcopy's list format.
void read_names(const char* path, std::vector<std::string>& names) {
  auto list = elfsieve::parse_name_list(tool::read_text_or_exit(path));
  names.insert(names.end(), list.begin(), list.end());
}

}  // namespace

int main(int argc, char** argv) {
  elfsieve::install_truncation_guard();
  tool::set_program_name(argc, argv);
  // clang-format off
  enum : int {
    opt_strip_unneeded = 256, opt_strip_symbols, opt_keep_symbols, opt_policy, opt_consumer, opt_unmerge, opt_report
  };
  static const option long_options[] = {
      {"strip-debug", no_argument, nullptr, 'g'}, {"strip-unneeded", no_argument, nullptr, opt_strip_unneeded},
      {"strip-all", no_argument, nullptr, 's'},            {"strip-symbol", required_argument, nullptr, 'N'},
      {"strip-symbols", required_argument, nullptr, opt_strip_symbols},
      {"keep-symbol", required_argument, nullptr, 'K'},
      {"keep-symbols", required_argument, nullptr, opt_keep_symbols}, {"wildcard", no_argument, nullptr, 'w'},
      {"remove-section", required_argument, nullptr, 'R'}, {"policy", required_argument, nullptr, opt_policy},
      {"consumer", required_argument, nullptr, opt_consumer}, {"unmerge", no_argument, nullptr, opt_unmerge},
      {"report", no_argument, nullptr, opt_report},        {"jobs", required_argument, nullptr, 'j'},
      {"output-file", required_argument, nullptr, 'o'},    {"preserve-dates", no_argument, nullptr, 'p'},
      {"help", no_argument, nullptr, 'h'},                 {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0}};
  // clang-format on
  options opt;
  elfsieve::gnu_strip_options gnu;
  const char* policy_text = nullptr;
  unsigned jobs = 1;
  for (int c; (c = getopt_long(argc, argv, "o:gSdsN:K:wR:j:phV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 'o': opt.output = optarg; break;
      case 'g':
      case 'S':
      case 'd': gnu.plan.strip_debug = true; break;
      case opt_strip_unneeded: gnu.strip_unneeded = true; break;
      case 's': gnu.strip_all = true; break;
      case 'N': gnu.strip_symbols.emplace_back(optarg); break;
      case opt_strip_symbols: read_names(optarg, gnu.strip_symbols); break;
      case 'K': gnu.keep_symbols.emplace_back(optarg); break;
      case opt_keep_symbols: read_names(optarg, gnu.keep_symbols); break;
      case 'w': gnu.wildcard = true; break;
      case 'R': gnu.remove_sections.emplace_back(optarg); break;
      case opt_policy: policy_text = optarg; break;
      case opt_consumer:
        if (std::strcmp(optarg, "auto") == 0) gnu.plan.consumer = elfsieve::consumer_kind::automatic;
        else if (std::strcmp(optarg, "module") == 0) gnu.plan.consumer = elfsieve::consumer_kind::module;
        else if (std::strcmp(optarg, "linker") == 0) gnu.plan.consumer = elfsieve::consumer_kind::linker;
        else tool::usage_error("invalid --consumer '%s' (expected auto, module or linker)", optarg);
        break;
      case opt_unmerge: gnu.plan.unmerge = true; break;
      case opt_report: opt.report = true; break;
      case 'j': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || n < 1 || n > 1024) tool::usage_error("invalid job count '%s'", optarg);
        jobs = static_cast<unsigned>(n);
        break;
      }
      case 'p': opt.preserve_dates = true; break;
      case 'h': std::printf(usage_text, program_name); return 0;
      case 'V': std::printf("elfsieve-strip (elfsieve) %s\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  std::vector<std::string> files(argv + optind, argv + argc);
  if (files.empty()) tool::usage_error("%s", "no input files");
  if (opt.output != nullptr && files.size() > 1) tool::usage_error("%s", "-o needs exactly one input file");
  if (policy_text != nullptr) gnu.policy.emplace(tool::parse_policy_or_exit(policy_text));
  const elfsieve::gnu_strip strip(std::move(gnu));

  std::vector<file_result> results(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < files.size();) strip_one(opt, strip, files[i], results[i]);
  };
  const unsigned threads = std::min<unsigned>(jobs, static_cast<unsigned>(files.size()));
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
