# The SeqBoat ops from Python against NumPy written from docs/semantics.md, and their
# gradients by gradcheck.
import numpy as np
import pytest
import seqboat as sb


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_ema_kernel_matches_the_formula(rng):
    K, N, L = 3, 2, 7
    delta, alpha, beta = (rng.normal(0, 0.5, (K, N, 1)) for _ in range(3))
    gamma = rng.standard_normal((K, N))
    k = sb.ema_kernel(*(sb.tensor(a) for a in (delta, alpha, beta, gamma)), L).numpy()
    p = sigmoid(delta[..., 0])
    q = 1 - p * sigmoid(alpha[..., 0])
    ref = np.einsum("kn,knl->kl", p * beta[..., 0] * gamma * np.sqrt(1 / N), q[..., None] ** np.arange(L))
    assert k.shape == (K, L)
    np.testing.assert_allclose(k, ref, rtol=1e-12)


def test_ssm_conv_causal_matches_a_direct_sum(rng):
    B, L, D = 2, 6, 3
    x, kern = rng.standard_normal((B, L, D)), rng.standard_normal((D, L))
    pad = np.zeros((B, L), np.uint8)
    pad[1, 4:] = 1
    y = sb.ssm_conv(sb.tensor(x), sb.tensor(kern), sb.tensor(pad), bidirectional=False).numpy()
    x0 = x * (1 - pad[..., None])
    ref = np.zeros_like(x)
    for t in range(L):
        for i in range(t + 1):
            ref[:, t] += kern[:, i] * x0[:, t - i]
    np.testing.assert_allclose(y, ref, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_local_attention_matches_a_masked_softmax(rng, causal):
    S, Z, H, w, M = 7, 4, 3, 2, 5
    q, k, v = rng.standard_normal((1, S, Z)), rng.standard_normal((1, S, Z)), rng.standard_normal((1, S, H))
    key_mask = np.zeros((1, S), np.uint8)
    key_mask[0, 5] = 1
    pos = np.array([[0, 2, 3, 7, 8, 9, 12]])  # original positions of the slots
    bias = rng.standard_normal(2 * M - 1)
    o = sb.local_attention(
        sb.tensor(q), sb.tensor(k), sb.tensor(v), window=w, key_mask=sb.tensor(key_mask),
        positions=sb.tensor(pos), rel_bias=sb.tensor(bias), causal=causal,
    ).numpy()
    ref = np.zeros((S, H))
    for i in range(S):
        keys = [j for j in range(S) if (0 <= i - j <= w if causal else abs(i - j) <= w) and not key_mask[0, j]]
        rel = np.clip(M - 1 + pos[0, keys] - pos[0, i], 0, 2 * M - 2)
        logits = np.array([q[0, i] @ k[0, j] / np.sqrt(Z) for j in keys]) + bias[rel]
        p = np.exp(logits - logits.max())
        ref[i] = (p / p.sum()) @ v[0, keys]
    np.testing.assert_allclose(o[0], ref, atol=1e-12)


def test_router_plan_compress_extract(rng):
    B, L, C = 2, 8, 3
    u = rng.standard_normal((B, L, 2)) * 3
    pad = np.zeros((B, L), np.uint8)
    pad[1, 6:] = 1
    temp = np.array([0.3])
    r = sb.sma_router(sb.tensor(u), sb.tensor(temp), sb.tensor(pad))
    P = np.exp(u / np.exp(temp))
    P /= P.sum(-1, keepdims=True)
    active = (P[..., 1] > P[..., 0]) & (pad == 0)
    np.testing.assert_array_equal(r.active.numpy(), active)
    np.testing.assert_allclose(r.gate.numpy(), np.where(active, P[..., 1], 0), rtol=1e-12)
    np.testing.assert_allclose(r.prob.numpy(), P.max(-1), rtol=1e-12)

    plan = sb.sma_plan(r.active)
    counts = active.sum(1)
    assert plan.slots == counts.max() and plan.compressed == (counts.max() < L)
    x = rng.standard_normal((B, L, C))
    c = sb.sma_compress(sb.tensor(x), plan).numpy()
    for b in range(B):
        np.testing.assert_array_equal(plan.slot_index.numpy()[b, : counts[b]], np.nonzero(active[b])[0])
        np.testing.assert_array_equal(c[b, : counts[b]], x[b, active[b]])
    back = sb.sma_extract(sb.tensor(c), plan).numpy()
    np.testing.assert_array_equal(back, x * active[..., None])


def test_sma_gradients(rng):
    u = sb.tensor(rng.standard_normal((2, 5, 2)), requires_grad=True)
    temp = sb.tensor([0.1], requires_grad=True)
    assert sb.gradcheck(lambda u, t: sb.sma_router(u, t).gate, [u, temp]).ok
    plan = sb.sma_plan(sb.tensor(np.array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 0]], np.uint8)))
    x = sb.tensor(rng.standard_normal((2, 5, 3)), requires_grad=True)
    assert sb.gradcheck(lambda x: sb.sma_extract(sb.sma_compress(x, plan) * 2.0, plan), [x]).ok
