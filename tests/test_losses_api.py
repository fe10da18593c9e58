"""fastnn.losses: the Keras 3 loss classes (reductions, sample weights, get) against torch."""

import warnings

import fastnn
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastnn import losses as L
from oracle import TOL, assert_close

rng = np.random.default_rng(0)


def _torch_per_sample(kind, t, p, from_logits=False, ls=0.0, **kw):
    """The Keras per-sample loss computed with torch (float64 for a clean reference)."""
    t = torch.from_numpy(np.asarray(t, np.float64))
    p = torch.from_numpy(np.asarray(p, np.float64))
    if kind == "mse":
        return ((t - p) ** 2).mean(-1)
    if kind == "mae":
        return (t - p).abs().mean(-1)
    if kind == "bce":
        t = t * (1 - ls) + 0.5 * ls
        if from_logits:
            return TF.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1)
        p = p.clamp(1e-7, 1 - 1e-7)
        return -(t * p.log() + (1 - t) * (1 - p).log()).mean(-1)
    if kind == "cce":
        c = p.shape[-1]
        t = t * (1 - ls) + ls / c
        if from_logits:
            return -(t * TF.log_softmax(p, -1)).sum(-1)
        p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -(t * p.log()).sum(-1)
    if kind == "scce":
        lab = t.long()
        if from_logits:
            return TF.cross_entropy(p, lab, reduction="none")
        p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -p.log().gather(-1, lab[..., None])[..., 0]
    return _torch_new(kind, t, p, from_logits, ls, **kw)


def _torch_new(kind, t, p, from_logits, ls, delta=1.0, gamma=2.0, alpha=0.25, balance=False):
    if kind == "mape":
        return (100 * ((t - p) / t.abs().clamp_min(1e-7)).abs()).mean(-1)
    if kind == "msle":
        return ((torch.log1p(p.clamp_min(1e-7)) - torch.log1p(t.clamp_min(1e-7))) ** 2).mean(-1)
    if kind == "huber":
        return TF.huber_loss(p, t, reduction="none", delta=delta).mean(-1)
    if kind == "log_cosh":
        return torch.log(torch.cosh(p - t)).mean(-1)
    if kind == "cosine":
        return -TF.cosine_similarity(p, t, dim=-1)
    if kind == "kld":
        return TF.kl_div(p.log(), t, reduction="none").sum(-1)
    if kind == "poisson":
        return TF.poisson_nll_loss(p, t, log_input=False, full=False, eps=1e-7, reduction="none").mean(-1)
    if kind in ("hinge", "squared_hinge"):
        t = 2 * t - 1  # the 0/1 labels of _data, converted as Keras does
        h = torch.relu(1 - t * p)
        return (h if kind == "hinge" else h * h).mean(-1)
    if kind == "categorical_hinge":
        return torch.relu(((1 - t) * p).amax(-1) - (t * p).sum(-1) + 1)
    if kind == "focal":
        t = t * (1 - ls) + 0.5 * ls
        if from_logits:
            q, ce = torch.sigmoid(p), TF.binary_cross_entropy_with_logits(p, t, reduction="none")
        else:
            q, ce = p, -(t * p.log() + (1 - t) * (1 - p).log())
        loss = (1 - (t * q + (1 - t) * (1 - q))) ** gamma * ce
        if balance:
            loss = loss * (t * alpha + (1 - t) * (1 - alpha))
        return loss.mean(-1)
    raise AssertionError(kind)


def _reduce(per, sw, reduction):
    if sw is not None:
        per = per * torch.from_numpy(np.asarray(sw, np.float64)).reshape(per.shape[:1] + (1,) * (per.ndim - 1))
    if reduction in ("none", None):
        return per.numpy()
    if reduction == "sum":
        return per.sum().numpy()
    if reduction == "mean_with_sample_weight" and sw is not None:
        w = np.broadcast_to(np.asarray(sw, np.float64).reshape(per.shape[:1] + (1,) * (per.ndim - 1)), per.shape)
        return (per.sum() / w.sum()).numpy()
    return (per.sum() / per.numel()).numpy()


