"""scikit-learn estimators on fastnn's kernels: ``MLPClassifier`` and ``MLPRegressor`` (the
interface of sklearn.neural_network's, trained through fastnn's fused GEMM and optimizer
kernels) and ``Perceptron`` (Rosenblatt's single cell with a step activation).

This package needs scikit-learn (``pip install "fastnn[sklearn]"``); ``import fastnn`` does not
import it.

Example::

    from fastnn.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0)
"""

try:
    import sklearn  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("fastnn.sklearn needs scikit-learn, which is not installed: "
                      'pip install "fastnn[sklearn]" (or pip install scikit-learn)') from e

from ._mlp import MLPClassifier, MLPRegressor
from ._perceptron import Perceptron

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron"]
