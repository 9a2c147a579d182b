// result<T> and error: values or errors, no exceptions; error codes have distinct fixed messages.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/core/error.hpp"

using namespace elfsieve;

TEST_CASE("error.result_holds_a_value", "[error]") {
  result<int> r = 42;
  REQUIRE(r.has_value());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 42);
  CHECK(*r == 42);
  CHECK(r.value_or(7) == 42);
  r.value() = 43;
  CHECK(*r == 43);
  const result<std::string> s = std::string("text");
  CHECK(s->size() == 4u);
  CHECK(std::move(result<std::string>(std::string("moved"))).value() == "moved");
}

TEST_CASE("error.result_holds_an_error", "[error]") {
  result<int> r = make_error(errc::bad_link, section_index(5), 0x40);
  REQUIRE_FALSE(r.has_value());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.error().code == errc::bad_link);
  CHECK(r.error().section == section_index(5u));
  CHECK(r.error().offset == 0x40u);
  CHECK(std::string_view(r.error().message) == "sh_link out of range");
  CHECK(r.error().sys_errno == 0);
  CHECK(r.value_or(7) == 7);
  const error defaulted = make_error(errc::bad_magic);
  CHECK_FALSE(defaulted.section.has_value());
  CHECK_FALSE(defaulted.offset.has_value());
}

TEST_CASE("error.copy_move_and_assign_across_states", "[error]") {
  // std::string owns memory: ASan catches a missing or double destruction.
  result<std::string> value = std::string(100, 'v');
  result<std::string> failure = make_error(errc::bad_note, section_index(1), 2);
  result<std::string> copy = value;
  CHECK(copy.value() == std::string(100, 'v'));
  copy = failure;
  CHECK(copy.error().code == errc::bad_note);
  copy = value;
  CHECK(copy.value().size() == 100u);
  copy = std::move(failure);
  CHECK(copy.error() == make_error(errc::bad_note, section_index(1), 2));
  result<std::string> moved = std::move(value);
  CHECK(moved.value().size() == 100u);
  result<std::string>& alias = moved;
  moved = alias;  // self-assignment keeps the value
  CHECK(moved.value().size() == 100u);
  result<std::unique_ptr<int>> owner = std::make_unique<int>(5);
  result<std::unique_ptr<int>> taken = std::move(owner);
  CHECK(*taken.value() == 5);
}

TEST_CASE("error.result_void", "[error]") {
  const result<void> ok;
  CHECK(ok.has_value());
  const result<void> bad = make_error(errc::io_error);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::io_error);
  static_assert(is_result_v<result<void>> && is_result_v<result<int>> && !is_result_v<int>);
}

TEST_CASE("error.equality_compares_code_section_offset", "[error]") {
  CHECK(make_error(errc::bad_group, section_index(3), 9) == make_error(errc::bad_group, section_index(3), 9));
  CHECK_FALSE(make_error(errc::bad_group, section_index(3), 9) == make_error(errc::bad_group, section_index(4), 9));
  CHECK_FALSE(make_error(errc::bad_group, section_index(3), 9) == make_error(errc::bad_group, section_index(3), 8));
  CHECK_FALSE(make_error(errc::bad_group, section_index(3), 9) == make_error(errc::bad_note, section_index(3), 9));
  error with_errno = make_error(errc::io_error);
  with_errno.sys_errno = 2;
  CHECK(with_errno == make_error(errc::io_error));
}

TEST_CASE("error.every_code_has_its_own_message", "[error]") {
  std::set<std::string> messages;
  const auto last = static_cast<unsigned>(last_errc);
  for (unsigned c = static_cast<unsigned>(errc::truncated_header); c <= last; ++c) {
    const char* m = to_string(static_cast<errc>(c));
    INFO("code " << c);
    CHECK(std::string_view(m) != "unknown error");
    CHECK(std::strlen(m) > 0u);
    CHECK(messages.insert(m).second);
    CHECK(make_error(static_cast<errc>(c)).message == m);
  }
  CHECK(std::string_view(to_string(static_cast<errc>(0))) == "unknown error");
  CHECK(std::string_view(to_string(static_cast<errc>(last + 1))) == "unknown error");
}

TEST_CASE("error.detail_is_named_by_its_code_and_offsets_stay_file_offsets", "[error]") {
  const error e = with_detail(make_error(errc::bad_link, section_index(3), 0x1c4), 77);
  CHECK(to_string(e) == "sh_link out of range (section 3, offset 0x1c4, sh_link 77)");
  CHECK(to_string(with_detail(make_error(errc::policy_missing_paren), 12)) ==
        "expected ')' in policy expression (position 12)");
  CHECK(to_string(make_error_at(errc::bad_magic, 0)) == "not an ELF file (bad magic) (offset 0x0)");
  CHECK(error_in(errc::bad_note, std::nullopt, 8) == make_error_at(errc::bad_note, 8));
  CHECK(error_in(errc::bad_note, section_index(2), 8) == make_error(errc::bad_note, section_index(2), 8));
  // Equality sees the detail.
  CHECK_FALSE(with_detail(make_error(errc::bad_symbol_index), 1) == with_detail(make_error(errc::bad_symbol_index), 2));
}

TEST_CASE("error.io_codes_carry_the_system_reason", "[error]") {
  error write = make_error(errc::write_failed);
  write.sys_errno = ENOSPC;
  CHECK(to_string(write) == std::string("write failed: ") + std::strerror(ENOSPC));
  error read = make_error(errc::io_error);
  read.sys_errno = ENOENT;
  CHECK(to_string(read) == std::strerror(ENOENT));  // a bare read failure is said by the system's reason alone
  std::set<errc> io;
  for (unsigned c = static_cast<unsigned>(errc::truncated_header); c <= static_cast<unsigned>(last_errc); ++c)
    if (is_io_error(static_cast<errc>(c))) io.insert(static_cast<errc>(c));
  CHECK(io == std::set<errc>{errc::io_error, errc::invalid_output_path, errc::cannot_resolve_output_link,
                             errc::output_not_regular_file, errc::cannot_create_temporary, errc::write_failed,
                             errc::cannot_set_output_mode, errc::rename_failed, errc::cannot_open_output,
                             errc::cannot_set_output_owner, errc::cannot_copy_into_output,
                             errc::cannot_preserve_dates});
}
