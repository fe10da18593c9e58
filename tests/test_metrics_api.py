"""fastnn.metrics: stateful metrics (against scikit-learn and NumPy), get, resolve_accuracy,
and the scikit-learn-compatible functions."""

import json
import warnings

import fastnn
import numpy as np
import pytest
import sklearn.metrics as skm
from fastnn import metrics as M

rng = np.random.default_rng(1)


def _batches(n, size):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def test_binary_accuracy_matches_sklearn_over_batches():
    n = 103
    y = rng.integers(0, 2, n)
    p = rng.uniform(size=(n, 1)).astype(np.float32)
    m = M.BinaryAccuracy()
    for s in _batches(n, 32):  # uneven last batch: total/count, not a mean of batch means
        m.update_state(y[s], p[s])
    assert m.result() == pytest.approx(skm.accuracy_score(y, (p[:, 0] > 0.5).astype(int)))
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(fastnn.tensor(y[:, None].astype(np.float32)), fastnn.tensor(p))  # tensors work too
    assert m.result() == pytest.approx(skm.accuracy_score(y, p[:, 0] > 0.5))


def test_binary_accuracy_threshold_and_weights():
    y = rng.integers(0, 2, 50)
    p = rng.uniform(size=50).astype(np.float32)
    w = rng.uniform(0, 3, 50)
    m = M.BinaryAccuracy(threshold=0.3)
    m.update_state(y, p, sample_weight=w)
    assert m.result() == pytest.approx(skm.accuracy_score(y, p > 0.3, sample_weight=w))
    assert M.BinaryAccuracy().get_config()["threshold"] == 0.5


def test_categorical_and_sparse_accuracy_match_sklearn():
    n, c = 77, 5
    y = rng.integers(0, c, n)
    p = rng.uniform(size=(n, c)).astype(np.float32)
    want = skm.accuracy_score(y, p.argmax(-1))
    cat, sp, sp1 = M.CategoricalAccuracy(), M.SparseCategoricalAccuracy(), M.SparseCategoricalAccuracy()
    onehot = fastnn.utils.to_categorical(y, c)
    for s in _batches(n, 16):
        cat.update_state(onehot[s], p[s])
        sp.update_state(y[s], p[s])
        sp1.update_state(y[s, None].astype(np.float32), p[s])  # (N, 1) float labels, as Keras allows
    assert cat.result() == pytest.approx(want)
    assert sp.result() == pytest.approx(want)
    assert sp1.result() == pytest.approx(want)
    w = rng.uniform(size=n)
    m = M.SparseCategoricalAccuracy()
    m.update_state(y, p, sample_weight=w)
    assert m.result() == pytest.approx(skm.accuracy_score(y, p.argmax(-1), sample_weight=w))


def test_accuracy_exact_match():
    m = M.Accuracy()
    m.update_state([1, 2, 3, 4], [1, 2, 3, 0])
    assert m.result() == pytest.approx(0.75)
    m.update_state([[1], [2]], [1, 5])  # (N, 1) against (N,) lines up
    assert m.result() == pytest.approx(4 / 6)


def test_regression_metrics():
    t = rng.normal(size=(40, 3))
    p = rng.normal(size=(40, 3)).astype(np.float32)
    mse, mae = M.MeanSquaredError(), M.MeanAbsoluteError()
    for s in _batches(40, 15):
        mse.update_state(t[s], p[s])
        mae.update_state(t[s], p[s])
    assert mse.result() == pytest.approx(skm.mean_squared_error(t, p), rel=1e-6)
    assert mae.result() == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-6)


def test_mean_weighted_like_keras():
    m = M.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    m.update_state(10.0)  # a scalar counts as one sample
    assert m.result() == pytest.approx(14 / 3)
    m.reset_state()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]))  # averaged per sample first
    assert (m.total, m.count) == (8.0, 2.0)  # sample means 2 and 6
    s = M.Sum()
    s.update_state([1, 3, 5, 7])
    assert s.result() == 16.0


def test_crossentropy_metrics_agree_with_losses():
    y = rng.integers(0, 2, (20, 1)).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (20, 1)).astype(np.float32)
    m = M.BinaryCrossentropy()
    m.update_state(y[:10], p[:10])
    m.update_state(y[10:], p[10:])
    assert m.result() == pytest.approx(fastnn.losses.BinaryCrossentropy()(y, p).item(), rel=1e-5)
    assert m.result() == pytest.approx(skm.log_loss(y[:, 0], p[:, 0]), rel=1e-5)


def test_call_updates_and_returns():
    m = M.SparseCategoricalAccuracy()
    assert m([1, 0], [[0.3, 0.7], [0.4, 0.6]]) == 0.5
    assert m([0], [[0.9, 0.1]]) == pytest.approx(2 / 3)


