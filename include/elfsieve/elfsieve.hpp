// Umbrella header: everything a tool needs to read, filter and rewrite ELF objects. Parse-only embedders that
// want no POSIX headers include "elfsieve/read.hpp" instead.
#pragma once

#include "elfsieve/read.hpp"

#include "elfsieve/io/fd_sink.hpp"
#include "elfsieve/io/mapped_file.hpp"
#include "elfsieve/io/output_file.hpp"
#include "elfsieve/io/text_file.hpp"
#include "elfsieve/io/truncation_guard.hpp"
#include "elfsieve/rewrite/edits.hpp"
#include "elfsieve/rewrite/file_layout.hpp"
#include "elfsieve/rewrite/fill.hpp"
#include "elfsieve/rewrite/rebuilt_names.hpp"
#include "elfsieve/rewrite/rel_field.hpp"
#include "elfsieve/rewrite/renumbering.hpp"
#include "elfsieve/rewrite/sink.hpp"
#include "elfsieve/rewrite/strtab_builder.hpp"
#include "elfsieve/rewrite/writer.hpp"
#include "elfsieve/kernel/autoksyms.hpp"
#include "elfsieve/kernel/kallsyms_tables.hpp"
#include "elfsieve/kernel/module.hpp"
#include "elfsieve/strip/decision.hpp"
#include "elfsieve/strip/gnu_options.hpp"
#include "elfsieve/strip/plan.hpp"
#include "elfsieve/strip/section_selection.hpp"
#include "elfsieve/strip/strip_object.hpp"
#include "elfsieve/strip/symbol_decisions.hpp"
