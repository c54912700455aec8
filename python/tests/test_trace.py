# The SMA trace a layer's forward returns: shapes, dtypes and the relations
# docs/semantics.md section 3 (steps 4 and 5) fixes between its arrays.
import numpy as np
import pytest
import seqboat as sb

CONFIG = {"embed_dim": 8, "zdim": 4, "hdim": 16, "window_size": 2, "bidirectional": True}


def traced_layer(rng, B=3, L=10):
    layer = sb.SeqBoatLayer(CONFIG, dtype="float64", seed=2)
    # An untrained router is near 0.5 everywhere; sharpen it so some tokens switch on and some off.
    w = layer.named_parameters()["hx_proj.weight"].numpy()
    w[:2] *= 80
    # Every row ends in padding, so no row can be fully active: the batch is compressed.
    pad = np.zeros((B, L), np.uint8)
    pad[:, L - 3 :] = 1
    pad[2, L - 5 :] = 1
    y, trace = layer.forward_trace(sb.tensor(rng.standard_normal((B, L, 8))), sb.tensor(pad))
    return layer, y, trace, pad


def test_shapes_and_dtypes(rng):
    layer, y, trace, pad = traced_layer(rng)
    B, L = pad.shape
    assert y.shape == (B, L, 8)
    for key in ("prob", "gate", "active"):
        assert trace[key].shape == (B, L), key
    assert trace["active"].dtype == np.bool_ and trace["gate"].dtype == np.float64
    S = trace["slots"]
    assert trace["slot_index"].shape == (B, S) and trace["slot_index"].dtype == np.int64
    assert trace["slot_valid"].shape == (B, S) and trace["slot_valid"].dtype == np.bool_


def test_values_follow_the_router_rule(rng):
    layer, y, trace, pad = traced_layer(rng)
    active, gate, prob = trace["active"], trace["gate"], trace["prob"]
    assert 0 < active.sum() < active.size  # the sharpened router made a real choice
    assert not active[pad == 1].any()  # padding never runs attention
    assert (prob >= 0.5).all() and (prob <= 1).all()
    np.testing.assert_array_equal(gate[active], prob[active])  # active: gate = P1 = max(P0, P1)
    assert (gate[~active] == 0).all()
    counts = active.sum(1)
    assert trace["compressed"] and trace["slots"] == counts.max()
    for b in range(pad.shape[0]):
        np.testing.assert_array_equal(trace["slot_valid"][b], np.arange(trace["slots"]) < counts[b])
        np.testing.assert_array_equal(trace["slot_index"][b, : counts[b]], np.nonzero(active[b])[0])


def test_a_fully_active_row_leaves_the_batch_uncompressed(rng):
    layer = sb.SeqBoatLayer(CONFIG, dtype="float64")
    bias = layer.named_parameters()["hx_proj.bias"].numpy()
    bias[:2] = [-50.0, 50.0]  # P1 ~ 1 at every token
    y, trace = layer.forward_trace(sb.tensor(rng.standard_normal((2, 6, 8))))
    assert trace["active"].all() and not trace["compressed"] and trace["slots"] == 6
    np.testing.assert_array_equal(trace["slot_index"], np.tile(np.arange(6), (2, 1)))
    assert trace["slot_valid"].all()


def test_a_trace_is_kept_after_the_next_forward(rng):
    layer, y, trace, pad = traced_layer(rng)
    saved = {k: np.array(v) for k, v in trace.items()}
    layer.forward(sb.tensor(rng.standard_normal((1, 4, 8))))
    for k, v in saved.items():
        np.testing.assert_array_equal(trace[k], v)
    assert layer.last_route["active"].shape == (1, 4)


def test_before_any_forward_there_is_no_trace():
    assert sb.SeqBoatLayer(CONFIG).last_route is None


def test_models_trace_every_layer(rng):
    model = sb.SeqBoatModel(
        {"d_input": 3, "d_model": 8, "d_output": 2, "n_layers": 3, "d_qk": 4, "mem_size": 2}, dtype="float64"
    )
    logits, traces = model.forward_trace(sb.tensor(rng.standard_normal((2, 6, 3))))
    assert logits.shape == (2, 2) and len(traces) == 3 and len(model.layers) == 3
    assert all(t["active"].shape == (2, 6) for t in traces)
    lm = sb.SeqBoatLM({"vocab_size": 11, "d_model": 8, "n_layers": 2, "d_qk": 4, "mem_size": 2})
    logits, traces = lm.forward_trace(sb.tensor(np.array([[1, 2, 3, 4, 5]])))
    assert logits.shape == (1, 5, 11) and logits.dtype == "float32" and len(traces) == 2


@pytest.mark.parametrize("key", ["embed_dim", "window_size", "bidirectional"])
def test_configs_use_the_reference_names(key):
    assert sb.SeqBoatLayer(CONFIG).config[key] == CONFIG[key]
