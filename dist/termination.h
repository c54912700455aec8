// dist/termination.h: what a rank says when the MPI launcher ends it. When one
// rank of a job dies, mpirun sends SIGTERM to the others; without a handler
// they vanish silently. The handler prints one line naming the rank, the
// signal and a note the trainer sets (where the last checkpoint is), then
// exits with 128 + the signal number.
#pragma once

#include <string>

namespace seqboat::dist {

// The rank and size the messages name (set by the MPI communicator).
void set_rank_for_messages(int rank, int size);
// Installs the SIGTERM/SIGINT handler (MPI runs only: a single process keeps
// the default behaviour).
void install_termination_handler();
// Appended to the handler's line; copied into a fixed buffer (the handler may
// only call async-signal-safe functions), clipped to 400 bytes.
void set_termination_note(const std::string& note);

}  // namespace seqboat::dist
