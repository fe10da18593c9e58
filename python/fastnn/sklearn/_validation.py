"""scikit-learn's input validation across its versions: ``sklearn.utils.validation.validate_data``
(1.6 and later) or the older ``BaseEstimator._validate_data`` method."""

from __future__ import annotations

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6
    _validate_data = None


def validate_data(estimator, X="no_validation", y="no_validation", **kwargs):
    if _validate_data is not None:
        return _validate_data(estimator, X, y, **kwargs)
    return estimator._validate_data(X, y, **kwargs)
