"""fastnn.metrics.roc_auc_score against scikit-learn's on random data: binary labels (with
max_fpr), multiclass probabilities one-vs-rest and one-vs-one under every average, sample
weights, a labels= superset of y_true's classes, multilabel indicators; scores with ties; and
the errors scikit-learn raises, with their substance in the message."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from fastnn import metrics as M
from oracle import TOL

EXACT = TOL["exact"]


def _rng(seed):
    return np.random.default_rng(seed)


def _run(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    kinds = sorted({"undefined" if "UndefinedMetric" in w.category.__name__ else w.category.__name__
                    for w in caught if issubclass(w.category, UserWarning)})
    return out, kinds


def _same(*args, **kwargs):
    """fastnn's and scikit-learn's roc_auc_score give the same value (NaN where NaN; one value
    per label for average=None) and the same kinds of warning."""
    got, got_w = _run(M.roc_auc_score, *args, **kwargs)
    want, want_w = _run(skm.roc_auc_score, *args, **kwargs)
    assert np.shape(got) == np.shape(want), f"shape {np.shape(got)} != scikit-learn's {np.shape(want)}"
    np.testing.assert_allclose(got, want, equal_nan=True, **EXACT)
    assert got_w == want_w, f"warnings {got_w} != scikit-learn's {want_w}"
    return got


def _both_raise(exc, match, *args, **kwargs):
    """fastnn raises exc with match in its message; scikit-learn raises the same kind of error."""
    with pytest.raises(exc, match=match):
        M.roc_auc_score(*args, **kwargs)
    with pytest.raises(exc):
        skm.roc_auc_score(*args, **kwargs)


def _tied_probs(rng, n, k):
    """Rows of class probabilities built from small integers: many exactly equal scores per
    column, rows that sum to 1 within rounding."""
    counts = rng.integers(0, 4, (n, k)).astype(np.float64)
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    return counts / counts.sum(axis=1, keepdims=True)


def _labels_covering(rng, n, k):
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    return y


# ------------------------------------------------------------------------------ binary
@pytest.mark.parametrize("scores", ["distinct", "ties"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_matches_sklearn(scores, weighted):
    rng = _rng(1)
    n = 211
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + 0.7 * y
    if scores == "ties":
        s = np.round(s, 0)
    w = None
    if weighted:
        w = rng.uniform(0, 2, n)
        w[::7] = 0.0  # zero weights drop out of the curve
    for max_fpr in (None, 0.05, 0.3, 0.77, 1.0):
        _same(y, s, sample_weight=w, max_fpr=max_fpr)
    _same(2 * y - 1, s, sample_weight=w)  # labels {-1, 1}
    _same(np.where(y == 1, "spam", "ham"), s, sample_weight=w, max_fpr=0.5)  # the larger string is positive
    _same(y[:, None], s[:, None], sample_weight=w)  # columns
    _same(y, s.astype(np.float32), average="weighted", multi_class="ovo")  # both ignored for binary labels


def test_binary_predict_proba_columns_and_one_class():
    rng = _rng(2)
    y = rng.integers(0, 2, 50)
    p1 = rng.uniform(size=50)
    # (N, 2) predict_proba output: its positive column, as scikit-learn gives for p1
    assert M.roc_auc_score(y, np.stack([1 - p1, p1], 1)) == skm.roc_auc_score(y, p1)
    _same(np.ones(50, int), p1)  # one class: NaN, UndefinedMetricWarning
    _same(np.zeros(50, int), p1, max_fpr=0.2)
    # a class present only in zero-weight samples: scikit-learn's roc_curve warns, the AUC is NaN
    w = np.where(y == 1, 0.0, 1.0)
    _same(y, p1, sample_weight=w)


# -------------------------------------------------------------------------- multiclass
@pytest.mark.parametrize("k", [3, 4, 5, 6])
@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("ties", [False, True])
def test_multiclass_every_average_matches_sklearn(k, multi_class, ties):
    rng = _rng(10 + k)
    n = 97 + 13 * k
    y = _labels_covering(rng, n, k)
    p = _tied_probs(rng, n, k) if ties else rng.dirichlet(np.ones(k), n)
    p[np.arange(n), y] += 0.3  # informative scores: AUCs well away from 0.5
    p /= p.sum(axis=1, keepdims=True)
    averages = ["macro", "weighted"] + (["micro", None] if multi_class == "ovr" else [])
    w = rng.uniform(0, 3, n)
    w[::11] = 0.0
    for average in averages:
        got = _same(y, p, multi_class=multi_class, average=average)
        assert np.all((np.asarray(got) > 0.5) & (np.asarray(got) <= 1.0))
        if multi_class == "ovr":
            _same(y, p, multi_class=multi_class, average=average, sample_weight=w)
    # string class names, sorted order gives the columns
    names = np.array(["ant", "bee", "cat", "dog", "eel", "fox"])[:k][y]
    _same(names, p, multi_class=multi_class)


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_multiclass_labels_superset_of_y_true(multi_class):
    rng = _rng(20)
    n, k = 120, 5
    y = _labels_covering(rng, n, 3) * 2  # classes 0, 2, 4 of the labels 0..4
    p = rng.dirichlet(np.ones(k), n)
    labels = [0, 1, 2, 3, 4]
    averages = ["macro", "weighted"] + (["micro", None] if multi_class == "ovr" else [])
    for average in averages:
        # ovr: the absent classes' AUCs are NaN with a warning (macro NaN, weighted ignores them)
        _same(y, p, multi_class=multi_class, average=average, labels=labels)
    # two classes in y_true but three probability columns: still the multiclass path
    yb = _labels_covering(rng, n, 2)
    p3 = rng.dirichlet(np.ones(3), n)
    _same(yb, p3, multi_class=multi_class, labels=[0, 1, 2])
    _same(np.array(["b", "c"])[yb], p3, multi_class=multi_class, labels=["a", "b", "c"])


def test_multiclass_one_class_in_y_true_is_undefined():
    rng = _rng(21)
    p = rng.dirichlet(np.ones(3), 20)
    y = np.ones(20, int)
    _same(y, p, multi_class="ovr", labels=[0, 1, 2])  # every class's AUC NaN with a warning
    for average in ("macro", "weighted"):
        with pytest.warns(M.UndefinedMetricWarning, match="Only one class is present"):
            assert np.isnan(M.roc_auc_score(y, p, multi_class="ovo", labels=[0, 1, 2], average=average))


# -------------------------------------------------------------------------- multilabel
@pytest.mark.parametrize("n_labels", [2, 3, 5])
@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "samples", None])
def test_multilabel_indicators_match_sklearn(n_labels, average):
    rng = _rng(30 + n_labels)
    n = 83
    y = rng.integers(0, 2, (n, n_labels))
    y[:2] = [[0] * n_labels, [1] * n_labels]  # every label has both values
    s = np.round(rng.uniform(size=(n, n_labels)) + 0.4 * y, 1)  # ties
    w = rng.uniform(0, 2, n)
    w[::5] = 0.0
    for kw in ({}, {"sample_weight": w}, {"max_fpr": 0.4}, {"sample_weight": w, "max_fpr": 0.25}):
        _same(y, s, average=average, **kw)
    _same(2 * y - 1, s, average=average)  # -1/1 indicators
    _same(y.astype(bool), s, average=average)
    if average != "samples":
        y_gap = y.copy()
        y_gap[:, 0] = 0  # a label without positives: its AUC is NaN with a warning
        _same(y_gap, s, average=average, sample_weight=w)


def test_multilabel_samples_average_with_one_class_rows():
    rng = _rng(40)
    y = rng.integers(0, 2, (30, 4))
    y[3] = 1  # a row with one class only: NaN for that row, so for the unweighted samples average
    s = rng.uniform(size=(30, 4))
    _same(y, s, average="samples")
    w = np.ones(30)
    w[3] = 0.0  # with weight 0 the NaN row no longer counts
    _same(y, s, average="samples", sample_weight=w)


def test_weighted_average_without_support_is_zero():
    y = np.zeros((6, 3), int)
    s = np.linspace(0, 1, 18).reshape(6, 3)
    _same(y, s, average="weighted")


# ------------------------------------------------------------------------------ errors
def test_errors_like_sklearn():
    rng = _rng(50)
    n = 40
    y = _labels_covering(rng, n, 3)
    p = rng.dirichlet(np.ones(3), n)
    _both_raise(ValueError, r"multi_class must be in \('ovo', 'ovr'\).*3 classes", y, p)
    _both_raise(ValueError, "need to be probabilities.*sum up to 1.0", y, p * 1.5, multi_class="ovr")
    _both_raise(ValueError, r"average must be one of \('macro', 'weighted', None\).*'micro'", y, p,
                multi_class="ovo", average="micro")
    _both_raise(ValueError, r"average must be one of \('micro', 'macro', 'weighted', None\).*'samples'", y, p,
                multi_class="ovr", average="samples")
    _both_raise(NotImplementedError, "average=None is not implemented for multi_class='ovo'", y, p,
                multi_class="ovo", average=None)
    _both_raise(ValueError, "sample_weight is not supported for multiclass one-vs-one", y, p,
                multi_class="ovo", sample_weight=np.ones(n))
    _both_raise(ValueError, "Partial AUC computation not available in multiclass setting.*0.5", y, p,
                multi_class="ovr", max_fpr=0.5)
    _both_raise(ValueError, r"y_score` needs to be of shape `\(n_samples, n_classes\)`.*\(40,\)", y, p[:, 0],
                multi_class="ovr")
    _both_raise(ValueError, r"Number of classes in y_true not equal to the number of columns.*\(40, 4\)", y,
                np.c_[p, np.zeros(n)], multi_class="ovr")
    _both_raise(ValueError, r"'labels' must be unique.*\[0, 1, 1\]", y, p, multi_class="ovr", labels=[0, 1, 1])
    _both_raise(ValueError, r"'labels' must be ordered.*\[0, 2, 1\]", y, p, multi_class="ovr", labels=[0, 2, 1])
    _both_raise(ValueError, "Number of given labels, 4, not equal to the number of columns in 'y_score', 3", y, p,
                multi_class="ovo", labels=[0, 1, 2, 3])
    _both_raise(ValueError, r"'y_true' contains labels not in parameter 'labels': \[2\]", y,
                rng.dirichlet(np.ones(3), n), multi_class="ovr", labels=[0, 1, 5])
    yb = rng.integers(0, 2, n)
    for bad in (0, 1.5, -0.2, "half"):
        _both_raise(ValueError, r"max_fpr in range \(0, 1\]", yb, p[:, 0], max_fpr=bad)
    _both_raise(ValueError, "average must be one of.*'mean'", yb, p[:, 0], average="mean")
    _both_raise(ValueError, "multi_class must be one of.*'ovx'", y, p, multi_class="ovx")
    _both_raise(ValueError, "continuous format is not supported", p[:, 0], p[:, 1])
    _both_raise(ValueError, "NaN or infinity", yb, np.r_[np.nan, p[1:, 0]])
    _both_raise(ValueError, "sample_weight has 3 values but there are 40", yb, p[:, 0], sample_weight=[1, 2, 3])
    _both_raise(ValueError, r"y_score of shape \(39,\) does not match y_true of shape \(40,\)", yb, p[1:, 0])
    _both_raise(ValueError, "multiclass-multioutput format is not supported", rng.integers(0, 3, (n, 2)), p[:, :2])
    # a multilabel y_score with another number of columns than y_true: scikit-learn fails on an
    # index; fastnn says which shapes differ
    with pytest.raises(ValueError, match=r"y_true has shape \(40, 3\) but y_score has shape \(40, 2\)"):
        M.roc_auc_score(rng.integers(0, 2, (n, 3)), p[:, :2])
    with pytest.raises(TypeError, match="y_score must be numeric"):
        M.roc_auc_score(yb, np.array(["a"] * n))
