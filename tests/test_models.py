"""Models: Sequential and functional graphs, summary text, shared and nested models, the training
loop against torch, digits accuracy, freezing, the GAN recipe, progress bar, error cases."""

import io
import time

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers as L
from fastnn.layers.base import clear_session
from fastnn.models import Model, Sequential


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


def _rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- structure
def test_sequential_variants_and_param_counts():
    a = Sequential([L.Dense(4, input_dim=3, activation="sigmoid"), L.Dense(1, activation="sigmoid")])
    assert a.built and a.count_params() == 4 * 3 + 4 + 4 + 1
    b = Sequential()
    b.add(L.Input((784,)))
    b.add(L.Dense(256, activation="relu"))
    b.add(L.Dense(128, activation="relu"))
    b.add(L.Dense(10, activation="softmax"))
    assert b.count_params() == 235146  # Keras: 200960 + 32896 + 1290
    c = Sequential([L.Dense(8), L.Dense(2)])
    assert not c.built
    out = c(np.ones((5, 3), np.float32))
    assert out.shape == (5, 2) and c.built and c.count_params() == 3 * 8 + 8 + 8 * 2 + 2
    popped = b.pop()
    assert popped.units == 10 and b.output_shape == (None, 128) and len(b.layers) == 2
    d = Sequential([L.Dense(3, input_shape=(4,))])
    assert d.input_shape == (None, 4)
    e = Sequential([L.InputLayer(input_shape=(2,)), L.Dense(1)])
    assert e.count_params() == 3


