// Errors from file contents are values: a code, a fixed message, the section index and the file offset.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <new>
#include <type_traits>
#include <utility>

#include <gsl/assert>

#include "elfsieve/core/index.hpp"

namespace elfsieve {

enum class errc : std::uint16_t {
  // file header
  truncated_header = 1,  // shorter than e_ident or the layout's file header
  bad_magic,             // not \x7fELF
  bad_class,             // EI_CLASS not ELFCLASS32/64, or not the layout asked for
  bad_data_encoding,     // EI_DATA not LSB/MSB, or not the layout asked for
  bad_version,           // EI_VERSION / e_version not EV_CURRENT
  bad_ehsize,            // e_ehsize smaller than the layout's file header
  // section and program header tables
  bad_shentsize,  // e_shentsize is not sizeof(Shdr)
  bad_phentsize,  // e_phentsize is not sizeof(Phdr)
  section_table_out_of_bounds,
  program_table_out_of_bounds,
  bad_shstrndx,        // e_shstrndx (or its SHN_XINDEX escape) out of range
  no_section_headers,  // an escape needs section 0 and there is none
  bad_section_index,   // a section index from the caller or the file is out of range (detail: the index)
  // section contents
  section_out_of_bounds,  // sh_offset + sh_size past EOF or wrapping
  wrong_section_type,     // the section is not of the type the accessor reads
  bad_entsize,            // sh_entsize is not the record size
  bad_section_size,       // sh_size is not a multiple of the record size
  bad_link,               // sh_link out of range (offset: the sh_link field; detail: its value)
  wrong_link_type,        // sh_link names a section of the wrong type (or itself)
  bad_info,               // sh_info out of range (offset: the sh_info field; detail: its value)
  // strings
  not_a_string_table,
  empty_string_table,
  string_table_not_terminated,
  string_out_of_range,  // sh_name / st_name / vd_name ... past the end of its table
  // symbols and relocations
  bad_symbol_index,       // r_sym (or another symbol reference) >= symbol count (detail: the index)
  wrong_symbol_table,     // a relocation resolved against a table other than its sh_link
  bad_symbol_section,     // st_shndx >= section count, or an extended index out of range
  missing_symtab_shndx,   // SHN_XINDEX without an SHT_SYMTAB_SHNDX table
  symtab_shndx_mismatch,  // SHT_SYMTAB_SHNDX entry count differs from the symbol table's
  // groups, notes, versions, relr
  bad_group,
  bad_note,
  bad_version_data,
  bad_relr,
  // policy expressions (detail: the character position in the expression)
  policy_unexpected_character,  // text left after a complete expression
  unknown_policy,               // a word that is no atom
  policy_too_deep,              // more nesting than policy_expr::max_depth
  policy_missing_paren,         // "(" without its ")"
  policy_empty_argument,        // name: or names: without an argument
  policy_expected_name,         // an operator where an atom belongs (or nothing at all)
  policy_names_unavailable,     // names: FILE where no loader reads files
  // I/O (mapped_file, output); sys_errno says why
  io_error,  // reading a file failed (mapped_file; names: files)
  not_found,
  // rewriting (strip plan, writer, fill)
  output_too_large,                   // the rewritten object would not fit the layout's offsets or counts
  fill_too_large,                     // fill data longer than the section (offset = bytes missing)
  fill_bad_section,                   // the section has no file bytes to fill (SHT_NOBITS)
  fill_bad_symbol,                    // the length symbol is not a defined symbol inside a section's file bytes
  allocated_table,                    // a table the writer rebuilds (.symtab, its strings, section names) is SHF_ALLOC
  multiple_symbol_tables,             // more than one SHT_SYMTAB section
  relocations_against_rebuilt_table,  // relocations apply to a table the writer rebuilds
  rebuilt_table_removed,              // the symbol table, its strings or the section names were asked to go
  group_members_kept,                 // a section group cannot go while its members stay
  protected_section_needs_removed,    // a section that must stay depends on a removed section
  relocations_would_be_lost,          // a relocation section cannot go while the section it applies to stays
  bad_group_signature,                // a group's signature is not a symbol of the symbol table
  link_to_removed_section,            // a kept section's sh_link names a removed section
  shared_string_table,                // another section reads its names from the string table the writer rebuilds
  symbol_in_removed_section,          // a kept relocation names a symbol of a removed section (detail: symbol)
  group_signature_removed,            // a kept group's signature symbol is defined in a removed section
  relocation_names_removed_symbol,    // a kept relocation names a symbol the writer drops (detail: symbol)
  program_headers_overlap_header,     // the program header table overlaps the file header
  section_overlaps_header,            // an allocated section overlaps the file header
  allocated_section_resized,          // an allocated section would change size in a file with program headers
  no_such_section,                    // no section of the requested name
  no_such_symbol,                     // no symbol of the requested name
  // more reading and output failures
  tables_larger_than_file,     // symbol and relocation tables add up to more than the file can hold
  unknown_version_index,       // a versym entry names a version neither defined nor needed (detail: index)
  invalid_output_path,         // write_file_atomically: empty or longer than PATH_MAX
  cannot_resolve_output_link,  // the output is a symbolic link that does not resolve
  output_not_regular_file,     // the output exists and is not a regular file
  cannot_create_temporary,     // the temporary next to the output cannot be created
  write_failed,                // writing or closing the temporary failed
  cannot_set_output_mode,      // fchmod on the temporary failed
  rename_failed,               // the temporary cannot be renamed over the output
  segment_out_of_bounds,       // p_offset + p_filesz past EOF or wrapping (offset: p_offset)
  // inputs (mapped_file, text files)
  not_regular_file,  // an input is a FIFO, a device or a socket (GNU: "is not an ordinary file")
  file_truncated,    // the input shrank while it was read (mapped_file::check_intact)
  // in-place output (io/output_file.hpp)
  cannot_open_output,       // the file to replace cannot be opened for writing (permission, ETXTBSY ...)
  output_changed,           // the file to replace is no longer the input that was read (another inode)
  cannot_set_output_owner,  // fchown on the temporary failed
  cannot_copy_into_output,  // writing the result into the existing file (hard links, xattrs) failed
  cannot_preserve_dates,    // futimens failed
  fill_overlaps_headers,    // the section to fill overlaps the file header or the program/section header table
  fill_overlaps_section,    // the section to fill overlaps another section's contents (detail: that section)
  // a program header the writer must change lies in a kept section's bytes
  program_headers_overlap_section,
  // kernel symbol tables (kernel/system_map.hpp, kernel/kallsyms_generate.hpp)
  nm_unrecognized_format,       // GNU nm refuses the file ("file format not recognized"), so there is no System.map
  kallsyms_no_valid_symbol,     // scripts/kallsyms (6.1): "No valid symbol."
  kallsyms_line_format,         // scripts/kallsyms (6.12): "line format error" (detail: the System.map line, from 1)
  kallsyms_value_out_of_range,  // "symbol value out of range in relative mode" (detail: the symbol's value)
  kallsyms_unsupported_name,    // a name scripts/kallsyms' line reader would split (white space; detail: the line)
  // kallsyms tables embedded in a kernel image (kernel/kallsyms_image.hpp)
  kallsyms_not_found,            // no kallsyms_* symbols, and scanning the loaded bytes found no tables either
  kallsyms_table_out_of_bounds,  // a table lies outside the image's loaded bytes (offset: its virtual address)
  kallsyms_bad_num_syms,         // kallsyms_num_syms is more than the image can hold (detail: the count)
  kallsyms_bad_names,            // a kallsyms_names entry is empty or runs past the table (detail: symbol)
  kallsyms_bad_markers,          // kallsyms_markers disagrees with kallsyms_names (detail: marker)
  kallsyms_bad_token_table,      // a token index points outside the token table or at an unterminated token
  kallsyms_bad_seqs_of_names,    // kallsyms_seqs_of_names names no symbol or has the wrong size (detail: entry)
  kallsyms_bad_offsets,          // kallsyms_offsets/kallsyms_addresses has the wrong size for kallsyms_num_syms
  // kernel boot images (the tools' payload readers)
  bad_boot_image,          // a boot image whose setup header or payload fields are out of range
  unknown_compression,     // the payload is in no compressed format the tool reads
  decompression_failed,    // the compressed payload is corrupt or truncated
  decompressed_too_large,  // the payload decompresses to more than the size limit
  // export tables and symbol versions (kernel/export_table.hpp, kernel/module_versions.hpp, kernel/symvers.hpp)
  export_table_size,           // __ksymtab/__ksymtab_gpl size not a multiple of the entry size (detail: the size)
  export_field_unresolved,     // an entry's name cannot be located: no relocation, no section (detail: the entry)
  export_string_bad,           // a name or namespace outside its section, without a NUL or over 4 KiB (detail: entry)
  export_crc_table_size,       // __kcrctab/__kcrctab_gpl holds fewer CRCs than its table has entries (detail: size)
  versions_size,               // __versions size not a multiple of struct modversion_info (detail: the size)
  versions_name_unterminated,  // a __versions name fills its field without a NUL (detail: the entry)
  symvers_syntax,              // a Module.symvers line modpost's read_dump refuses (detail: the line, from 1)
};
// The last code (keep it so when adding one): tests walk every code up to it.
inline constexpr errc last_errc = errc::symvers_syntax;

// Codes whose error carries the system's reason in sys_errno.
[[nodiscard]] constexpr bool is_io_error(errc code) noexcept {
  switch (code) {
    case errc::io_error:
    case errc::invalid_output_path:
    case errc::cannot_resolve_output_link:
    case errc::output_not_regular_file:
    case errc::cannot_create_temporary:
    case errc::write_failed:
    case errc::cannot_set_output_mode:
    case errc::rename_failed:
    case errc::cannot_open_output:
    case errc::cannot_set_output_owner:
    case errc::cannot_copy_into_output:
    case errc::cannot_preserve_dates: return true;
    default: return false;
  }
}

[[nodiscard]] constexpr const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::truncated_header: return "file too short for an ELF header";
    case errc::bad_magic: return "not an ELF file (bad magic)";
    case errc::bad_class: return "invalid or unexpected ELF class";
    case errc::bad_data_encoding: return "invalid or unexpected ELF data encoding";
    case errc::bad_version: return "unsupported ELF version";
    case errc::bad_ehsize: return "e_ehsize smaller than the ELF header";
    case errc::bad_shentsize: return "e_shentsize is not the section header size";
    case errc::bad_phentsize: return "e_phentsize is not the program header size";
    case errc::section_table_out_of_bounds: return "section header table out of bounds";
    case errc::program_table_out_of_bounds: return "program header table out of bounds";
    case errc::bad_shstrndx: return "e_shstrndx out of range";
    case errc::no_section_headers: return "extended numbering needs section 0, but there are no section headers";
    case errc::bad_section_index: return "section index out of range";
    case errc::section_out_of_bounds: return "section contents out of bounds";
    case errc::wrong_section_type: return "section has the wrong type";
    case errc::bad_entsize: return "sh_entsize is not the record size";
    case errc::bad_section_size: return "sh_size is not a multiple of the record size";
    case errc::bad_link: return "sh_link out of range";
    case errc::wrong_link_type: return "sh_link names a section of the wrong type";
    case errc::bad_info: return "sh_info out of range";
    case errc::not_a_string_table: return "section is not a string table";
    case errc::empty_string_table: return "string table is empty";
    case errc::string_table_not_terminated: return "string table does not end in NUL";
    case errc::string_out_of_range: return "string offset past the end of its table";
    case errc::bad_symbol_index: return "symbol index out of range";
    case errc::wrong_symbol_table: return "relocation resolved against the wrong symbol table";
    case errc::bad_symbol_section: return "symbol section index out of range";
    case errc::missing_symtab_shndx: return "SHN_XINDEX symbol without an SHT_SYMTAB_SHNDX section";
    case errc::symtab_shndx_mismatch: return "SHT_SYMTAB_SHNDX entry count differs from its symbol table";
    case errc::bad_group: return "malformed section group";
    case errc::bad_note: return "malformed note";
    case errc::bad_version_data: return "malformed symbol version data";
    case errc::bad_relr: return "malformed RELR relocations";
    case errc::policy_unexpected_character: return "unexpected character in policy expression";
    case errc::unknown_policy:
      return "unknown policy name (expected crc, ksymtab, undefs, debug, name:GLOB or names:FILE)";
    case errc::policy_too_deep: return "policy expression nested too deeply";
    case errc::policy_missing_paren: return "expected ')' in policy expression";
    case errc::policy_empty_argument: return "empty argument in policy expression";
    case errc::policy_expected_name: return "expected a policy name";
    case errc::policy_names_unavailable: return "names: files are not available here";
    case errc::io_error: return "I/O error";
    case errc::not_found: return "not found";
    case errc::output_too_large: return "output too large for the ELF class";
    case errc::fill_too_large: return "data does not fit in the section";
    case errc::fill_bad_section: return "section has no file contents to fill";
    case errc::fill_bad_symbol: return "length symbol is not inside a section's file contents";
    case errc::allocated_table: return "a symbol, string or section-name table to rebuild is loaded (SHF_ALLOC)";
    case errc::multiple_symbol_tables: return "more than one SHT_SYMTAB section";
    case errc::relocations_against_rebuilt_table:
      return "relocations apply to a table the writer rebuilds (symbols, strings, names, group or relocations)";
    case errc::rebuilt_table_removed: return "the symbol table, its strings and the section names cannot be removed";
    case errc::group_members_kept:
      return "a section group cannot be removed while its members stay (remove the members)";
    case errc::protected_section_needs_removed: return "a protected section depends on a removed section";
    case errc::relocations_would_be_lost:
      return "a relocation section cannot be removed while the section it applies to stays";
    case errc::bad_group_signature: return "group signature is not a symbol of the symbol table";
    case errc::link_to_removed_section: return "a kept section links to a removed section";
    case errc::shared_string_table: return "another section reads its names from the string table the writer rebuilds";
    case errc::symbol_in_removed_section: return "a kept relocation names a symbol of a removed section";
    case errc::group_signature_removed:
      return "a kept section group's signature symbol is defined in a removed section";
    case errc::relocation_names_removed_symbol: return "a kept relocation names a removed symbol";
    case errc::program_headers_overlap_header: return "the program header table overlaps the file header";
    case errc::section_overlaps_header: return "an allocated section overlaps the file header";
    case errc::allocated_section_resized: return "cannot resize an allocated section in a file with program headers";
    case errc::no_such_section: return "no section of that name";
    case errc::no_such_symbol: return "no symbol of that name";
    case errc::tables_larger_than_file:
      return "symbol and relocation tables overlap: together larger than the file can hold";
    case errc::unknown_version_index: return "symbol version index neither defined nor needed";
    case errc::invalid_output_path: return "invalid output path";
    case errc::cannot_resolve_output_link: return "cannot resolve the symbolic link";
    case errc::output_not_regular_file: return "output is not a regular file";
    case errc::cannot_create_temporary: return "cannot create a temporary file";
    case errc::write_failed: return "write failed";
    case errc::cannot_set_output_mode: return "cannot set the file mode";
    case errc::rename_failed: return "cannot rename the temporary file over the output";
    case errc::segment_out_of_bounds: return "segment contents out of bounds";
    case errc::not_regular_file: return "is not an ordinary file";
    case errc::file_truncated: return "file truncated";
    case errc::cannot_open_output: return "cannot open the file for writing";
    case errc::output_changed: return "the file was replaced by another while it was being processed";
    case errc::cannot_set_output_owner: return "cannot set the file owner";
    case errc::cannot_copy_into_output: return "cannot write the result into the existing file";
    case errc::cannot_preserve_dates: return "cannot preserve the file dates";
    case errc::fill_overlaps_headers:
      return "section to fill overlaps the ELF header, the program headers or the section headers";
    case errc::fill_overlaps_section: return "section to fill overlaps another section's contents";
    case errc::program_headers_overlap_section:
      return "a program header that must change (a segment outside the file) lies inside a section's contents";
    case errc::nm_unrecognized_format: return "file format not recognized";
    case errc::kallsyms_no_valid_symbol: return "no valid symbol for kallsyms";
    case errc::kallsyms_line_format: return "System.map line format error (kallsyms cannot read it)";
    case errc::kallsyms_value_out_of_range: return "kallsyms symbol value out of range in relative mode";
    case errc::kallsyms_unsupported_name:
      return "symbol name with white space or a newline (scripts/kallsyms would split its line)";
    case errc::kallsyms_not_found: return "no kallsyms tables found";
    case errc::kallsyms_table_out_of_bounds: return "kallsyms table outside the image's loaded contents";
    case errc::kallsyms_bad_num_syms: return "kallsyms_num_syms larger than the image can hold";
    case errc::kallsyms_bad_names: return "malformed kallsyms_names";
    case errc::kallsyms_bad_markers: return "kallsyms_markers disagree with kallsyms_names";
    case errc::kallsyms_bad_token_table: return "malformed kallsyms_token_table or kallsyms_token_index";
    case errc::kallsyms_bad_seqs_of_names: return "malformed kallsyms_seqs_of_names";
    case errc::kallsyms_bad_offsets: return "kallsyms_offsets or kallsyms_addresses has the wrong size";
    case errc::bad_boot_image: return "malformed boot image header";
    case errc::unknown_compression: return "unknown compression format";
    case errc::decompression_failed: return "corrupt or truncated compressed data";
    case errc::decompressed_too_large: return "decompressed data larger than the size limit";
    case errc::export_table_size: return "export table size is not a multiple of its entry size";
    case errc::export_field_unresolved: return "export table entry names no string (no relocation or section)";
    case errc::export_string_bad:
      return "export name or namespace outside its section, not NUL-terminated or longer than 4096 bytes";
    case errc::export_crc_table_size: return "CRC table shorter than its export table";
    case errc::versions_size: return "__versions size is not a multiple of its entry size";
    case errc::versions_name_unterminated: return "__versions name without a terminating NUL";
    case errc::symvers_syntax: return "parse error in symbol dump file";
  }
  return "unknown error";
}

