"""layers.Embedding and row-sparse gradients.

The layer against torch.nn.Embedding (forward, dense and sparse backward, repeated indices,
n-d index inputs, odd sizes), RowSparseGrad (merging, densifying, accumulation of a shared
embedding, a non-leaf weight), every optimizer's 50-step trajectory with row-sparse gradients
against the same optimizer on the dense gradient (bit for bit where the norm is not involved)
and against torch.optim where the formulas coincide, clipping and weight decay, mask_zero,
errors, get_config / save / load, and a small text classifier trained with fit().
"""

from __future__ import annotations

import warnings

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers, models, optimizers
from fastnn.sparse import RowSparseGrad
from oracle import TOL, assert_close

SIZES = [(1, 1), (7, 3), (13, 17), (101, 33)]  # (input_dim, output_dim)
INDEX_SHAPES = [(5,), (3, 4), (2, 3, 4)]


def _layer(v, d, sparse, seed=0):
    fastnn.random.seed(seed)
    layer = layers.Embedding(v, d, sparse=sparse)
    layer.build(None)
    return layer


# ---------------------------------------------------------------------------- the layer vs torch
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("v,d", SIZES)
@pytest.mark.parametrize("ishape", INDEX_SHAPES)
def test_forward_backward_matches_torch(v, d, ishape, sparse):
    rng = np.random.default_rng(v * 100 + d)
    idx = rng.integers(0, v, size=ishape)
    idx.flat[0] = idx.flat[-1]  # at least one repeated index
    layer = _layer(v, d, sparse)
    emb = torch.nn.Embedding(v, d, sparse=sparse)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(layer.embeddings.numpy().copy()))
    out = layer(idx)
    ref = emb(torch.from_numpy(idx))
    assert out.shape == ishape + (d,)
    assert_close(out.numpy(), ref.detach().numpy(), "embedding", **TOL["exact"])
    up = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(up)
    ref.backward(torch.from_numpy(up))
    g = layer.embeddings.grad
    tg = emb.weight.grad
    if sparse:
        assert isinstance(g, RowSparseGrad)
        assert g.dense_shape == (v, d)
        np.testing.assert_array_equal(g.indices.numpy(), np.unique(idx))
        tg = tg.coalesce().to_dense()
    else:
        assert isinstance(g, fastnn.Tensor)
    # Repeated rows are summed: at most size/vocabulary-row terms of fp32 rounding.
    assert_close(g.numpy(), tg.numpy(), "embedding", "backward", **TOL["reduction"](idx.size))


def test_float_inputs_holding_integers_are_indices():
    layer = _layer(10, 4, False)
    a = layer(np.array([[1.0, 9.0]], np.float32)).numpy()
    b = layer(np.array([[1, 9]])).numpy()
    np.testing.assert_array_equal(a, b)


def test_weights_argument_and_initializer():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    layer = layers.Embedding(4, 3, weights=[w])
    np.testing.assert_array_equal(layer(np.array([2, 0])).numpy(), w[[2, 0]])
    assert layer.embeddings.name == "embeddings"
    assert layer.embeddings.path.endswith("/embeddings")
    fastnn.random.seed(0)
    big = _layer(1000, 16, False).embeddings.numpy()
    assert np.abs(big).max() <= 0.05 and big.std() > 0.02  # Keras's 'uniform': U(-0.05, 0.05)


# ---------------------------------------------------------------------------- RowSparseGrad
def test_row_sparse_grad_merges_and_densifies():
    rows = np.arange(8, dtype=np.float32).reshape(4, 2)
    g = RowSparseGrad([3, 1, 3, 0], rows, (5, 2))
    np.testing.assert_array_equal(g.indices.numpy(), [0, 1, 3])
    np.testing.assert_array_equal(g.values.numpy(), [[6, 7], [2, 3], [4 + 0, 5 + 1]])
    dense = np.zeros((5, 2), np.float32)
    np.add.at(dense, [3, 1, 3, 0], rows)
    np.testing.assert_array_equal(g.numpy(), dense)
    np.testing.assert_array_equal(np.asarray(g), dense)
    np.testing.assert_array_equal(g.to_dense().numpy(), dense)
    assert g.shape == (5, 2) and g.nnz == 3 and g.dtype == np.float32 and g.device == "cpu"
    assert "dense_shape=(5, 2)" in repr(g)
    both = g + RowSparseGrad([4, 0], np.ones((2, 2), np.float32), (5, 2))
    assert isinstance(both, RowSparseGrad)
    np.testing.assert_array_equal(both.indices.numpy(), [0, 1, 3, 4])
    np.testing.assert_array_equal(both.numpy(), dense + np.array([[1, 1], [0, 0], [0, 0], [0, 0], [1, 1]]))
    mixed = g + fastnn.ones(5, 2)
    assert isinstance(mixed, fastnn.Tensor)
    np.testing.assert_array_equal(mixed.numpy(), dense + 1)


