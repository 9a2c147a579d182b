// elfsieve-kallsyms --dump: the ELF inside a kernel image. An x86 bzImage carries the vmlinux (objcopy -S, so
// without .symtab) compressed after its setup code; the boot protocol's setup header says where
// (Documentation/arch/x86/boot.rst: setup_sects, "HdrS", version >= 2.08 for payload_offset/payload_length). The
// kernel's build compresses it with gzip, xz, lzma, zstd, lz4 (legacy frames) or bzip2 and appends the
// decompressed size (scripts/Makefile.lib size_append). Tool layer only: the library reads ELF, never archives.
#pragma once

#include <bzlib.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "elfsieve/core/error.hpp"

namespace kallsyms_payload {

using elfsieve::errc;
using elfsieve::make_error;
using elfsieve::make_error_at;
using elfsieve::result;

// The most any payload may decompress to (a vmlinux is tens of megabytes).
inline constexpr std::size_t default_limit = std::size_t{1} << 30;

enum class compression : std::uint8_t { none, gzip, xz, lzma, zstd, lz4_legacy, lz4_frame, bzip2 };

[[nodiscard]] inline std::string_view name_of(compression c) noexcept {
  switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::xz: return "xz";
    case compression::lzma: return "lzma";
    case compression::zstd: return "zstd";
    case compression::lz4_legacy: return "lz4 (legacy)";
    case compression::lz4_frame: return "lz4";
    case compression::bzip2: return "bzip2";
  }
  return "unknown";
}

[[nodiscard]] inline bool starts_with(std::span<const std::byte> b, std::initializer_list<unsigned> magic) noexcept {
  if (b.size() < magic.size()) return false;
  std::size_t i = 0;
  for (unsigned m : magic)
    if (std::to_integer<unsigned>(b[i++]) != m) return false;
  return true;
}

// The format by its magic number.
[[nodiscard]] inline compression detect(std::span<const std::byte> b) noexcept {
  if (starts_with(b, {0x1f, 0x8b})) return compression::gzip;
  if (starts_with(b, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return compression::xz;
  if (starts_with(b, {0x28, 0xb5, 0x2f, 0xfd})) return compression::zstd;
  if (starts_with(b, {0x02, 0x21, 0x4c, 0x18})) return compression::lz4_legacy;
  if (starts_with(b, {0x04, 0x22, 0x4d, 0x18})) return compression::lz4_frame;
  if (starts_with(b, {'B', 'Z', 'h'}) && b.size() > 3 && std::to_integer<unsigned>(b[3]) - '1' < 9u)
    return compression::bzip2;
  // .lzma (LZMA_Alone): properties 0x5d (lc=3 lp=0 pb=2, what lzma -9 writes), then a dictionary size.
  if (starts_with(b, {0x5d, 0x00, 0x00})) return compression::lzma;
  return compression::none;
}

// The payload of an x86 boot image, or nullopt when `b` is not one; errc::bad_boot_image when its header is.
[[nodiscard]] inline std::optional<result<std::span<const std::byte>>> x86_boot_payload(
    std::span<const std::byte> b) noexcept {
  constexpr std::size_t header_magic = 0x202;
  if (b.size() < 0x250 || std::memcmp(b.data() + header_magic, "HdrS", 4) != 0) return std::nullopt;
  auto u16 = [&b](std::size_t at) {
    return static_cast<std::uint32_t>(std::to_integer<unsigned>(b[at]) | std::to_integer<unsigned>(b[at + 1]) << 8);
  };
  auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  if (u16(0x206) < 0x208) return result<std::span<const std::byte>>(make_error_at(errc::bad_boot_image, 0x206));
  std::uint64_t setup_sects = std::to_integer<unsigned>(b[0x1f1]);
  if (setup_sects == 0) setup_sects = 4;
  const std::uint64_t start = (setup_sects + 1) * 512 + u32(0x248);
  const std::uint64_t length = u32(0x24c);
  if (start > b.size() || length > b.size() - start)
    return result<std::span<const std::byte>>(make_error_at(errc::bad_boot_image, 0x248));
  return result<std::span<const std::byte>>(
      b.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(length)));
}

// An output buffer that never grows past `limit`: first as large as the size the kernel's build appended (when
// that is plausible), then doubling.
class bounded_output {
 public:
  bounded_output(std::vector<std::byte>& out, std::size_t limit, std::span<const std::byte> input)
      : out_(out), limit_(limit) {
    out_.clear();
    std::size_t hint = input.size() * 4;
    if (input.size() >= 4) {
      const auto* t = input.data() + input.size() - 4;
      const std::size_t appended = std::to_integer<std::size_t>(t[0]) | std::to_integer<std::size_t>(t[1]) << 8 |
                                   std::to_integer<std::size_t>(t[2]) << 16 | std::to_integer<std::size_t>(t[3]) << 24;
      // A kernel compresses at least twofold; a size beyond 64 times the input is not the appended size.
      if (appended >= input.size() && appended / 64 <= input.size()) hint = appended + 1;
    }
    out_.resize(std::min(std::max<std::size_t>(hint, 4096), limit_));
  }
  // Room for more output: false when the limit is reached.
  [[nodiscard]] bool grow() {
    if (out_.size() >= limit_) return false;
    out_.resize(std::min(limit_, out_.size() * 2));
    return true;
  }
  [[nodiscard]] std::byte* at(std::size_t used) noexcept { return out_.data() + used; }
  [[nodiscard]] std::size_t room(std::size_t used) const noexcept { return out_.size() - used; }
  void finish(std::size_t used) {
    out_.resize(used);
    out_.shrink_to_fit();
  }

 private:
  std::vector<std::byte>& out_;
  std::size_t limit_;
};

namespace detail {

inline result<void> gunzip(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit) {
  bounded_output buf(out, limit, in);
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) return make_error(errc::decompression_failed);
  std::size_t used = 0;
  std::size_t consumed = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (buf.room(used) == 0 && !buf.grow()) {
      inflateEnd(&s);
      return make_error(errc::decompressed_too_large);
    }
    const auto in_chunk = static_cast<uInt>(std::min<std::size_t>(in.size() - consumed, 1u << 30));
    const auto out_chunk = static_cast<uInt>(std::min<std::size_t>(buf.room(used), 1u << 30));
    s.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + consumed));  // zlib's API is not const
    s.avail_in = in_chunk;
    s.next_out = reinterpret_cast<Bytef*>(buf.at(used));
    s.avail_out = out_chunk;
    rc = inflate(&s, Z_NO_FLUSH);
    consumed += in_chunk - s.avail_in;
    used += out_chunk - s.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && s.avail_out == 0)) break;
    if (rc == Z_OK && consumed == in.size() && s.avail_out != 0) break;  // truncated
  }
  inflateEnd(&s);
  if (rc != Z_STREAM_END) return make_error(errc::decompression_failed);
  buf.finish(used);
  return {};
}