SEQ_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                 ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ dense (Dense)                        │ (None, 64)                   │           2,112 │
├──────────────────────────────────────┼──────────────────────────────┼─────────────────┤
│ dropout (Dropout)                    │ (None, 64)                   │               0 │
├──────────────────────────────────────┼──────────────────────────────┼─────────────────┤
│ dense_1 (Dense)                      │ (None, 10)                   │             650 │
└──────────────────────────────────────┴──────────────────────────────┴─────────────────┘
 Total params: 2,762 (10.79 KB)
 Trainable params: 650 (2.54 KB)
 Non-trainable params: 2,112 (8.25 KB)"""

FUNC_SUMMARY = """\
Model: "two_inputs"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃      Param # ┃ Connected to                   ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ a (InputLayer)                │ (None, 4)                 │            0 │ -                              │
├───────────────────────────────┼───────────────────────────┼──────────────┼────────────────────────────────┤
│ b (InputLayer)                │ (None, 2)                 │            0 │ -                              │
├───────────────────────────────┼───────────────────────────┼──────────────┼────────────────────────────────┤
│ dense (Dense)                 │ (None, 3)                 │           15 │ a[0][0]                        │
├───────────────────────────────┼───────────────────────────┼──────────────┼────────────────────────────────┤
│ concatenate (Concatenate)     │ (None, 5)                 │            0 │ dense[0][0],                   │
│                               │                           │              │ b[0][0]                        │
├───────────────────────────────┼───────────────────────────┼──────────────┼────────────────────────────────┤
│ dense_1 (Dense)               │ (None, 1)                 │            6 │ concatenate[0][0]              │
└───────────────────────────────┴───────────────────────────┴──────────────┴────────────────────────────────┘
 Total params: 21 (84.00 B)
 Trainable params: 21 (84.00 B)
 Non-trainable params: 0 (0.00 B)"""


def _two_input_model(name="two_inputs"):
    a, b = L.Input((4,), name="a"), L.Input((2,), name="b")
    h = L.Concatenate()([L.Dense(3, activation="tanh")(a), b])
    return Model([a, b], L.Dense(1, activation="sigmoid")(h), name=name)


def test_summaries_exact_text(capsys):
    m = Sequential([L.Input((32,)), L.Dense(64, activation="relu"), L.Dropout(0.5), L.Dense(10)])
    m.layers[0].trainable = False
    m.summary()
    assert capsys.readouterr().out.rstrip("\n") == SEQ_SUMMARY
    clear_session()
    f = _two_input_model()
    lines = []
    f.summary(print_fn=lines.append)
    assert "\n".join(lines) == FUNC_SUMMARY


def test_functional_graph_properties():
    m = _two_input_model()
    assert [lyr.name for lyr in m.layers] == ["a", "b", "dense", "concatenate", "dense_1"]
    assert m.get_layer("dense").units == 3 and m.get_layer(index=-1).units == 1
    assert m.get_layer("concatenate").output.shape == (None, 5)
    assert m.input_names == ["a", "b"] and m.output_names == ["dense_1"]
    xa, xb = _rng().standard_normal((6, 4)).astype(np.float32), np.ones((6, 2), np.float32)
    y1 = m([xa, xb]).numpy()
    y2 = m({"a": xa, "b": xb}).numpy()
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(m.predict([xa, xb], verbose=0), y1)
    clone = Model.from_config(m.get_config())
    clone.set_weights(m.get_weights())
    np.testing.assert_array_equal(clone.predict_on_batch([xa, xb]), y1)
    with pytest.raises(ValueError, match="No such layer: 'nope'"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="index 9"):
        m.get_layer(index=9)


def test_shared_layer_and_dict_outputs():
    shared = L.Dense(4, name="shared")
    a, b = L.Input((3,)), L.Input((3,))
    out = L.Add()([shared(a), shared(b)])
    m = Model([a, b], {"sum": out, "left": shared(a)})
    assert len(m.weights) == 2 and m.count_params() == 16
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        _ = shared.output
    xa, xb = np.ones((2, 3), np.float32), 2 * np.ones((2, 3), np.float32)
    res = m([xa, xb])
    k, bias = shared.kernel.numpy(), shared.bias.numpy()
    np.testing.assert_allclose(res["sum"].numpy(), xa @ k + bias + xb @ k + bias, rtol=1e-6)
    np.testing.assert_allclose(res["left"].numpy(), xa @ k + bias, rtol=1e-6)


def test_nested_models_encoder_decoder():
    inp = L.Input((8,))
    encoder = Model(inp, L.Dense(2, activation="relu")(inp), name="encoder")
    z = L.Input((2,))
    decoder = Sequential([z, L.Dense(8)], name="decoder")
    x = L.Input((8,))
    auto = Model(x, decoder(encoder(x)), name="autoencoder")
    assert [lyr.name for lyr in auto.layers][1:] == ["encoder", "decoder"]
    assert auto.count_params() == encoder.count_params() + decoder.count_params() == 18 + 24
    data = _rng().standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(auto.predict_on_batch(data), decoder.predict_on_batch(encoder.predict_on_batch(data)),
                               rtol=1e-6)
    auto.compile(optimizer=fastnn.optimizers.SGD(0.01), loss="mse")
    before = encoder.get_weights()[0].copy()
    auto.fit(data, data, epochs=2, batch_size=5, verbose=0)
    assert not np.array_equal(before, encoder.get_weights()[0])  # the nested weights train
    lines = []
    auto.summary(print_fn=lines.append)
    assert any("encoder (Functional)" in ln for ln in lines) and any("decoder (Sequential)" in ln for ln in lines)


def test_regularization_counts_in_the_training_loss():
    m = Sequential([L.Input((3,)), L.Dense(2, kernel_regularizer=fastnn.regularizers.L2(0.5))])
    m.compile(optimizer=fastnn.optimizers.SGD(0.0), loss="mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    k, b = m.layers[0].kernel.numpy(), m.layers[0].bias.numpy()
    want = ((x @ k + b) ** 2).mean() + 0.5 * (k**2).sum()
    np.testing.assert_allclose(m.test_on_batch(x, y), want, rtol=1e-5)


def test_model_add_loss_keras2_form():
    x = L.Input((3,))
    h = L.Dense(4)(x)
    y = L.Dense(1)(h)
    m = Model(x, y)
    m.add_loss(h.square().mean() * 0.5)
    m.compile(optimizer=fastnn.optimizers.SGD(0.0), loss="mse")
    data, target = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    loss = m.test_on_batch(data, target)
    hv = data @ m.layers[1].kernel.numpy() + m.layers[1].bias.numpy()
    yv = hv @ m.layers[2].kernel.numpy() + m.layers[2].bias.numpy()
    np.testing.assert_allclose(loss, (yv**2).mean() + 0.5 * (hv**2).mean(), rtol=1e-5)
    assert len(m.losses) == 1


# ----------------------------------------------------------------------------- against torch
def _torch_linear(dense):
    lin = torch.nn.Linear(dense.kernel.shape[0], dense.units)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(dense.kernel.numpy().T.copy()))
        lin.bias.copy_(torch.from_numpy(dense.bias.numpy().copy()))
    return lin


def test_mlp_ten_sgd_steps_match_torch():
    fastnn.random.seed(1)
    m = Sequential([L.Input((7,)), L.Dense(16, activation="relu"), L.Dense(8, activation="tanh"),
                    L.Dense(3, activation="softmax")])
    m.compile(optimizer=fastnn.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    tl = [_torch_linear(d) for d in m.layers]
    tmodel = torch.nn.Sequential(tl[0], torch.nn.ReLU(), tl[1], torch.nn.Tanh(), tl[2], torch.nn.Softmax(-1))
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    rng = _rng(3)
    x = rng.standard_normal((100, 7)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 100)]
    ours, theirs = [], []
    for step in range(10):
        xb, yb = x[step * 10:(step + 1) * 10], y[step * 10:(step + 1) * 10]
        ours.append(m.train_on_batch(xb, yb))
        opt.zero_grad()
        p = tmodel(torch.from_numpy(xb))
        p = torch.clamp(p / p.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)
        loss = -(torch.from_numpy(yb) * torch.log(p)).sum(-1).mean()
        loss.backward()
        opt.step()
        theirs.append(loss.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(m.layers[0].kernel.numpy(), tl[0].weight.detach().numpy().T, rtol=1e-4, atol=1e-6)


def test_two_input_functional_ten_steps_match_torch():
    fastnn.random.seed(2)
    m = _two_input_model()
    m.compile(optimizer=fastnn.optimizers.SGD(learning_rate=0.2), loss="binary_crossentropy")
    d1, d2 = m.get_layer("dense"), m.get_layer("dense_1")
    t1, t2 = _torch_linear(d1), _torch_linear(d2)
    opt = torch.optim.SGD(list(t1.parameters()) + list(t2.parameters()), lr=0.2)
    rng = _rng(4)
    xa = rng.standard_normal((80, 4)).astype(np.float32)
    xb = rng.standard_normal((80, 2)).astype(np.float32)
    y = (rng.random((80, 1)) > 0.5).astype(np.float32)
    h = m.fit([xa, xb], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs = []
    for step in range(10):
        sl = slice(step * 8, (step + 1) * 8)
        opt.zero_grad()
        hid = torch.cat([torch.tanh(t1(torch.from_numpy(xa[sl]))), torch.from_numpy(xb[sl])], dim=1)
        p = torch.clamp(torch.sigmoid(t2(hid)), 1e-7, 1 - 1e-7)
        yt = torch.from_numpy(y[sl])
        loss = -(yt * torch.log(p) + (1 - yt) * torch.log(1 - p)).mean()
        loss.backward()
        opt.step()
        theirs.append(loss.item())
    # fit reports the epoch mean (batches of equal size): compare it and the final weights
    np.testing.assert_allclose(h.history["loss"][0], np.mean(theirs), rtol=1e-5)
    np.testing.assert_allclose(d2.kernel.numpy(), t2.weight.detach().numpy().T, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(d1.kernel.numpy(), t1.weight.detach().numpy().T, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- training loop
def _blobs(n=200, seed=0):
    rng = _rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.standard_normal((n, 3)) + 2.0 * y[:, None]).astype(np.float32)
    return x, y.astype(np.float32)


def test_fit_history_keys_validation_and_accuracy_resolution():
    x, y = _blobs()
    m = Sequential([L.Dense(4, input_dim=3, activation="sigmoid"), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=3, batch_size=16, validation_data=(x[:50], y[:50]), verbose=0)
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 3 for v in h.history.values())
    assert type(m._compiled.metrics[0][1]).__name__ == "BinaryAccuracy"
    assert m.history is h
    res = m.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 2
    assert set(m.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    m2 = Sequential([L.Input((3,)), L.Dense(2, activation="softmax")])
    m2.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    h2 = m2.fit(x, y.astype(np.int64), epochs=1, verbose=0)
    assert "acc" in h2.history
    assert type(m2._compiled.metrics[0][1]).__name__ == "SparseCategoricalAccuracy"


def test_validation_split_takes_the_last_fraction():
    x, y = _blobs(100)
    m = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer=fastnn.optimizers.SGD(0.0), loss="binary_crossentropy")
    h = m.fit(x, y, epochs=1, validation_split=0.2, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][0], m.evaluate(x[80:], y[80:], verbose=0), rtol=1e-6)
    np.testing.assert_allclose(h.history["loss"][0], m.evaluate(x[:80], y[:80], verbose=0), rtol=1e-6)


def test_shuffle_reproducible_from_seed():
    x, y = _blobs()

    def run():
        fastnn.utils.set_random_seed(7)
        clear_session()
        m = Sequential([L.Input((3,)), L.Dense(5, activation="relu"), L.Dropout(0.2), L.Dense(1, activation="sigmoid")])
        m.compile(optimizer="adam", loss="binary_crossentropy")
        return m.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"]

    assert run() == run()


def test_sample_and_class_weights():
    x, y = _blobs(32)
    m = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer=fastnn.optimizers.SGD(0.0), loss="binary_crossentropy")
    base = m.test_on_batch(x, y)
    np.testing.assert_allclose(m.test_on_batch(x, y, sample_weight=np.full(32, 2.0)), 2 * base, rtol=1e-6)
    a = m.train_on_batch(x, y, class_weight={0: 3.0, 1: 3.0})
    np.testing.assert_allclose(a, 3 * base, rtol=1e-6)


def test_multi_output_losses_and_weights():
    x = L.Input((3,))
    h = L.Dense(4, activation="relu")(x)
    out_a = L.Dense(1, name="reg")(h)
    out_b = L.Dense(2, activation="softmax", name="cls")(h)
    m = Model(x, [out_a, out_b])
    m.compile(optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
              loss_weights=[1.0, 0.5], metrics={"cls": ["accuracy"]})
    data = _rng().standard_normal((20, 3)).astype(np.float32)
    h = m.fit(data, [data[:, :1], (data[:, 0] > 0).astype(np.int64)], epochs=1, batch_size=20, verbose=0)
    assert set(h.history) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}
    np.testing.assert_allclose(h.history["loss"][0], h.history["reg_loss"][0] + 0.5 * h.history["cls_loss"][0],
                               rtol=1e-5)


def test_frozen_layer_bit_identical_through_training():
    x, y = _blobs()
    m = Sequential([L.Input((3,)), L.Dense(8, activation="relu"), L.Dense(1, activation="sigmoid")])
    m.layers[0].trainable = False
    m.compile(optimizer="adam", loss="binary_crossentropy")
    frozen = [w.copy() for w in m.layers[0].get_weights()]
    other = [w.copy() for w in m.layers[1].get_weights()]
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for a, b in zip(frozen, m.layers[0].get_weights()):
        assert a.tobytes() == b.tobytes()
    assert not np.array_equal(other[0], m.layers[1].get_weights()[0])
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2


def test_gan_trainable_recipe():
    fastnn.random.seed(3)
    gen = Sequential([L.Input((2,)), L.Dense(3)], name="generator")
    disc = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")], name="discriminator")
    disc.compile(optimizer=fastnn.optimizers.SGD(0.1), loss="binary_crossentropy")
    disc.trainable = False
    z = L.Input((2,))
    gan = Model(z, disc(gen(z)))
    gan.compile(optimizer=fastnn.optimizers.SGD(0.1), loss="binary_crossentropy")
    noise = _rng().standard_normal((16, 2)).astype(np.float32)
    real = _rng(1).standard_normal((16, 3)).astype(np.float32)
    d0, g0 = disc.get_weights(), gen.get_weights()
    gan.train_on_batch(noise, np.ones((16, 1), np.float32))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(d0, disc.get_weights()))  # D frozen in the GAN
    assert not np.array_equal(g0[0], gen.get_weights()[0])  # G trained
    g1 = gen.get_weights()
    disc.train_on_batch(real, np.ones((16, 1), np.float32))
    assert not np.array_equal(d0[0], disc.get_weights()[0])  # D trains through its own compile
    assert all(a.tobytes() == b.tobytes() for a, b in zip(g1, gen.get_weights()))
    d1 = disc.get_weights()
    gan.train_on_batch(noise, np.ones((16, 1), np.float32))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(d1, disc.get_weights()))


def test_predict_classes_and_proba():
    x, y = _blobs(40)
    m = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    p = m.predict(x, verbose=0)
    with pytest.deprecated_call():
        classes = m.predict_classes(x)
    assert classes.shape == (40, 1) and classes.dtype == np.int32
    np.testing.assert_array_equal(classes, (p > 0.5).astype(np.int32))
    with pytest.deprecated_call():
        proba = m.predict_proba(x)
    np.testing.assert_allclose(proba, np.hstack([1 - p, p]), rtol=1e-6)
    s = Sequential([L.Input((3,)), L.Dense(4, activation="softmax")])
    with pytest.deprecated_call():
        np.testing.assert_array_equal(s.predict_classes(x), s.predict(x, verbose=0).argmax(-1))


def test_stop_training_from_callback():
    x, y = _blobs()

    class Stop(fastnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    m = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy")
    h = m.fit(x, y, epochs=10, callbacks=[Stop()], verbose=0)
    assert len(h.history["loss"]) == 2


def test_progress_bar_output(capsys):
    x, y = _blobs(64)
    m = Sequential([L.Input((3,)), L.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=2, batch_size=16, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("4/4 - ") and "/step - loss: " in out[1] and " - accuracy: " in out[1]
    m.fit(x, y, epochs=1, batch_size=16, verbose=1)  # not a terminal: one final line per epoch
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("4/4 " + "━" * 20 + " ")
    from fastnn.models.progbar import Progbar

    buf = io.StringIO()
    bar = Progbar(3, stream=buf, dynamic=True, interval=0.0)
    for i in range(3):
        bar.update(i + 1, {"loss": 0.5})
    assert buf.getvalue().count("\r") == 3 and buf.getvalue().endswith("- loss: 0.5000\x1b[K\n")


@pytest.mark.slow
def test_digits_mlp_reaches_97_percent():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    mean, std = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    fastnn.utils.set_random_seed(0)
    m = Sequential([L.Input((64,)), L.Dense(128, activation="relu"), L.Dense(64, activation="relu"),
                    L.Dense(10, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t = time.time()
    m.fit(xtr, ytr, epochs=15, batch_size=32, verbose=0)
    elapsed = time.time() - t
    acc = m.evaluate(xte, yte, verbose=0, return_dict=True)["accuracy"]
    assert acc >= 0.97, (acc, elapsed)


# ----------------------------------------------------------------------------- errors
def test_error_cases():
    m = _two_input_model()
    xa, xb = np.ones((2, 4), np.float32), np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="expects 2 input"):
        m(xa)
    with pytest.raises(ValueError, match="expects 2 input"):
        m([xa, xb, xb])
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\).*\(2, 5\)"):
        m([np.ones((2, 5), np.float32), xb])
    with pytest.raises(RuntimeError, match="compile"):
        m.fit([xa, xb], np.ones((2, 1)))
    with pytest.raises(ValueError, match="Unknown loss 'nope'"):
        m.compile(optimizer="sgd", loss="nope")
    with pytest.raises(ValueError, match="nope"):
        m.compile(optimizer="nope", loss="mse")
    m.compile(optimizer="sgd", loss="mse", metrics=["nope_metric"])
    with pytest.raises(ValueError, match="nope_metric"):
        m.fit([xa, xb], np.ones((2, 1)), verbose=0)
    m.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        m.fit([xa, xb], np.ones((3, 1)), verbose=0)
    with pytest.raises(ValueError, match="batch_size=0"):
        m.fit([xa, xb], np.ones((2, 1)), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit([xa, xb], np.ones((2, 1)), validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="y_true has shape"):
        m.train_on_batch([xa, xb], np.ones((2, 3)))
    s = Sequential([L.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"expected shape \(None, 3\)"):
        s.predict(np.ones((4, 5), np.float32), verbose=0)
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        s.add("dense")
    with pytest.raises(ValueError, match="unique names"):
        s.add(L.Dense(2, name=s.layers[0].name))
    other = L.Input((3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(L.Input((3,)), L.Dense(1)(other))
    with pytest.raises(ValueError, match="must come from fastnn.layers.Input"):
        Model(L.Dense(2)(other), other)


# ----------------------------------------------------------------------------- saving round trips
def test_save_load_round_trips(tmp_path):
    x = _rng().standard_normal((6, 4)).astype(np.float32)
    xb = _rng(1).standard_normal((6, 2)).astype(np.float32)
    seq = Sequential([L.Input((4,)), L.Normalization(), L.Dense(5, activation="relu"), L.Dropout(0.1),
                      L.Dense(3, activation="softmax")])
    seq.layers[0].adapt(x)
    seq.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seq.fit(x, np.arange(6) % 3, epochs=1, verbose=0)
    seq.save(tmp_path / "seq.keras")
    back = fastnn.models.load_model(tmp_path / "seq.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), seq.predict(x, verbose=0))
    assert back.optimizer is not None and back.evaluate(x, np.arange(6) % 3, verbose=0) is not None
    func = _two_input_model()
    func.save_weights(tmp_path / "f.weights.safetensors")
    clear_session()
    other = fastnn.models.model_from_json(func.to_json())
    other.load_weights(tmp_path / "f.weights.safetensors")
    np.testing.assert_array_equal(other.predict([x, xb], verbose=0), func.predict([x, xb], verbose=0))

    def neg(t):
        return -t

    lam = Sequential([L.Input((4,)), L.Lambda(neg)])
    lam.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="custom_objects"):
        fastnn.models.load_model(tmp_path / "lam.keras")
    loaded = fastnn.models.load_model(tmp_path / "lam.keras", custom_objects={"neg": neg})
    np.testing.assert_array_equal(loaded.predict_on_batch(x), -x)
    lazy = Sequential([L.Dense(3), L.Dense(1)])
    lazy.build((None, 4))
    lazy.save(tmp_path / "lazy.keras")
    assert fastnn.models.load_model(tmp_path / "lazy.keras").count_params() == lazy.count_params()


# ---------------------------------------------------------------- direct inference path
@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_direct_inference_matches_general_path(act):
    """predict_on_batch / predict run Sequential models of Dense and Dropout layers straight on
    the kernels; the outputs are bit-identical to the layer-by-layer forward."""
    fastnn.random.seed(3)
    m = Sequential([L.Input((13,)), L.Dense(9, activation="relu"), L.Dropout(0.5),
                           L.Dense(5, activation=act)])
    assert m._inference_plan() is not None
    x = np.random.default_rng(0).standard_normal((7, 13)).astype(np.float32)
    with fastnn.no_grad():
        want = m(fastnn.tensor(x), training=False).numpy()
    np.testing.assert_array_equal(m.predict_on_batch(x), want)
    with fastnn.no_grad():  # one row takes the GEMV kernel: its own order of the sum over k
        want1 = m(fastnn.tensor(x[:1]), training=False).numpy()
    np.testing.assert_array_equal(m.predict_on_batch(x[:1]), want1)
    np.testing.assert_array_equal(m.predict(x, batch_size=4, verbose=0), want)
    # a non-contiguous view and float64 input give the same numbers
    xf = np.asfortranarray(x)
    np.testing.assert_array_equal(m.predict_on_batch(xf), want)
    np.testing.assert_allclose(m.predict_on_batch(x.astype(np.float64)), want, rtol=0, atol=0)


def test_direct_inference_falls_back_and_keeps_errors():
    fastnn.random.seed(4)
    m = Sequential([L.Input((6,)), L.Dense(4), L.Lambda(lambda t: t * 2.0)])
    assert m._inference_plan() is None  # Lambda has no direct path: the general forward runs
    x = np.ones((2, 6), np.float32)
    with fastnn.no_grad():
        np.testing.assert_array_equal(m.predict_on_batch(x), m(fastnn.tensor(x)).numpy())
    d = Sequential([L.Input((6,)), L.Dense(4, activation="relu")])
    with pytest.raises(ValueError, match=r"expected shape \(None, 6\), but received an input of shape \(2, 5\)"):
        d.predict_on_batch(np.ones((2, 5), np.float32))
    # weights changed after the first call are read by the next one
    d.predict_on_batch(x)
    d.set_weights([np.zeros((6, 4), np.float32), np.full((4,), 2.0, np.float32)])
    np.testing.assert_array_equal(d.predict_on_batch(x), np.full((2, 4), 2.0, np.float32))
    # a layer added later drops the plan
    d.add(L.Dense(1))
    assert d.predict_on_batch(x).shape == (2, 1)