// What error::detail means for a code ("" where the code has none).
[[nodiscard]] constexpr const char* detail_label(errc code) noexcept {
  switch (code) {
    case errc::policy_unexpected_character:
    case errc::unknown_policy:
    case errc::policy_too_deep:
    case errc::policy_missing_paren:
    case errc::policy_empty_argument:
    case errc::policy_expected_name:
    case errc::policy_names_unavailable:
    case errc::io_error: return "position ";  // io_error carries a detail only from a policy's names: file
    case errc::bad_section_index: return "index ";
    case errc::bad_link: return "sh_link ";
    case errc::bad_info: return "sh_info ";
    case errc::bad_symbol_index: return "symbol ";
    case errc::unknown_version_index: return "version ";
    case errc::fill_too_large: return "bytes missing ";
    case errc::fill_overlaps_section: return "other section ";
    case errc::kallsyms_line_format: return "line ";
    case errc::kallsyms_value_out_of_range: return "value ";
    case errc::kallsyms_unsupported_name: return "line ";
    case errc::kallsyms_bad_num_syms: return "count ";
    case errc::kallsyms_bad_names: return "symbol ";
    case errc::kallsyms_bad_markers: return "marker ";
    case errc::kallsyms_bad_token_table: return "token ";
    case errc::kallsyms_bad_seqs_of_names: return "entry ";
    case errc::export_table_size:
    case errc::export_crc_table_size:
    case errc::versions_size: return "size ";
    case errc::export_field_unresolved:
    case errc::export_string_bad:
    case errc::versions_name_unterminated: return "entry ";
    case errc::symvers_syntax: return "line ";
    case errc::fill_bad_symbol:
    case errc::symbol_in_removed_section:
    case errc::relocation_names_removed_symbol: return "symbol ";
    default: return "detail ";
  }
}

