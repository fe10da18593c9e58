"""fastnn.sklearn: scikit-learn's estimator checks, agreement with sklearn's own MLP (same
initial weights and shuffles, so the same loss curve up to float32 rounding), and the
estimator behaviours (partial_fit, warm_start, early_stopping, pickling, the perceptron rule)."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
threadpoolctl = pytest.importorskip("threadpoolctl")

import fastnn  # noqa: E402
from fastnn.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402
from oracle import TOL, assert_close  # noqa: E402
from sklearn import neural_network as sknn  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

_SW_REASON = ("mini-batch training: a sample of weight 2 is one row of one batch, not two rows that may fall in "
              "different batches, so the fit differs from repeating it (sklearn's own MLP passes this check only "
              "with solver='lbfgs' or a loose tol)")


def _expected_failed(est):
    if isinstance(est, (MLPClassifier, MLPRegressor)):
        return {"check_sample_weight_equivalence_on_dense_data": _SW_REASON,
                "check_sample_weight_equivalence_on_sparse_data": _SW_REASON}
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100), Perceptron()],
                         expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _fit_quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("kw", [
    dict(solver="adam", activation="relu"),
    dict(solver="adam", activation="logistic", alpha=0.01),
    dict(solver="sgd", activation="tanh", learning_rate_init=0.05),
    dict(solver="sgd", activation="relu", learning_rate="invscaling", learning_rate_init=0.2, nesterovs_momentum=False),
    dict(solver="sgd", activation="identity", momentum=0.0, learning_rate_init=0.05),
])
def test_loss_curve_matches_sklearn(digits, kw):
    """The same random_state gives sklearn's initial weights and batch order, so the loss curves
    (which include the L2 term) agree to float32 rounding."""
    X, y = digits[0][:600], digits[1][:600]
    common = dict(hidden_layer_sizes=(32, 16), max_iter=5, batch_size=64, random_state=3, **kw)
    ours = _fit_quiet(MLPClassifier(**common), X, y)
    ref = _fit_quiet(sknn.MLPClassifier(**common), X, y)
    assert ours.n_iter_ == ref.n_iter_ == 5 and ours.t_ == ref.t_
    assert_close(np.array(ours.loss_curve_), np.array(ref.loss_curve_), "sklearn.MLPClassifier.loss_curve_",
                 **TOL["sklearn_trajectory"])
    for a, b in zip(ours.coefs_, ref.coefs_):
        assert a.shape == b.shape and a.dtype == np.float32


def test_regressor_loss_curve_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    common = dict(hidden_layer_sizes=(20,), max_iter=5, learning_rate_init=0.01, random_state=0)
    ours = _fit_quiet(MLPRegressor(**common), X, y)
    ref = _fit_quiet(sknn.MLPRegressor(**common), X, y)
    assert_close(np.array(ours.loss_curve_), np.array(ref.loss_curve_), "sklearn.MLPRegressor.loss_curve_",
                 **TOL["sklearn_trajectory"])


@pytest.mark.slow
def test_digits_accuracy_within_one_point_of_sklearn(digits):
    X, y = digits
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    kw = dict(hidden_layer_sizes=(256,), max_iter=200, random_state=0)
    fastnn.set_num_threads(1)
    ours = _fit_quiet(MLPClassifier(**kw), Xtr, ytr).score(Xte, yte)
    # one BLAS thread: on a busy machine OpenBLAS's spinning workers make this fit many times slower
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        ref = _fit_quiet(sknn.MLPClassifier(**kw), Xtr, ytr).score(Xte, yte)
    assert ours > 0.95
    assert abs(ours - ref) <= 0.01, (ours, ref)


def test_attributes_and_output_activations(digits):
    X, y = digits[0][:300], digits[1][:300]
    clf = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=3, random_state=0), X, y)
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 10 and clf.n_layers_ == 4
    assert [W.shape for W in clf.coefs_] == [(64, 16), (16, 8), (8, 10)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (10,)]
    assert clf.n_features_in_ == 64 and clf.n_iter_ == 3 and clf.t_ == 900 and len(clf.loss_curve_) == 3
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])

    Ym = np.stack([y % 2, (y > 4).astype(int), (y == 0).astype(int)], axis=1)
    ml = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0), X, Ym)
    assert ml.out_activation_ == "logistic" and ml.n_outputs_ == 3
    assert ml.predict(X).shape == (300, 3) and set(np.unique(ml.predict(X))) <= {0, 1}

    reg = _fit_quiet(MLPRegressor(hidden_layer_sizes=(8,), max_iter=3), X, y.astype(float))
    assert reg.out_activation_ == "identity" and reg.predict(X).shape == (300,)


def test_binary_predict_proba_two_columns():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    labels = np.array(["no", "yes"])[y]
    clf = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, random_state=0),
                    X, labels)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1 and clf.coefs_[-1].shape == (16, 1)
    P = clf.predict_proba(X)
    assert P.shape == (200, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), np.where(P[:, 1] > 0.5, "yes", "no"))
    assert clf.score(X, labels) > 0.85


def test_convergence_warning_when_max_iter_is_reached(digits):
    X, y = digits[0][:200], digits[1][:200]
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\)"):
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X, y)


def test_stops_when_training_loss_stalls(digits):
    X, y = digits[0][:200], digits[1][:200]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=500, tol=10.0, n_iter_no_change=3).fit(X, y)
    # the first epoch improves on inf; after it, none improves by tol = 10, and training stops once
    # more than n_iter_no_change epochs in a row have not (sklearn's rule)
    assert clf.n_iter_ == 5


def test_partial_fit(digits):
    X, y = digits[0][:400], digits[1][:400]
    clf = MLPClassifier(hidden_layer_sizes=(32,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:200], y[:200], classes=np.arange(10))
    first = clf.loss_
    for _ in range(10):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == 200 + 10 * 400 and len(clf.loss_curve_) == 11
    assert clf.loss_ < first
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 11]))
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    reg.partial_fit(X, y.astype(float)).partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 2
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.arange(10))


def test_warm_start_continues_from_the_fitted_weights(digits):
    X, y = digits[0][:300], digits[1][:300]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0, warm_start=True)
    _fit_quiet(clf, X, y)
    W = [c.copy() for c in clf.coefs_]
    curve = list(clf.loss_curve_)
    _fit_quiet(clf, X, y)
    assert len(clf.loss_curve_) == 6 and clf.loss_curve_[:3] == curve
    assert clf.loss_curve_[3] < curve[0]  # not restarted from random weights
    assert not np.array_equal(W[0], clf.coefs_[0])
    cold = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0), X, y)
    np.testing.assert_array_equal(cold.coefs_[0], W[0])
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 5], y[y < 5])


def test_early_stopping(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, validation_fraction=0.2, max_iter=300,
                        n_iter_no_change=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ < 300 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    assert clf.best_loss_ is None
    # the best epoch's weights are the ones kept
    assert all(a is b for a, b in zip(clf.coefs_, clf._best_coefs))
    # same split and trajectory as sklearn's (same random_state), up to float32 rounding
    ref = sknn.MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, validation_fraction=0.2, max_iter=300,
                             n_iter_no_change=5, random_state=0).fit(X, y)
    assert abs(clf.best_validation_score_ - ref.best_validation_score_) <= 0.02
    assert abs(clf.n_iter_ - ref.n_iter_) <= 10
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:20], y[:20])


def _walk(obj, seen=None):
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v, seen)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk(v, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from _walk(vars(obj), seen)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_pickle_round_trip(digits, solver):
    X, y = digits[0][:300], digits[1][:300]
    clf = _fit_quiet(MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, solver=solver, random_state=0), X, y)
    state = clf.__getstate__()
    for v in _walk(state):
        mod = type(v).__module__ or ""
        assert not (mod.startswith("fastnn") and mod != "fastnn.sklearn._engine"), type(v)
        assert not type(v).__module__.startswith("fastnn._C")
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    assert clone.get_params() == clf.get_params()
    # the optimizer state travels too: partial_fit continues identically on both
    clf.partial_fit(X, y)
    clone.partial_fit(X, y)
    np.testing.assert_array_equal(clone.coefs_[0], clf.coefs_[0])


def test_regression_r2_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(StandardScaler().fit_transform(X), y, test_size=0.25, random_state=0)
    kw = dict(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=300, random_state=0)
    ours = _fit_quiet(MLPRegressor(**kw), Xtr, ytr).score(Xte, yte)
    ref = _fit_quiet(sknn.MLPRegressor(**kw), Xtr, ytr).score(Xte, yte)
    assert ours > 0.25 and abs(ours - ref) < 0.02, (ours, ref)  # this split is a hard one: linear R^2 ~0.36
    Y2 = np.stack([ytr, -ytr], axis=1)
    multi = _fit_quiet(MLPRegressor(**kw), Xtr, Y2)
    assert multi.predict(Xte).shape == (len(Xte), 2) and multi.n_outputs_ == 2


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    reg = _fit_quiet(MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=100, random_state=0), X, y)
    assert reg.out_activation_ == "exp" and (reg.predict(X) > 0).all()
    ref = _fit_quiet(sknn.MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=100, random_state=0), X, y)
    assert_close(np.array(reg.loss_curve_[:5]), np.array(ref.loss_curve_[:5]), "sklearn.MLPRegressor.poisson",
                 **TOL["sklearn_trajectory"])
    with pytest.raises(ValueError, match="y >= 0"):
        MLPRegressor(loss="poisson").fit(X, -np.ones(300))


def test_bad_parameters_are_clear_errors(digits):
    X, y = digits[0][:50], digits[1][:50]
    with pytest.raises(ValueError, match=r"solver='lbfgs' is not supported.*\['adam', 'sgd'\]"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs' is not supported"):
        MLPRegressor(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="activation.*'softmax'"):
        MLPClassifier(activation="softmax").fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be > 0, got \(10, 0\)"):
        MLPClassifier(hidden_layer_sizes=(10, 0)).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate_init.*-1"):
        MLPClassifier(learning_rate_init=-1).fit(X, y)
    with pytest.raises(ValueError, match="batch_size.*'big'"):
        MLPClassifier(batch_size="big").fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        MLPClassifier(validation_fraction=1.0).fit(X, y)
    with pytest.raises(ValueError, match="eta0"):
        Perceptron(eta0=0).fit(X, y)


def test_fastnn_imports_without_sklearn():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import fastnn\n"
            "try:\n    import fastnn.sklearn\nexcept ImportError as e:\n    print('ImportError:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ImportError: fastnn.sklearn needs scikit-learn" in out


@pytest.mark.parametrize("name,y", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])])
def test_perceptron_learns_and_or(name, y):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        p = Perceptron(tol=None).fit(X, y)
    np.testing.assert_array_equal(p.predict(X), y)
    assert p.n_iter_ < 20 and p.coef_.shape == (1, 2) and p.intercept_.shape == (1,)
    # the last epoch makes no mistake: the step activation reproduces every target
    np.testing.assert_array_equal((X @ p.coef_.ravel() + p.intercept_[0] >= 0).astype(int), y)
    np.testing.assert_array_equal(p.decision_function(X) >= 0, np.array(y) == 1)


def test_perceptron_rule_by_hand():
    """Without shuffling, one epoch over AND from w = 0 is the course notes' table."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    p = Perceptron(shuffle=False, eta0=0.5).partial_fit(X, [0, 0, 0, 1], classes=[0, 1])
    # (0,0): f=0 -> 1, wrong: w=0, b=-0.5; (0,1): f=-.5 -> 0 ok; (1,0) ok; (1,1): f=-.5 -> 0 wrong: w=(.5,.5), b=0
    np.testing.assert_array_equal(p.coef_, [[0.5, 0.5]])
    np.testing.assert_array_equal(p.intercept_, [0.0])
    assert p.n_iter_ == 1


def test_perceptron_multiclass_and_xor():
    X, y = make_classification(n_samples=300, n_features=5, n_informative=4, n_redundant=0, n_classes=3,
                               class_sep=3.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p = Perceptron(random_state=0).fit(X, y)
    assert p.coef_.shape == (3, 5) and p.decision_function(X).shape == (300, 3)
    assert p.score(X, y) > 0.85
    Xx = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    with pytest.warns(ConvergenceWarning):
        Perceptron(tol=None, max_iter=20).fit(Xx, [0, 1, 1, 0])
    with pytest.raises(ValueError, match="2 classes"):
        Perceptron().fit(Xx, [1, 1, 1, 1])
