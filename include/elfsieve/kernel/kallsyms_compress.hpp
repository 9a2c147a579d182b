// scripts/kallsyms' token-table compressor (the same in 6.1 and 6.12): greedy byte-pair encoding into the byte
// codes no symbol uses. The codes are filled from 255 down to 0; each takes the pair of codes with the largest
// count over all symbols (the lowest pair number, first + 256 * second, among equal counts), and every symbol
// then has its pairs replaced left to right, without overlap. It stops when no pair occurs any more.
//
// The kernel rescans every symbol for every code. Here each pair keeps the list of symbols that may hold it (a
// symbol gains a pair only where a replacement put the newest code, so these lists grow only then), and only
// those are rescanned: the same tokens and the same bytes, in time proportional to the symbols each code touches.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace elfsieve::kernel::kallsyms {

// The result: per byte code, what it stands for (best_table/best_table_len in the kernel).
struct token_codes {
  std::array<std::array<std::uint8_t, 2>, 256> pair{};  // a token's two codes, or the byte itself
  std::array<std::uint8_t, 256> length{};               // 0: unused, 1: a byte of the names, 2: a token

  // The text code `c` stands for, appended to `out` (the kernel's expand_symbol).
  void expand(std::uint8_t c, std::string& out) const {
    if (length[c] == 1 && pair[c][0] == c) {
      out.push_back(static_cast<char>(c));
      return;
    }
    for (std::uint8_t k = 0; k < length[c]; ++k) expand(pair[c][k], out);
  }
};

// Working memory of the compressor, kept between runs so nothing is allocated per symbol or per code.
struct token_compressor {
  std::vector<std::int32_t> profit = std::vector<std::int32_t>(0x10000);  // occurrences of each pair
  // Symbols that may hold a pair: for the pairs of the names' own bytes, a CSR array built once; for pairs with a
  // token code, singly linked lists in flat arrays, added to as replacements create them.
  std::vector<std::uint32_t> first_of_pair = std::vector<std::uint32_t>(0x10001);
  std::vector<std::uint32_t> initial_symbols;
  std::vector<std::int32_t> list_head = std::vector<std::int32_t>(0x10000);
  std::vector<std::int32_t> list_next;
  std::vector<std::uint32_t> list_symbol;
  std::vector<std::uint32_t> stamp = std::vector<std::uint32_t>(0x10000);  // last symbol (+1) listed for a pair
  // find_best_token without scanning all pairs per code: a pair's count only grows while the code it holds is made
  // (or at the start) and only shrinks after that, so a max-heap of (count, pair) entries pushed after each growth
  // holds an upper bound of every count; an entry whose count has shrunk since is pushed again with its count.
  std::vector<std::uint64_t> heap;   // count << 16 | (0xffff - pair)
  std::vector<std::uint16_t> grown;  // pairs grown by this code
  std::vector<std::uint8_t> grown_now = std::vector<std::uint8_t>(0x10000);

