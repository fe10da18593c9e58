"""Weight constraints: Keras's formulas against NumPy, the projection after each optimizer step
(fit, train_on_batch, apply_gradients, apply), layer arguments, configs, saving, bad input."""

import math

import fastnn
import numpy as np
import pytest
from fastnn import constraints as C
from fastnn import initializers, optimizers, saving
from fastnn import layers as L
from fastnn.layers.base import clear_session
from oracle import TOL, assert_close

EPS = np.float32(1e-7)  # keras.backend.epsilon()


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


def _w(*shape, scale=1.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


# ------------------------------------------------------------------ NumPy transcriptions of Keras
def _np_axis(axis):
    return None if axis is None else (tuple(axis) if isinstance(axis, (list, tuple)) else axis)


def _np_norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=_np_axis(axis), keepdims=True, dtype=np.float32))


def np_max_norm(w, max_value, axis):
    norms = _np_norms(w, axis)
    desired = np.clip(norms, 0, np.float32(max_value))
    return w * (desired / (EPS + norms))


def np_min_max_norm(w, min_value, max_value, rate, axis):
    norms = _np_norms(w, axis)
    desired = np.float32(rate) * np.clip(norms, np.float32(min_value), np.float32(max_value)) + np.float32(
        1 - rate
    ) * norms
    return w * (desired / (EPS + norms))


def np_unit_norm(w, axis):
    return w / (EPS + _np_norms(w, axis))


def _reduced_len(shape, axis):
    if axis is None:
        return math.prod(shape)
    axes = [axis] if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


# Dense kernels (in, out), an odd-sized matrix, and 4-D conv kernels (kh, kw, cin, cout).
SHAPES_AXES = [
    ((7, 5), 0),
    ((7, 5), 1),
    ((13, 31), 0),
    ((13, 31), -1),
    ((13, 31), None),
    ((3, 3, 4, 8), 0),
    ((3, 3, 4, 8), [0, 1, 2]),
    ((3, 3, 4, 8), 3),
    ((3, 3, 4, 8), [1, 3]),
    ((5, 1, 3, 2), [0, 1, 2]),
    ((1,), 0),
]


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_max_norm_matches_keras_formula(shape, axis):
    w = _w(*shape, scale=0.7)
    got = C.MaxNorm(max_value=1.3, axis=axis)(w)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == shape
    tol = TOL["reduction"](_reduced_len(shape, axis))
    assert_close(got, np_max_norm(w, 1.3, axis), "max_norm", **tol)
    # vectors already inside the ball come back (nearly) unchanged, the others scaled to the bound
    norms = _np_norms(got, axis)
    assert (norms <= 1.3 + 1e-6).all()


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("min_value,max_value,rate", [(0.0, 1.0, 1.0), (0.8, 1.5, 1.0), (0.8, 1.5, 0.3)])
def test_min_max_norm_matches_keras_formula(shape, axis, min_value, max_value, rate):
    w = _w(*shape, scale=0.5, seed=1)
    got = C.MinMaxNorm(min_value, max_value, rate, axis)(w)
    tol = TOL["reduction"](_reduced_len(shape, axis))
    assert_close(got, np_min_max_norm(w, min_value, max_value, rate, axis), "min_max_norm", **tol)
    if rate == 1.0:
        norms = _np_norms(got, axis)
        assert (norms <= max_value + 1e-6).all() and (norms >= min_value - 1e-5).all()


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_unit_norm_matches_keras_formula(shape, axis):
    w = _w(*shape, scale=2.0, seed=2)
    got = C.UnitNorm(axis=axis)(w)
    tol = TOL["reduction"](_reduced_len(shape, axis))
    assert_close(got, np_unit_norm(w, axis), "unit_norm", **tol)
    assert_close(_np_norms(got, axis), np.ones_like(_np_norms(w, axis)), "unit_norm norms", **tol)


@pytest.mark.parametrize("shape", [(7, 5), (3, 3, 4, 8), (1031,)])
def test_non_neg_is_maximum_zero(shape):
    w = _w(*shape, seed=3)
    got = C.NonNeg()(w)
    assert_close(got, np.maximum(w, 0), "non_neg", **TOL["exact"])


