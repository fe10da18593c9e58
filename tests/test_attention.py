"""Attention layers and the fused masked softmax against torch: forward outputs and the gradients
of every input and weight (torch's scaled_dot_product_attention and nn.MultiheadAttention with
the weights mapped where they coincide, a direct torch computation of Keras's formulas
elsewhere), masks (query, value, key, attention, causal), return_attention_scores, dropout only
in training, configs, save/load of functional models, summary counts and bad input."""

from __future__ import annotations

import math

import fastnn
import numpy as np
import pytest
import torch
from fastnn import functional as F
from fastnn import layers as L
from oracle import TOL, assert_close, randn, to_torch

T = torch


def _tol(n: int) -> dict:
    return TOL["attention"](n)


def _grad_check(pairs, tol):
    for name, ours, theirs in pairs:
        assert ours.grad is not None, f"no gradient for {name}"
        want = theirs.grad if theirs.grad is not None else torch.zeros_like(theirs)
        assert_close(ours.grad.numpy(), want.numpy(), "attention", f"grad {name}", **tol)


def _pair(a: np.ndarray):
    return fastnn.tensor(np.array(a, copy=True), requires_grad=True), to_torch(a, True)


def _vars_as_torch(layer):
    out = []
    for w in layer.weights:
        w.grad = None
        out.append(to_torch(w.numpy(), True))
    return out


