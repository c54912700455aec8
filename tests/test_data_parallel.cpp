// tests/test_data_parallel.cpp: the single-process parts of data-parallel
// training: how a global batch is split over ranks, that a rank's rows keep
// the batch's padded length, that a rank's dropout masks are the rows of the
// whole batch's masks (CPU kernel and the CUDA kernel run on the host), the
// configs refused, the SMA plan of a share, the replica check, and the
// one-rank communicator. The multi-process runs are
// CTest's mpi_* tests (tests/mpi/).
#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "cuda_on_host.h"
#include "dist/communicator.h"
#include "nn/optim.h"
#include "nn/seqboat.h"
#include "dist/nccl.h"
#include "ops/backend.h"
#include "ops/nn_ops.h"
#include "ops/sma.h"
#include "train/config.h"
#include "train/data_parallel.h"
#include "train/task_data.h"
#include "tensor/usage_error.h"

using namespace seqboat;
using namespace seqboat::train;

TEST_CASE("batch_share: even and uneven splits cover the batch once, in rank order") {
  for (int ranks : {1, 2, 3, 4, 7}) {
    for (int64_t batch : {7, 8, 32, 33}) {
      if (batch < ranks) continue;
      int64_t next = 0, largest = 0, smallest = batch;
      for (int r = 0; r < ranks; ++r) {
        Share s = batch_share(batch, r, ranks);
        CHECK(s.begin == next);
        next = s.end;
        largest = std::max(largest, s.rows());
        smallest = std::min(smallest, s.rows());
      }
      CHECK(next == batch);
      CHECK(largest - smallest <= 1);
    }
  }
  CHECK(batch_share(32, 0, 3).rows() == 11);
  CHECK(batch_share(32, 2, 3).rows() == 10);
  CHECK_THROWS_WITH_AS(batch_share(2, 0, 3), doctest::Contains("'batch_size': 2 is smaller than the number of ranks (3)"),
                       UsageError);
}

TEST_CASE("take_rows keeps the padded length and counts the rows' real tokens") {
  std::vector<data::SeqExample> ex(3);
  ex[0].tokens = {1, 2};
  ex[1].tokens = {3, 4, 5, 6, 7};
  ex[2].tokens = {8};
  for (int i = 0; i < 3; ++i) ex[static_cast<size_t>(i)].label = i;
  Batch b = make_classification_batch(ex, {0, 1, 2});
  REQUIRE(b.tokens.shape() == Shape{3, 5});
  DropoutRng rng;
  Batch r = take_rows(b, Share{2, 3}, rng);  // the shortest row alone still has length 5
  CHECK(r.tokens.shape() == Shape{1, 5});
  CHECK(r.padding.shape() == Shape{1, 5});
  CHECK(r.real_tokens == 1);
  CHECK(r.labels.to_vector() == std::vector<double>{2});
  CHECK(r.tokens.to_vector() == std::vector<double>{8, 0, 0, 0, 0});
  CHECK(rng.row_offset == 2);
  CHECK(rng.rows_in_first_block == 0);
  CHECK(take_rows(b, Share{0, 2}, rng).real_tokens == 7);
  CHECK(rng.row_offset == 0);
}

TEST_CASE("take_rows: continuous values are cut by rows; a pair batch gives each rank its rows of both halves") {
  std::vector<Sample> values(3);
  values[0].values = {0.5f, 1.5f};
  values[1].values = {2.5f};
  values[2].values = {3.5f, 4.5f};
  Batch v = make_batch(InputKind::Values, values);
  DropoutRng rng;
  Batch rv = take_rows(v, Share{1, 3}, rng);
  CHECK(rv.values.shape() == Shape{2, 2, 1});
  CHECK(rv.values.to_vector() == std::vector<double>{2.5, 0, 3.5, 4.5});
  CHECK(rv.real_tokens == 3);
  CHECK(!rv.tokens.defined());
  // Pairs (first documents a0 a1 a2, second ones b0 b1 b2): rows 1..3 are a1 a2 b1 b2.
  std::vector<Sample> pairs(3);
  for (int i = 0; i < 3; ++i) {
    pairs[static_cast<size_t>(i)].tokens = {10 + i};
    pairs[static_cast<size_t>(i)].tokens2 = std::vector<int32_t>(static_cast<size_t>(i + 1), 20 + i);
    pairs[static_cast<size_t>(i)].label = i % 2;
  }
  Batch p = make_batch(InputKind::Pair, pairs);
  REQUIRE(p.pair);
  REQUIRE(p.tokens.shape() == Shape{6, 3});
  Batch rp = take_rows(p, Share{1, 3}, rng);
  CHECK(rp.pair);
  CHECK(rp.tokens.to_vector() == std::vector<double>{11, 0, 0, 12, 0, 0, 21, 21, 0, 22, 22, 22});
  CHECK(rp.padding.to_vector() == std::vector<double>{0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0});
  CHECK(rp.labels.to_vector() == std::vector<double>{1, 0});
  CHECK(rp.real_tokens == 7);
  // Its dropout rows: 1..3 of the whole batch, then 4..6 (3 + 1).
  CHECK(rng.row_offset == 1);
  CHECK(rng.rows_in_first_block == 2);
  CHECK(rng.second_row_offset == 4);
}