def test_zero_vectors_stay_zero():
    w = np.zeros((4, 3), np.float32)
    w[:, 1] = [3, 0, 4, 0]
    for c in (C.MaxNorm(1.0), C.UnitNorm(), C.MinMaxNorm(0.0, 1.0)):
        got = c(w)
        assert np.all(got[:, [0, 2]] == 0) and np.isfinite(got).all()
        assert_close(got[:, 1], np.array([0.6, 0, 0.8, 0], np.float32), type(c).__name__, **TOL["elementwise"])


def test_tensor_in_tensor_out_without_a_graph():
    w = fastnn.tensor(_w(6, 4, scale=2.0), requires_grad=True)
    for c in (C.MaxNorm(0.5), C.UnitNorm(), C.NonNeg(), C.MinMaxNorm(0.1, 0.2)):
        out = c(w)
        assert isinstance(out, fastnn.Tensor) and out.shape == (6, 4)
        assert not out.requires_grad
    np.testing.assert_array_equal(C.Constraint()(w).numpy(), w.numpy())  # the base class is the identity
    # the input is not modified by calling a constraint
    before = w.numpy().copy()
    C.MaxNorm(0.1)(w)
    np.testing.assert_array_equal(w.numpy(), before)


def test_empty_weight_is_left_alone():
    w = np.zeros((0, 3), np.float32)
    assert C.MaxNorm()(w).shape == (0, 3)
    v = fastnn.Variable(w, constraint=C.UnitNorm())
    C.apply_to_variable(v)
    assert v.shape == (0, 3)


# ------------------------------------------------------------------ the optimizer applies them
def test_one_sgd_step_is_update_then_projection():
    w0 = _w(5, 3, scale=2.0)
    g = _w(5, 3, seed=9)
    v = fastnn.Variable(w0.copy(), constraint=C.MaxNorm(1.0))
    storage = v._data
    optimizers.SGD(learning_rate=0.1).apply_gradients([(g, v)])
    want = np_max_norm(w0 - np.float32(0.1) * g, 1.0, 0)
    assert_close(v.numpy(), want, "sgd + max_norm", **TOL["reduction"](5))
    assert v._data is storage  # projected in place


