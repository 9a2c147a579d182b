// elfsieve-undefs -o: the output is replaced atomically (write_file_atomically): an existing file keeps its mode,
// no temporary is left behind, and a failure leaves the old contents.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/corpus.hpp"
#include "support/process.hpp"

#ifdef ELFSIEVE_UNDEFS_PATH

using namespace elfsieve::test;

namespace {

std::string contents(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("undefs_tool.output_replaced_atomically_mode_kept", "[autoksyms][undefs_tool]") {
  const auto dir = std::filesystem::path(ELFSIEVE_TEST_WORK_DIR) / "undefs_tool";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto module = (corpus_dir() / "x86_64/loop.ko").string();
  const auto out = dir / "autoksyms.h";
  std::ofstream(out) << "old\n";
  REQUIRE(::chmod(out.c_str(), 0600) == 0);

  const auto expected = run_process({ELFSIEVE_UNDEFS_PATH, "-f", "autoksyms-h", module});
  REQUIRE(expected.ok());
  const auto r = run_process({ELFSIEVE_UNDEFS_PATH, "-f", "autoksyms-h", "-o", out.string(), module});
  INFO(r.err);
  REQUIRE(r.ok());
  CHECK(r.out.empty());
  CHECK(contents(out) == expected.out);
  struct stat st {};
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600u);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  CHECK(entries == 1);  // no temporary left

  // A failing input leaves the output as it was (exit status 1 since issue #11, was 2).
  const auto failed = run_process({ELFSIEVE_UNDEFS_PATH, "-o", out.string(), module, "/nonexistent/x.ko"});
  CHECK(failed.status == 1);
  CHECK(contents(out) == expected.out);
  const auto no_dir = run_process({ELFSIEVE_UNDEFS_PATH, "-o", (dir / "missing" / "x").string(), module});
  CHECK(no_dir.status == 1);
  CHECK(no_dir.err.find("elfsieve-undefs: " + (dir / "missing" / "x").string() + ": ") == 0);
}

#endif
