"""The examples and `python -m fastnn demo` run end to end and learn.

Every example states its runtime in its docstring (shown by --help) and has a --quick mode of
seconds whose printed result is still meaningful; the tests run the quick modes and check that
result against chance or the naive baseline.
"""

import importlib.util
import os
import re
import runpy
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _fashion_mnist_or_skip():
    from fastnn.datasets import fashion_mnist

    try:
        fashion_mnist.load_data()
    except FileNotFoundError as e:
        pytest.skip(f"Fashion-MNIST files absent: {e}")


def _printed(capsys, *needles):
    """The captured output; each needle must occur in it, and it must stay short."""
    out = capsys.readouterr().out
    for needle in needles:
        assert needle in out, out
    assert out.count("\n") < 60, f"{out.count(chr(10))} lines printed:\n{out}"
    return out


# ---- every example: --help states the runtime and what is printed, and offers --quick ---------


@pytest.mark.parametrize("name", EXAMPLES)
def test_help_states_runtime_output_and_quick_mode(name, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [name + ".py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(os.path.join(ROOT, "examples", name + ".py"), run_name="__main__")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--quick" in text
    assert re.search(r"Full run \(.*\): about \d[^ ]* (s|seconds?|minutes?) on 2 cores", " ".join(text.split())), text
    assert re.search(r"--quick \(.*\): about \d", " ".join(text.split())) or "--quick runs it unchanged" in text, text
    assert "FULL_TIME" not in text and "QUICK_" not in text


def test_quick_flag_on_the_command_line():
    """binary_classifier --quick through the command line: 500 epochs in about 20 lines, not 1,000."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "binary_classifier.py"), "--quick"],
                         capture_output=True, text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS="2")).stdout
    assert "epoch 500/500" in out and "test accuracy" in out and "ROC AUC" in out
    assert out.count("\n") < 40, out
    acc = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert acc >= 0.85  # a constant guess scores 0.63


# ---- the quick mode of each example: a meaningful result -----------------------------------------
# binary_classifier, multiclass_classifier, vae_digits, forecasting, rnn_sentiment and
# date_translation take seconds in full, and --quick runs them unchanged: these tests run main().


def test_binary_classifier_quick(capsys):
    acc = _load("binary_classifier").main()
    out = _printed(capsys, "ROC AUC", "a constant guess", "epoch 250/500")
    assert acc >= 0.85  # a constant guess scores 0.63
    assert float(re.search(r"ROC AUC ([0-9.]+)", out).group(1)) >= 0.9


def test_multiclass_classifier_quick(capsys):
    acc = _load("multiclass_classifier").main()
    _printed(capsys, "test accuracy", "confusion matrix", "epoch 100/100")
    assert acc >= 0.93  # the most common class is 0.40 of the test set


def test_vae_digits_quick(capsys):
    res = _load("vae_digits").main()
    _printed(capsys, "nearest latent centroid", "epoch 30/30")
    assert res["last_loss"] < 0.8 * res["first_loss"]
    assert res["last_kl_loss"] > 0
    assert res["latent_centroid_accuracy"] > 0.3  # chance: 0.1


def test_forecasting_quick(capsys):
    lstm, naive = _load("forecasting").main(verbose=1)
    _printed(capsys, "held-out MSE", "epoch 5/20")
    assert lstm < 0.5 * naive


@pytest.mark.slow
def test_rnn_sentiment_quick(capsys):
    acc = _load("rnn_sentiment").main(verbose=0)
    _printed(capsys, "(chance: 0.5)")
    assert acc > 0.8


@pytest.mark.slow
def test_date_translation_quick(capsys):
    res = _load("date_translation").main(plot_path=None, verbose=0)
    _printed(capsys, "held-out exact match")
    assert res["greedy"] >= 0.98 and res["beam"] >= 0.98


@pytest.mark.slow
def test_adding_problem_quick(capsys):
    results, runs = _load("adding_problem").main(quick=True, plot_path=None)
    _printed(capsys, "quick run", "baseline 0.167")
    # In 5 epochs the GRU is far below the mean's 1/6 and the SimpleRNN on it (the LSTM, still on
    # its plateau, gets off it around epoch 9: the full run).
    assert results["GRU"]["test_mse"] < 0.01
    assert results["SimpleRNN"]["test_mse"] > 0.8 * (1 / 6)
    assert runs["no clipping"]["max_batch_loss"] > 1e3 and runs["clipnorm=0.1"]["max_batch_loss"] < 10


@pytest.mark.slow
def test_course_cnn_quick(capsys):
    _fashion_mnist_or_skip()
    with pytest.warns(DeprecationWarning):  # lr=, decay= and predict_classes, as the notes write them
        acc = _load("course_cnn").main(quick=True, dataset="fashion_mnist", verbose=0)
    _printed(capsys, "fashion_mnist: test accuracy", "quick run")
    assert acc >= 0.75  # chance: 0.1; the full run reaches 0.87


@pytest.mark.slow
def test_lenet5_quick(capsys):
    _fashion_mnist_or_skip()
    acc = _load("lenet5_fashion_mnist").main(quick=True, verbose=0)
    _printed(capsys, "test accuracy", "quick run")
    assert acc >= 0.8  # chance: 0.1; the full run reaches 0.90


@pytest.mark.slow
def test_resnet_quick(capsys):
    """Two epochs on 6,000 images. Without recomputing batch norm's moving statistics after the
    short fit the test accuracy was 0.13, chance level, with 0.81 training accuracy."""
    _fashion_mnist_or_skip()
    acc = _load("resnet_fashion_mnist").main(quick=True, verbose=0)
    _printed(capsys, "test accuracy", "quick run")
    assert acc >= 0.7  # chance: 0.1; the full run reaches 0.92


def test_resnet_batch_norm_statistics_are_recomputed():
    """After the recomputation over one batch, inference (moving statistics) gives what
    training mode (that batch's statistics) gives; before it, it does not."""
    import fastnn
    import numpy as np

    mod = _load("resnet_fashion_mnist")
    fastnn.utils.set_random_seed(0)
    model = mod.build(width=4)
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    with fastnn.no_grad():
        train_mode = np.asarray(model(x, training=True))
    assert np.abs(model.predict(x, verbose=0) - train_mode).max() > 0.05
    mod.recompute_batch_norm_statistics(model, x, batch_size=64)
    assert {layer.momentum for layer in model.layers if hasattr(layer, "moving_mean")} == {0.99}  # restored
    np.testing.assert_allclose(model.predict(x, verbose=0), train_mode, atol=1e-4)


# ---- the demo of `python -m fastnn` ----------------------------------------------------------


def test_demo_reaches_good_accuracy(capsys):
    from fastnn.demo import main

    assert main(epochs=20, verbose=0) >= 0.95
    out = capsys.readouterr().out
    assert "test accuracy" in out and "confusion matrix" in out


def test_python_m_fastnn_demo():
    out = subprocess.run([sys.executable, "-m", "fastnn", "demo", "--epochs", "2"], capture_output=True, text=True,
                         check=True).stdout
    assert "Epoch 2/2" in out and "test accuracy" in out

