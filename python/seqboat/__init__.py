"""seqboat: tensors with reverse-mode autodiff and the SeqBoat ops and modules.

The C++ library seen from Python (the extension ``seqboat._core``), plus the
NumPy conversions here. A quick tour::

    import numpy as np, seqboat as sb
    x = sb.tensor(np.random.randn(2, 16, 8))              # float64, a copy
    layer = sb.SeqBoatLayer({"embed_dim": 8, "zdim": 4, "hdim": 16, "window_size": 2}, dtype="float64")
    y, trace = layer.forward_trace(x)                     # trace: NumPy arrays of the SMA decision
    y.sum().backward()
    layer.named_parameters()["q_router.temp"].grad

C++ errors arrive as Python exceptions carrying the C++ message: bad shapes,
dtypes and config values raise ValueError, wrong argument types TypeError,
unreadable or malformed files RuntimeError.
"""

import numpy as _np

from ._core import *  # noqa: F401,F403
from ._core import Tensor, _share_numpy

__version__ = "0.1.0"

_SHARED_DTYPES = {_np.dtype(t) for t in ("float32", "float64", "int64", "uint8")}
_INT64_MAX = _np.iinfo(_np.int64).max


def _as_seqboat_dtype(array):
    """The array itself when seqboat has its dtype; the same dtype in the
    other byte order, bool (as uint8) and other integers (as int64) as
    copies. An unsigned value above the int64 range is a ValueError (no
    silent wrap-around); any other dtype (float16, complex, strings, objects,
    dates and durations, records) is a TypeError."""
    if array.dtype in _SHARED_DTYPES:
        return array
    if array.dtype.kind in "fiu" and array.dtype.newbyteorder("=") in _SHARED_DTYPES:
        return array.astype(array.dtype.newbyteorder("="))
    if array.dtype.kind == "b":
        return array.astype(_np.uint8)
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.dtype.itemsize >= 8 and array.size and array.max() > _INT64_MAX:
            raise ValueError(
                f"seqboat integers are int64: this {array.dtype} array holds {array.max()}, above {_INT64_MAX}"
            )
        return array.astype(_np.int64)
    raise TypeError(
        f"seqboat tensors are float32, float64, int64 or uint8 (bool as uint8, other integers as int64); "
        f"got an array of {array.dtype}"
    )


def from_numpy(array, copy=False):
    """A Tensor over the array's memory when the layout allows (writeable,
    aligned, a seqboat dtype, non-negative strides that are whole elements):
    then writes through either side are seen by the other, and the tensor
    keeps the array alive. Otherwise, or with copy=True, a tensor over a
    C-contiguous copy."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    a = _as_seqboat_dtype(array)
    shareable = (
        a.flags.writeable
        and a.flags.aligned
        and all(s >= 0 and s % a.itemsize == 0 for s in a.strides)
    )
    if copy or not shareable:
        a = _np.array(a, order="C", copy=True)
    return _share_numpy(a)


def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of data (an array, a nested list, a number).
    dtype: a seqboat dtype name or anything numpy.dtype accepts; by default
    the data's own (Python floats give float64)."""
    a = _np.array(data, dtype=None if dtype is None else _np.dtype(dtype), order="C", copy=True)
    t = _share_numpy(_as_seqboat_dtype(a))
    if requires_grad:
        t.requires_grad = True
    return t


def _tensor_array(self, dtype=None, copy=None):
    a = self.numpy()
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    return a.copy() if copy else a


Tensor.__array__ = _tensor_array
