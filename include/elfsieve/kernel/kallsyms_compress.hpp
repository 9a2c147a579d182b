// scripts/kallsyms' token-table compressor (the same in 6.1 and 6.12): greedy byte-pair encoding into the byte
// codes no symbol uses. The codes are filled from 255 down to 0; each takes the pair of codes with the largest
// count over all symbols (the lowest pair number, first + 256 * second, among equal counts), and every symbol
// then has its pairs replaced left to right, without overlap. It stops when no pair occurs any more.
//
// The kernel rescans every symbol for every code. Here a code visits only positions where its pair may start, in
// increasing order (Re-Pair's bookkeeping with the kernel's order of codes and tie-breaks): time in proportion to
// the replacements and their neighbours, not to the symbols holding a pair. Where the positions come from:
//  - a pair of two name bytes only loses occurrences, so its list is built once at the start (a counting sort of
//    the positions by pair);
//  - a pair holding a token code is found from the positions where that code was placed: the round that made it
//    keeps the positions it replaced, in increasing order, over the front of its own list (or appended to a
//    second array when that list was itself found this way). Every live occurrence of the code is among them.
// Why no entry ever needs removing: a position's pair is (its code, the code of the next live position); it only
// changes when one of the two becomes a newer code (a replacement), and a position absorbed by the run before it
// takes the code of that round, so an entry that no longer holds the code or pair looked for is skipped for good.
// Visiting in increasing order replaces a pair of two equal codes ("aaaa") left to right, as the kernel's scan does.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
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

