# Hostile inputs from Python: NumPy arrays of every dtype and layout, huge
# claimed shapes, configs with values of the wrong type, checkpoints whose
# tensors do not fit. Each ends in a Python exception naming the problem
# (never a crash, never a silently wrong value); what is valid data (NaN,
# empty arrays, strided views) works.
import json
import struct

import numpy as np
import pytest
import seqboat as sb

LAYER = {"embed_dim": 8, "zdim": 4, "hdim": 16, "window_size": 2}
SHARED = ["float32", "float64", "int64", "uint8"]
AS_INT64 = ["int8", "int16", "int32", "uint16", "uint32", "uint64"]
REFUSED = ["float16", "longdouble", "complex64", "complex128", "object", "U3", "S3", "datetime64[s]",
           "timedelta64[s]", "V8", [("a", "f4"), ("b", "i4")]]


@pytest.mark.parametrize("dtype", SHARED + AS_INT64 + ["bool", ">f8", ">f4", ">i8"])
def test_every_numeric_dtype_converts_to_the_same_values(dtype):
    a = np.array([0, 1, 5, 2], dtype=dtype).reshape(2, 2)
    t = sb.from_numpy(a)
    expected = {"bool": "uint8", ">f8": "float64", ">f4": "float32"}.get(dtype, dtype if dtype in SHARED else "int64")
    assert t.dtype == expected and t.shape == (2, 2)
    np.testing.assert_array_equal(t.numpy(), a.astype(np.float64))
    assert sb.tensor(a).dtype == expected


@pytest.mark.parametrize("dtype", REFUSED, ids=str)
def test_other_dtypes_are_type_errors_naming_the_dtype(dtype):
    a = np.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match=r"float32, float64, int64 or uint8 .*got an array of"):
        sb.from_numpy(a)
    with pytest.raises(TypeError, match="got an array of"):
        sb.tensor(a)


def test_unsigned_values_beyond_int64_are_refused_not_wrapped():
    big = np.array([1, 2**63], dtype=np.uint64)
    with pytest.raises(ValueError, match=r"holds 9223372036854775808, above 9223372036854775807"):
        sb.from_numpy(big)
    with pytest.raises(ValueError, match="above"):
        sb.tensor(big)
    assert sb.from_numpy(np.array([2**63 - 1], dtype=np.uint64)).tolist() == [2**63 - 1]
    with pytest.raises(TypeError, match="got an array of object"):
        sb.tensor([2**70])  # NumPy keeps it as a Python object


def test_zero_dimensional_and_empty_arrays():
    s = sb.from_numpy(np.array(2.5))
    assert s.shape == () and s.item() == 2.5
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got float64"):
        sb.from_numpy(np.float64(2.5))
    layer = sb.SeqBoatLayer(LAYER)
    with pytest.raises(ValueError, match=r"input must be \(B, L, 8\), got \[\]"):
        layer.forward(sb.from_numpy(np.array(1.0, np.float32)))
    for shape in [(0,), (2, 0, 3), (0, 0)]:
        e = sb.from_numpy(np.zeros(shape))
        assert e.shape == shape and e.sum().item() == 0.0
    assert layer.forward(sb.from_numpy(np.zeros((1, 0, 8), np.float32))).shape == (1, 0, 8)
    with pytest.raises(ValueError, match="not a single value"):
        sb.from_numpy(np.zeros(0)).item()


def test_non_contiguous_and_read_only_arrays_give_the_same_results(rng):
    base = rng.standard_normal((2, 8, 12)).astype(np.float32)
    layer = sb.SeqBoatLayer(LAYER)
    x = base[:, :, ::-1][:, 1:6, 2:10]  # negative strides (copied), a window of a bigger array
    y = np.ascontiguousarray(x)
    np.testing.assert_array_equal(layer.forward(sb.from_numpy(x)).numpy(), layer.forward(sb.from_numpy(y)).numpy())
    t = base.transpose(1, 0, 2)[:, :, ::3]  # transposed and strided: shared
    assert not sb.from_numpy(t).is_contiguous()
    np.testing.assert_array_equal(sb.from_numpy(t).contiguous().numpy(), t)
    ro = np.arange(4.0)
    ro.flags.writeable = False
    shared = sb.from_numpy(ro)  # a read-only array is copied: the tensor may be written
    shared.numpy()[0] = 9.0
    assert ro[0] == 0.0 and shared.tolist() == [9.0, 1.0, 2.0, 3.0]
    unaligned = np.frombuffer(b"\0" + np.arange(3.0).tobytes(), dtype=np.float64, offset=1)
    assert sb.from_numpy(unaligned).tolist() == [0.0, 1.0, 2.0]