def _data(kind, n=7, c=5):
    if kind in ("mse", "mae", "huber", "log_cosh", "cosine"):
        return rng.normal(size=(n, c)).astype(np.float32), rng.normal(size=(n, c)).astype(np.float32)
    if kind in ("mape", "msle", "poisson"):
        return rng.uniform(0.5, 3, (n, c)).astype(np.float32), rng.uniform(0.1, 3, (n, c)).astype(np.float32)
    if kind == "kld":
        return rng.uniform(0.05, 1, (n, c)).astype(np.float32), rng.uniform(0.05, 1, (n, c)).astype(np.float32)
    if kind in ("hinge", "squared_hinge"):
        return rng.integers(0, 2, (n, c)).astype(np.float32), rng.normal(size=(n, c)).astype(np.float32)
    if kind == "categorical_hinge":
        return np.eye(c, dtype=np.float32)[rng.integers(0, c, n)], rng.normal(size=(n, c)).astype(np.float32)
    if kind in ("bce", "focal"):
        return rng.integers(0, 2, (n, 1)).astype(np.float32), rng.uniform(0.05, 0.95, (n, 1)).astype(np.float32)
    if kind == "cce":
        t = np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]
        p = rng.uniform(0.1, 1, (n, c)).astype(np.float32)
        return t, p / p.sum(-1, keepdims=True)
    t = rng.integers(0, c, n)
    p = rng.uniform(0.1, 1, (n, c)).astype(np.float32)
    return t, p / p.sum(-1, keepdims=True)


CASES = [
    ("mse", L.MeanSquaredError, {}),
    ("mae", L.MeanAbsoluteError, {}),
    ("bce", L.BinaryCrossentropy, {}),
    ("bce", L.BinaryCrossentropy, {"from_logits": True}),
    ("bce", L.BinaryCrossentropy, {"label_smoothing": 0.2}),
    ("cce", L.CategoricalCrossentropy, {}),
    ("cce", L.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.1}),
    ("scce", L.SparseCategoricalCrossentropy, {}),
    ("scce", L.SparseCategoricalCrossentropy, {"from_logits": True}),
    ("mape", L.MeanAbsolutePercentageError, {}),
    ("msle", L.MeanSquaredLogarithmicError, {}),
    ("huber", L.Huber, {}),
    ("huber", L.Huber, {"delta": 0.4}),
    ("log_cosh", L.LogCosh, {}),
    ("cosine", L.CosineSimilarity, {}),
    ("kld", L.KLDivergence, {}),
    ("poisson", L.Poisson, {}),
    ("hinge", L.Hinge, {}),
    ("squared_hinge", L.SquaredHinge, {}),
    ("categorical_hinge", L.CategoricalHinge, {}),
    ("focal", L.BinaryFocalCrossentropy, {}),
    ("focal", L.BinaryFocalCrossentropy, {"from_logits": True, "gamma": 3.0, "apply_class_balancing": True}),
    ("focal", L.BinaryFocalCrossentropy, {"label_smoothing": 0.1, "alpha": 0.4, "apply_class_balancing": True}),
]
_TORCH_KW = {"delta": "delta", "gamma": "gamma", "alpha": "alpha", "apply_class_balancing": "balance"}


