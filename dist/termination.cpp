// dist/termination.cpp: see termination.h. The message is formatted before
// any signal arrives; the handler only calls write() and _exit().
#include "dist/termination.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace seqboat::dist {

namespace {

int g_rank = 0, g_size = 1;
char g_note[512] = "";

void write_all(const char* s) {
  size_t left = std::strlen(s);
  while (left > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, left);
    if (w <= 0) return;
    s += w;
    left -= static_cast<size_t>(w);
  }
}

char g_line[2][1024];  // the line for SIGTERM and for SIGINT, formatted in advance

void format_lines() {
  const char* names[2] = {"SIGTERM", "SIGINT"};
  for (int i = 0; i < 2; ++i)
    std::snprintf(g_line[i], sizeof g_line[i],
                  "seqboat (rank %d of %d): ended by %s from the MPI launcher: another rank failed or the job was "
                  "stopped%s%s\n",
                  g_rank, g_size, names[i], g_note[0] ? "; " : "", g_note);
}

extern "C" void on_termination(int sig) {
  write_all(g_line[sig == SIGINT ? 1 : 0]);
  _exit(128 + sig);
}

}  // namespace

void set_rank_for_messages(int rank, int size) {
  g_rank = rank;
  g_size = size;
  format_lines();
}

void install_termination_handler() {
  format_lines();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_termination;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

void set_termination_note(const std::string& note) {
  // Blocked while the lines change, so a signal never sees half a line.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  std::snprintf(g_note, 401, "%s", note.c_str());
  format_lines();
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace seqboat::dist