def test_row_sparse_grad_rejects_bad_input():
    with pytest.raises(ValueError, match="values of shape"):
        RowSparseGrad([0, 1], np.ones((3, 2), np.float32), (5, 2))
    with pytest.raises(ValueError, match="1-D"):
        RowSparseGrad([[0, 1]], np.ones((2, 2), np.float32), (5, 2))
    with pytest.raises(ValueError, match="index 5 is out of bounds"):
        RowSparseGrad([0, 5], np.ones((2, 2), np.float32), (5, 2))
    with pytest.raises(TypeError, match="integers"):
        RowSparseGrad(np.array([0.5]), np.ones((1, 2), np.float32), (5, 2))
    with pytest.raises(ValueError, match="cannot add"):
        a = RowSparseGrad([0], np.ones((1, 2), np.float32), (5, 2))
        a + RowSparseGrad([0], np.ones((1, 3), np.float32), (5, 3))


def test_shared_embedding_accumulates_sparse_gradients():
    """One table looked up twice (a shared layer): both lookups' rows add into one sparse grad."""
    layer = _layer(11, 5, True)
    emb = torch.nn.Embedding(11, 5, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(layer.embeddings.numpy().copy()))
    a, b = np.array([[1, 4, 4]]), np.array([[4, 7, 10]])
    (layer(a) * layer(b)).sum().backward()
    (emb(torch.from_numpy(a)) * emb(torch.from_numpy(b))).sum().backward()
    g = layer.embeddings.grad
    assert isinstance(g, RowSparseGrad)
    np.testing.assert_array_equal(g.indices.numpy(), [1, 4, 7, 10])
    assert_close(g.numpy(), emb.weight.grad.to_dense().numpy(), "embedding", "shared backward", **TOL["reduction"](6))
    # a second backward adds again (gradients accumulate until reset), still sparse
    layer(np.array([0])).sum().backward()
    assert isinstance(layer.embeddings.grad, RowSparseGrad)
    np.testing.assert_array_equal(layer.embeddings.grad.indices.numpy(), [0, 1, 4, 7, 10])
    # a dense contribution makes the sum dense
    (layer.embeddings * 1.0).sum().backward()
    assert isinstance(layer.embeddings.grad, fastnn.Tensor)
    np.testing.assert_allclose(layer.embeddings.grad.numpy()[0], 2.0)


def test_sparse_lookup_of_a_non_leaf_gives_a_dense_gradient():
    w = fastnn.randn(6, 3, requires_grad=True)
    fastnn.functional.embedding([2, 2, 5], w * 2.0, sparse=True).sum().backward()
    assert isinstance(w.grad, fastnn.Tensor)
    want = np.zeros((6, 3), np.float32)
    want[2], want[5] = 4.0, 2.0
    np.testing.assert_array_equal(w.grad.numpy(), want)


# ---------------------------------------------------------------------------- optimizers
V, D, STEPS = 29, 6, 50

OPTIMIZERS = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"weight_decay": 0.05}),
    ("adagrad", {}),
    ("adagrad", {"weight_decay": 0.01}),
    ("rmsprop", {}),
    ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.01}),
    ("adamax", {}),
    ("nadam", {}),
    ("adadelta", {"learning_rate": 1.0}),
    ("adam", {"clipvalue": 0.3}),
    ("rmsprop", {"clipnorm": 0.5}),
    ("adam", {"global_clipnorm": 0.5}),
    ("sgd", {"clipnorm": 0.5}),
]


def _make(kind, cfg):
    return optimizers.get({"class_name": kind, "config": dict(cfg)})