@pytest.mark.parametrize("kind,cls,kw", CASES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"])
@pytest.mark.parametrize("weighted", [False, True])
def test_against_torch(kind, cls, kw, reduction, weighted):
    t, p = _data(kind)
    if kw.get("from_logits"):
        p = rng.normal(size=p.shape).astype(np.float32)
    sw = rng.uniform(0, 2, t.shape[0]).astype(np.float32) if weighted else None
    got = cls(reduction=reduction, **kw)(t, p, sample_weight=sw)
    assert isinstance(got, fastnn.Tensor)
    extra = {_TORCH_KW[k]: v for k, v in kw.items() if k in _TORCH_KW}
    per = _torch_per_sample(kind, t, p, kw.get("from_logits", False), kw.get("label_smoothing", 0.0), **extra)
    want = _reduce(per, sw, reduction)
    assert got.shape == np.shape(want)
    assert_close(got.numpy(), want.astype(np.float32), name=f"losses.{cls.__name__}", **TOL["transcendental"])


def test_gradient_matches_torch_with_weights():
    t, p = _data("cce", n=6, c=4)
    logits = rng.normal(size=p.shape).astype(np.float32)
    sw = rng.uniform(0.5, 2, 6).astype(np.float32)
    x = fastnn.tensor(logits, requires_grad=True)
    L.CategoricalCrossentropy(from_logits=True)(t, x, sample_weight=sw).backward()
    tx = torch.tensor(logits, requires_grad=True)
    (TF.cross_entropy(tx, torch.from_numpy(t), reduction="none") * torch.from_numpy(sw)).mean().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), name="losses.CategoricalCrossentropy", kind="backward",
                 **TOL["transcendental"])


def test_default_reduction_divides_by_batch_not_weights():
    # Keras 3: 'sum_over_batch_size' divides the weighted sum by the number of samples
    t = np.zeros((4, 1), np.float32)
    p = np.ones((4, 1), np.float32)
    got = L.MeanSquaredError()(t, p, sample_weight=[1, 0, 0, 0]).item()
    assert got == pytest.approx(0.25)
    assert L.MeanSquaredError(reduction="mean_with_sample_weight")(t, p, sample_weight=[1, 0, 0, 0]).item() == 1.0


def test_shapes_aligned_not_broadcast():
    t = np.array([0.0, 1.0, 1.0])
    p = np.array([[0.2], [0.6], [0.9]], np.float32)
    per = L.MeanSquaredError(reduction="none")(t, p)
    assert per.shape == (3,)
    np.testing.assert_allclose(per.numpy(), [0.04, 0.16, 0.01], rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        L.MeanSquaredError()(np.zeros((3, 2)), np.zeros((3, 3), np.float32))


def test_sample_weight_shapes():
    t, p = _data("mse", n=5, c=3)
    base = L.MeanSquaredError(reduction="none")(t, p).numpy()
    w = np.arange(5, dtype=np.float32)
    for sw in (w, w[:, None]):
        got = L.MeanSquaredError(reduction="none")(t, p, sample_weight=sw).numpy()
        np.testing.assert_allclose(got, base * w, rtol=1e-6)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        L.MeanSquaredError()(t, p, sample_weight=np.ones(4))
    # per-timestep losses (N, T) with per-sample weights (N,)
    t3, p3 = rng.normal(size=(2, 3, 4)).astype(np.float32), rng.normal(size=(2, 3, 4)).astype(np.float32)
    got = L.MeanSquaredError(reduction="none")(t3, p3, sample_weight=[1.0, 2.0]).numpy()
    np.testing.assert_allclose(got, ((t3 - p3) ** 2).mean(-1) * np.array([[1.0], [2.0]]), rtol=1e-5)


def test_get_strings_classes_instances_callables():
    for s in ("mse", "MSE", "mean_squared_error", "MeanSquaredError"):
        assert isinstance(L.get(s), L.MeanSquaredError)
    for s, cls in (("mae", L.MeanAbsoluteError), ("mean_absolute_error", L.MeanAbsoluteError),
                   ("binary_crossentropy", L.BinaryCrossentropy), ("bce", L.BinaryCrossentropy),
                   ("categorical_crossentropy", L.CategoricalCrossentropy),
                   ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy)):
        got = L.get(s)
        assert type(got) is cls and got.reduction == "sum_over_batch_size"
    assert L.get("binary_crossentropy").name == "binary_crossentropy"
    inst = L.BinaryCrossentropy(from_logits=True)
    assert L.get(inst) is inst
    assert isinstance(L.get(L.CategoricalCrossentropy), L.CategoricalCrossentropy)
    assert L.get(None) is None
    assert isinstance(L.get(L.mean_squared_error), L.MeanSquaredError)
    assert isinstance(L.get(fastnn.functional.binary_crossentropy), L.BinaryCrossentropy)

    def my_loss(y_true, y_pred):
        return ((fastnn.tensor(y_pred) - fastnn.tensor(np.asarray(y_true, np.float32))) ** 2).sum(axis=-1)

    wrapped = L.get(my_loss)
    assert isinstance(wrapped, L.LossFunctionWrapper) and wrapped.name == "my_loss"
    assert wrapped(np.zeros((2, 2)), np.ones((2, 2), np.float32)).item() == 2.0


