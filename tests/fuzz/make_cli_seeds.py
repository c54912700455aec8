#!/usr/bin/env python3
"""tests/fuzz/make_cli_seeds.py SEQBOAT OUTDIR: the seed corpus of fuzz_cli,
one file per documented option of every command and per config key, read
from the program's own --help (so a new option or key gets its seed by
running this again; test_hardening_cli checks that none is missing).

A seed is argv words separated by NUL bytes, then (optionally) two NULs and
the text a --config FILE reads. Values: the option's default when the help
gives one, else the low end of its range, the first choice, or a word."""
import os
import re
import subprocess
import sys

seqboat, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    os.remove(os.path.join(out, f))

# What each command needs to get past its required options.
REQUIRED = {
    "train": ["--task", "recall"],
    "eval": ["--checkpoint", "run/checkpoint.safetensors"],
    "inspect": ["--checkpoint", "run/checkpoint.safetensors", "--out", "report"],
    "generate": ["--checkpoint", "run/checkpoint.safetensors"],
    "data": ["listops", "--out", "data"],
    "parity": ["golden.safetensors"],
    "compare": ["run"],
    "bench-preset": ["lra-listops"],
}
# Small models: the harness builds and runs them (train::probe_config_model).
TINY = ["--set", "model.d_model=8", "--set", "model.d_qk=4", "--set", "model.d_ema=2", "--set", "model.mem_size=4",
        "--set", "model.n_layers=1"]


def write(name, words, config=None):
    data = b"\0".join(w.encode() for w in words)
    if config is not None:
        data += b"\0\0" + config.encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def help_text(*args):
    return subprocess.run([seqboat, *args, "--help"], capture_output=True, text=True, check=True).stdout


commands = re.findall(r"^  ([\w-]+)\s{2,}", help_text(), re.M)
option_line = re.compile(r"^  --([\w-]+)(?: (\S+))?\s+(.*)$")
for cmd in commands:
    write(f"{cmd}_help", [cmd, "--help"])
    write(f"{cmd}_plain", [cmd, *REQUIRED.get(cmd, [])])
    for line in help_text(cmd).splitlines():
        m = option_line.match(line)
        if not m or m.group(1) == "help":
            continue
        name, value_name, doc = m.group(1), m.group(2), m.group(3)
        base = [cmd, *[w for w in REQUIRED.get(cmd, []) if w != f"--{name}"]]
        if value_name is None:  # a flag
            write(f"{cmd}_{name}", base + [f"--{name}"])
            continue
        default = re.search(r"default ([^;)]+)\)", doc)
        low = re.search(r"\((?:\w+ or )?(-?[\d.e+]+) to ", doc)
        if "|" in value_name:
            value = value_name.split("|")[0].split("[")[0]
        elif default and not default.group(1).startswith(("1e-9", "runs/", "256,1024")):
            value = default.group(1).split(";")[0].strip()
        elif low:
            value = low.group(1)
        else:
            value = {"FILE.json": "c.json", "KEY=VALUE": "steps=1000"}.get(value_name, "x")
        write(f"{cmd}_{name}", base + [f"--{name}", value])

# Every config key, with its default, through --set (recall: other tasks'
# keys are still validated) and, for the listops/lm keys, with their task.
key_line = re.compile(r"^  ([\w.]+)\s+(\S+)\s+", re.M)
for key, value in key_line.findall(help_text("train").split("config keys", 1)[1]):
    task = key.split(".")[0] if key.split(".")[0] in ("listops", "lm", "recall") else "recall"
    value = value.strip('"')
    write(f"train_set_{key}", ["train", "--task", task, *TINY, "--set", f"{key}={value}"])

# Whole runs with small models (built and probed by the harness), a config
# file, and the combinations the checks relate.
for task in ("listops", "lm", "recall", "text", "retrieval", "image", "pathfinder", "speech", "enwik8"):
    write(f"train_tiny_{task}", ["train", "--task", task, *TINY, "--set", "steps=10", "--set", "warmup_steps=1"])
for preset in re.findall(r"--preset ([\w|-]+)", help_text("train"))[0].split("|"):
    write(f"train_preset_{preset}", ["train", "--preset", preset, *TINY, "--set", "steps=10", "--set", "warmup_steps=1"])
write("train_rotary", ["train", "--task", "recall", *TINY, "--set", "model.rel_pos_bias=rotary"])
write("train_config_file", ["train", "--task", "recall", "--config", "c.json"],
      '{"model": {"d_model": 8, "d_qk": 4, "n_layers": 1}, "steps": 100, "lr": 0.001}')
write("train_config_flat", ["train", "--task", "lm", "--config", "c.json", "--set", "lm.seq_len=16"],
      '{"model.d_model": 16, "model.d_qk": 8, "data.paths": ["a.txt"], "batch_size": 2}')
write("data_window", ["data", "listops", "--out", "d", "--min-length", "10", "--max-length", "20", "--max-depth", "3"])
write("bench_lists", ["bench", "--case", "layer_fwd,conv", "--L", "64,128", "--density", "own,0.5"])
print(f"{len(os.listdir(out))} seeds in {out}")