namespace {

// The keep mask (as 0/1) of one dropout call on a (rows, cols) tensor whose
// first row is `row_offset` of the whole batch.
std::vector<double> mask_of(int64_t rows, int64_t cols, uint64_t row_offset) {
  Tensor x = ones({rows, cols}, DType::Float64);
  DropoutRng rng{1234, 7, row_offset};
  Tensor y = dropout(x, 0.5, true, rng);
  std::vector<double> v = y.to_vector();
  for (double& e : v) e = e != 0 ? 1 : 0;
  return v;
}

}  // namespace

TEST_CASE("dropout: a rank's rows draw the masks those rows have in the whole batch") {
  // Rows of 6 elements (not a multiple of 4: Philox blocks straddle rows).
  const int64_t rows = 7, cols = 6;
  const std::vector<double> whole = mask_of(rows, cols, 0);
  double kept = 0;
  for (double e : whole) kept += e;
  CHECK(kept > 5);  // p = 0.5 over 42 elements: the mask is not trivial
  CHECK(kept < 37);
  for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 3}, {3, 5}, {5, 7}, {1, 2}}) {
    const std::vector<double> part = mask_of(end - begin, cols, static_cast<uint64_t>(begin));
    const std::vector<double> expect(whole.begin() + begin * cols, whole.begin() + end * cols);
    CHECK(part == expect);
  }
  // The same rule in the CUDA kernel, run on the host: every split of the
  // rows gives the CPU's masks of the whole batch.
  testing::CudaKernelsOnHost cuda_kernels;
  CHECK(mask_of(rows, cols, 0) == whole);
  for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 3}, {3, 5}, {5, 7}, {1, 2}}) {
    const std::vector<double> part = mask_of(end - begin, cols, static_cast<uint64_t>(begin));
    CHECK(part == std::vector<double>(whole.begin() + begin * cols, whole.begin() + end * cols));
  }
}

TEST_CASE("dropout: a rank's share of a pair batch (two blocks of rows) draws the whole batch's masks of those rows") {
  // A pair batch of B = 4 pairs: 8 rows, first documents 0..3, second 4..7.
  // Rows 1..3 of each half: 1, 2, 5, 6.
  const int64_t cols = 5;
  const std::vector<double> whole = mask_of(8, cols, 0);
  auto rows = [&](int64_t from, int64_t n) {
    return std::vector<double>(whole.begin() + from * cols, whole.begin() + (from + n) * cols);
  };
  std::vector<double> expect = rows(1, 2), second = rows(5, 2);
  expect.insert(expect.end(), second.begin(), second.end());
  auto share_mask = [&] {
    Tensor x = ones({4, cols}, DType::Float64);
    DropoutRng rng{1234, 7, 1, 2, 5};
    std::vector<double> v = dropout(x, 0.5, true, rng).to_vector();
    for (double& e : v) e = e != 0 ? 1 : 0;
    return v;
  };
  CHECK(share_mask() == expect);
  CHECK(expect != rows(1, 4));  // the second block differs from the rows that follow the first
  {
    testing::CudaKernelsOnHost cuda_kernels;
    CHECK(share_mask() == expect);
  }
  // A tensor that is not two blocks of that many rows is a logic error, not a wrong mask.
  Tensor odd = ones({3, cols}, DType::Float64);
  DropoutRng rng{1234, 7, 1, 2, 5};
  CHECK_THROWS_AS(dropout(odd, 0.5, true, rng), std::logic_error);
}

