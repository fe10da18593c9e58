"""The synthetic sequence tasks (fastnn.datasets.synthetic) and small runs of the recurrent
examples: determinism and statistics of the generators, then the ordering each example shows
(gated cells beat the mean on the adding problem, the LSTM forecast beats the last value, the
sentiment classifier beats chance, clipping stops an exploding ReLU network)."""

from __future__ import annotations

import importlib.util
import os

import fastnn
import numpy as np
import pytest
from fastnn.datasets import synthetic
from fastnn.preprocessing.sequence import pad_sequences

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def one_thread():
    # Small recurrent steps run fastest on one thread (conftest restores the count).
    fastnn.set_num_threads(1)


# ---- generators ----------------------------------------------------------------------------


def test_adding_problem_layout_and_targets():
    x, y = synthetic.adding_problem(500, seq_length=100, seed=3)
    assert x.shape == (500, 100, 2) and y.shape == (500,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[:, :, 0], x[:, :, 1]
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    # One marker in each half, so the first value is carried across >= 50 steps.
    np.testing.assert_array_equal(markers[:, :50].sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers[:, 50:].sum(axis=1), 1.0)
    np.testing.assert_allclose(y, (values * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_baseline_mse_is_one_sixth():
    _, y = synthetic.adding_problem(50000, seq_length=100, seed=0)
    assert abs(float(np.mean(y)) - 1.0) < 0.01
    assert abs(float(np.mean((y - 1.0) ** 2)) - 1.0 / 6.0) < 0.005


def test_generators_are_deterministic_per_seed():
    a, b = synthetic.adding_problem(50, 30, seed=7), synthetic.adding_problem(50, 30, seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], synthetic.adding_problem(50, 30, seed=8)[0])
    np.testing.assert_array_equal(synthetic.seasonal_series(300, seed=4), synthetic.seasonal_series(300, seed=4))
    assert not np.array_equal(synthetic.seasonal_series(300, seed=4), synthetic.seasonal_series(300, seed=5))
    (xa, ya), (xb, yb) = synthetic.sentiment(num_samples=200, seed=2)
    (xc, yc), (xd, yd) = synthetic.sentiment(num_samples=200, seed=2)
    assert all(np.array_equal(p, q) for p, q in zip(np.concatenate([xa, xb]), np.concatenate([xc, xd])))
    np.testing.assert_array_equal(np.concatenate([ya, yb]), np.concatenate([yc, yd]))
    (xe, ye), _ = synthetic.sentiment(num_samples=200, seed=3)
    assert not all(np.array_equal(p, q) for p, q in zip(xa, xe))


def test_sentiment_shapes_vocabulary_and_balance():
    (x_train, y_train), (x_test, y_test) = synthetic.sentiment(
        num_samples=3000, num_words=20000, min_length=30, max_length=150, test_split=0.25, seed=0
    )
    assert len(x_train) == 2250 and len(x_test) == 750 and x_train.dtype == object
    lengths = np.array([len(s) for s in np.concatenate([x_train, x_test])])
    assert lengths.min() >= 30 and lengths.max() <= 150 and lengths.std() > 20  # lengths vary
    assert all(s[0] == 1 and s.dtype == np.int32 for s in x_train)  # the start index, as imdb
    words = np.concatenate(list(x_train) + list(x_test))
    assert words.min() >= 1 and words.max() < 20000 and (words == 0).sum() == 0  # 0 is padding
    assert len(np.unique(words)) > 5000  # filler words cover much of the vocabulary
    assert set(np.unique(y_train)) == {0, 1} and abs(float(y_train.mean()) - 0.5) < 0.05
    assert pad_sequences(x_train, maxlen=80).shape == (2250, 80)


def _counts(seqs, vocab):
    out = np.zeros((len(seqs), vocab), dtype=np.int32)
    for i, s in enumerate(seqs):
        np.add.at(out[i], s, 1)
    return out


def test_sentiment_label_is_the_majority_of_sentiment_words():
    """The words whose presence is most skewed towards one label are the sentiment words; the
    label of every held-out review is then the sign of (#positive - #negative)."""
    k = 40
    (x_train, y_train), (x_test, y_test) = synthetic.sentiment(
        num_samples=4000, num_words=3000, num_sentiment_words=k, test_split=0.5, seed=1
    )
    c = _counts(x_train, 3000)
    skew = c[y_train == 1].sum(0) / (y_train == 1).sum() - c[y_train == 0].sum(0) / (y_train == 0).sum()
    order = np.argsort(skew)
    negative, positive = order[: k // 2], order[-(k // 2) :]
    ct = _counts(x_test, 3000)
    diff = ct[:, positive].sum(1) - ct[:, negative].sum(1)
    assert np.all(diff != 0)  # no ties
    np.testing.assert_array_equal((diff > 0).astype(np.uint8), y_test)
    # Sentiment words are spread through the review, not bunched at one end.
    pos = [np.flatnonzero(np.isin(s, np.concatenate([positive, negative]))) / len(s) for s in x_test]
    rel = np.concatenate(pos)
    assert 0.4 < rel.mean() < 0.6 and (rel < 0.25).mean() > 0.15 and (rel > 0.75).mean() > 0.15


def test_seasonal_series_and_windows():
    s = synthetic.seasonal_series(1000, period=24, noise=0.0, seed=0)
    assert s.shape == (1000,) and s.dtype == np.float32
    np.testing.assert_allclose(s[24:], s[:-24], atol=1e-5)  # exactly periodic without noise
    noisy = synthetic.seasonal_series(20000, period=24, noise=0.3, seed=0)
    resid = noisy - synthetic.seasonal_series(20000, period=24, noise=0.0, seed=0)
    assert abs(float(resid.std()) - 0.3) < 0.01
    x, y = synthetic.sliding_windows(np.arange(6.0), window_size=3)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [3, 4, 5])
    assert x.shape == (3, 3, 1) and x.dtype == np.float32
    x, y = synthetic.sliding_windows(np.arange(10.0), window_size=2, horizon=3, stride=2)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(y, [4, 6, 8])
    m = np.arange(20.0).reshape(10, 2)
    x, y = synthetic.sliding_windows(m, window_size=4)
    assert x.shape == (6, 4, 2) and y.shape == (6, 2)
    np.testing.assert_array_equal(y[0], m[4])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: synthetic.adding_problem(0), "num_samples=0"),
        (lambda: synthetic.adding_problem(10, seq_length=1), "seq_length=1"),
        (lambda: synthetic.adding_problem(10, seed=-1), "seed=-1"),
        (lambda: synthetic.sentiment(num_samples=10, min_length=50, max_length=20), "max_length=20"),
        (lambda: synthetic.sentiment(num_samples=10, num_sentiment_words=7), "even"),
        (lambda: synthetic.sentiment(num_samples=10, num_words=100, num_sentiment_words=40), "too many"),
        (lambda: synthetic.sentiment(num_samples=10, agreement=0.2), "agreement=0.2"),
        (lambda: synthetic.sentiment(num_samples=10, sentiment_rate=0.0), "sentiment_rate=0.0"),
        (lambda: synthetic.sentiment(num_samples=10, test_split=1.0), "test_split=1.0"),
        (lambda: synthetic.seasonal_series(100, noise=-1.0), "noise=-1.0"),
        (lambda: synthetic.seasonal_series(100, period=1), "period=1"),
        (lambda: synthetic.sliding_windows(np.zeros(5), window_size=5), "too short"),
        (lambda: synthetic.sliding_windows(np.zeros((2, 3, 4)), window_size=1), r"\(2, 3, 4\)"),
        (lambda: synthetic.sliding_windows(np.zeros(9), window_size=0), "window_size=0"),
    ],
)
def test_generator_arguments_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sliding_windows_rejects_non_numeric_series():
    with pytest.raises(TypeError, match="dtype"):
        synthetic.sliding_windows(np.array(["a", "b", "c"]), window_size=1)