# ------------------------------------------------------------------------ masked softmax
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 5, 17), (2, 3, 4, 33), (1, 1031)])
@pytest.mark.parametrize("zero_masked", [False, True])
def test_masked_softmax_against_torch(shape, zero_masked):
    x = randn(*shape, seed=1)
    rng = np.random.default_rng(2)
    mask = rng.random(shape) > 0.3
    mask[..., 0] = True  # every row attends somewhere (a fully masked row is tested below)
    scale = 0.37
    xf, xt = _pair(x)
    y = F.masked_softmax(xf, mask, scale=scale, zero_masked=zero_masked)
    m = torch.from_numpy(mask)
    yt = torch.softmax(xt * scale - 1e9 * (~m).float(), -1)
    if zero_masked:
        yt = yt * m
    assert_close(y.numpy(), yt.detach().numpy(), "masked_softmax", **TOL["transcendental"])
    g = randn(*shape, seed=3)
    y.backward(fastnn.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert_close(xf.grad.numpy(), xt.grad.numpy(), "masked_softmax", "grad", **TOL["transcendental"])


@pytest.mark.parametrize("mask_shape", [(2, 1, 5, 7), (1, 1, 5, 7), (2, 1, 1, 7), (5, 7), (7,), (2, 3, 5, 7)])
def test_masked_softmax_broadcast_masks(mask_shape):
    """Masks shared by heads (rep) or broadcast over batch and queries give torch's answer."""
    x = randn(2, 3, 5, 7, seed=4)
    mask = np.random.default_rng(5).random(mask_shape) > 0.4
    mask[..., 0] = True
    y = F.masked_softmax(fastnn.tensor(x), mask).numpy()
    m = torch.from_numpy(np.broadcast_to(mask, x.shape).copy())
    yt = torch.softmax(torch.from_numpy(x).masked_fill(~m, -1e9), -1).numpy()
    assert_close(y, yt, "masked_softmax", "broadcast", **TOL["transcendental"])


def test_masked_softmax_fully_masked_rows_and_no_mask():
    x = randn(2, 4, seed=6)
    mask = np.array([[False] * 4, [True, False, True, False]])
    keras_like = F.masked_softmax(fastnn.tensor(x), mask).numpy()
    # -1e9 everywhere: the row's softmax is that of x - 1e9, uniform in float32 (as Keras)
    np.testing.assert_allclose(keras_like[0], np.full(4, 0.25), atol=1e-6)
    zero = F.masked_softmax(fastnn.tensor(x), mask, zero_masked=True).numpy()
    np.testing.assert_array_equal(zero[0], np.zeros(4, np.float32))
    assert zero[1, 1] == 0 and zero[1, 3] == 0 and abs(zero[1].sum() - 1) < 1e-6
    plain = F.masked_softmax(fastnn.tensor(x), None, scale=2.0).numpy()
    assert_close(plain, torch.softmax(torch.from_numpy(x) * 2, -1).numpy(), "masked_softmax", **TOL["transcendental"])


def test_masked_softmax_errors():
    x = fastnn.tensor(randn(2, 3))
    with pytest.raises(ValueError, match=r"does not broadcast.*\(2, 3\)"):
        F.masked_softmax(x, np.ones((3, 3), bool))
    with pytest.raises(TypeError, match="scale must be a number"):
        F.masked_softmax(x, None, scale="2")
    with pytest.raises(TypeError, match="boolean or numeric"):
        F.masked_softmax(x, np.array([["a", "b", "c"]] * 2))
    with pytest.raises(ValueError, match="scalar"):
        F.masked_softmax(fastnn.tensor(np.float32(1.0)).reshape(()))
    assert F.masked_softmax(fastnn.tensor(np.zeros((0, 3), np.float32))).shape == (0, 3)


# ------------------------------------------------------------------------ Attention
@pytest.mark.parametrize("b,tq,tv,d", [(1, 1, 1, 1), (2, 3, 5, 4), (3, 7, 13, 17)])
@pytest.mark.parametrize("with_key", [False, True])
def test_attention_dot_matches_sdpa(b, tq, tv, d, with_key):
    q, v, k = randn(b, tq, d, seed=1), randn(b, tv, d + 2, seed=2), randn(b, tv, d, seed=3)
    qf, qt = _pair(q)
    vf, vt = _pair(v if with_key else v[..., :d])
    kf, kt = _pair(k)
    layer = L.Attention()
    inputs = [qf, vf, kf] if with_key else [qf, vf]
    out, w = layer(inputs, return_attention_scores=True)
    ref = torch.nn.functional.scaled_dot_product_attention(qt, kt if with_key else vt, vt, scale=1.0)
    wt = torch.softmax(qt @ (kt if with_key else vt).transpose(1, 2), -1)
    assert out.shape == (b, tq, vt.shape[-1]) and w.shape == (b, tq, tv)
    assert_close(out.numpy(), ref.detach().numpy(), "attention", **_tol(max(d, tv)))
    assert_close(w.numpy(), wt.detach().numpy(), "attention", "scores", **_tol(d))
    g = randn(*out.shape, seed=9)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    pairs = [("query", qf, qt), ("value", vf, vt)] + ([("key", kf, kt)] if with_key else [])
    _grad_check(pairs, _tol(max(d, tv)))


def _torch_attention(qt, vt, kt, scores_fn, v_mask=None, q_mask=None, causal=False):
    s = scores_fn(qt, kt)
    tq, tv = s.shape[1], s.shape[2]
    m = torch.ones(s.shape, dtype=torch.bool)
    if v_mask is not None:
        m = m & torch.from_numpy(v_mask)[:, None, :]
    if causal:
        m = m & torch.tril(torch.ones(tq, tv, dtype=torch.bool))[None]
    w = torch.softmax(s - 1e9 * (~m).float(), -1)
    out = w @ vt
    if q_mask is not None:
        out = out * torch.from_numpy(q_mask.astype(np.float32))[:, :, None]
    return out, w


@pytest.mark.parametrize("mode", ["dot", "dot_scaled", "concat", "concat_scaled", "general"])
def test_attention_modes_masks_and_weight_gradients(mode):
    b, tq, tv, d, dk = 3, 4, 6, 5, 7
    q, v = randn(b, tq, d, seed=11), randn(b, tv, 3, seed=12)
    k = randn(b, tv, dk if mode == "general" else d, seed=13)
    rng = np.random.default_rng(14)
    v_mask = rng.random((b, tv)) > 0.4
    v_mask[:, 0] = True
    q_mask = rng.random((b, tq)) > 0.3
    score_mode = mode.split("_")[0]
    layer = L.Attention(use_scale=mode.endswith("scaled"), score_mode=score_mode)
    qf, qt = _pair(q)
    vf, vt = _pair(v)
    kf, kt = _pair(k)
    layer([qf, vf, kf])  # build
    if layer.scale is not None:
        layer.scale.assign(np.array(0.6, np.float32))
    if layer.concat_score_weight is not None:
        layer.concat_score_weight.assign(np.array(1.3, np.float32))
    ws = _vars_as_torch(layer)
    names = [w.name for w in layer.weights]
    W = dict(zip(names, ws))

    def scores(qq, kk):
        if score_mode == "concat":
            s = qq[:, :, None, :] + kk[:, None, :, :]
            if "scale" in W:
                s = s * W["scale"]
            return W["concat_score_weight"] * torch.tanh(s).sum(-1)
        if score_mode == "general":
            qq = qq @ W["general_kernel"]
        s = qq @ kk.transpose(1, 2)
        return s * W["scale"] if "scale" in W else s

    out, w = layer([qf, vf, kf], mask=[q_mask, v_mask], return_attention_scores=True)
    ref, wt = _torch_attention(qt, vt, kt, scores, v_mask, q_mask)
    tol = _tol(max(d, tv))
    assert_close(out.numpy(), ref.detach().numpy(), "attention", mode, **tol)
    assert_close(w.numpy(), wt.detach().numpy(), "attention", mode + " scores", **tol)
    assert np.all(w.numpy()[~np.broadcast_to(v_mask[:, None, :], w.shape)] == 0)
    assert np.all(out.numpy()[~q_mask] == 0)
    g = randn(*out.shape, seed=15)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    pairs = [("query", qf, qt), ("value", vf, vt), ("key", kf, kt)]
    pairs += [(w_.name, w_, wt_) for w_, wt_ in zip(layer.weights, ws)]
    _grad_check(pairs, tol)


def test_attention_causal_mask_against_sdpa():
    b, t, d = 2, 6, 5
    x = randn(b, t, d, seed=21)
    xf, xt = _pair(x)
    out = L.Attention()([xf, xf], use_causal_mask=True)
    ref = torch.nn.functional.scaled_dot_product_attention(xt, xt, xt, is_causal=True, scale=1.0)
    assert_close(out.numpy(), ref.detach().numpy(), "attention", "causal", **_tol(d))
    g = randn(b, t, d, seed=22)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    _grad_check([("self", xf, xt)], _tol(d))
    # causal with a value mask and Tq != Tv (top-left aligned, as Keras)
    q, v = randn(2, 3, 4, seed=23), randn(2, 5, 4, seed=24)
    vm = np.array([[1, 1, 0, 1, 1], [1, 0, 1, 1, 0]], bool)
    got = L.Attention()([fastnn.tensor(q), fastnn.tensor(v)], mask=[None, vm], use_causal_mask=True)
    want, _ = _torch_attention(
        to_torch(q), to_torch(v), to_torch(v), lambda a, c: a @ c.transpose(1, 2), vm, None, causal=True
    )
    assert_close(got.numpy(), want.numpy(), "attention", "causal+mask", **_tol(5))


def test_general_equals_dense_on_query():
    """score_mode='general' is Keras's Attention on Dense(key_dim, use_bias=False)(query)."""
    q, v = randn(2, 3, 6, seed=31), randn(2, 4, 5, seed=32)
    gen = L.Attention(score_mode="general")
    out = gen([fastnn.tensor(q), fastnn.tensor(v)])
    dense = L.Dense(5, use_bias=False)
    dense.build((None, 6))
    dense.kernel.assign(gen.general_kernel.numpy())
    want = L.Attention()([dense(fastnn.tensor(q)), fastnn.tensor(v), fastnn.tensor(v)])
    assert_close(out.numpy(), want.numpy(), "attention", "general", **_tol(6))
    assert gen.general_kernel.shape == (6, 5) and gen.count_params() == 30


# ------------------------------------------------------------------------ AdditiveAttention
@pytest.mark.parametrize("use_scale", [True, False])
@pytest.mark.parametrize("b,tq,tv,d", [(1, 1, 1, 1), (2, 3, 5, 4), (3, 7, 11, 9)])
def test_additive_attention_against_torch(use_scale, b, tq, tv, d):
    q, v, k = randn(b, tq, d, seed=41), randn(b, tv, 3, seed=42), randn(b, tv, d, seed=43)
    rng = np.random.default_rng(44)
    vm = rng.random((b, tv)) > 0.3
    vm[:, -1] = True
    layer = L.AdditiveAttention(use_scale=use_scale)
    qf, qt = _pair(q)
    vf, vt = _pair(v)
    kf, kt = _pair(k)
    out, w = layer([qf, vf, kf], mask=[None, vm], return_attention_scores=True)
    ws = _vars_as_torch(layer)
    if use_scale:
        assert [x.name for x in layer.weights] == ["scale"] and layer.scale.shape == (d,)
    out, w = layer([qf, vf, kf], mask=[None, vm], return_attention_scores=True)

    def scores(qq, kk):
        t = torch.tanh(qq[:, :, None, :] + kk[:, None, :, :])
        return (t * ws[0]).sum(-1) if use_scale else t.sum(-1)

    ref, wt = _torch_attention(qt, vt, kt, scores, vm)
    tol = _tol(max(d, tv))
    assert_close(out.numpy(), ref.detach().numpy(), "additive_attention", **tol)
    assert_close(w.numpy(), wt.detach().numpy(), "additive_attention", "scores", **tol)
    g = randn(*out.shape, seed=45)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    pairs = [("query", qf, qt), ("value", vf, vt), ("key", kf, kt)]
    pairs += [(x.name, x, xt) for x, xt in zip(layer.weights, ws)]
    _grad_check(pairs, tol)


def test_additive_attention_is_bahdanau_with_projections():
    """AdditiveAttention on Dense projections of query and key is v^T tanh(W1 q + W2 k)."""
    b, tq, tv, d, u = 2, 3, 4, 5, 6
    q, v = randn(b, tq, d, seed=46), randn(b, tv, d, seed=47)
    w1, w2, vv = randn(d, u, seed=48), randn(d, u, seed=49), randn(u, seed=50)
    d1, d2 = L.Dense(u, use_bias=False), L.Dense(u, use_bias=False)
    d1.build((None, d))
    d2.build((None, d))
    d1.kernel.assign(w1)
    d2.kernel.assign(w2)
    att = L.AdditiveAttention()
    out = att([d1(fastnn.tensor(q)), fastnn.tensor(v), d2(fastnn.tensor(v))])
    att.scale.assign(vv)
    out = att([d1(fastnn.tensor(q)), fastnn.tensor(v), d2(fastnn.tensor(v))])
    e = np.tanh((q @ w1)[:, :, None, :] + (v @ w2)[:, None, :, :]) @ vv  # (b, tq, tv)
    a = np.exp(e - e.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    assert_close(out.numpy(), a @ v, "additive_attention", "bahdanau", **_tol(u))


# ------------------------------------------------------------------------ MultiHeadAttention
def _map_to_torch_mha(layer, e, num_heads, kdim, vdim):
    """nn.MultiheadAttention with layer's weights (query dim e = num_heads * key_dim)."""
    mha = torch.nn.MultiheadAttention(e, num_heads, batch_first=True, kdim=kdim, vdim=vdim)
    w = {x.path: x.numpy() for x in layer.weights}
    with torch.no_grad():
        mha.q_proj_weight.copy_(torch.from_numpy(w["query/kernel"].reshape(e, -1).T.copy()))
        mha.k_proj_weight.copy_(torch.from_numpy(w["key/kernel"].reshape(kdim, -1).T.copy()))
        mha.v_proj_weight.copy_(torch.from_numpy(w["value/kernel"].reshape(vdim, -1).T.copy()))
        mha.in_proj_bias.copy_(
            torch.from_numpy(np.concatenate([w["query/bias"].ravel(), w["key/bias"].ravel(), w["value/bias"].ravel()]))
        )
        mha.out_proj.weight.copy_(torch.from_numpy(w["attention_output/kernel"].reshape(-1, e).T.copy()))
        mha.out_proj.bias.copy_(torch.from_numpy(w["attention_output/bias"]))
    return mha


@pytest.mark.parametrize("b,t,s,heads,hd", [(1, 1, 1, 1, 1), (2, 5, 7, 2, 3), (3, 6, 6, 4, 5)])
def test_mha_matches_torch_multihead_attention(b, t, s, heads, hd):
    e, kdim, vdim = heads * hd, 7, 9
    rng = np.random.default_rng(51)
    q, k, v = randn(b, t, e, seed=52), randn(b, s, kdim, seed=53), randn(b, s, vdim, seed=54)
    layer = L.MultiHeadAttention(num_heads=heads, key_dim=hd, bias_initializer="random_normal")
    qf, qt = _pair(q)
    kf, kt = _pair(k)
    vf, vt = _pair(v)
    layer(qf, vf, kf)
    mha = _map_to_torch_mha(layer, e, heads, kdim, vdim)
    vm = rng.random((b, s)) > 0.3
    vm[:, 0] = True
    am = rng.random((b, t, s)) > 0.2
    am[..., 0] = True
    out, scores = layer(qf, vf, kf, value_mask=vm, attention_mask=am, return_attention_scores=True)
    ref, wt = mha(qt, kt, vt, key_padding_mask=torch.from_numpy(~vm),
                  attn_mask=torch.from_numpy(~am).repeat_interleave(heads, 0), average_attn_weights=False)
    tol = _tol(max(e, s, kdim, vdim))
    assert out.shape == (b, t, e) and scores.shape == (b, heads, t, s)
    assert_close(out.numpy(), ref.detach().numpy(), "mha", **tol)
    assert_close(scores.numpy(), wt.detach().numpy(), "mha", "scores", **tol)
    g = randn(b, t, e, seed=55)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    _grad_check([("query", qf, qt), ("key", kf, kt), ("value", vf, vt)], tol)
    w = {x.path: x for x in layer.weights}
    grads = {
        "query/kernel": mha.q_proj_weight.grad.T.reshape(e, heads, hd),
        "key/kernel": mha.k_proj_weight.grad.T.reshape(kdim, heads, hd),
        "value/kernel": mha.v_proj_weight.grad.T.reshape(vdim, heads, hd),
        "query/bias": mha.in_proj_bias.grad[:e].reshape(heads, hd),
        "key/bias": mha.in_proj_bias.grad[e : 2 * e].reshape(heads, hd),
        "value/bias": mha.in_proj_bias.grad[2 * e :].reshape(heads, hd),
        "attention_output/kernel": mha.out_proj.weight.grad.T.reshape(heads, hd, e),
        "attention_output/bias": mha.out_proj.bias.grad,
    }
    for path, want in grads.items():
        assert_close(w[path].grad.numpy(), want.numpy(), "mha", f"grad {path}", **tol)


def _torch_mha(layer, q, v, k, mask=None):
    """Keras's MultiHeadAttention written out in torch (any value_dim and output_shape)."""
    w = {x.path: to_torch(x.numpy(), True) for x in layer.weights}
    hk = layer.key_dim

    def proj(x, name):
        y = torch.einsum("btd,dnh->bnth", x, w[f"{name}/kernel"])
        return y + w[f"{name}/bias"][None, :, None, :] if f"{name}/bias" in w else y

    qp, kp, vp = proj(q, "query"), proj(k, "key"), proj(v, "value")
    s = qp @ kp.transpose(-1, -2) / math.sqrt(hk)
    if mask is not None:
        m = torch.from_numpy(np.asarray(mask))[:, None]
        p = torch.softmax(s - 1e9 * (~m).float(), -1) * m
    else:
        p = torch.softmax(s, -1)
    ctx = p @ vp  # (b, n, t, hv)
    kernel = w["attention_output/kernel"]
    out = torch.einsum("bnth,nh...->bt...", ctx, kernel)
    if "attention_output/bias" in w:
        out = out + w["attention_output/bias"]
    return out, p, w


def test_mha_value_dim_output_shape_query_mask_and_causal():
    b, t, d = 2, 5, 6
    x = randn(b, t, d, seed=61)
    qm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    layer = L.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, output_shape=(2, 3),
                                 bias_initializer="random_uniform")
    xf, xt = _pair(x)
    out, scores = layer(xf, xf, query_mask=qm, value_mask=qm, use_causal_mask=True, return_attention_scores=True)
    mask = qm[:, :, None] & qm[:, None, :] & np.tril(np.ones((t, t), bool))[None]
    ref, p, w = _torch_mha(layer, xt, xt, xt, mask)
    assert out.shape == (b, t, 2, 3) and layer.output_dense.kernel.shape == (3, 2, 2, 3)
    tol = _tol(d)
    assert_close(out.numpy(), ref.detach().numpy(), "mha", "causal", **tol)
    assert_close(scores.numpy(), p.detach().numpy(), "mha", "causal scores", **tol)
    # a padded query attends to nothing: zero weights, and the output is the output bias
    assert np.all(scores.numpy()[0, :, 3:] == 0)
    np.testing.assert_allclose(out.numpy()[0, 4], layer.output_dense.bias.numpy(), atol=1e-6)
    g = randn(*out.shape, seed=62)
    out.backward(fastnn.tensor(g))
    ref.backward(torch.from_numpy(g))
    _grad_check([("self", xf, xt)] + [(x.path, x, w[x.path]) for x in layer.weights], tol)


def test_mha_no_bias_and_higher_rank_inputs():
    """Rank-4 inputs attend over both middle axes at once (attention_axes=None)."""
    b, h, wd, d = 2, 3, 2, 5
    q = randn(b, h, wd, d, seed=71)
    v = randn(b, 2, 2, 4, seed=72)
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3, use_bias=False)
    qf, qt = _pair(q)
    vf, vt = _pair(v)
    out, scores = layer(qf, vf, return_attention_scores=True)
    assert len(layer.weights) == 4 and out.shape == (b, h, wd, d) and scores.shape == (b, 2, h, wd, 2, 2)
    assert layer.attention_axes == (1, 2)
    qq, vv = qt.reshape(b, h * wd, d), vt.reshape(b, 4, 4)
    ref, p, w = _torch_mha(layer, qq, vv, vv)
    assert_close(out.numpy(), ref.reshape(b, h, wd, d).detach().numpy(), "mha", "rank4", **_tol(d))
    assert_close(scores.numpy(), p.reshape(b, 2, h, wd, 2, 2).detach().numpy(), "mha", "rank4 scores", **_tol(d))
    g = randn(*out.shape, seed=73)
    out.backward(fastnn.tensor(g))
    ref.reshape(b, h, wd, d).backward(torch.from_numpy(g))
    _grad_check([("query", qf, qt), ("value", vf, vt)] + [(x.path, x, w[x.path]) for x in layer.weights], _tol(d))


