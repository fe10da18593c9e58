"""The metric catalogue: top-k accuracies, Precision/Recall, confusion counts and AUC (against
torch, scikit-learn and a float64 NumPy transcription of Keras's update and result formulas),
their use through compile/fit, configs, bad arguments; and the scikit-learn-compatible
functions against scikit-learn on random data, ties, weights, one-class labels and scores of
exactly 0 and 1."""

import json
import warnings

import fastnn
import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from fastnn import layers as L
from fastnn import metrics as M
from fastnn.layers.base import clear_session
from fastnn.models import Sequential
from oracle import TOL

EXACT = TOL["exact"]
FP64 = TOL["metric_fp64"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _batches(n, size):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


# ------------------------------------------------------------------------- top-k accuracy
@pytest.mark.parametrize("k", [1, 3, 5, 11])
def test_sparse_top_k_matches_torch_topk_over_weighted_batches(k):
    rng = _rng(k)
    n, c = 97, 11
    logits = rng.normal(size=(n, c)).astype(np.float32)  # continuous: no ties
    y = rng.integers(0, c, n)
    w = rng.uniform(0, 2, n)
    top = torch.topk(torch.from_numpy(logits), k, dim=-1).indices.numpy()
    hit = (top == y[:, None]).any(-1).astype(np.float64)
    sp, cat = M.SparseTopKCategoricalAccuracy(k=k), M.TopKCategoricalAccuracy(k=k)
    onehot = np.eye(c, dtype=np.float32)[y]
    for s in _batches(n, 20):  # uneven last batch: weighted by counts, as Keras
        sp.update_state(y[s], logits[s], sample_weight=w[s])
        cat.update_state(onehot[s], logits[s], sample_weight=w[s])
    np.testing.assert_allclose(sp.result(), np.average(hit, weights=w), **FP64)
    np.testing.assert_allclose(cat.result(), np.average(hit, weights=w), **FP64)
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy(y, logits, k=k), hit)
    np.testing.assert_array_equal(M.top_k_categorical_accuracy(onehot, logits, k=k), hit)


def test_top_k_ties_and_shapes_as_keras_in_top_k():
    p = np.array([[0.5, 0.5, 0.5, 0.1], [0.2, 0.7, 0.7, 0.1], [np.nan, 0.1, 0.2, 0.3]], np.float32)
    # in_top_k: the label is in the top k when fewer than k classes score strictly higher, so
    # classes tied at the k-th place are all in
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy([2, 2, 3], p, k=1), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy([3, 0, 0], p, k=1), [0.0, 0.0, 0.0])
    # row 0: three classes above 0.1, so not in the top 3; row 2 holds a NaN: TF cannot rank it
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy([3, 0, 1], p, k=3), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy([3, 0, 1], p, k=4), [1.0, 1.0, 0.0])
    # (N, 1) float labels give matches of the labels' shape; (N, T, C) predictions work per step
    out = M.sparse_top_k_categorical_accuracy(np.array([[2.0], [1.0]]), p[:2], k=1)
    assert out.shape == (2, 1)
    seq = _rng().normal(size=(2, 3, 4)).astype(np.float32)
    lab = seq.argmax(-1)
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy(lab, seq, k=1), np.ones((2, 3)))
    m = M.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert m.result() == pytest.approx(0.3)  # Keras's docstring example


