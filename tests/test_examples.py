"""The examples and `python -m fastnn demo` run end to end and learn."""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_binary_classifier_example(tmp_path, capsys):
    acc = _load("binary_classifier").main(epochs=500, roc_path=None, verbose=0)
    assert acc >= 0.85
    assert "ROC AUC" in capsys.readouterr().out


def test_multiclass_classifier_example():
    assert _load("multiclass_classifier").main(epochs=100, verbose=0) >= 0.93


def test_demo_reaches_good_accuracy(capsys):
    from fastnn.demo import main

    assert main(epochs=20, verbose=0) >= 0.95
    out = capsys.readouterr().out
    assert "test accuracy" in out and "confusion matrix" in out


def test_python_m_fastnn_demo():
    out = subprocess.run([sys.executable, "-m", "fastnn", "demo", "--epochs", "2"], capture_output=True, text=True,
                         check=True).stdout
    assert "Epoch 2/2" in out and "test accuracy" in out
