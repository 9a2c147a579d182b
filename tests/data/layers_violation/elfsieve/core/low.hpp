// A core header that reaches up into strip/: the layer check must reject it.
#pragma once
#include "elfsieve/strip/high.hpp"
