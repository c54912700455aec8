// examples/sma_walkthrough.cpp: one SeqBoat layer on a 12-token sequence,
// step by step (docs/semantics.md section 3), printing what Sparse Modular Activation
// decides: the router's probabilities and the active set, the token -> slot
// plan, which keys each query's local window sees in ORIGINAL positions, and
// the attention output scattered back and weighted by the gate. The same
// picture goes to one SVG. Finally the steps are checked against the layer's
// own forward().
//
// Run:   build/examples/sma_walkthrough [out.svg]     (default sma_walkthrough.svg)
// Exits non-zero when the step-by-step output differs from SeqBoatLayer::forward.
#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "autograd/autograd.h"
#include "nn/seqboat.h"
#include "ops/elementwise.h"
#include "ops/nn_ops.h"
#include "ops/reduce.h"
#include "ops/shape.h"

using namespace seqboat;

constexpr int64_t L = 12, D = 8, kWindow = 1;

// The original positions of the keys query slot i sees (bidirectional window).
static std::vector<int64_t> visible_tokens(const SmaPlan& plan, int64_t i) {
  std::vector<int64_t> out;
  for (int64_t j = std::max<int64_t>(0, i - kWindow); j <= std::min(plan.slots - 1, i + kWindow); ++j)
    if (plan.slot_valid.at({0, j})) out.push_back(static_cast<int64_t>(plan.slot_index.at({0, j})));
  return out;
}

// One row per token: P1 as a bar, active tokens outlined with their slot,
// arcs from the middle active token to the keys it sees, |gate * h| as a bar.
static std::string walkthrough_svg(const Tensor& p1, const Tensor& active, const SmaPlan& plan, const Tensor& h_norm) {
  const double cell = 40, top = 30;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"260\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      cell * (L + 2));
  const char* labels[] = {"P1", "slot", "|g h|"};
  for (int r = 0; r < 3; ++r) s += fmt::format("<text x=\"4\" y=\"{}\">{}</text>\n", top + 30 + r * 60, labels[r]);
  double h_max = 1e-12;
  for (int64_t t = 0; t < L; ++t) h_max = std::max(h_max, h_norm.at({t}));
  for (int64_t t = 0; t < L; ++t) {
    double x = cell * (t + 1.5);
    double bar = 40 * p1.at({0, t});
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"30\" height=\"{}\" fill=\"#4a7fb5\"/>\n", x, top + 40 - bar, bar);
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#333\" stroke-dasharray=\"3,2\"/>\n",
                     x - 2, x + 32, top + 20, top + 20);  // P1 = 0.5
    bool on = active.at({0, t}) != 0;
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"30\" height=\"30\" fill=\"{}\" stroke=\"#333\"/>\n", x, top + 75,
                     on ? "#f2b134" : "#dddddd");
    double hb = 40 * h_norm.at({t}) / h_max;
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"30\" height=\"{}\" fill=\"#c0504d\"/>\n", x, top + 160 - hb, hb);
    s += fmt::format("<text x=\"{}\" y=\"{}\">t{}</text>\n", x + 8, top + 180, t);
  }
  for (int64_t i = 0; i < plan.slots; ++i) {
    if (!plan.slot_valid.at({0, i})) continue;
    double x = cell * (plan.slot_index.at({0, i}) + 1.5) + 11;
    s += fmt::format("<text x=\"{}\" y=\"{}\">s{}</text>\n", x, top + 94, i);
  }
  // The window that reaches furthest in original positions.
  int64_t q = 0, widest = -1;
  for (int64_t i = 0; i < plan.slots; ++i) {
    std::vector<int64_t> keys = visible_tokens(plan, i);
    if (!keys.empty() && keys.back() - keys.front() > widest) widest = keys.back() - keys.front(), q = i;
  }
  double xq = cell * (plan.slot_index.at({0, q}) + 1.5) + 15;
  for (int64_t t : visible_tokens(plan, q)) {
    double xk = cell * (t + 1.5) + 15;
    s += fmt::format("<path d=\"M {} {} Q {} {} {} {}\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2\"/>\n", xq,
                     top + 105, (xq + xk) / 2, top + 140, xk, top + 105);
  }
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\">dashes: P1 = 0.5; green: the tokens slot s{} sees (window {} slots)</text>\n", cell,
      top + 205, q, kWindow);
  return s + "</svg>\n";
}