TEST_CASE("data-parallel configs: batch norm and a batch smaller than the ranks are refused, naming the key") {
  nlohmann::json cfg = resolve_config("recall", "", {});
  CHECK_NOTHROW(check_data_parallel_config(cfg, 2));
  cfg["model.norm_type"] = "batchnorm";
  CHECK_NOTHROW(check_data_parallel_config(cfg, 1));  // one process: as today
  CHECK_THROWS_WITH_AS(check_data_parallel_config(cfg, 2), doctest::Contains("'model.norm_type': batchnorm"),
                       UsageError);
  // It says what to do instead.
  CHECK_THROWS_WITH_AS(check_data_parallel_config(cfg, 2), doctest::Contains("--set model.norm_type=layernorm"),
                       UsageError);
  cfg["model.norm_type"] = "layernorm";
  cfg["batch_size"] = 3;
  CHECK_THROWS_WITH_AS(check_data_parallel_config(cfg, 4), doctest::Contains("'batch_size': 3"), UsageError);
}

TEST_CASE("the one-rank communicator: sums are the values, agreement rethrows this rank's error") {
  dist::Communicator& comm = dist::world();
  if (dist::launched_by_mpi()) return;  // this suite runs as one process
  CHECK(comm.size() == 1);
  CHECK(comm.rank() == 0);
  CHECK(comm.backend() == "single");
  double v[2] = {1.5, -2};
  comm.allreduce_sum(v, 2);
  CHECK(v[0] == 1.5);
  CHECK(v[1] == -2);
  CHECK_THROWS_WITH_AS(run_agreed(comm, true, [] { throw std::invalid_argument("bad key"); }), "bad key",
                       std::invalid_argument);
  bool ran = false;
  run_agreed(comm, false, [&] { ran = true; });
  CHECK_FALSE(ran);
  CHECK(dist::fnv1a("a", 1) != dist::fnv1a("b", 1));
}

TEST_CASE("a row's output of two SeqBoat layers does not depend on the other rows of its batch") {
  // Rows of different lengths (padding) and a window smaller than the number
  // of active tokens: a rank's rows must compute what they compute in the
  // whole batch, to rounding.
  for (auto rel : {nn::RelPosType::Simple, nn::RelPosType::Rotary}) {
    for (bool bidirectional : {true, false}) {
      nn::LayerConfig c;
      c.embed_dim = 8;
      c.zdim = 4;
      c.hdim = 16;
      c.window_size = 3;
      c.bidirectional = bidirectional;
      c.rel_pos_bias = rel;
      c.max_positions = 64;
      Generator gen(11);
      nn::SeqBoatLayer layer1(c, DType::Float64, gen), layer2(c, DType::Float64, gen);
      auto layers = [&](const Tensor& in, const Tensor& m, DropoutRng& r) {
        return layer2.forward(layer1.forward(in, m, r), m, r);
      };
      const int64_t B = 6, L = 30;
      Tensor x = rand_normal({B, L, 8}, 0, 1, DType::Float64, &gen);
      std::vector<uint8_t> pad(static_cast<size_t>(B * L), 0);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = L - 4 * b; t < L; ++t) pad[static_cast<size_t>(b * L + t)] = 1;
      Tensor mask = from_vector_u8(pad, {B, L});
      DropoutRng rng;
      const std::vector<double> whole = layers(x, mask, rng).to_vector();
      for (auto [b0, b1] : {std::pair<int64_t, int64_t>{0, 2}, {2, 6}, {5, 6}}) {
        Tensor part = layers(x.narrow(0, b0, b1 - b0).contiguous(), mask.narrow(0, b0, b1 - b0).contiguous(), rng);
        const std::vector<double> got = part.to_vector();
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i)
          worst = std::max(worst, std::abs(got[i] - whole[static_cast<size_t>(b0 * L * 8) + i]));
        INFO("rows " << b0 << ".." << b1 << " simple bias " << (rel == nn::RelPosType::Simple) << " bidirectional "
                     << bidirectional);
        CHECK(worst < 1e-12);
      }
    }
  }
}

