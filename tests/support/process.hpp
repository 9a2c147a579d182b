// Run a program with arguments (no shell), capture stdout, stderr and the exit status. The locale is forced to
// C so GNU tools print untranslated messages and sort names bytewise.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX

namespace elfsieve::test {

struct process_result {
  std::string out;
  std::string err;
  int status = -1;       // exit status, or 128 + signal number
  bool started = false;  // false when the program could not be spawned (see `err`)

  [[nodiscard]] bool ok() const noexcept { return started && status == 0; }
};

namespace detail {

// The caller's environment with every locale variable replaced by LC_ALL=C.
inline std::vector<std::string> c_locale_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("LC_") || entry.starts_with("LANG=") || entry.starts_with("LANGUAGE=")) continue;
    env.emplace_back(entry);
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

inline std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

class pipe_pair {
 public:
  pipe_pair() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
  ~pipe_pair() {
    close_read();
    close_write();
  }
  [[nodiscard]] bool valid() const noexcept { return fds_[0] >= 0; }
  [[nodiscard]] int read_end() const noexcept { return fds_[0]; }
  [[nodiscard]] int write_end() const noexcept { return fds_[1]; }
  void close_read() noexcept { close_fd(fds_[0]); }
  void close_write() noexcept { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

}  // namespace detail

// argv[0] is looked up in PATH when it has no slash. stdin is /dev/null.
inline process_result run_process(const std::vector<std::string>& argv) {
  process_result result;
  if (argv.empty()) {
    result.err = "run_process: empty argument list";
    return result;
  }
  std::vector<std::string> args(argv);
  std::vector<char*> arg_pointers = detail::pointers_to(args);
  std::vector<std::string> env = detail::c_locale_environment();
  std::vector<char*> env_pointers = detail::pointers_to(env);

  detail::pipe_pair out_pipe;
  detail::pipe_pair err_pipe;
  if (!out_pipe.valid() || !err_pipe.valid()) {
    result.err = std::string("run_process: pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.write_end(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.write_end(), 2);
  pid_t pid = -1;
  const int spawn_error =
      ::posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  out_pipe.close_write();
  err_pipe.close_write();
  if (spawn_error != 0) {
    result.err = "run_process: cannot run " + args[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  result.started = true;

  // Drain both pipes together so a child that fills one while we block on the other cannot deadlock.
  pollfd fds[2] = {{out_pipe.read_end(), POLLIN, 0}, {err_pipe.read_end(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }

  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      result.status = -1;
      return result;
    }
  }
  if (WIFEXITED(wait_status)) result.status = WEXITSTATUS(wait_status);
  else if (WIFSIGNALED(wait_status)) result.status = 128 + WTERMSIG(wait_status);
  return result;
}

// True when `program` can be found and started (used to skip optional cross compilers).
inline bool program_available(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    const std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return false;
}

}  // namespace elfsieve::test
