"""Synthetic sequence tasks, generated from a seed (nothing is read or downloaded).

- ``sentiment``: IMDB-like reviews (integer word sequences of varying length over a
  ``num_words`` vocabulary) whose label is decided by sentiment words scattered through the
  whole review, as ``keras.datasets.imdb.load_data`` returns them.
- ``adding_problem``: the adding problem of Hochreiter and Schmidhuber (1997): two input
  channels (values in [0, 1] and a marker channel holding two ones), the target is the sum of
  the two marked values. Predicting the mean (1.0) gives an MSE of 1/6 ~ 0.167.
- ``seasonal_series``: a noisy seasonal univariate series, and ``sliding_windows`` to turn a
  series into (window -> next value) pairs for a forecaster.

The same arguments and seed give the same arrays on every machine (NumPy's PCG64 generator).

Example::

    from fastnn.datasets import synthetic
    (x_train, y_train), (x_test, y_test) = synthetic.sentiment(num_samples=2000)
    x, y = synthetic.adding_problem(1000, seq_length=100)          # (1000, 100, 2), (1000,)
    x, y = synthetic.sliding_windows(synthetic.seasonal_series(500), window_size=24)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._files import Splits

__all__ = ["sentiment", "adding_problem", "seasonal_series", "sliding_windows"]

# Word indices follow keras.datasets.imdb: 0 is padding, 1 starts a review, 2 is out of
# vocabulary, real words start at 3 (index_from=3).
_START, _FIRST_WORD = 1, 3


def _int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {name}={value!r}")
    return int(value)


def _float(value: Any, name: str, low: float, high: float = np.inf, high_open: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        v = float(value)
        ok = np.isfinite(v) and low <= v and (v < high if high_open else v <= high)
    if not ok:
        bound = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"{name} must be a number in {bound}, got {name}={value!r}")
    return float(value)


def _split(n: int, test_split: float) -> int:
    return n - int(round(n * test_split))


def sentiment(
    num_samples: int = 10000,
    num_words: int = 20000,
    min_length: int = 30,
    max_length: int = 150,
    num_sentiment_words: int = 100,
    sentiment_rate: float = 0.1,
    agreement: float = 0.75,
    test_split: float = 0.5,
    seed: int = 0,
) -> Splits:
    """A binary sentiment task shaped like ``keras.datasets.imdb.load_data(num_words=...)``.

    Each review starts with the start index 1 and has a length drawn uniformly from
    [min_length, max_length]. Its words are filler words, drawn with Zipf-like frequencies
    (p ~ 1 / (rank + 10)) from [3, num_words), except for sentiment words placed at random
    positions (each position with probability ``sentiment_rate``, at least three per review).
    Half of the ``num_sentiment_words`` sentiment words are positive and half negative, chosen
    among the frequent words; each sentiment word of a review agrees with a hidden polarity with
    probability ``agreement``. The label is 1 when the review holds more positive than negative
    words, 0 when it holds more negative ones (a tie is broken by leaving one of them, at
    random, a filler word), so it is a function of the whole sequence, not of any one place in it.

    Args:
        num_samples: the number of reviews, train and test together.
        num_words: the vocabulary size: every index is < num_words.
        min_length: the shortest review (the start index included), >= 4.
        max_length: the longest review, >= min_length.
        num_sentiment_words: how many words carry sentiment (an even number, at least 2).
        sentiment_rate: the probability that a position holds a sentiment word, in (0, 1).
        agreement: the probability that a sentiment word agrees with the review's polarity, in
            [0.5, 1] (1: all of them agree; 0.5: the label is the majority of coin flips).
        test_split: the fraction of reviews held out as the test set, in [0, 1).
        seed: the random seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x arrays of dtype object holding one int32
        array per review (for ``pad_sequences``), y arrays of uint8 labels 0/1.

    Example::

        (x_train, y_train), (x_test, y_test) = sentiment(num_samples=2000)
        x_train = fastnn.utils.pad_sequences(x_train, maxlen=80)     # (1000, 80) int32
    """
    n = _int(num_samples, "num_samples", 1)
    num_words = _int(num_words, "num_words", 16)
    lo = _int(min_length, "min_length", 4)
    hi = _int(max_length, "max_length", lo)
    k = _int(num_sentiment_words, "num_sentiment_words", 2)
    if k % 2:
        raise ValueError(f"num_sentiment_words must be even (half positive, half negative), got {k}")
    if k > (num_words - _FIRST_WORD) // 4:
        raise ValueError(
            f"num_sentiment_words={k} is too many for num_words={num_words}: at most a quarter of the "
            f"{num_words - _FIRST_WORD} real words can carry sentiment"
        )
    rate = _float(sentiment_rate, "sentiment_rate", 0.0, 1.0, high_open=True)
    if rate == 0.0:
        raise ValueError(f"sentiment_rate must be a number in (0, 1), got sentiment_rate={sentiment_rate!r}")
    agree = _float(agreement, "agreement", 0.5, 1.0)
    test_split = _float(test_split, "test_split", 0.0, 1.0, high_open=True)
    seed = _int(seed, "seed", 0)

    rng = np.random.default_rng(seed)
    words = np.arange(_FIRST_WORD, num_words)
    freq = 1.0 / (np.arange(words.size) + 10.0)
    freq /= freq.sum()
    # Sentiment words are common ones (as "good" and "bad" are), taken from the top few thousand.
    pool = words[: max(4 * k, min(words.size, 2000))]
    chosen = rng.choice(pool, size=k, replace=False)
    positive, negative = chosen[: k // 2], chosen[k // 2 :]
    filler_p = freq.copy()
    filler_p[np.isin(words, chosen)] = 0.0
    filler_p /= filler_p.sum()

    xs = np.empty(n, dtype=object)
    ys = np.empty(n, dtype=np.uint8)
    lengths = rng.integers(lo, hi + 1, size=n)
    polarity = rng.random(n) < 0.5
    # All filler words in one draw (a weighted choice per review would rebuild the table each time).
    fillers = rng.choice(words, size=int(lengths.sum()), p=filler_p).astype(np.int32)
    ends = np.cumsum(lengths)
    for i in range(n):
        length = int(lengths[i])
        seq = fillers[ends[i] - length : ends[i]].copy()
        seq[0] = _START
        slots = np.flatnonzero(rng.random(length - 1) < rate) + 1
        if slots.size < 3:
            slots = rng.choice(np.arange(1, length), size=3, replace=False)
        agrees = rng.random(slots.size) < agree
        is_pos = agrees == polarity[i]
        n_pos = int(is_pos.sum())
        if 2 * n_pos == slots.size:
            # A tie (an even count >= 4): one sentiment word, chosen at random, stays a filler.
            keep = np.ones(slots.size, dtype=bool)
            keep[rng.integers(slots.size)] = False
            slots, is_pos = slots[keep], is_pos[keep]
            n_pos = int(is_pos.sum())
        seq[slots[is_pos]] = rng.choice(positive, size=n_pos)
        seq[slots[~is_pos]] = rng.choice(negative, size=slots.size - n_pos)
        xs[i] = seq
        ys[i] = 1 if 2 * n_pos > slots.size else 0
    cut = _split(n, test_split)
    return (xs[:cut], ys[:cut]), (xs[cut:], ys[cut:])


def adding_problem(num_samples: int, seq_length: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter and Schmidhuber 1997, in the form of Le et al. 2015).

    Channel 0 holds values drawn uniformly from [0, 1]; channel 1 is 0 except for two ones,
    one at a random step of the first half of the sequence and one in the second half. The
    target is the sum of the two marked values (in [0, 2], mean 1, variance 1/6), so the
    network must carry the first marked value across at least ``seq_length / 2`` steps.

    Args:
        num_samples: the number of sequences.
        seq_length: the number of time steps T, >= 2.
        seed: the random seed.

    Returns:
        ``x`` float32 of shape (num_samples, seq_length, 2) and ``y`` float32 of shape
        (num_samples,).

    Example::

        x, y = adding_problem(4, seq_length=10)
        x[:, :, 1].sum(axis=1)      # [2, 2, 2, 2]
        np.mean((y - 1.0) ** 2)     # about 1/6 for many samples: the mean-prediction baseline
    """
    n = _int(num_samples, "num_samples", 1)
    t = _int(seq_length, "seq_length", 2)
    seed = _int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    values = rng.random((n, t), dtype=np.float32)
    half = t // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, t, size=n)
    markers = np.zeros((n, t), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return x, y


def seasonal_series(
    length: int = 2000,
    period: int = 24,
    amplitude: float = 1.0,
    trend: float = 0.0,
    noise: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """A noisy seasonal series: two harmonics of a season of ``period`` steps plus a trend::

        s[t] = amplitude * (sin(2 pi t / period + phase) + 0.5 sin(4 pi t / period + phase2))
               + trend * t + noise * e[t],      e[t] ~ N(0, 1)

    (the phases drawn from the seed). A last-value forecast is off by the change over one step
    (its MSE grows as the period shrinks), while a model that knows the season is left with
    about the noise variance.

    Args:
        length: the number of steps, >= 2.
        period: the season's length in steps, >= 2.
        amplitude: the scale of the seasonal part, >= 0.
        trend: a linear drift per step.
        noise: the standard deviation of the Gaussian noise, >= 0.
        seed: the random seed.

    Returns:
        A float32 array of shape (length,).

    Example::

        s = seasonal_series(1000, period=24, noise=0.1)
        x, y = sliding_windows(s, window_size=48)      # (952, 48, 1), (952,)
    """
    n = _int(length, "length", 2)
    p = _int(period, "period", 2)
    a = _float(amplitude, "amplitude", 0.0)
    tr = _float(trend, "trend", -np.inf)
    sd = _float(noise, "noise", 0.0)
    seed = _int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    phase, phase2 = rng.uniform(0.0, 2.0 * np.pi, size=2)
    t = np.arange(n, dtype=np.float64)
    w = 2.0 * np.pi * t / p
    s = a * (np.sin(w + phase) + 0.5 * np.sin(2.0 * w + phase2)) + tr * t + sd * rng.standard_normal(n)
    return s.astype(np.float32)


def sliding_windows(series: Any, window_size: int, horizon: int = 1, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into inputs of ``window_size`` consecutive steps and the value ``horizon``
    steps after each window (what ``keras.utils.timeseries_dataset_from_array`` pairs, as arrays).

    Window i covers steps [i*stride, i*stride + window_size) and its target is step
    i*stride + window_size + horizon - 1.

    Args:
        series: shape (T,) for a univariate series or (T, F) for F features; the target is taken
            from every feature ((N,) for a univariate series, (N, F) otherwise).
        window_size: the number of input steps, >= 1.
        horizon: how far ahead the target lies (1: the next step).
        stride: the shift between consecutive windows.

    Returns:
        ``x`` of shape (N, window_size, F) (F = 1 for a univariate series, the layout a recurrent
        layer reads) and ``y``, float32, N = (T - window_size - horizon) // stride + 1.

    Example::

        x, y = sliding_windows(np.arange(6.0), window_size=3)
        x[:, :, 0]      # [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
        y               # [3, 4, 5]
    """
    a = np.asarray(series)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"sliding_windows expects a numeric series, got an array of dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"sliding_windows expects a series of shape (T,) or (T, F), got shape {a.shape}")
    w = _int(window_size, "window_size", 1)
    h = _int(horizon, "horizon", 1)
    s = _int(stride, "stride", 1)
    steps = a.shape[0]
    if steps < w + h:
        raise ValueError(
            f"sliding_windows: a series of {steps} steps is too short for window_size={w} and horizon={h} "
            f"(it needs at least {w + h} steps)"
        )
    univariate = a.ndim == 1
    a2 = a.astype(np.float32).reshape(steps, -1)
    count = (steps - w - h) // s + 1
    starts = np.arange(count) * s
    x = a2[starts[:, None] + np.arange(w)[None, :]]
    y = a2[starts + w + h - 1]
    return x, (y[:, 0] if univariate else y)
