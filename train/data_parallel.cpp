// train/data_parallel.cpp: see data_parallel.h.
#include "train/data_parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstring>

#include "autograd/autograd.h"
#include "ops/backend.h"
#include "ops/shape.h"
#include "tensor/tensor.h"
#include "tensor/usage_error.h"
#include "train/presets.h"

namespace seqboat::train {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Rows [s.begin, s.end) of a (B, ...) tensor as a tensor of its own; of a
// pair batch's (2B, ...) tensor, those rows of each half, in that order.
Tensor rows_of(const Tensor& t, Share s, bool pair) {
  if (!t.defined()) return t;
  if (!pair) return t.narrow(0, s.begin, s.rows()).contiguous();
  const int64_t half = t.size(0) / 2;
  return concat({t.narrow(0, s.begin, s.rows()), t.narrow(0, half + s.begin, s.rows())}, 0);
}

}  // namespace

Share batch_share(int64_t batch, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw std::logic_error("batch_share: rank out of range");
  if (batch < ranks)
    throw UsageError(fmt::format(
        "config key 'batch_size': {} is smaller than the number of ranks ({}); every rank needs at least one row of "
        "the global batch (raise batch_size or start fewer ranks)",
        batch, ranks));
  const int64_t base = batch / ranks, extra = batch % ranks;
  Share s;
  s.begin = rank * base + std::min<int64_t>(rank, extra);
  s.end = s.begin + base + (rank < extra ? 1 : 0);
  return s;
}

Batch take_rows(const Batch& b, Share s, DropoutRng& dropout) {
  NoGradGuard no_grad;
  if (b.pair && (!b.tokens.defined() || b.tokens.size(0) != 2 * b.labels.size(0)))
    throw std::logic_error("take_rows: a pair batch needs two rows of tokens per label");
  Batch out;
  out.pair = b.pair;
  out.tokens = rows_of(b.tokens, s, b.pair);
  out.values = rows_of(b.values, s, false);
  out.padding = rows_of(b.padding, s, b.pair);
  out.labels = rows_of(b.labels, s, false);
  dropout.row_offset = static_cast<uint64_t>(s.begin);
  dropout.rows_in_first_block = b.pair ? static_cast<uint64_t>(s.rows()) : 0;
  dropout.second_row_offset = b.pair ? static_cast<uint64_t>(b.labels.size(0) + s.begin) : 0;
  if (out.padding.defined()) {
    int64_t pad = 0;
    const uint8_t* p = out.padding.data<uint8_t>();
    for (int64_t i = 0; i < out.padding.numel(); ++i) pad += p[i] != 0;
    out.real_tokens = out.padding.numel() - pad;
  } else {
    out.real_tokens = out.tokens.numel();
  }
  return out;
}

void check_data_parallel_config(const json& cfg, int ranks) {
  if (ranks <= 1) return;
  batch_share(cfg.at("batch_size").get<int64_t>(), 0, ranks);  // throws when too small
  if (cfg.at("model.norm_type") == "batchnorm") {
    std::vector<std::string> with_batchnorm;
    for (const Preset& p : presets())
      if (p.values.value("model.norm_type", "") == "batchnorm") with_batchnorm.push_back(p.name);
    throw UsageError(fmt::format(
        "config key 'model.norm_type': batchnorm normalises with statistics over the batch, and each of the {} ranks "
        "would use those of its own share (a different model than one process trains): train it in one process "
        "(without mpirun), or add --set model.norm_type=layernorm (or scalenorm) to train data-parallel (the presets "
        "{} use batchnorm; this changes their model)",
        ranks, fmt::join(with_batchnorm, ", ")));
  }
}

// ------------------------------------------------------------ GradientSync

GradientSync::GradientSync(dist::Communicator& comm, nn::NamedParams params, int64_t bucket_bytes,
                           dist::NcclComm* nccl)
    : comm_(comm), nccl_(nccl) {
  // A tensor listed twice (tied weights) is reduced once.
  for (const auto& np : params) {
    bool seen = false;
    for (const auto& q : params_) seen = seen || q.second->impl() == np.second->impl();
    if (!seen) params_.push_back(np);
  }
  // Deepest first: the parameters registered last get their gradients first.
  Bucket cur;
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = *params_[k].second;
    cur.params.push_back(k);
    cur.elements += p.numel();
    bytes += p.numel() * static_cast<int64_t>(dtype_size(p.dtype()));
    if (bytes >= bucket_bytes) {
      buckets_.push_back(std::move(cur));
      cur = Bucket{};
      bytes = 0;
    }
  }
  if (!cur.params.empty()) buckets_.push_back(std::move(cur));
  flags_.resize(params_.size());
}