def test_nan_and_inf_are_data_and_propagate():
    t = sb.from_numpy(np.array([np.nan, np.inf, -np.inf, 1.0]))
    out = (t * 2.0).tolist()
    assert np.isnan(out[0]) and out[1:] == [np.inf, -np.inf, 2.0]
    layer = sb.SeqBoatLayer(LAYER)
    y = layer.forward(sb.from_numpy(np.full((1, 4, 8), np.nan, np.float32))).numpy()
    assert y.shape == (1, 4, 8) and np.isnan(y).all()


def test_huge_claimed_shapes_are_value_errors():
    with pytest.raises(ValueError, match="overflows 64 bits"):
        sb.zeros((2**62, 2**62))
    with pytest.raises(ValueError, match="more than the .* this machine can allocate"):
        sb.zeros((2**40,))
    with pytest.raises(ValueError, match="negative dimension"):
        sb.zeros((3, -1))
    with pytest.raises(ValueError, match="overflows 64 bits"):
        sb.zeros((4,)).reshape([2**62, 2**62, 4])
    with pytest.raises(ValueError, match="overflows 64 bits"):
        sb.zeros((1,)).expand([2**62]).sum()
    # A NumPy view that claims 2^40 elements over one (stride 0) is shared;
    # materialising it is refused by the allocation limit.
    claimed = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(2**40,), strides=(0,), writeable=True)
    t = sb.from_numpy(claimed)
    assert t.shape == (2**40,)
    with pytest.raises(ValueError, match="more than the .* this machine can allocate"):
        t.contiguous()
    with pytest.raises(TypeError, match="incompatible function arguments"):
        sb.zeros((2**64,))  # not an int64


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("embed_dim", "8", r"key 'embed_dim' must be an integer, got the string '8'"),
        ("embed_dim", 8.5, r"key 'embed_dim' must be an integer, got number 8.5"),
        ("embed_dim", 1e300, r"key 'embed_dim' must be an integer, got number 1e\+300"),
        ("embed_dim", None, r"key 'embed_dim' must be an integer"),
        ("embed_dim", True, r"key 'embed_dim' must be an integer, got boolean true"),
        ("embed_dim", [8], r"key 'embed_dim' must be an integer, got an array"),
        ("embed_dim", {}, r"key 'embed_dim' must be an integer, got an object"),
        ("embed_dim", -1, r"'embed_dim' must be from 1 to 16777216, got -1"),
        ("embed_dim", 2**70, r"key 'embed_dim': the integer 1180591620717411303424 does not fit 64 bits"),
        ("dropout", float("nan"), r"key 'dropout': nan is not a finite number"),
        ("dropout", float("inf"), r"key 'dropout': inf is not a finite number"),
        ("dropout", "x", r"key 'dropout' must be a finite number, got the string 'x'"),
        ("dropout", 1.5, r"'dropout' must be from 0 to below 1, got 1.5"),
        ("norm_type", 3, r"key 'norm_type' has the wrong type"),
        ("norm_type", "\x1b[2Jx", r"norm_type '\\x1b\[2Jx' is not one of: layernorm, batchnorm"),
    ],
)
def test_layer_configs_with_wrong_values_are_value_errors_naming_the_key(key, value, message):
    with pytest.raises(ValueError, match=message):
        sb.SeqBoatLayer({**LAYER, key: value})


