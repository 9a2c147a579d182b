// file<L>: a checked, zero-copy view of one ELF object in layout L, and its section header table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "elfsieve/core/bytes.hpp"
#include "elfsieve/detail/index_iterator.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/core/layout.hpp"
#include "elfsieve/read/strings.hpp"

namespace elfsieve {

// One section header with its index; the accessors return host-order values.
template <elf_layout L>
class section_ref {
 public:
  using shdr = typename L::shdr;
  constexpr section_ref(const shdr* header, section_index index) noexcept : h_(header), index_(index) {}

  [[nodiscard]] section_index index() const noexcept { return index_; }
  [[nodiscard]] const shdr& header() const noexcept { return *h_; }
  [[nodiscard]] std::uint32_t name_offset() const noexcept { return h_->sh_name.value(); }
  [[nodiscard]] std::uint32_t type() const noexcept { return h_->sh_type.value(); }
  [[nodiscard]] std::uint64_t flags() const noexcept { return h_->sh_flags.value(); }
  [[nodiscard]] std::uint64_t addr() const noexcept { return h_->sh_addr.value(); }
  [[nodiscard]] std::uint64_t offset() const noexcept { return h_->sh_offset.value(); }
  [[nodiscard]] std::uint64_t size() const noexcept { return h_->sh_size.value(); }
  [[nodiscard]] std::uint32_t link() const noexcept { return h_->sh_link.value(); }
  [[nodiscard]] std::uint32_t info() const noexcept { return h_->sh_info.value(); }
  [[nodiscard]] std::uint64_t addralign() const noexcept { return h_->sh_addralign.value(); }
  [[nodiscard]] std::uint64_t entsize() const noexcept { return h_->sh_entsize.value(); }
  [[nodiscard]] bool has_flag(std::uint64_t flag) const noexcept { return (flags() & flag) != 0; }

 private:
  const shdr* h_;
  section_index index_;
};

template <elf_layout L>
class section_table;

template <elf_layout L>
class file {
 public:
  using layout_type = L;
  using ehdr = typename L::ehdr;
  using shdr = typename L::shdr;
  using phdr = typename L::phdr;

  // Checks the identification and the file header only; every table is checked by the accessor that reads it.
  [[nodiscard]] static result<file> create(std::span<const std::byte> bytes) noexcept {
    if (bytes.size() < elf::EI_NIDENT) return make_error_at(errc::truncated_header, 0);
    if (bytes[0] != std::byte{0x7f} || bytes[1] != std::byte{'E'} || bytes[2] != std::byte{'L'} ||
        bytes[3] != std::byte{'F'})
      return make_error_at(errc::bad_magic, 0);
    if (std::to_integer<std::uint8_t>(bytes[elf::EI_CLASS]) != L::elf_class)
      return make_error_at(errc::bad_class, elf::EI_CLASS);
    if (std::to_integer<std::uint8_t>(bytes[elf::EI_DATA]) != L::elf_data)
      return make_error_at(errc::bad_data_encoding, elf::EI_DATA);
    if (std::to_integer<std::uint8_t>(bytes[elf::EI_VERSION]) != elf::EV_CURRENT)
      return make_error_at(errc::bad_version, elf::EI_VERSION);
    ELFSIEVE_TRY(const ehdr* header, record_at<ehdr>(bytes, 0, errc::truncated_header));
    if (header->e_version.value() != elf::EV_CURRENT)
      return make_error_at(errc::bad_version, offsetof(ehdr, e_version));
    if (header->e_ehsize.value() < sizeof(ehdr)) return make_error_at(errc::bad_ehsize, offsetof(ehdr, e_ehsize));
    return file(bytes, header);
  }

  // A view must not outlive its bytes: refuse to build one over a temporary owning buffer.
  template <class Owner>
  requires(std::is_rvalue_reference_v<Owner&&> && !std::ranges::borrowed_range<Owner> &&
           std::is_constructible_v<std::span<const std::byte>, Owner&&>) static result<file> create(Owner&&) = delete;

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
  [[nodiscard]] const ehdr& header() const noexcept { return *eh_; }
  [[nodiscard]] std::uint16_t type() const noexcept { return eh_->e_type.value(); }
  [[nodiscard]] std::uint16_t machine() const noexcept { return eh_->e_machine.value(); }
  [[nodiscard]] std::uint32_t flags() const noexcept { return eh_->e_flags.value(); }
  [[nodiscard]] std::uint64_t entry() const noexcept { return eh_->e_entry.value(); }
  [[nodiscard]] std::uint8_t os_abi() const noexcept {
    return std::to_integer<std::uint8_t>(eh_->e_ident[elf::EI_OSABI]);
  }

