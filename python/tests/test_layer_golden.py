# The modules from Python on the official golden files (made by the PyTorch
# reference): forward, trace and gradients against the file, and the same
# file through the C++ parity check.
import json

import numpy as np
import pytest
import seqboat as sb

LAYER_FILES = ["layer_bidir_relu2_bn_pad", "layer_causal_softmax_rotary", "layer_causal_relu2_ln"]


def load(golden_dir, name):
    tensors, meta = sb.load_safetensors(str(golden_dir / f"{name}.safetensors"))
    params = {k[len("param.") :]: v for k, v in tensors.items() if k.startswith("param.")}
    return tensors, meta, params


@pytest.mark.parametrize("name", LAYER_FILES)
def test_layer_forward_backward_and_trace_match_the_golden_file(golden_dir, name):
    tensors, meta, params = load(golden_dir, name)
    assert meta["module"] == "SeqBoatLayer"
    layer = sb.SeqBoatLayer(json.loads(meta["config"]), dtype="float64")
    layer.load_state_dict(params)
    x = sb.from_numpy(tensors["input.x"].numpy(), copy=True)
    x.requires_grad = True
    pad = tensors.get("input.padding_mask")
    y, trace = layer.forward_trace(x, pad)
    np.testing.assert_allclose(y.numpy(), tensors["output.y"].numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(trace["prob"], tensors["route.0.prob"].numpy(), atol=1e-9)
    np.testing.assert_array_equal(trace["active"], tensors["route.0.active"].numpy().astype(bool))

    y.backward(tensors["output_grad.y"])
    np.testing.assert_allclose(x.grad.numpy(), tensors["grad.input.x"].numpy(), atol=1e-9)
    for pname, p in layer.named_parameters().items():
        ref = tensors[f"grad.param.{pname}"].numpy()
        got = p.grad.numpy() if p.grad is not None else np.zeros_like(ref)
        np.testing.assert_allclose(got, ref, atol=1e-9 * max(1, np.abs(ref).max()), err_msg=pname)


def test_model_forward_matches_and_the_cpp_check_agrees(golden_dir):
    name = "model_causal_ln_prenorm"
    tensors, meta, params = load(golden_dir, name)
    model = sb.SeqBoatModel(json.loads(meta["config"]), dtype="float64")
    model.load_state_dict(params)
    logits, traces = model.forward_trace(tensors["input.x"])
    ours = np.abs(logits.numpy() - tensors["output.y"].numpy()).max()
    assert ours < 1e-9
    assert len(traces) == model.config["n_layers"] == 2
    for i, t in enumerate(traces):
        np.testing.assert_array_equal(t["active"], tensors[f"route.{i}.active"].numpy().astype(bool))
    # The C++ parity check (`seqboat parity`) on the same file.
    check = sb.check_golden_file(str(golden_dir / f"{name}.safetensors"))
    assert check["passed"] and check["failures"] == [] and check["worst"] < 1e-9
