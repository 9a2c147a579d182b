// elfsieve-kallsyms --module FOO.ko...: the lines /proc/kallsyms shows for a module once it is loaded and its
// init has run (kernel::compute_module_kallsyms), "ADDRESS TYPE NAME\t[modname]". A .ko does not say where the
// kernel will load it: ADDRESS is the symbol's offset within its section (st_value), or zeros with
// --zero-addresses. Included by elfsieve-kallsyms.cpp, which parses the options and calls run_module.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/module_kallsyms.hpp"
#include "elfsieve/read/open.hpp"
#include "tool.hpp"

namespace kallsyms_tool {

struct module_mode_options {
  bool zero_addresses = false;  // --zero-addresses: print 0000... as an unprivileged reader sees it
  bool kallsyms_all = true;     // --no-kallsyms-all: CONFIG_KALLSYMS_ALL off (text symbols only)
  bool module_unload = true;    // --no-module-unload: CONFIG_MODULE_UNLOAD off (.exit sections freed too)
  elfsieve::kernel::kallsyms::kernel_version version = elfsieve::kernel::kallsyms::kernel_version::v6_1;
};

// Lines for --help (the --module part), for elfsieve-kallsyms.cpp's usage text.
inline constexpr const char* module_help_text =
    "  --module FOO.ko...      the symbols the module loader keeps for each module (add_kallsyms: defined,\n"
    "                          named, in a loaded non-init section; data too with CONFIG_KALLSYMS_ALL), as\n"
    "                          /proc/kallsyms prints them once init has run: ADDRESS TYPE NAME\\t[modname],\n"
    "                          type upper case when the module exports it with EXPORT_SYMBOL (not _GPL).\n"
    "                          ADDRESS is the offset within the symbol's section: a .ko does not know its\n"
    "                          load address. Same rules for 6.1 and 6.12. Modules print in argument order;\n"
    "                          the kernel lists the most recently loaded module first.\n"
    "    --zero-addresses      print zeros as ADDRESS (what a reader without CAP_SYSLOG sees)\n"
    "    --no-kallsyms-all     CONFIG_KALLSYMS_ALL off: only symbols in executable sections\n"
    "    --no-module-unload    CONFIG_MODULE_UNLOAD off: .exit sections are freed with init\n";

// Prints the lines of every module in `paths` to standard output in one write. Returns 0, or 1 when a file could
// not be read or is no module with a symbol table ("elfsieve-kallsyms: FILE: reason" on stderr; the others
// still print).
inline int run_module(const std::vector<std::string>& paths, const module_mode_options& o = {}) {
  std::string out;
  int status = 0;
  for (const auto& path : paths) {
    auto mapped = elfsieve::mapped_file::open(path.c_str());
    if (!mapped) {
      tool::print_file_error(path.c_str(), mapped.error());
      status = tool::exit_file_error;
      continue;
    }
    auto done = elfsieve::visit(mapped->bytes(), [&](const auto& f) -> elfsieve::result<void> {
      auto options = elfsieve::kernel::default_module_kallsyms_options(f);
      options.kallsyms_all = o.kallsyms_all;
      options.module_unload = o.module_unload;
      options.version = o.version;
      ELFSIEVE_TRY(const auto kallsyms, elfsieve::kernel::compute_module_kallsyms(f, options));
      using layout = typename std::remove_cvref_t<decltype(f)>::layout_type;
      elfsieve::kernel::append_proc_kallsyms_lines(out, kallsyms, layout::is64 ? 16 : 8, !o.zero_addresses);
      return {};
    });
    if (done) {
      if (auto intact = mapped->check_intact(); !intact) done = intact.error();
    }
    if (!done) {
      tool::print_file_error(path.c_str(), done.error());
      status = tool::exit_file_error;
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "%s: write error: %s\n", tool::program_name, std::strerror(errno));
    return tool::exit_file_error;
  }
  return status;
}

}  // namespace kallsyms_tool