# ---- the examples, small -------------------------------------------------------------------


@pytest.mark.slow
def test_adding_problem_gated_cells_beat_the_baseline(one_thread):
    """On a shorter adding problem (20 steps) LSTM and GRU get far below the mean's 1/6, and
    below a SimpleRNN trained the same way."""
    results = _load("adding_problem").compare_cells(20, 16, 15, 4000, 32)
    lstm, gru, rnn = (results[k]["test_mse"] for k in ("LSTM", "GRU", "SimpleRNN"))
    assert lstm < 0.02 and gru < 0.02
    assert lstm < rnn and gru < rnn
    assert results["LSTM"]["solved_epoch"] is not None


def test_adding_problem_simple_rnn_stays_at_the_baseline_on_100_steps(one_thread):
    results = _load("adding_problem").compare_cells(100, 16, 4, 3000, 64, kinds=("SimpleRNN",))
    assert results["SimpleRNN"]["test_mse"] > 0.13
    assert results["SimpleRNN"]["solved_epoch"] is None


def test_adding_problem_clipnorm_stops_the_explosion(one_thread):
    runs = _load("adding_problem").clipping_demo(100, 16, 1, 2000, 64)
    free, clipped = runs["no clipping"], runs["clipnorm=0.1"]
    assert free["max_batch_loss"] > 1e3
    assert clipped["max_batch_loss"] < 10.0 and clipped["final_loss"] < 1.0
    assert clipped["prediction_std"] > 1e-3  # still a function of its input


def test_adding_problem_plot(one_thread, tmp_path):
    pytest.importorskip("matplotlib")
    mod = _load("adding_problem")
    path = tmp_path / "curves.png"
    mod.main(seq_length=10, units=4, epochs=1, num_train=200, clip_epochs=1, plot_path=str(path))
    assert path.stat().st_size > 1000


def test_forecasting_lstm_beats_the_naive_forecast(one_thread):
    lstm, naive = _load("forecasting").main(length=1000, units=16, epochs=8)
    assert lstm < 0.5 * naive


def test_rnn_sentiment_above_chance(one_thread, capsys):
    acc = _load("rnn_sentiment").main(epochs=5, num_samples=8000, maxlen=60, verbose=0)
    assert acc > 0.6
    out = capsys.readouterr().out
    assert "(SimpleRNN)" in out and "test accuracy" in out