// One error type for the whole library: a code per meaning, the message made from the code (never overwritten),
// the section it concerns and the file offset where it was found, when known. Numbers that are not file offsets
// (a symbol index, a character position, a byte count) go in `detail`; what it means depends on the code (see the
// comments on errc). `sys_errno` is set only for I/O errors.
struct error {
  errc code{};
  const char* message = "";
  std::optional<section_index> section;
  std::optional<std::uint64_t> offset;
  std::optional<std::uint64_t> detail;
  int sys_errno = 0;

  friend constexpr bool operator==(const error& a, const error& b) noexcept {
    return a.code == b.code && a.section == b.section && a.offset == b.offset && a.detail == b.detail;
  }
};

[[nodiscard]] constexpr error make_error(errc code) noexcept { return error{code, to_string(code), {}, {}, {}, 0}; }
// Found in a section, at a file offset.
[[nodiscard]] constexpr error make_error(errc code, section_index section, std::uint64_t offset) noexcept {
  return error{code, to_string(code), section, offset, {}, 0};
}
// Found at a file offset outside any section (the file header, the header tables).
[[nodiscard]] constexpr error make_error_at(errc code, std::uint64_t offset) noexcept {
  return error{code, to_string(code), {}, offset, {}, 0};
}
// Found at a file offset, in `section` when there is one.
[[nodiscard]] constexpr error error_in(errc code, std::optional<section_index> section, std::uint64_t offset) noexcept {
  return error{code, to_string(code), section, offset, {}, 0};
}
[[nodiscard]] constexpr error with_detail(error e, std::uint64_t detail) noexcept {
  e.detail = detail;
  return e;
}

