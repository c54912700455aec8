// train/run_dir.cpp: RunDirTransaction and check_run_dir (see run_dir.h).
#include "train/run_dir.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "tensor/safe_text.h"
#include "tensor/usage_error.h"

namespace seqboat::train {

namespace fs = std::filesystem;

namespace {

std::runtime_error fs_failure(const char* what, const fs::path& path, const std::error_code& ec) {
  return std::runtime_error(fmt::format("cannot {} {}: {}", what, quote_text(path.string()), ec.message()));
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

}  // namespace

void check_run_dir(const fs::path& out, bool resume, bool overwrite) {
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw UsageError(fmt::format("--out {} is not a directory", quote_text(out.string())));
  if (present(out / kReplacedRunDir))
    throw std::runtime_error(fmt::format(
        "{} holds the files of a run that an interrupted --overwrite replaced; move them back into {} or delete "
        "the folder, then train again",
        quote_text((out / kReplacedRunDir).string()), quote_text(out.string())));
  if (resume) {
    if (!fs::is_regular_file(out / kRunFiles[0], ec))
      throw std::runtime_error(fmt::format("--resume: no checkpoint at {}", quote_text((out / kRunFiles[0]).string())));
    return;
  }
  if (overwrite) return;
  for (const char* f : kRunFiles)
    if (present(out / f))
      throw UsageError(fmt::format(
          "output directory {} already holds a run ({} exists); use --resume to continue it, --overwrite to replace "
          "it, or another --out",
          quote_text(out.string()), f));
}

RunDirTransaction::RunDirTransaction(const fs::path& out, Mode mode, bool writes_data) : out_(out), mode_(mode) {
  items_.assign(std::begin(kRunFiles), std::end(kRunFiles));
  if (writes_data) items_.push_back("data");
  backup_ = out_ / kReplacedRunDir;
  std::error_code ec;
  // The topmost missing ancestor: what rollback removes to leave nothing.
  if (!present(out_)) {
    fs::path p = fs::absolute(out_, ec).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();  // "dir/" -> "dir"
    while (p.has_parent_path() && p.parent_path() != p && !present(p.parent_path())) p = p.parent_path();
    created_root_ = p;
    fs::create_directories(out_, ec);
    if (ec) {
      rollback();
      throw fs_failure("create the run directory", out_, ec);
    }
  }
  try {
    for (const std::string& name : items_) {
      const fs::path item = out_ / name;
      if (!present(item)) continue;
      if (!present(backup_)) {
        fs::create_directory(backup_, ec);
        if (ec) throw fs_failure("create", backup_, ec);
      }
      // --resume reads the run's own config.json and metrics.jsonl: copies
      // are kept; otherwise what the new run would overwrite moves aside.
      if (mode == Mode::Resume && name != "data") {
        if (name == kRunFiles[0]) continue;  // replaced atomically, and only by the first new checkpoint
        fs::copy_file(item, backup_ / name, ec);
        if (ec) throw fs_failure("keep a copy of", item, ec);
        copied_.push_back(name);
      } else {
        fs::rename(item, backup_ / name, ec);
        if (ec) throw fs_failure("move aside", item, ec);
        moved_.push_back(name);
      }
    }
  } catch (...) {
    rollback();
    throw;
  }
}

RunDirTransaction::~RunDirTransaction() {
  if (!done_) rollback();
}

void RunDirTransaction::commit() {
  if (done_) return;
  done_ = true;
  std::error_code ec;
  fs::remove_all(backup_, ec);  // the new run stands; the old files are not needed (best effort)
}

std::string RunDirTransaction::rollback() noexcept {
  if (done_) return "";
  done_ = true;
  std::string problems;
  auto note = [&](const char* what, const fs::path& p, const std::error_code& ec) {
    if (ec)
      problems +=
          fmt::format("{}cannot {} {}: {}", problems.empty() ? "" : "; ", what, quote_text(p.string()), ec.message());
  };
  try {
    std::error_code ec;
    if (!created_root_.empty()) {
      fs::remove_all(created_root_, ec);
      note("remove", created_root_, ec);
      return problems;
    }
    for (const std::string& name : items_) {
      // What the failed run wrote. A resumed run's checkpoint is the old
      // one until the first new checkpoint, which commits: it stays.
      if (mode_ == Mode::Resume && name == kRunFiles[0]) continue;
      fs::remove_all(out_ / name, ec);
      note("remove", out_ / name, ec);
    }
    for (const std::string& name : moved_) {
      fs::rename(backup_ / name, out_ / name, ec);
      note("move back", backup_ / name, ec);
    }
    for (const std::string& name : copied_) {
      fs::rename(backup_ / name, out_ / name, ec);
      note("restore", backup_ / name, ec);
    }
    if (problems.empty()) {
      fs::remove_all(backup_, ec);
      note("remove", backup_, ec);
    }
  } catch (const std::exception& e) {  // (allocation inside the filesystem library)
    problems += e.what();
  }
  return problems;
}

}  // namespace seqboat::train
