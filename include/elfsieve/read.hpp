// Read-only umbrella for embedders that only parse: the core types, the zero-copy views and the analyses over
// them (relocation index, relocation kinds, nm type letters, policies). No POSIX headers, no file I/O, nothing
// that rewrites.
#pragma once

#include "elfsieve/core/bytes.hpp"
#include "elfsieve/core/elf.hpp"
#include "elfsieve/core/endian.hpp"
#include "elfsieve/core/error.hpp"
#include "elfsieve/core/index.hpp"
#include "elfsieve/core/layout.hpp"
#include "elfsieve/read/file.hpp"
#include "elfsieve/read/groups.hpp"
#include "elfsieve/read/notes.hpp"
#include "elfsieve/read/open.hpp"
#include "elfsieve/read/relocations.hpp"
#include "elfsieve/read/strings.hpp"
#include "elfsieve/read/symbol_versions.hpp"
#include "elfsieve/read/symbols.hpp"
#include "elfsieve/analysis/glob.hpp"
#include "elfsieve/analysis/nm_listing.hpp"
#include "elfsieve/analysis/nm_type.hpp"
#include "elfsieve/analysis/policy.hpp"
#include "elfsieve/analysis/policy_expr.hpp"
#include "elfsieve/analysis/reloc_index.hpp"
#include "elfsieve/analysis/reloc_kinds.hpp"
