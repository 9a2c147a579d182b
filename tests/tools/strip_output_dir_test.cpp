// elfsieve-strip --output-dir and --relative-to, the batch tools' progress line and -j: a tree of corpus modules is
// mirrored beneath DIR (absolute inputs through --relative-to), each output equal to the in-place result of the same
// file and with GNU objcopy --strip-debug's section list, the inputs untouched, new files with -o's mode; names are
// checked before anything is written (two inputs for one output, absolute or '..' paths without a prefix, inputs
// outside the prefix); links planted in DIR are never followed; messages come in argument order for any -j; the
// progress line appears only on a terminal (util-linux `script` gives one) and never in captured stderr.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/corpus.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

#ifdef ELFSIEVE_STRIP_PATH

using namespace elfsieve::test;
namespace fs = std::filesystem;

namespace {

fs::path work_dir(const std::string& name) {
  auto d = fs::path(ELFSIEVE_TEST_WORK_DIR) / "strip_output_dir" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::size_t files_under(const fs::path& d) {
  if (!fs::exists(d)) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(d))
    if (!e.is_directory()) ++n;
  return n;
}

std::vector<std::string> section_names(const fs::path& p) {
  std::vector<std::string> out;
  static const std::regex header(R"(^\s*\[\s*\d+\]\s+(\S*)\s)");
  std::istringstream in(run_process({"readelf", "-SW", p.string()}).out);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, header)) out.push_back(m[1].str());
  }
  return out;
}

// Corpus modules laid out as a module tree: ROOT/ARCH/kernel/NAME.
std::vector<std::string> module_tree(const fs::path& root) {
  std::vector<std::string> names;
  for (const auto& arch : {"x86_64", "i386"})
    for (const auto& o : corpus_objects_of(arch)) {
      if (o.path.extension() != ".ko" || fs::file_size(o.path) > 1000000) continue;
      const auto rel = fs::path(arch) / "kernel" / o.path.filename();
      fs::create_directories((root / rel).parent_path());
      fs::copy_file(o.path, root / rel);
      names.push_back(rel.string());
    }
  return names;
}

}  // namespace

TEST_CASE("strip_tool.output_dir_mirrors_the_tree", "[strip][strip_tool][output_dir][corpus]") {
  const auto dir = work_dir("mirror");
  const auto src = dir / "src", out = dir / "out", in_place = dir / "in_place";
  const auto names = module_tree(src);
  REQUIRE(names.size() > 20);
  fs::copy(src, in_place, fs::copy_options::recursive);
  std::vector<std::vector<std::byte>> before;
  for (const auto& n : names) before.push_back(read_bytes(src / n));
  struct stat first {};
  REQUIRE(::stat((src / names[0]).c_str(), &first) == 0);

  // Absolute inputs, mapped through --relative-to; the output directory does not exist yet.
  std::vector<std::string> batch = {ELFSIEVE_STRIP_PATH,    "-j2",
                                    "--strip-debug",        "--output-dir",
                                    (out / "a/b").string(), "--relative-to=" + src.string()};
  std::vector<std::string> inplace = {ELFSIEVE_STRIP_PATH, "-j1", "--strip-debug"};
  for (const auto& n : names) {
    batch.push_back((src / n).string());
    inplace.push_back((in_place / n).string());
  }
  const auto r = run_process(batch);
  INFO(r.err);
  REQUIRE(r.ok());
  REQUIRE(run_process(inplace).ok());
  CHECK(files_under(out) == names.size());
  const mode_t mask = [] {
    const mode_t m = ::umask(022);
    ::umask(m);
    return m;
  }();
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    const auto output = out / "a/b" / names[i];
    REQUIRE(fs::is_regular_file(output));
    CHECK(read_bytes(src / names[i]) == before[i]);                // the input is untouched
    CHECK(read_bytes(output) == read_bytes(in_place / names[i]));  // the same bytes as in place
    struct stat st {};
    REQUIRE(::stat(output.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == (0666 & ~mask));  // a new file, as -o makes it
  }
  struct stat again {};
  REQUIRE(::stat((src / names[0]).c_str(), &again) == 0);
  CHECK(again.st_ino == first.st_ino);
  CHECK(again.st_mtim.tv_nsec == first.st_mtim.tv_nsec);

  // GNU objcopy --strip-debug as the oracle for what is left.
  if (!run_process({"objcopy", "--version"}).ok()) {
    WARN("objcopy (binutils) is not installed: the section lists are not compared with GNU's");
    return;
  }
  for (std::size_t i = 0; i < names.size(); i += 3) {
    INFO(names[i]);
    const auto gnu = dir / "gnu.ko";
    REQUIRE(run_process({"objcopy", "--strip-debug", (src / names[i]).string(), gnu.string()}).ok());
    CHECK(section_names(out / "a/b" / names[i]) == section_names(gnu));
  }

  // Relative inputs without a prefix keep their whole path; the same -j1 and -j2 output; a second run replaces.
  const auto rel1 = dir / "rel1", rel2 = dir / "rel2";
  std::vector<std::string> j1 = {ELFSIEVE_STRIP_PATH, "-j1", "-g", "--output-dir=" + rel1.string()};
  std::vector<std::string> j2 = {ELFSIEVE_STRIP_PATH, "-j", "2", "-g", "--output-dir=" + rel2.string()};
  for (const auto& n : names) {
    j1.push_back("src/" + n);
    j2.push_back("./src//" + n);
  }
  auto in_dir = [&](std::vector<std::string> argv) {
    std::vector<std::string> shell = {"sh", "-c", "cd \"$0\" && exec \"$@\"", dir.string()};
    shell.insert(shell.end(), argv.begin(), argv.end());
    return run_process(shell);
  };
  REQUIRE(in_dir(j1).ok());
  REQUIRE(in_dir(j2).ok());
  REQUIRE(in_dir(j2).ok());
  for (const auto& n : names) {
    INFO(n);
    CHECK(read_bytes(rel1 / "src" / n) == read_bytes(in_place / n));
    CHECK(read_bytes(rel2 / "src" / n) == read_bytes(in_place / n));
  }
  CHECK(files_under(rel2) == names.size());  // no temporaries left
}

