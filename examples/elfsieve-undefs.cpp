// elfsieve-undefs: the undefined symbols of kernel module objects, as scripts/gen_autoksyms.sh computes them,
// for hundreds of modules in one process.
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "elfsieve/elfsieve.hpp"
#include "elfsieve/kernel/autoksyms.hpp"

namespace {

constexpr const char* usage_text =
    "Usage: elfsieve-undefs [OPTION]... FILE...\n"
    "List the symbols that kernel module objects (.o, .ko) need from the kernel, the way\n"
    "scripts/gen_autoksyms.sh does: the symbols `nm` shows as U, a leading '.' (ppc64 ELFv1) removed,\n"
    "sorted bytewise, unique, without __this_module.\n"
    "\n"
    "  -f, --format=FORMAT     list: one name per line (default); autoksyms-h: the autoksyms.h header\n"
    "  -w, --whitelist=FILE    also take the whitespace-separated names in FILE\n"
    "                          (CONFIG_UNUSED_KSYMS_WHITELIST)\n"
    "  -m, --module-layout     also need module_layout (kernels with CONFIG_MODVERSIONS)\n"
    "  -c, --check=FILE        print nothing and exit 0 when FILE (an autoksyms.h, or a name list) already\n"
    "                          covers every needed symbol, so no relink is needed; otherwise print the\n"
    "                          missing names and exit 1\n"
    "  -T, --files-from=FILE   read further object names from FILE, one per line ('-' for standard input)\n"
    "  -o, --output=FILE       write to FILE (replaced atomically) instead of standard output\n"
    "  -h, --help              display this help and exit\n"
    "  -V, --version           display the version and exit\n"
    "\n"
    "Exit status: 0 on success, 1 when --check finds missing symbols, 2 on a usage error or an\n"
    "unreadable or malformed input file.\n";

void report(const char* file, const elfsieve::error& e) {
  std::fprintf(stderr, "elfsieve-undefs: %s: %s\n", file, elfsieve::to_string(e).c_str());
}

bool read_text(const char* path, std::string& out) {
  auto mapped = elfsieve::mapped_file::open(path);
  if (!mapped) {
    report(path, mapped.error());
    return false;
  }
  const auto bytes = mapped->bytes();
  out.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return true;
}

// Writes `text` to `path` through a temporary file in the same directory, renamed into place.
bool write_atomically(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".elfsieve-tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "elfsieve-undefs: %s: %s\n", tmp.c_str(), std::strerror(errno));
    return false;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "elfsieve-undefs: %s: %s\n", path.c_str(), std::strerror(errno));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  enum class format { list, autoksyms_h } fmt = format::list;
  std::vector<const char*> whitelists;
  const char* check_file = nullptr;
  const char* output_file = nullptr;
  std::vector<std::string> files;
  bool module_layout = false;

  static const option long_options[] = {
      {"format", required_argument, nullptr, 'f'},      {"whitelist", required_argument, nullptr, 'w'},
      {"module-layout", no_argument, nullptr, 'm'},     {"check", required_argument, nullptr, 'c'},
      {"files-from", required_argument, nullptr, 'T'},  {"output", required_argument, nullptr, 'o'},
      {"help", no_argument, nullptr, 'h'},              {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0}};
  std::vector<const char*> lists;
  for (int c; (c = getopt_long(argc, argv, "f:w:mc:T:o:hV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 'f':
        if (std::strcmp(optarg, "list") == 0) fmt = format::list;
        else if (std::strcmp(optarg, "autoksyms-h") == 0) fmt = format::autoksyms_h;
        else {
          std::fprintf(stderr, "elfsieve-undefs: unknown format '%s' (expected list or autoksyms-h)\n", optarg);
          return 2;
        }
        break;
      case 'w': whitelists.push_back(optarg); break;
      case 'm': module_layout = true; break;
      case 'c': check_file = optarg; break;
      case 'T': lists.push_back(optarg); break;
      case 'o': output_file = optarg; break;
      case 'h': std::fputs(usage_text, stdout); return 0;
      case 'V': std::puts("elfsieve-undefs (elfsieve) 0.1.0"); return 0;
      default: std::fputs("Try 'elfsieve-undefs --help' for more information.\n", stderr); return 2;
    }
  }
  for (int i = optind; i < argc; ++i) files.emplace_back(argv[i]);
  for (const char* list : lists) {
    std::string text;
    if (!read_text(std::strcmp(list, "-") == 0 ? "/dev/stdin" : list, text)) return 2;
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      if (eol > pos) files.push_back(text.substr(pos, eol - pos));
      pos = eol + 1;
    }
  }
  if (files.empty()) {
    std::fputs("elfsieve-undefs: no input files\nTry 'elfsieve-undefs --help' for more information.\n", stderr);
    return 2;
  }

  elfsieve::kernel::needed_symbols needed;
  bool trouble = false;
  for (const auto& path : files) {
    auto mapped = elfsieve::mapped_file::open(path.c_str());
    if (!mapped) {
      report(path.c_str(), mapped.error());
      trouble = true;
      continue;
    }
    auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) {
      return elfsieve::kernel::for_each_undefined(f, [&](std::string_view name) { needed.add(name); });
    });
    if (!done) {
      report(path.c_str(), done.error());
      trouble = true;
    }
  }
  if (module_layout) needed.add("module_layout");
  for (const char* w : whitelists) {
    std::string text;
    if (!read_text(w, text)) return 2;
    needed.add_words(text);
  }
  if (trouble) return 2;

  std::string out;
  int status = 0;
  if (check_file != nullptr) {
    std::string text;
    if (!read_text(check_file, text)) return 2;
    elfsieve::kernel::needed_symbols known;
    elfsieve::kernel::add_known_symbols(known, text);
    for (const auto& name : needed.sorted()) {
      if (known.contains(name)) continue;
      out += name;
      out += '\n';
      status = 1;
    }
  } else if (fmt == format::autoksyms_h) {
    out = needed.autoksyms_header();
  } else {
    for (const auto& name : needed.sorted()) {
      out += name;
      out += '\n';
    }
  }
  if (output_file != nullptr) {
    if (!write_atomically(output_file, out)) return 2;
  } else if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "elfsieve-undefs: write error: %s\n", std::strerror(errno));
    return 2;
  }
  return status;
}
