// python/src/module.cpp: the extension module seqboat._core. The Python
// package (python/seqboat/__init__.py) re-exports it with a few helpers.
// C++ exceptions arrive as Python ones with the C++ message (nanobind's
// translation): std::invalid_argument -> ValueError, std::out_of_range ->
// IndexError, other std::exception (I/O, malformed files) -> RuntimeError.
#include "bindings.h"

NB_MODULE(_core, m) {
  m.doc() = "seqboat: tensors with reverse-mode autodiff and the SeqBoat (Sparse Modular Activation) ops and modules";
  seqboat::python::bind_tensor(m);
  seqboat::python::bind_seqboat_ops(m);
  seqboat::python::bind_modules(m);
  seqboat::python::bind_files(m);
  seqboat::python::bind_training(m);
}
