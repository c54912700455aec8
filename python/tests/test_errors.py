# C++ errors arrive as Python exceptions carrying the C++ message.
import numpy as np
import pytest
import seqboat as sb

LAYER = {"embed_dim": 8, "zdim": 4, "hdim": 16, "window_size": 2}


def test_bad_shapes_are_value_errors():
    with pytest.raises(ValueError, match=r"shapes \[2, 3\] and \[4\] cannot be broadcast"):
        sb.add(sb.zeros((2, 3)), sb.zeros((4,)))
    layer = sb.SeqBoatLayer(LAYER)
    with pytest.raises(ValueError, match=r"SeqBoatLayer: input must be \(B, L, 8\), got \[2, 5, 3\]"):
        layer.forward(sb.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="ema_kernel"):
        sb.ema_kernel(sb.zeros((3, 2)), sb.zeros((3, 2)), sb.zeros((3, 2)), sb.zeros((3, 2)), 4)


def test_bad_configs_are_value_errors_naming_the_key():
    with pytest.raises(ValueError, match="missing key 'window_size'"):
        sb.SeqBoatLayer({"embed_dim": 8, "zdim": 4, "hdim": 16})
    with pytest.raises(ValueError, match="unknown key 'widht'; valid keys: .*window_size"):
        sb.SeqBoatLayer({**LAYER, "widht": 3})
    with pytest.raises(ValueError, match="key 'zdim' must be an integer, got the string 'four'"):
        sb.SeqBoatLayer({**LAYER, "zdim": "four"})
    with pytest.raises(ValueError, match="unknown dtype 'float16'; expected float32, float64, int64 or uint8"):
        sb.SeqBoatLayer(LAYER, dtype="float16")
    with pytest.raises(ValueError, match="unknown config key 'model.widht'"):
        sb.train("recall", "unused", {"model.widht": 3})


def test_wrong_argument_types_are_type_errors():
    with pytest.raises(TypeError, match="SeqBoatLayer config must be a dict, got list"):
        sb.SeqBoatLayer([8, 4, 16])
    with pytest.raises(TypeError, match="incompatible function arguments"):
        sb.ema_kernel("delta", None, None, None, 3)
    with pytest.raises(TypeError, match="float32, float64, int64 or uint8 .*complex128"):
        sb.from_numpy(np.zeros(3, np.complex128))
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got list"):
        sb.from_numpy([1.0, 2.0])


def test_autograd_misuse_and_state_dicts():
    with pytest.raises(ValueError, match="only floating tensors can require grad, got int64"):
        sb.tensor([1, 2]).requires_grad = True
    with pytest.raises(ValueError, match="not a single value"):
        sb.zeros((2,)).item()
    layer = sb.SeqBoatLayer(LAYER)
    state = layer.state_dict()
    del state["q_router.temp"]
    with pytest.raises(ValueError, match="q_router.temp"):
        layer.load_state_dict(state)


def test_unreadable_files_are_runtime_errors_naming_the_file(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(RuntimeError, match="missing.safetensors"):
        sb.load_safetensors(str(missing))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(RuntimeError, match="bad.safetensors"):
        sb.load_checkpoint(str(bad))
