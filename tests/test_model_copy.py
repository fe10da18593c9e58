"""copy.deepcopy(model) and fastnn.models.clone_model for Sequential and functional models:
same predictions, independent training, shared layers kept shared, nested models, fresh weights."""

import copy

import numpy as np
import pytest
from fastnn import layers as L
from fastnn.models import Model, Sequential, clone_model
from oracle import TOL, assert_close

rng = np.random.default_rng(7)
X = rng.standard_normal((6, 4)).astype(np.float32)
Y = rng.standard_normal((6, 2)).astype(np.float32)


def _sequential():
    return Sequential([L.Input((4,)), L.Dense(5, activation="relu"), L.Dropout(0.2), L.Dense(2)], name="seq")


def _functional_shared():
    a, b = L.Input((4,), name="a"), L.Input((4,), name="b")
    shared = L.Dense(3, activation="tanh", name="shared")
    h = L.Concatenate()([shared(a), shared(b)])
    return Model([a, b], L.Dense(2, name="head")(h), name="siamese")


def _nested():
    inner = Sequential([L.Input((4,)), L.Dense(3, activation="relu")], name="inner")
    x = L.Input((4,))
    return Model(x, L.Dense(2)(inner(x)), name="outer")


def _data(model):
    return [X, X[::-1].copy()] if len(model.inputs) == 2 else X


BUILDERS = [_sequential, _functional_shared, _nested]


@pytest.mark.parametrize("build", BUILDERS)
def test_deepcopy_predicts_the_same_and_trains_independently(build):
    m = build()
    m.compile(optimizer="adam", loss="mse")
    m.train_on_batch(_data(m), Y)  # optimizer slots and a compiled state are copied too
    m.predict(_data(m), verbose=0)  # and the cached inference plans
    c = copy.deepcopy(m)
    assert_close(c.predict(_data(c), verbose=0), m.predict(_data(m), verbose=0), "deepcopy", **TOL["exact"])
    assert all(a is not b for a, b in zip(c.weights, m.weights))
    before = [w.copy() for w in m.get_weights()]
    for _ in range(3):
        c.train_on_batch(_data(c), Y)
    for w, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    assert any(not np.array_equal(w, b) for w, b in zip(c.get_weights(), before))
    assert int(c.optimizer.iterations) == 4 and int(m.optimizer.iterations) == 1
    # the original trains on as before, on its own variables
    m.train_on_batch(_data(m), Y)
    assert any(not np.array_equal(w, b) for w, b in zip(m.get_weights(), before))


def test_deepcopy_keeps_shared_layers_shared():
    m = _functional_shared()
    c = copy.deepcopy(m)
    uses = [lyr for lyr in c.layers if lyr.name == "shared"]
    assert len(uses) == 1 and uses[0] is not m.get_layer("shared")
    assert len(c.weights) == len(m.weights) == 4
    c.get_layer("shared").kernel.assign(np.zeros((4, 3), np.float32))
    out = c.predict(_data(c), verbose=0)
    np.testing.assert_allclose(out, np.broadcast_to(c.get_layer("head").bias.numpy(), out.shape), atol=1e-6)


def test_deepcopy_of_a_nested_model_copies_the_inner_model():
    m = _nested()
    c = copy.deepcopy(m)
    assert c.get_layer("inner") is not m.get_layer("inner")
    assert_close(c.predict(X, verbose=0), m.predict(X, verbose=0), "deepcopy nested", **TOL["exact"])


@pytest.mark.parametrize("build", BUILDERS)
def test_clone_model_has_fresh_weights_of_the_same_shapes(build):
    m = build()
    c = clone_model(m)
    assert type(c) is type(m) and c.name == m.name
    assert [tuple(w.shape) for w in c.weights] == [tuple(w.shape) for w in m.weights]
    assert [lyr.name for lyr in c.layers] == [lyr.name for lyr in m.layers]
    kernels = [(a, b) for a, b in zip(c.get_weights(), m.get_weights()) if a.ndim == 2]
    assert kernels and all(not np.array_equal(a, b) for a, b in kernels)
    c.set_weights(m.get_weights())
    assert_close(c.predict(_data(c), verbose=0), m.predict(_data(m), verbose=0), "clone_model", **TOL["exact"])
    c.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in m.get_weights()]
    c.train_on_batch(_data(c), Y)
    for w, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(w, b)


def test_clone_model_keeps_shared_layers_shared():
    c = clone_model(_functional_shared())
    assert sum(lyr.name == "shared" for lyr in c.layers) == 1 and len(c.weights) == 4


def test_clone_model_input_tensors_and_clone_function():
    m = _sequential()
    x = L.Input((4,), name="new_in")
    c = clone_model(m, input_tensors=x)
    assert c.inputs[0].shape == (None, 4)
    # clone_function returning the layer itself shares it (and its weights) with the original
    shared = clone_model(m, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(shared.weights, m.weights))
    f = _functional_shared()
    renamed = clone_model(f, clone_function=lambda layer: type(layer).from_config(
        dict(layer.get_config(), name="c_" + layer.name)))
    assert {lyr.name for lyr in renamed.layers} >= {"c_shared", "c_head"}
    a, b = L.Input((4,)), L.Input((4,))
    on_new = clone_model(f, input_tensors=[a, b])
    assert on_new.inputs[0] is a and on_new.inputs[1] is b


def test_clone_model_bad_arguments():
    with pytest.raises(TypeError, match="Sequential or functional Model"):
        clone_model(L.Dense(2))
    with pytest.raises(TypeError, match="must return a Layer"):
        clone_model(_sequential(), clone_function=lambda layer: 3)
    with pytest.raises(ValueError, match="has 2 inputs but input_tensors holds 1"):
        clone_model(_functional_shared(), input_tensors=[L.Input((4,))])
    with pytest.raises(TypeError, match="symbolic tensors"):
        clone_model(_sequential(), input_tensors=np.zeros((2, 4)))
