"""scikit-learn's bundled handwritten digits: 1,797 images of 8x8 grey levels (0..16), 10
classes. Nothing is downloaded (the data ships with scikit-learn).

Example::

    (x_train, y_train), (x_test, y_test) = fastnn.datasets.digits.load_data()
    x_train.shape, x_train.max()     # (1438, 8, 8), 16
"""

from __future__ import annotations

import numpy as np

from . import _files

__all__ = ["load_data"]


def load_data(test_split: float = 0.2, seed: int = 113) -> _files.Splits:
    """``(x_train, y_train), (x_test, y_test)``: images uint8 (N, 8, 8) in 0..16, labels uint8.

    Args:
        test_split: the fraction of the samples held out as the test set, in [0, 1).
        seed: the shuffle before the split (the same seed gives the same split).
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) or not 0.0 <= test_split < 1.0:
        raise ValueError(f"test_split must be a number in [0, 1), got test_split={test_split!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got seed={seed!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "fastnn.datasets.digits needs scikit-learn (its digits ship with it): pip install scikit-learn"
        ) from None
    d = load_digits()
    x = d.images.astype(np.uint8)
    y = d.target.astype(np.uint8)
    order = np.random.RandomState(int(seed)).permutation(len(x))
    x, y = x[order], y[order]
    n_train = len(x) - int(round(len(x) * float(test_split)))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