  // Section 0, which carries the extended counts; null when the file has no section header table. The one place
  // that reads it, so the three escapes (e_shnum == 0, SHN_XINDEX e_shstrndx, PN_XNUM) agree.
  [[nodiscard]] result<const shdr*> section_zero() const noexcept {
    const std::uint64_t shoff = eh_->e_shoff.value();
    if (shoff == 0) return static_cast<const shdr*>(nullptr);
    if (eh_->e_shentsize.value() != sizeof(shdr))
      return make_error_at(errc::bad_shentsize, offsetof(ehdr, e_shentsize));
    return record_at<shdr>(bytes_, shoff, errc::section_table_out_of_bounds, section_index(0));
  }

  // The section header table with the extended section count resolved.
  [[nodiscard]] result<std::span<const shdr>> section_headers() const noexcept {
    ELFSIEVE_TRY(const shdr* zero, section_zero());
    if (zero == nullptr) return std::span<const shdr>{};
    std::uint64_t count = eh_->e_shnum.value();
    if (count == 0) count = zero->sh_size.value();
    if (count == 0) return std::span<const shdr>{};  // e_shoff set but no sections: readelf accepts it too
    if (count > 0xffffffffu)
      return make_error(errc::section_table_out_of_bounds, section_index(0), eh_->e_shoff.value());
    return records_at<shdr>(bytes_, eh_->e_shoff.value(), count, errc::section_table_out_of_bounds);
  }

  // The section-name string table index with the SHN_XINDEX escape resolved; 0 when there is none.
  [[nodiscard]] result<section_index> shstrndx(std::size_t section_count) const noexcept {
    std::uint32_t index = eh_->e_shstrndx.value();
    if (index == elf::SHN_XINDEX) {
      ELFSIEVE_TRY(const shdr* zero, section_zero());
      if (zero == nullptr) return make_error_at(errc::no_section_headers, offsetof(ehdr, e_shstrndx));
      index = zero->sh_link.value();
    }
    if (index != 0 && index >= section_count)
      return with_detail(make_error_at(errc::bad_shstrndx, offsetof(ehdr, e_shstrndx)), index);
    return section_index(index);
  }

  [[nodiscard]] result<section_table<L>> sections() const noexcept;

  // The program header table with the PN_XNUM escape resolved.
  [[nodiscard]] result<std::span<const phdr>> program_headers() const noexcept {
    const std::uint64_t phoff = eh_->e_phoff.value();
    std::uint64_t count = eh_->e_phnum.value();
    if (phoff == 0 || count == 0) return std::span<const phdr>{};
    if (eh_->e_phentsize.value() != sizeof(phdr))
      return make_error_at(errc::bad_phentsize, offsetof(ehdr, e_phentsize));
    if (count == elf::PN_XNUM) {
      ELFSIEVE_TRY(const shdr* zero, section_zero());
      if (zero == nullptr) return make_error_at(errc::no_section_headers, offsetof(ehdr, e_phnum));
      count = zero->sh_info.value();
    }
    return records_at<phdr>(bytes_, phoff, count, errc::program_table_out_of_bounds);
  }

  // The bytes a program header covers in the file.
  [[nodiscard]] result<std::span<const std::byte>> segment_data(const phdr& p) const noexcept {
    return subspan_checked(bytes_, p.p_offset.value(), p.p_filesz.value(), errc::segment_out_of_bounds);
  }

 private:
  file(std::span<const std::byte> bytes, const ehdr* header) noexcept : bytes_(bytes), eh_(header) {}
  std::span<const std::byte> bytes_;
  const ehdr* eh_;
};

// The section header table plus section names; the entry point to every per-section accessor.
template <elf_layout L>
class section_table {
 public:
  using shdr = typename L::shdr;
  using ref = section_ref<L>;

  section_table(std::span<const std::byte> file_bytes, std::span<const shdr> headers, result<section_index> shstrndx)
      : bytes_(file_bytes), headers_(headers) {
    if (!shstrndx) {
      names_error_ = shstrndx.error();
      return;
    }
    names_index_ = shstrndx.value();
    if (names_index_.value == 0) return;  // no section names at all
    auto names = string_table_at(names_index_);
    if (names) names_ = names.value();
    else names_error_ = names.error();
  }

  [[nodiscard]] std::size_t size() const noexcept { return headers_.size(); }
  [[nodiscard]] bool empty() const noexcept { return headers_.empty(); }
  [[nodiscard]] bool contains(section_index i) const noexcept { return i.value < headers_.size(); }
  [[nodiscard]] std::span<const shdr> headers() const noexcept { return headers_; }
  [[nodiscard]] std::span<const std::byte> file_bytes() const noexcept { return bytes_; }
  [[nodiscard]] section_index shstrndx() const noexcept { return names_index_; }
  // Whether the section names can be read: the error e_shstrndx gave (bad_shstrndx, not_a_string_table, ...), if
  // any. Readers may carry on without names; a writer must refuse, since it rebuilds the names it cannot read.
  [[nodiscard]] result<void> names_status() const noexcept {
    if (names_error_.code != errc{}) return names_error_;
    return {};
  }

