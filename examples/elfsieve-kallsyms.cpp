// elfsieve-kallsyms: the kernel's kallsyms tables straight from a vmlinux, byte for byte what
// `nm -n VMLINUX | scripts/mksysmap | scripts/kallsyms FLAGS` prints for Linux 6.1 or 6.12, without nm or a
// temporary System.map. The other modes (--verify, --dump, --diff, --module) live in their own headers.
#include <getopt.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/kernel/kallsyms_generate.hpp"
#include "elfsieve/kernel/system_map.hpp"
#include "kallsyms_cli.hpp"
#include "tool.hpp"

// The other modes, each in its own header: run_verify/run_dump, run_diff, run_module.
#include "kallsyms_diff.hpp"
#include "kallsyms_module.hpp"
#include "kallsyms_verify_dump.hpp"

namespace {

using elfsieve::kernel::kallsyms::kernel_version;
using tool::kallsyms_cli;
using tool::kallsyms_mode;
using tool::program_name;

constexpr const char* usage_text =
    "Usage: PROG [--all-symbols] [--absolute-percpu] [--base-relative] [--lto-clang] [--kernel=6.1|6.12] VMLINUX\n"
    "       PROG --system-map [--kernel=6.1|6.12] VMLINUX\n"
    "       PROG --verify [FLAGS] VMLINUX\n"
    "       PROG --dump IMAGE\n"
    "       PROG --diff A B\n"
    "       PROG --module [--zero-addresses] [--no-kallsyms-all] [--no-module-unload] FOO.ko...\n"
    "Print the kallsyms assembly (out.S) for VMLINUX exactly as\n"
    "  nm -n VMLINUX | scripts/mksysmap | scripts/kallsyms FLAGS System.map\n"
    "of the chosen kernel version does, reading the ELF symbol table directly.\n"
    "\n"
    "scripts/kallsyms flags (from the kernel's configuration):\n"
    "      --all-symbols      every symbol, not only text (CONFIG_KALLSYMS_ALL)       6.1, 6.12\n"
    "      --absolute-percpu  per-cpu symbols absolute (CONFIG_KALLSYMS_ABSOLUTE_PERCPU) 6.1, 6.12\n"
    "      --base-relative    kallsyms_offsets + kallsyms_relative_base instead of\n"
    "                         kallsyms_addresses (CONFIG_KALLSYMS_BASE_RELATIVE)      6.1 only;\n"
    "                         6.12 is always base-relative and has no such option\n"
    "      --lto-clang        sort kallsyms_seqs_of_names without the \".llvm.\" suffix\n"
    "                         of names (CONFIG_LTO_CLANG)                              6.1 only\n"
    "      --kernel=VERSION   the rules of Linux 6.1 (Debian's 6.1.y, the default) or 6.12:\n"
    "                         6.1  scripts/mksysmap is a grep; tables in the order addresses|offsets,\n"
    "                              relative_base, num_syms, names, markers, seqs_of_names, token_table,\n"
    "                              token_index\n"
    "                         6.12 scripts/mksysmap is a sed script that drops more names; tables in the\n"
    "                              order num_syms, names, markers, token_table, token_index, offsets,\n"
    "                              relative_base, seqs_of_names, with each symbol's name in comments\n"
    "\n"
    "Modes:\n"
    "      --system-map       print System.map (nm -n filtered by the version's scripts/mksysmap) instead\n"
    "      --verify           regenerate the tables from VMLINUX's own symbols and compare them with the\n"
    "                         kallsyms_* data embedded in it (flags inferred from the image unless given)\n"
    "      --dump             decode the embedded tables of IMAGE (vmlinux, or a compressed bzImage) as\n"
    "                         /proc/kallsyms prints them\n"
    "      --diff             say whether link passes A and B agree, and if not why (the first symbol that\n"
    "                         moved, its section, the size change that moved it)\n"
    "MODULE_HELP"
    "  -h, --help             display this help and exit\n"
    "  -V, --version          display the version and exit\n"
    "\n"
    "Messages: a symbol of 512 bytes or more is left out with a warning, as scripts/kallsyms does.\n"
    "Exit status: 0 on success (--verify: the tables match), 1 if VMLINUX cannot be read or scripts/kallsyms\n"
    "would fail on it (no valid symbol, a value out of range in relative mode; --verify: a difference),\n"
    "2 on a usage error.\n";

[[noreturn]] void usage(FILE* stream, int status) {
  std::string text = usage_text;
  const std::string_view module_marker = "MODULE_HELP";
  text.replace(text.find(module_marker), module_marker.size(), kallsyms_tool::module_help_text);
  for (std::size_t at = text.find("PROG"); at != std::string::npos; at = text.find("PROG", at))
    text.replace(at, 4, program_name);
  std::fputs(text.c_str(), stream);
  std::exit(status);
}

int fail(const char* file, const elfsieve::error& e) {
  tool::print_file_error(file, e);
  return tool::exit_file_error;
}

// The generator's errors, in the words of scripts/kallsyms where it has some.
int generation_failed(const char* file, const elfsieve::error& e, const elfsieve::kernel::kallsyms::generation& g) {
  using elfsieve::errc;
  switch (e.code) {
    case errc::kallsyms_no_valid_symbol:
      std::fprintf(stderr, "%s: %s: no valid symbol for kallsyms\n", program_name, file);
      break;
    case errc::kallsyms_value_out_of_range:
      std::fprintf(stderr, "%s: %s: kallsyms failure: %s symbol value %#llx out of range in relative mode (%.*s)\n",
                   program_name, file, g.failing_absolute ? "absolute" : "relative",
                   static_cast<unsigned long long>(g.failing_value), static_cast<int>(g.failing_symbol.size()),
                   g.failing_symbol.data());
      break;
    default: return fail(file, e);
  }
  return tool::exit_file_error;
}

int run_generate(const kallsyms_cli& cli) {
  const char* path = cli.files[0];
  auto mapped = elfsieve::mapped_file::open(path);
  if (!mapped) return fail(path, mapped.error());
  namespace ks = elfsieve::kernel::kallsyms;
  elfsieve::kernel::system_map map;
  if (auto r = elfsieve::kernel::read_system_map(mapped->bytes(), cli.options.version, map); !r)
    return fail(path, r.error());
  std::string out;
  if (cli.mode == kallsyms_mode::system_map) {
    elfsieve::kernel::append_system_map(map, out);
  } else {
    ks::generation g;
    auto r = ks::generate(std::move(map), cli.options, g);
    for (std::string_view name : g.too_long)
      std::fprintf(stderr, "%s: %s: warning: symbol %.*s too long for kallsyms (%zu >= %zu); left out\n", program_name,
                   path, static_cast<int>(name.size()), name.data(), name.size(), ks::ksym_name_len);
    if (!r) return generation_failed(path, r.error(), g);
    // 6.1's text is made from the tables alone, which hold everything read from the image: checked now, it goes
    // out in chunks. 6.12's comments read the names in the image again, so that text is checked whole first.
    const bool streamed = cli.options.version == ks::kernel_version::v6_1;
    if (streamed) {
      if (auto intact = mapped->check_intact(); !intact) return fail(path, intact.error());
    }
    ks::write_assembly(g, cli.options, out, streamed ? std::size_t{256} << 10 : std::numeric_limits<std::size_t>::max(),
                       [](std::string_view chunk) { std::fwrite(chunk.data(), 1, chunk.size(), stdout); });
  }
  // Nothing read from a file that shrank meanwhile is printed.
  if (auto intact = mapped->check_intact(); !intact) return fail(path, intact.error());
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "%s: write error: %s\n", program_name, std::strerror(errno));
    return tool::exit_file_error;
  }
  return 0;
}

