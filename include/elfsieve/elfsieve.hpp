// Umbrella header: everything a tool needs to read, filter and rewrite ELF objects. Parse-only embedders that
// want no POSIX headers include "elfsieve/read.hpp" instead.
#pragma once

#include "elfsieve/read.hpp"

#include "elfsieve/io/atomic_output.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/kernel/autoksyms.hpp"
#include "elfsieve/rewrite/fill.hpp"
#include "elfsieve/rewrite/strtab_builder.hpp"
#include "elfsieve/rewrite/writer.hpp"
#include "elfsieve/strip/plan.hpp"
#include "elfsieve/strip/strip_object.hpp"