def test_top_k_bad_input():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*\[7\]"):
        M.sparse_top_k_categorical_accuracy([0, 7], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        M.sparse_top_k_categorical_accuracy([0, 1, 2], np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        M.top_k_categorical_accuracy(np.zeros((2, 3)), np.zeros((2, 4)))
    for k in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            M.TopKCategoricalAccuracy(k=k)


# ------------------------------------------------------- a float64 transcription of Keras
def _keras_confusion(y_true, y_pred, thresholds, evenly, sample_weight=None, multi_label=False, label_weights=None):
    """keras/src/metrics/metrics_utils.update_confusion_matrix_variables, written out with
    NumPy in float64 counts: the segment_sum path for evenly spaced thresholds, the tiled
    (T, N) comparison otherwise."""
    thr = np.asarray(thresholds, np.float64).astype(np.float32)
    p = np.asarray(y_pred, np.float32)
    t = np.asarray(y_true, np.float32)
    if p.ndim == 1:
        p, t = p[:, None], t[:, None]
    w = np.ones(p.shape)
    if sample_weight is not None:
        w = np.broadcast_to(np.asarray(sample_weight, np.float64)[:, None], p.shape)
    if label_weights is not None and not multi_label:
        w = w * np.asarray(label_weights)[None, :]
    if not multi_label:
        p, t, w = p.reshape(-1, 1), t.reshape(-1, 1), w.reshape(-1, 1)
    pos = t.astype(bool)
    n_t, n_lab = len(thr), p.shape[1]
    tp, fp = np.zeros((n_t, n_lab)), np.zeros((n_t, n_lab))
    if evenly:
        with_eps = thr[0] < 0 or thr[-1] > 1
        b = np.ceil(np.clip(p, 0, 1) * np.float32(n_t - 1)) - 1
        if with_eps:
            b = np.maximum(b, 0)
        b = b.astype(np.int64)
        tpb, fpb = np.zeros((n_t, n_lab)), np.zeros((n_t, n_lab))
        for j in range(n_lab):
            ok = b[:, j] >= 0
            np.add.at(tpb[:, j], b[ok, j], (pos[:, j] * w[:, j])[ok])
            np.add.at(fpb[:, j], b[ok, j], (~pos[:, j] * w[:, j])[ok])
        tp = np.flip(np.cumsum(np.flip(tpb, 0), 0), 0)
        fp = np.flip(np.cumsum(np.flip(fpb, 0), 0), 0)
    else:
        above = p[None, :, :] > thr[:, None, None]  # (T, N, L)
        tp = np.sum((above & pos[None]) * w[None], axis=1)
        fp = np.sum((above & ~pos[None]) * w[None], axis=1)
    tot_t = np.sum(pos * w, axis=0)
    tot_f = np.sum(~pos * w, axis=0)
    out = tp, fp, tot_f - fp, tot_t - tp
    return tuple(x if multi_label else x[:, 0] for x in out)


def _dnn(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)


def _keras_auc(tp, fp, tn, fn, curve, method, multi_label=False, label_weights=None):
    """keras/src/metrics/confusion_metrics.AUC.result (and interpolate_pr_auc), in float64."""
    def average(terms):
        if not multi_label:
            return np.sum(terms)
        per = np.sum(terms, axis=0)
        return np.mean(per) if label_weights is None else _dnn(np.sum(per * label_weights), np.sum(label_weights))

    if curve == "PR" and method == "interpolation":
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _dnn(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _dnn(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return average(_dnn(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))
    rec = _dnn(tp, tp + fn)
    x, y = (_dnn(fp, fp + tn), rec) if curve == "ROC" else (rec, _dnn(tp, tp + fp))
    h = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
         "majoring": np.maximum(y[:-1], y[1:])}[method]
    return average((x[:-1] - x[1:]) * h)


def _scores_with_edges(rng, shape):
    """Uniform scores, plus exact 0s, 1s and values that sit on thresholds (0.5, 0.25)."""
    s = rng.uniform(size=shape).astype(np.float32)
    flat = s.reshape(-1)
    flat[:: 7] = 0.0
    flat[3:: 11] = 1.0
    flat[5:: 13] = 0.5
    flat[6:: 17] = 0.25
    return s


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("thresholds", [None, [0.1, 0.25, 0.5, 0.8], [0.25, 0.5, 0.75]])
def test_auc_equals_keras_formula_exactly(curve, method, thresholds):
    rng = _rng(3)
    n = 301
    y = rng.integers(0, 2, n)
    s = _scores_with_edges(rng, n)
    w = rng.integers(0, 17, n) / 8.0  # dyadic weights: every partial sum exact in any order
    m = M.AUC(num_thresholds=50, curve=curve, summation_method=method, thresholds=thresholds)
    for sl in _batches(n, 64):
        m.update_state(y[sl], s[sl], sample_weight=w[sl])
    # [0.25, 0.5, 0.75] plus the end points is evenly spaced: Keras's bucket path
    evenly = thresholds is None or thresholds == [0.25, 0.5, 0.75]
    tp, fp, tn, fn = _keras_confusion(y, s, m.thresholds, evenly, sample_weight=w)
    for got, want in zip((m.true_positives, m.false_positives, m.true_negatives, m.false_negatives), (tp, fp, tn, fn)):
        np.testing.assert_allclose(got, want, **EXACT)
    np.testing.assert_allclose(m.result(), _keras_auc(tp, fp, tn, fn, curve, method), **EXACT)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_multi_label_and_label_weights_equal_keras_formula(curve):
    rng = _rng(4)
    n, lab = 120, 3
    y = rng.integers(0, 2, (n, lab))
    s = _scores_with_edges(rng, (n, lab))
    lw = np.array([0.5, 2.0, 1.0])
    m = M.AUC(num_thresholds=33, curve=curve, multi_label=True, label_weights=lw)
    for sl in _batches(n, 50):
        m.update_state(y[sl], s[sl])
    assert m.true_positives.shape == (33, lab)
    counts = _keras_confusion(y, s, m.thresholds, True, multi_label=True)
    np.testing.assert_allclose(m.result(), _keras_auc(*counts, curve, "interpolation", True, lw), **EXACT)
    flat = M.AUC(num_thresholds=33, curve=curve, label_weights=lw)  # weights per entry, flattened
    flat.update_state(y, s)
    counts = _keras_confusion(y, s, flat.thresholds, True, label_weights=lw)
    np.testing.assert_allclose(flat.result(), _keras_auc(*counts, curve, "interpolation"), **EXACT)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("thresholds", [None, [0.1, 0.3, 0.5, 0.8]])
def test_auc_every_curve_and_summation_with_and_without_multi_label(curve, method, multi_label, thresholds):
    rng = _rng(6)
    n, lab = 173, 4
    y = rng.integers(0, 2, (n, lab))
    y[:, 3] = 0  # a label without positives
    s = _scores_with_edges(rng, (n, lab))
    s[::19, 1], s[1::23, 2] = 1.25, -0.25  # outside [0, 1]: Keras clips them on the bucket path only
    w = rng.integers(0, 9, n) / 4.0  # dyadic weights and label weights: exact sums in any order
    lw = np.array([1.0, 0.5, 2.0, 1.5])
    m = M.AUC(num_thresholds=41, curve=curve, summation_method=method, thresholds=thresholds,
              multi_label=multi_label, num_labels=lab if multi_label else None, label_weights=lw)
    for sl in _batches(n, 60):
        m.update_state(y[sl], s[sl], sample_weight=w[sl])
    counts = _keras_confusion(y, s, m.thresholds, thresholds is None, sample_weight=w, multi_label=multi_label,
                              label_weights=lw)
    n_t = 41 if thresholds is None else len(thresholds) + 2
    assert m.true_positives.shape == ((n_t, lab) if multi_label else (n_t,))
    for got, want in zip((m.true_positives, m.false_positives, m.true_negatives, m.false_negatives), counts):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **EXACT)
    want = _keras_auc(*counts, curve, method, multi_label, lw if multi_label else None)
    np.testing.assert_allclose(m.result(), want, **EXACT)
    if multi_label:
        # the label-weighted mean of one single-label AUC per column
        per = []
        for j in range(lab):
            one = M.AUC(num_thresholds=41, curve=curve, summation_method=method, thresholds=thresholds)
            one.update_state(y[:, j], s[:, j], sample_weight=w)
            per.append(one.result())
        np.testing.assert_allclose(m.result(), np.sum(np.array(per) * lw) / lw.sum(), **FP64)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_from_logits_multi_label_is_auc_of_the_sigmoid(curve):
    rng = _rng(7)
    logits = (rng.normal(size=(64, 3)) * 3).astype(np.float32)
    y = rng.integers(0, 2, (64, 3))
    a = M.AUC(curve=curve, multi_label=True, from_logits=True)
    b = M.AUC(curve=curve, multi_label=True)
    a.update_state(y, logits)
    b.update_state(y, (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.float32))
    assert a.result() == b.result()
    assert 0.0 < a.result() < 1.0


def test_auc_pr_interpolation_worked_example():
    # 3 thresholds [-eps, 0.5, 1 + eps]: tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2]; over the
    # first interval P goes 4 -> 1 and TP 2 -> 1, slope 1/3, intercept 2/3: area
    # slope * (dTP + intercept * log(4 / 1)) / (TP + FN) = (1 + 2/3 * log 4) / 3 / 2; the second
    # interval (P from 1 to 0) adds slope 1 * dTP 1 / 2
    m = M.AUC(num_thresholds=3, curve="PR")
    m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_array_equal(m.true_positives, [2, 1, 0])
    np.testing.assert_array_equal(m.false_positives, [2, 0, 0])
    want = (1 + 2 / 3 * np.log(4.0)) / 3 / 2 + 0.5
    np.testing.assert_allclose(m.result(), want, **FP64)


@pytest.mark.parametrize("num_thresholds", [200, 2000, 20001])
def test_auc_approaches_sklearn_roc_auc(num_thresholds):
    rng = _rng(num_thresholds)
    n = 5000
    y = rng.integers(0, 2, n)
    s = (1 / (1 + np.exp(-(rng.normal(size=n) + 0.8 * y)))).astype(np.float32)  # no ties
    m = M.AUC(num_thresholds=num_thresholds)
    for sl in _batches(n, 512):
        m.update_state(y[sl], s[sl])
    tol = TOL["auc_bucketed"](y, s, m.thresholds)
    np.testing.assert_allclose(m.result(), skm.roc_auc_score(y, s), **tol)
    assert tol["atol"] < 2.0 / num_thresholds  # and the bound itself shrinks with the thresholds


def test_auc_keras_examples_from_logits_and_reset():
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    logits = np.array([-3.0, 0.2, -0.5, 2.0], np.float32)
    a, b = M.AUC(from_logits=True), M.AUC()
    a.update_state([0, 0, 1, 1], logits)
    b.update_state([0, 0, 1, 1], 1 / (1 + np.exp(-logits)))
    assert a.result() == b.result()
    assert M.AUC(num_thresholds=4).thresholds == pytest.approx([-1e-7, 1 / 3, 2 / 3, 1 + 1e-7])


def test_reset_state_between_epochs_gives_a_fresh_metric():
    rng = _rng(5)
    y, s = rng.integers(0, 2, 60), rng.uniform(size=60)
    for make in (lambda: M.AUC(), lambda: M.Precision(), lambda: M.Recall(thresholds=[0.2, 0.8]),
                 lambda: M.TruePositives(), lambda: M.SparseTopKCategoricalAccuracy(k=2)):
        used, fresh = make(), make()
        if isinstance(used, M.SparseTopKCategoricalAccuracy):
            args_a = (rng.integers(0, 4, 30), rng.uniform(size=(30, 4)))
            args_b = (rng.integers(0, 4, 30), rng.uniform(size=(30, 4)))
        else:
            args_a, args_b = (y[:30], s[:30]), (y[30:], s[30:])
        used.update_state(*args_a)
        used.reset_state()
        used.update_state(*args_b)
        fresh.update_state(*args_b)
        np.testing.assert_array_equal(used.result(), fresh.result())


# ---------------------------------------------------------------- precision, recall, counts
@pytest.mark.parametrize("shape", [(203,), (203, 1), (67, 3)])
def test_precision_recall_at_thresholds_match_sklearn(shape):
    rng = _rng(6)
    y = rng.integers(0, 2, shape)
    s = _scores_with_edges(rng, shape)
    w = rng.uniform(0, 2, shape[0])
    thresholds = [0.7, 0.0, 0.5, 0.25, 1.0]  # unsorted, ends included, ties on purpose
    prec, rec = M.Precision(thresholds=thresholds), M.Recall(thresholds=thresholds)
    kinds = (M.TruePositives, M.FalsePositives, M.TrueNegatives, M.FalseNegatives)
    counts = {c: c(thresholds=thresholds) for c in kinds}
    for sl in _batches(shape[0], 40):
        for m in (prec, rec, *counts.values()):
            m.update_state(y[sl], s[sl], sample_weight=w[sl])
    ww = np.broadcast_to(w.reshape(-1, *([1] * (len(shape) - 1))), shape).ravel()
    for i, t in enumerate(thresholds):
        pred = (s.ravel() > np.float32(t)).astype(int)
        want_p = skm.precision_score(y.ravel(), pred, sample_weight=ww, zero_division=0)
        want_r = skm.recall_score(y.ravel(), pred, sample_weight=ww, zero_division=0)
        np.testing.assert_allclose(prec.result()[i], want_p, **FP64)
        np.testing.assert_allclose(rec.result()[i], want_r, **FP64)
        (tn, fp), (fn, tp) = skm.confusion_matrix(y.ravel(), pred, labels=[0, 1], sample_weight=ww)
        for cls, want in ((M.TruePositives, tp), (M.FalsePositives, fp), (M.TrueNegatives, tn), (M.FalseNegatives, fn)):
            np.testing.assert_allclose(counts[cls].result()[i], want, **FP64)


def test_precision_recall_default_threshold_keras_examples():
    for cls in (M.Precision, M.Recall):
        m = cls()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        assert m.result() == pytest.approx(2 / 3)
        m.reset_state()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        assert m.result() == 1.0
    m = M.Precision()
    m.update_state([0, 0], [0.1, 0.2])  # nothing predicted positive: divide_no_nan gives 0
    assert m.result() == 0.0
    assert isinstance(M.Precision().result(), float)
    assert M.Precision(thresholds=[0.3, 0.6]).result().shape == (2,)


def test_precision_recall_top_k_and_class_id_against_torch():
    rng = _rng(7)
    n, c, k = 90, 6, 2
    y = (rng.uniform(size=(n, c)) < 0.3).astype(np.float32)  # multi-hot
    p = rng.uniform(size=(n, c)).astype(np.float32)
    top = torch.topk(torch.from_numpy(p), k, dim=-1).indices.numpy()
    mask = np.zeros((n, c), bool)
    np.put_along_axis(mask, top, True, axis=-1)
    tp = np.sum(mask & (y > 0))
    pk, rk = M.Precision(top_k=k), M.Recall(top_k=k)
    for sl in _batches(n, 25):
        pk.update_state(y[sl], p[sl])
        rk.update_state(y[sl], p[sl])
    assert pk.result() == pytest.approx(tp / mask.sum())
    assert rk.result() == pytest.approx(tp / y.sum())
    for cid in (0, 4):
        pc, rc = M.Precision(class_id=cid), M.Recall(class_id=cid)
        pc.update_state(y, p)
        rc.update_state(y, p)
        assert pc.result() == pytest.approx(skm.precision_score(y[:, cid], p[:, cid] > 0.5))
        assert rc.result() == pytest.approx(skm.recall_score(y[:, cid], p[:, cid] > 0.5))
    both = M.Precision(top_k=k, class_id=1, thresholds=0.3)  # class 1 counted where in the top k and > 0.3
    both.update_state(y, p)
    pred = mask[:, 1] & (p[:, 1] > 0.3)
    assert both.result() == pytest.approx(np.sum(pred & (y[:, 1] > 0)) / pred.sum())
    m = M.Precision(top_k=2)  # Keras's examples
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0


def test_confusion_metrics_bad_arguments():
    for bad in (1.5, -0.1, [0.2, None], "half"):
        with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
            M.Precision(thresholds=bad)
    with pytest.raises(ValueError, match="top_k must be a positive integer.*0"):
        M.Recall(top_k=0)
    with pytest.raises(ValueError, match="class_id must be a non-negative integer.*-1"):
        M.Precision(class_id=-1)
    with pytest.raises(ValueError, match=r"class_id=5 is out of range.*\(4, 3\)"):
        M.Precision(class_id=5).update_state(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"y_pred must have shape \(num_samples, num_classes\)"):
        M.Recall(class_id=0).update_state([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        M.TruePositives().update_state([0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\).*\(3,\)"):
        M.AUC().update_state([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=[1, 2])
    with pytest.raises(ValueError, match="num_thresholds.*> 1.*num_thresholds=1"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve value.*'XY'"):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match="Invalid AUC summation method.*'trapezoid'"):
        M.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_labels.*only when `multi_label` is True"):
        M.AUC(num_labels=3)
    with pytest.raises(ValueError, match="label_weights must be.*non-negative"):
        M.AUC(label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"rank 2 when `multi_label=True`.*\(4,\)"):
        M.AUC(multi_label=True).update_state([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    m = M.AUC(multi_label=True)
    m.update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="4 labels.*built for 3"):
        m.update_state(np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"label_weights has 2 values \(\[1.0, 2.0\]\) but there are 3 labels"):
        M.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_weights has 1 values.*4 labels"):
        M.AUC(multi_label=True, label_weights=[2.0]).update_state(np.zeros((2, 4)), np.zeros((2, 4)))


# -------------------------------------------------------------------- configs and lookup
@pytest.mark.parametrize("metric", [
    M.AUC(num_thresholds=77, curve="PR", summation_method="majoring", name="pr", from_logits=True),
    M.AUC(thresholds=[0.2, 0.4, 0.9], multi_label=True, num_labels=2, label_weights=[1.0, 3.0]),
    M.Precision(thresholds=[0.2, 0.6], class_id=2, name="p2"),
    M.Recall(top_k=3),
    M.TruePositives(thresholds=0.3),
    M.FalseNegatives(),
    M.TopKCategoricalAccuracy(k=3, name="top3"),
    M.SparseTopKCategoricalAccuracy(),
])
def test_config_round_trip(metric):
    cfg = json.loads(json.dumps(M.serialize(metric)))
    again = M.deserialize(cfg)
    assert type(again) is type(metric) and again.get_config() == metric.get_config()
    if isinstance(metric, M.AUC):
        assert again.thresholds == metric.thresholds


def test_get_keras_names():
    for s, cls, name in (("auc", M.AUC, "auc"), ("AUC", M.AUC, "auc"), ("precision", M.Precision, "precision"),
                         ("recall", M.Recall, "recall"), ("true_positives", M.TruePositives, "true_positives"),
                         ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
                         ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy,
                          "sparse_top_k_categorical_accuracy")):
        m = M.get(s)
        assert type(m) is cls and m.name == name
    assert type(M.get(M.top_k_categorical_accuracy)) is M.TopKCategoricalAccuracy
    assert M.get("top_k_categorical_accuracy").k == 5


# ---------------------------------------------------------------------- through compile/fit
@pytest.fixture
def _session():
    clear_session()
    yield


def test_compile_fit_history_keys_and_values(_session):
    rng = _rng(8)
    x = rng.normal(size=(240, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.normal(size=240) > 0).astype(np.float32)[:, None]
    fastnn.utils.set_random_seed(0)
    model = Sequential([L.Input((5,)), L.Dense(8, activation="relu"), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["auc", "precision", "recall", M.AUC(curve="PR", name="pr_auc"), "mae"])
    hist = model.fit(x[:180], y[:180], epochs=2, batch_size=32, validation_data=(x[180:], y[180:]), verbose=0)
    keys = {"loss", "auc", "precision", "recall", "pr_auc", "mae"}
    assert set(hist.history) == keys | {"val_" + k for k in keys}
    assert all(len(v) == 2 for v in hist.history.values())
    # validation metrics are computed at the epoch's final weights: the same as on predict()
    p = model.predict(x[180:], verbose=0)
    for key, m in (("val_auc", M.AUC()), ("val_precision", M.Precision()), ("val_recall", M.Recall()),
                   ("val_pr_auc", M.AUC(curve="PR"))):
        m.update_state(y[180:], p)
        assert hist.history[key][-1] == pytest.approx(m.result(), abs=1e-12)
    ev = model.evaluate(x[180:], y[180:], batch_size=7, verbose=0, return_dict=True)  # uneven batches
    assert ev["auc"] == pytest.approx(hist.history["val_auc"][-1], abs=1e-12)


def test_compile_top_k_categorical(_session):
    rng = _rng(9)
    x = rng.normal(size=(150, 6)).astype(np.float32)
    labels = rng.integers(0, 10, 150)
    fastnn.utils.set_random_seed(1)
    model = Sequential([L.Input((6,)), L.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=["top_k_categorical_accuracy", M.TopKCategoricalAccuracy(k=2, name="top2")])
    onehot = np.eye(10, dtype=np.float32)[labels]
    ev = model.evaluate(x, onehot, batch_size=40, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    assert ev["top_k_categorical_accuracy"] == pytest.approx(M.top_k_categorical_accuracy(onehot, p).mean())
    assert ev["top2"] == pytest.approx(M.top_k_categorical_accuracy(onehot, p, k=2).mean())
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy"])
    ev = model.evaluate(x, labels, batch_size=40, verbose=0, return_dict=True)
    assert ev["sparse_top_k_categorical_accuracy"] == pytest.approx(
        M.sparse_top_k_categorical_accuracy(labels, p).mean())


# --------------------------------------------------- scikit-learn-compatible functions
def _run(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, sorted({"undefined" if "UndefinedMetric" in type(w.message).__name__ else type(w.message).__name__
                        for w in caught.__iter__() if issubclass(w.category, UserWarning)})


def _same_as_sklearn(name, *args, **kwargs):
    """fastnn.metrics.<name> and sklearn.metrics.<name> give equal results (NaN where NaN) and warn
    alike (an UndefinedMetricWarning where scikit-learn gives one)."""
    got, got_w = _run(getattr(M, name), *args, **kwargs)
    want, want_w = _run(getattr(skm, name), *args, **kwargs)
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert np.shape(g) == np.shape(w), f"{name}: shape {np.shape(g)} != sklearn {np.shape(w)}"
            np.testing.assert_allclose(g, w, equal_nan=True, err_msg=name, **EXACT)
    else:
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=name, **EXACT)
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != sklearn {want.dtype}"
    assert got_w == want_w, f"{name}: warnings {got_w} != sklearn {want_w}"
    return got


def _cases():
    rng = _rng(10)
    n = 157
    y = rng.integers(0, 2, n)
    s = rng.uniform(size=n)
    w = rng.uniform(0, 3, n)
    w[::9] = 0.0  # zero weights drop out of the curves
    edge = s.copy()
    edge[::5], edge[1::7] = 0.0, 1.0  # scores of exactly 0 and 1
    return {
        "random": (y, s, None),
        "ties": (y, np.round(s, 1), None),
        "weighted": (y, np.round(s, 2), w),
        "edges": (y, edge, w),
        "all_positive": (np.ones(n, int), s, None),
        "all_negative": (np.zeros(n, int), np.round(s, 1), w),
        "tiny": (np.array([0, 1]), np.array([0.0, 1.0]), None),
    }


CASES = _cases()


@pytest.mark.parametrize("case", CASES)
def test_curves_match_sklearn(case):
    y, s, w = CASES[case]
    for drop in (False, True):
        _same_as_sklearn("roc_curve", y, s, sample_weight=w, drop_intermediate=drop)
        _same_as_sklearn("precision_recall_curve", y, s, sample_weight=w, drop_intermediate=drop)
    _same_as_sklearn("average_precision_score", y, s, sample_weight=w)
    _same_as_sklearn("roc_auc_score", y, s, sample_weight=w)
    if len(np.unique(y)) == 2:
        _same_as_sklearn("roc_auc_score", y, s, sample_weight=w, max_fpr=0.3)
    # labels {-1, 1}, and string labels with pos_label
    _same_as_sklearn("roc_curve", 2 * y - 1, s, sample_weight=w)
    names = np.where(y == 1, "spam", "ham")
    _same_as_sklearn("precision_recall_curve", names, s, pos_label="spam", sample_weight=w)
    _same_as_sklearn("roc_curve", names, s, pos_label="ham")


def test_curve_arguments_and_errors_like_sklearn():
    y, s = CASES["random"][:2]
    p1, r1, t1 = M.precision_recall_curve(y, s)
    p2, r2, t2 = M.precision_recall_curve(y, y_score=s)  # scikit-learn >= 1.5 spelling
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(M.precision_recall_curve(y, probas_pred=s)[2], t1)
    with pytest.raises(TypeError, match="exactly once"):
        M.precision_recall_curve(y, s, y_score=s)
    with pytest.raises(ValueError, match=r"y_true takes value in \{'ham', 'spam'\} and pos_label is not specified"):
        M.roc_curve(np.where(y == 1, "spam", "ham"), s)
    with pytest.raises(ValueError, match="multiclass format is not supported"):
        M.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN or infinity"):
        M.precision_recall_curve([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        M.average_precision_score([0, 1, 1], [0.1, 0.2, 0.3], pos_label=2)
    with pytest.raises(ValueError, match="2 values but y_score has 3"):
        M.roc_curve([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        M.auc([0, 1, 0.5], [0, 1, 1])
    _same_as_sklearn("auc", [1.0, 0.5, 0.0], [1.0, 0.8, 0.0])  # decreasing x
    with pytest.raises(ValueError, match=r"max_fpr in range \(0, 1\]"):
        M.roc_auc_score(y, s, max_fpr=1.5)


@pytest.mark.parametrize("case", ["random", "weighted", "all_positive", "all_negative", "tiny"])
@pytest.mark.parametrize("fn", ["precision_score", "recall_score", "f1_score"])
def test_binary_scores_match_sklearn(case, fn):
    y, s, w = CASES[case]
    for pred in ((s > 0.5).astype(int), np.zeros_like(y), np.ones_like(y)):
        _same_as_sklearn(fn, y, pred, sample_weight=w)
        for zd in (0.0, 1.0, np.nan):
            _same_as_sklearn(fn, y, pred, sample_weight=w, zero_division=zd)
        _same_as_sklearn(fn, y, pred, pos_label=0, sample_weight=w)
    _same_as_sklearn("fbeta_score", y, (s > 0.3).astype(int), beta=2.0, sample_weight=w)
    _same_as_sklearn("fbeta_score", y, (s > 0.3).astype(int), beta=0.5)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_multiclass_scores_match_sklearn(average):
    rng = _rng(11)
    y = rng.integers(0, 4, 90)
    p = np.where(rng.uniform(size=90) < 0.6, y, rng.integers(0, 5, 90))  # class 4 never true
    w = rng.uniform(size=90)
    for fn in ("precision_score", "recall_score", "f1_score"):
        _same_as_sklearn(fn, y, p, average=average)
        _same_as_sklearn(fn, y, p, average=average, sample_weight=w, zero_division=np.nan)
        _same_as_sklearn(fn, y, p, average=average, labels=[3, 1, 7])
    _same_as_sklearn("fbeta_score", y, p, beta=3.0, average=average)


def test_score_errors_like_sklearn():
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        M.precision_score([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        M.recall_score(["a", "b"], ["a", "a"])
    with pytest.raises(ValueError, match="average has to be one of"):
        M.f1_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division must be"):
        M.f1_score([0, 1], [0, 1], zero_division=2)
    with pytest.raises(ValueError, match="can't handle a mix of binary and continuous"):
        M.accuracy_score([0, 1], [0.2, 0.7])
    _same_as_sklearn("precision_score", ["a", "b", "b"], ["a", "b", "a"], pos_label="b")


def test_accuracy_and_confusion_matrix_match_sklearn():
    rng = _rng(12)
    y = rng.integers(0, 4, 60)
    p = rng.integers(0, 4, 60)
    wf = rng.uniform(size=60)
    wi = rng.integers(0, 3, 60)
    for kw in ({}, {"sample_weight": wf}, {"sample_weight": wi}, {"normalize": False},
               {"normalize": False, "sample_weight": wf}):
        _same_as_sklearn("accuracy_score", y, p, **kw)
    multi_t, multi_p = rng.integers(0, 2, (30, 3)), rng.integers(0, 2, (30, 3))
    _same_as_sklearn("accuracy_score", multi_t, multi_p)
    _same_as_sklearn("accuracy_score", y[:, None], p)  # (N, 1) labels
    for kw in ({}, {"sample_weight": wf}, {"sample_weight": wi}, {"sample_weight": wi.astype(float)},
               {"labels": [3, 1]}, {"labels": [2, 0, 9]}, {"normalize": "true"}, {"normalize": "pred"},
               {"normalize": "all", "sample_weight": wf}, {"labels": [0, 1, 2, 3, 4], "normalize": "true"}):
        _same_as_sklearn("confusion_matrix", y, p, **kw)
    _same_as_sklearn("confusion_matrix", np.zeros(5, int), np.zeros(5, int))  # one label: warns
    _same_as_sklearn("confusion_matrix", ["cat", "dog", "dog"], ["dog", "dog", "cat"])
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        M.confusion_matrix(y, p, labels=[7, 8])
    with pytest.raises(ValueError, match="should contain at least one label"):
        M.confusion_matrix(y, p, labels=[])
    with pytest.raises(ValueError, match="normalize must be one of.*'rows'"):
        M.confusion_matrix(y, p, normalize="rows")
    with pytest.raises(ValueError, match="sample_weight has 3 values but there are 60"):
        M.confusion_matrix(y, p, sample_weight=[1, 2, 3])