def test_mha_attention_mask_without_batch_axis_broadcasts():
    x = randn(3, 4, 8, seed=81)
    layer = L.MultiHeadAttention(2, 4)
    am = np.tril(np.ones((4, 4), bool))
    a = layer(fastnn.tensor(x), fastnn.tensor(x), attention_mask=am).numpy()
    c = layer(fastnn.tensor(x), fastnn.tensor(x), use_causal_mask=True).numpy()
    np.testing.assert_array_equal(a, c)


# ------------------------------------------------------------------------ dropout
def test_dropout_only_in_training():
    q, v = fastnn.tensor(randn(2, 4, 6, seed=91)), fastnn.tensor(randn(2, 5, 6, seed=92))
    att = L.Attention(dropout=0.5, seed=3)
    base, w0 = L.Attention()([q, v], return_attention_scores=True)
    inf, w1 = att([q, v], return_attention_scores=True)
    np.testing.assert_array_equal(inf.numpy(), base.numpy())
    np.testing.assert_array_equal(att([q, v], training=False).numpy(), base.numpy())
    tr, w2 = att([q, v], training=True, return_attention_scores=True)
    w2 = w2.numpy()
    kept = w2 != 0
    assert 0 < kept.mean() < 1
    # Keras's Attention returns the weights after dropout: kept ones are scaled by 1 / (1 - rate)
    np.testing.assert_allclose(w2[kept], 2 * w0.numpy()[kept], rtol=1e-6)
    mha = L.MultiHeadAttention(2, 3, dropout=0.5, seed=4)
    y0, s0 = mha(q, v, return_attention_scores=True)
    y1, s1 = mha(q, v, training=True, return_attention_scores=True)
    assert not np.allclose(y0.numpy(), y1.numpy())
    np.testing.assert_array_equal(s0.numpy(), s1.numpy())  # MHA returns the scores before dropout
    np.testing.assert_array_equal(mha(q, v).numpy(), y0.numpy())


