// Plumbing shared by the command-line tools, not part of the library: the program's name in messages, usage
// errors, printf into a string of any length, "prog: file: message" for an elfsieve::error, exit status 2
// for an unreadable text input or a malformed --policy, and "prog: memory exhausted" with exit status 1 when an
// allocation fails.
#pragma once

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include <unistd.h>

#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/io/text_file.hpp"

#ifndef ELFSIEVE_VERSION
#error "ELFSIEVE_VERSION is defined by examples/CMakeLists.txt from project(VERSION)"
#endif

namespace tool {

// The exit statuses every tool uses (README.md, "Messages and exit statuses"): 0 success, 1 a file could not be
// processed, 2 a usage error; elfsieve-nm counts failed files as GNU nm does, elfsieve-undefs --check adds 3.
inline constexpr int exit_file_error = 1;
inline constexpr int exit_usage = 2;

// A tool names itself in messages by the last component of argv[0] ("elfsieve-strip", never a build path), the
// same for every tool however it was started. argv[0] is shortened too, for getopt's own messages.
inline const char* program_name = "elfsieve";

inline void set_program_name(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr) return;
  char* name = argv[0];
  for (char* p = argv[0]; *p != '\0'; ++p)
    if (*p == '/' && p[1] != '\0') name = p + 1;
  if (*name == '\0' || *name == '/') return;
  argv[0] = name;
  program_name = name;
}

// The new-handler: as GNU tools do when memory runs out, "prog: memory exhausted" and exit status 1, instead of an
// uncaught std::bad_alloc (abort, status 134). It may run in any thread, with any lock held and nothing left to
// allocate: one write(2) from the stack and _exit, no stdio, no destructors. Output files are not left behind:
// their temporaries are O_TMPFILE files that vanish with the process.
[[noreturn]] inline void memory_exhausted() noexcept {
  constexpr char tail[] = ": memory exhausted\n";
  char line[512];
  std::size_t n = std::strlen(program_name);
  if (n > sizeof line - sizeof tail) n = sizeof line - sizeof tail;
  std::memcpy(line, program_name, n);
  std::memcpy(line + n, tail, sizeof tail - 1);
  n += sizeof tail - 1;
  for (std::size_t done = 0; done < n;) {
    const ssize_t w = ::write(STDERR_FILENO, line + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  ::_exit(1);
}

// Installed before main in every tool that includes this header, so no tool can forget it.
inline const bool memory_handler_installed = (std::set_new_handler(&memory_exhausted), true);

// Appends printf-formatted text to `s`, however long.
inline void appendf(std::string& s, const char* format, ...) __attribute__((format(printf, 2, 3)));
inline void appendf(std::string& s, const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  if (n > 0) {
    const std::size_t old = s.size();
    s.resize(old + static_cast<std::size_t>(n) + 1);
    std::vsnprintf(s.data() + old, static_cast<std::size_t>(n) + 1, format, again);
    s.resize(old + static_cast<std::size_t>(n));
  }
  va_end(again);
}

// "Try 'prog --help' for more information." on stderr; returns the exit status of a usage error, 2.
inline int try_help() {
  std::fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
  return exit_usage;
}

// "prog: message\nTry 'prog --help' for more information.\n" on stderr, exit status 2.
[[noreturn]] inline void usage_error(const char* format, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] inline void usage_error(const char* format, ...) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: ", program_name);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::exit(try_help());
}

// "prog: file: message" for errors of one input or output file.
inline std::string file_error(const char* file, const elfsieve::error& e) {
  std::string s;
  appendf(s, "%s: %s: %s\n", program_name, file, elfsieve::to_string(e).c_str());
  return s;
}
inline void print_file_error(const char* file, const elfsieve::error& e) {
  std::fputs(file_error(file, e).c_str(), stderr);
}

// A text input (names file, whitelist, list of files): a regular file, or "prog: file: reason" and exit status 2.
inline std::string read_text_or_exit(const char* path) {
  auto text = elfsieve::read_text_file(path);
  if (!text) {
    print_file_error(path, text.error());
    std::exit(exit_usage);
  }
  return std::move(text.value());
}

// Standard input as a text input ('-' where a tool documents it), within the same size limit; "prog: -: reason"
// and exit status 2 otherwise.
inline std::string read_stdin_or_exit() {
  auto text = elfsieve::read_text_fd(0);
  if (!text) {
    print_file_error("-", text.error());
    std::exit(exit_usage);
  }
  return std::move(text.value());
}

// --policy=EXPR, names: files read from disk; a malformed expression is shown with a caret, exit status 2.
inline elfsieve::policy_expr parse_policy_or_exit(const char* expression) {
  elfsieve::names_file_loader loader;
  auto parsed = elfsieve::policy_expr::parse(expression, loader);
  if (!parsed) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: --policy: %s", program_name,
                 elfsieve::format_policy_error(parsed.error(), expression, loader.failed_path).c_str());
    std::exit(exit_usage);
  }
  return std::move(parsed.value());
}

}  // namespace tool
