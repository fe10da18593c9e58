"""fastnn.saving: the safetensors file format with its checksum, atomic writes, corrupted and
truncated files, no pickle, and the model round trip through the model contract (stand-in
models here: get_config/from_config, weights, set_weights)."""

import json
import os
import pickle
import warnings

import fastnn
import numpy as np
import pytest
from fastnn import saving as S
from safetensors.numpy import save_file as st_save_file

rng = np.random.default_rng(3)


class Var:
    """A weight as the model contract has it: .name, .path, .shape, .numpy()."""

    def __init__(self, path, value):
        self.path = path
        self.name = path.rsplit("/", 1)[-1]
        self.value = np.asarray(value, np.float32)

    @property
    def shape(self):
        return self.value.shape

    def numpy(self):
        return self.value


@S.register_serializable(package="tests")
class TinyMLP:
    """A stand-in model: Dense layers of the given sizes, weights in Keras order."""

    def __init__(self, sizes=(3, 4, 1), name="tiny", activation="relu"):
        self.sizes = list(sizes)
        self.name = name
        self.activation = activation
        self._vars = []
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            self._vars.append(Var(f"dense_{i}/kernel", rng.normal(size=(a, b))))
            self._vars.append(Var(f"dense_{i}/bias", rng.normal(size=(b,))))

    @property
    def weights(self):
        return list(self._vars)

    def get_weights(self):
        return [v.numpy().copy() for v in self._vars]

    def set_weights(self, arrays):
        for v, a in zip(self._vars, arrays):
            v.value = np.array(a, np.float32)

    def get_config(self):
        return {"sizes": self.sizes, "name": self.name, "activation": self.activation}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    def predict(self, x):
        for i in range(0, len(self._vars), 2):
            x = x @ self._vars[i].value + self._vars[i + 1].value
        return x


class WithLambda(TinyMLP):
    """A stand-in whose config names a function (as a Lambda layer's does)."""

    def __init__(self, fn=None, fn_name=None, **kw):
        super().__init__(**kw)
        self.fn = fn
        self.fn_name = fn_name or S.function_name(fn)

    def get_config(self):
        return {**super().get_config(), "function": self.fn_name}

    @classmethod
    def from_config(cls, config):  # no custom_objects argument: the scope supplies them
        config = dict(config)
        name = config.pop("function")
        fn = S.resolve_function(name, owner=f"the Lambda layer of {config['name']!r}")
        return cls(fn=fn, fn_name=name, **config)


def double(x):
    return 2 * x


# ------------------------------------------------------------------------ weights files
def test_weights_file_round_trip(tmp_path):
    p = tmp_path / "w.safetensors"
    arrays = [("z/kernel", rng.normal(size=(3, 2)).astype(np.float32)), ("a/bias", np.arange(4, dtype=np.int64)),
              ("scalar", np.array(2.5, np.float32)), ("empty", np.zeros((0, 3), np.float32)),
              ("f64", rng.normal(size=5)), ("transposed", rng.normal(size=(4, 3)).astype(np.float32).T)]
    S.save_weights_file(p, arrays, {"note": "hello", "n": [1, 2], "np": np.int64(3)})
    got, meta = S.load_weights_file(p)
    assert [n for n, _ in got] == [n for n, _ in arrays]  # the saved order, not sorted
    for (_, a), (_, b) in zip(got, arrays):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert meta == {"note": "hello", "n": [1, 2], "np": 3}
    # the file is plain safetensors: any reader sees the tensors
    from safetensors.numpy import load_file

    assert sorted(load_file(str(p))) == sorted(n for n, _ in arrays)


def test_weights_file_checks_input(tmp_path):
    with pytest.raises(ValueError, match="duplicate tensor name 'a'"):
        S.save_weights_file(tmp_path / "w", [("a", np.zeros(1)), ("a", np.zeros(2))])
    with pytest.raises(TypeError, match="dtype object"):
        S.save_weights_file(tmp_path / "w", [("a", np.array([None]))])
    with pytest.raises(TypeError, match="not JSON-serializable"):
        S.save_weights_file(tmp_path / "w", [("a", np.zeros(1))], {"x": object()})
    assert not os.path.exists(tmp_path / "w")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        S.save_weights_file(tmp_path / "nodir" / "w", [("a", np.zeros(1))])