inline result<void> unxz(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit, bool alone) {
  bounded_output buf(out, limit, in);
  lzma_stream s = LZMA_STREAM_INIT;
  constexpr std::uint64_t memory_limit = std::uint64_t{1} << 28;  // the kernel's xz uses a 32 MiB dictionary
  const lzma_ret init = alone ? lzma_alone_decoder(&s, memory_limit) : lzma_stream_decoder(&s, memory_limit, 0);
  if (init != LZMA_OK) return make_error(errc::decompression_failed);
  s.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  s.avail_in = in.size();
  std::size_t used = 0;
  lzma_ret rc = LZMA_OK;
  while (rc == LZMA_OK) {
    if (buf.room(used) == 0 && !buf.grow()) {
      lzma_end(&s);
      return make_error(errc::decompressed_too_large);
    }
    const std::size_t room = buf.room(used);
    s.next_out = reinterpret_cast<std::uint8_t*>(buf.at(used));
    s.avail_out = room;
    rc = lzma_code(&s, LZMA_FINISH);
    used += room - s.avail_out;
    if (rc == LZMA_BUF_ERROR && s.avail_out == 0) rc = LZMA_OK;
  }
  lzma_end(&s);
  if (rc != LZMA_STREAM_END) return make_error(errc::decompression_failed);
  buf.finish(used);
  return {};
}

inline result<void> unzstd(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit) {
  bounded_output buf(out, limit, in);
  ZSTD_DStream* s = ZSTD_createDStream();
  if (s == nullptr) return make_error(errc::decompression_failed);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t used = 0;
  std::size_t rc = 1;
  while (rc != 0) {
    if (buf.room(used) == 0 && !buf.grow()) {
      ZSTD_freeDStream(s);
      return make_error(errc::decompressed_too_large);
    }
    ZSTD_outBuffer output{buf.at(used), buf.room(used), 0};
    rc = ZSTD_decompressStream(s, &output, &input);
    used += output.pos;
    // All input read, room left, and the frame not finished: truncated.
    if (ZSTD_isError(rc) || (rc != 0 && input.pos == input.size && output.pos < output.size)) {
      ZSTD_freeDStream(s);
      return make_error(errc::decompression_failed);
    }
  }
  ZSTD_freeDStream(s);
  buf.finish(used);
  return {};
}

// lz4 -l: the magic, then blocks of a little-endian compressed size and up to 8 MiB of output each, until the input
// ends (or what follows is no block: the size the kernel's build appends).
inline result<void> unlz4_legacy(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit) {
  constexpr std::size_t block_max = std::size_t{8} << 20;
  bounded_output buf(out, limit, in);
  std::size_t pos = 4;
  std::size_t used = 0;
  bool any = false;
  while (in.size() - pos >= 4) {
    const auto* p = in.data() + pos;
    const std::uint32_t block = std::to_integer<std::uint32_t>(p[0]) | std::to_integer<std::uint32_t>(p[1]) << 8 |
                                std::to_integer<std::uint32_t>(p[2]) << 16 | std::to_integer<std::uint32_t>(p[3]) << 24;
    if (block == 0x184c2102) {  // another legacy stream concatenated
      pos += 4;
      continue;
    }
    if (block == 0 || block > in.size() - pos - 4 ||
        block > static_cast<std::uint32_t>(LZ4_compressBound(static_cast<int>(block_max))))
      break;
    while (buf.room(used) < block_max)
      if (!buf.grow()) return make_error(errc::decompressed_too_large);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(p + 4), reinterpret_cast<char*>(buf.at(used)),
                                      static_cast<int>(block), static_cast<int>(block_max));
    if (n < 0) return make_error(errc::decompression_failed);
    used += static_cast<std::size_t>(n);
    pos += 4 + block;
    any = true;
  }
  if (!any) return make_error(errc::decompression_failed);
  buf.finish(used);
  return {};
}