def test_shape_errors_quote_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 2\)"):
        M.SparseCategoricalAccuracy().update_state([0, 1, 1], np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 3\)"):
        M.CategoricalAccuracy().update_state(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sample_weight"):
        M.BinaryAccuracy().update_state([1, 0, 1], [0.1, 0.2, 0.9], sample_weight=[1, 2])


def test_get():
    assert type(M.get("accuracy")) is M.Accuracy
    assert M.get("acc").name == "acc"
    for s, cls in (("binary_accuracy", M.BinaryAccuracy), ("categorical_accuracy", M.CategoricalAccuracy),
                   ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy), ("mse", M.MeanSquaredError),
                   ("mae", M.MeanAbsoluteError), ("MeanSquaredError", M.MeanSquaredError),
                   ("binary_crossentropy", M.BinaryCrossentropy)):
        assert type(M.get(s)) is cls
    a, b = M.get("mse"), M.get("mse")
    assert a is not b  # a fresh state each time
    inst = M.BinaryAccuracy()
    assert M.get(inst) is inst
    assert type(M.get(M.CategoricalAccuracy)) is M.CategoricalAccuracy
    assert type(M.get(M.binary_accuracy)) is M.BinaryAccuracy
    custom = M.get(lambda t, p: np.abs(np.asarray(t) - np.asarray(p)))
    assert isinstance(custom, M.MeanMetricWrapper)
    custom.update_state([1.0, 2.0], [1.5, 2.0])
    assert custom.result() == 0.25
    with pytest.raises(ValueError, match="Unknown metric 'accurasy'.*sparse_categorical_accuracy"):
        M.get("accurasy")


def test_config_round_trip():
    for m in (M.BinaryAccuracy(threshold=0.7, name="acc7"), M.SparseCategoricalAccuracy(), M.Mean(name="avg"),
              M.MeanSquaredError()):
        cfg = json.loads(json.dumps(M.serialize(m)))
        again = M.deserialize(cfg)
        assert type(again) is type(m) and again.get_config() == m.get_config()


@pytest.mark.parametrize("loss,shape,ytrue,cls", [
    ("binary_crossentropy", (None, 1), None, M.BinaryAccuracy),
    (fastnn.losses.BinaryCrossentropy(from_logits=True), (None, 1), None, M.BinaryAccuracy),
    ("categorical_crossentropy", (None, 10), None, M.CategoricalAccuracy),
    (fastnn.losses.CategoricalCrossentropy, (None, 10), None, M.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", (None, 10), None, M.SparseCategoricalAccuracy),
    (fastnn.losses.sparse_categorical_crossentropy, (None, 10), None, M.SparseCategoricalAccuracy),
    ("mse", (None, 1), None, M.BinaryAccuracy),
    ("mse", (None, 4), (None, 4), M.CategoricalAccuracy),
    ("mse", (None, 4), (None,), M.SparseCategoricalAccuracy),
    ("mse", None, None, M.Accuracy),
])
def test_resolve_accuracy(loss, shape, ytrue, cls):
    m = M.resolve_accuracy(loss, shape, ytrue)
    assert type(m) is cls
    assert m.name == "accuracy"
    assert M.resolve_accuracy(loss, shape, ytrue, name="acc").name == "acc"


def test_reset_states_deprecated():
    m = M.Mean()
    m.update_state([1.0])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m.reset_states()
    assert m.count == 0 and any("reset_state()" in str(x.message) for x in w)


# ---------------------------------------------------------- scikit-learn-compatible functions
def test_accuracy_score_and_confusion_matrix():
    y = rng.integers(0, 4, 60)
    p = rng.integers(0, 4, 60)
    w = rng.uniform(size=60)
    assert M.accuracy_score(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert M.accuracy_score(y, p, normalize=False) == skm.accuracy_score(y, p, normalize=False)
    assert M.accuracy_score(y, p, sample_weight=w) == pytest.approx(skm.accuracy_score(y, p, sample_weight=w))
    np.testing.assert_array_equal(M.confusion_matrix(y, p), skm.confusion_matrix(y, p))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(y, p, normalize=norm), skm.confusion_matrix(y, p, normalize=norm))
    np.testing.assert_array_equal(M.confusion_matrix(y, p, labels=[3, 1]), skm.confusion_matrix(y, p, labels=[3, 1]))


@pytest.mark.parametrize("ties", [False, True])
def test_roc_curve_and_auc_match_sklearn(ties):
    y = rng.integers(0, 2, 200)
    s = rng.uniform(size=200)
    if ties:
        s = np.round(s, 1)
    for drop in (True, False):
        got = M.roc_curve(y, s, drop_intermediate=drop)
        want = skm.roc_curve(y, s, drop_intermediate=drop)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w)
    assert M.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert M.roc_auc_score(y, np.stack([1 - s, s], 1)) == pytest.approx(skm.roc_auc_score(y, s))
    assert M.auc([0, 0.5, 1], [0, 0.8, 1]) == pytest.approx(skm.auc([0, 0.5, 1], [0, 0.8, 1]))
    with pytest.raises(ValueError, match="binary"):
        M.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
