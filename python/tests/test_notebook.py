# The notebook runs headless and writes its two plots (a 3-second training
# run here); skipped where matplotlib is not installed (CI keeps it out).
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "sma_notebook.py"


def test_notebook_writes_its_plots(tmp_path):
    pytest.importorskip("matplotlib")
    env = {**os.environ, "SMA_SECONDS": "3", "SMA_OUT": str(tmp_path)}
    done = subprocess.run([sys.executable, str(NOTEBOOK)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    for name in ("densities.png", "gates.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
