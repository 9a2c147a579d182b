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

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/analysis/nm_type.hpp"

namespace {

// Like GNU nm, the tool names itself in messages by argv[0] (set in main).
const char* program_name = "elfsieve-nm";

struct options {
  bool debug_syms = false;        // -a
  bool file_per_symbol = false;   // -A, -o
  bool dynamic = false;           // -D
  bool extern_only = false;       // -g
  bool defined_only = false;      // --defined-only
  bool undefined_only = false;    // -u
  bool no_weak = false;           // -W
  bool no_sort = false;           // -p
  bool numeric = false;           // -n, -v
  bool reverse = false;           // -r
  bool print_size = false;        // -S
  bool quiet = false;             // --quiet
  bool special_syms = false;      // --special-syms
  bool with_versions = true;      // --with-symbol-versions (default) / --without-symbol-versions
  bool just_symbols = false;      // -j
  int radix = 16;                 // -t
  bool file_per_file = false;     // more than one file
  bool use_strcoll = false;       // LC_COLLATE is not C/POSIX
  std::optional<elfsieve::policy_expr> policy;  // --policy: list only the symbols it matches
  bool why = false;               // --why: print the part of the policy that matched
};

// All of stdout goes through one large buffer.
class output {
 public:
  output() { buf_.reserve(capacity + 4096); }
  ~output() { flush(); }
  output(const output&) = delete;
  output& operator=(const output&) = delete;

  void put(char c) {
    buf_.push_back(c);
    maybe_flush();
  }
  void put(std::string_view s) {
    buf_.append(s);
    maybe_flush();
  }
  // `value` in `radix` with at least `width` digits, zero-padded (printf "%0*" PRIx64 and friends).
  void number(std::uint64_t value, int width, int radix) {
    char tmp[32];
    int n = 0;
    if (radix == 10) {
      // GNU prints PRId64 (signed) for -t d.
      const auto v = static_cast<std::int64_t>(value);
      const int len = std::snprintf(tmp, sizeof tmp, "%0*lld", width, static_cast<long long>(v));
      buf_.append(tmp, static_cast<std::size_t>(len));
      maybe_flush();
      return;
    }
    const unsigned shift = radix == 8 ? 3u : 4u;
    const std::uint64_t mask = radix == 8 ? 7u : 15u;
    do {
      tmp[n++] = "0123456789abcdef"[value & mask];
      value >>= shift;
    } while (value != 0);
    for (int i = n; i < width; ++i) buf_.push_back('0');
    while (n > 0) buf_.push_back(tmp[--n]);
    maybe_flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
    std::fflush(stdout);
  }