int run_module(const kallsyms_cli& cli) {
  kallsyms_tool::module_mode_options o;
  o.zero_addresses = cli.zero_addresses;
  o.kallsyms_all = cli.kallsyms_all;
  o.module_unload = cli.module_unload;
  o.version = cli.options.version;
  return kallsyms_tool::run_module(std::vector<std::string>(cli.files.begin(), cli.files.end()), o);
}

int dispatch(const kallsyms_cli& cli) {
  switch (cli.mode) {
    case kallsyms_mode::assembly:
    case kallsyms_mode::system_map: return run_generate(cli);
    case kallsyms_mode::verify: return run_verify(cli);
    case kallsyms_mode::dump: return run_dump(cli);
    case kallsyms_mode::diff: return run_diff(cli);
    case kallsyms_mode::module: return run_module(cli);
  }
  return tool::exit_usage;
}

const char* mode_option(kallsyms_mode m) {
  switch (m) {
    case kallsyms_mode::assembly: return "";
    case kallsyms_mode::system_map: return "--system-map";
    case kallsyms_mode::verify: return "--verify";
    case kallsyms_mode::dump: return "--dump";
    case kallsyms_mode::diff: return "--diff";
    case kallsyms_mode::module: return "--module";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // One short run whose big arrays come and go (the System.map's sort rows, then the generation's): kept in the
  // heap instead of a fresh mapping each, a freed array's pages serve the next one without faulting again.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
  elfsieve::install_truncation_guard();
  tool::set_program_name(argc, argv);
  enum : int {
    opt_all = 300,
    opt_percpu,
    opt_base,
    opt_lto,
    opt_kernel,
    opt_system_map,
    opt_verify,
    opt_dump,
    opt_diff,
    opt_module,
    opt_zero,
    opt_no_all,
    opt_no_unload
  };
  // clang-format off
  static const option long_options[] = {
      {"all-symbols", no_argument, nullptr, opt_all}, {"absolute-percpu", no_argument, nullptr, opt_percpu},
      {"base-relative", no_argument, nullptr, opt_base}, {"lto-clang", no_argument, nullptr, opt_lto},
      {"kernel", required_argument, nullptr, opt_kernel}, {"system-map", no_argument, nullptr, opt_system_map},
      {"verify", no_argument, nullptr, opt_verify}, {"dump", no_argument, nullptr, opt_dump},
      {"diff", no_argument, nullptr, opt_diff}, {"module", no_argument, nullptr, opt_module},
      {"zero-addresses", no_argument, nullptr, opt_zero}, {"no-kallsyms-all", no_argument, nullptr, opt_no_all},
      {"no-module-unload", no_argument, nullptr, opt_no_unload},
      {"help", no_argument, nullptr, 'h'}, {"version", no_argument, nullptr, 'V'}, {nullptr, 0, nullptr, 0}};
  // clang-format on
  kallsyms_cli cli;
  bool base_relative_given = false;
  bool module_option_given = false;
  auto set_mode = [&](kallsyms_mode m) {
    if (cli.mode != kallsyms_mode::assembly && cli.mode != m)
      tool::usage_error("%s and %s cannot be combined", mode_option(cli.mode), mode_option(m));
    cli.mode = m;
  };
  for (int c; (c = getopt_long(argc, argv, "hV", long_options, nullptr)) != -1;) {
    switch (c) {
      case opt_all: cli.options.all_symbols = cli.flags_given = true; break;
      case opt_percpu: cli.options.absolute_percpu = cli.flags_given = true; break;
      case opt_base: cli.options.base_relative = base_relative_given = cli.flags_given = true; break;
      case opt_lto: cli.options.lto_clang = cli.flags_given = true; break;
      case opt_kernel:
        if (std::strcmp(optarg, "6.1") == 0) cli.options.version = kernel_version::v6_1;
        else if (std::strcmp(optarg, "6.12") == 0) cli.options.version = kernel_version::v6_12;
        else tool::usage_error("--kernel=%s: expected 6.1 or 6.12", optarg);
        cli.kernel_given = cli.flags_given = true;
        break;
      case opt_system_map: set_mode(kallsyms_mode::system_map); break;
      case opt_verify: set_mode(kallsyms_mode::verify); break;
      case opt_dump: set_mode(kallsyms_mode::dump); break;
      case opt_diff: set_mode(kallsyms_mode::diff); break;
      case opt_module: set_mode(kallsyms_mode::module); break;
      case opt_zero: cli.zero_addresses = module_option_given = true; break;
      case opt_no_all: cli.kallsyms_all = false, module_option_given = true; break;
      case opt_no_unload: cli.module_unload = false, module_option_given = true; break;
      case 'h': usage(stdout, 0);
      case 'V': std::printf("elfsieve-kallsyms (elfsieve) %s, Linux 6.1 and 6.12 rules\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  const bool v6_12 = cli.options.version == kernel_version::v6_12;
  if (v6_12 && base_relative_given)
    tool::usage_error("--base-relative is not a 6.12 option (6.12 is always base-relative)");
  if (v6_12 && cli.options.lto_clang) tool::usage_error("--lto-clang is not a 6.12 option");
  if (v6_12) cli.options.base_relative = true;
  if (module_option_given && cli.mode != kallsyms_mode::module)
    tool::usage_error("--zero-addresses, --no-kallsyms-all and --no-module-unload go with --module");
  for (int i = optind; i < argc; ++i) cli.files.push_back(argv[i]);
  const std::size_t operands = cli.mode == kallsyms_mode::diff ? 2 : 1;
  if (cli.mode == kallsyms_mode::module && !cli.files.empty()) return dispatch(cli);  // FOO.ko...
  if (cli.files.size() != operands) {
    if (cli.mode == kallsyms_mode::diff) tool::usage_error("--diff takes two files, A and B");
    tool::usage_error(cli.files.empty() ? "no input file" : "exactly one input file is expected");
  }
  return dispatch(cli);
}
