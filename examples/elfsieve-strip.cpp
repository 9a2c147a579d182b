// elfsieve-strip: GNU strip's options for kernel builds and distributions, plus what GNU refuses: removing a symbol
// that relocations name, by retargeting those relocations to the section symbol. One process, many files, -j N.
#include <getopt.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "elfsieve/io/fd_sink.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/output_tree.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/strip/gnu_options.hpp"
#include "progress.hpp"
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
    "the caller must be allowed to write it) unless -o or --output-dir is given.\n"
    "\n"
    "  -o FILE                        write the output to FILE (one input only; a new file is created like GNU\n"
    "                                 strip's: 0666, 0777 for executables, minus the umask)\n"
    "      --output-dir=DIR           write each FILE's output to DIR/FILE, new files as -o creates them, and\n"
    "                                 the directories they need (the inputs are left as they are); a FILE must be\n"
    "                                 a relative path without '..' unless --relative-to is given; symbolic links\n"
    "                                 beneath DIR are never followed (one there is refused, or replaced by the\n"
    "                                 output); two FILEs with the same output are a usage error\n"
    "      --relative-to=PREFIX       with --output-dir: write each FILE to DIR/NAME, NAME its path relative to\n"
    "                                 PREFIX (both made absolute and normalized, as names, without looking them\n"
    "                                 up); every FILE must lie beneath PREFIX\n"
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
    "  -j, --jobs=N                   process N files at once (default: the number of CPUs this process may\n"
    "                                 use; the output does not depend on N)\n"
    "      --no-progress              no progress line (shown on standard error only when it is a terminal\n"
    "                                 and there are several files)\n"
    "  -p, --preserve-dates           keep the input's access and modification times\n"
    "  -h, --help                     display this help and exit\n"
    "  -V, --version                  display the version and exit\n"
    "\n"
    "Report lines: FILE: removed SYM | retargeted SYM: N relocations now name section SEC |\n"
    "resolved SYM: N relocations now absolute | kept SYM: REASON, then FILE: summary: ...\n"
    "Module signatures appended to a file are not copied (a warning says so; sign after stripping).\n"
    "Inputs must be ordinary files; one that shrinks while it is read is not written (\"file truncated\").\n"
    "Messages and report lines come in the order of the FILEs, whatever N is.\n"
    "Exit status: 0 on success, 1 if any file could not be stripped (that file and any previous output are\n"
    "left untouched; the other files are still processed), 2 on a usage error (nothing is written).\n";

struct options {
  bool report = false, preserve_dates = false;
  const char* output = nullptr;
  const char* output_dir = nullptr;
  mode_t umask = 022;  // --output-dir: read once, for the mode of every new file
};

// --output-dir: each output's directory beneath the tree, opened (and created) when its first file needs it and
// closed after its last, so the open descriptors stay few however many directories the tree has.
class output_dirs {
 public:
  output_dirs(const elfsieve::output_tree& tree, const std::vector<std::string>& names) : tree_(tree) {
    std::unordered_map<std::string_view, std::size_t> index;
    slot_of_file_.reserve(names.size());
    for (const auto& name : names) {
      const auto slash = name.rfind('/');
      const auto dir = slash == std::string::npos ? std::string_view{} : std::string_view(name).substr(0, slash);
      const auto [at, added] = index.try_emplace(dir, slots_.size());
      if (added) slots_.push_back(slot{std::string(dir), 0, {}, false, 0, 0});
      slot_of_file_.push_back(at->second);
      ++slots_[at->second].remaining;
    }
  }

  // The directory of file i's output, or -1 with the reason (the directory named, as DIR/SUB) in `why`.
  int acquire(std::size_t file, const char* dir_name, std::string& why) {
    const std::lock_guard<std::mutex> hold(lock_);
    slot& s = slots_[slot_of_file_[file]];
    if (s.path.empty()) return tree_.fd();
    if (!s.tried) {
      s.tried = true;
      std::size_t failed = 0;
      auto fd = tree_.directory(s.path, failed);
      if (fd) {
        s.fd = std::move(*fd);
      } else {
        s.err = fd.error().sys_errno;
        s.failed = failed;
      }
    }
    if (s.fd.get() < 0) {
      const int n = static_cast<int>(s.failed);
      if (s.err == ELOOP)
        tool::appendf(why, "%s/%.*s: a symbolic link, not followed under --output-dir", dir_name, n, s.path.c_str());
      else tool::appendf(why, "%s/%.*s: %s", dir_name, n, s.path.c_str(), std::strerror(s.err));
    }
    return s.fd.get();
  }

  void release(std::size_t file) {
    const std::lock_guard<std::mutex> hold(lock_);
    slot& s = slots_[slot_of_file_[file]];
    if (--s.remaining == 0) s.fd.reset();
  }

