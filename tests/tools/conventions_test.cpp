// Issue #11: the four tools' messages and exit statuses follow the convention README.md states in "Messages and
// exit statuses". The expected exit status and first line of every case are read from the README's table (the one
// under "What each tool says for the common mistakes"), so the README and the tools cannot drift apart; the rest
// of the convention (the usage hint, no internal numbers, no directory in the program name, fill's signature
// warning) is checked here with the values the README's prose gives.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/corpus.hpp"
#include "support/process.hpp"

#if defined(ELFSIEVE_NM_PATH) && defined(ELFSIEVE_STRIP_PATH) && defined(ELFSIEVE_UNDEFS_PATH) && \
    defined(ELFSIEVE_FILL_PATH)

using namespace elfsieve::test;

namespace {

struct expectation {
  int status = -1;
  std::string first_line;  // with PROG and FILE (or --bogus) still to be replaced
};

// The README's table: input -> {nm's expectation, the other tools' expectation}.
using readme_table = std::map<std::string, std::pair<expectation, expectation>>;

expectation parse_cell(const std::string& cell) {
  expectation e;
  const auto open = cell.find('`'), close = cell.rfind('`');
  if (open == std::string::npos || close <= open) return e;
  e.status = std::stoi(cell.substr(0, open));
  e.first_line = cell.substr(open + 1, close - open - 1);
  return e;
}

readme_table read_readme_table() {
  std::ifstream in(std::filesystem::path(ELFSIEVE_SOURCE_DIR) / "README.md");
  readme_table table;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| input | elfsieve-nm |", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| ", 0) != 0) break;
    std::vector<std::string> cells;
    for (std::size_t pos = 2, bar; (bar = line.find(" |", pos)) != std::string::npos; pos = bar + 3)
      cells.push_back(line.substr(pos, bar - pos));
    if (cells.size() == 3) table[cells[0]] = {parse_cell(cells[1]), parse_cell(cells[2])};
  }
  return table;
}

std::string replaced(std::string text, const std::string& what, const std::string& by) {
  for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += by.size())
    text.replace(at, what.size(), by);
  return text;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

struct tool_under_test {
  std::string name;  // how messages must name it: the basename, though it is run by its full path
  std::string path;
  std::vector<std::string> before_file;  // arguments before the FILE operand
};

}  // namespace

TEST_CASE("conventions.readme_table: exit status and message of each tool's common mistakes", "[tools][conventions]") {
  const readme_table table = read_readme_table();
  // The rows the issue asks for; a README that loses one fails here rather than checking less.
  const std::vector<std::string> inputs{"option `--bogus`", "missing file", "directory", "empty file", "text file"};
  REQUIRE(table.size() == inputs.size());

  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "conventions";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a-directory");
  std::ofstream(dir / "empty.o").close();
  std::ofstream(dir / "text.o")
      << "A text file: longer than any ELF header (64 bytes), and not an ELF object at all.\n";
  std::ofstream(dir / "data.bin") << "data";
  const std::map<std::string, std::string> file_of{{"missing file", (dir / "missing.o").string()},
                                                   {"directory", (dir / "a-directory").string()},
                                                   {"empty file", (dir / "empty.o").string()},
                                                   {"text file", (dir / "text.o").string()}};

  const std::vector<tool_under_test> tools{
      {"elfsieve-nm", ELFSIEVE_NM_PATH, {}},
      {"elfsieve-strip", ELFSIEVE_STRIP_PATH, {}},
      {"elfsieve-undefs", ELFSIEVE_UNDEFS_PATH, {}},
      {"elfsieve-fill", ELFSIEVE_FILL_PATH, {"--section", ".data", "--data", (dir / "data.bin").string()}},
#ifdef ELFSIEVE_SYMVERS_PATH
      {"elfsieve-symvers", ELFSIEVE_SYMVERS_PATH, {}},
#endif
  };
  for (const auto& tool : tools) {
    for (const auto& input : inputs) {
      const auto row = table.find(input);
      REQUIRE(row != table.end());
      const expectation& want = tool.name == "elfsieve-nm" ? row->second.first : row->second.second;
      REQUIRE(want.status >= 0);
      std::vector<std::string> argv{tool.path};
      std::string file = "--bogus";
      if (input == inputs[0]) {
        argv.push_back(file);
      } else {
        file = file_of.at(input);
        argv.insert(argv.end(), tool.before_file.begin(), tool.before_file.end());
        argv.push_back(file);
      }
      const auto r = run_process(argv);
      INFO(tool.name << " on " << input << ":\n" << r.err);
      REQUIRE(r.started);
      CHECK(r.status == want.status);
      CHECK(first_line(r.err) == replaced(replaced(want.first_line, "PROG", tool.name), "FILE", file));
      CHECK(r.out.empty());
      // A usage error ends in the one-line hint, never the whole usage (README: "followed by Try ...").
      if (want.status == 2)
        CHECK(r.err.substr(r.err.find('\n') + 1) == "Try '" + tool.name + " --help' for more information.\n");
      else CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
      // No internal numbers: no sentinel section (0xffffffff) or offset leaks into a message.
      CHECK(r.err.find("4294967295") == std::string::npos);
      CHECK(r.err.find("section") == std::string::npos);
    }
  }
  // The files were left as they were.
  CHECK(std::filesystem::file_size(dir / "empty.o") == 0);
  CHECK(std::filesystem::is_directory(dir / "a-directory"));
}