// Working memory of the compressor, kept between runs so nothing is allocated per symbol or per code. Arrays
// indexed by pair that are only read where they were written are left uninitialised, so their untouched pages
// cost nothing. release() frees the arrays that grow with the input (the next run allocates them again).
struct token_compressor {
  // Compresses the symbols in place: symbol i is bytes[start[i], start[i] + length[i]) (its type letter, then its
  // name; the symbols do not overlap), and length[i] shrinks as tokens replace pairs. Returns what every code
  // stands for.
  token_codes compress(std::span<std::uint8_t> bytes, std::span<const std::uint32_t> start,
                       std::span<std::uint16_t> length) {
    token_codes codes;
    const std::size_t size = bytes.size();
    code_ = bytes.data();
    size_ = size;
    if (!profit_) {
      profit_ = std::make_unique_for_overwrite<std::int32_t[]>(pairs);
      first_of_pair_ = std::make_unique_for_overwrite<std::uint32_t[]>(pairs + 1);
      fill_ = std::make_unique_for_overwrite<std::uint32_t[]>(pairs);
    }
    std::fill_n(profit_.get(), pairs, 0);
    // Position `size` is live and a boundary: bit scans stop there without a bounds check.
    live_.assign(size / 64 + 1, 0);
    boundary_.assign(size / 64 + 1, 0);
    for (std::size_t i = 0; i < start.size(); ++i) {
      mark_live(start[i], std::size_t{start[i]} + length[i]);
      mark_boundary(start[i]);
      mark_boundary(std::size_t{start[i]} + length[i]);
    }
    mark_live(size, size + 1);
    mark_boundary(size);

    // learn_symbol over every symbol and insert_real_symbols_in_table, then the occurrence lists of the pairs of
    // name bytes (a counting sort of the positions by pair: each list in increasing order).
    // A byte is used if it ends a symbol or starts a pair (marked while the pairs are summed below).
    std::array<std::uint8_t, 256> used{};
    for (std::size_t i = 0; i < start.size(); ++i) {
      const std::uint8_t* s = code_ + start[i];
      const std::size_t n = length[i];
      if (n > 0) used[s[n - 1]] = 1;
      for (std::size_t k = 0; k + 1 < n; ++k) ++profit_[pair_of(s[k], s[k + 1])];
    }
    std::uint32_t total = 0;
    for (std::size_t p = 0; p < pairs; ++p) {
      first_of_pair_[p] = total;
      total += static_cast<std::uint32_t>(profit_[p]);
      if (profit_[p] != 0) used[p & 0xff] = 1;
    }
    for (std::size_t b = 0; b < 256; ++b)
      if (used[b] != 0) {
        codes.pair[b][0] = static_cast<std::uint8_t>(b);
        codes.length[b] = 1;
      }
    first_of_pair_[pairs] = total;
    name_positions_.resize(total);
    {
      std::uint32_t* fill = fill_.get();  // the next free slot of each pair's list
      std::copy_n(first_of_pair_.get(), pairs, fill);
      for (std::size_t i = 0; i < start.size(); ++i)
        for (std::uint32_t k = start[i], end = start[i] + length[i]; k + 1 < end; ++k)
          name_positions_[fill[pair_of(code_[k], code_[k + 1])]++] = k;
    }
    // There are fewer replacements than bytes: reserved once, its pages touched only as they are filled.
    token_positions_.clear();
    token_positions_.reserve(size);
    heap_.clear();
    for (std::uint32_t p = 0; p < pairs; ++p)
      if (profit_[p] > 0) heap_.push_back(entry(static_cast<std::uint32_t>(profit_[p]), p));
    std::make_heap(heap_.begin(), heap_.end());

    // optimize_result: the free codes from 255 down to 0.
    for (int code = 255; code >= 0; --code) {
      const auto c = static_cast<std::uint8_t>(code);
      if (codes.length[c] != 0) continue;
      const std::uint32_t best = best_pair();
      if (best >= pairs) break;  // no pair occurs any more
      const auto a = static_cast<std::uint8_t>(best & 0xff), b = static_cast<std::uint8_t>(best >> 8);
      const bool a_token = codes.length[a] == 2, b_token = codes.length[b] == 2;
      codes.length[c] = 2;
      codes.pair[c] = {a, b};
      left_count_.fill(0);
      right_count_.fill(0);
      if (!a_token && !b_token) {
        // The pair's own list; the positions replaced are written over its front, as c's positions.
        std::uint32_t* list = name_positions_.data() + first_of_pair_[best];
        const std::uint32_t listed = first_of_pair_[best + 1] - first_of_pair_[best];
        std::uint32_t replaced = 0;
        for (std::uint32_t k = 0; k < listed; ++k) {
          // The positions are scattered over the names: ask for one a few ahead while this one is replaced.
          if (k + prefetch_distance < listed) prefetch(code_ + list[k + prefetch_distance]);
          const std::uint32_t at = list[k];
          // A name byte is never a token code: a position holding a and the next one b were never replaced, so
          // both are live, and the next one is in the same symbol, as it was when the position was listed.
          if (code_[at] == a && code_[at + 1] == b) {
            replace_at(at, at + 1, a, b, c);
            list[replaced++] = at;
          }
        }
        positions_[c] = {true, first_of_pair_[best], replaced};
      } else {
        // The positions of a token code in the pair (the one with fewer, when both are): every occurrence is there,
        // as the first or the second code, in increasing order.
        const bool by_second = b_token && (!a_token || positions_[b].count <= positions_[a].count);
        const std::uint8_t listed_code = by_second ? b : a;
        const code_positions from = positions_[listed_code];
        const std::vector<std::uint32_t>& held = from.in_names ? name_positions_ : token_positions_;
        const auto first = static_cast<std::uint32_t>(token_positions_.size());
        for (std::uint32_t k = 0; k < from.count; ++k) {
          const std::uint32_t at = held[from.begin + k];  // by index: token_positions_ grows meanwhile
          if (code_[at] != listed_code) continue;         // no longer holds that code
          const std::uint32_t occurrence = by_second ? previous_of(at) : at;
          if (occurrence != none && replace(occurrence, a, b, c)) token_positions_.push_back(occurrence);
        }
        positions_[c] = {false, first, static_cast<std::uint32_t>(token_positions_.size()) - first};
      }
      push_new_pairs(c);
    }

    // The symbols' live codes, moved to the front of each symbol: the set bits of live_ in [start, end), a word at a
    // time.
    for (std::size_t i = 0; i < start.size(); ++i) {
      const std::size_t begin = start[i], end = begin + length[i];
      std::size_t out = begin;
      for (std::size_t word = begin / 64; word * 64 < end; ++word) {
        std::uint64_t bits = live_[word];
        if (word == begin / 64) bits &= ~std::uint64_t{0} << (begin % 64);
        if ((word + 1) * 64 > end) bits &= (std::uint64_t{1} << (end % 64)) - 1;  // end % 64 != 0 here
        for (; bits != 0; bits &= bits - 1)
          code_[out++] = code_[word * 64 + static_cast<std::size_t>(std::countr_zero(bits))];
      }
      length[i] = static_cast<std::uint16_t>(out - begin);
    }
    return codes;
  }

