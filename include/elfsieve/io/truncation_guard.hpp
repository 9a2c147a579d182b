// A file mapped with mmap raises SIGBUS when a page past its end is touched, which is what happens when another
// process truncates the file while a tool reads it. The guard turns that signal into a value: mapped_file
// registers each mapping here, and a process-wide SIGBUS handler that finds the faulting address inside a
// registered mapping maps zero pages over the rest of it and marks it faulted, so the interrupted access goes on
// reading zeros and mapped_file::check_intact() reports errc::file_truncated afterwards. Nothing runs on the
// access path: the cost is one registration per mapping. A SIGBUS anywhere else goes to the handler that was
// installed before (a sanitizer's) or, if there was none, ends the process as it would have without the guard.
//
// The registry is a fixed array of slots, claimed and released with atomics only (no lock, no allocation), so it
// works from any number of threads and the signal handler can read it. When every slot is taken, mapped_file reads
// the file into memory instead.
#pragma once

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

namespace elfsieve {

namespace detail {

// One registered mapping. `sequence` is odd while begin/length are being written (a seqlock), so the handler
// never trusts a range that is half written.
struct guarded_mapping {
  std::atomic<std::uint32_t> claimed{0};
  std::atomic<std::uint32_t> sequence{0};
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> length{0};  // bytes, rounded up to whole pages
  std::atomic<bool> faulted{false};
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free,
              "the SIGBUS handler may only touch lock-free atomics");

inline constexpr std::size_t guarded_mapping_slots = 1024;

struct truncation_guard_state {
  guarded_mapping slots[guarded_mapping_slots];
  std::atomic<std::size_t> page_size{0};
  std::atomic<bool> installed{false};
  struct sigaction previous {};
};

// One registry per process (an inline variable: one object however many translation units include this).
inline truncation_guard_state truncation_guard_registry;

[[nodiscard]] inline std::size_t system_page_size() noexcept {
  std::size_t page = truncation_guard_registry.page_size.load(std::memory_order_relaxed);
  if (page == 0) {
    const long p = ::sysconf(_SC_PAGESIZE);
    page = p > 0 ? static_cast<std::size_t>(p) : 4096;
    truncation_guard_registry.page_size.store(page, std::memory_order_relaxed);
  }
  return page;
}

// The slot whose range holds `address`, or nullptr. Async-signal-safe: atomic loads only.
[[nodiscard]] inline guarded_mapping* find_guarded_mapping(std::uintptr_t address) noexcept {
  for (guarded_mapping& slot : truncation_guard_registry.slots) {
    if (slot.claimed.load(std::memory_order_acquire) == 0) continue;
    const std::uint32_t before = slot.sequence.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    const std::size_t length = slot.length.load(std::memory_order_acquire);
    if (slot.sequence.load(std::memory_order_acquire) != before) continue;
    if (address >= begin && address - begin < length) return &slot;
  }
  return nullptr;
}

inline void truncation_signal_handler(int signal_number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  // si_code > 0: raised by the kernel for a real access, not sent by kill().
  if (info != nullptr && info->si_code > 0) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    if (guarded_mapping* slot = find_guarded_mapping(address)) {
      const std::size_t page = truncation_guard_registry.page_size.load(std::memory_order_relaxed);
      const std::uintptr_t first = address & ~static_cast<std::uintptr_t>(page - 1);
      const std::uintptr_t end =
          slot->begin.load(std::memory_order_acquire) + slot->length.load(std::memory_order_acquire);
      // Everything from the faulting page on lies past the new end of file: zeros, readable, in one mapping.
      void* zeros = ::mmap(reinterpret_cast<void*>(first), end - first, PROT_READ,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (zeros != MAP_FAILED) {
        slot->faulted.store(true, std::memory_order_release);
        errno = saved_errno;
        return;  // the access is retried and reads zeros
      }
    }
  }
  // Not ours: whoever handled SIGBUS before us, else the default action (a core dump, as without the guard).
  const struct sigaction& previous = truncation_guard_registry.previous;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signal_number, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler != nullptr) {
    previous.sa_handler(signal_number);
  } else {
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(signal_number, &fallback, nullptr);
    // A fault re-executes the access and now dies of it; a signal sent by kill() has to be sent again.
    if (info == nullptr || info->si_code <= 0) ::raise(signal_number);
  }
  errno = saved_errno;
}

}  // namespace detail

// Installs the SIGBUS handler once per process (later calls do nothing). Tools call it at the start of main,
// before any thread starts. Returns false when sigaction fails (the mappings then stay unguarded).
inline bool install_truncation_guard() noexcept {
  auto& registry = detail::truncation_guard_registry;
  if (registry.installed.exchange(true)) return true;
  (void)detail::system_page_size();
  struct sigaction action {};
  action.sa_sigaction = detail::truncation_signal_handler;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGBUS, &action, &registry.previous) != 0) {
    registry.installed.store(false);
    return false;
  }
  return true;
}

[[nodiscard]] inline bool truncation_guard_installed() noexcept {
  return detail::truncation_guard_registry.installed.load(std::memory_order_acquire);
}

// A mapping's place in the registry, owned by whoever mapped it (mapped_file). Move-only; the destructor
// releases the slot (call it before munmap, so a new mapping at the same address cannot be mistaken for it).
class guarded_region {
 public:
  guarded_region() noexcept = default;
  guarded_region(const guarded_region&) = delete;
  guarded_region& operator=(const guarded_region&) = delete;
  guarded_region(guarded_region&& o) noexcept : slot_(o.slot_) { o.slot_ = nullptr; }
  guarded_region& operator=(guarded_region&& o) noexcept {
    if (this != &o) {
      release();
      slot_ = o.slot_;
      o.slot_ = nullptr;
    }
    return *this;
  }
  ~guarded_region() { release(); }

  // Registers [begin, begin + length) (extended to whole pages); an empty region when every slot is taken.
  [[nodiscard]] static guarded_region add(const void* begin, std::size_t length) noexcept {
    guarded_region region;
    const std::size_t page = detail::system_page_size();
    const std::size_t pages = length / page + (length % page != 0 ? 1 : 0);
    for (detail::guarded_mapping& slot : detail::truncation_guard_registry.slots) {
      std::uint32_t expected = 0;
      if (!slot.claimed.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
      slot.sequence.fetch_add(1, std::memory_order_acq_rel);
      slot.begin.store(reinterpret_cast<std::uintptr_t>(begin), std::memory_order_release);
      slot.length.store(pages * page, std::memory_order_release);
      slot.faulted.store(false, std::memory_order_release);
      slot.sequence.fetch_add(1, std::memory_order_acq_rel);
      region.slot_ = &slot;
      return region;
    }
    return region;
  }

  [[nodiscard]] bool registered() const noexcept { return slot_ != nullptr; }
  // True once the handler absorbed a fault inside this region.
  [[nodiscard]] bool faulted() const noexcept {
    return slot_ != nullptr && slot_->faulted.load(std::memory_order_acquire);
  }

  void release() noexcept {
    if (slot_ == nullptr) return;
    slot_->sequence.fetch_add(1, std::memory_order_acq_rel);
    slot_->begin.store(0, std::memory_order_release);
    slot_->length.store(0, std::memory_order_release);
    slot_->faulted.store(false, std::memory_order_release);
    slot_->sequence.fetch_add(1, std::memory_order_acq_rel);
    slot_->claimed.store(0, std::memory_order_release);
    slot_ = nullptr;
  }

 private:
  detail::guarded_mapping* slot_ = nullptr;
};

}  // namespace elfsieve