def _saved(tmp_path, name="w.safetensors"):
    p = str(tmp_path / name)
    S.save_weights_file(p, [("k", rng.normal(size=(16, 8)).astype(np.float32)), ("b", np.ones(8, np.float32))],
                        {"kind": "weights"})
    with open(p, "rb") as f:
        return p, f.read()


def _write(p, data):
    with open(p, "wb") as f:
        f.write(data)


def test_checksum_mismatch_names_the_file(tmp_path):
    p, data = _saved(tmp_path)
    for pos in (len(data) - 1, len(data) - 300):  # a flipped bit in the tensor bytes
        bad = bytearray(data)
        bad[pos] ^= 0x10
        _write(p, bytes(bad))
        with pytest.raises(ValueError, match=rf"{p}.*checksum mismatch"):
            S.load_weights_file(p)


def test_metadata_tampering_is_detected(tmp_path):
    p, data = _saved(tmp_path)
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"]["metadata"] = json.dumps({"kind": "model"})
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    _write(p, len(raw).to_bytes(8, "little") + raw + data[8 + n :])
    with pytest.raises(ValueError, match="checksum mismatch"):
        S.load_weights_file(p)


@pytest.mark.parametrize("cut", [0, 3, 8, 20, -1, -100, -512])
def test_truncated_file(tmp_path, cut):
    p, data = _saved(tmp_path)
    _write(p, data[:cut])
    with pytest.raises(ValueError, match=rf"cannot load '{p}'.*(truncated|corrupted)"):
        S.load_weights_file(p)


def test_corrupted_header(tmp_path):
    p, data = _saved(tmp_path)
    bad = bytearray(data)
    bad[9:14] = b"\xff\xfe{{{"
    _write(p, bytes(bad))
    with pytest.raises(ValueError, match="header is corrupted"):
        S.load_weights_file(p)
    _write(p, b"\x00" * 64)
    with pytest.raises(ValueError, match=p):
        S.load_weights_file(p)


