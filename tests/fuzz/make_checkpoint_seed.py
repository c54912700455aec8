#!/usr/bin/env python3
"""tests/fuzz/make_checkpoint_seed.py CONFIG_JSON OUT: a small seed for the
checkpoint harness: the metadata of a real checkpoint (format, step, rng and
the run's config from CONFIG_JSON, a run's config.json) with two tiny tensors,
so the fuzzer spends its time on the metadata and config, not on bytes."""
import json
import struct
import sys

cfg = json.load(open(sys.argv[1]))
meta = {"format": "seqboat-checkpoint/1", "step": "2", "rng": json.dumps([["2", "7", "0", "0"], ["0", "0", "0", "0"]]),
        "config": json.dumps(cfg, separators=(",", ":")), "task": cfg["task"]}
header = {"__metadata__": meta, "embed.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "optim.step": {"dtype": "I64", "shape": [], "data_offsets": [16, 24]}}
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + bytes(24))