TEST_CASE("conventions.exit_statuses: file errors exit 1 in every tool, usage errors 2, undefs --check 3",
          "[tools][conventions]") {
  const auto module = (corpus_dir() / "x86_64/crc8.ko").string();
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "conventions_status";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // A good file next to a missing one: the good one is still processed, the status is 1.
  const auto missing = (dir / "missing.ko").string();
  const auto undefs = run_process({ELFSIEVE_UNDEFS_PATH, module, missing});
  CHECK(undefs.status == 1);
  CHECK(undefs.out.empty());  // nothing is written when an object could not be read
  CHECK(run_process({ELFSIEVE_NM_PATH, module, missing}).status == 1);
  // GNU nm's count of failed files (README: elfsieve-nm's exit status is the number of such files).
  CHECK(run_process({ELFSIEVE_NM_PATH, missing, missing, module}).status == 2);
  // Bad option arguments and missing operands are usage errors in every tool.
  CHECK(run_process({ELFSIEVE_NM_PATH, "-t", "z", module}).status == 2);
  CHECK(run_process({ELFSIEVE_NM_PATH, "--why", module}).status == 2);
  CHECK(run_process({ELFSIEVE_STRIP_PATH}).status == 2);
  CHECK(run_process({ELFSIEVE_UNDEFS_PATH}).status == 2);
  CHECK(run_process({ELFSIEVE_UNDEFS_PATH, "--format=yaml", module}).status == 2);
  CHECK(run_process({ELFSIEVE_FILL_PATH, module}).status == 2);
  // An option's FILE that cannot be read is a usage error (2), not a file error.
  const auto no_check_file = run_process({ELFSIEVE_UNDEFS_PATH, "--check", missing, module});
  CHECK(no_check_file.status == 2);
  CHECK(first_line(no_check_file.err) == "elfsieve-undefs: " + missing + ": No such file or directory");
  // --check: 3 for "missing symbols", distinct from 1 and 2.
  std::ofstream(dir / "empty-list.txt").close();
  const auto check = run_process({ELFSIEVE_UNDEFS_PATH, "--check", (dir / "empty-list.txt").string(), module});
  CHECK(check.status == 3);
  CHECK_FALSE(check.out.empty());
  // An output that cannot be written: status 1, the message names the output, not a temporary.
  const auto out = (dir / "no-such-dir" / "autoksyms.h").string();
  const auto unwritable = run_process({ELFSIEVE_UNDEFS_PATH, "-o", out, module});
  CHECK(unwritable.status == 1);
  CHECK(unwritable.err.rfind("elfsieve-undefs: " + out + ": ", 0) == 0);
  CHECK(unwritable.err.find(".tmp") == std::string::npos);
}

TEST_CASE("conventions.fill_signature: fill warns that a module signature it keeps is no longer valid",
          "[tools][conventions]") {
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "conventions_fill";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "data.bin") << "x";
  // A corpus module signed by sign-file (i386/crc7.ko ends in "~Module signature appended~") and one that is not.
  const auto signed_module = dir / "signed.ko", unsigned_module = dir / "unsigned.ko";
  std::filesystem::copy_file(corpus_dir() / "i386/crc7.ko", signed_module);
  std::filesystem::copy_file(corpus_dir() / "ppc32/crc8.ko", unsigned_module);
  const std::string data = (dir / "data.bin").string();

  const auto in_place =
      run_process({ELFSIEVE_FILL_PATH, "--section", ".modinfo", "--data", data, signed_module.string()});
  CHECK(in_place.status == 0);
  CHECK(in_place.err == "elfsieve-fill: " + signed_module.string() +
                            ": warning: module signature no longer valid (sign the filled module again)\n");
  const auto to_output = run_process({ELFSIEVE_FILL_PATH, "--section", ".modinfo", "--data", data, "-o",
                                      (dir / "out.ko").string(), signed_module.string()});
  CHECK(to_output.status == 0);
  CHECK(to_output.err.find("warning: module signature no longer valid") != std::string::npos);
  const auto plain =
      run_process({ELFSIEVE_FILL_PATH, "--section", ".modinfo", "--data", data, unsigned_module.string()});
  CHECK(plain.status == 0);
  CHECK(plain.err.empty());
}

#endif
