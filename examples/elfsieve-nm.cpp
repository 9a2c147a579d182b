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
#include <span>
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

// An empty view may have no data at all (a default-constructed one): memcpy must not see its null pointer.
char* put(char* at, std::string_view s) {
  if (!s.empty()) std::memcpy(at, s.data(), s.size());
  return at + s.size();
}

// All of stdout goes through one 256 KiB buffer, written when the next line would not fit and before every
// message. A line longer than the buffer (a name can be as long as its string table) grows it.
struct output {
  static constexpr std::size_t capacity = std::size_t{256} << 10;
  std::vector<char> buffer = std::vector<char>(capacity);
  std::size_t used = 0;
  ~output() { flush(); }
  void flush() {
    std::fwrite(buffer.data(), 1, used, stdout);
    used = 0;
    std::fflush(stdout);
  }
  [[nodiscard]] bool fits(std::size_t n) const { return buffer.size() - used >= n; }
  // Room for n more bytes, after a flush if `intact` (the check that the file did not change) allows one.
  template <class Check>
  [[nodiscard]] char* room(std::size_t n, Check&& intact) {
    if (fits(n)) return buffer.data() + used;
    if (!intact()) return nullptr;
    flush();
    if (!fits(n)) buffer.resize(n);
    return buffer.data();
  }
  // Bytes that need no check of the file (headings; what earlier files printed was checked).
  void append(std::string_view s) {
    char* at = room(s.size(), [] { return true; });
    used += static_cast<std::size_t>(put(at, s) - at);
  }
};

// How many rows ahead the printing loop asks for a name's cache line.
constexpr std::size_t prefetch_distance = 16;

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
  std::size_t unchecked_from = out.used;
  auto intact = [&] {
    auto ok = mapped->check_intact();
    if (ok) return true;
    out.used = std::min(out.used, unchecked_from);
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
  const std::string_view file_name = path;
  if (opt.file_per_file && !opt.file_per_symbol) {
    out.append("\n");
    out.append(file_name);
    out.append(":\n");
  }
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
  const std::size_t path_room = opt.file_per_symbol ? file_name.size() + 1 : 0;
  unchecked_from = out.used;
  auto checked = [&] {
    if (!intact()) return false;
    unchecked_from = 0;
    return true;
  };
  const std::span<const elfsieve::nm_row> rows = listing.rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const elfsieve::nm_row& row = rows[i];
    // Sorted rows name strings all over the string table: ask for a later row's name while this one is written.
    if (i + prefetch_distance < rows.size()) __builtin_prefetch(rows[i + prefetch_distance].name);
    const std::string_view name = listing.printed_name(row.name);
    const elfsieve::nm_version_suffix version = listing.version(row);
    const std::string_view why = opt.list.why ? listing.why(row) : std::string_view{};
    const std::size_t text =
        name.size() + version.separator.size() + version.version.size() + (opt.list.why ? why.size() + 3 : 0);
    char* at = out.room(path_room + 2 * elfsieve::nm_value_room + 4 + text + 1, checked);
    if (at == nullptr) return false;
    char* const start = at;
    if (opt.file_per_symbol) {
      at = put(at, file_name);
      *at++ = ':';
    }
    if (!opt.just_symbols) {
      if (row.info().undefined_class()) {
        at = static_cast<char*>(std::memset(at, ' ', static_cast<std::size_t>(width))) + width;
      } else {
        at = elfsieve::write_nm_value(at, row.value, width, opt.radix);
        if (opt.print_size) {
          if (const std::uint64_t size = listing.size(row); size != 0) {
            *at++ = ' ';
            at = elfsieve::write_nm_value(at, size, width, opt.radix);
          }
        }
      }
      *at++ = ' ';
      *at++ = row.type;
      *at++ = ' ';
    }
    at = put(at, name);
    at = put(at, version.separator);
    at = put(at, version.version);
    if (opt.list.why) {
      at = put(at, "\t[");
      at = put(at, why);
      *at++ = ']';
    }
    *at++ = '\n';
    out.used += static_cast<std::size_t>(at - start);
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
    opt.list.order.use_strcoll = std::strcmp(collate, "C") != 0 && std::strcmp(collate, "POSIX") != 0 &&
                                 std::strcmp(collate, "C.UTF-8") != 0 && std::strcmp(collate, "C.utf8") != 0;

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