int main(int argc, char** argv) {
  const std::string svg_path = argc > 1 ? argv[1] : "sma_walkthrough.svg";
  Generator gen(7);
  nn::LayerConfig cfg = nn::LayerConfig::from_json(
      {{"embed_dim", D}, {"zdim", 4}, {"hdim", 16}, {"window_size", kWindow}, {"bidirectional", true}});
  auto layer = std::make_shared<nn::SeqBoatLayer>(cfg, DType::Float64, gen);
  NoGradGuard no_grad;  // we only look: no graph
  // An untrained layer is timid: its router gives P1 ~ 0.5 everywhere and its
  // projections are tiny (std 0.02). Scale them up, as training would, so
  // that the decisions and outputs are easy to read.
  auto scale = [](const Tensor& w, double f) { copy_into(w, mul_scalar(w, f)); };
  scale(layer->hx_proj->weight.narrow(0, 0, 2), 60.0);  // the router's two rows of hx_proj
  for (const Tensor& w : {layer->mx_proj->weight, layer->h_proj->weight, layer->gamma}) scale(w, 25.0);
  Tensor x = rand_normal({1, L, D}, 0, 1, DType::Float64, &gen);
  Tensor no_pad;  // no padding in this sequence

  // Steps 1-3: norm, the SSM over every token, [u, hx] = hx_proj(mx).
  Tensor mx = silu(layer->ssm->forward(layer->norm->forward(x), no_pad));
  std::vector<Tensor> uhx = split(layer->hx_proj->forward(mx), {2, D}, -1);
  // Step 4: the router. P = softmax(u / tau), tau = exp(temp); active iff P1 > P0.
  Tensor p = softmax(div(uhx[0], exp(layer->q_router->temp)), -1);
  RouterOutput r = sma_router(uhx[0], layer->q_router->temp, no_pad);
  fmt::print("step 4, the router (tau = {:.3f}):\n  token    P0     P1   active  gate\n",
             std::exp(layer->q_router->temp.item()));
  for (int64_t t = 0; t < L; ++t)
    fmt::print("  {:>5} {:6.3f} {:6.3f} {:>6} {:6.3f}\n", t, p.at({0, t, 0}), p.at({0, t, 1}),
               r.active.at({0, t}) ? "yes" : "-", r.gate.at({0, t}));

  // Step 5: the plan packs the active tokens into slots.
  SmaPlan plan = sma_plan(r.active);
  fmt::print("step 5, the plan: {} of {} tokens active, compressed = {}\n  slot -> token:", plan.slots, L,
             plan.compressed);
  for (int64_t s = 0; s < plan.slots; ++s) fmt::print(" s{}->t{}", s, plan.slot_index.at({0, s}));
  // Step 7's window counts slots, so in original positions it reaches further.
  fmt::print("\nstep 7, window {} over slots; the keys each query sees, as original tokens:\n", kWindow);
  for (int64_t i = 0; i < plan.slots; ++i)
    fmt::print("  slot {} (token {:>2}) sees tokens {}\n", i, plan.slot_index.at({0, i}),
               fmt::join(visible_tokens(plan, i), ", "));

  // Steps 6-8 on the compressed sequence, then scattered back and gated.
  Tensor c = sma_compress(mx, plan);
  std::vector<Tensor> zrv = split(silu(layer->mx_proj->forward(c)), {cfg.zdim, cfg.hdim, cfg.hdim}, -1);
  Tensor qv = add(mul(zrv[0], layer->gamma.narrow(0, 0, 1)), layer->beta.narrow(0, 0, 1));
  Tensor kv = add(mul(zrv[0], layer->gamma.narrow(0, 1, 1)), layer->beta.narrow(0, 1, 1));
  Tensor o = local_attention(qv, kv, zrv[2], logical_not(plan.slot_valid), plan.slot_index, layer->rel_pos_w,
                             {kWindow, false, cfg.attention_activation});
  Tensor h = mul(sma_extract(layer->h_proj->forward(mul(o, zrv[1])), plan), r.gate.unsqueeze(-1));
  Tensor h_norm = sqrt(sum(square(h), {2})).squeeze(0);  // (L): |gate * h| per token
  fmt::print("step 8, the attention output back at its tokens, times the gate:\n  token  gate   |g h|\n");
  for (int64_t t = 0; t < L; ++t) fmt::print("  {:>5} {:6.3f} {:7.4f}\n", t, r.gate.at({0, t}), h_norm.at({t}));

  // Step 9 and the check against the module.
  Tensor y = silu(add(add(uhx[1], h), x));
  DropoutRng rng;
  std::vector<double> mine = y.to_vector(), module = layer->forward(x, no_pad, rng).to_vector();
  double diff = 0;
  for (size_t i = 0; i < mine.size(); ++i) diff = std::max(diff, std::fabs(mine[i] - module[i]));
  fmt::print("step 9: y = silu(hx + g h + x); max |y - SeqBoatLayer::forward(x)| = {:.1e}\n", diff);

  std::ofstream(svg_path) << walkthrough_svg(p.narrow(2, 1, 1).squeeze(2), r.active, plan, h_norm);
  fmt::print("wrote {}\n", svg_path);
  bool ok = diff < 1e-12 && std::ifstream(svg_path).good();
  fmt::print("{}\n", ok ? "sma_walkthrough: ok" : "sma_walkthrough: FAILED");
  return ok ? 0 : 1;
}
