// elfsieve-nm: list ELF symbols exactly as GNU nm 2.40 does (BSD format), through elfsieve's zero-copy views.
#include <getopt.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/analysis/nm_listing.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "tool.hpp"

namespace {

using tool::program_name;

struct options {
  elfsieve::nm_options list;
  bool file_per_symbol = false;  // -A, -o
  bool file_per_file = false;    // more than one file
  bool print_size = false;       // -S
  bool quiet = false;            // --quiet
  bool just_symbols = false;     // -j
  int radix = 16;                // -t
};

// All of stdout goes through one large buffer, written when it passes 1 MiB and before every message.
struct output {
  std::string text;
  output() { text.reserve((std::size_t{1} << 20) + 4096); }
  ~output() { flush(); }
  void flush() {
    std::fwrite(text.data(), 1, text.size(), stdout);
    text.clear();
    std::fflush(stdout);
  }
};

// binutils' non_fatal: flush stdout, then "nm: message".
template <class... A>
void report(output& out, const char* format, A... args) {
  out.flush();
  std::fprintf(stderr, "%s: ", program_name);
  std::fprintf(stderr, format, args...);
  std::fputc('\n', stderr);
}

// Lists one file; false when it could not be read (nm counts those in its exit status).
bool display_file(const char* path, const options& opt, elfsieve::nm_listing& listing, output& out) {
  struct stat st {};
  if (::stat(path, &st) < 0) {
    if (errno == ENOENT) report(out, "'%s': No such file", path);
    else report(out, "Warning: could not locate '%s'.  reason: %s", path, std::strerror(errno));
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    report(out, "Warning: '%s' is a directory", path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    report(out, "Warning: '%s' is not an ordinary file", path);
    return false;
  }
  if (st.st_size < 1) {  // GNU nm fails here without a word (exit status 1); elfsieve-nm says why
    report(out, "%s: file format not recognized (empty file)", path);
    return false;
  }

  // The stat above names the common refusals as GNU does; the open refuses them again (without blocking) if the
  // path changed in between.
  auto mapped = elfsieve::mapped_file::open(path);
  if (!mapped) {
    if (mapped.error().code == elfsieve::errc::not_regular_file)
      report(out, "Warning: '%s' is not an ordinary file", path);
    else report(out, "%s: %s", path, elfsieve::to_string(mapped.error()).c_str());
    return false;
  }
  // Nothing read from a file that shrank meanwhile is printed: the listing is checked before each flush and at
  // its end, and what is not yet printed is dropped.
  std::string& o = out.text;
  std::size_t unchecked_from = o.size();
  auto intact = [&] {
    auto ok = mapped->check_intact();
    if (ok) return true;
    o.resize(std::min(o.size(), unchecked_from));
    report(out, "%s: %s", path, elfsieve::to_string(ok.error()).c_str());
    return false;
  };
  elfsieve::list_nm_symbols(mapped->bytes(), opt.list, listing);
  if (!intact()) return false;
  using status = elfsieve::nm_listing::status;
  if (listing.corrupt_shstrndx) report(out, "warning: %s has a corrupt string table index", path);
  if (listing.state == status::unrecognized) {
    report(out, "%s: file format not recognized", path);
    return false;
  }
  if (opt.file_per_file && !opt.file_per_symbol) o.append("\n").append(path).append(":\n");
  if (listing.state == status::no_symbols) {
    if (!opt.quiet) report(out, "%s: no symbols", path);
    return true;
  }
  if (listing.state == status::bad_symbol_table) {
    report(out, "%s: %s", path, opt.list.dynamic ? "no symbols" : "file format not recognized");
    return opt.list.dynamic;
  }
  if (listing.relocations_error)
    report(out, "%s: warning: relocations unreadable (%s); --policy answers without them", path,
           elfsieve::to_string(*listing.relocations_error).c_str());
  const int width = listing.is64 ? 16 : 8;
  unchecked_from = o.size();
  for (const elfsieve::nm_entry& e : listing.entries) {
    if (opt.file_per_symbol) o.append(path).push_back(':');
    if (!opt.just_symbols) {
      if (e.info.undefined_class()) {
        o.append(static_cast<std::size_t>(width), ' ');
      } else {
        elfsieve::append_nm_value(o, e.info.value, width, opt.radix);
        if (opt.print_size && e.size != 0) {
          o.push_back(' ');
          elfsieve::append_nm_value(o, e.size, width, opt.radix);
        }
      }
      o.append(1, ' ').append(1, e.info.type).push_back(' ');
    }
    o.append(e.printed_name).append(e.version_separator).append(e.version);
    if (opt.list.why) o.append("\t[").append(e.why).push_back(']');
    o.push_back('\n');
    if (o.size() >= (std::size_t{1} << 20)) {
      if (!intact()) return false;
      out.flush();
      unchecked_from = 0;
    }
  }
  return intact();
}

[[noreturn]] void usage(FILE* stream, int status) {
  std::fprintf(stream, "Usage: %s [option(s)] [file(s)]\n", program_name);
  std::fputs(
      " List symbols in [file(s)] (a.out by default).\n"
      " The options are:\n"
      "  -a, --debug-syms       Display debugger-only symbols\n"
      "  -A, --print-file-name  Print name of the input file before every symbol\n"
      "  -B                     Same as --format=bsd\n"
      "  -D, --dynamic          Display dynamic symbols instead of normal symbols\n"
      "      --defined-only     Display only defined symbols\n"
      "  -e                     (ignored)\n"
      "  -f, --format=FORMAT    Use the output format FORMAT (only `bsd' and `just-symbols')\n"
      "  -g, --extern-only      Display only external symbols\n"
      "  -j, --just-symbols     Same as --format=just-symbols\n"
      "  -n, --numeric-sort     Sort symbols numerically by address\n"
      "  -o                     Same as -A\n"
      "  -p, --no-sort          Do not sort the symbols\n"
      "  -r, --reverse-sort     Reverse the sense of the sort\n"
      "  -S, --print-size       Print size of defined symbols\n"
      "      --quiet            Suppress \"no symbols\" diagnostic\n"
      "      --special-syms     Include special symbols in the output\n"
      "  -t, --radix=RADIX      Use RADIX for printing symbol values\n"
      "  -u, --undefined-only   Display only undefined symbols\n"
      "  -W, --no-weak          Ignore weak symbols\n"
      "      --with-symbol-versions  Display version strings after symbol names\n"
      "      --without-symbol-versions  Do not display version strings after symbol names\n"
      "  -X 32_64               (ignored)\n"
      "  -h, --help             Display this information\n"
      "  -V, --version          Display this program's version number\n"
      "\n"
      "elfsieve extensions:\n"
      "      --policy=EXPR      List only the symbols the policy EXPR matches (after the\n"
      "                         options above; file symbols are candidates without -a,\n"
      "                         section symbols never are)\n"
      "      --why              After each name, a tab and the part of the policy that\n"
      "                         matched it, in brackets: the first alternative of the\n"
      "                         top-level ',' or '|' that holds, e.g. <TAB>[ksymtab]\n"
      "\n"
      "Policy expressions (a malformed one is reported with its position; exit status 2):\n",
      stream);
  std::fputs(elfsieve::policy_grammar_help().c_str(), stream);
  std::fputs(
      "  Example: --policy='crc,ksymtab' --why;  --policy='debug&!name:*.c'\n"
      "\n"
      "elfsieve-nm reads ELF objects only; without --policy its output is that of GNU nm 2.40.\n",
      stream);
  std::exit(status);
}

// A bad option argument: GNU nm's message, then the usage-error convention of every elfsieve tool (exit status 2;
// GNU nm exits 1).
[[noreturn]] void fatal(const char* format, const char* arg) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: ", program_name);
  std::fprintf(stderr, format, arg);
  std::fputc('\n', stderr);
  std::exit(tool::try_help());
}

}  // namespace

