# Checkpoints and safetensors from Python, and a short training run reopened
# with load_run.
import numpy as np
import seqboat as sb

MODEL = {"d_input": 3, "d_model": 8, "d_output": 2, "n_layers": 2, "d_qk": 4, "mem_size": 2}


def test_checkpoint_round_trip(tmp_path):
    model = sb.SeqBoatModel(MODEL, dtype="float64", seed=1)
    path = str(tmp_path / "ckpt.safetensors")
    sb.save_checkpoint(path, model.state_dict(), step=42, config={"note": "from python"}, extra={"task": "demo"})
    c = sb.load_checkpoint(path)
    assert c["step"] == 42 and c["config"] == {"note": "from python"} and c["extra"] == {"task": "demo"}
    assert set(c["model"]) == set(model.state_dict()) and c["optimizer"] == {}
    fresh = sb.SeqBoatModel(MODEL, dtype="float64", seed=2)
    x = sb.tensor(np.random.default_rng(0).standard_normal((2, 5, 3)))
    assert not np.allclose(fresh(x).numpy(), model(x).numpy())
    fresh.load_state_dict(c["model"])
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_safetensors_round_trip(tmp_path):
    path = str(tmp_path / "t.safetensors")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    sb.save_safetensors(path, {"a": sb.tensor(a), "m": sb.tensor(np.array([1, 0], np.uint8))}, {"k": "v"})
    tensors, meta = sb.load_safetensors(path)
    assert meta == {"k": "v"} and tensors["a"].dtype == "float32"
    np.testing.assert_array_equal(tensors["a"].numpy(), a)
    np.testing.assert_array_equal(tensors["m"].numpy(), [1, 0])


def test_train_then_study_the_run(tmp_path):
    out = tmp_path / "recall"
    overrides = {"steps": 20, "warmup_steps": 5, "model.d_model": 16, "model.d_qk": 8, "recall.n_train": 640, "recall.n_test": 64}
    summary = sb.train("recall", str(out), overrides)
    assert summary["steps"] == 20 and 0 <= summary["test_accuracy"] <= 1
    run = sb.load_run(summary["checkpoint"])
    assert run.step == 20 and run.config["model.d_model"] == 16
    batch = run.batch("test", n=4)
    logits, traces = run.model.forward_trace(batch["tokens"], batch["padding"])
    assert logits.shape == (4, 16) and len(traces) == 2
    assert traces[0]["active"].shape == batch["tokens"].shape
    assert run.token_labels([0, 1, 5]) == ["<pad>", "?", "5"]
    assert 0 <= run.evaluate("test")["accuracy"] <= 1