@pytest.mark.parametrize("opt", ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam", "adamax", "adadelta"])
def test_every_optimizer_projects(opt):
    v = fastnn.Variable(_w(6, 4, scale=2.0), constraint=C.NonNeg())
    other = fastnn.Variable(_w(6, 4, scale=2.0))
    o = optimizers.get(opt)
    o.apply_gradients([(_w(6, 4, seed=1), v), (_w(6, 4, seed=1), other)])
    assert (v.numpy() >= 0).all() and (v.numpy() == 0).any()
    assert (other.numpy() < 0).any()  # variables without a constraint are untouched


def test_apply_and_apply_gradients_both_project():
    a = fastnn.Variable(_w(8, 3, scale=2.0), constraint=C.MaxNorm(0.5))
    b = fastnn.Variable(_w(8, 3, scale=2.0, seed=4), constraint=C.MaxNorm(0.5))
    opt = optimizers.Adam(0.01)
    opt.build([a, b])
    opt.apply([_w(8, 3, seed=5), _w(8, 3, seed=6)])
    for v in (a, b):
        assert (np.linalg.norm(v.numpy(), axis=0) <= 0.5 + 1e-6).all()


def test_custom_constraints_subclass_and_function():
    class Clip(C.Constraint):
        def __init__(self, c=0.25):
            self.c = c

        def __call__(self, w):
            return fastnn.clip(w, -self.c, self.c)

        def get_config(self):
            return {"c": self.c}

    a = fastnn.Variable(_w(4, 4, scale=3.0), constraint=Clip())
    b = fastnn.Variable(_w(4, 4, scale=3.0), constraint=lambda w: np.round(w.numpy()))
    optimizers.SGD(0.01).apply_gradients([(np.ones((4, 4), np.float32), a), (np.ones((4, 4), np.float32), b)])
    assert np.abs(a.numpy()).max() <= 0.25
    np.testing.assert_array_equal(b.numpy(), np.round(b.numpy()))


def test_constraint_returning_a_wrong_shape_raises():
    v = fastnn.Variable(_w(4, 3), constraint=lambda w: np.zeros((3, 4), np.float32), name="kernel")
    with pytest.raises(ValueError, match=r"shape \(3, 4\) for a variable of shape \(4, 3\)"):
        optimizers.SGD(0.1).apply_gradients([(np.ones((4, 3), np.float32), v)])


def test_variable_constraint_must_be_callable():
    with pytest.raises(TypeError, match="constraint=3"):
        fastnn.Variable(_w(2, 2), constraint=3)


# ------------------------------------------------------------------ layers trained a few steps
def _col_norms(w, axis=0):
    return np.sqrt(np.sum(np.square(w.numpy() if hasattr(w, "numpy") else w), axis=_np_axis(axis)))


def _dense_model(constraint):
    return fastnn.models.Sequential([
        L.Input((20,)),
        L.Dense(16, activation="relu", kernel_constraint=constraint),
        L.Dense(1, kernel_constraint=constraint),
    ])


def _train(model, x, y, how, steps=5, lr=0.01):
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
    if how == "fit":
        model.fit(x, y, batch_size=8, epochs=steps, verbose=0, shuffle=False)
    elif how == "train_on_batch":
        for _ in range(steps):
            model.train_on_batch(x, y)
    else:  # a hand-written loop calling the optimizer
        opt = model.optimizer
        loss_fn = fastnn.losses.MeanSquaredError()
        for _ in range(steps):
            loss = loss_fn(fastnn.tensor(y), model(fastnn.tensor(x), training=True))
            loss.backward()
            pairs = [(w.grad, w) for w in model.trainable_weights]
            if how == "apply_gradients":
                opt.apply_gradients(pairs)
            else:
                opt.apply([g for g, _ in pairs], [w for _, w in pairs])
            for w in model.trainable_weights:
                w.grad = None


@pytest.mark.parametrize("how", ["fit", "train_on_batch", "apply_gradients", "apply"])
def test_dense_max_norm_holds_through_training(how):
    x, y = _w(32, 20), _w(32, 1, seed=1)
    fastnn.random.seed(0)
    free = _dense_model(None)
    fastnn.random.seed(0)
    bound = _dense_model(C.MaxNorm(0.5))
    _train(free, x, y, how)
    _train(bound, x, y, how)
    for lyr_free, lyr in zip(free.layers, bound.layers):
        assert _col_norms(lyr.kernel).max() <= 0.5 + 1e-6
        assert np.isfinite(lyr_free.kernel.numpy()).all() and _col_norms(lyr_free.kernel).max() > 0.5
        assert isinstance(lyr.kernel.constraint, C.MaxNorm) and lyr.bias.constraint is None


def test_conv2d_max_norm_per_filter():
    x, y = _w(8, 6, 6, 3), _w(8, 4, 4, 4, seed=1)

    def model(c):
        fastnn.random.seed(1)
        return fastnn.models.Sequential([L.Input((6, 6, 3)), L.Conv2D(4, 3, kernel_constraint=c)])

    free, bound = model(None), model(C.MaxNorm(0.5, axis=[0, 1, 2]))
    _train(free, x, y, "train_on_batch", steps=3)
    _train(bound, x, y, "train_on_batch", steps=3)
    assert _col_norms(bound.layers[0].kernel, [0, 1, 2]).max() <= 0.5 + 1e-6
    assert _col_norms(free.layers[0].kernel, [0, 1, 2]).max() > 0.5


def test_lstm_max_norm_on_kernel_and_recurrent_kernel():
    x, y = _w(8, 5, 16), _w(8, 8, seed=1)

    def model(c):
        fastnn.random.seed(2)
        return fastnn.models.Sequential([L.Input((5, 16)), L.LSTM(8, kernel_constraint=c, recurrent_constraint=c)])

    free, bound = model(None), model(C.MaxNorm(0.5))
    _train(free, x, y, "fit", steps=3)
    _train(bound, x, y, "fit", steps=3)
    cell = bound.layers[0].cell
    assert _col_norms(cell.kernel).max() <= 0.5 + 1e-6
    assert _col_norms(cell.recurrent_kernel).max() <= 0.5 + 1e-6
    assert _col_norms(free.layers[0].cell.kernel).max() > 0.5


@pytest.mark.parametrize("sparse", [True, False])
def test_embedding_max_norm_applies_to_the_whole_matrix(sparse):
    idx = np.array([[1, 2, 3], [3, 4, 1]], np.float32)
    y = _w(2, 3, 8, seed=1)

    def model(c):
        fastnn.random.seed(3)
        return fastnn.models.Sequential([
            L.Input((3,)),
            L.Embedding(10, 8, embeddings_initializer=initializers.RandomUniform(-1, 1), embeddings_constraint=c,
                        sparse=sparse),
        ])

    free, bound = model(None), model(C.MaxNorm(0.5, axis=1))
    _train(free, idx, y, "train_on_batch", steps=3)
    _train(bound, idx, y, "train_on_batch", steps=3)
    # every row (also those no batch looked up), as Keras constrains the whole variable
    assert _col_norms(bound.layers[0].embeddings, 1).max() <= 0.5 + 1e-6
    assert _col_norms(free.layers[0].embeddings, 1).max() > 0.5


def test_non_neg_keeps_weights_non_negative():
    x, y = _w(32, 20), _w(32, 1, seed=1)
    m = fastnn.models.Sequential([
        L.Input((20,)),
        L.Dense(8, activation="relu", kernel_constraint="non_neg", bias_constraint=C.NonNeg()),
        L.Dense(1),
    ])
    _train(m, x, y, "fit")
    k, b = m.layers[0].kernel.numpy(), m.layers[0].bias.numpy()
    assert np.isfinite(k).all() and (k >= 0).all() and (b >= 0).all() and (k == 0).any()


def test_frozen_layer_is_not_projected():
    m = _dense_model(C.MaxNorm(0.5))
    m.layers[0].trainable = False
    before = m.layers[0].kernel.numpy().copy()
    _train(m, _w(16, 20), _w(16, 1), "train_on_batch", steps=1)
    np.testing.assert_array_equal(m.layers[0].kernel.numpy(), before)


def test_bidirectional_copies_carry_the_constraints():
    class Clip(C.Constraint):  # not registered: a config could not name it
        def __call__(self, w):
            return fastnn.clip(w, -0.1, 0.1)

    def halve_big(w):
        a = w.numpy()
        return np.where(np.abs(a) > 0.2, a * 0.5, a)

    b = L.Bidirectional(L.LSTM(3, kernel_constraint=Clip(), recurrent_constraint=halve_big))
    m = fastnn.models.Sequential([L.Input((5, 4)), b])
    _train(m, _w(8, 5, 4), _w(8, 6, seed=1), "train_on_batch", steps=2)
    for lyr in (b.forward_layer, b.backward_layer):
        assert isinstance(lyr.cell.kernel.constraint, Clip) and lyr.cell.recurrent_kernel.constraint is halve_big
        assert np.abs(lyr.cell.kernel.numpy()).max() <= 0.1


def test_normalization_and_attention_constraints_are_on_the_weights():
    bn = L.BatchNormalization(gamma_constraint="non_neg", beta_constraint=C.MaxNorm(1.0))
    bn.build((None, 4))
    assert isinstance(bn.gamma.constraint, C.NonNeg) and isinstance(bn.beta.constraint, C.MaxNorm)
    assert bn.moving_mean.constraint is None
    ln = L.LayerNormalization(gamma_constraint="unit_norm")
    ln.build((None, 4))
    assert isinstance(ln.gamma.constraint, C.UnitNorm) and ln.beta.constraint is None
    mha = L.MultiHeadAttention(2, 3, kernel_constraint=C.MaxNorm(0.5), bias_constraint="non_neg")
    x = fastnn.randn(2, 4, 6)
    mha(x, x)
    kernels = [w for w in mha.weights if w.name == "kernel"]
    biases = [w for w in mha.weights if w.name == "bias"]
    assert len(kernels) == 4 and all(isinstance(w.constraint, C.MaxNorm) for w in kernels)
    assert len(biases) == 4 and all(isinstance(w.constraint, C.NonNeg) for w in biases)


@pytest.mark.parametrize(
    "factory,weights",
    [
        (lambda: L.Dense(3, kernel_constraint="max_norm", bias_constraint="non_neg"),
         {"kernel": C.MaxNorm, "bias": C.NonNeg}),
        (lambda: L.Conv1D(3, 2, kernel_constraint=C.UnitNorm(axis=[0, 1])), {"kernel": C.UnitNorm}),
        (lambda: L.Conv2DTranspose(3, 2, bias_constraint="non_neg"), {"bias": C.NonNeg}),
        (lambda: L.DepthwiseConv2D(3, depthwise_constraint="unit_norm", bias_constraint="non_neg"),
         {"kernel": C.UnitNorm, "bias": C.NonNeg}),
        (lambda: L.SeparableConv2D(4, 3, depthwise_constraint="max_norm", pointwise_constraint="non_neg"),
         {"depthwise_kernel": C.MaxNorm, "pointwise_kernel": C.NonNeg}),
        (lambda: L.GRU(3, kernel_constraint="non_neg", recurrent_constraint="unit_norm", bias_constraint="max_norm"),
         {"kernel": C.NonNeg, "recurrent_kernel": C.UnitNorm, "bias": C.MaxNorm}),
        (lambda: L.SimpleRNN(3, recurrent_constraint=C.MinMaxNorm(0.5, 1.0)), {"recurrent_kernel": C.MinMaxNorm}),
    ],
)
def test_layer_arguments_reach_the_weights_and_the_config(factory, weights):
    layer = factory()
    shape = (2, 5, 4) if isinstance(layer, (L.Conv1D, L.GRU, L.SimpleRNN)) else (2, 6, 6, 4)
    layer(fastnn.randn(*shape))
    by_name = {w.name: w for w in layer.weights}
    for name, cls in weights.items():
        assert isinstance(by_name[name].constraint, cls), name
    others = [w for w in layer.weights if w.name not in weights]
    assert all(w.constraint is None for w in others)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(fastnn.randn(*shape))
    for w in clone.weights:
        want = by_name[w.name].constraint
        assert (w.constraint is None) == (want is None)
        if want is not None:
            assert type(w.constraint) is type(want) and w.constraint.get_config() == want.get_config()


# ------------------------------------------------------------------ get / serialize
@pytest.mark.parametrize(
    "name,cls",
    [("max_norm", C.MaxNorm), ("MaxNorm", C.MaxNorm), ("non_neg", C.NonNeg), ("NonNeg", C.NonNeg),
     ("unit_norm", C.UnitNorm), ("UnitNorm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm),
     ("MinMaxNorm", C.MinMaxNorm)],
)
def test_get_by_name(name, cls):
    c = C.get(name)
    assert type(c) is cls


def test_get_other_identifiers():
    assert C.get(None) is None
    m = C.MaxNorm(3)
    assert C.get(m) is m
    assert isinstance(C.get(C.UnitNorm), C.UnitNorm)
    fn = lambda w: w  # noqa: E731
    assert C.get(fn) is fn
    c = C.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1]}})
    assert isinstance(c, C.MaxNorm) and c.max_value == 3.0 and c.axis == [0, 1]
    # the Keras 3 serialized form (module, registered_name)
    keras_form = {"module": "keras.constraints", "class_name": "MinMaxNorm",
                  "config": {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": 1}, "registered_name": None}
    c = C.get(keras_form)
    assert c.get_config() == {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": 1}
    assert C.max_norm is C.MaxNorm and C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm
    assert C.min_max_norm is C.MinMaxNorm


@pytest.mark.parametrize(
    "c", [C.MaxNorm(1.5, axis=[0, 1, 2]), C.MinMaxNorm(0.2, 0.9, 0.7, axis=-1), C.NonNeg(), C.UnitNorm(axis=None),
          C.MaxNorm()],
)
def test_serialize_round_trip(c):
    d = C.serialize(c)
    assert d["class_name"] == type(c).__name__
    back = C.deserialize(d)
    assert type(back) is type(c) and back.get_config() == c.get_config()
    assert type(c).from_config(c.get_config()).get_config() == c.get_config()
    w = _w(3, 3, 2, 4, scale=2.0)
    np.testing.assert_array_equal(back(w), c(w))
    assert C.serialize(None) is None


def test_defaults_follow_keras():
    assert C.MaxNorm().get_config() == {"max_value": 2.0, "axis": 0}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert C.UnitNorm().get_config() == {"axis": 0}
    assert C.NonNeg().get_config() == {}


def test_registered_custom_constraint_round_trip():
    @saving.register_serializable(package="tests")
    class Halve(C.Constraint):
        def __call__(self, w):
            return w * 0.5

    d = C.serialize(Halve())
    assert isinstance(C.deserialize(d), Halve)
    layer = L.Dense(2, kernel_constraint=Halve())
    assert isinstance(L.Dense.from_config(layer.get_config()).kernel_constraint, Halve)


def test_model_with_constraints_saved_and_loaded(tmp_path):
    m = fastnn.models.Sequential([
        L.Input((4,)),
        L.Embedding(12, 6, embeddings_constraint=C.UnitNorm(axis=1)),
        L.LSTM(5, recurrent_constraint=C.MaxNorm(0.5), return_sequences=True),
        L.Conv1D(3, 2, kernel_constraint=C.MinMaxNorm(0.1, 0.4, rate=0.5, axis=[0, 1])),
        L.Flatten(),
        L.Dense(2, kernel_constraint="max_norm", bias_constraint=C.NonNeg()),
    ])
    m.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).integers(0, 12, size=(8, 4)).astype(np.float32)
    y = _w(8, 2)
    m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    p = tmp_path / "constrained.keras"
    m.save(p)
    m2 = fastnn.models.load_model(p)
    assert m2.get_config() == m.get_config()
    for a, b in zip(m.weights, m2.weights):
        assert (a.constraint is None) == (b.constraint is None), a.path
        if a.constraint is not None:
            assert type(a.constraint) is type(b.constraint) and a.constraint.get_config() == b.constraint.get_config()
    emb = m2.layers[0].embeddings
    assert isinstance(emb.constraint, C.UnitNorm)
    m2.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert_close(_col_norms(emb, 1), np.ones(12, np.float32), "unit_norm after loading", **TOL["reduction"](6))
    assert _col_norms(m2.layers[1].cell.recurrent_kernel).max() <= 0.5 + 1e-6


# ------------------------------------------------------------------ bad input
def test_bad_arguments_raise_value_errors_quoting_the_value():
    with pytest.raises(ValueError, match=r"max_value=-1"):
        C.MaxNorm(-1)
    with pytest.raises(ValueError, match=r"max_value='big'"):
        C.MaxNorm("big")
    with pytest.raises(ValueError, match=r"min_value=-0.5"):
        C.MinMaxNorm(min_value=-0.5)
    with pytest.raises(ValueError, match=r"min_value=2, max_value=1"):
        C.MinMaxNorm(2, 1)
    with pytest.raises(ValueError, match=r"rate=1.5"):
        C.MinMaxNorm(rate=1.5)
    with pytest.raises(ValueError, match=r"axis='rows'"):
        C.UnitNorm(axis="rows")
    with pytest.raises(ValueError, match=r"axis=\[0, 0\]"):
        C.MaxNorm(axis=[0, 0])
    with pytest.raises(ValueError, match=r"'maxnorm'"):
        C.get("maxnorm")
    with pytest.raises(ValueError, match=r"'bogus'"):
        L.Dense(3, kernel_constraint="bogus")
    with pytest.raises(ValueError, match=r"'Bogus'"):
        C.get({"class_name": "Bogus", "config": {}})
    with pytest.raises(TypeError, match=r"3"):
        C.get(3)


def test_axis_out_of_range_names_axis_and_shape():
    with pytest.raises(ValueError, match=r"axis=2 is out of range for a weight of shape \(4, 3\)"):
        C.MaxNorm(axis=2)(_w(4, 3))
    with pytest.raises(ValueError, match=r"axis=\[0, -2\] names an axis twice .* shape \(4, 3\)"):
        C.UnitNorm(axis=[0, -2])(_w(4, 3))
    # a Dense kernel with a conv-style axis fails at the first step, naming the weight's shape
    m = fastnn.models.Sequential([L.Input((3,)), L.Dense(2, kernel_constraint=C.MaxNorm(axis=[0, 1, 2]))])
    m.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        m.train_on_batch(_w(4, 3), _w(4, 2))


def test_non_float_input_is_rejected():
    with pytest.raises(TypeError, match="dtype"):
        C.MaxNorm()(np.array(["a", "b"]))
