// elfsieve-kallsyms' parsed command line, shared by the modes' headers (kallsyms_verify_dump.hpp, kallsyms_diff.hpp,
// kallsyms_module.hpp): elfsieve-kallsyms.cpp parses the options once and hands this to the mode's run_* function.
#pragma once

#include <vector>

#include "elfsieve/kernel/kallsyms_tables.hpp"

namespace tool {

enum class kallsyms_mode { assembly, system_map, verify, dump, diff, module };

struct kallsyms_cli {
  kallsyms_mode mode = kallsyms_mode::assembly;
  elfsieve::kernel::kallsyms::options options;  // the scripts/kallsyms flags and --kernel
  bool flags_given = false;        // a flag or --kernel was on the command line (--verify infers them otherwise)
  bool kernel_given = false;       // --kernel was on the command line
  std::vector<const char*> files;  // the operands: VMLINUX; A B for --diff; IMAGE; FOO.ko...
  // --module's own options
  bool zero_addresses = false;  // --zero-addresses
  bool kallsyms_all = true;     // --no-kallsyms-all clears it
  bool module_unload = true;    // --no-module-unload clears it
};

}  // namespace tool
