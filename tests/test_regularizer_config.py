"""Regularizers in layer configs (Keras 3's regularizers.serialize/get): built-ins by config,
registered or custom_objects classes and functions by name, lambdas refused at save time, and
Bidirectional's copies sharing the penalties."""

import os

import fastnn
import numpy as np
import pytest
from fastnn import layers as L
from fastnn import regularizers as R
from fastnn import saving
from fastnn.models import Sequential, load_model
from oracle import TOL, assert_close

rng = np.random.default_rng(11)


def _total(losses) -> float:
    return float(sum(float(t.item()) for t in losses))


def _model(**dense_kwargs):
    return Sequential([L.Input((3,)), L.Dense(4, name="d", **dense_kwargs)])


def scaled_sum(w):
    return w.abs().sum() * 0.25


@saving.register_keras_serializable(package="tests")
def registered_square(w):
    return w.square().sum() * 0.5


@saving.register_keras_serializable(package="tests")
class SumAbs(R.Regularizer):
    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, x):
        return x.abs().sum() * self.factor

    def get_config(self):
        return {"factor": self.factor}


class Unregistered(R.Regularizer):
    def __init__(self, factor=0.3):
        self.factor = factor

    def __call__(self, x):
        return x.square().sum() * self.factor

    def get_config(self):
        return {"factor": self.factor}


@pytest.mark.parametrize("reg", [R.L1(0.02), R.L2(0.3), R.L1L2(0.1, 0.2)])
def test_builtins_round_trip_by_config(reg, tmp_path):
    m = _model(kernel_regularizer=reg, bias_regularizer="l2")
    conf = m.layers[0].get_config()["kernel_regularizer"]
    assert conf["class_name"] == type(reg).__name__ and conf["config"] == reg.get_config()
    path = os.fspath(tmp_path / "m.keras")
    m.save(path)
    back = load_model(path)
    lyr = back.layers[0]
    assert type(lyr.kernel_regularizer) is type(reg) and lyr.kernel_regularizer.get_config() == reg.get_config()
    assert isinstance(lyr.bias_regularizer, R.L2)
    assert_close(_total(back.losses), _total(m.losses), **TOL["reduction"](64))


def test_registered_class_and_function_load_without_custom_objects(tmp_path):
    m = _model(kernel_regularizer=SumAbs(0.7), bias_regularizer=registered_square,
               activity_regularizer=registered_square)
    conf = m.layers[0].get_config()
    assert conf["kernel_regularizer"]["registered_name"] == "tests>SumAbs"
    assert conf["bias_regularizer"]["class_name"] == "function"
    assert conf["bias_regularizer"]["registered_name"] == "tests>registered_square"
    path = os.fspath(tmp_path / "m.keras")
    m.save(path)
    back = load_model(path)
    lyr = back.layers[0]
    assert isinstance(lyr.kernel_regularizer, SumAbs) and lyr.kernel_regularizer.factor == 0.7
    assert lyr.bias_regularizer is registered_square and lyr.activity_regularizer is registered_square
    assert_close(_total(back.losses), _total(m.losses), **TOL["reduction"](64))


def test_unregistered_class_and_function_need_custom_objects(tmp_path):
    m = _model(kernel_regularizer=Unregistered(0.4), bias_regularizer=scaled_sum)
    path = os.fspath(tmp_path / "m.keras")
    m.save(path)
    with pytest.raises(ValueError, match="Unregistered"):
        load_model(path)
    with pytest.raises(ValueError, match="scaled_sum"):
        load_model(path, custom_objects={"Unregistered": Unregistered})
    back = load_model(path, custom_objects={"Unregistered": Unregistered, "scaled_sum": scaled_sum})
    lyr = back.layers[0]
    assert isinstance(lyr.kernel_regularizer, Unregistered) and lyr.kernel_regularizer.factor == 0.4
    assert lyr.bias_regularizer is scaled_sum
    np.testing.assert_array_equal(back.layers[0].kernel.numpy(), m.layers[0].kernel.numpy())
    assert_close(_total(back.losses), _total(m.losses), **TOL["reduction"](64))
    # the layer-level round trip keeps the function too
    with saving.custom_object_scope({"scaled_sum": scaled_sum, "Unregistered": Unregistered}):
        clone = L.Dense.from_config(m.layers[0].get_config())
    assert clone.bias_regularizer is scaled_sum


@pytest.mark.parametrize("arg", ["kernel_regularizer", "bias_regularizer", "activity_regularizer"])
def test_lambda_is_refused_at_save_time(arg, tmp_path):
    m = _model(**{arg: lambda w: w.abs().sum()})
    path = tmp_path / "m.keras"
    with pytest.raises(ValueError, match=rf"layer 'd' has {arg}=<lambda>"):
        m.save(os.fspath(path))
    assert not path.exists() and os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match=rf"layer 'd' has {arg}=<lambda>"):
        m.to_json()


def test_lambda_in_a_nested_rnn_names_the_layer(tmp_path):
    m = Sequential([L.Input((5, 2)), L.LSTM(3, name="enc", recurrent_regularizer=lambda w: w.sum() * 0.0)])
    with pytest.raises(ValueError, match="layer 'enc' has recurrent_regularizer=<lambda>"):
        m.save(os.fspath(tmp_path / "m.keras"))


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
def test_bidirectional_copy_keeps_the_penalties(cls):
    lam = lambda w: w.square().sum() * 0.125  # noqa: E731 - a lambda cannot go through a config
    inner = cls(3, kernel_regularizer=scaled_sum, recurrent_regularizer=lam, bias_regularizer=Unregistered(0.2),
                activity_regularizer=R.L1(0.01), return_sequences=False)
    b = L.Bidirectional(inner)
    x = fastnn.tensor(rng.standard_normal((2, 5, 4)).astype(np.float32))
    out = b(x)  # concat of both directions' outputs: their L1 activity penalties sum to one over out
    for lyr in (b.forward_layer, b.backward_layer):
        assert lyr.cell.kernel_regularizer is scaled_sum and lyr.cell.recurrent_regularizer is lam
        assert isinstance(lyr.cell.bias_regularizer, Unregistered)
        assert isinstance(lyr.activity_regularizer, R.L1)
    want = 0.0
    for lyr in (b.forward_layer, b.backward_layer):
        want += float(scaled_sum(lyr.cell.kernel).item()) + float(lam(lyr.cell.recurrent_kernel).item())
        want += float(Unregistered(0.2)(lyr.cell.bias).item())
    weight_losses = [w.regularizer(w) for w in b.weights if w.regularizer is not None]
    assert len(weight_losses) == 6
    assert_close(_total(weight_losses), want, **TOL["reduction"](64))
    activity = 0.01 * float(np.abs(out.numpy()).sum())
    assert len(b.losses) == 8  # 6 weight penalties + one activity penalty per direction
    assert_close(_total(b.losses), want + activity, **TOL["reduction"](64))


def test_get_and_serialize_follow_keras():
    assert R.get(None) is None and R.serialize(None) is None
    assert isinstance(R.get(R.L2), R.L2)
    assert R.get(scaled_sum) is scaled_sum
    r = R.get({"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2},
               "registered_name": None})
    assert isinstance(r, R.L1L2) and r.get_config() == {"l1": 0.1, "l2": 0.2}
    d = R.serialize(R.L2(0.5))
    assert d["class_name"] == "L2" and d["config"] == {"l2": 0.5}
    assert R.deserialize(d).get_config() == {"l2": 0.5}
    with pytest.raises(ValueError, match="Unknown regularizer class 'Nope'"):
        R.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="cannot interpret 3"):
        R.get(3)