TEST_CASE("strip_tool.output_dir_names_are_checked_before_writing", "[strip][strip_tool][output_dir]") {
  const auto dir = work_dir("usage");
  fs::create_directories(dir / "src/a");
  const auto module = corpus_dir() / "x86_64/crc8.ko";
  fs::copy_file(module, dir / "src/a/crc8.ko");
  fs::copy_file(module, dir / "src/crc8.ko");
  fs::copy_file(module, dir / "src/a.ko");
  fs::copy_file(module, dir / "a");
  const auto out = dir / "out";
  auto strip = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"sh",
                                     "-c",
                                     "cd \"$0\" && exec \"$@\"",
                                     dir.string(),
                                     ELFSIEVE_STRIP_PATH,
                                     "-g",
                                     "--output-dir=" + out.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  };
  struct refusal {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<refusal> refusals = {
      {{"src/crc8.ko", "src/a/crc8.ko", "./src/crc8.ko"}, "src/crc8.ko and ./src/crc8.ko would both be written to"},
      {{"--relative-to=src/a", "src/a/crc8.ko", "src/crc8.ko"}, "src/crc8.ko: not beneath --relative-to src/a"},
      {{"--relative-to=src", "src/a/crc8.ko", "src/crc8.ko", "src/a/../crc8.ko"}, "would both be written to"},
      {{"src/crc8.ko", (dir / "src/a/crc8.ko").string()}, "an absolute path has no place under the output directory"},
      {{"src/crc8.ko", "src/a/../crc8.ko"}, "a '..' component would leave the output directory"},
      {{"src/crc8.ko", "a", "a/../src/a.ko"}, "a '..' component"},
      {{"--relative-to=src", "src/a.ko", "src"}, "no file name is left"},
      {{"src/crc8.ko", "src"}, "other files need as a directory"},
      {{"--relative-to=src", "src/crc8.ko"}, nullptr},  // the control: this one is fine
  };
  for (const auto& [args, message] : refusals) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    INFO(shown);
    fs::remove_all(out);
    const auto r = strip(args);
    if (message == nullptr) {
      CHECK(r.status == 0);
      CHECK(files_under(out) == 1);
      continue;
    }
    CHECK(r.status == 2);
    CHECK(r.err.find(message) != std::string::npos);
    CHECK(r.err.find("Try 'elfsieve-strip --help'") != std::string::npos);
    CHECK(!fs::exists(out));  // nothing written, not even the directory
  }
  CHECK(strip({"-o", "x", "src/crc8.ko"}).status == 2);
  CHECK(run_process({ELFSIEVE_STRIP_PATH, "-g", "--relative-to=src", module.string()}).status == 2);
  CHECK(run_process({ELFSIEVE_STRIP_PATH, "-g", "-j0", module.string(), "-o", (dir / "x").string()}).status == 2);
  auto help = run_process({ELFSIEVE_STRIP_PATH, "--help"});
  for (const char* option :
       {"--output-dir=DIR", "--relative-to=PREFIX", "--no-progress", "default: the number of CPUs"})
    CHECK(help.out.find(option) != std::string::npos);
}