TEST_CASE("a row's logits from the ListOps model do not depend on the other rows of its batch") {
  nlohmann::json cfg = resolve_config("listops", "", {"model.d_model=32", "model.d_qk=16", "model.dropout=0"});
  Generator gen(5);
  nn::SeqBoatModel model(model_config(cfg, 20, 10), DType::Float64, gen);
  const int64_t B = 8, L = 60;
  std::vector<int64_t> tok(static_cast<size_t>(B * L));
  for (auto& t : tok) t = static_cast<int64_t>(gen.next_below(19)) + 1;
  std::vector<uint8_t> pad(static_cast<size_t>(B * L), 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = L - 5 * b; t < L; ++t) pad[static_cast<size_t>(b * L + t)] = 1;
  Tensor tokens = from_vector_i64(tok, {B, L});
  Tensor mask = from_vector_u8(pad, {B, L});
  model.train(true);
  DropoutRng rng;
  const std::vector<double> whole = model.forward(tokens, mask, rng).to_vector();
  for (auto [b0, b1] : {std::pair<int64_t, int64_t>{0, 4}, {4, 8}}) {
    const std::vector<double> got =
        model.forward(tokens.narrow(0, b0, b1 - b0).contiguous(), mask.narrow(0, b0, b1 - b0).contiguous(), rng)
            .to_vector();
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(got[i] - whole[static_cast<size_t>(b0 * 10) + i]));
    INFO("rows " << b0 << ".." << b1 << ": worst " << worst);
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("sma_plan: a rank's rows get the whole batch's plan through batch_max") {
  // Row 0 fully active: the whole batch is not compressed (S = L, slot = token).
  // Row 1 alone would be compressed; told the batch's maximum, it is not.
  const std::vector<uint8_t> act = {1, 1, 1, 1, 0, 1, 0, 1};
  Tensor whole_active = from_vector_u8(act, {2, 4});
  SmaPlan whole = sma_plan(whole_active);
  CHECK_FALSE(whole.compressed);
  Tensor row1 = whole_active.narrow(0, 1, 1).contiguous();
  SmaPlan alone = sma_plan(row1);
  CHECK(alone.compressed);
  CHECK(alone.slots == 2);
  int64_t asked = -1;
  SmaPlan told = sma_plan(row1, [&](int64_t local) {
    asked = local;
    return int64_t{4};  // the maximum over the other rank's rows
  });
  CHECK(asked == 2);
  CHECK_FALSE(told.compressed);
  CHECK(told.slots == 4);
  CHECK(told.slot_index.to_vector() == whole.slot_index.narrow(0, 1, 1).to_vector());
  CHECK(told.slot_valid.to_vector() == whole.slot_valid.narrow(0, 1, 1).to_vector());
  // Compressed everywhere: the slots are the batch's maximum count.
  SmaPlan wide = sma_plan(row1, [](int64_t) { return int64_t{3}; });
  CHECK(wide.compressed);
  CHECK(wide.slots == 3);
}

TEST_CASE("NCCL: without a GPU, creating the communicator fails with a message naming NCCL") {
  if (device_available(Device::CUDA)) return;  // a GPU machine runs the real path (tools/gpu_check.sh)
  CHECK_THROWS_WITH_AS(dist::NcclComm::create(dist::world()), doctest::Contains("NCCL: "), std::runtime_error);
}

namespace {

// Rank 1 of 2, with rank 0 simulated: its broadcast delivers `root_hash`, and
// rank 0's entries in sums are zero (rank 0 matches itself).
class FakeRank1 : public dist::Communicator {
 public:
  explicit FakeRank1(uint64_t root_hash) : root_hash_(root_hash) {}
  int rank() const override { return 1; }
  int size() const override { return 2; }
  int local_rank() const override { return 1; }
  std::string backend() const override { return "fake"; }
  void allreduce_sum(double*, int64_t) override {}
  void allreduce_sum(float*, int64_t) override {}
  std::unique_ptr<dist::PendingReduce> start_allreduce_sum(float*, int64_t) override { return nullptr; }
  std::unique_ptr<dist::PendingReduce> start_allreduce_sum(double*, int64_t) override { return nullptr; }
  int64_t allreduce_max(int64_t v) override { return v; }
  void broadcast(void* data, int64_t bytes, int) override { std::memcpy(data, &root_hash_, static_cast<size_t>(bytes)); }
  void barrier() override {}
  [[noreturn]] void abort(int) override { throw std::logic_error("abort"); }

 private:
  uint64_t root_hash_;
};

}  // namespace

TEST_CASE("check_replicas: a rank whose parameters or optimizer state differ from rank 0's is named") {
  nlohmann::json cfg = resolve_config("recall", "", {"model.d_model=8", "model.d_qk=4", "model.n_layers=1"});
  Generator gen(3);
  nn::SeqBoatModel model(model_config(cfg, 20, 4), DType::Float32, gen);
  nn::AdamW opt(model.named_parameters(), {0.9, 0.98}, 1e-8, 0.0);
  const uint64_t h = replica_hash(model, opt);
  FakeRank1 same(h), other(h ^ 1);
  CHECK_NOTHROW(check_replicas(same, model, opt, 10));
  CHECK_THROWS_WITH_AS(check_replicas(other, model, opt, 10),
                       doctest::Contains("replica check after step 10: the parameters or optimizer state of rank(s) 1"),
                       std::runtime_error);
  // The hash sees a change of one parameter element.
  Tensor& w = *model.named_parameters().front().second;
  w.data<float>()[0] += 1e-3f;
  CHECK(replica_hash(model, opt) != h);
}
