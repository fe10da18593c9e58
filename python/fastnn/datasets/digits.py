"""The handwritten digits (UCI ML "Optical Recognition of Handwritten Digits", the copy that
scikit-learn bundles): 1,797 images of 8x8 grey levels (0..16), 10 classes. The data ship with
fastnn (python/fastnn/datasets/data/digits.csv.gz, 57 KB; licence in DIGITS_LICENSE.txt beside
it), so nothing is downloaded and nothing else needs to be installed.

Example::

    (x_train, y_train), (x_test, y_test) = fastnn.datasets.digits.load_data()
    x_train.shape, x_train.max()     # (1438, 8, 8), 16
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from . import _files

__all__ = ["load_data"]

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.csv.gz")
_SAMPLES = 1797


def _read() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images (uint8 (N, 8, 8)) and labels (uint8 (N,)) in the file's order."""
    try:
        with gzip.open(_PATH, "rt", encoding="ascii") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except OSError as e:
        raise FileNotFoundError(f"fastnn's bundled digits are missing or unreadable ({_PATH}): {e}; "
                                f"reinstall fastnn") from None
    except (ValueError, EOFError) as e:  # not a table of integers, or cut short
        raise ValueError(f"fastnn's bundled digits file {_PATH} is corrupted ({e}); reinstall fastnn") from None
    if table.shape != (_SAMPLES, 65) or table.min() < 0 or table[:, :64].max() > 16 or table[:, 64].max() > 9:
        raise ValueError(f"fastnn's bundled digits file {_PATH} is corrupted (table of shape {table.shape}); "
                         f"reinstall fastnn")
    return table[:, :64].astype(np.uint8).reshape(-1, 8, 8), table[:, 64].astype(np.uint8)


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
    x, y = _read()
    order = np.random.RandomState(int(seed)).permutation(len(x))
    x, y = x[order], y[order]
    n_train = len(x) - int(round(len(x) * float(test_split)))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
