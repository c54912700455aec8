// dist/mpi_communicator.h: the MPI communicator's factory (only in builds with
// SEQBOAT_MPI; world() calls it when mpirun started the process).
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace seqboat::dist {

// Initialises MPI (MPI_Init_thread, funneled: only the main thread calls MPI)
// and finalises it at exit.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace seqboat::dist