def test_dropout_gradients_flow():
    q = fastnn.tensor(randn(2, 3, 4, seed=93), requires_grad=True)
    mha = L.MultiHeadAttention(2, 2, dropout=0.3, seed=1)
    mha(q, q, training=True).sum().backward()
    assert q.grad is not None and all(w.grad is not None for w in mha.weights)


# ------------------------------------------------------------------------ graphs, configs, saving
def test_functional_model_summary_and_save_load(tmp_path):
    fastnn.layers.clear_session()
    q_in = L.Input((5, 16))
    v_in = L.Input((None, 16))
    att = L.Attention(use_scale=True)([q_in, v_in])
    add = L.AdditiveAttention()([q_in, v_in])
    mha, scores = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")(q_in, v_in, return_attention_scores=True)
    assert att.shape == (None, 5, 16) and mha.shape == (None, 5, 16) and scores.shape == (None, 2, 5, None)
    out = L.Concatenate()([att, add, mha])
    model = fastnn.models.Model([q_in, v_in], [out, scores])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "284" in text  # Keras's count for MultiHeadAttention(2, 2) on 16 features
    assert model.count_params() == 1 + 16 + 284
    q, v = randn(3, 5, 16, seed=101), randn(3, 7, 16, seed=102)
    y, s = model.predict([q, v])
    assert y.shape == (3, 5, 48) and s.shape == (3, 2, 5, 7)
    p = tmp_path / "attn.keras"
    model.save(p)
    again = fastnn.models.load_model(p)
    y2, s2 = again.predict([q, v])
    np.testing.assert_array_equal(y2, y)
    np.testing.assert_array_equal(s2, s)