TEST_CASE("strip_tool.output_dir_never_follows_planted_links", "[strip][strip_tool][output_dir]") {
  const auto dir = work_dir("links");
  const auto module = corpus_dir() / "x86_64/crc8.ko";
  for (const char* d : {"src/kernel/fs", "src/kernel/lib", "src/kernel/net", "outside", "out/kernel"})
    fs::create_directories(dir / d);
  for (const char* f : {"src/kernel/fs/a.ko", "src/kernel/lib/b.ko", "src/kernel/lib/c.ko", "src/kernel/lib/d.ko",
                        "src/kernel/net/e.ko"})
    fs::copy_file(module, dir / f);
  std::ofstream(dir / "outside/victim") << "precious";
  std::ofstream(dir / "outside/linked") << "other name";
  // Planted: a directory link, a link to a file, a dangling link, a hard link to a file outside, a dangling
  // directory link.
  fs::create_directory_symlink(dir / "outside", dir / "out/kernel/fs");
  fs::create_directories(dir / "out/kernel/lib");
  fs::create_symlink(dir / "outside/victim", dir / "out/kernel/lib/b.ko");
  fs::create_symlink(dir / "outside/created", dir / "out/kernel/lib/c.ko");
  fs::create_hard_link(dir / "outside/linked", dir / "out/kernel/lib/d.ko");
  fs::create_directory_symlink(dir / "nowhere", dir / "out/kernel/net");
  const auto r = run_process({ELFSIEVE_STRIP_PATH, "-j2", "-g", "--output-dir", (dir / "out").string(), "--relative-to",
                              (dir / "src").string(), (dir / "src/kernel/fs/a.ko").string(),
                              (dir / "src/kernel/lib/b.ko").string(), (dir / "src/kernel/lib/c.ko").string(),
                              (dir / "src/kernel/lib/d.ko").string(), (dir / "src/kernel/net/e.ko").string()});
  CHECK(r.status == 1);
  INFO(r.err);
  CHECK(r.err.find((dir / "out/kernel/fs/a.ko").string() + ": " + (dir / "out").string() +
                   "/kernel/fs: a symbolic link, not followed") != std::string::npos);
  CHECK(r.err.find("/kernel/net: a symbolic link, not followed") != std::string::npos);
  // Nothing reached through the links; the links at the file names were replaced by the outputs.
  CHECK(files_under(dir / "outside") == 2);
  CHECK(!fs::exists(dir / "nowhere"));
  std::ifstream victim(dir / "outside/victim"), linked(dir / "outside/linked");
  std::string v, l;
  std::getline(victim, v);
  std::getline(linked, l);
  CHECK(v == "precious");
  CHECK(l == "other name");
  const auto expected = dir / "expected.ko";
  REQUIRE(run_process({ELFSIEVE_STRIP_PATH, "-g", "-o", expected.string(), module.string()}).ok());
  for (const char* f : {"b.ko", "c.ko", "d.ko"}) {
    INFO(f);
    const auto p = dir / "out/kernel/lib" / f;
    CHECK(!fs::is_symlink(p));
    CHECK(read_bytes(p) == read_bytes(expected));
  }
}