NEW_NAMES = [
    (("mean_absolute_percentage_error", "MeanAbsolutePercentageError", "mape", "MAPE"), L.MeanAbsolutePercentageError),
    (("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", "msle", "MSLE"), L.MeanSquaredLogarithmicError),
    (("huber", "Huber", "huber_loss"), L.Huber),
    (("log_cosh", "LogCosh", "logcosh"), L.LogCosh),
    (("cosine_similarity", "CosineSimilarity"), L.CosineSimilarity),
    (("binary_focal_crossentropy", "BinaryFocalCrossentropy"), L.BinaryFocalCrossentropy),
    (("kl_divergence", "KLDivergence", "kld", "KLD", "kullback_leibler_divergence"), L.KLDivergence),
    (("poisson", "Poisson"), L.Poisson),
    (("hinge", "Hinge"), L.Hinge),
    (("squared_hinge", "SquaredHinge"), L.SquaredHinge),
    (("categorical_hinge", "CategoricalHinge"), L.CategoricalHinge),
]


@pytest.mark.parametrize("names,cls", NEW_NAMES)
def test_get_new_names(names, cls):
    for s in names:
        got = L.get(s)
        assert type(got) is cls and got.reduction == "sum_over_batch_size", s
    fn = getattr(L, names[0])
    assert type(L.get(fn)) is cls  # the function comes back as its class


def test_keras_defaults_and_names():
    h = L.Huber()
    assert (h.name, h.delta, h.reduction) == ("huber_loss", 1.0, "sum_over_batch_size")
    f = L.BinaryFocalCrossentropy()
    assert (f.apply_class_balancing, f.alpha, f.gamma, f.from_logits, f.label_smoothing, f.axis) == (
        False, 0.25, 2.0, False, 0.0, -1)
    assert f.name == "binary_focal_crossentropy" and L.KLDivergence().name == "kl_divergence"
    assert L.LogCosh().name == "log_cosh" and L.CosineSimilarity().axis == -1
    with pytest.raises(ValueError, match="delta"):
        L.Huber(delta=-1.0)
    with pytest.raises(ValueError, match="axis"):
        L.CosineSimilarity(axis=0)
    with pytest.raises(ValueError, match="axis"):
        L.BinaryFocalCrossentropy(axis=1)


def test_focal_keras_examples():
    y_true, y_pred = np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8], np.float32)
    bfc = L.BinaryFocalCrossentropy
    assert bfc(gamma=2, from_logits=True)(y_true, y_pred).item() == pytest.approx(0.691, abs=5e-4)
    assert bfc(apply_class_balancing=True, gamma=2, from_logits=True)(y_true, y_pred).item() == (
        pytest.approx(0.51, abs=5e-3))
    yt, yp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]], np.float32)
    assert bfc(gamma=3, from_logits=True)(yt, yp).item() == pytest.approx(0.647, abs=5e-4)
    assert bfc(gamma=3, from_logits=True)(yt, yp, sample_weight=[0.8, 0.2]).item() == pytest.approx(0.133, abs=5e-4)
    assert bfc(apply_class_balancing=True, gamma=3, from_logits=True)(yt, yp, sample_weight=[0.8, 0.2]).item() == (
        pytest.approx(0.097, abs=5e-4))
    assert bfc(gamma=4, from_logits=True, reduction="sum")(yt, yp).item() == pytest.approx(1.222, abs=5e-4)
    np.testing.assert_allclose(bfc(gamma=5, from_logits=True, reduction=None)(yt, yp).numpy(), [0.0017, 1.1561],
                               atol=5e-4)
    np.testing.assert_allclose(
        bfc(apply_class_balancing=True, gamma=5, from_logits=True, reduction=None)(yt, yp).numpy(), [0.0004, 0.8670],
        atol=5e-4)