int main(int argc, char** argv) {
  elfsieve::install_truncation_guard();
  std::setlocale(LC_COLLATE, "");
  options opt;
  if (const char* collate = std::setlocale(LC_COLLATE, nullptr))
    opt.list.order.use_strcoll = std::strcmp(collate, "C") != 0 && std::strcmp(collate, "POSIX") != 0;

  // clang-format off
  enum : int {
    opt_quiet = 300, opt_special_syms, opt_with_versions, opt_without_versions, opt_defined, opt_policy, opt_why
  };
  static const option long_options[] = {
      {"debug-syms", no_argument, nullptr, 'a'},     {"dynamic", no_argument, nullptr, 'D'},
      {"extern-only", no_argument, nullptr, 'g'},    {"format", required_argument, nullptr, 'f'},
      {"help", no_argument, nullptr, 'h'},           {"just-symbols", no_argument, nullptr, 'j'},
      {"no-sort", no_argument, nullptr, 'p'},        {"numeric-sort", no_argument, nullptr, 'n'},
      {"print-file-name", no_argument, nullptr, 'o'}, {"print-size", no_argument, nullptr, 'S'},
      {"quiet", no_argument, nullptr, opt_quiet},    {"radix", required_argument, nullptr, 't'},
      {"reverse-sort", no_argument, nullptr, 'r'},   {"special-syms", no_argument, nullptr, opt_special_syms},
      {"defined-only", no_argument, nullptr, opt_defined}, {"undefined-only", no_argument, nullptr, 'u'},
      {"version", no_argument, nullptr, 'V'},        {"no-weak", no_argument, nullptr, 'W'},
      {"with-symbol-versions", no_argument, nullptr, opt_with_versions},
      {"without-symbol-versions", no_argument, nullptr, opt_without_versions},
      {"policy", required_argument, nullptr, opt_policy}, {"why", no_argument, nullptr, opt_why},
      {nullptr, 0, nullptr, 0}};
  // clang-format on
  tool::set_program_name(argc, argv);
  std::vector<char*> args(argv, argv + argc);
  int c = 0;
  bool show_version = false;
  const char* policy_text = nullptr;
  elfsieve::nm_filter& filter = opt.list.filter;
  while ((c = getopt_long(argc, args.data(), "aABDef:ghHjnopPrSt:uU:vVWX:", long_options, nullptr)) != -1) {
    switch (c) {
      case 'a': filter.debug_syms = true; break;
      case 'A':
      case 'o': opt.file_per_symbol = true; break;
      case 'B':
      case 'e': break;
      case 'D': opt.list.dynamic = true; break;
      case 'f':
        if (optarg[0] == 'b' || optarg[0] == 'B') opt.just_symbols = false;
        else if (optarg[0] == 'j' || optarg[0] == 'J') opt.just_symbols = true;
        else if (optarg[0] == 'p' || optarg[0] == 'P' || optarg[0] == 's' || optarg[0] == 'S')
          fatal("%s: output format not supported by elfsieve-nm", optarg);
        else fatal("%s: invalid output format", optarg);
        break;
      case 'g': filter.extern_only = true; break;
      case 'h':
      case 'H': usage(stdout, 0);
      case 'j': opt.just_symbols = true; break;
      case 'n':
      case 'v': opt.list.order.sort = elfsieve::nm_sort::by_value; break;
      case 'p': opt.list.order.sort = elfsieve::nm_sort::none; break;
      case 'P': fatal("%s: output format not supported by elfsieve-nm", "posix");
      case 'r': opt.list.order.reverse = true; break;
      case 'S': opt.print_size = true; break;
      case 't':
        if (optarg[0] == 'x') opt.radix = 16;
        else if (optarg[0] == 'd') opt.radix = 10;
        else if (optarg[0] == 'o') opt.radix = 8;
        else fatal("%s: invalid radix", optarg);
        break;
      case 'u':
        filter.undefined_only = true;
        filter.defined_only = false;
        break;
      case 'U':
      case opt_defined:
        filter.defined_only = true;
        filter.undefined_only = false;
        break;
      case 'V': show_version = true; break;
      case 'W': filter.no_weak = true; break;
      case 'X':
        if (std::strcmp(optarg, "32_64") != 0) fatal("%s", "Only -X 32_64 is supported");
        break;
      case opt_quiet: opt.quiet = true; break;
      case opt_special_syms: filter.special_syms = true; break;
      case opt_with_versions: opt.list.with_versions = true; break;
      case opt_without_versions: opt.list.with_versions = false; break;
      case opt_policy: policy_text = optarg; break;
      case opt_why: opt.list.why = true; break;
      default: return tool::try_help();  // getopt said what is wrong; GNU nm prints the whole usage, exit 1
    }
  }
  if (show_version) {
    std::printf("elfsieve-nm (elfsieve) %s, output compatible with GNU nm 2.40\n", ELFSIEVE_VERSION);
    return 0;
  }
  if (opt.list.why && policy_text == nullptr) {
    std::fprintf(stderr, "%s: --why needs --policy\n", program_name);
    return tool::try_help();
  }
  std::optional<elfsieve::policy_expr> policy;
  if (policy_text != nullptr) {
    opt.list.policy = &policy.emplace(tool::parse_policy_or_exit(policy_text));
    filter.file_symbols = true;  // the debug policy is about file symbols
  }

  output out;
  elfsieve::nm_listing listing;
  if (optind == argc) return display_file("a.out", opt, listing, out) ? 0 : 1;
  opt.file_per_file = argc - optind > 1;
  int failures = 0;
  for (int i = optind; i < argc; ++i)
    if (!display_file(args[static_cast<std::size_t>(i)], opt, listing, out)) ++failures;
  out.flush();
  // GNU nm's status: the number of files it could not list; held below 256, where GNU's wraps around to 0.
  return std::min(failures, 255);
}
