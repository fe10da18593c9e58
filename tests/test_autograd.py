"""The autograd engine: accumulation, detach, no_grad, retain_graph and its errors."""

import fastnn
import numpy as np
import pytest


def _leaf(*shape, seed=0):
    return fastnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = _leaf(3)
    y = x.reshape(3, 1)
    g = np.array([[1.0], [2.0], [3.0]], np.float32)
    y.backward(g)
    y2 = x.reshape(1, 3)
    y2.backward(g.reshape(1, 3))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * g.ravel())


def test_shared_input_gradients_add_up():
    x = _leaf(4)
    y = fastnn.concatenate([x, x, x[1:3]])
    y.backward(np.ones(10, np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 3, 3, 2])


def test_backward_needs_grad_for_non_scalars():
    y = _leaf(2, 2).reshape(4)
    with pytest.raises(RuntimeError, match="one element"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\)"):
        y.backward(np.ones(3, np.float32))


def test_scalar_backward_defaults_to_one():
    x = _leaf(1)
    x.reshape(()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])


def test_second_backward_through_freed_graph_raises():
    x = _leaf(3)
    y = x.permute((0,)).reshape(3, 1).permute(1, 0)
    y.backward(np.ones((1, 3), np.float32))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward(np.ones((1, 3), np.float32))


def test_retain_graph_allows_second_backward():
    x = _leaf(2, 3)
    y = x.permute(1, 0)
    g = np.arange(6, dtype=np.float32).reshape(3, 2)
    y.backward(g, retain_graph=True)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * g.T)


def test_detach_and_no_grad():
    x = _leaf(3)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())
    with fastnn.no_grad():
        y = x.reshape(3, 1)
    assert not y.requires_grad and y.grad_fn is None
    assert fastnn.is_grad_enabled()

    @fastnn.no_grad()
    def f(t):
        return t.reshape(3, 1)

    assert not f(x).requires_grad


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.zeros(1).backward()


def test_retain_grad_on_intermediate():
    x = _leaf(2, 2)
    y = x.permute(1, 0)
    y.retain_grad()
    z = y.reshape(4)
    z.backward(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(y.grad.numpy(), np.arange(4, dtype=np.float32).reshape(2, 2))


def test_int_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="float32"):
        fastnn.tensor([1, 2], requires_grad=True)


def test_custom_function():
    class Double(fastnn.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2,)

    x = _leaf(3)
    Double.apply(x).backward(np.ones(3, np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_leaf_gradients_never_alias_the_seed_or_each_other():
    # add hands its incoming gradient to both inputs: each leaf gets its own copy
    a, b = _leaf(5), _leaf(5, seed=1)
    seed = fastnn.tensor(np.arange(5, dtype=np.float32))
    (a + b).backward(seed)
    ga, gb = a.grad.numpy(), b.grad.numpy()
    assert not np.shares_memory(ga, gb) and not np.shares_memory(ga, seed.numpy())
    ga += 1.0  # an in-place change of one gradient leaves the other and the seed alone
    np.testing.assert_array_equal(gb, np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(seed.numpy(), np.arange(5, dtype=np.float32))


def test_fresh_kernel_gradients_kept_and_accumulated():
    # Conv2D and batch norm keep their kernels' arrays as .grad (no copy); a second backward
    # must still add to them, not overwrite or alias them.
    import fastnn.functional as F

    x, k = _leaf(2, 5, 5, 3), _leaf(3, 3, 3, 4, seed=1)
    seed = np.random.default_rng(2).standard_normal((2, 3, 3, 4)).astype(np.float32)
    F.conv2d(x, k).backward(seed)
    gx, gk = x.grad.numpy().copy(), k.grad.numpy().copy()
    F.conv2d(x, k).backward(seed)
    # the same kernels on the same data: the sums are exactly twice the first gradients
    np.testing.assert_array_equal(x.grad.numpy(), 2 * gx)
    np.testing.assert_array_equal(k.grad.numpy(), 2 * gk)
    z = _leaf(6, 4, seed=3)
    F.batch_norm(z, training=True).backward(np.ones((6, 4), np.float32) * np.arange(6, dtype=np.float32)[:, None])
    gz = z.grad.numpy().copy()
    F.batch_norm(z, training=True).backward(np.ones((6, 4), np.float32) * np.arange(6, dtype=np.float32)[:, None])
    np.testing.assert_array_equal(z.grad.numpy(), 2 * gz)