def test_configs_that_are_not_json_are_type_errors():
    with pytest.raises(TypeError, match=r"key 'dropout': a value of type object has no JSON form"):
        sb.SeqBoatLayer({**LAYER, "dropout": object()})
    with pytest.raises(TypeError, match="keys must be strings, got a key of type int"):
        sb.SeqBoatLayer({**LAYER, 1: 2})
    with pytest.raises(TypeError, match="SeqBoatLayer config must be a dict, got str"):
        sb.SeqBoatLayer(json.dumps(LAYER))
    # NumPy scalars are numbers.
    assert sb.SeqBoatLayer({**LAYER, "embed_dim": np.int64(8), "dropout": np.float32(0.25)}) is not None


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"steps": "ten"}, ValueError, r"config key 'steps': cannot parse 'ten'"),
        ({"steps": 3.9}, ValueError, r"config key 'steps': expected an integer like 5000, got number 3.9"),
        ({"lr": float("nan")}, ValueError, r"train: overrides: key 'lr': nan is not a finite number"),
        ({"model.d_model": [1]}, ValueError, r"config key 'model.d_model': expected an integer like 128, got an array"),
        ({"model.dropout": 2}, ValueError, r"config key 'model.dropout'"),
        ({"bogus": 1}, ValueError, r"unknown config key 'bogus'"),
        ({"steps": object()}, TypeError, r"train: overrides: key 'steps': a value of type object has no JSON form"),
        ([("steps", 1)], TypeError, r"train: overrides must be a dict, got list"),
    ],
)
def test_training_configs_with_wrong_types_are_refused_before_any_file_is_written(tmp_path, overrides, error, message):
    out = tmp_path / "run"
    with pytest.raises(error, match=message):
        sb.train("recall", str(out), overrides)
    assert not out.exists()


def _rewrite_safetensors(src, dst, edit):
    """Copies a safetensors file, calling edit(header, data) on its parsed
    header and a bytearray of its data first."""
    raw = open(src, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = bytearray(raw[8 + n :])
    edit(header, data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad_inputs") / "recall"
    overrides = {"steps": 2, "warmup_steps": 1, "eval_every": 0, "batch_size": 4, "model.d_model": 8,
                 "model.d_qk": 4, "model.d_ema": 2, "model.mem_size": 4, "recall.n_train": 16, "recall.n_test": 8,
                 "recall.n_pairs": 2, "recall.n_keys": 4, "recall.n_values": 4}
    return sb.train("recall", str(out), overrides)["checkpoint"]


def test_a_checkpoint_with_wrong_shapes_is_refused_and_changes_nothing(tiny_run, tmp_path):
    c = sb.load_checkpoint(tiny_run)
    model = sb.load_run(tiny_run).model
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    wrong = dict(c["model"])
    wrong["decoder.bias"] = sb.zeros((2, 2))  # same elements, another shape
    with pytest.raises(ValueError, match=r"'decoder.bias' has shape \[2, 2\] in the state but \[4\] in the module"):
        model.load_state_dict(wrong)
    for k, v in model.state_dict().items():  # nothing was loaded halfway
        np.testing.assert_array_equal(v.numpy(), before[k])

    def reshape(header, data):
        header["decoder.bias"]["shape"] = [2, 2]

    bad = tmp_path / "shape.safetensors"
    _rewrite_safetensors(tiny_run, bad, reshape)
    assert sb.load_checkpoint(str(bad))["model"]["decoder.bias"].shape == (2, 2)  # a valid file
    with pytest.raises(RuntimeError, match="its tensors do not fit the model its config describes: .*decoder.bias"):
        sb.load_run(str(bad))


def test_a_checkpoint_with_non_finite_weights_is_refused_by_load_run(tiny_run, tmp_path):
    def poison(header, data):
        start = header["decoder.bias"]["data_offsets"][0]
        struct.pack_into("<f", data, start + 4, float("inf"))

    bad = tmp_path / "inf.safetensors"
    _rewrite_safetensors(tiny_run, bad, poison)
    with pytest.raises(RuntimeError, match=r"not finite: tensor 'decoder.bias' holds inf at index 1 \(of 4\)"):
        sb.load_run(str(bad))
    assert np.isinf(sb.load_checkpoint(str(bad))["model"]["decoder.bias"].numpy()[1])  # the raw file still reads


def test_a_checkpoint_with_a_config_of_wrong_types_is_refused(tiny_run, tmp_path):
    def fractional(header, data):
        cfg = json.loads(header["__metadata__"]["config"])
        cfg["batch_size"] = 4.5
        header["__metadata__"]["config"] = json.dumps(cfg)

    bad = tmp_path / "frac.safetensors"
    _rewrite_safetensors(tiny_run, bad, fractional)
    with pytest.raises(RuntimeError, match="config key 'batch_size': expected an integer"):
        sb.load_run(str(bad))
