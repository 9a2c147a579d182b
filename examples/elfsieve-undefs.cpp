// elfsieve-undefs: the undefined symbols of kernel module objects, as scripts/gen_autoksyms.sh computes them,
// for hundreds of modules in one process.
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/kernel/autoksyms.hpp"
#include "elfsieve/read/open.hpp"
#include "tool.hpp"

namespace {

constexpr const char* usage_text =
    "Usage: %s [OPTION]... FILE...\n"
    "List the symbols that kernel module objects (.o, .ko) need from the kernel, the way\n"
    "scripts/gen_autoksyms.sh does: the symbols `nm` shows as U, a leading '.' (ppc64 ELFv1) removed,\n"
    "sorted bytewise, unique, without __this_module.\n"
    "\n"
    "  -f, --format=FORMAT     list: one name per line (default); autoksyms-h: the autoksyms.h header\n"
    "  -w, --whitelist=FILE    also take the whitespace-separated names in FILE\n"
    "                          (CONFIG_UNUSED_KSYMS_WHITELIST)\n"
    "  -m, --module-layout     also need module_layout (kernels with CONFIG_MODVERSIONS)\n"
    "  -c, --check=FILE        print nothing and exit 0 when FILE (an autoksyms.h, or a name list) already\n"
    "                          covers every needed symbol, so no relink is needed; otherwise print the\n"
    "                          missing names and exit 3\n"
    "  -T, --files-from=FILE   read further object names from FILE, one per line ('-' for standard input)\n"
    "  -o, --output=FILE       write to FILE (replaced atomically) instead of standard output\n"
    "  -h, --help              display this help and exit\n"
    "  -V, --version           display the version and exit\n"
    "\n"
    "Exit status: 0 on success, 1 if an object or the output could not be processed (the other objects\n"
    "are still read, nothing is written), 2 on a usage error (including an option's FILE that cannot be\n"
    "read), 3 when --check finds missing symbols.\n";

// --check's answer "not covered": a result, not a failure, so it stays apart from 1 and 2.
constexpr int exit_check_missing = 3;

}  // namespace

int main(int argc, char** argv) {
  elfsieve::install_truncation_guard();
  tool::set_program_name(argc, argv);
  enum class format { list, autoksyms_h } fmt = format::list;
  std::vector<const char*> whitelists, lists;
  const char* check_file = nullptr;
  const char* output_file = nullptr;
  std::vector<std::string> files;
  bool module_layout = false;

  // clang-format off
  static const option long_options[] = {
      {"format", required_argument, nullptr, 'f'},      {"whitelist", required_argument, nullptr, 'w'},
      {"module-layout", no_argument, nullptr, 'm'},     {"check", required_argument, nullptr, 'c'},
      {"files-from", required_argument, nullptr, 'T'},  {"output", required_argument, nullptr, 'o'},
      {"help", no_argument, nullptr, 'h'},              {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0}};
  // clang-format on
  for (int c; (c = getopt_long(argc, argv, "f:w:mc:T:o:hV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 'f':
        if (std::strcmp(optarg, "list") == 0) fmt = format::list;
        else if (std::strcmp(optarg, "autoksyms-h") == 0) fmt = format::autoksyms_h;
        else tool::usage_error("unknown format '%s' (expected list or autoksyms-h)", optarg);
        break;
      case 'w': whitelists.push_back(optarg); break;
      case 'm': module_layout = true; break;
      case 'c': check_file = optarg; break;
      case 'T': lists.push_back(optarg); break;
      case 'o': output_file = optarg; break;
      case 'h': std::printf(usage_text, tool::program_name); return 0;
      case 'V': std::printf("elfsieve-undefs (elfsieve) %s\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  for (int i = optind; i < argc; ++i) files.emplace_back(argv[i]);
  for (const char* list : lists) {
    const std::string text = std::strcmp(list, "-") == 0 ? tool::read_stdin_or_exit() : tool::read_text_or_exit(list);
    for (std::size_t pos = 0, eol = 0; pos < text.size(); pos = eol + 1) {
      eol = std::min(text.find('\n', pos), text.size());
      if (eol > pos) files.push_back(text.substr(pos, eol - pos));
    }
  }
  if (files.empty()) tool::usage_error("no input files");

  elfsieve::kernel::needed_symbols needed;
  bool trouble = false;
  for (const auto& path : files) {
    auto mapped = elfsieve::mapped_file::open(path.c_str());
    auto add = [&](std::string_view name) { needed.add(name); };
    auto done =
        mapped ? elfsieve::kernel::for_each_undefined(mapped->bytes(), add) : elfsieve::result<void>(mapped.error());
    if (mapped) {
      if (auto intact = mapped->check_intact(); !intact) done = intact.error();  // file truncated: exit status 1
    }
    if (!done) {
      tool::print_file_error(path.c_str(), done.error());
      trouble = true;
    }
  }
  if (module_layout) needed.add("module_layout");
  for (const char* w : whitelists) needed.add_words(tool::read_text_or_exit(w));
  if (trouble) return tool::exit_file_error;

  std::string out;
  int status = 0;
  elfsieve::kernel::needed_symbols known;
  if (check_file != nullptr) elfsieve::kernel::add_known_symbols(known, tool::read_text_or_exit(check_file));
  if (check_file == nullptr && fmt == format::autoksyms_h) out = needed.autoksyms_header();
  else
    for (const auto& name : needed.sorted()) {
      if (known.contains(name)) continue;  // --check: only the missing names, then exit status 3
      out.append(name).push_back('\n');
      status = check_file != nullptr ? exit_check_missing : 0;
    }
  if (output_file != nullptr) {
    const auto bytes = std::as_bytes(std::span(out.data(), out.size()));
    if (auto w = elfsieve::write_file_atomically(output_file, bytes); !w) {
      tool::print_file_error(output_file, w.error());
      return tool::exit_file_error;
    }
  } else if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error: %s\n", tool::program_name, std::strerror(errno));
    return tool::exit_file_error;
  }
  return status;
}
