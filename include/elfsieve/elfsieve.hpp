// Umbrella header: everything a tool needs to read ELF objects.
#pragma once

#include "elfsieve/bytes.hpp"
#include "elfsieve/elf.hpp"
#include "elfsieve/endian.hpp"
#include "elfsieve/error.hpp"
#include "elfsieve/file.hpp"
#include "elfsieve/group.hpp"
#include "elfsieve/index.hpp"
#include "elfsieve/layout.hpp"
#include "elfsieve/mapped_file.hpp"
#include "elfsieve/note.hpp"
#include "elfsieve/open.hpp"
#include "elfsieve/reloc.hpp"
#include "elfsieve/strings.hpp"
#include "elfsieve/symbol.hpp"
#include "elfsieve/version.hpp"
