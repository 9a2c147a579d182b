// elfsieve-fill: write data into a section reserved at link time, without moving anything or relinking.
#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "elfsieve/io/fd_sink.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/kernel/module.hpp"
#include "elfsieve/rewrite/fill.hpp"
#include "tool.hpp"

namespace {

constexpr const char* usage_text =
    "Usage: %s --section NAME --data FILE [--length-symbol SYM] [-o OUT] OBJECT\n"
    "Write FILE's bytes at the start of section NAME of OBJECT (an executable, a shared library or a relocatable\n"
    "object, any ELF layout), zero the rest of the section, and move nothing: the space was reserved when OBJECT\n"
    "was linked. OBJECT is replaced in place (owner, mode, hard links and extended attributes kept) unless -o\n"
    "is given.\n"
    "\n"
    "  -s, --section=NAME         the section to fill (it must have file contents: not SHT_NOBITS)\n"
    "  -d, --data=FILE            the bytes to write\n"
    "  -l, --length-symbol=SYM    also store the data's length at symbol SYM: an unsigned word of the file's\n"
    "                             class (4 bytes ELF32, 8 bytes ELF64) in its byte order\n"
    "  -o, --output=OUT           write the result to OUT instead\n"
    "  -h, --help                 display this help and exit\n"
    "  -V, --version              display the version and exit\n"
    "\n"
    "If the data does not fit, nothing is written and the message says by how many bytes.\n"
    "A module signature appended to OBJECT is copied but no longer matches (a warning says so; sign after\n"
    "filling).\n"
    "Exit status: 0 on success, 1 if OBJECT cannot be filled, 2 on a usage error.\n";

int fail(const char* file, const elfsieve::error& e) {
  tool::print_file_error(file, e);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  elfsieve::install_truncation_guard();
  tool::set_program_name(argc, argv);
  const char* program_name = tool::program_name;
  // clang-format off
  static const option long_options[] = {
      {"section", required_argument, nullptr, 's'}, {"data", required_argument, nullptr, 'd'},
      {"length-symbol", required_argument, nullptr, 'l'}, {"output", required_argument, nullptr, 'o'},
      {"help", no_argument, nullptr, 'h'}, {"version", no_argument, nullptr, 'V'}, {nullptr, 0, nullptr, 0}};
  // clang-format on
  const char *section = nullptr, *data_file = nullptr, *length_symbol = nullptr, *output = nullptr;
  for (int c; (c = getopt_long(argc, argv, "s:d:l:o:hV", long_options, nullptr)) != -1;) {
    switch (c) {
      case 's': section = optarg; break;
      case 'd': data_file = optarg; break;
      case 'l': length_symbol = optarg; break;
      case 'o': output = optarg; break;
      case 'h': std::printf(usage_text, program_name); return 0;
      case 'V': std::printf("elfsieve-fill (elfsieve) %s\n", ELFSIEVE_VERSION); return 0;
      default: return tool::try_help();
    }
  }
  if (section == nullptr) tool::usage_error("--section is required");
  if (data_file == nullptr) tool::usage_error("--data is required");
  if (argc - optind != 1) tool::usage_error("exactly one OBJECT is required");
  const char* object = argv[optind];

  auto data = elfsieve::mapped_file::open(data_file);
  if (!data) return fail(data_file, data.error());
  auto input = elfsieve::mapped_file::open(object);
  if (!input) return fail(object, input.error());
  // In place: the file read must be the file replaced (owner, mode, links and attributes kept); -o: a new file
  // as GNU strip creates one (umask, execute permission for executables, never setuid/setgid). The output is
  // written into output_file's temporary as it is produced and committed only when all went well.
  const char* target = output != nullptr ? output : object;
  auto out = output != nullptr ? elfsieve::output_file::create(target, elfsieve::is_executable_elf(input->bytes()))
                               : elfsieve::output_file::replace(target, input->status());
  if (!out) return fail(target, out.error());
  elfsieve::fd_sink sink(out->fd());
  elfsieve::fill_request request{section, data->bytes(), length_symbol != nullptr ? length_symbol : ""};
  auto filled = elfsieve::fill_section(input->bytes(), request, sink);
  // Either file shrank while it was read: its missing bytes read as zeros, so nothing may be written.
  if (auto intact = data->check_intact(); !intact) return fail(data_file, intact.error());
  if (auto intact = input->check_intact(); !intact) return fail(object, intact.error());
  if (!filled) {
    const auto& e = filled.error();
    if (e.code == elfsieve::errc::fill_too_large) {
      std::fprintf(stderr, "%s: %s: data (%zu bytes) does not fit in section %s (%llu bytes): %llu bytes short\n",
                   program_name, object, data->bytes().size(), section,
                   static_cast<unsigned long long>(data->bytes().size() - e.detail.value_or(0)),
                   static_cast<unsigned long long>(e.detail.value_or(0)));
      return 1;
    }
    if (e.code == elfsieve::errc::no_such_section || e.code == elfsieve::errc::no_such_symbol) {
      std::fprintf(stderr, "%s: %s: %s: %s\n", program_name, object, elfsieve::to_string(e).c_str(),
                   e.code == elfsieve::errc::no_such_symbol ? length_symbol : section);
      return 1;
    }
    return fail(elfsieve::is_io_error(e.code) ? target : object, e);
  }
  // The signature covers every byte before it, the filled section's included (strip drops it; fill keeps the
  // layout, so it stays, stale): the module loader would refuse the module under CONFIG_MODULE_SIG_FORCE. Read
  // before the commit, which may copy the result into the mapped inode.
  const bool signed_module = elfsieve::kernel::ends_with_module_signature(input->bytes());
  if (auto w = out->commit(); !w) return fail(target, w.error());
  if (signed_module)
    std::fprintf(stderr, "%s: %s: warning: module signature no longer valid (sign the filled module again)\n",
                 program_name, target);
  return 0;
}