TEST_CASE("strip_tool.messages_in_argument_order_for_any_jobs", "[strip][strip_tool][output_dir]") {
  const auto dir = work_dir("order");
  std::vector<std::string> files;
  for (int i = 0; i < 12; ++i) {
    const auto p = dir / ("m" + std::to_string(i) + ".ko");
    if (i % 3 == 1) std::ofstream(p) << "not an ELF file, long enough for a header ..................";
    else fs::copy_file(corpus_dir() / (i % 2 == 0 ? "x86_64/libata.ko" : "i386/crc8.ko"), p);
    files.push_back(p.string());
  }
  std::string first;
  for (const char* jobs : {"-j1", "-j2", "-j7"}) {
    INFO(jobs);
    std::vector<std::string> argv = {ELFSIEVE_STRIP_PATH, jobs,           "-g",
                                     "--report",          "--output-dir", (dir / (std::string("out") + jobs)).string(),
                                     "--relative-to",     dir.string()};
    argv.insert(argv.end(), files.begin(), files.end());
    const auto r = run_process(argv);
    CHECK(r.status == 1);
    CHECK(r.err.find('\r') == std::string::npos);  // no progress line when stderr is not a terminal
    std::size_t last = 0;
    for (int i = 1; i < 12; i += 3) {
      const auto at = r.err.find("m" + std::to_string(i) + ".ko: not an ELF file");
      REQUIRE(at != std::string::npos);
      CHECK(at >= last);
      last = at;
    }
    if (first.empty()) first = r.err + r.out;
    else CHECK(r.err + r.out == first);
  }
}

TEST_CASE("strip_tool.progress_line_only_on_a_terminal", "[strip][strip_tool][symvers_tool][progress]") {
  if (!run_process({"script", "--version"}).ok()) {
    WARN("script (util-linux) is not installed: the terminal case is not run");
    return;
  }
  const auto dir = work_dir("progress");
  std::string list, quoted;
  for (int i = 0; i < 40; ++i) {
    const auto p = dir / ("m" + std::to_string(i) + ".ko");
    fs::copy_file(corpus_dir() / "x86_64/libata.ko", p);
    list += " '" + p.string() + "'";
  }
  auto on_terminal = [&](const std::string& command) {
    return run_process({"script", "-qec", command + " 2>&1 >/dev/null", "/dev/null"});
  };
  const std::string strip = std::string("'") + ELFSIEVE_STRIP_PATH + "' -j2 -g --output-dir='" + (dir / "o").string() +
                            "' --relative-to='" + dir.string() + "'";
  const auto shown = on_terminal(strip + list);
  INFO(shown.out);
  REQUIRE(shown.status == 0);
  CHECK(shown.out.find("\relfsieve-strip: 1/40 files") != std::string::npos);
  CHECK(shown.out.find("elfsieve-strip: 40/40 files") == std::string::npos);  // the last one is not drawn
  // Every line shown is followed by the next one or by spaces over it and a carriage return, before anything else
  // (the signature warnings of these modules) and at the end: a message never shares a line with it.
  std::size_t lines = 0;
  static const std::regex next(R"(^\r( {26,}\r|elfsieve-strip: \d+/40 files))");
  for (auto at = shown.out.find("/40 files"); at != std::string::npos; at = shown.out.find("/40 files", at + 1)) {
    ++lines;
    CHECK(std::regex_search(shown.out.substr(at + 9), next));
  }
  CHECK(lines >= 1);
  CHECK(shown.out.find("module signature removed") != std::string::npos);
  CHECK(on_terminal(strip + " --no-progress" + list).out.find("files") == std::string::npos);
  // One file: no line.
  CHECK(on_terminal(strip + " '" + (dir / "m0.ko").string() + "'").out.find("files") == std::string::npos);
#ifdef ELFSIEVE_SYMVERS_PATH
  const std::string symvers = std::string("'") + ELFSIEVE_SYMVERS_PATH + "'";
  const auto sv = on_terminal(symvers + list);
  CHECK(sv.status == 0);
  CHECK(sv.out.find("\relfsieve-symvers: 1/40 files") != std::string::npos);
  CHECK(on_terminal(symvers + " --no-progress" + list).out.find("files") == std::string::npos);
  // Captured stderr never holds the line.
  std::vector<std::string> argv = {ELFSIEVE_SYMVERS_PATH, "-j2"};
  for (int i = 0; i < 40; ++i) argv.push_back((dir / ("m" + std::to_string(i) + ".ko")).string());
  const auto captured = run_process(argv);
  CHECK(captured.ok());
  CHECK(captured.err.empty());
#endif
}

#endif  // ELFSIEVE_STRIP_PATH
