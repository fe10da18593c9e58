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


def _torch_per_sample(kind, t, p, from_logits=False, ls=0.0):
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
    if kind in ("mse", "mae"):
        return rng.normal(size=(n, c)).astype(np.float32), rng.normal(size=(n, c)).astype(np.float32)
    if kind == "bce":
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
]


@pytest.mark.parametrize("kind,cls,kw", CASES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", None, "mean_with_sample_weight"])
@pytest.mark.parametrize("weighted", [False, True])
def test_against_torch(kind, cls, kw, reduction, weighted):
    t, p = _data(kind)
    if kw.get("from_logits"):
        p = rng.normal(size=p.shape).astype(np.float32)
    sw = rng.uniform(0, 2, t.shape[0]).astype(np.float32) if weighted else None
    got = cls(reduction=reduction, **kw)(t, p, sample_weight=sw)
    assert isinstance(got, fastnn.Tensor)
    per = _torch_per_sample(kind, t, p, kw.get("from_logits", False), kw.get("label_smoothing", 0.0))
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
                                  L.SparseCategoricalCrossentropy(from_logits=True, name="xent")])
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
