# requires_grad, backward and .grad from Python; gradcheck over Python callables.
import numpy as np
import pytest
import seqboat as sb


def test_backward_fills_grad(rng):
    a = rng.standard_normal((4, 3))
    w = sb.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    x = sb.tensor(a)
    y = sb.linear(x, w)
    loss = (y * y).sum()
    assert w.requires_grad and w.is_leaf and not loss.is_leaf and loss.grad_fn == "sum"
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * y.numpy().T @ a, rtol=1e-12)
    assert x.grad is None  # x did not require grad


def test_gradients_accumulate_until_zero_grad():
    x = sb.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(2):
        (x * 3.0).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.zero_grad()
    assert x.grad is None


def test_backward_with_a_cotangent_and_python_operators():
    x = sb.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (2.0 - x) / 4.0 + x**2 @ sb.ones((2, 2), "float64")
    y.backward(sb.tensor([[1.0, 0.0], [0.0, 1.0]]))
    # d/dx_ij of sum(c * y): -c_ij / 4 + 2 x_ij * sum_k c_ik
    np.testing.assert_allclose(x.grad.numpy(), [[-0.25 + 2.0, 2 * 2.0], [2 * 3.0, -0.25 + 8.0]])


def test_gradcheck_proves_the_seqboat_ops(rng):
    q, k, v = (sb.tensor(rng.standard_normal((1, 6, s)), requires_grad=True) for s in (4, 4, 3))
    r = sb.gradcheck(lambda q, k, v: sb.local_attention(q, k, v, window=2), [q, k, v])
    assert r.ok and r and r.elements_checked == 18 * (24 + 24 + 18)
    d, a, b = (sb.tensor(rng.normal(0, 0.3, (3, 2, 1)), requires_grad=True) for _ in range(3))
    g = sb.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert sb.gradcheck(lambda d, a, b, g: sb.ema_kernel(d, a, b, g, 5), [d, a, b, g]).ok


def test_gradcheck_rejects_a_wrong_gradient():
    # The square goes through NumPy, outside the graph: the analytic gradient is 0.
    x = sb.tensor([0.5, -1.0, 2.0], requires_grad=True)
    r = sb.gradcheck(lambda x: sb.tensor(x.numpy() ** 2) + x * 0.0, [x])
    assert not r.ok and "Jacobian mismatch" in r.message


def test_gradcheck_passes_python_errors_through():
    x = sb.tensor([1.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        sb.gradcheck(lambda x: 1 / 0, [x])
    with pytest.raises(TypeError, match="must return a seqboat.Tensor, got float"):
        sb.gradcheck(lambda x: 1.0, [x])