  // Compresses the symbols in place: symbol i is bytes[start[i], start[i] + length[i]) (its type letter, then its
  // name), and length[i] shrinks as tokens replace pairs. Returns what every code stands for.
  token_codes compress(std::span<std::uint8_t> bytes, std::span<const std::uint32_t> start,
                       std::span<std::uint16_t> length) {
    token_codes codes;
    const std::size_t count = start.size();
    std::fill(profit.begin(), profit.end(), 0);
    std::fill(first_of_pair.begin(), first_of_pair.end(), 0u);
    std::fill(stamp.begin(), stamp.end(), 0u);
    // learn_symbol over every symbol, insert_real_symbols_in_table, and the initial pair lists (each symbol once
    // per pair).
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint8_t* s = bytes.data() + start[i];
      const std::size_t n = length[i];
      for (std::size_t k = 0; k < n; ++k) {
        codes.pair[s[k]][0] = s[k];
        codes.length[s[k]] = 1;
      }
      for (std::size_t k = 0; k + 1 < n; ++k) {
        const std::uint32_t p = pair_of(s[k], s[k + 1]);
        ++profit[p];
        if (stamp[p] != i + 1) {
          stamp[p] = static_cast<std::uint32_t>(i + 1);
          ++first_of_pair[p + 1];
        }
      }
    }
    for (std::size_t p = 0; p < 0x10000; ++p) first_of_pair[p + 1] += first_of_pair[p];
    initial_symbols.resize(first_of_pair[0x10000]);
    {
      std::vector<std::uint32_t> fill(first_of_pair.begin(), first_of_pair.end() - 1);
      std::fill(stamp.begin(), stamp.end(), 0u);
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* s = bytes.data() + start[i];
        for (std::size_t k = 0; k + 1 < length[i]; ++k) {
          const std::uint32_t p = pair_of(s[k], s[k + 1]);
          if (stamp[p] == i + 1) continue;
          stamp[p] = static_cast<std::uint32_t>(i + 1);
          initial_symbols[fill[p]++] = static_cast<std::uint32_t>(i);
        }
      }
    }
    std::fill(list_head.begin(), list_head.end(), -1);
    std::fill(stamp.begin(), stamp.end(), 0u);
    list_next.clear();
    list_symbol.clear();
    // Each replacement makes at most two new pairs: about as many as there are bytes, allocated once.
    list_next.reserve(bytes.size());
    list_symbol.reserve(bytes.size());
    heap.clear();
    for (std::uint32_t p = 0; p < 0x10000; ++p)
      if (profit[p] > 0) heap.push_back(entry(static_cast<std::uint32_t>(profit[p]), p));
    std::make_heap(heap.begin(), heap.end());

    // optimize_result: the free codes from 255 down to 0.
    for (int code = 255; code >= 0; --code) {
      const auto c = static_cast<std::uint8_t>(code);
      if (codes.length[c] != 0) continue;
      const std::uint32_t best = best_pair();
      if (best > 0xffff) break;  // no pair occurs any more
      codes.length[c] = 2;
      codes.pair[c] = {static_cast<std::uint8_t>(best & 0xff), static_cast<std::uint8_t>(best >> 8)};
      const std::uint8_t a = codes.pair[c][0], b = codes.pair[c][1];
      // A pair of two name bytes was listed at the start; a pair with a token code, when that code was made.
      if (!is_token(codes, a) && !is_token(codes, b)) {
        const std::uint32_t end = first_of_pair[best + 1];
        for (std::uint32_t k = first_of_pair[best]; k < end; ++k) {
          // The symbols are scattered over the names: ask for one a few ahead while this one is rewritten.
          if (k + prefetch_distance < end) prefetch(bytes.data() + start[initial_symbols[k + prefetch_distance]]);
          replace(bytes, start, length, initial_symbols[k], a, b, c);
        }
      } else {
        for (std::int32_t node = list_head[best]; node >= 0; node = list_next[static_cast<std::size_t>(node)])
          replace(bytes, start, length, list_symbol[static_cast<std::size_t>(node)], a, b, c);
      }
      for (std::uint16_t p : grown) {
        grown_now[p] = 0;
        if (profit[p] > 0) push(entry(static_cast<std::uint32_t>(profit[p]), p));
      }
      grown.clear();
    }
    return codes;
  }

 private:
  [[nodiscard]] static constexpr std::uint32_t pair_of(std::uint8_t first, std::uint8_t second) noexcept {
    return first + (std::uint32_t{second} << 8);
  }
  [[nodiscard]] static bool is_token(const token_codes& codes, std::uint8_t c) noexcept { return codes.length[c] == 2; }

  static constexpr std::uint32_t prefetch_distance = 8;
  static void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
  }

  // Heap entries order by count, then by the lower pair number (the kernel keeps the first of equal counts).
  [[nodiscard]] static constexpr std::uint64_t entry(std::uint32_t count, std::uint32_t pair) noexcept {
    return std::uint64_t{count} << 16 | (0xffffu - pair);
  }
  void push(std::uint64_t e) {
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end());
  }

  // find_best_token: the first pair with the largest count, or a value above 0xffff when every count is 0.
  [[nodiscard]] std::uint32_t best_pair() {
    while (!heap.empty()) {
      const std::uint64_t top = heap.front();
      std::pop_heap(heap.begin(), heap.end());
      heap.pop_back();
      const auto pair = static_cast<std::uint32_t>(0xffffu - (top & 0xffffu));
      const auto count = static_cast<std::uint32_t>(profit[pair]);
      if (count == top >> 16) return pair;
      if (count > 0) push(entry(count, pair));  // shrunk since it was pushed
    }
    return 0x10000;
  }

  // compress_symbols for one symbol, in one pass: replace (a, b) by c left to right; count down the old pairs that
  // touch a replaced byte and count up the new pairs that hold c (the kernel forgets and relearns every pair of the
  // symbol: the pairs away from the replacements are the same before and after); list the symbol under the new
  // pairs. The bytes before the first occurrence stay where they are: the pass starts there (a listed symbol may
  // not hold the pair any more; then nothing is written).
  void replace(std::span<std::uint8_t> bytes, std::span<const std::uint32_t> start, std::span<std::uint16_t> length,
               std::uint32_t symbol, std::uint8_t a, std::uint8_t b, std::uint8_t c) {
    std::uint8_t* s = bytes.data() + start[symbol];
    const std::size_t n = length[symbol];
    std::size_t k = 0;
    while (k + 1 < n && (s[k] != a || s[k + 1] != b)) ++k;
    if (k + 1 >= n) return;
    std::size_t out = k;
    bool previous_replaced = false;  // the old byte before k belonged to an occurrence
    while (k < n) {
      if (k + 1 < n && s[k] == a && s[k + 1] == b) {
        // s[k - 1] still holds its old value unless it was replaced (then the pair went with that occurrence).
        if (k > 0 && !previous_replaced) --profit[pair_of(s[k - 1], a)];
        --profit[pair_of(a, b)];
        if (k + 2 < n) --profit[pair_of(b, s[k + 2])];
        if (out > 0) learn(symbol, pair_of(s[out - 1], c));
        s[out++] = c;
        previous_replaced = true;
        k += 2;
      } else {
        if (previous_replaced) learn(symbol, pair_of(c, s[k]));
        s[out++] = s[k++];
        previous_replaced = false;
      }
    }
    length[symbol] = static_cast<std::uint16_t>(out);
  }

  // A new pair p (it holds c) in `symbol`: count it, remember that it grew, and list the symbol under it once.
  void learn(std::uint32_t symbol, std::uint32_t p) {
    ++profit[p];
    if (grown_now[p] == 0) {
      grown_now[p] = 1;
      grown.push_back(static_cast<std::uint16_t>(p));
    }
    if (stamp[p] != symbol + 1) {
      stamp[p] = symbol + 1;
      list_symbol.push_back(symbol);
      list_next.push_back(list_head[p]);
      list_head[p] = static_cast<std::int32_t>(list_next.size() - 1);
    }
  }
};

}  // namespace elfsieve::kernel::kallsyms