def _sparse_steps(seed=0, steps=STEPS, v=V, d=D, first_all=False):
    """Per step: (indices of shape (4, 5), upstream rows (4, 5, d)); the first step touches every
    row when first_all (so that no row of a torch comparison stays at v = 0)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        n = max(20, v) if (first_all and t == 0) else 20
        idx = rng.integers(0, v, size=n)
        if first_all and t == 0:
            idx[:v] = rng.permutation(v)
        out.append((idx.astype(np.int64), rng.standard_normal((n, d)).astype(np.float32)))
    return out


def _run(opt, w0, steps, sparse, extra=None):
    """Trajectory of the embedding table (and of a dense extra variable, for global_clipnorm)."""
    w = fastnn.tensor(w0.copy())
    ex = fastnn.tensor(extra.copy()) if extra is not None else None
    traj = []
    for k, (idx, rows) in enumerate(steps):
        g = RowSparseGrad._from_rows(idx, rows, w.shape)
        if not sparse:
            g = g.to_dense()
        pairs = [(g, w)]
        if ex is not None:
            pairs.append((fastnn.tensor(np.full(ex.shape, 0.1 * (k % 3), np.float32)), ex))
        opt.apply_gradients(pairs)
        traj.append(w.numpy().copy())
    return traj


@pytest.mark.parametrize("kind,cfg", OPTIMIZERS, ids=[f"{k}-{c}" for k, c in OPTIMIZERS])
def test_sparse_trajectory_equals_dense(kind, cfg):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((V, D)).astype(np.float32)
    extra = rng.standard_normal((3, 2)).astype(np.float32) if "global_clipnorm" in cfg else None
    steps = _sparse_steps(2)
    sp = _run(_make(kind, cfg), w0, steps, True, extra)
    de = _run(_make(kind, cfg), w0, steps, False, extra)
    # The clip norms are summed over different layouts (rows vs the dense array): rounding only.
    tol = TOL["optimizer"] if ("clipnorm" in cfg or "global_clipnorm" in cfg) else TOL["exact"]
    for a, b in zip(sp, de):
        assert_close(a, b, f"{kind} sparse vs dense", "trajectory", **tol)
    assert not np.array_equal(sp[-1], w0)


def _torch_opt(kind, cfg, ps):
    lr = cfg.get("learning_rate", 0.01 if kind == "sgd" else 0.001)
    if kind == "sgd":
        return torch.optim.SGD(ps, lr=lr, momentum=cfg.get("momentum", 0.0), nesterov=cfg.get("nesterov", False))
    if kind == "adagrad":
        return torch.optim.Adagrad(ps, lr=lr, initial_accumulator_value=0.1, eps=0.0)
    if kind == "rmsprop":
        return torch.optim.RMSprop(ps, lr=lr, alpha=0.9, eps=0.0)
    if kind == "adam":
        return torch.optim.Adam(ps, lr=lr, eps=0.0)
    if kind == "adadelta":
        return torch.optim.Adadelta(ps, lr=lr, rho=0.95, eps=1e-6)
    if kind == "nadam":
        return torch.optim.NAdam(ps, lr=lr, eps=1e-7, momentum_decay=1.0)
    raise AssertionError(kind)


# The same formulas (see tests/test_optimizers.py): epsilons matched where Keras and torch place
# them differently.
TORCH_CASES = [
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"learning_rate": 0.1, "epsilon": 0.0}),
    ("rmsprop", {"epsilon": 0.0}),
    ("adam", {"learning_rate": 0.01, "epsilon": 0.0}),
    ("adadelta", {"learning_rate": 1.0, "epsilon": 1e-6}),
    ("nadam", {"learning_rate": 0.01}),
]


@pytest.mark.parametrize("kind,cfg", TORCH_CASES, ids=[f"{k}-{c}" for k, c in TORCH_CASES])
def test_sparse_trajectory_matches_torch_dense(kind, cfg):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((V, D)).astype(np.float32)
    steps = _sparse_steps(4, first_all=True)
    got = _run(_make(kind, cfg), w0, steps, True)
    p = torch.tensor(w0.copy(), requires_grad=True)
    opt = _torch_opt(kind, cfg, [p])
    for t, (idx, rows) in enumerate(steps):
        g = torch.zeros(V, D)
        g.index_add_(0, torch.from_numpy(idx), torch.from_numpy(rows))
        p.grad = g
        opt.step()
        assert_close(got[t], p.detach().numpy(), f"{kind} sparse vs torch", "trajectory", **TOL["optimizer"])


def test_plain_sgd_and_adagrad_touch_only_the_listed_rows():
    w0 = np.random.default_rng(0).standard_normal((V, D)).astype(np.float32)
    for opt in (optimizers.SGD(0.1), optimizers.Adagrad(0.1)):
        w = fastnn.tensor(w0.copy())
        opt.apply_gradients([(RowSparseGrad([3, 8], np.ones((2, D), np.float32), (V, D)), w)])
        changed = np.flatnonzero((w.numpy() != w0).any(axis=1))
        np.testing.assert_array_equal(changed, [3, 8])


def test_adam_decays_rows_outside_the_batch():
    """Keras semantics: a row seen once keeps moving on later steps without a gradient."""
    w = fastnn.tensor(np.zeros((4, 2), np.float32))
    opt = optimizers.Adam(0.1)
    opt.apply_gradients([(RowSparseGrad([1], np.ones((1, 2), np.float32), (4, 2)), w)])
    after1 = w.numpy().copy()
    opt.apply_gradients([(RowSparseGrad([2], np.ones((1, 2), np.float32), (4, 2)), w)])
    assert (w.numpy()[1] != after1[1]).all()  # momentum keeps stepping row 1
    np.testing.assert_array_equal(w.numpy()[[0, 3]], 0.0)  # never-seen rows: m = v = 0, no step


def test_nan_clip_scale_reaches_every_row_as_dense_does():
    """A NaN gradient makes the clipnorm scale NaN: the dense update makes every row NaN, so the
    row-sparse one must too (absent rows see prep(0) = 0 * NaN)."""
    w0 = np.ones((5, 2), np.float32)
    rows = np.array([[np.nan, 1.0]], np.float32)
    res = []
    for sparse in (True, False):
        w = fastnn.tensor(w0.copy())
        g = RowSparseGrad([2], rows, (5, 2))
        optimizers.SGD(0.1, clipnorm=1.0).apply_gradients([(g if sparse else g.to_dense(), w)])
        res.append(w.numpy())
    assert np.isnan(res[1]).all()
    np.testing.assert_array_equal(res[0], res[1])


def test_sparse_kernels_check_their_arguments():
    from fastnn import _C

    w, m, v = (np.zeros((6, 2), np.float32) for _ in range(3))
    vals = np.ones((2, 2), np.float32)
    args = (1e-3, 0.9, 0.999, 1e-7, 1.0, float("inf"), 0.0)
    with pytest.raises(ValueError, match="sorted and unique"):
        _C.adam_update_sparse(w, m, v, None, np.array([3, 1]), vals, *args)
    with pytest.raises(ValueError, match="out of range"):
        _C.adam_update_sparse(w, m, v, None, np.array([1, 6]), vals, *args)
    with pytest.raises(ValueError, match="values have shape"):
        _C.adam_update_sparse(w, m, v, None, np.array([1, 2]), np.ones((2, 3), np.float32), *args)
    with pytest.raises(ValueError, match="slot 'velocity' has shape"):
        _C.adam_update_sparse(w, m, np.zeros((5, 2), np.float32), None, np.array([1, 2]), vals, *args)


def test_sparse_model_training_equals_dense():
    """Embedding(sparse=True) and Embedding(sparse=False) train to the same weights with fit()."""
    x, y = _text_data(256)
    hist, weights = [], []
    for sparse in (False, True):
        model = _text_model(sparse)
        hist.append(model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False).history["loss"])
        weights.append(model.get_weights())
    assert hist[0] == hist[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- Keras behaviour
def test_mask_zero():
    layer = layers.Embedding(10, 3, mask_zero=True)
    idx = np.array([[0, 4, 0], [5, 0, 9]])
    mask = layer.compute_mask(idx)
    np.testing.assert_array_equal(mask.numpy(), (idx != 0).astype(np.float32))
    assert layer.supports_masking
    plain = layers.Embedding(10, 3)
    assert plain.compute_mask(idx) is None and not plain.supports_masking


def test_errors():
    layer = _layer(10, 3, False)
    with pytest.raises(ValueError, match=r"index 10 is out of range for input_dim=10"):
        layer(np.array([[1, 10]]))
    with pytest.raises(ValueError, match=r"index -1 is out of range for input_dim=10"):
        layer(np.array([-1, 2]))
    with pytest.raises(ValueError, match=r"integer indices, got the value 1.5"):
        layer(np.array([1.5, 2.0], np.float32))
    with pytest.raises(ValueError, match="input_dim must be a positive integer, got input_dim=0"):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim must be a positive integer"):
        layers.Embedding(3, 2.5)
    with pytest.raises(ValueError, match="'maxnorm'"):
        layers.Embedding(3, 2, embeddings_constraint="maxnorm")
    with pytest.raises(ValueError, match="expects 1 weight arrays"):
        layer.set_weights([np.zeros((10, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match=r"has shape \(10, 3\), got an array of shape \(4, 3\)"):
        layers.Embedding(10, 3, weights=np.zeros((4, 3), np.float32))


def test_input_length_is_deprecated_but_gives_the_input_shape():
    with pytest.warns(DeprecationWarning, match="input_length"):
        layer = layers.Embedding(50, 4, input_length=7)
    model = models.Sequential([layer, layers.Flatten(), layers.Dense(1)])
    assert model.output_shape == (None, 1)
    assert layer.output_shape == (None, 7, 4)
    assert model.count_params() == 50 * 4 + 28 + 1


def test_config_round_trip():
    layer = layers.Embedding(30, 4, mask_zero=True, sparse=True, embeddings_regularizer="l2", name="emb")
    cfg = layer.get_config()
    assert cfg["input_dim"] == 30 and cfg["output_dim"] == 4 and cfg["mask_zero"] and cfg["sparse"]
    assert cfg["embeddings_initializer"]["class_name"] == "RandomUniform"
    back = layers.Embedding.from_config(cfg)
    assert back.get_config() == cfg
    assert layers.deserialize(layers.serialize(layer)).get_config() == cfg


def test_save_load_round_trip(tmp_path):
    x, y = _text_data(64)
    model = _text_model(True)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "text.keras"
    model.save(path)
    back = models.load_model(path)
    emb = [lyr for lyr in back.layers if isinstance(lyr, layers.Embedding)][0]
    assert emb.sparse and emb.input_dim == VOCAB
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_summary_lists_the_embedding(capsys):
    model = _text_model(False)
    model.summary()
    out = capsys.readouterr().out
    assert "Embedding" in out and f"{VOCAB * 8:,}" in out and "(None, 12, 8)" in out


# ---------------------------------------------------------------------------- text classification
VOCAB, LENGTH = 200, 12


def _text_data(n, seed=0):
    """Token sequences whose label says whether 'positive' words (ids < VOCAB / 2) dominate."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(n, LENGTH))
    y = ((x < VOCAB // 2).sum(axis=1) > LENGTH // 2).astype(np.int64)
    return x, y


def _text_model(sparse):
    fastnn.layers.clear_session()
    fastnn.random.seed(0)
    inp = layers.Input(shape=(LENGTH,), dtype="int64")
    h = layers.Embedding(VOCAB, 8, sparse=sparse)(inp)
    h = h.mean(axis=1)  # mean over time
    out = layers.Dense(2, activation="softmax")(h)
    model = models.Model(inp, out)
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_text_classifier_learns_with_fit():
    x, y = _text_data(1024)
    model = _text_model(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the way (missing gradients, deprecations)
        hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0, validation_split=0.25)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.85


@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind,cfg", OPTIMIZERS[:14], ids=[f"{k}-{c}" for k, c in OPTIMIZERS[:14]])
def test_cuda_sparse_matches_cpu(kind, cfg):
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((V, D)).astype(np.float32)
    steps = _sparse_steps(6, steps=10)
    want = _run(_make(kind, cfg), w0, steps, True)
    w = fastnn.tensor(w0.copy(), device="cuda")
    opt = _make(kind, cfg)
    for t, (idx, rows) in enumerate(steps):
        g = RowSparseGrad(fastnn.tensor(idx, device="cuda"), fastnn.tensor(rows, device="cuda"), (V, D))
        opt.apply_gradients([(g, w)])
        # the CUDA row merge adds repeated rows with atomics, in any order: rounding only
        assert_close(w.numpy(), want[t], f"{kind} cuda sparse", "trajectory", **TOL["optimizer"])


def test_bench_embedding_suite_end_to_end(tmp_path):
    """The harness runs (tiny sizes, one round): every row timed; speed is never asserted."""
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "emb.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [os.path.dirname(os.path.dirname(fastnn.__file__)), os.environ.get("PYTHONPATH", "")]
        ),
    }
    cmd = [
        sys.executable,
        "-m",
        "fastnn",
        "bench",
        "embedding",
        "--quick",
        "--threads",
        "1",
        "--rounds",
        "1",
        "--target",
        "0.002",
        "--retries",
        "0",
        "--vocab",
        "300",
        "--dim",
        "7",
        "--json",
        str(out),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "| fastnn train (sparse grad)" in p.stdout
    r = json.loads(out.read_text())
    assert r["suite"] == "embedding" and r["vocab"] == 300
    assert r["rows"]["fastnn adam step (dense grad)"]["1"]["median_s"] > 0
    assert r["rows"]["torch train (adam fused)"]["1"]["fastnn_speedup"] > 0