def test_label_smoothing_through_the_classes():
    t = rng.integers(0, 2, (6, 3)).astype(np.float32)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    ls = 0.3
    got = L.BinaryCrossentropy(from_logits=True, label_smoothing=ls, reduction=None)(t, x).numpy()
    want = TF.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(t * (1 - ls) + 0.5 * ls),
                                               reduction="none").mean(-1).numpy()
    assert_close(got, want, name="losses.BinaryCrossentropy ls", **TOL["transcendental"])
    got = L.CategoricalCrossentropy(from_logits=True, label_smoothing=ls, reduction=None)(np.eye(3, dtype=np.float32)[
        [0, 2, 1, 1, 0, 2]], x).numpy()
    want = TF.cross_entropy(torch.from_numpy(x), torch.tensor([0, 2, 1, 1, 0, 2]), reduction="none",
                            label_smoothing=ls).numpy()
    assert_close(got, want, name="losses.CategoricalCrossentropy ls", **TOL["transcendental"])


def test_get_unknown_string_lists_names():
    with pytest.raises(ValueError, match="Unknown loss 'msee'.*mean_squared_error"):
        L.get("msee")
    with pytest.raises(TypeError):
        L.get(3)
    with pytest.raises(TypeError):
        L.get(dict)


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction='avg'"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        L.BinaryCrossentropy(label_smoothing=2.0)(np.ones((2, 1)), np.full((2, 1), 0.5, np.float32))
    with pytest.raises(ValueError, match="axis"):
        L.CategoricalCrossentropy(axis=0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert L.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"
    assert any(issubclass(x.category, DeprecationWarning) and "sum_over_batch_size" in str(x.message) for x in w)


@pytest.mark.parametrize("loss", [L.MeanSquaredError(), L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                                  L.CategoricalCrossentropy(reduction="sum"),
                                  L.SparseCategoricalCrossentropy(from_logits=True, name="xent"),
                                  L.MeanAbsolutePercentageError(reduction=None), L.MeanSquaredLogarithmicError(),
                                  L.Huber(delta=0.3, name="h"), L.LogCosh(reduction="mean"),
                                  L.CosineSimilarity(), L.KLDivergence(), L.Poisson(reduction="sum"), L.Hinge(),
                                  L.SquaredHinge(), L.CategoricalHinge(),
                                  L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                                            from_logits=True, label_smoothing=0.05)])
def test_config_round_trip(loss):
    import json

    cfg = loss.get_config()
    json.dumps(cfg)
    again = type(loss).from_config(cfg)
    assert again.get_config() == cfg
    via = L.deserialize(json.loads(json.dumps(L.serialize(loss))))
    assert type(via) is type(loss) and via.get_config() == cfg


def test_wrapper_config_needs_function_by_name():
    def custom_fn(y_true, y_pred):
        return L.mse(y_true, y_pred)

    cfg = L.serialize(L.LossFunctionWrapper(custom_fn))
    assert cfg["config"]["fn"] == "custom_fn"
    with pytest.raises(ValueError, match="custom_objects"):
        L.deserialize(cfg)
    assert L.deserialize(cfg, custom_objects={"custom_fn": custom_fn}).fn is custom_fn


def test_subclass_call():
    class Cubic(L.Loss):
        def call(self, y_true, y_pred):
            d = fastnn.tensor(y_pred) - fastnn.tensor(np.asarray(y_true, np.float32))
            return (d * d * d).abs().mean(axis=-1)

    loss = Cubic()
    assert loss.name == "cubic"
    assert loss(np.zeros((2, 1)), np.array([[1.0], [2.0]], np.float32)).item() == pytest.approx(4.5)