 private:
  struct slot {
    std::string path;
    std::size_t remaining;
    elfsieve::unique_fd fd;
    bool tried;
    int err;
    std::size_t failed;
  };
  const elfsieve::output_tree& tree_;
  std::vector<slot> slots_;
  std::vector<std::size_t> slot_of_file_;
  std::mutex lock_;
};

// Where one file's output goes.
struct destination {
  const char* path;  // for messages: the input (in place), -o FILE, or DIR/NAME
  int dir = -1;      // --output-dir: the directory, and the output's last component in it
  const char* name = nullptr;
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

void strip_one(const options& opt, const elfsieve::gnu_strip& strip, const std::string& path, const destination& to,
               file_result& r) {
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
  // links and attributes; -o and --output-dir: a new file as GNU strip creates it. The output goes into
  // output_file's temporary; nothing is committed unless the strip succeeded and the input stayed intact.
  const char* target = to.path;
  const bool executable = elfsieve::is_executable_elf(mapped->bytes());
  auto out = [&] {
    if (to.dir >= 0) {
      elfsieve::output_file::create_options mode;
      mode.mode = static_cast<int>((executable ? 0777 : 0666) & ~opt.umask);
      return elfsieve::output_file::create_at(to.dir, to.name, executable, mode);
    }
    if (opt.output != nullptr) return elfsieve::output_file::create(target, executable);
    return elfsieve::output_file::replace(target, st);
  }();
  if (!out) return fail(target, to_string(out.error()));
  // One pwritev of the output, the kept bytes straight from the mapping (fd_sink.hpp); one sink per thread, its
  // buffers reused from file to file.
  thread_local elfsieve::gathered_fd_sink sink(-1, {});
  sink.reset(out->fd(), mapped->bytes());
  auto outcome = strip.run(mapped->bytes(), report, sink);
  elfsieve::result<void> written;
  if (outcome) written = sink.finish();
  // A file that shrank while it was read gave zeros for the missing bytes: nothing of it may be written.
  if (auto intact = mapped->check_intact(); !intact) return fail(path.c_str(), to_string(intact.error()));
  // I/O errors are the output's; anything else is the input's.
  if (!outcome) return fail(is_io_error(outcome.error().code) ? target : path.c_str(), to_string(outcome.error()));
  if (!written) return fail(target, to_string(written.error()));
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

// --output-dir: every FILE's output name, or a usage error (exit 2, nothing written) for a FILE that has none and
// for two FILEs with one output, or an output where another needs a directory.
std::vector<std::string> mirrored_names(const std::vector<std::string>& files, const char* dir, const char* prefix) {
  std::string cwd;
  if (prefix != nullptr) {
    std::vector<char> buffer(4096);
    while (::getcwd(buffer.data(), buffer.size()) == nullptr) {
      if (errno != ERANGE) tool::usage_error("cannot get the working directory: %s", std::strerror(errno));
      buffer.resize(buffer.size() * 2);
    }
    cwd = buffer.data();
  }
  std::vector<std::string> names;
  names.reserve(files.size());
  for (const auto& f : files) {
    auto m = elfsieve::mirror_name(f, prefix != nullptr ? prefix : "", cwd);
    if (m.refusal == elfsieve::mirror_refusal::outside_prefix)
      tool::usage_error("%s: not beneath --relative-to %s", f.c_str(), prefix);
    if (!m) {
      const bool hint = m.refusal == elfsieve::mirror_refusal::absolute_path ||
                        m.refusal == elfsieve::mirror_refusal::parent_component;
      tool::usage_error("%s: %s%s", f.c_str(), to_string(m.refusal),
                        hint ? " (--relative-to=PREFIX names the part to leave out)" : "");
    }
    names.push_back(std::move(m.name));
  }
  std::vector<std::size_t> order(files.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (names[order[k - 1]] == names[order[k]])
      tool::usage_error("%s and %s would both be written to %s/%s", files[order[k - 1]].c_str(),
                        files[order[k]].c_str(), dir, names[order[k]].c_str());
  }
  std::unordered_set<std::string_view> directories;
  for (const auto& n : names)
    for (std::size_t slash = n.find('/'); slash != std::string::npos; slash = n.find('/', slash + 1))
      directories.insert(std::string_view(n).substr(0, slash));
  for (std::size_t i = 0; i < names.size(); ++i)
    if (directories.count(names[i]) != 0)
      tool::usage_error("%s would be written to %s/%s, which other files need as a directory", files[i].c_str(), dir,
                        names[i].c_str());
  return names;
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
    opt_strip_unneeded = 256, opt_strip_symbols, opt_keep_symbols, opt_policy, opt_consumer, opt_unmerge, opt_report,
    opt_output_dir, opt_relative_to, opt_no_progress
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
      {"output-dir", required_argument, nullptr, opt_output_dir},
      {"relative-to", required_argument, nullptr, opt_relative_to},
      {"no-progress", no_argument, nullptr, opt_no_progress},
      {"help", no_argument, nullptr, 'h'},                 {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0}};
  // clang-format on
  options opt;
  elfsieve::gnu_strip_options gnu;
  const char* policy_text = nullptr;
  const char* relative_to = nullptr;
  unsigned jobs = 0;  // 0: the default, the CPUs
  bool show_progress = true;
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
      case 'j': jobs = tool::parse_jobs_or_exit(optarg); break;
      case opt_output_dir: opt.output_dir = optarg; break;
      case opt_relative_to: relative_to = optarg; break;
      case opt_no_progress: show_progress = false; break;
      case 'p': opt.preserve_dates = true; break;
      case 'h': std::printf(usage_text, program_name); return 0;
      case 'V': std::printf("elfsieve-strip (elfsieve) %s\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  std::vector<std::string> files(argv + optind, argv + argc);
  if (files.empty()) tool::usage_error("%s", "no input files");
  if (opt.output != nullptr && files.size() > 1) tool::usage_error("%s", "-o needs exactly one input file");
  if (opt.output != nullptr && opt.output_dir != nullptr)
    tool::usage_error("%s", "-o and --output-dir exclude each other");
  if (relative_to != nullptr && opt.output_dir == nullptr) tool::usage_error("%s", "--relative-to needs --output-dir");
  if (opt.output_dir != nullptr && *opt.output_dir == '\0') tool::usage_error("%s", "empty --output-dir");
  if (policy_text != nullptr) gnu.policy.emplace(tool::parse_policy_or_exit(policy_text));
  const elfsieve::gnu_strip strip(std::move(gnu));

  // --output-dir: every name is checked before anything is written; then the tree is opened (created).
  std::vector<std::string> names, targets;
  std::optional<elfsieve::output_tree> tree;
  std::optional<output_dirs> dirs;
  std::string dir_name;
  if (opt.output_dir != nullptr) {
    dir_name = opt.output_dir;
    while (dir_name.size() > 1 && dir_name.back() == '/') dir_name.pop_back();
    names = mirrored_names(files, dir_name.c_str(), relative_to);
    auto opened = elfsieve::output_tree::open(opt.output_dir);
    if (!opened) {
      tool::print_file_error(opt.output_dir, opened.error());
      return tool::exit_file_error;
    }
    tree.emplace(std::move(*opened));
    dirs.emplace(*tree, names);
    opt.umask = elfsieve::process_umask();
    targets.reserve(names.size());
    for (const auto& n : names) {
      std::string target = dir_name == "/" ? std::string() : dir_name;
      target.append("/").append(n);
      targets.push_back(std::move(target));
    }
  }

  if (jobs == 0) jobs = files.size() > 1 ? tool::default_jobs() : 1;
  std::vector<file_result> results(files.size());
  tool::progress bar(files.size(), show_progress);
  bool stdout_failed = false;
  auto work = [&](std::size_t i) {
    destination to{files[i].c_str()};
    if (opt.output != nullptr) to.path = opt.output;
    if (!dirs) return strip_one(opt, strip, files[i], to, results[i]);
    to.path = targets[i].c_str();
    const auto slash = names[i].rfind('/');
    to.name = names[i].c_str() + (slash == std::string::npos ? 0 : slash + 1);
    std::string why;
    to.dir = dirs->acquire(i, dir_name.c_str(), why);
    if (to.dir >= 0) strip_one(opt, strip, files[i], to, results[i]);
    else {
      appendf(results[i].err, "%s: %s: %s\n", program_name, to.path, why.c_str());
      results[i].ok = false;
    }
    dirs->release(i);
  };
  int status = 0;
  auto emit = [&](std::size_t i) {
    file_result& r = results[i];
    if (!r.out.empty() || !r.err.empty()) bar.clear();
    if (!r.out.empty() && std::fwrite(r.out.data(), 1, r.out.size(), stdout) != r.out.size()) stdout_failed = true;
    if (!r.err.empty()) {
      std::fflush(stdout);
      std::fwrite(r.err.data(), 1, r.err.size(), stderr);
    }
    if (!r.ok) status = 1;
    r = file_result{};  // emitted: its memory goes back now, not at the end of the batch
  };
  tool::run_batch(files.size(), jobs, bar, work, emit);
  if (std::fflush(stdout) != 0 || stdout_failed) {
    std::fprintf(stderr, "%s: write error: %s\n", program_name, std::strerror(errno));
    return 1;
  }
  return status;
}
