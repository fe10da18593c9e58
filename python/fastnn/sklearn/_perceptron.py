"""Perceptron: Rosenblatt's single cell as a scikit-learn classifier. A step activation
y_hat = 1 if w . x + b >= 0 else 0 and the perceptron learning rule, one sample at a time:

    w += eta0 * (y - y_hat) * x        b += eta0 * (y - y_hat)

with y in {0, 1}, so a correctly classified sample changes nothing. Several classes are learned
one-vs-rest (one cell per class, predict = the class whose cell has the largest w . x + b), like
sklearn.linear_model.Perceptron."""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._mlp import _check_int, _check_real
from ._validation import validate_data

__all__ = ["Perceptron"]


class Perceptron(ClassifierMixin, BaseEstimator):
    """The perceptron of the course notes: a step activation and the learning rule
    ``w += eta0 * (y - y_hat) * x``, one sample at a time, as a scikit-learn classifier.

    Args:
        eta0: the learning rate.
        max_iter: the most epochs (passes over the data) that fit runs.
        tol: stopping criterion as in sklearn's SGD: training stops when the epoch's summed
            perceptron loss ``max(0, -(2y - 1) (w . x + b))`` has not fallen by more than
            ``tol * n_samples`` for ``n_iter_no_change`` epochs in a row. None: run until an
            epoch without mistakes or max_iter. An epoch without any mistake always stops (the
            data are separated: the rule can change nothing more).
        shuffle: visit the samples in a new random order every epoch.
        random_state: seed (or RandomState) of the shuffling.
        fit_intercept: learn the bias b (else b stays 0).
        n_iter_no_change: epochs without improvement before stopping (see tol).
        warm_start: fit starts from the previous coef_ and intercept_.
        verbose: print each epoch's mistakes and loss.

    Fitted attributes: ``classes_``, ``coef_`` (1 or n_classes, n_features), ``intercept_``,
    ``n_iter_`` (epochs run, the most over the one-vs-rest cells), ``t_`` (samples seen + 1),
    ``n_features_in_``.

    Example::

        import numpy as np
        from fastnn.sklearn import Perceptron

        X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        p = Perceptron().fit(X, [0, 0, 0, 1])     # logical AND
        p.predict(X)                               # array([0, 0, 0, 1])
    """

    def __init__(
        self,
        *,
        eta0: float = 1.0,
        max_iter: int = 1000,
        tol: Optional[float] = 1e-3,
        shuffle: bool = True,
        random_state=0,
        fit_intercept: bool = True,
        n_iter_no_change: int = 5,
        warm_start: bool = False,
        verbose: int = 0,
    ):
        self.eta0 = eta0
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.verbose = verbose

    def _validate_params(self) -> None:
        _check_real("eta0", self.eta0, 0.0, low_open=True)
        _check_int("max_iter", self.max_iter, 1)
        if self.tol is not None:
            _check_real("tol", self.tol, 0.0)
        _check_int("n_iter_no_change", self.n_iter_no_change, 1)
        for name in ("shuffle", "fit_intercept", "warm_start"):
            v = getattr(self, name)
            if not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {name}={v!r}")

    # ------------------------------------------------------------------ training
    def _targets(self, y: np.ndarray) -> np.ndarray:
        """{0, 1} targets, one column per cell: the positive class for two classes, else one-vs-rest."""
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(np.float64).reshape(-1, 1)
        return (y.reshape(-1, 1) == self.classes_.reshape(1, -1)).astype(np.float64)

    def _init_weights(self, n_features: int) -> None:
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        self.coef_ = np.zeros((k, n_features))
        self.intercept_ = np.zeros(k)
        self.t_ = 1.0

    def _epochs(self, X: np.ndarray, T: np.ndarray, max_epochs: int, rs) -> int:
        """Runs the learning rule for up to max_epochs epochs; returns the epochs run (the most
        over the cells: each cell stops on its own)."""
        n, k = T.shape
        W, b = self.coef_, self.intercept_
        eta, fit_b = float(self.eta0), bool(self.fit_intercept)
        tol = self.tol
        active = np.ones(k, dtype=bool)
        best = np.full(k, np.inf)
        no_improve = np.zeros(k, dtype=int)
        epochs = np.zeros(k, dtype=int)
        order = np.arange(n)
        for _ in range(max_epochs):
            if self.shuffle:
                rs.shuffle(order)
            mistakes = np.zeros(k, dtype=int)
            loss = np.zeros(k)
            act = active.astype(np.float64)
            for i in order:
                x = X[i]
                f = W @ x + b
                # step activation and the rule: err is -1, 0 or +1 per cell
                err = (T[i] - (f >= 0.0)) * act
                if err.any():
                    mistakes += err != 0
                    loss += np.maximum(0.0, -(2.0 * T[i] - 1.0) * f) * act
                    W += np.outer(eta * err, x)
                    if fit_b:
                        b += eta * err
            epochs += active
            self.t_ += n
            if self.verbose:
                print(f"Epoch {int(epochs.max())}: mistakes {mistakes.tolist()}, loss {loss.tolist()}")
            done = mistakes == 0
            if tol is not None:
                worse = loss > best - tol * n
                no_improve = np.where(worse, no_improve + 1, 0)
                best = np.minimum(best, loss)
                done |= no_improve >= self.n_iter_no_change
            self._converged |= active & (mistakes == 0)
            active &= ~done
            if not active.any():
                break
        return int(epochs.max())

    def _fit(self, X, y, *, incremental: bool, classes=None) -> Perceptron:
        self._validate_params()
        first = not hasattr(self, "coef_") or (not incremental and not self.warm_start)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=np.float64, reset=first)
        check_classification_targets(y)
        if hasattr(X, "toarray"):
            X = X.toarray()
        X = np.ascontiguousarray(X, dtype=np.float64)
        if incremental:
            if _check_partial_fit_first_call(self, classes):
                first = True
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if len(unseen):
                raise ValueError(f"y has classes {unseen.tolist()} that are not in classes={self.classes_.tolist()}")
        else:
            classes_ = np.unique(y)
            if not first and not np.array_equal(classes_, self.classes_):
                raise ValueError(f"warm_start needs the classes of the previous fit {self.classes_.tolist()}, "
                                 f"got {classes_.tolist()}")
            self.classes_ = classes_
        if len(self.classes_) < 2:
            raise ValueError(f"The perceptron needs samples of at least 2 classes in the data, but the data contain "
                             f"only one class: {self.classes_[0]!r}")
        if first:
            self._init_weights(X.shape[1])
        rs = check_random_state(self.random_state)
        self._converged = np.zeros(self.coef_.shape[0], dtype=bool)
        T = self._targets(y)
        n_epochs = 1 if incremental else self.max_iter
        self.n_iter_ = self._epochs(X, T, n_epochs, rs)
        if not incremental and self.n_iter_ == self.max_iter and not self._converged.all():
            warnings.warn("Maximum number of iteration reached before convergence. Consider increasing max_iter to "
                          "improve the fit.", ConvergenceWarning, stacklevel=3)
        del self._converged
        return self

    def fit(self, X, y) -> Perceptron:
        """Learns the weights from X (n_samples, n_features) and the labels y (n_samples,)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None) -> Perceptron:
        """One epoch of the learning rule over (X, y); the first call needs ``classes``."""
        return self._fit(X, y, incremental=True, classes=classes)

    # ------------------------------------------------------------------ prediction
    def decision_function(self, X) -> np.ndarray:
        """w . x + b per cell: (n_samples,) for two classes, else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=np.float64, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        scores = np.asarray(scores)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """The step activation's class: classes_[1] where w . x + b >= 0 (two classes), else the
        class with the largest score."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