def test_config_keeps_parameters():
    cfg = L.Huber(delta=0.3).get_config()
    assert cfg["delta"] == 0.3 and L.Huber.from_config(cfg).delta == 0.3
    cfg = L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5).get_config()
    again = L.deserialize(L.serialize(L.BinaryFocalCrossentropy.from_config(cfg)))
    assert (again.apply_class_balancing, again.alpha, again.gamma) == (True, 0.4, 1.5)


def _tiny_model(units=3, activation=None):
    from fastnn import layers
    from fastnn.models import Sequential

    fastnn.random.seed(0)
    return Sequential([layers.Input((4,)), layers.Dense(units, activation=activation)])


COMPILE_STRINGS = [
    ("mape", "reg"), ("msle", "pos"), ("huber", "reg"), ("log_cosh", "reg"), ("logcosh", "reg"),
    ("cosine_similarity", "reg"), ("kld", "prob"), ("kl_divergence", "prob"), ("poisson", "pos"),
    ("hinge", "pm1"), ("squared_hinge", "pm1"), ("categorical_hinge", "onehot"),
    ("binary_focal_crossentropy", "binary"), ("BinaryFocalCrossentropy", "binary"), ("Huber", "reg"),
]


@pytest.mark.parametrize("name,target", COMPILE_STRINGS)
def test_compile_resolves_strings(name, target):
    x = rng.normal(size=(16, 4)).astype(np.float32)
    act = {"prob": "softmax", "pos": "softplus", "binary": "sigmoid"}.get(target)
    y = {"reg": rng.normal(size=(16, 3)), "pos": rng.uniform(0, 3, (16, 3)),
         "prob": np.full((16, 3), 1 / 3), "pm1": rng.choice([-1.0, 1.0], (16, 3)),
         "onehot": np.eye(3)[rng.integers(0, 3, 16)], "binary": rng.integers(0, 2, (16, 3))}[target]
    y = y.astype(np.float32)
    m = _tiny_model(activation=act)
    m.compile(optimizer=fastnn.optimizers.SGD(0.05), loss=name)
    assert type(m.compiled_loss[0]) is type(L.get(name))
    before = m.evaluate(x, y, verbose=0)
    # the value compile trains on is the loss object's value on the model's output
    want = L.get(name)(y, m.predict(x, verbose=0)).item()
    assert before == pytest.approx(want, rel=1e-5, abs=1e-6)
    hist = m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(hist.history["loss"]) == 3 and all(np.isfinite(hist.history["loss"]))


def test_compile_with_a_custom_callable():
    def scaled_abs(y_true, y_pred):
        return (y_pred - fastnn.tensor(np.asarray(y_true, np.float32))).abs().mean(axis=-1) * 2.0

    x = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.normal(size=(20, 3)).astype(np.float32)
    m = _tiny_model()
    m.compile(optimizer=fastnn.optimizers.SGD(0.05), loss=scaled_abs)
    assert isinstance(m.compiled_loss[0], L.LossFunctionWrapper) and m.compiled_loss[0].name == "scaled_abs"
    want = 2.0 * np.abs(m.predict(x, verbose=0) - y).mean()
    assert m.evaluate(x, y, verbose=0) == pytest.approx(float(want), rel=1e-5)
    losses = m.fit(x, y, epochs=5, batch_size=20, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    # a lambda works as well
    m2 = _tiny_model()
    m2.compile(optimizer="sgd", loss=lambda t, p: L.huber(t, p, delta=0.5))
    assert np.isfinite(m2.fit(x, y, epochs=1, verbose=0).history["loss"][0])


@pytest.mark.parametrize("loss", ["binary_focal_crossentropy", "BinaryFocalCrossentropy",
                                  L.BinaryFocalCrossentropy(from_logits=True)])
def test_focal_accuracy_is_binary(loss):
    # multi-label sigmoid outputs: 'accuracy' with a focal loss means BinaryAccuracy, as in Keras
    from fastnn import metrics

    assert type(metrics.resolve_accuracy(loss, (None, 3), (None, 3))) is metrics.BinaryAccuracy