  // Caller contract: i < size().
  [[nodiscard]] ref operator[](section_index i) const noexcept {
    Expects(i.value < headers_.size());
    return ref(&headers_[i.value], i);
  }
  // For an index from the caller or the file: errc::bad_section_index with the index as detail.
  [[nodiscard]] result<ref> at(section_index i) const noexcept {
    if (i.value >= headers_.size()) return with_detail(make_error(errc::bad_section_index), i.value);
    return ref(&headers_[i.value], i);
  }
  // The section a header field of `from` names (sh_link, sh_info): `code` at that field's file offset, with the
  // field's value as detail, when it is out of range.
  [[nodiscard]] result<ref> named_by(const ref& from, std::uint32_t i, errc code,
                                     std::size_t field_offset) const noexcept {
    if (i >= headers_.size())
      return with_detail(make_error(code, from.index(), offset_of_header(from) + field_offset), i);
    return ref(&headers_[i], section_index(i));
  }

  using iterator = detail::index_iterator<section_table, section_index>;
  [[nodiscard]] iterator begin() const noexcept { return iterator(this, 0); }
  [[nodiscard]] iterator end() const noexcept { return iterator(this, headers_.size()); }

  // The section's name; empty when the file has no section-name table.
  [[nodiscard]] result<std::string_view> name(const ref& s) const noexcept {
    if (names_error_.code != errc{}) return names_error_;
    if (names_index_.value == 0) return std::string_view{};
    auto n = names_.get(s.name_offset());
    if (!n) return make_error(errc::string_out_of_range, s.index(), offset_of_header(s));
    return n;
  }

  // First section called `name`, or errc::not_found.
  [[nodiscard]] result<ref> find(std::string_view wanted) const noexcept {
    for (ref s : *this) {
      auto n = name(s);
      if (n && n.value() == wanted) return s;
    }
    return make_error(errc::not_found);
  }

  // First section of type `type`, or errc::not_found.
  [[nodiscard]] result<ref> find_type(std::uint32_t type) const noexcept {
    for (ref s : *this)
      if (s.type() == type) return s;
    return make_error(errc::not_found);
  }

  // The section's bytes in the file; empty for SHT_NOBITS whatever its offset says.
  [[nodiscard]] result<std::span<const std::byte>> data(const ref& s) const noexcept {
    if (s.type() == elf::SHT_NOBITS) return std::span<const std::byte>{};
    return subspan_checked(bytes_, s.offset(), s.size(), errc::section_out_of_bounds, s.index());
  }

  // The section's contents as records of type T, with sh_entsize == sizeof(T) and sh_size a multiple of it.
  template <pod_record T>
  [[nodiscard]] result<std::span<const T>> records(const ref& s) const noexcept {
    if (s.entsize() != sizeof(T)) return make_error(errc::bad_entsize, s.index(), s.offset());
    return records_unchecked_entsize<T>(s);
  }

  // Same, for sections whose sh_entsize is conventionally 0 or unreliable (groups, RELR in old producers).
  template <pod_record T>
  [[nodiscard]] result<std::span<const T>> records_unchecked_entsize(const ref& s) const noexcept {
    if (s.size() % sizeof(T) != 0) return make_error(errc::bad_section_size, s.index(), s.offset());
    if (s.type() == elf::SHT_NOBITS) return std::span<const T>{};
    return records_at<T>(bytes_, s.offset(), s.size() / sizeof(T), errc::section_out_of_bounds, s.index());
  }

  // Section i as a string table (SHT_STRTAB, non-empty, NUL-terminated).
  [[nodiscard]] result<string_table> string_table_at(section_index i) const noexcept {
    ELFSIEVE_TRY(const ref s, at(i));
    if (s.type() != elf::SHT_STRTAB) return make_error(errc::not_a_string_table, i, s.offset());
    ELFSIEVE_TRY(const auto bytes, data(s));
    return string_table::create(bytes, i, s.offset());
  }

  // The section that s.sh_link names, which must be one of `types` and not s itself.
  [[nodiscard]] result<ref> linked(const ref& s, std::initializer_list<std::uint32_t> types) const noexcept {
    ELFSIEVE_TRY(const ref target, named_by(s, s.link(), errc::bad_link, offsetof(shdr, sh_link)));
    const error wrong = make_error(errc::wrong_link_type, s.index(), offset_of_header(s) + offsetof(shdr, sh_link));
    if (target.index() == s.index()) return wrong;
    for (std::uint32_t t : types)
      if (target.type() == t) return target;
    return wrong;
  }

  // File offset of a section header, for error reports.
  [[nodiscard]] std::uint64_t offset_of_header(const ref& s) const noexcept {
    return static_cast<std::uint64_t>(reinterpret_cast<const std::byte*>(&s.header()) - bytes_.data());
  }

 private:
  std::span<const std::byte> bytes_;
  std::span<const shdr> headers_;
  string_table names_{};
  section_index names_index_{};  // 0: the file has no section names
  error names_error_{};
};

template <elf_layout L>
result<section_table<L>> file<L>::sections() const noexcept {
  ELFSIEVE_TRY(const auto headers, section_headers());
  return section_table<L>(bytes_, headers, shstrndx(headers.size()));
}

}  // namespace elfsieve
