# python/tests/conftest.py: shared fixtures for the pytest suite (run by
# CTest's python_pytest against the pip-installed package).
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def golden_dir():
    assert GOLDEN.is_dir(), f"no golden files at {GOLDEN}"
    return GOLDEN
