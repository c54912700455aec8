// train/run_dir.h: a run directory changed as a transaction. run_training
// first checks everything it can without writing (the config, the
// checkpoint it resumes, the data, the model: built and run once on a dummy
// batch); only then does it open a RunDirTransaction, which gets --out ready:
//   - a directory that does not exist is created (with its missing parents);
//   - what the new run will write and is already there (config.json,
//     metrics.jsonl, checkpoint.safetensors, and data/ when the run
//     generates its data) is moved aside into OUT/.replaced-run/ (--resume:
//     config.json and metrics.jsonl are copied there; the run reads them).
// If the run fails before its first checkpoint, rollback() puts everything
// back as it was: what the run wrote is removed, what was moved aside comes
// back, a directory the run created is removed whole. commit(), after the
// first checkpoint, deletes what was kept aside.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seqboat::train {

// The files of a run in its directory; a directory holding any of them holds
// a run that a new one would destroy.
inline constexpr const char* kRunFiles[] = {"checkpoint.safetensors", "metrics.jsonl", "config.json"};
// Where an open transaction keeps the previous files (inside --out, so that
// moving is a rename). Left behind only when the process was killed; the
// next train in that directory refuses to start until the user has looked.
inline constexpr const char* kReplacedRunDir = ".replaced-run";

class RunDirTransaction {
 public:
  enum class Mode { Fresh, Overwrite, Resume };
  // Gets `out` ready (see above). writes_data: the run writes data/ (it
  // generates its ListOps data). Throws std::runtime_error naming the path
  // when a step fails; what it did until then is undone first.
  RunDirTransaction(const std::filesystem::path& out, Mode mode, bool writes_data);
  RunDirTransaction(const RunDirTransaction&) = delete;
  RunDirTransaction& operator=(const RunDirTransaction&) = delete;
  ~RunDirTransaction();  // rolls back unless committed (best effort)

  // The new run has its first checkpoint: the previous files are deleted.
  void commit();
  // Undoes everything; returns "" or what could not be undone (never throws).
  std::string rollback() noexcept;

 private:
  std::filesystem::path out_, backup_, created_root_;
  Mode mode_;
  std::vector<std::string> moved_, copied_, items_;  // names inside out_
  bool done_ = false;
};

// Whether --out may be trained into with these options; reads only. Throws
// UsageError for --out naming a file that is not a directory, or holding a
// run without --resume or --overwrite; std::runtime_error for --resume
// without a checkpoint and for a .replaced-run left by a killed --overwrite.
void check_run_dir(const std::filesystem::path& out, bool resume, bool overwrite);

}  // namespace seqboat::train