  // Allocates the list of pairs of name bytes for `bytes` bytes in `symbols` symbols (at most one pair per byte but a
  // symbol's last) now rather than in compress(): a caller that has just freed a large array has its pages reused.
  void reserve(std::size_t bytes, std::size_t symbols) { name_positions_.reserve(bytes - std::min(bytes, symbols)); }

  // Frees the position lists and bit sets, whose size follows the input (4 bytes per byte of the names, and more):
  // a caller with one input gives their pages to what it allocates next.
  void release() noexcept {
    std::vector<std::uint32_t>().swap(name_positions_);
    std::vector<std::uint32_t>().swap(token_positions_);
    std::vector<std::uint64_t>().swap(live_);
    std::vector<std::uint64_t>().swap(boundary_);
  }

 private:
  static constexpr std::size_t pairs = 0x10000;

  static constexpr std::uint32_t prefetch_distance = 8;
  static void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
  }

  [[nodiscard]] static constexpr std::uint32_t pair_of(std::uint8_t first, std::uint8_t second) noexcept {
    return first + (std::uint32_t{second} << 8);
  }

  // Heap entries order by count, then by the lower pair number (the kernel keeps the first of equal counts).
  [[nodiscard]] static constexpr std::uint64_t entry(std::uint32_t count, std::uint32_t pair) noexcept {
    return std::uint64_t{count} << 16 | (0xffffu - pair);
  }

  // find_best_token without scanning all pairs per code: a pair's count only grows in the round that makes the
  // newer of its codes (or at the start) and only shrinks after that, so a max-heap of (count, pair) entries
  // pushed after each growth holds an upper bound of every count; an entry whose count has shrunk since is pushed
  // again with its count. Returns the first pair with the largest count, or `pairs` when every count is 0.
  [[nodiscard]] std::uint32_t best_pair() {
    while (!heap_.empty()) {
      const std::uint64_t top = heap_.front();
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
      const auto pair = static_cast<std::uint32_t>(0xffffu - (top & 0xffffu));
      const auto count = static_cast<std::uint32_t>(profit_[pair]);
      if (count == top >> 16) return pair;
      if (count > 0) {
        heap_.push_back(entry(count, pair));  // shrunk since it was pushed
        std::push_heap(heap_.begin(), heap_.end());
      }
    }
    return pairs;
  }

  // Positions: a live position starts a run of original bytes that one code now stands for (live_ has a bit per
  // position); the bytes after it in the run are dead. A dead position holds the code of the round that absorbed
  // it, which no listed pair of it holds. Runs are short, so the next and previous live positions are a bit scan
  // away, mostly in the same word.
  void mark_live(std::size_t begin, std::size_t end) {
    while (begin < end) {
      const std::size_t bits = std::min<std::size_t>(64 - begin % 64, end - begin);
      const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
      live_[begin / 64] |= mask << (begin % 64);
      begin += bits;
    }
  }
  // The first live position from `position` (at most size_) on, in any symbol; size_ when there is none.
  [[nodiscard]] std::size_t live_from(std::size_t position) const noexcept {
    std::size_t word = position / 64;
    std::uint64_t bits = live_[word] & (~std::uint64_t{0} << (position % 64));
    while (bits == 0) bits = live_[++word];  // the bit of size_ ends the scan
    return word * 64 + static_cast<std::size_t>(std::countr_zero(bits));
  }
  void mark_boundary(std::size_t position) { boundary_[position / 64] |= std::uint64_t{1} << (position % 64); }
  // A symbol starts at `position`, or it is past the end of one (a symbol's last run is followed by a boundary), or
  // it is size_.
  [[nodiscard]] bool boundary(std::size_t position) const noexcept {
    return ((boundary_[position / 64] >> (position % 64)) & 1) != 0;
  }
  static constexpr std::uint32_t none = 0xffffffffu;
  [[nodiscard]] std::uint32_t next_of(std::uint32_t position) const noexcept {
    const std::size_t next = live_from(std::size_t{position} + 1);
    return boundary(next) ? none : static_cast<std::uint32_t>(next);
  }
  // The first position of a symbol stays live, so a position inside one has a live position before it.
  [[nodiscard]] std::uint32_t previous_of(std::uint32_t position) const noexcept {
    if (boundary(position)) return none;
    std::size_t word = position / 64;
    std::uint64_t bits = live_[word] & ((std::uint64_t{1} << (position % 64)) - 1);
    while (bits == 0) {
      if (word == 0) return none;
      bits = live_[--word];
    }
    return static_cast<std::uint32_t>(word * 64 + 63 - static_cast<std::size_t>(std::countl_zero(bits)));
  }

  // compress_symbols at one position: if (a, b) still starts there, and it was not taken by the occurrence just
  // before (an earlier position, visited first), replace it by c and say so. The counts change as the
  // kernel's forget_symbol / learn_symbol would change them: the old pairs touching the occurrence go, the pairs
  // with c come. A pair (c, x) is not made when x starts the next occurrence: that one makes (c, c) instead.
  [[gnu::always_inline]] bool replace(std::uint32_t p, std::uint8_t a, std::uint8_t b, std::uint8_t c) {
    if (code_[p] != a) return false;
    const std::uint32_t n = next_of(p);
    if (n == none || code_[n] != b) return false;
    replace_at(p, n, a, b, c);
    return true;
  }
  // The replacement of the occurrence of (a, b) at live positions p and n, the next one.
  [[gnu::always_inline]] void replace_at(std::uint32_t p, std::uint32_t n, std::uint8_t a, std::uint8_t b,
                                         std::uint8_t c) {
    const std::uint32_t left = previous_of(p);
    const std::uint32_t right = next_of(n);
    // A left neighbour holding c was replaced just before, and the pair (b, a) between them went then.
    if (left != none && code_[left] != c) --profit_[pair_of(code_[left], a)];
    --profit_[pair_of(a, b)];
    if (right != none) --profit_[pair_of(b, code_[right])];
    live_[n / 64] &= ~(std::uint64_t{1} << (n % 64));
    code_[p] = c;
    code_[n] = c;
    if (left != none) ++left_count_[code_[left]];  // (x, c), or (c, c)
    if (right != none) {
      const bool next_occurrence = code_[right] == a && [&] {
        const std::uint32_t after = next_of(right);
        return after != none && code_[after] == b;
      }();
      if (!next_occurrence) ++right_count_[code_[right]];
    }
  }

  // The round's new pairs, (x, c) counted in left_count_[x] and (c, x) in right_count_[x]: their counts, pushed on
  // the heap. Their occurrences need no list of their own: they are found from c's positions.
  void push_new_pairs(std::uint8_t c) {
    for (int side = 0; side < 2; ++side) {
      const std::array<std::uint32_t, 256>& count = side == 0 ? left_count_ : right_count_;
      for (std::size_t x = 0; x < 256; ++x) {
        if (count[x] == 0) continue;
        const std::uint32_t p =
            side == 0 ? pair_of(static_cast<std::uint8_t>(x), c) : pair_of(c, static_cast<std::uint8_t>(x));
        profit_[p] += static_cast<std::int32_t>(count[x]);
        heap_.push_back(entry(static_cast<std::uint32_t>(profit_[p]), p));
        std::push_heap(heap_.begin(), heap_.end());
      }
    }
  }

  // Where a token code was placed: the positions its round replaced, in increasing order (some may have been
  // replaced since), in name_positions_ or token_positions_.
  struct code_positions {
    bool in_names = false;
    std::uint32_t begin = 0, count = 0;
  };

  std::uint8_t* code_ = nullptr;  // the symbols' bytes, rewritten in place
  std::size_t size_ = 0;
  std::vector<std::uint64_t> live_;                 // bit per position: it starts a run
  std::vector<std::uint64_t> boundary_;             // bit per position: a symbol starts there, or one ends before it
  std::unique_ptr<std::int32_t[]> profit_;          // token_profit: occurrences of each pair
  std::unique_ptr<std::uint32_t[]> first_of_pair_;  // the lists of pairs of name bytes, in name_positions_
  std::vector<std::uint32_t> name_positions_;
  std::unique_ptr<std::uint32_t[]> fill_;
  std::vector<std::uint32_t> token_positions_;  // the positions of codes made from pairs with a token code
  std::array<code_positions, 256> positions_{};
  std::array<std::uint32_t, 256> left_count_{}, right_count_{};
  std::vector<std::uint64_t> heap_;  // count << 16 | (0xffff - pair)
};

}  // namespace elfsieve::kernel::kallsyms