// A value or an error; no exceptions on any path. Reading the value of an error is a caller bug (checked with
// GSL's Expects); inspect has_value() first.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use a pointer or a view");

 public:
  using value_type = T;

  result(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) : ok_(true) {  // NOLINT implicit
    ::new (static_cast<void*>(&val_)) T(v);
  }
  result(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(true) {  // NOLINT implicit
    ::new (static_cast<void*>(&val_)) T(std::move(v));
  }
  result(const elfsieve::error& e) noexcept : err_(e), ok_(false) {}  // NOLINT implicit

  result(const result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) : ok_(o.ok_) {
    if (ok_) ::new (static_cast<void*>(&val_)) T(o.val_);
    else ::new (static_cast<void*>(&err_)) elfsieve::error(o.err_);
  }
  result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
    if (ok_) ::new (static_cast<void*>(&val_)) T(std::move(o.val_));
    else ::new (static_cast<void*>(&err_)) elfsieve::error(o.err_);
  }
  result& operator=(const result& o) {
    if (this != &o) {
      destroy();
      ::new (static_cast<void*>(this)) result(o);
    }
    return *this;
  }
  result& operator=(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      destroy();
      ::new (static_cast<void*>(this)) result(std::move(o));
    }
    return *this;
  }
  ~result() { destroy(); }

  [[nodiscard]] bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }

  [[nodiscard]] T& value() & noexcept {
    Expects(ok_);
    return val_;
  }
  [[nodiscard]] const T& value() const& noexcept {
    Expects(ok_);
    return val_;
  }
  [[nodiscard]] T&& value() && noexcept {
    Expects(ok_);
    return std::move(val_);
  }
  [[nodiscard]] const elfsieve::error& error() const noexcept {
    Expects(!ok_);
    return err_;
  }

  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }

  template <class U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return ok_ ? val_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void destroy() noexcept {
    if (ok_) val_.~T();
  }
  union {
    T val_;
    elfsieve::error err_;
  };
  bool ok_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;
  result() noexcept = default;
  result(const elfsieve::error& e) noexcept : err_(e), ok_(false) {}  // NOLINT implicit
  [[nodiscard]] bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] const elfsieve::error& error() const noexcept {
    Expects(!ok_);
    return err_;
  }

 private:
  elfsieve::error err_{};
  bool ok_ = true;
};

