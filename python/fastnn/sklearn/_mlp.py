"""MLPClassifier and MLPRegressor: scikit-learn's estimators (same signature, defaults, fitted
attributes and stopping rule, sklearn/neural_network/_multilayer_perceptron.py) trained on
fastnn's kernels in float32 (fastnn.sklearn._engine)."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from . import _engine
from ._validation import validate_data

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("adam", "sgd")


def _dense_f32(X) -> np.ndarray:
    if hasattr(X, "toarray"):  # scipy sparse: the kernels are dense
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float32)


def _check_real(name: str, value: Any, low: float, high: float = np.inf, low_open: bool = False,
                high_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {name}={value!r} of type {type(value).__name__}")
    ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lb, rb = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in the range {lb}{low}, {high}{rb}, got {name}={value!r}")


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {name}={value!r} of type {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {name}={value!r}")


def _check_option(name: str, value: Any, options: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {name}={value!r}")


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameter checks, the stochastic fit loop and
    the forward pass. Weights (coefs_, intercepts_) are float32 NumPy arrays."""

    _loss: str = "log_loss"

    # ------------------------------------------------------------------ checks
    def _validate_params(self) -> list[int]:
        hls = self.hidden_layer_sizes
        if isinstance(hls, numbers.Integral) and not isinstance(hls, bool):
            hls = [hls]
        try:
            sizes = list(hls)
        except TypeError:
            raise TypeError(f"hidden_layer_sizes must be an int or a sequence of ints, got {self.hidden_layer_sizes!r}"
                            ) from None
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes!r}")
        _check_option("activation", self.activation, ("identity", "logistic", "tanh", "relu"))
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is not supported by fastnn.sklearn; the supported solvers are "
                             f"{list(_SOLVERS)}")
        _check_option("solver", self.solver, _SOLVERS)
        _check_real("alpha", self.alpha, 0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if isinstance(self.batch_size, str):
                raise ValueError(f"batch_size must be 'auto' or a positive integer, got batch_size={self.batch_size!r}")
            _check_int("batch_size", self.batch_size, 1)
        _check_option("learning_rate", self.learning_rate, ("constant", "invscaling", "adaptive"))
        _check_real("learning_rate_init", self.learning_rate_init, 0.0, low_open=True)
        _check_real("power_t", self.power_t, 0.0)
        _check_int("max_iter", self.max_iter, 1)
        _check_real("tol", self.tol, 0.0)
        _check_real("momentum", self.momentum, 0.0, 1.0)
        _check_real("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        _check_real("beta_1", self.beta_1, 0.0, 1.0, high_open=True)
        _check_real("beta_2", self.beta_2, 0.0, 1.0, high_open=True)
        _check_real("epsilon", self.epsilon, 0.0, low_open=True)
        if not (isinstance(self.n_iter_no_change, numbers.Real) and self.n_iter_no_change == np.inf):
            _check_int("n_iter_no_change", self.n_iter_no_change, 1)
        _check_int("max_fun", self.max_fun, 1)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            v = getattr(self, name)
            if not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {name}={v!r}")
        return [int(s) for s in sizes]

    # ------------------------------------------------------------------ init
    def _initialize(self, y: np.ndarray, layer_units: list[int]) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self._loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            # Glorot uniform with sklearn's factor (2 for logistic, 6 otherwise), drawn in float64 from
            # the same generator calls as sklearn, so a random_state gives sklearn's initial weights
            factor = 2.0 if self.activation == "logistic" else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            W = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            b = self._random_state.uniform(-bound, bound, fan_out)
            self.coefs_.append(W.astype(np.float32))
            self.intercepts_.append(b.astype(np.float32))
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None, incremental: bool = False):
        hidden = self._validate_params()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
            sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float32)
        X = _dense_f32(X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        Y = np.ascontiguousarray(y, dtype=np.float32)
        n_features = X.shape[1]
        layer_units = [n_features] + hidden + [Y.shape[1]]
        if not first_pass:
            have = [self.coefs_[0].shape[0]] + [W.shape[1] for W in self.coefs_]
            if have != layer_units:
                raise ValueError(f"the network has layer sizes {have} but this fit needs {layer_units} "
                                 "(hidden_layer_sizes or the number of outputs changed since the last fit)")
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(Y, layer_units)
        else:
            self.coefs_ = [_engine.as_f32(W) for W in self.coefs_]
            self.intercepts_ = [_engine.as_f32(b) for b in self.intercepts_]
        self.n_outputs_ = Y.shape[1]
        self._fit_stochastic(X, Y, sample_weight, incremental)
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError("Solver produced non-finite parameter weights. The input data may contain large values "
                             "and need to be preprocessed.")
        return self

    def _make_optimizer(self, params: list[np.ndarray]):
        if self.solver == "sgd":
            return _engine.SGDState(params, self.learning_rate_init, self.learning_rate, self.momentum,
                                    self.nesterovs_momentum, self.power_t)
        return _engine.AdamState(params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)

    def _fit_stochastic(self, X: np.ndarray, Y: np.ndarray, sample_weight: Optional[np.ndarray],
                        incremental: bool) -> None:
        params = self.coefs_ + self.intercepts_
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer(params)
        opt = self._optimizer
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        sw_val = None
        if early_stopping:
            stratify = Y if is_classifier(self) and self.n_outputs_ == 1 else None
            parts = (X, Y) if sample_weight is None else (X, Y, sample_weight)
            split = train_test_split(*parts, random_state=self._random_state, test_size=self.validation_fraction,
                                     stratify=stratify)
            X_train, X_val, Y_train, Y_val = split[:4]
            sw_train, sw_val = (split[4], split[5]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(f"The validation set is too small ({X_val.shape[0]} samples of {X.shape[0]}). "
                                 "Increase 'validation_fraction' or the size of your dataset.")
            X_train, Y_train = np.ascontiguousarray(X_train), np.ascontiguousarray(Y_train)
            y_val = self._label_binarizer.inverse_transform(Y_val) if is_classifier(self) else Y_val
            if not is_classifier(self) and y_val.shape[1] == 1:
                y_val = y_val.ravel()
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight
            X_val = y_val = None
        n = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                              stacklevel=3)
            batch_size = int(np.clip(self.batch_size, 1, n))

        # the optimizer updates these very arrays in place (coefs_ and intercepts_)
        trainer = _engine.Trainer(self.coefs_, self.intercepts_, self.activation, self.out_activation_, self.alpha,
                                  batch_size, opt)
        step = trainer.step
        rs = self._random_state
        sample_idx = np.arange(n)
        starts = list(range(0, n, batch_size))
        bounds = [(s, min(s + batch_size, n)) for s in starts]
        self.n_iter_ = 0
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    # sklearn.utils.shuffle(sample_idx, random_state=rs), without its checks
                    perm = np.arange(n)
                    rs.shuffle(perm)
                    sample_idx = sample_idx[perm]
                    Xs, Ys = X_train[sample_idx], Y_train[sample_idx]
                    sws = None if sw_train is None else sw_train[sample_idx]
                else:
                    Xs, Ys, sws = X_train, Y_train, sw_train
                acc = 0.0
                if sws is None:
                    for a, b in bounds:
                        acc += step(Xs[a:b], Ys[a:b]) * (b - a)
                else:
                    for a, b in bounds:
                        acc += step(Xs[a:b], Ys[a:b], sws[a:b]) * (b - a)
                self.n_iter_ += 1
                self.loss_ = acc / n
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
                opt.iteration_ends(self.t_)
                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (f"Validation score did not improve more than tol={self.tol:f} for "
                               f"{self.n_iter_no_change:d} consecutive epochs.")
                    else:
                        msg = (f"Training loss did not improve more than tol={self.tol:f} for "
                               f"{self.n_iter_no_change:d} consecutive epochs.")
                    if opt.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                                  "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _update_no_improvement_count(self, early_stopping: bool, X_val, y_val, sw_val) -> None:
        if early_stopping:
            score = self._score(X_val, y_val, sample_weight=sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # ------------------------------------------------------------------ predict
    def _forward_pass_fast(self, X, check_input: bool = True) -> np.ndarray:
        """The network's output (after the output activation) in float64."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False)
        z = _engine.forward(_dense_f32(X), self.coefs_, self.intercepts_, self.activation)
        return _engine.output_activation(z, self.out_activation_)

    def _score_with_function(self, X, y, sample_weight, score_function) -> float:
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        # only NumPy arrays and plain Python objects: the kernels' scratch buffers live in the fit
        # loop, so nothing that holds a native handle is ever an attribute
        state = super().__getstate__()
        for k in ("coefs_", "intercepts_", "_best_coefs", "_best_intercepts"):
            if k in state:
                state[k] = [np.asarray(a) for a in state[k]]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier with scikit-learn's interface, trained on fastnn's kernels.

    The parameters, defaults and fitted attributes are those of
    ``sklearn.neural_network.MLPClassifier``; the solvers are 'adam' and 'sgd' ('lbfgs' raises a
    ValueError). The log loss with an L2 penalty ``alpha / 2 * ||W||^2 / n_samples`` is minimized
    with mini-batches; the output is a softmax for several classes, one logistic unit for two
    classes and one logistic unit per label for a multilabel indicator ``y``. Training runs in
    float32 on fastnn's fused GEMM and optimizer kernels (fastnn.set_num_threads sets the
    threads); weights, initial values and the stopping rule follow scikit-learn, so the same
    ``random_state`` starts from the same weights and batch order (``random_state=None`` draws
    from NumPy's global generator, which fastnn.utils.set_random_seed seeds). ``coefs_`` and
    ``intercepts_`` are float32; ``max_fun`` is accepted for compatibility and only 'lbfgs' would
    use it.

    Example::

        from sklearn.datasets import load_digits
        from fastnn.sklearn import MLPClassifier

        X, y = load_digits(return_X_y=True)
        clf = MLPClassifier(hidden_layer_sizes=(256,), random_state=0).fit(X / 16, y)
        clf.predict_proba(X[:2] / 16).shape     # (2, 10)
    """

    def __init__(
        self,
        hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Union[int, str] = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the previous "
                                     f"call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(np.float32)

    def fit(self, X, y, sample_weight=None) -> MLPClassifier:
        """Fits the network to X (n_samples, n_features) and the labels y (n_samples,) or a
        multilabel indicator (n_samples, n_labels); sample_weight weights each sample's loss."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, classes=None) -> MLPClassifier:
        """One epoch over (X, y). The first call needs ``classes`` (every label that will occur)."""
        if self.solver not in _SOLVERS:
            self._validate_params()
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The predicted class of each row of X (a label indicator matrix for multilabel y)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input: bool = True) -> np.ndarray:
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None) -> float:
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in the order of classes_; two
        columns (1 - p, p) for a binary problem."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X) -> np.ndarray:
        """log(predict_proba(X))."""
        p = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(p, out=p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor with scikit-learn's interface, trained on fastnn's kernels.

    The parameters, defaults and fitted attributes are those of
    ``sklearn.neural_network.MLPRegressor``: half the squared error (``loss='squared_error'``, an
    identity output) or the half Poisson deviance (``loss='poisson'``, an exp output, y >= 0)
    plus the L2 penalty, minimized by 'adam' or 'sgd' ('lbfgs' raises a ValueError) in float32
    on fastnn's fused kernels.

    Example::

        from sklearn.datasets import load_diabetes
        from sklearn.preprocessing import StandardScaler
        from fastnn.sklearn import MLPRegressor

        X, y = load_diabetes(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        reg = MLPRegressor(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=500).fit(X, y)
        reg.score(X, y)     # R^2
    """

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Union[int, str] = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    @property
    def _loss(self) -> str:  # type: ignore[override]
        return self.loss

    def _validate_params(self) -> list[int]:
        _check_option("loss", self.loss, ("squared_error", "poisson"))
        return super()._validate_params()

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(f"loss='poisson' needs y >= 0, got min(y)={np.min(y)!r}")
        return X, y

    def fit(self, X, y, sample_weight=None) -> MLPRegressor:
        """Fits the network to X (n_samples, n_features) and y (n_samples,) or (n_samples, n_outputs)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None) -> MLPRegressor:
        """One epoch over (X, y)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The predictions, (n_samples,) for one output, else (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input: bool = True) -> np.ndarray:
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None) -> float:
        return self._score_with_function(X, y, sample_weight, r2_score)
