// Read-only umbrella of the violation tree.
#pragma once
#include "elfsieve/core/low.hpp"
