"""Masks through the merge layers (Keras 3's rules in keras/src/layers/merging: base_merge.py,
concatenate.py, multiply.py, dot.py) and the Dot layer against torch; a functional
Embedding(mask_zero) -> Concatenate / Add -> LSTM model on a padded batch against each
unpadded sequence run alone."""

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers as L
from fastnn.layers.base import clear_session
from oracle import TOL, assert_close, check_op, randn


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


def _masked(x: np.ndarray, mask) -> fastnn.Tensor:
    """A tensor carrying a mask, as Embedding(mask_zero=True) or Masking would attach it."""
    t = fastnn.tensor(x)
    t._keras_mask = None if mask is None else fastnn.tensor(np.asarray(mask, np.float32))
    return t


def _mask_of(t):
    m = t._keras_mask
    return None if m is None else m.numpy()


M1 = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], bool)
M2 = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 0, 0]], bool)
M3 = np.array([[0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]], bool)

ELEMENTWISE = {
    "add": L.Add,
    "subtract": L.Subtract,
    "multiply": L.Multiply,
    "average": L.Average,
    "maximum": L.Maximum,
    "minimum": L.Minimum,
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_output_mask_is_the_or_of_the_input_masks(name):
    n = 2 if name == "subtract" else 3
    xs = [randn(3, 4, 5, seed=i) for i in range(n)]
    masks = [M1, M2, M3][:n]
    out = ELEMENTWISE[name]()([_masked(x, m) for x, m in zip(xs, masks)])
    want = np.logical_or.reduce(masks)
    np.testing.assert_array_equal(_mask_of(out), want.astype(np.float32))
    # Keras 3: one input without a mask and the output has none
    out = ELEMENTWISE[name]()([_masked(x, m) for x, m in zip(xs, [M1, None, M3][:n])])
    assert out._keras_mask is None
    out = ELEMENTWISE[name]()([fastnn.tensor(x) for x in xs])
    assert out._keras_mask is None
    layer = ELEMENTWISE[name]()
    assert layer.compute_mask(xs, None) is None
    assert layer.compute_mask(xs, [None] * n) is None


def _keras_masked_product(xs, masks):
    # multiply.py: masked entries count as 1; with every mask known, entries masked in all are 0
    full = [None if m is None else np.broadcast_to(m[..., None], x.shape) for x, m in zip(xs, masks)]
    out = np.ones_like(xs[0])
    for x, m in zip(xs, full):
        out = out * (x if m is None else np.where(m, x, 1.0))
    if all(m is not None for m in full):
        out = np.where(np.logical_or.reduce(full), out, 0.0)
    return out


def _keras_masked_extremum(op, xs, masks):
    # base_merge.py _apply_merge_op_and_or_mask: a masked entry takes no part in the max / min
    full = [None if m is None else np.broadcast_to(m[..., None], x.shape) for x, m in zip(xs, masks)]
    out, out_mask = xs[0], full[0]
    for x, m in zip(xs[1:], full[1:]):
        if m is not None:
            x = np.where(m, x, out)
        if out_mask is not None:
            out = np.where(out_mask, out, x)
        out_mask = np.logical_or(out_mask, m) if m is not None and out_mask is not None else None
        out = op(out, x)
    return out


@pytest.mark.parametrize("masks", [(M1, M2, M3), (M1, None, M3), (None, M2, None)])
def test_masked_values_of_multiply_maximum_minimum(masks):
    xs = [randn(3, 4, 5, seed=i) for i in range(3)]
    got = L.Multiply()([_masked(x, m) for x, m in zip(xs, masks)]).numpy()
    np.testing.assert_allclose(got, _keras_masked_product(xs, masks), **TOL["elementwise"])
    for layer, op in ((L.Maximum(), np.maximum), (L.Minimum(), np.minimum)):
        got = layer([_masked(x, m) for x, m in zip(xs, masks)]).numpy()
        np.testing.assert_array_equal(got, _keras_masked_extremum(op, xs, masks))
    # where an entry is masked in one input only, the other input decides alone
    a, b = randn(3, 4, 5, seed=7), randn(3, 4, 5, seed=8)
    got = L.Maximum()([_masked(a, M1), _masked(b, ~M1 | M2)]).numpy()
    only_b = ~M1 & (~M1 | M2)
    np.testing.assert_array_equal(got[only_b], b[only_b])


def test_masked_multiply_gradient_skips_masked_entries():
    a = fastnn.tensor(randn(3, 4, 5), requires_grad=True)
    b = fastnn.tensor(randn(3, 4, 5, seed=1), requires_grad=True)
    a._keras_mask = fastnn.tensor(M1.astype(np.float32))
    b._keras_mask = fastnn.tensor(M2.astype(np.float32))
    L.Multiply()([a, b]).sum().backward()
    ga, gb = a.grad.numpy(), b.grad.numpy()
    np.testing.assert_array_equal(ga[~M1], 0.0)
    np.testing.assert_array_equal(gb[~M2], 0.0)
    both = M1 & M2
    np.testing.assert_allclose(ga[both], b.numpy()[both], **TOL["elementwise"])


def test_unmasked_merges_are_unchanged():
    xs = [randn(3, 4, 5, seed=i) for i in range(3)]
    ts = [fastnn.tensor(x) for x in xs]
    np.testing.assert_array_equal(L.Multiply()(ts).numpy(), xs[0] * xs[1] * xs[2])
    np.testing.assert_array_equal(L.Maximum()(ts).numpy(), np.maximum(np.maximum(xs[0], xs[1]), xs[2]))
    np.testing.assert_array_equal(L.Minimum()(ts).numpy(), np.minimum(np.minimum(xs[0], xs[1]), xs[2]))


def test_concatenate_masks():
    a, b = randn(3, 4, 5), randn(3, 4, 2, seed=1)
    # the feature axis: the time masks ORed (each broadcast over its input's features)
    out = L.Concatenate()([_masked(a, M1), _masked(b, M2)])
    np.testing.assert_array_equal(_mask_of(out), (M1 | M2).astype(np.float32))
    out = L.Concatenate()([_masked(a, M1), _masked(a, M1)])
    np.testing.assert_array_equal(_mask_of(out), M1.astype(np.float32))
    # an input without a mask counts as all True (so the OR is all True), as Keras 3
    out = L.Concatenate()([_masked(a, M1), fastnn.tensor(b)])
    np.testing.assert_array_equal(_mask_of(out), np.ones((3, 4), np.float32))
    assert L.Concatenate()([fastnn.tensor(a), fastnn.tensor(b)])._keras_mask is None
    # the time axis: the masks joined
    c = randn(3, 2, 5, seed=2)
    m = np.array([[1, 0], [0, 0], [1, 1]], bool)
    out = L.Concatenate(axis=1)([_masked(a, M1), _masked(c, m)])
    assert out.shape == (3, 6, 5)
    np.testing.assert_array_equal(_mask_of(out), np.concatenate([M1, m], 1).astype(np.float32))
    out = L.Concatenate(axis=1)([_masked(a, M1), fastnn.tensor(c)])
    np.testing.assert_array_equal(_mask_of(out), np.concatenate([M1, np.ones((3, 2), bool)], 1).astype(np.float32))
    # a mask with its input's rank is concatenated as it is, then reduced over the last axis
    em = randn(3, 4, 5, seed=3) > 0
    layer = L.Concatenate()
    got = layer.compute_mask([fastnn.tensor(a), fastnn.tensor(a)], [fastnn.tensor(em.astype(np.float32)), None])
    np.testing.assert_array_equal(got.numpy(), np.ones((3, 4), np.float32))
    got = layer.compute_mask([fastnn.tensor(a), fastnn.tensor(a)], [fastnn.tensor(em.astype(np.float32))] * 2)
    np.testing.assert_array_equal(got.numpy(), em.any(-1).astype(np.float32))


def test_dot_returns_no_mask():
    a, b = randn(3, 4, 5), randn(3, 6, 5, seed=1)
    out = L.Dot(axes=2)([_masked(a, M1), _masked(b, np.ones((3, 6)))])
    assert out.shape == (3, 4, 6) and out._keras_mask is None
    assert L.Dot(axes=2).compute_mask([a, b], [M1, M1]) is None


def test_mask_errors_quote_the_values():
    layer = L.Add()
    a = fastnn.tensor(randn(3, 4, 5))
    with pytest.raises(ValueError, match="2 inputs and 1 masks"):
        layer.compute_mask([a, a], [M1])
    with pytest.raises(ValueError, match="mask should be a list"):
        layer.compute_mask([a, a], fastnn.tensor(M1.astype(np.float32)))
    with pytest.raises(ValueError, match=r"masks of shapes \[\(3, 4\), \(2, 4\)\] cannot be combined"):
        layer.compute_mask([a, a], [M1, M1[:2]])
    with pytest.raises(ValueError, match=r"a mask of shape \(3, 5, 1\) does not fit its input of shape \(3, 4, 5\)"):
        L.Multiply()([_masked(randn(3, 4, 5), np.ones((3, 5))), a])


# ---------------------------------------------------------------------------- Dot against torch
def _torch_dot(x, y, a0, a1, normalize):
    if normalize:
        x = x / torch.sqrt(torch.clamp((x * x).sum(a0, keepdim=True), min=1e-14))
        y = y / torch.sqrt(torch.clamp((y * y).sum(a1, keepdim=True), min=1e-14))
    xp = x.movedim(a0, -1)
    yp = y.movedim(a1, 1)
    b, d = xp.shape[0], xp.shape[-1]
    out = torch.bmm(xp.reshape(b, -1, d), yp.reshape(b, d, -1))
    shape = list(xp.shape[1:-1]) + list(yp.shape[2:])
    return out.reshape([b] + (shape if shape else [1]))


@pytest.mark.parametrize("xs,ys,axes", [
    ((4, 7), (4, 7), 1),
    ((3, 5, 8), (3, 6, 8), 2),
    ((3, 5, 8), (3, 5, 6), 1),
    ((2, 5, 8), (2, 8, 6), (2, 1)),
    ((2, 3), (2, 5, 3), (1, 2)),
    ((2, 4, 3, 5), (2, 5, 7), (-1, 1)),
    ((1, 13, 17), (1, 13), (1, -1)),
])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_against_torch(xs, ys, axes, normalize):
    layer = L.Dot(axes=axes, normalize=normalize)
    a0, a1 = (axes, axes) if isinstance(axes, int) else axes
    a0, a1 = a0 % len(xs), a1 % len(ys)
    x, y = randn(*xs), randn(*ys, seed=1)
    out = check_op(lambda p, q: layer([p, q]), lambda p, q: _torch_dot(p, q, a0, a1, normalize), [x, y], "dot",
                   tol=TOL["gemm"](xs[a0]))
    assert out.shape[1:] == layer.compute_output_shape([(None,) + xs[1:], (None,) + ys[1:]])[1:]


def test_dot_normalize_is_the_cosine_and_zero_is_finite():
    x = randn(5, 9)
    y = randn(5, 9, seed=1)
    y[2] = 0.0
    xt, yt = fastnn.tensor(x, requires_grad=True), fastnn.tensor(y, requires_grad=True)
    out = L.Dot(axes=1, normalize=True)([xt, yt])
    want = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.maximum(np.linalg.norm(y, axis=1), 1e-7)
    np.testing.assert_allclose(out.numpy()[:, 0], want, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert np.isfinite(xt.grad.numpy()).all() and np.isfinite(yt.grad.numpy()).all()


def test_dot_shapes_config_and_errors():
    a, b = L.Input((5, 8)), L.Input((3, 8))
    assert L.Dot(axes=2)([a, b]).shape == (None, 5, 3)
    assert L.dot([L.Input((4,)), L.Input((4,))], axes=1).shape == (None, 1)
    layer = L.Dot(axes=(1, 2), normalize=True, name="sim")
    config = layer.get_config()
    assert config["axes"] == [1, 2] and config["normalize"] is True
    assert L.Dot.from_config(config).get_config() == config
    with pytest.raises(TypeError, match="axes='x'"):
        L.Dot(axes="x")
    with pytest.raises(ValueError, match=r"axes=\(1, 2, 3\)"):
        L.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="batch axis 0"):
        L.Dot(axes=0)([a, b])
    with pytest.raises(ValueError, match="axis 1 of the first has size 5"):
        L.Dot(axes=1)([a, b])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Dot(axes=2)([a, b, b])


# ---------------------------------------------------------------------------- through a model
def _two_stream_model(merge, units=5, return_sequences=False):
    tok, tag = L.Input((None,)), L.Input((None,))
    e1 = L.Embedding(20, 4, mask_zero=True)(tok)
    e2 = L.Embedding(7, 4 if merge == "add" else 3, mask_zero=True)(tag)
    merged = L.Add()([e1, e2]) if merge == "add" else L.Concatenate()([e1, e2])
    y = L.LSTM(units, return_sequences=return_sequences)(merged)
    if return_sequences:
        y = L.GRU(3)(y)  # the LSTM's output keeps the mask for the next layer
    return fastnn.models.Model([tok, tag], y)


@pytest.mark.parametrize("merge", ["concatenate", "add"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_padded_batch_matches_unpadded_sequences_through_merge(merge, return_sequences, side):
    rng = np.random.default_rng(0)
    lengths = [6, 3, 1, 4, 6]
    T = max(lengths)
    tok = np.zeros((len(lengths), T), np.float32)
    tag = np.zeros((len(lengths), T), np.float32)
    seqs = []
    for i, n in enumerate(lengths):
        s_tok, s_tag = rng.integers(1, 20, n), rng.integers(1, 7, n)
        span = slice(0, n) if side == "right" else slice(T - n, T)
        tok[i, span], tag[i, span] = s_tok, s_tag
        seqs.append((s_tok[None].astype(np.float32), s_tag[None].astype(np.float32)))
    model = _two_stream_model(merge, return_sequences=return_sequences)
    got = model.predict([tok, tag], verbose=0)
    for i, (s_tok, s_tag) in enumerate(seqs):
        want = model.predict([s_tok, s_tag], verbose=0)[0]
        assert_close(got[i], want, "merge mask", f"{merge} row {i}", **TOL["rnn"])
    # the mask made the difference: without it the padding changes the padded rows
    emb1, emb2 = model.layers[2], model.layers[3]
    emb1.mask_zero = emb2.mask_zero = False
    unmasked = model.predict([tok, tag], verbose=0)
    assert not np.allclose(unmasked[1], got[1], atol=1e-4)


def test_concatenate_mask_reaches_the_lstm_in_the_graph():
    # the functional graph attaches each layer's mask to its concrete output
    model = _two_stream_model("concatenate", return_sequences=True)
    tok = np.array([[3, 4, 0], [5, 0, 0]], np.float32)
    merged_layer = model.layers[4]
    assert isinstance(merged_layer, L.Concatenate)
    e1 = model.layers[2](fastnn.tensor(tok))
    e2 = model.layers[3](fastnn.tensor(tok))
    merged = merged_layer([e1, e2])
    np.testing.assert_array_equal(_mask_of(merged), (tok != 0).astype(np.float32))
    seq = model.layers[5](merged)
    np.testing.assert_array_equal(_mask_of(seq), (tok != 0).astype(np.float32))
    direct = model.layers[6](seq).numpy()
    np.testing.assert_allclose(model.predict([tok, tok], verbose=0), direct, rtol=1e-6, atol=1e-6)
