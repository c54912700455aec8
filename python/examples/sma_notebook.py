# python/examples/sma_notebook.py: Sparse Modular Activation at work, as a
# notebook (cells marked `# %%`: run them one by one in VS Code or Jupyter via
# Jupytext, or the whole file with `python python/examples/sma_notebook.py`).
#
# It trains a small SeqBoat classifier on associative recall for about a
# minute (k1 v1 ... k8 v8 ? q -> the value paired with q: the answer is far
# from the question, so the model needs attention), then plots
#   densities.png  each layer's activation density (the share of tokens its
#                  router sends through attention) over training, with accuracy
#   gates.png      the gate of every token in every layer for a few test
#                  sequences (grey: the router left the token out)
# Headless: matplotlib's Agg backend, PNGs only. Needs `pip install matplotlib`.
# Settings from the environment: SMA_SECONDS (training time, default 60),
# SMA_OUT (output folder, default ./sma_notebook_out).

# %% Setup
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seqboat as sb  # noqa: E402

seconds = float(os.environ.get("SMA_SECONDS", "60"))
out = Path(os.environ.get("SMA_OUT", "sma_notebook_out")).resolve()
out.mkdir(parents=True, exist_ok=True)

# %% Train on associative recall (the trainer of `seqboat train`, from Python)
summary = sb.train(
    "recall",
    str(out / "run"),
    {"steps": 4000, "time_limit_s": seconds, "log_every": 50, "eval_every": 0, "threads": 1},
    overwrite=True,  # a rerun replaces the previous run
)
print(f"trained {summary['steps']} steps in {summary['train_seconds']:.0f} s; "
      f"test accuracy {summary['test_accuracy']:.3f} (chance 1/16)")

# %% Each layer's density over training, from metrics.jsonl
events = [json.loads(line) for line in open(out / "run" / "metrics.jsonl")]
train_events = [e for e in events if e["event"] == "train"]
steps = np.array([e["step"] for e in train_events])
density = np.array([e["density"] for e in train_events])  # (logs, layers)
accuracy = np.array([e["accuracy"] for e in train_events])

fig, ax = plt.subplots(figsize=(7, 3.5))
for layer in range(density.shape[1]):
    ax.plot(steps, density[:, layer], label=f"layer {layer} density")
ax.plot(steps, accuracy, "k--", label="training accuracy")
ax.set_xlabel("step")
ax.set_ylim(0, 1)
ax.set_title("Share of tokens routed through attention")
ax.legend(loc="upper left")
fig.tight_layout()
fig.savefig(out / "densities.png", dpi=120)
print("final densities:", np.round(density[-1], 3))

# %% The trained model's gates on test sequences
run = sb.load_run(summary["checkpoint"])
batch = run.batch("test", n=4)
logits, traces = run.model.forward_trace(batch["tokens"], batch["padding"])
tokens = batch["tokens"].numpy()
predicted = logits.numpy().argmax(-1)
labels = batch["labels"].numpy()

fig, axes = plt.subplots(len(tokens), 1, figsize=(9, 1.6 * len(tokens)), squeeze=False, layout="constrained")
for i, ax in enumerate(axes[:, 0]):
    gates = np.stack([t["gate"][i] for t in traces])  # (layers, L)
    active = np.stack([t["active"][i] for t in traces])
    image = ax.imshow(np.ma.masked_where(~active, gates), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_facecolor("#cccccc")  # inactive tokens show the background
    ax.set_xticks(range(tokens.shape[1]), run.token_labels(tokens[i].tolist()), fontsize=7)
    ax.set_yticks(range(len(traces)), [f"layer {l}" for l in range(len(traces))], fontsize=7)
    ax.set_title(f"test sequence {i}: label {labels[i]}, predicted {predicted[i]}", fontsize=8)
fig.colorbar(image, ax=axes[:, 0].tolist(), label="gate (P1)")
fig.savefig(out / "gates.png", dpi=120)

for layer, t in enumerate(traces):
    print(f"layer {layer}: sequence 0 routes {t['active'][0].sum()} of {t['active'].shape[1]} tokens "
          f"(the batch has {t['slots']} slots): {run.token_labels(tokens[0][t['active'][0]].tolist())}")
print("wrote", out / "densities.png", "and", out / "gates.png")
