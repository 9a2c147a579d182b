// Batches of files for the tools that take many (elfsieve-strip, elfsieve-symvers): the default job count (the
// cores this process may run on), a progress line on a terminal, and the work spread over threads with each file's
// messages emitted in argument order as soon as the files before it are done.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tool.hpp"

namespace tool {

// -j's default: the CPUs this process may run on (sched_getaffinity: taskset and cgroup cpusets count, as for
// nproc), else the machine's; between 1 and 1024.
inline unsigned default_jobs() noexcept {
  unsigned n = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) n = static_cast<unsigned>(CPU_COUNT(&set));
  if (n == 0) n = std::thread::hardware_concurrency();
  return std::clamp(n, 1u, 1024u);
}

// -j N: a count from 1 to 1024, else a usage error.
inline unsigned parse_jobs_or_exit(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || n < 1 || n > 1024)
    usage_error("invalid number of jobs '%s' (expected 1 to 1024)", text);
  return static_cast<unsigned>(n);
}

// "PROG: 1234/4023 files" on standard error, rewritten in place (\r) at most ten times a second, and only when
// standard error is a terminal and there are several files: nothing else ever sees it (a pipe, a log file, a test
// capturing stderr). Every message is printed after clear(), so a message never shares a line with it.
class progress {
 public:
  progress(std::size_t total, bool wanted) noexcept
      : total_(total), enabled_(wanted && total > 1 && ::isatty(STDERR_FILENO) == 1) {}
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  ~progress() { clear(); }

  // One more file done; the caller serializes the calls (run_batch holds its lock).
  void advance() noexcept {
    ++done_;
    if (!enabled_ || done_ == total_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - drawn_ < std::chrono::milliseconds(100)) return;
    drawn_ = now;
    char line[128];
    const int n = std::snprintf(line, sizeof line, "\r%s: %zu/%zu files", program_name, done_, total_);
    if (n <= 1) return;
    const std::size_t length = std::min(static_cast<std::size_t>(n), sizeof line - 1);
    std::fflush(stdout);  // what stdout printed on the same terminal comes first
    std::fwrite(line, 1, length, stderr);
    const std::size_t columns = length - 1;
    for (std::size_t i = columns; i < shown_; ++i) std::fputc(' ', stderr);  // never leave a longer line's tail
    shown_ = std::max(shown_, columns);
  }

  // Erases the line, if one is shown.
  void clear() noexcept {
    if (shown_ == 0) return;
    std::fputc('\r', stderr);
    for (std::size_t i = 0; i < shown_; ++i) std::fputc(' ', stderr);
    std::fputc('\r', stderr);
    shown_ = 0;
  }

 private:
  std::size_t total_;
  std::size_t done_ = 0;
  std::size_t shown_ = 0;  // columns of the line on the terminal; 0: none shown
  std::chrono::steady_clock::time_point drawn_{};
  bool enabled_;
};

// Runs work(i) for every i < n on up to `jobs` threads (the calling thread alone for one), and emit(i) in index
// order under one lock, as soon as work(0..i) are done: a file's messages come out in argument order whatever N
// is, without waiting for the whole batch. emit calls bar.clear() before it prints anything.
template <class Work, class Emit>
void run_batch(std::size_t n, unsigned jobs, progress& bar, Work&& work, Emit&& emit) {
  std::vector<unsigned char> finished(n, 0);
  std::size_t next_emit = 0;
  std::mutex lock;
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      work(i);
      const std::lock_guard<std::mutex> hold(lock);
      finished[i] = 1;
      for (; next_emit < n && finished[next_emit] != 0; ++next_emit) emit(next_emit);
      bar.advance();
    }
  };
  const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(jobs, n));
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();  // the calling thread is one of the N
    for (auto& t : pool) t.join();
  }
  bar.clear();
}

}  // namespace tool