 private:
  static constexpr std::size_t capacity = std::size_t{1} << 20;
  void maybe_flush() {
    if (buf_.size() >= capacity) {
      std::fwrite(buf_.data(), 1, buf_.size(), stdout);
      buf_.clear();
    }
  }
  std::string buf_;
};

// binutils' non_fatal: flush stdout, then "nm: message".
template <class... A>
void report(output& out, const char* format, A... args) {
  out.flush();
  std::fprintf(stderr, "%s: ", program_name);
  std::fprintf(stderr, format, args...);
  std::fputc('\n', stderr);
}

// One listed symbol; sorted as a flat array.
struct entry {
  std::string_view name;
  elfsieve::nm_symbol info;
  std::uint64_t size;
  std::uint32_t index;
  std::string_view why;  // --why: the part of the policy that matched
};

// nm.c non_numeric_forward: empty names first, then strcoll (strcmp in the C locale).
int compare_names(std::string_view x, std::string_view y, bool use_strcoll) {
  if (y.empty()) return x.empty() ? 0 : 1;
  if (x.empty()) return -1;
  if (use_strcoll) return std::strcoll(x.data(), y.data());  // names are NUL-terminated in their table
  const int c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// nm.c numeric_forward: undefined symbols first, then by value, then by name.
int compare_numeric(const entry& x, const entry& y, bool use_strcoll) {
  const bool xu = x.info.place == elfsieve::nm_place::undefined;
  const bool yu = y.info.place == elfsieve::nm_place::undefined;
  if (xu) {
    if (!yu) return -1;
  } else if (yu) {
    return 1;
  } else if (x.info.value != y.info.value) {
    return x.info.value < y.info.value ? -1 : 1;
  }
  return compare_names(x.name, y.name, use_strcoll);
}

void sort_entries(std::vector<entry>& list, const options& opt) {
  // glibc's qsort is a stable merge sort for these sizes, so equal keys keep symbol-table order, reversed or not.
  const bool strcoll_names = opt.use_strcoll;
  if (opt.numeric) {
    if (opt.reverse)
      std::stable_sort(list.begin(), list.end(),
                       [&](const entry& a, const entry& b) { return compare_numeric(a, b, strcoll_names) > 0; });
    else
      std::stable_sort(list.begin(), list.end(),
                       [&](const entry& a, const entry& b) { return compare_numeric(a, b, strcoll_names) < 0; });
  } else {
    if (opt.reverse)
      std::stable_sort(list.begin(), list.end(),
                       [&](const entry& a, const entry& b) { return compare_names(a.name, b.name, strcoll_names) > 0; });
    else
      std::stable_sort(list.begin(), list.end(),
                       [&](const entry& a, const entry& b) { return compare_names(a.name, b.name, strcoll_names) < 0; });
  }
}

// ARM and AArch64 mapping and tag symbols ($a, $t, $d, $x, ...), which nm hides unless --special-syms
// (bfd/cpu-arm.c, bfd/cpu-aarch64.c).
bool is_special_symbol(std::uint16_t machine, std::string_view name) {
  using namespace elfsieve::elf;
  if (name.size() < 2 || name[0] != '$') return false;
  if (name.size() > 2 && name[2] != '.') return false;
  const char kind = name[1];
  switch (machine) {
    case EM_ARM: return kind >= 'a' && kind <= 'z';
    case EM_AARCH64: return kind == 'x' || kind == 'd' || kind == 'm' || kind == 'f' || kind == 'p';
    default: return false;
  }
}

class nm_tool {
 public:
  explicit nm_tool(const options& opt) : opt_(opt) {}

  // Lists one file; false when it could not be read (nm counts those in its exit status).
  bool display_file(const char* path) {
    struct stat st {};
    if (::stat(path, &st) < 0) {
      if (errno == ENOENT) report(out_, "'%s': No such file", path);
      else report(out_, "Warning: could not locate '%s'.  reason: %s", path, std::strerror(errno));
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      report(out_, "Warning: '%s' is a directory", path);
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      report(out_, "Warning: '%s' is not an ordinary file", path);
      return false;
    }
    if (st.st_size < 1) return false;  // GNU nm skips empty files without a word

    auto mapped = elfsieve::mapped_file::open(path);
    if (!mapped) {
      const int e = mapped.error().sys_errno;
      report(out_, "%s: %s", path, e != 0 ? std::strerror(e) : mapped.error().message);
      return false;
    }
    const auto bytes = mapped->bytes();
    bool ok = true;
    auto visited = elfsieve::visit(bytes, [&](const auto& f) { ok = list_object(path, f); });
    if (!visited) {
      report(out_, "%s: file format not recognized", path);
      return false;
    }
    return ok;
  }

  void flush() { out_.flush(); }
  output& out() { return out_; }

 private:
  template <class L>
  bool list_object(const char* path, const elfsieve::file<L>& f) {
    auto sections = f.sections();
    if (!sections) {
      report(out_, "%s: file format not recognized", path);
      return false;
    }
    const auto& table = sections.value();
    if (opt_.file_per_file && !opt_.file_per_symbol) {
      out_.put('\n');
      out_.put(path);
      out_.put(":\n");
    }
    const std::uint32_t wanted = opt_.dynamic ? elfsieve::elf::SHT_DYNSYM : elfsieve::elf::SHT_SYMTAB;
    auto symbols = elfsieve::symbol_table<L>::find(table, wanted);
    if (!symbols) {
      if (symbols.error().code == elfsieve::errc::not_found) {
        if (!opt_.quiet) report(out_, "%s: no symbols", path);
        return true;
      }
      report(out_, "%s: %s", path, opt_.dynamic ? "no symbols" : "file format not recognized");
      return !opt_.dynamic ? false : true;
    }
    const auto& symtab = symbols.value();
    if (symtab.size() <= 1) {
      if (!opt_.quiet) report(out_, "%s: no symbols", path);
      return true;
    }
    const auto classifier = elfsieve::nm_classifier<L>::create(f, table);

    // Of the built-in policies only debug asks which relocations name a symbol. The index is O(relocations) but
    // touches every relocation section: on a module with DWARF (550k relocations) it triples the run time, so it
    // is built only when the expression mentions debug (a glob that does costs time, never correctness).
    std::optional<elfsieve::reloc_index<L>> relocations;
    if (opt_.policy && opt_.policy->text().find("debug") != std::string_view::npos) {
      auto built = elfsieve::reloc_index<L>::build(table);
      if (built) relocations.emplace(std::move(built.value()));
      else report(out_, "%s: warning: relocations unreadable (%s); --policy answers without them", path,
                  built.error().message);
    }

    elfsieve::result<elfsieve::symbol_versions<L>> versions = elfsieve::symbol_versions<L>{};
    if (opt_.dynamic && opt_.with_versions) versions = elfsieve::symbol_versions<L>::create(table, symtab);

    entries_.clear();
    entries_.reserve(symtab.size());
    for (std::uint32_t i = 1; i < symtab.size(); ++i) {
      const auto s = symtab[elfsieve::symbol_index(i)];
      const elfsieve::nm_symbol info = classifier.classify(symtab, s);
      if (!keep(info)) continue;
      const std::string_view name = classifier.name(symtab, s);
      if (!opt_.special_syms && is_special_symbol(f.machine(), name)) continue;
      std::string_view why;
      if (opt_.policy && !matches_policy(table, symtab, s, relocations ? &*relocations : nullptr, why)) continue;
      const std::uint64_t size = info.has(elfsieve::nm_flags::section_sym) ? 0 : s.size();
      entries_.push_back(entry{name, info, size, i, why});
    }
    if (!opt_.no_sort) sort_entries(entries_, opt_);

    const int width = L::is64 ? 16 : 8;
    for (const entry& e : entries_) {
      if (opt_.file_per_symbol) {
        out_.put(path);
        out_.put(':');
      }
      if (!opt_.just_symbols) {
        if (e.info.undefined_class()) {
          out_.put(L::is64 ? std::string_view("                ") : std::string_view("        "));
        } else {
          out_.number(e.info.value, width, opt_.radix);
          if (opt_.print_size && e.size != 0) {
            out_.put(' ');
            out_.number(e.size, width, opt_.radix);
          }
        }
        out_.put(' ');
        out_.put(e.info.type);
        out_.put(' ');
      }
      print_name(e, versions);
      if (opt_.why) {
        out_.put("\t[");
        out_.put(e.why);
        out_.put(']');
      }
      out_.put('\n');
    }
    return true;
  }

  // Section symbols are never listed with --policy: no policy is about them (a writer keeps or drops them with
  // their section). A symbol whose name or section index is unreadable cannot be judged and is left out.
  template <class L>
  bool matches_policy(const elfsieve::section_table<L>& sections, const elfsieve::symbol_table<L>& symtab,
                      const elfsieve::symbol_ref<L>& s, const elfsieve::reloc_index<L>* relocations,
                      std::string_view& why) const {
    if (s.type() == elfsieve::elf::STT_SECTION) return false;
    auto context = elfsieve::make_symbol_context(sections, symtab, s, relocations);
    if (!context) return false;
    if (!opt_.why) return (*opt_.policy)(context.value());
    why = opt_.policy->why(context.value());
    return !why.empty();
  }

  template <class L>
  void print_name(const entry& e, const elfsieve::result<elfsieve::symbol_versions<L>>& versions) {
    std::string_view name = e.name;
    if (!opt_.with_versions) name = name.substr(0, name.find('@'));
    out_.put(name);
    if (!opt_.dynamic || !opt_.with_versions || e.info.has(elfsieve::nm_flags::section_sym)) return;
    if (!versions || versions->empty()) return;
    auto v = versions->get(elfsieve::symbol_index(e.index));
    const bool undefined = e.info.place == elfsieve::nm_place::undefined;
    if (!v) {
      out_.put(undefined ? "@" : "@@");
      out_.put("<corrupt>");
      return;
    }
    const auto& ver = v.value();
    if (ver.name.empty()) return;
    if (ver.defined && ver.name == e.name) return;  // the version's own definition symbol
    const bool hidden = ver.hidden || !ver.defined;
    out_.put(hidden || undefined ? "@" : "@@");
    out_.put(ver.name);
  }

  // nm.c filter_symbols.
  [[nodiscard]] bool keep(const elfsieve::nm_symbol& s) const {
    using namespace elfsieve;
    const bool undefined = s.place == nm_place::undefined;
    bool k = true;
    if (opt_.undefined_only) k = undefined;
    else if (opt_.extern_only)
      k = s.has(nm_flags::global | nm_flags::weak | nm_flags::gnu_unique) || undefined ||
          s.place == nm_place::common;
    else if (opt_.no_weak) k = !s.has(nm_flags::weak);
    // With --policy, file symbols are candidates like any other (the debug policy is about them).
    if (k && !opt_.debug_syms && s.has(nm_flags::debugging) && !(opt_.policy && s.has(nm_flags::file_sym)))
      k = false;
    if (k && opt_.defined_only && undefined) k = false;
    return k;
  }

  const options& opt_;
  output out_;
  std::vector<entry> entries_;
};

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
      "Policy expressions (a malformed one is reported with its position; exit status 2):\n"
      "  expr   := term { (',' | '|') term }     either matches\n"
      "  term   := factor { '&' factor }         both match\n"
      "  factor := '!' factor | '(' expr ')' | atom\n"
      "  A GLOB or FILE runs to the next unescaped ',', '|', '&' or ')'; '\\' escapes the\n"
      "  next character; blanks around operators are ignored.  Atoms:\n",
      stream);
  for (const auto& atom : elfsieve::policy_atoms)
    std::fprintf(stream, "  %-12.*s %.*s\n", static_cast<int>(atom.syntax.size()), atom.syntax.data(),
                 static_cast<int>(atom.description.size()), atom.description.data());
  std::fputs(
      "  Example: --policy='crc,ksymtab' --why;  --policy='debug&!name:*.c'\n"
      "\n"
      "elfsieve-nm reads ELF objects only; without --policy its output is that of GNU nm 2.40.\n",
      stream);
  std::exit(status);
}

