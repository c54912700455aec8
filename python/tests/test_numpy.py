# NumPy <-> Tensor: zero-copy where the layout allows, copies otherwise, and
# lifetimes (each side keeps the shared memory alive).
import gc

import numpy as np
import pytest
import seqboat as sb


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8"])
def test_round_trip_shares_memory(dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    t = sb.from_numpy(a)
    assert t.shape == (3, 4) and t.dtype == dtype and t.device == "cpu"
    back = t.numpy()
    assert back.dtype == a.dtype and np.shares_memory(back, a)
    a[1, 2] = 7  # a write through the array is seen by the tensor
    assert t.tolist()[1][2] == 7


def test_strided_views_are_shared_with_their_strides():
    base = np.arange(24.0).reshape(4, 6)
    for view in (base[:, ::2], base.T, base[1:3, 2:5]):
        t = sb.from_numpy(view)
        assert t.strides == tuple(s // 8 for s in view.strides)
        assert t.is_contiguous() == view.flags.c_contiguous
        assert np.shares_memory(t.numpy(), base)
        np.testing.assert_array_equal(t.contiguous().numpy(), view)


def test_layouts_that_cannot_be_shared_are_copied():
    a = np.arange(6.0)
    for source in (a[::-1], np.broadcast_to(a, (2, 6))):  # negative strides; read-only
        t = sb.from_numpy(source)
        assert not np.shares_memory(t.numpy(), a)
        np.testing.assert_array_equal(t.numpy(), source)
    assert not np.shares_memory(sb.from_numpy(a, copy=True).numpy(), a)
    assert not np.shares_memory(sb.tensor(a).numpy(), a)


def test_bool_and_other_integers_convert():
    assert sb.from_numpy(np.array([True, False])).dtype == "uint8"
    assert sb.from_numpy(np.array([1, 2], dtype=np.int32)).dtype == "int64"
    assert sb.tensor([1.5, 2.5]).dtype == "float64"
    assert sb.tensor([[1, 2]], dtype="float32").shape == (1, 2)


def test_tensor_to_numpy_is_a_view_of_the_tensor():
    t = sb.zeros((2, 3), "float64")
    n = t.numpy()
    n[1, 2] = 5.0
    assert t.tolist() == [[0, 0, 0], [0, 0, 5.0]]
    tt = t.transpose(0, 1)
    assert tt.numpy().shape == (3, 2) and np.shares_memory(tt.numpy(), n)
    assert tt.numpy()[2, 1] == 5.0
    np.testing.assert_array_equal(np.asarray(t), n)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_each_side_keeps_the_memory_alive():
    n = sb.tensor([1.0, 2.0, 3.0]).numpy()  # the tensor is gone: the array holds its storage
    t = sb.from_numpy(np.arange(4.0))  # the array is gone: the tensor holds it
    gc.collect()
    np.testing.assert_array_equal(n, [1.0, 2.0, 3.0])
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_scalars_and_empty_arrays():
    s = sb.tensor(3.5)
    assert s.shape == () and s.item() == 3.5
    e = sb.from_numpy(np.zeros((0, 3)))
    assert e.shape == (0, 3) and e.numpy().shape == (0, 3)