def test_foreign_files_are_rejected(tmp_path):
    p = str(tmp_path / "plain.safetensors")
    st_save_file({"a": np.zeros(3, np.float32)}, p)  # safetensors without fastnn's checksum
    with pytest.raises(ValueError, match="not a fastnn file"):
        S.load_weights_file(p)
    h5 = tmp_path / "model.h5"
    _write(h5, b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(ValueError, match="HDF5"):
        S.load_weights_file(h5)
    with pytest.raises(FileNotFoundError):
        S.load_weights_file(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        S.load_weights_file(tmp_path)


class _Exploit:
    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _Exploit.ran = True
    return "pwned"


def test_pickle_payload_is_never_unpickled(tmp_path):
    p = tmp_path / "model.keras"
    _write(p, pickle.dumps({"weights": _Exploit()}))
    for load in (S.load_weights_file, S.load_model, lambda q: S.load_weights(TinyMLP(), q)):
        with pytest.raises(ValueError, match="not a fastnn"):
            load(p)
    np.save(tmp_path / "obj.npy", np.array([_Exploit()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        S.load_model(tmp_path / "obj.npy")
    assert not _Exploit.ran
    # a pickle smuggled into a safetensors header is only ever parsed as JSON text
    src = rng.normal(size=(2,)).astype(np.float32)
    st_save_file({"a": src}, str(tmp_path / "s.safetensors"),
                 metadata={"format": "fastnn", "format_version": "1", "order": '["a"]',
                           "metadata": pickle.dumps(_Exploit()).hex(), "sha256": "0" * 64})
    with pytest.raises(ValueError, match="corrupted"):
        S.load_weights_file(tmp_path / "s.safetensors")
    assert not _Exploit.ran


# ----------------------------------------------------------------------- atomic writes
def test_interrupted_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    p = tmp_path / "ckpt.keras"
    first = TinyMLP()
    S.save_model(first, p)
    before = p.read_bytes()

    def half_then_fail(f, data):
        f.write(data[: len(data) // 2])
        f.flush()
        raise OSError("disk full")

    monkeypatch.setattr(S, "_write_chunks", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        S.save_model(TinyMLP(), p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.keras"]  # no temporary file left behind
    again = S.load_model(p)
    for a, b in zip(again.get_weights(), first.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(f, data):
        f.write(data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(S, "_write_chunks", fail)
    with pytest.raises(KeyboardInterrupt):
        S.save_weights(TinyMLP(), tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == []


def test_written_file_permissions_follow_umask(tmp_path):
    p = tmp_path / "w.safetensors"
    S.save_weights(TinyMLP(), p)
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(p).st_mode & 0o777 == 0o666 & ~mask


# ------------------------------------------------------------------------ model contract
def test_model_round_trip(tmp_path):
    m = TinyMLP(sizes=(5, 7, 3), name="clf")
    p = tmp_path / "clf.keras"
    S.save_model(m, p)
    m2 = S.load_model(p)
    assert type(m2) is TinyMLP and m2.get_config() == m.get_config()
    x = rng.normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    _, meta = S.load_weights_file(p)
    assert meta["kind"] == "model" and meta["model"]["class_name"] == "TinyMLP"
    assert meta["model"]["registered_name"] == "tests>TinyMLP"


def test_weights_round_trip_and_model_file_weights(tmp_path):
    m, other = TinyMLP(), TinyMLP()
    S.save_weights(m, tmp_path / "w.safetensors")
    S.load_weights(other, tmp_path / "w.safetensors")
    for a, b in zip(other.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    S.save_model(m, tmp_path / "m.fastnn")  # a model file's weights load too, as in Keras
    third = TinyMLP()
    S.load_weights(third, tmp_path / "m.fastnn")
    np.testing.assert_array_equal(third.get_weights()[0], m.get_weights()[0])
    with pytest.raises(ValueError, match="weights only.*load_weights"):
        S.load_model(tmp_path / "w.safetensors")


def test_mismatched_architecture(tmp_path):
    p = tmp_path / "w.safetensors"
    S.save_weights(TinyMLP(sizes=(3, 4, 1)), p)
    with pytest.raises(ValueError, match=r"holds 4 weights but the model has 6"):
        S.load_weights(TinyMLP(sizes=(3, 4, 4, 1)), p)
    with pytest.raises(ValueError, match=r"weight 0 is 'dense_0/kernel' of shape \(3, 4\) in the file but "
                                         r"'dense_0/kernel' of shape \(3, 5\)"):
        S.load_weights(TinyMLP(sizes=(3, 5, 1)), p)
    empty = TinyMLP(sizes=(3,))
    with pytest.raises(ValueError, match="not built"):
        S.load_weights(empty, p)


def test_duplicate_weight_names_are_kept_apart(tmp_path):
    m = TinyMLP()
    for v in m._vars:
        v.path = "w"
    S.save_weights(m, tmp_path / "w.safetensors")
    named, _ = S.load_weights_file(tmp_path / "w.safetensors")
    assert [n for n, _ in named] == ["w", "w_1", "w_2", "w_3"]


def test_unknown_class_needs_registration_or_custom_objects(tmp_path):
    class Unregistered(TinyMLP):
        pass

    p = tmp_path / "u.keras"
    S.save_model(Unregistered(), p)
    with pytest.raises(ValueError, match=r"Unknown class 'Unregistered'.*register_serializable.*custom_objects"):
        S.load_model(p)
    assert type(S.load_model(p, custom_objects={"Unregistered": Unregistered})) is Unregistered


def test_function_is_stored_by_name_and_needs_custom_objects(tmp_path):
    m = WithLambda(fn=double)
    p = tmp_path / "lam.keras"
    S.save_model(m, p)
    raw = p.read_bytes()
    assert b"double" in raw and b"return 2" not in raw  # a name, never code
    with pytest.raises(ValueError, match=r"'double'.*custom_objects=\{'double': double\}"):
        S.load_model(p, custom_objects={"WithLambda": WithLambda})
    m2 = S.load_model(p, custom_objects={"WithLambda": WithLambda, "double": double})
    assert m2.fn is double and m2.fn(3) == 6
    with S.custom_object_scope({"WithLambda": WithLambda, "double": double}):
        assert S.load_model(p).fn is double
    anon = WithLambda(fn=lambda x: x + 1)
    S.save_model(anon, p)
    with pytest.raises(ValueError, match="define it with def"):
        S.load_model(p, custom_objects={"WithLambda": WithLambda})


def test_function_objects_inside_configs(tmp_path):
    m = TinyMLP(activation=double)  # a config value that is a function is stored by name
    s = S.to_json(m)
    assert json.loads(s)["config"]["activation"]["config"] == "double"
    with pytest.raises(ValueError, match="double"):
        S.deserialize_object(json.loads(s)["config"]["activation"])
    assert S.deserialize_object(json.loads(s)["config"]["activation"], {"double": double}) is double


def test_non_json_config_fails_before_the_disk(tmp_path):
    p = tmp_path / "m.keras"
    S.save_model(TinyMLP(), p)
    before = p.read_bytes()
    bad = TinyMLP()
    bad.name = object()
    with pytest.raises(TypeError, match="not JSON-serializable"):
        S.save_model(bad, p)
    assert p.read_bytes() == before


def test_json_helpers():
    m = TinyMLP(sizes=(2, 3), name="j")
    s = S.to_json(m, indent=2)
    assert json.loads(s)["class_name"] == "TinyMLP"
    m2 = S.model_from_json(s)
    assert type(m2) is TinyMLP and m2.get_config() == m.get_config()
    with pytest.raises(ValueError, match="not valid JSON"):
        S.model_from_json("{nope")


def test_registry_and_builtins():
    @S.register_keras_serializable(package="pkg", name="Renamed")
    class Thing:
        def get_config(self):
            return {}

        @classmethod
        def from_config(cls, config):
            return cls()

    assert S.get_registered_name(Thing) == "pkg>Renamed"
    assert S.get_registered_object("pkg>Renamed") is Thing
    assert S.get_registered_object("Renamed") is Thing
    assert type(S.deserialize_object(S.serialize_object(Thing()))) is Thing
    # fastnn's own classes are found by name without registration
    assert S.get_registered_object("BinaryAccuracy") is fastnn.metrics.BinaryAccuracy
    assert S.get_registered_object("CategoricalCrossentropy") is fastnn.losses.CategoricalCrossentropy
    assert S.get_registered_object("os") is None and S.get_registered_object("_private") is None
    with pytest.raises(TypeError, match="get_config"):
        S.register_serializable(type("NoConfig", (), {}))
    S.get_custom_objects()["GlobalThing"] = Thing
    try:
        assert S.get_registered_object("GlobalThing") is Thing
    finally:
        del S.get_custom_objects()["GlobalThing"]


def test_loss_and_metric_objects_serialize_through_saving():
    loss = fastnn.losses.BinaryCrossentropy(from_logits=True)
    again = S.deserialize_object(json.loads(json.dumps(S.serialize_object(loss))))
    assert type(again) is fastnn.losses.BinaryCrossentropy and again.from_logits


# ------------------------------------------------------------- optimizer state with the model
def _data(seed=0, n=48):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 6)).astype(np.float32)
    y = r.normal(size=(n, 2)).astype(np.float32)
    return x, y


def _mlp(optimizer, functional=False):
    from fastnn import layers as L
    from fastnn import models

    if functional:
        inp = L.Input((6,))
        out = L.Dense(2)(L.Dense(9, activation="tanh")(inp))
        m = models.Model(inp, out)
    else:
        m = models.Sequential([L.Input((6,)), L.Dense(9, activation="tanh"), L.Dense(2)])
    m.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return m


def _twins(make_opt, functional=False):
    a = _mlp(make_opt(), functional)
    b = _mlp(make_opt(), functional)
    b.set_weights(a.get_weights())
    return a, b


RESUME = [
    ("sgd-nesterov", lambda: fastnn.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("adam-amsgrad-schedule", lambda: fastnn.optimizers.Adam(
        learning_rate=fastnn.optimizers.schedules.CosineDecay(0.0, 20, warmup_target=0.01, warmup_steps=5),
        amsgrad=True)),
    ("adamw", lambda: fastnn.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05, clipnorm=1.0)),
    ("rmsprop-centered", lambda: fastnn.optimizers.RMSprop(learning_rate=0.005, momentum=0.5, centered=True)),
    ("adagrad", lambda: fastnn.optimizers.Adagrad(learning_rate=0.05)),
    ("adadelta", lambda: fastnn.optimizers.Adadelta(learning_rate=1.0)),
    ("adamax", lambda: fastnn.optimizers.Adamax(learning_rate=0.01)),
    ("nadam-piecewise", lambda: fastnn.optimizers.Nadam(
        learning_rate=fastnn.optimizers.schedules.PiecewiseConstantDecay([4, 9], [0.01, 0.005, 0.001]))),
]


@pytest.mark.parametrize("name,make_opt", RESUME, ids=[r[0] for r in RESUME])
def test_save_load_resumes_training_exactly(tmp_path, name, make_opt):
    """train N steps, save, load, train M more == train N + M steps without stopping."""
    x, y = _data()
    a, b = _twins(make_opt)
    a.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)  # 18 steps
    b.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # 6 steps
    b.save(tmp_path / "ckpt.keras")
    c = fastnn.models.load_model(tmp_path / "ckpt.keras")
    assert c.optimizer is not b.optimizer and type(c.optimizer) is type(b.optimizer)
    assert c.optimizer.iterations == 6
    assert c.optimizer.get_config() == b.optimizer.get_config()
    for got, want in zip(c.optimizer.get_weights(), b.optimizer.get_weights()):
        np.testing.assert_array_equal(got, want)
    c.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, shuffle=False, verbose=0)
    assert c.optimizer.iterations == a.optimizer.iterations == 18
    for got, want in zip(c.get_weights(), a.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_resume_with_train_on_batch_functional_and_keras2_decay(tmp_path):
    x, y = _data(seed=1)

    def make_opt():
        with pytest.warns(DeprecationWarning):
            return fastnn.optimizers.SGD(learning_rate=0.1, momentum=0.5, decay=0.01)

    a, b = _twins(make_opt, functional=True)
    for i in range(12):
        a.train_on_batch(x[4 * i: 4 * i + 4], y[4 * i: 4 * i + 4])
    for i in range(7):
        b.train_on_batch(x[4 * i: 4 * i + 4], y[4 * i: 4 * i + 4])
    b.save(tmp_path / "f.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stored decay loads without its deprecation warning again
        c = fastnn.models.load_model(tmp_path / "f.keras")
    assert c.optimizer.decay == 0.01 and c.optimizer.iterations == 7
    for i in range(7, 12):
        c.train_on_batch(x[4 * i: 4 * i + 4], y[4 * i: 4 * i + 4])
    for got, want in zip(c.get_weights(), a.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_saved_optimizer_tensors_and_learning_rate_changed_by_a_callback(tmp_path):
    x, y = _data()
    m = _mlp(fastnn.optimizers.Adam(learning_rate=0.01))
    m.fit(x, y, batch_size=16, epochs=2, verbose=0,
          callbacks=[fastnn.callbacks.LearningRateScheduler(lambda epoch: 0.01 / (epoch + 1))])
    m.save(tmp_path / "m.keras")
    named, meta = S.load_weights_file(tmp_path / "m.keras")
    names = [n for n, _ in named]
    n_model = len(m.weights)
    assert names[n_model] == "optimizer/iterations" and int(named[n_model][1]) == 6
    assert names[n_model + 1].startswith("optimizer/") and names[n_model + 1].endswith("/momentum")
    assert len(names) == n_model + 1 + 2 * n_model  # Adam: momentum and velocity per weight
    assert meta["optimizer_state"]["variables"] == list(range(n_model))
    from safetensors.numpy import load_file

    assert set(load_file(str(tmp_path / "m.keras"))) == set(names)  # any safetensors reader sees it all
    c = fastnn.models.load_model(tmp_path / "m.keras")
    assert c.optimizer.learning_rate == 0.005  # the value the callback left, not the constructor's
    other = _mlp("sgd")
    other.load_weights(tmp_path / "m.keras")  # a model file's weights load without its optimizer state
    for got, want in zip(other.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert other.optimizer.iterations == 0


def test_load_without_compile_or_without_optimizer_state(tmp_path):
    x, y = _data()
    m = _mlp(fastnn.optimizers.Adam())
    m.fit(x, y, batch_size=16, epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    bare = fastnn.models.load_model(tmp_path / "m.keras", compile=False)
    assert bare.optimizer is None
    for got, want in zip(bare.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(got, want)
    # a file written before optimizer state was stored: the same file less its optimizer tensors
    named, meta = S.load_weights_file(tmp_path / "m.keras")
    opt_names = set(meta.pop("optimizer_state")["tensors"])
    S.save_weights_file(tmp_path / "old.keras", [(n, a) for n, a in named if n not in opt_names], meta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = fastnn.models.load_model(tmp_path / "old.keras")
    assert isinstance(old.optimizer, fastnn.optimizers.Adam) and old.optimizer.iterations == 0
    old.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert old.optimizer.iterations == 3
    # compiled but never trained: nothing to store, loads compiled
    fresh = _mlp(fastnn.optimizers.RMSprop())
    fresh.save(tmp_path / "fresh.keras")
    _, meta = S.load_weights_file(tmp_path / "fresh.keras")
    assert "optimizer_state" not in meta
    again = fastnn.models.load_model(tmp_path / "fresh.keras")
    assert isinstance(again.optimizer, fastnn.optimizers.RMSprop) and again.optimizer.iterations == 0


def test_optimizer_state_that_does_not_fit_warns(tmp_path):
    x, y = _data()
    m = _mlp(fastnn.optimizers.Adam(amsgrad=True))
    m.fit(x, y, batch_size=16, epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    named, meta = S.load_weights_file(tmp_path / "m.keras")
    meta["compile_config"]["optimizer"]["config"]["amsgrad"] = False  # two slots per weight, not three
    S.save_weights_file(tmp_path / "edited.keras", named, meta)
    with pytest.warns(UserWarning, match="optimizer state could not be restored.*expected 9 arrays"):
        c = fastnn.models.load_model(tmp_path / "edited.keras")
    assert c.optimizer.iterations == 0
    for got, want in zip(c.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_an_optimizer_shared_with_another_model_is_not_saved(tmp_path):
    x, y = _data()
    opt = fastnn.optimizers.SGD(learning_rate=0.01, momentum=0.9)
    m1, m2 = _mlp(opt), _mlp(opt)
    m1.fit(x, y, batch_size=16, epochs=1, verbose=0)
    m2.fit(x, y, batch_size=16, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="not the model's.*without its optimizer state"):
        m1.save(tmp_path / "m1.keras")
    _, meta = S.load_weights_file(tmp_path / "m1.keras")
    assert "optimizer_state" not in meta
    assert fastnn.models.load_model(tmp_path / "m1.keras").optimizer.iterations == 0


def test_schedule_and_custom_schedule_in_a_saved_compile_config(tmp_path):
    sched = fastnn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    m = _mlp(fastnn.optimizers.SGD(learning_rate=sched))
    m.save(tmp_path / "s.keras")
    c = fastnn.models.load_model(tmp_path / "s.keras")
    got = c.optimizer._learning_rate
    assert isinstance(got, fastnn.optimizers.schedules.ExponentialDecay) and got.get_config() == sched.get_config()

    class Halving(fastnn.optimizers.schedules.LearningRateSchedule):
        def __init__(self, lr0):
            self.lr0 = lr0

        def __call__(self, step):
            return self.lr0 / 2**step

        def get_config(self):
            return {"lr0": self.lr0}

    m = _mlp(fastnn.optimizers.SGD(learning_rate=Halving(0.2)))
    m.save(tmp_path / "h.keras")
    with pytest.warns(UserWarning, match="could not be compiled again.*Halving"):
        fastnn.models.load_model(tmp_path / "h.keras")
    c = fastnn.models.load_model(tmp_path / "h.keras", custom_objects={"Halving": Halving})
    assert isinstance(c.optimizer._learning_rate, Halving) and c.optimizer.learning_rate == 0.2