template <class T>
inline constexpr bool is_result_v = false;
template <class T>
inline constexpr bool is_result_v<result<T>> = true;

// The error as one line of text: the message, then the section and the file offset where they are known (and
// the detail, named by what it means for the code); for I/O errors, the system's reason.
[[nodiscard]] inline std::string to_string(const error& e) {
  // A bare I/O error is said by the system's reason alone.
  std::string s = e.code == errc::io_error && e.sys_errno != 0 ? "" : e.message;
  if (e.sys_errno != 0) {
    s += s.empty() ? "" : ": ";
    s += std::strerror(e.sys_errno);
  }
  std::string where;
  auto add = [&where](const char* label, std::uint64_t value, bool hex) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, hex ? "%s0x%llx" : "%s%llu", label, static_cast<unsigned long long>(value));
    where += where.empty() ? "" : ", ";
    where += buffer;
  };
  if (e.section) add("section ", e.section->value, false);
  if (e.offset) add("offset ", *e.offset, true);
  if (e.detail) add(detail_label(e.code), *e.detail, false);
  if (!where.empty()) s += " (" + where + ")";
  return s;
}

}  // namespace elfsieve

// Propagation. ELFSIEVE_TRY(auto x, expr) evaluates expr (a result<T>) and either returns its error from the
// enclosing function or declares x with its value; ELFSIEVE_TRY_VOID(expr) does the same for result<void>.
#define ELFSIEVE_CONCAT_IMPL_(a, b) a##b
#define ELFSIEVE_CONCAT_(a, b) ELFSIEVE_CONCAT_IMPL_(a, b)
// `decl` is a declaration and `tmp` a name: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ELFSIEVE_TRY_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                        \
  if (!tmp) return tmp.error();             \
  decl = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
#define ELFSIEVE_TRY(decl, expr) ELFSIEVE_TRY_IMPL_(ELFSIEVE_CONCAT_(elfsieve_try_, __LINE__), decl, expr)
#define ELFSIEVE_TRY_VOID(expr)                                                                   \
  do {                                                                                            \
    if (auto elfsieve_try_void_ = (expr); !elfsieve_try_void_) return elfsieve_try_void_.error(); \
  } while (false)
