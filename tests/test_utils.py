"""fastnn.utils: to_categorical, normalize, set_random_seed / get_shuffle_rng, and the plots."""

import builtins
import random

import fastnn
import numpy as np
import pytest
from fastnn import utils as U


def test_to_categorical_keras_semantics():
    out = U.to_categorical([0, 2, 1])
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert U.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)  # (N, 1) -> (N, C)
    assert U.to_categorical(np.zeros((2, 3), int), 5).shape == (2, 3, 5)
    assert U.to_categorical(np.array([1.0, 3.0])).shape == (2, 4)  # float labels holding integers
    assert U.to_categorical(fastnn.tensor(np.array([0, 1]))).shape == (2, 2)
    assert U.to_categorical([1, 0], dtype="int64").dtype == np.int64
    assert U.to_categorical(np.array([], int), 3).shape == (0, 3)


def test_to_categorical_errors_quote_the_value():
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        U.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="-1"):
        U.to_categorical([0, -1])
    with pytest.raises(ValueError, match="1.5"):
        U.to_categorical([0, 1.5])
    with pytest.raises(ValueError, match="num_classes=-2"):
        U.to_categorical([0], num_classes=-2)
    with pytest.raises(TypeError):
        U.to_categorical(["a", "b"])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(U.normalize(x), [[0.6, 0.8], [0, 0], [1, 0]])
    np.testing.assert_allclose(U.normalize(x, axis=0, order=1), x / np.array([4.0, 4.0]))
    t = fastnn.tensor(x.astype(np.float32), requires_grad=True)
    y = U.normalize(t)
    assert isinstance(y, fastnn.Tensor)
    np.testing.assert_allclose(y.numpy(), [[0.6, 0.8], [0, 0], [1, 0]], rtol=1e-6)
    y.sum().backward()
    assert t.grad.shape == (3, 2) and np.all(np.isfinite(t.grad.numpy()))


def test_set_random_seed_reproduces_every_generator():
    def draw():
        return (fastnn.rand(4).numpy().copy(), np.random.rand(3), random.random(),
                U.get_shuffle_rng().permutation(10), U.get_shuffle_rng().permutation(10))

    U.set_random_seed(123)
    a = draw()
    U.set_random_seed(123)
    b = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[3], a[4])  # the shuffle generator advances between epochs
    U.set_random_seed(124)
    assert not np.array_equal(draw()[3], a[3])
    U.set_random_seed(2**40)  # above NumPy's legacy limit
    with pytest.raises(TypeError, match="seed='1'"):
        U.set_random_seed("1")
    with pytest.raises(ValueError, match="seed=-1"):
        U.set_random_seed(-1)


def test_plot_history_and_roc(tmp_path):
    pytest.importorskip("matplotlib")
    hist = fastnn.callbacks.History()
    for e, logs in enumerate([{"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4},
                              {"loss": 0.6, "accuracy": 0.7, "val_loss": 0.9, "val_accuracy": 0.6}]):
        hist.on_epoch_end(e, logs)
    fig = U.plot_history(hist, str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].get_lines()) == 2
    U.plot_history(hist.history, str(tmp_path / "loss.svg"), metrics=["loss"])
    assert (tmp_path / "loss.svg").exists()
    with pytest.raises(ValueError, match="'auc' is not in the history"):
        U.plot_history(hist, None, metrics=["auc"])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    s = np.clip(y * 0.3 + rng.uniform(size=100) * 0.7, 0, 1)
    fig = U.plot_roc(y, s[:, None], str(tmp_path / "roc.png"))
    assert (tmp_path / "roc.png").stat().st_size > 0
    assert "AUC = " in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_plots_without_matplotlib_name_the_package(monkeypatch):
    real_import = builtins.__import__

    def no_mpl(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        U.plot_history({"loss": [1.0]}, None)
    with pytest.raises(ImportError, match="matplotlib"):
        U.plot_roc([0, 1], [0.2, 0.8], None)
