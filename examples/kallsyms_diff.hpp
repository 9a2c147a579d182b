// elfsieve-kallsyms --diff A B: the tool side (elfsieve-kallsyms.cpp parses the options and calls
// run_diff(const kallsyms_cli&); the overloads taking two paths serve tests and other callers).
// Exit status as diff(1) and cmp(1): 0 when no further kallsyms pass is needed, 1 when one is (the explanation
// says why), 2 for trouble: a usage error, or a pass that cannot be read.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/kallsyms_diff.hpp"
#include "kallsyms_cli.hpp"
#include "tool.hpp"

namespace tool {

inline constexpr int diff_no_pass_needed = 0;
inline constexpr int diff_pass_needed = 1;
inline constexpr int diff_trouble = 2;

// Compares the passes at path_a and path_b; the explanation is appended to `out`, messages to `err`.
inline int run_diff(const char* path_a, const char* path_b, const elfsieve::kernel::kallsyms::diff_options& options,
                    std::string& out, std::string& err) {
  namespace ks = elfsieve::kernel::kallsyms;
  auto a = elfsieve::mapped_file::open(path_a);
  if (!a) {
    err += file_error(path_a, a.error());
    return diff_trouble;
  }
  auto b = elfsieve::mapped_file::open(path_b);
  if (!b) {
    err += file_error(path_b, b.error());
    return diff_trouble;
  }
  ks::pass_image pa, pb;
  if (auto r = ks::read_pass(a->bytes(), options.version, pa); !r) {
    err += file_error(path_a, r.error());
    return diff_trouble;
  }
  if (auto r = ks::read_pass(b->bytes(), options.version, pb); !r) {
    err += file_error(path_b, r.error());
    return diff_trouble;
  }
  ks::pass_diff d;
  if (auto r = ks::diff_passes(pa, pb, options, d); !r) {
    err += file_error(path_b, r.error());
    return diff_trouble;
  }
  // What was read must still be the files' bytes before anything is said about them.
  for (const auto& [m, path] : {std::pair{&*a, path_a}, std::pair{&*b, path_b}}) {
    if (auto intact = m->check_intact(); !intact) {
      err += file_error(path, intact.error());
      return diff_trouble;
    }
  }
  out += ks::explain(d, path_a, path_b);
  return d.another_pass_needed ? diff_pass_needed : diff_no_pass_needed;
}

// The same, writing the explanation to stdout and messages to stderr.
inline int run_diff(const char* path_a, const char* path_b, const elfsieve::kernel::kallsyms::diff_options& options) {
  std::string out, err;
  const int status = run_diff(path_a, path_b, options, out, err);
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
    std::fprintf(stderr, "%s: write error\n", program_name);
    return diff_trouble;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error\n", program_name);
    return diff_trouble;
  }
  if (!err.empty()) std::fwrite(err.data(), 1, err.size(), stderr);
  return status;
}

}  // namespace tool

// elfsieve-kallsyms' entry point for --diff, from its parsed command line.
namespace tool {

// --diff A B [--kernel=6.1|6.12] [--all-symbols ...]: the scripts/kallsyms flags, when any is given, decide which
// symbols are kept (without --all-symbols: text only); otherwise --all-symbols is inferred from kallsyms_num_syms.
inline int run_diff(const kallsyms_cli& cli) {
  if (cli.files.size() != 2)
    usage_error("--diff needs two link passes, A and B (got %zu file%s)", cli.files.size(),
                cli.files.size() == 1 ? "" : "s");
  elfsieve::kernel::kallsyms::diff_options options;
  options.version = cli.options.version;
  // --kernel alone (which also implies --base-relative for 6.12) says nothing about --all-symbols.
  const bool scripts_flags =
      cli.options.all_symbols || cli.options.absolute_percpu || (cli.flags_given && !cli.kernel_given);
  if (scripts_flags) options.all_symbols = cli.options.all_symbols;
  return run_diff(cli.files[0], cli.files[1], options);
}

}  // namespace tool