def test_functional_model_with_symbolic_masks_trains():
    x_in = L.Input((6, 4))
    m_in = L.Input((6,))
    h = L.MultiHeadAttention(2, 3)(x_in, x_in, query_mask=m_in, value_mask=m_in)
    h = L.Attention()([h, x_in], mask=[m_in, m_in])
    y = L.Dense(1)(L.Flatten()(h))
    model = fastnn.models.Model([x_in, m_in], y)
    model.compile(optimizer="adam", loss="mse")
    x = randn(8, 6, 4, seed=111)
    m = (np.arange(6)[None] < np.array([3, 4, 5, 6, 6, 2, 1, 6])[:, None]).astype(np.float32)
    t = randn(8, 1, seed=112)
    hist = model.fit([x, m], t, epochs=3, batch_size=4, verbose=0)
    assert len(hist.history["loss"]) == 3 and np.isfinite(hist.history["loss"]).all()
    # padded positions of the input do not change the output
    x2 = x.copy()
    x2[m == 0] = 123.0
    np.testing.assert_allclose(model.predict([x2, m]), model.predict([x, m]), rtol=1e-5, atol=1e-5)


def test_model_with_symbolic_masks_saves_and_loads(tmp_path):
    # Rebuilding from the config builds each layer on its packed inputs: the masks there are not keys.
    x_in = L.Input((6, 4))
    m_in = L.Input((6,))
    h = L.MultiHeadAttention(2, 3)(x_in, x_in, value_mask=m_in)
    h = L.Attention(score_mode="general")([h, x_in], mask=[None, m_in])
    h = L.AdditiveAttention()([h, x_in], mask=[m_in, m_in])
    model = fastnn.models.Model([x_in, m_in], h)
    x = randn(3, 6, 4, seed=113)
    m = (np.arange(6)[None] < np.array([[2], [6], [4]])).astype(np.float32)
    p = tmp_path / "masked.keras"
    model.save(p)
    again = fastnn.models.load_model(p)
    np.testing.assert_array_equal(again.predict([x, m], verbose=0), model.predict([x, m], verbose=0))