void GradientSync::all_reduce() {
  if (comm_.size() == 1 && !nccl_) return;
  NoGradGuard no_grad;
  // Which parameters have a gradient on some rank.
  auto t0 = Clock::now();
  for (size_t i = 0; i < params_.size(); ++i) flags_[i] = params_[i].second->grad().defined() ? 1.0 : 0.0;
  comm_.allreduce_sum(flags_.data(), static_cast<int64_t>(flags_.size()));
  comm_seconds_ += since(t0);
  auto t1 = Clock::now();
  DType dt = DType::Float32;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = *params_[i].second;
    dt = p.dtype();
    if (flags_[i] == 0) continue;
    Tensor g = p.grad();
    if (!g.defined()) p.impl()->grad = zeros_like(p).impl_ptr();
    else if (!g.is_contiguous()) p.impl()->grad = g.contiguous().impl_ptr();
  }
  pack_seconds_ += since(t1);
  if (nccl_) return nccl_reduce();

  dispatch_float(dt, "GradientSync", [&](auto zero) {
    using T = decltype(zero);
    std::vector<std::vector<T>> buffers(buckets_.size());
    std::vector<std::unique_ptr<dist::PendingReduce>> pending(buckets_.size());
    auto each = [&](const Bucket& b, auto&& f) {
      int64_t at = 0;
      for (size_t i : b.params) {
        if (flags_[i] == 0) continue;
        Tensor g = params_[i].second->grad();
        f(g, at);
        at += g.numel();
      }
    };
    for (size_t k = 0; k < buckets_.size(); ++k) {
      auto tp = Clock::now();
      std::vector<T>& buf = buffers[k];
      buf.resize(static_cast<size_t>(buckets_[k].elements));
      int64_t used = 0;
      each(buckets_[k], [&](const Tensor& g, int64_t at) {
        const Tensor host = g.device() == Device::CPU ? g : host_contiguous_copy(g);
        std::memcpy(buf.data() + at, host.data<T>(), static_cast<size_t>(g.numel()) * sizeof(T));
        used = at + g.numel();
      });
      pack_seconds_ += since(tp);
      auto tc = Clock::now();
      if (used > 0) pending[k] = comm_.start_allreduce_sum(buf.data(), used);
      comm_seconds_ += since(tc);
    }
    for (size_t k = 0; k < buckets_.size(); ++k) {
      if (!pending[k]) continue;
      auto tc = Clock::now();
      pending[k]->wait();
      comm_seconds_ += since(tc);
      auto tp = Clock::now();
      const std::vector<T>& buf = buffers[k];
      each(buckets_[k], [&](const Tensor& g, int64_t at) {
        if (g.device() == Device::CPU) {
          std::memcpy(g.data<T>(), buf.data() + at, static_cast<size_t>(g.numel()) * sizeof(T));
        } else {
          Tensor host = empty(g.shape(), g.dtype());
          std::memcpy(host.data<T>(), buf.data() + at, static_cast<size_t>(g.numel()) * sizeof(T));
          copy_contiguous_bytes(g, host);
        }
      });
      pack_seconds_ += since(tp);
    }
    return 0;
  });
}

void GradientSync::nccl_reduce() {
  std::vector<dist::DeviceBuffer> buffers;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (flags_[i] == 0) continue;
    Tensor g = params_[i].second->grad();
    if (g.device() == Device::CPU)
      throw std::logic_error("GradientSync: NCCL sums GPU gradients; this parameter's gradient is on the CPU");
    buffers.push_back({g.raw_data(), g.numel(), g.dtype() == DType::Float64});
  }
  auto t = Clock::now();
  synchronize_device(Device::CUDA);  // the gradients are written on seqboat's stream
  nccl_->allreduce_sum(buffers);
  comm_seconds_ += since(t);
}

// ------------------------------------------------------------ agreement

void run_agreed(dist::Communicator& comm, bool mine, const std::function<void()>& f) {
  std::exception_ptr err;
  if (mine) try {
      f();
    } catch (...) {
      err = std::current_exception();
    }
  if (comm.size() == 1) {
    if (err) std::rethrow_exception(err);
    return;
  }
  double failed = err ? 1 : 0;
  comm.allreduce_sum(&failed, 1);
  if (err) std::rethrow_exception(err);
  if (failed > 0)
    throw std::runtime_error(fmt::format("rank {} of {}: stopping because {} other rank(s) failed (see their message)",
                                         comm.rank(), comm.size(), static_cast<int64_t>(failed)));
}

uint64_t replica_hash(nn::Module& model, const nn::Optimizer& optimizer) {
  uint64_t h = dist::fnv1a(nullptr, 0);
  auto add = [&](const std::map<std::string, Tensor>& tensors) {
    for (const auto& [name, t] : tensors) {
      h = dist::fnv1a(name.data(), static_cast<int64_t>(name.size()), h);
      const Tensor host = host_contiguous_copy(t);
      h = dist::fnv1a(host.raw_data(), host.numel() * static_cast<int64_t>(dtype_size(host.dtype())), h);
    }
  };
  add(model.state_dict());
  add(optimizer.state_dict());
  return h;
}

void check_replicas(dist::Communicator& comm, nn::Module& model, const nn::Optimizer& optimizer, int64_t step) {
  if (comm.size() == 1) return;
  const uint64_t mine = replica_hash(model, optimizer);
  uint64_t root = mine;
  comm.broadcast(&root, sizeof root, 0);
  std::vector<double> differs(static_cast<size_t>(comm.size()), 0.0);
  differs[static_cast<size_t>(comm.rank())] = mine != root ? 1.0 : 0.0;
  comm.allreduce_sum(differs.data(), comm.size());
  std::string bad;
  for (int r = 0; r < comm.size(); ++r)
    if (differs[static_cast<size_t>(r)] != 0) bad += fmt::format("{}{}", bad.empty() ? "" : ", ", r);
  if (!bad.empty())
    throw std::runtime_error(fmt::format(
        "replica check after step {}: the parameters or optimizer state of rank(s) {} differ from rank 0's", step,
        bad));
}

}  // namespace seqboat::train
