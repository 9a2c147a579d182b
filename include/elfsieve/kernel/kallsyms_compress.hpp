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

    // optimize_result: the free codes from 255 down to 0.
    for (int code = 255; code >= 0; --code) {
      const auto c = static_cast<std::uint8_t>(code);
      if (codes.length[c] != 0) continue;
      const std::uint32_t best = best_pair();
      if (profit[best] == 0) break;
      codes.length[c] = 2;
      codes.pair[c] = {static_cast<std::uint8_t>(best & 0xff), static_cast<std::uint8_t>(best >> 8)};
      const std::uint8_t a = codes.pair[c][0], b = codes.pair[c][1];
      // A pair of two name bytes was listed at the start; a pair with a token code, when that code was made.
      if (!is_token(codes, a) && !is_token(codes, b)) {
        for (std::uint32_t k = first_of_pair[best]; k < first_of_pair[best + 1]; ++k)
          replace(bytes, start, length, initial_symbols[k], a, b, c);
      } else {
        for (std::int32_t node = list_head[best]; node >= 0; node = list_next[static_cast<std::size_t>(node)])
          replace(bytes, start, length, list_symbol[static_cast<std::size_t>(node)], a, b, c);
      }
    }
    return codes;
  }

 private:
  [[nodiscard]] static constexpr std::uint32_t pair_of(std::uint8_t first, std::uint8_t second) noexcept {
    return first + (std::uint32_t{second} << 8);
  }
  [[nodiscard]] static bool is_token(const token_codes& codes, std::uint8_t c) noexcept { return codes.length[c] == 2; }

  // find_best_token: the first pair with the largest count.
  [[nodiscard]] std::uint32_t best_pair() const noexcept {
    const std::int32_t* p = profit.data();
    std::int32_t top = -10000;
    for (std::size_t k = 0; k < 0x10000; ++k) top = std::max(top, p[k]);
    std::uint32_t k = 0;
    while (p[k] != top) ++k;
    return k;
  }

  // compress_symbols for one symbol: replace (a, b) by c left to right and update the counts by what changed
  // (the kernel forgets and relearns every pair of the symbol; the pairs that touch no replaced byte are the same
  // before and after), then list the symbol under the new pairs that hold c.
  void replace(std::span<std::uint8_t> bytes, std::span<const std::uint32_t> start, std::span<std::uint16_t> length,
               std::uint32_t symbol, std::uint8_t a, std::uint8_t b, std::uint8_t c) {
    std::uint8_t* s = bytes.data() + start[symbol];
    const std::size_t n = length[symbol];
    std::size_t k = 0;
    while (k + 1 < n && !(s[k] == a && s[k + 1] == b)) ++k;
    if (k + 1 >= n) return;  // no longer holds the pair
    std::size_t out = k;
    // The byte before the one read, as it was (the compaction overwrites it), and whether it was replaced.
    bool have_previous = k > 0, previous_replaced = false;
    std::uint8_t previous = k > 0 ? s[k - 1] : 0;
    while (k < n) {
      if (k + 1 < n && s[k] == a && s[k + 1] == b) {
        // The old pairs around and inside the occurrence go; one shared with the previous occurrence went with it.
        if (have_previous && !previous_replaced) --profit[pair_of(previous, a)];
        --profit[pair_of(a, b)];
        if (k + 2 < n) --profit[pair_of(b, s[k + 2])];
        s[out++] = c;
        previous = b;
        previous_replaced = true;
        k += 2;
      } else {
        previous = s[k];
        previous_replaced = false;
        s[out++] = s[k++];
      }
      have_previous = true;
    }
    length[symbol] = static_cast<std::uint16_t>(out);
    for (std::size_t j = 0; j + 1 < out; ++j) {
      if (s[j] != c && s[j + 1] != c) continue;
      const std::uint32_t p = pair_of(s[j], s[j + 1]);
      ++profit[p];
      if (stamp[p] != symbol + 1) {
        stamp[p] = symbol + 1;
        list_symbol.push_back(symbol);
        list_next.push_back(list_head[p]);
        list_head[p] = static_cast<std::int32_t>(list_next.size() - 1);
      }
    }
  }
};

}  // namespace elfsieve::kernel::kallsyms