inline result<void> unlz4_frame(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit) {
  bounded_output buf(out, limit, in);
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return make_error(errc::decompression_failed);
  std::size_t pos = 0;
  std::size_t used = 0;
  std::size_t rc = 1;
  while (rc != 0) {
    if (buf.room(used) == 0 && !buf.grow()) {
      LZ4F_freeDecompressionContext(ctx);
      return make_error(errc::decompressed_too_large);
    }
    const std::size_t room = buf.room(used);
    std::size_t out_size = room;
    std::size_t in_size = in.size() - pos;
    rc = LZ4F_decompress(ctx, buf.at(used), &out_size, in.data() + pos, &in_size, nullptr);
    pos += in_size;
    used += out_size;
    if (LZ4F_isError(rc) || (rc != 0 && pos == in.size() && out_size < room)) {
      LZ4F_freeDecompressionContext(ctx);
      return make_error(errc::decompression_failed);
    }
  }
  LZ4F_freeDecompressionContext(ctx);
  buf.finish(used);
  return {};
}

inline result<void> bunzip2(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit) {
  bounded_output buf(out, limit, in);
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return make_error(errc::decompression_failed);
  std::size_t consumed = 0;
  std::size_t used = 0;
  int rc = BZ_OK;
  while (rc == BZ_OK) {
    if (buf.room(used) == 0 && !buf.grow()) {
      BZ2_bzDecompressEnd(&s);
      return make_error(errc::decompressed_too_large);
    }
    const auto in_chunk = static_cast<unsigned>(std::min<std::size_t>(in.size() - consumed, 1u << 30));
    const auto out_chunk = static_cast<unsigned>(std::min<std::size_t>(buf.room(used), 1u << 30));
    s.next_in = reinterpret_cast<char*>(const_cast<std::byte*>(in.data() + consumed));  // bzlib's API is not const
    s.avail_in = in_chunk;
    s.next_out = reinterpret_cast<char*>(buf.at(used));
    s.avail_out = out_chunk;
    rc = BZ2_bzDecompress(&s);
    consumed += in_chunk - s.avail_in;
    used += out_chunk - s.avail_out;
    if (rc == BZ_OK && consumed == in.size() && s.avail_out != 0) break;  // truncated
  }
  BZ2_bzDecompressEnd(&s);
  if (rc != BZ_STREAM_END) return make_error(errc::decompression_failed);
  buf.finish(used);
  return {};
}

}  // namespace detail

// Decompresses `in` (format by its magic) into `out`, at most `limit` bytes.
inline result<void> decompress(std::span<const std::byte> in, std::vector<std::byte>& out,
                               std::size_t limit = default_limit) {
  switch (detect(in)) {
    case compression::gzip: return detail::gunzip(in, out, limit);
    case compression::xz: return detail::unxz(in, out, limit, false);
    case compression::lzma: return detail::unxz(in, out, limit, true);
    case compression::zstd: return detail::unzstd(in, out, limit);
    case compression::lz4_legacy: return detail::unlz4_legacy(in, out, limit);
    case compression::lz4_frame: return detail::unlz4_frame(in, out, limit);
    case compression::bzip2: return detail::bunzip2(in, out, limit);
    case compression::none: break;
  }
  return make_error(errc::unknown_compression);
}

// The ELF image an IMAGE argument holds: the bytes themselves when they are ELF, the decompressed payload of an
// x86 boot image, or the decompressed contents of a compressed file (vmlinux.xz). `storage` keeps decompressed
// bytes alive for the returned span.
inline result<std::span<const std::byte>> kernel_elf(std::span<const std::byte> bytes, std::vector<std::byte>& storage,
                                                     std::size_t limit = default_limit) {
  if (starts_with(bytes, {0x7f, 'E', 'L', 'F'})) return bytes;
  std::span<const std::byte> compressed = bytes;
  if (auto payload = x86_boot_payload(bytes)) {
    if (!*payload) return payload->error();
    compressed = payload->value();
    if (detect(compressed) == compression::none) return make_error(errc::unknown_compression);
  } else if (detect(compressed) == compression::none) {
    return make_error_at(errc::bad_magic, 0);
  }
  if (auto r = decompress(compressed, storage, limit); !r) return r.error();
  return std::span<const std::byte>(storage);
}

}  // namespace kallsyms_payload
