// A deliberate layering violation: compiled with the ops layer's include root
// and flags (CTest `layering_eigen_outside_cpu_fails`), this must not compile,
// because only the CPU backend links Eigen.
#include <Eigen/Core>
