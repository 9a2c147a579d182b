// elfsieve-kallsyms --dump and --verify over arbitrary bytes: the boot-image payload reader and its capped
// decompressors, the kallsyms table finder (by symbols and by scanning), the decoder, the /proc/kallsyms listing,
// and regenerating the tables from the image's symbols and comparing. Errors are fine; crashes, hangs, UB, leaks
// and allocations out of proportion to the input are not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "../examples/kallsyms_payload.hpp"
#include "elfsieve/kernel/kallsyms_generate.hpp"
#include "elfsieve/kernel/kallsyms_image.hpp"
#include "elfsieve/kernel/system_map.hpp"

namespace {

namespace ks = elfsieve::kernel::kallsyms;

// A payload may decompress to this much here (the tool allows 1 GiB): enough for any seed, small for libFuzzer.
constexpr std::size_t payload_limit = std::size_t{32} << 20;
// Regenerating compresses every name: only for images with few symbols.
constexpr std::uint32_t verify_max_symbols = 4096;

std::uint64_t run(std::span<const std::byte> input) {
  std::vector<std::byte> storage;
  auto bytes = kallsyms_payload::kernel_elf(input, storage, payload_limit);
  if (!bytes) return static_cast<std::uint64_t>(bytes.error().code);
  auto image = ks::read_image_tables(bytes.value());
  if (!image) return static_cast<std::uint64_t>(image.error().code);
  std::uint64_t folded = image->contents.num_syms + image->inferred.all_symbols + image->found_by_symbols;
  auto listing = ks::expand_symbols(image.value());
  if (listing) {
    // A decoded listing has one entry per symbol and lists only what the tables hold.
    if (listing->size() != image->contents.num_syms) std::abort();
    std::string text;
    ks::append_proc_kallsyms(text, listing.value());
    folded += text.size();
  } else {
    folded += static_cast<std::uint64_t>(listing.error().code);
  }
  if (ks::first_difference(image->contents, image->contents)) std::abort();  // a table equals itself
  if (image->contents.num_syms <= verify_max_symbols) {
    elfsieve::kernel::system_map map;
    if (elfsieve::kernel::read_system_map(bytes.value(), image->inferred.version, map) &&
        map.entries.size() <= verify_max_symbols) {
      ks::generation regenerated;
      if (ks::generate(map, image->inferred, regenerated)) {
        if (auto d = ks::first_difference(image->contents, regenerated.tables))
          folded += static_cast<std::uint64_t>(d->table) + d->position;
      }
    }
  }
  return folded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  static volatile std::uint64_t keep = 0;
  keep = keep + run(bytes);
  return 0;
}