@pytest.mark.parametrize(
    "layer",
    [
        L.Attention(use_scale=True, score_mode="concat", dropout=0.25, seed=3),
        L.Attention(score_mode="general"),
        L.AdditiveAttention(use_scale=False, dropout=0.1),
        L.MultiHeadAttention(3, 4, value_dim=5, dropout=0.1, use_bias=False, output_shape=7,
                             kernel_initializer="he_normal", kernel_regularizer="l2", seed=9),
    ],
)
def test_config_round_trip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    ser = L.serialize(layer)
    assert type(L.deserialize(ser)) is type(layer)
    if isinstance(layer, L.AdditiveAttention):
        assert "score_mode" not in config


def test_keras_config_keys():
    assert L.Attention().get_config().items() >= {"use_scale": False, "score_mode": "dot", "dropout": 0.0}.items()
    assert L.AdditiveAttention().get_config()["use_scale"] is True
    c = L.MultiHeadAttention(2, 8).get_config()
    for k in ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape", "attention_axes",
              "kernel_initializer", "bias_initializer", "seed"):
        assert k in c
    assert c["value_dim"] == 8 and c["output_shape"] is None


def test_param_counts_match_keras():
    q = fastnn.tensor(randn(2, 3, 10, seed=1))
    for layer, n in [
        (L.Attention(), 0),
        (L.Attention(use_scale=True), 1),
        (L.Attention(use_scale=True, score_mode="concat"), 2),
        (L.AdditiveAttention(), 10),
        (L.MultiHeadAttention(4, 6, value_dim=3), (10 * 24 + 24) * 2 + (10 * 12 + 12) + (12 * 10 + 10)),
    ]:
        layer(q, q) if isinstance(layer, L.MultiHeadAttention) else layer([q, q])
        assert layer.count_params() == n, type(layer).__name__


