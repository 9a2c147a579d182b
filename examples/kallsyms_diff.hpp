// elfsieve-kallsyms --diff A B: the tool side (elfsieve-kallsyms.cpp parses the options and calls run_diff).
// Exit status as diff(1) and cmp(1): 0 when no further kallsyms pass is needed, 1 when one is (the explanation
// says why), 2 for trouble: a usage error, or a pass that cannot be read.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/kallsyms_diff.hpp"
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
