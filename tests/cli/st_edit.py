#!/usr/bin/env python3
"""tests/cli/st_edit.py SRC DST CODE: copies a safetensors file, running CODE
(Python) on its metadata first. CODE sees `meta` (the __metadata__ dict of
strings) and `cfg` (meta["config"] parsed, written back after CODE), e.g.
    st_edit.py ck.safetensors bad.safetensors 'meta["step"] = "-5"'
    st_edit.py ck.safetensors bad.safetensors 'cfg["batch_size"] = 0'
Standard library only: the CLI tests craft hostile inputs with it."""
import json
import struct
import sys

src, dst, code = sys.argv[1], sys.argv[2], sys.argv[3]
raw = open(src, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
data = raw[8 + n :]
meta = header.get("__metadata__", {})
original = meta.get("config")
cfg = json.loads(original) if original is not None else {}
exec(code, {"meta": meta, "cfg": cfg, "header": header})
if meta.get("config") == original and original is not None:  # CODE edited cfg, not the text
    meta["config"] = json.dumps(cfg)
header["__metadata__"] = meta
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + data)
