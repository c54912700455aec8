// A deliberate layering violation: compiled against the tensor layer's include
// root (CTest `layering_upward_include_fails`), this must not compile.
#include "ops/shape.h"