# ------------------------------------------------------------------------ bad input
def test_errors():
    q = fastnn.tensor(randn(2, 3, 4))
    v = fastnn.tensor(randn(2, 5, 4))
    with pytest.raises(ValueError, match="list of inputs"):
        L.Attention()(q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        L.Attention()([q])
    with pytest.raises(ValueError, match="score_mode"):
        L.Attention(score_mode="bilinear")
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got dropout=1.5"):
        L.Attention(dropout=1.5)
    with pytest.raises(ValueError, match=r"value_mask must have shape \(2, 5\)"):
        L.Attention()([q, v], mask=[None, np.ones((2, 4), bool)])
    with pytest.raises(ValueError, match="mask must be a list"):
        L.Attention()([q, v], mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="same last dimension"):
        L.Attention()([q, fastnn.tensor(randn(2, 5, 3))])
    with pytest.raises(ValueError, match="3-D"):
        L.AdditiveAttention()([fastnn.tensor(randn(2, 4)), fastnn.tensor(randn(2, 4))])
    with pytest.raises(ValueError, match="num_heads must be a positive integer, got num_heads=0"):
        L.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="Invalid `output_shape`"):
        L.MultiHeadAttention(2, 4, output_shape="x")
    with pytest.raises(ValueError, match="value` and `key`"):
        L.MultiHeadAttention(2, 4)(q, v, fastnn.tensor(randn(2, 6, 4)))
    with pytest.raises(NotImplementedError, match="attention_axes"):
        x4 = fastnn.tensor(randn(2, 3, 3, 4))
        L.MultiHeadAttention(2, 4, attention_axes=(2,))(x4, x4)
    with pytest.raises(ValueError, match=r"attention_mask must have shape \(2, 3, 5\)"):
        L.MultiHeadAttention(2, 4)(q, v, attention_mask=np.ones((2, 5, 3), bool))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        L.MultiHeadAttention(2, 4)(fastnn.tensor(randn(2, 4)), fastnn.tensor(randn(2, 4)))
    with pytest.raises(ValueError, match="layer\\(query, value\\)"):
        L.MultiHeadAttention(2, 4)(q)
    with pytest.raises(TypeError, match="boolean or 0/1"):
        L.Attention()([q, v], mask=[None, np.array([["a"] * 5] * 2)])


@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("zero_masked", [False, True])
def test_masked_softmax_cuda_matches_cpu(zero_masked):
    x = randn(2, 3, 5, 300, seed=201)
    mask = np.random.default_rng(202).random((2, 5, 300)) > 0.3
    mask[0, 0] = False  # a fully masked row
    g = randn(*x.shape, seed=203)
    outs = []
    for dev in ("cpu", "cuda"):
        t = fastnn.tensor(x, device=dev, requires_grad=True)
        y = F.masked_softmax(t, mask[:, None], scale=0.5, zero_masked=zero_masked)
        y.backward(fastnn.tensor(g, device=dev))
        outs.append((y.to("cpu").numpy(), t.grad.to("cpu").numpy()))
    assert_close(outs[1][0], outs[0][0], "masked_softmax", "cuda", **TOL["transcendental"])
    assert_close(outs[1][1], outs[0][1], "masked_softmax", "cuda grad", **TOL["transcendental"])