// Reads a names: file of a policy expression; remembers the path of the last one that failed for the message.
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

// A policy that does not parse: the message, the position, the expression and a caret under the position.
[[noreturn]] void policy_error(const char* text, const elfsieve::error& e, const name_file_loader& loader) {
  std::fflush(stdout);
  if (e.code == elfsieve::errc::io_error)
    std::fprintf(stderr, "%s: --policy: cannot read names file '%s': %s at position %llu:\n", program_name,
                 loader.failed.c_str(), std::strerror(e.sys_errno), static_cast<unsigned long long>(e.detail.value_or(0)));
  else
    std::fprintf(stderr, "%s: --policy: %s at position %llu:\n", program_name, e.message,
                 static_cast<unsigned long long>(e.detail.value_or(0)));
  std::fprintf(stderr, "  %s\n  ", text);
  const std::size_t length = std::strlen(text);
  for (std::size_t i = 0; i < e.detail.value_or(0) && i < length; ++i) std::fputc(text[i] == '\t' ? '\t' : ' ', stderr);
  std::fputs("^\n", stderr);
  std::exit(2);
}

[[noreturn]] void fatal(const char* format, const char* arg) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: ", program_name);
  std::fprintf(stderr, format, arg);
  std::fputc('\n', stderr);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_COLLATE, "");
  options opt;
  if (const char* collate = std::setlocale(LC_COLLATE, nullptr))
    opt.use_strcoll = std::strcmp(collate, "C") != 0 && std::strcmp(collate, "POSIX") != 0;

  enum long_only : int {
    opt_quiet = 300,
    opt_special_syms,
    opt_with_versions,
    opt_without_versions,
    opt_defined,
    opt_policy,
    opt_why
  };
  static const struct option long_options[] = {
      {"debug-syms", no_argument, nullptr, 'a'},
      {"dynamic", no_argument, nullptr, 'D'},
      {"extern-only", no_argument, nullptr, 'g'},
      {"format", required_argument, nullptr, 'f'},
      {"help", no_argument, nullptr, 'h'},
      {"just-symbols", no_argument, nullptr, 'j'},
      {"no-sort", no_argument, nullptr, 'p'},
      {"numeric-sort", no_argument, nullptr, 'n'},
      {"print-file-name", no_argument, nullptr, 'o'},
      {"print-size", no_argument, nullptr, 'S'},
      {"quiet", no_argument, nullptr, opt_quiet},
      {"radix", required_argument, nullptr, 't'},
      {"reverse-sort", no_argument, nullptr, 'r'},
      {"special-syms", no_argument, nullptr, opt_special_syms},
      {"defined-only", no_argument, nullptr, opt_defined},
      {"undefined-only", no_argument, nullptr, 'u'},
      {"version", no_argument, nullptr, 'V'},
      {"no-weak", no_argument, nullptr, 'W'},
      {"with-symbol-versions", no_argument, nullptr, opt_with_versions},
      {"without-symbol-versions", no_argument, nullptr, opt_without_versions},
      {"policy", required_argument, nullptr, opt_policy},
      {"why", no_argument, nullptr, opt_why},
      {nullptr, 0, nullptr, 0},
  };

  if (argc > 0 && argv[0] != nullptr) program_name = argv[0];
  std::vector<char*> args(argv, argv + argc);
  int c = 0;
  bool show_version = false;
  const char* policy_text = nullptr;
  while ((c = getopt_long(argc, args.data(), "aABDef:ghHjnopPrSt:uU:vVWX:", long_options, nullptr)) != -1) {
    switch (c) {
      case 'a': opt.debug_syms = true; break;
      case 'A':
      case 'o': opt.file_per_symbol = true; break;
      case 'B':
      case 'e': break;
      case 'D': opt.dynamic = true; break;
      case 'f':
        if (optarg[0] == 'b' || optarg[0] == 'B') opt.just_symbols = false;
        else if (optarg[0] == 'j' || optarg[0] == 'J') opt.just_symbols = true;
        else if (optarg[0] == 'p' || optarg[0] == 'P' || optarg[0] == 's' || optarg[0] == 'S')
          fatal("%s: output format not supported by elfsieve-nm", optarg);
        else fatal("%s: invalid output format", optarg);
        break;
      case 'g': opt.extern_only = true; break;
      case 'h':
      case 'H': usage(stdout, 0);
      case 'j': opt.just_symbols = true; break;
      case 'n':
      case 'v':
        opt.no_sort = false;
        opt.numeric = true;
        break;
      case 'p':
        opt.no_sort = true;
        opt.numeric = false;
        break;
      case 'P': fatal("%s: output format not supported by elfsieve-nm", "posix");
      case 'r': opt.reverse = true; break;
      case 'S': opt.print_size = true; break;
      case 't':
        if (optarg[0] == 'x') opt.radix = 16;
        else if (optarg[0] == 'd') opt.radix = 10;
        else if (optarg[0] == 'o') opt.radix = 8;
        else fatal("%s: invalid radix", optarg);
        break;
      case 'u':
        opt.undefined_only = true;
        opt.defined_only = false;
        break;
      case 'U':
      case opt_defined:
        opt.defined_only = true;
        opt.undefined_only = false;
        break;
      case 'V': show_version = true; break;
      case 'W': opt.no_weak = true; break;
      case 'X':
        if (std::strcmp(optarg, "32_64") != 0) fatal("%s", "Only -X 32_64 is supported");
        break;
      case opt_quiet: opt.quiet = true; break;
      case opt_special_syms: opt.special_syms = true; break;
      case opt_with_versions: opt.with_versions = true; break;
      case opt_without_versions: opt.with_versions = false; break;
      case opt_policy: policy_text = optarg; break;
      case opt_why: opt.why = true; break;
      default: usage(stderr, 1);
    }
  }
  if (show_version) {
    std::printf("elfsieve-nm (elfsieve) 0.1.0, output compatible with GNU nm 2.40\n");
    return 0;
  }
  if (opt.why && policy_text == nullptr) {
    std::fprintf(stderr, "%s: --why needs --policy\n", program_name);
    return 2;
  }
  if (policy_text != nullptr) {
    name_file_loader loader;
    auto parsed = elfsieve::policy_expr::parse(policy_text, loader);
    if (!parsed) policy_error(policy_text, parsed.error(), loader);
    opt.policy.emplace(std::move(parsed.value()));
  }

  nm_tool tool(opt);
  if (optind == argc) return tool.display_file("a.out") ? 0 : 1;
  opt.file_per_file = argc - optind > 1;
  int failures = 0;
  for (int i = optind; i < argc; ++i)
    if (!tool.display_file(args[static_cast<std::size_t>(i)])) ++failures;
  tool.flush();
  return failures;
}
