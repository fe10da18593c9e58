"""Keras 3's custom-training contract: overriding train_step / test_step / predict_step, with
compute_loss, compute_metrics, Model.metrics and the optimizer's apply from inside a step."""

import fastnn
import numpy as np
import pytest
from fastnn import layers, models
from fastnn.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight


def _data(n=100, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    return x, y


def _mlp(cls, seed=1, **compile_kw):
    fastnn.utils.set_random_seed(seed)
    inp = layers.Input((5,))
    h = layers.Dense(7, activation="relu")(inp)
    out = layers.Dense(3, activation="softmax")(h)
    model = cls(inp, out)
    kw = dict(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kw.update(compile_kw)
    model.compile(**kw)
    return model


class DefaultStep(models.Model):
    """The default step written with the public API, as the torch-backend guide does."""

    def train_step(self, data):
        x, y, sw = unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw)
        loss.backward()
        ws = self.trainable_weights
        self.optimizer.apply([w.value.grad for w in ws], ws)
        for m in self.metrics:
            if m.name == "loss":
                m.update_state(loss, sample_weight=len(x))
            else:
                m.update_state(y, y_pred, sample_weight=sw)
        return {m.name: m.result() for m in self.metrics}


# ------------------------------------------------------------------ unpack / pack
def test_unpack_pack_round_trip():
    x, y, sw = np.zeros(3), np.ones(3), np.full(3, 2.0)
    assert unpack_x_y_sample_weight(x)[0] is x and unpack_x_y_sample_weight(x)[1:] == (None, None)
    assert unpack_x_y_sample_weight((x,))[0] is x
    got = unpack_x_y_sample_weight([x, y])
    assert got[0] is x and got[1] is y and got[2] is None
    got = unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y, sw))
    assert got[0] is x and got[1] is y and got[2] is sw
    # several inputs without y stay one x
    packed = pack_x_y_sample_weight([x, y])
    assert packed == ([x, y],) or (isinstance(packed, tuple) and len(packed) == 1)
    assert unpack_x_y_sample_weight(packed)[0][1] is y
    assert pack_x_y_sample_weight(x) is x
    with pytest.raises(ValueError, match="length 4"):
        unpack_x_y_sample_weight((x, y, sw, sw))
    with pytest.raises(ValueError, match="needs a y"):
        pack_x_y_sample_weight(x, None, sw)


# ------------------------------------------------------------------ train_step
def test_overridden_default_step_matches_fit_bit_for_bit():
    x, y = _data()
    a, b = _mlp(models.Model), _mlp(DefaultStep)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    ha = a.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    hb = b.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert list(hb.history) == ["loss", "accuracy"]
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-12)
    assert hb.history["accuracy"] == ha.history["accuracy"]
    assert a.optimizer.iterations == b.optimizer.iterations == 3 * 7


def test_default_train_step_called_directly_matches_fit_step():
    x, y = _data(32)
    a, b = _mlp(models.Model), _mlp(models.Model)
    a.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    b._ensure_ready([x[:1]])
    logs = b.train_step((fastnn.Tensor(x), fastnn.Tensor(y)))
    assert set(logs) == {"loss", "accuracy"}
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_train_step_with_shuffle_and_sample_weight_matches_fit():
    x, y = _data()
    sw = np.random.default_rng(3).uniform(0.1, 2.0, len(x)).astype(np.float32)
    fastnn.utils.set_random_seed(5)
    a = _mlp(models.Model)
    fastnn.random.seed(7)
    a.fit(x, y, sample_weight=sw, epochs=2, batch_size=10, verbose=0)
    b = _mlp(DefaultStep)
    fastnn.random.seed(7)
    b.fit(x, y, sample_weight=sw, epochs=2, batch_size=10, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_sample_weight_unpacking():
    seen = []

    class Probe(models.Model):
        def train_step(self, data):
            seen.append(data)
            x, y, sw = unpack_x_y_sample_weight(data)
            return {"n": float(len(x)), "sw_sum": 0.0 if sw is None else float(sw.numpy().sum())}

    x, y = _data(20)
    sw = np.arange(20, dtype=np.float32)
    m = _mlp(Probe)
    h = m.fit(x, y, sample_weight=sw, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert len(seen) == 3 and all(isinstance(d, tuple) and len(d) == 3 for d in seen)
    x0, y0, sw0 = seen[0]
    assert isinstance(x0, fastnn.Tensor) and x0.shape == (8, 5)
    np.testing.assert_array_equal(y0.numpy(), y[:8])
    np.testing.assert_array_equal(sw0.numpy(), sw[:8])
    assert h.history["sw_sum"] == [float(sw[16:].sum())]  # the epoch's logs: the last step's
    seen.clear()
    m.fit(x, y, batch_size=20, epochs=1, verbose=0)
    assert isinstance(seen[0], tuple) and len(seen[0]) == 2
    seen.clear()
    m.fit(x, batch_size=20, epochs=1, verbose=0)  # no y: data is x alone
    assert isinstance(seen[0], fastnn.Tensor)
    seen.clear()
    m.fit(x, y, class_weight={0: 0.0, 1: 1.0, 2: 2.0}, batch_size=20, epochs=1, verbose=0)
    np.testing.assert_array_equal(seen[0][2].numpy(), np.array([0.0, 1.0, 2.0], np.float32)[seen[0][1].numpy()])


def test_sample_weight_reaches_compute_loss_and_metrics():
    x, y = _data(40)
    sw = np.zeros(40, np.float32)
    sw[:10] = 1.0
    m = _mlp(DefaultStep, metrics=None, weighted_metrics=["accuracy"])
    ref = _mlp(models.Model, metrics=None, weighted_metrics=["accuracy"])
    probs = ref.predict(x, verbose=0)
    got = m.train_on_batch(x, y, sample_weight=sw, return_dict=True)
    want = ref.train_on_batch(x, y, sample_weight=sw, return_dict=True)
    assert got["accuracy"] == want["accuracy"] == pytest.approx(np.mean(probs[:10].argmax(-1) == y[:10]))
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-12)
    for wa, wb in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    y_pred = m(fastnn.Tensor(x))
    full = m.compute_loss(y=y, y_pred=y_pred, sample_weight=sw).item()
    first = m.compute_loss(y=y[:10], y_pred=fastnn.Tensor(y_pred.numpy()[:10])).item()
    # sum_over_batch_size: the weighted sum over all 40 samples
    np.testing.assert_allclose(full, first * 10 / 40, rtol=1e-6)


class Tracked(models.Model):
    """Its own Mean tracker as an attribute (Keras tracks and resets it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = fastnn.metrics.Mean(name="batch_count")
        self.calls = 0

    def train_step(self, data):
        x, y, _ = unpack_x_y_sample_weight(data)
        self.calls += 1
        self.batches.update_state(np.array([float(self.calls)]))
        # not named "loss": logs with the same keys as `metrics` are replaced at the epoch's end
        # by the metrics' results, and this step never updates the loss tracker
        return {"const": fastnn.Tensor(np.array(0.5, np.float32)), "batch_count": self.batches.result()}


def test_custom_tracker_is_reset_every_epoch_and_in_history():
    x, y = _data(30)
    m = _mlp(Tracked)
    assert [mt.name for mt in m.metrics] == ["loss", "compile_metrics", "batch_count"]
    h = m.fit(x, y, batch_size=10, epochs=3, verbose=0)
    # three batches per epoch: calls 1,2,3 then 4,5,6 then 7,8,9; reset at each epoch start
    np.testing.assert_allclose(h.history["batch_count"], [2.0, 5.0, 8.0])
    assert h.history["const"] == [0.5, 0.5, 0.5]
    m.evaluate(x, y, verbose=0)  # evaluate starts by resetting every metric
    assert m.batches.count == 0


def test_metrics_property_override_and_reset_metrics():
    class Own(models.Model):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.loss_tracker = fastnn.metrics.Mean(name="loss")
            self.mae_metric = fastnn.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = fastnn.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            ws = self.trainable_weights
            self.optimizer.apply([w.grad for w in ws], ws)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    rng = np.random.default_rng(0)
    x = rng.random((64, 8)).astype(np.float32)
    y = (x @ rng.random((8, 1))).astype(np.float32)
    inp = layers.Input((8,))
    m = Own(inp, layers.Dense(1)(inp))
    m.compile(optimizer="adam")  # no loss, no metrics
    h = m.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert list(h.history) == ["loss", "mae"]
    assert h.history["loss"][-1] < h.history["loss"][0]
    m.reset_metrics()
    assert m.loss_tracker.count == 0 and m.mae_metric.count == 0


def test_train_step_returning_non_dict_raises_type_error():
    class Bad(models.Model):
        def train_step(self, data):
            return 1.5

    x, y = _data(8)
    m = _mlp(Bad)
    with pytest.raises(TypeError, match="train_step must return a dict.*float"):
        m.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="train_step must return a dict.*float"):
        m.train_on_batch(x, y)


def test_log_values_tensors_numpy_and_nested_dicts():
    class Mixed(models.Model):
        def train_step(self, data):
            return {"a": fastnn.Tensor(np.array([2.0], np.float32)), "b": np.float32(3.0), "c": 4,
                    "inner": {"d": np.array(5.0)}}

    x, y = _data(8)
    m = _mlp(Mixed)
    logs = m.train_on_batch(x, y, return_dict=True)
    assert logs == {"a": 2.0, "b": 3.0, "c": 4.0, "d": 5.0}
    assert all(type(v) is float for v in logs.values())
    h = m.fit(x, y, epochs=2, verbose=0)
    assert h.history["d"] == [5.0, 5.0]


def test_callbacks_and_progress_bar_see_step_logs(capsys):
    seen = []

    class Rec(fastnn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    x, y = _data(30)
    m = _mlp(Tracked)
    m.fit(x, y, batch_size=10, epochs=1, verbose=2, callbacks=[Rec()])
    assert [s["batch_count"] for s in seen] == [1.0, 1.5, 2.0]
    assert "batch_count: 2.0000" in capsys.readouterr().out


# ------------------------------------------------------------------ test_step / predict_step
class HalfLoss(models.Model):
    def test_step(self, data):
        x, y, sw = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sw)
        for m in self.metrics:
            if m.name == "loss":
                m.update_state(loss * 0.5)
            else:
                m.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_test_step_override_used_by_evaluate_and_validation():
    x, y = _data(40)
    ref = _mlp(models.Model)
    m = _mlp(HalfLoss)
    want = ref.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    got = m.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], want["loss"] * 0.5, rtol=1e-6)
    assert got["accuracy"] == want["accuracy"]
    np.testing.assert_allclose(m.test_on_batch(x, y), [want["loss"] * 0.5, want["accuracy"]], rtol=1e-6)
    # validation_data and validation_split go through the overridden test_step
    h = m.fit(x, y, epochs=1, batch_size=40, shuffle=False, validation_data=(x, y), verbose=0)
    after = ref.fit(x, y, epochs=1, batch_size=40, shuffle=False, validation_data=(x, y), verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], np.array(after.history["val_loss"]) * 0.5, rtol=1e-6)
    np.testing.assert_allclose(h.history["loss"], after.history["loss"], rtol=1e-12)
    it = m.optimizer.iterations
    h = m.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, shuffle=False, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert m.optimizer.iterations - it == 4  # trained on the first 30 samples only
    held_out = m.evaluate(x[30:], y[30:], batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose(h.history["val_loss"], [held_out["loss"]], rtol=1e-6)


def test_test_step_with_custom_train_step_and_x_only():
    class AE(models.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.enc = layers.Dense(2)
            self.dec = layers.Dense(4)
            self.rec = fastnn.metrics.Mean(name="rec")

        def call(self, x, training=None):
            return self.dec(self.enc(x))

        def _loss(self, x):
            return fastnn.mean(fastnn.square(self(x) - x))

        def train_step(self, data):
            self.zero_grad()
            loss = self._loss(data)
            loss.backward()
            self.optimizer.apply_gradients(zip([w.grad for w in self.trainable_weights], self.trainable_weights))
            self.rec.update_state(loss)
            return {"rec": self.rec.result()}

        def test_step(self, data):
            self.rec.update_state(self._loss(data))
            return {"rec": self.rec.result()}

    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    m = AE()
    m.compile(optimizer=fastnn.optimizers.Adam(0.01))
    h = m.fit(x, epochs=5, batch_size=16, validation_data=x[:16], verbose=0)
    assert h.history["rec"][-1] < h.history["rec"][0]
    assert len(h.history["val_rec"]) == 5
    ev = m.evaluate(x, verbose=0, return_dict=True)
    assert set(ev) == {"rec"} and ev["rec"] > 0
    assert m.predict(x[:3], verbose=0).shape == (3, 4)


def test_predict_step_override():
    class Argmax(models.Model):
        def predict_step(self, data):
            probs = self(data, training=False)
            return {"probs": probs, "label": fastnn.argmax(probs, axis=-1)}

    x, y = _data(50)
    m = _mlp(Argmax)
    plain = _mlp(models.Model).predict(x, verbose=0)
    out = m.predict(x, batch_size=16, verbose=0)
    assert set(out) == {"probs", "label"}
    np.testing.assert_array_equal(out["probs"], plain)
    np.testing.assert_array_equal(out["label"], plain.argmax(-1))
    one = m.predict_on_batch(x[:4])
    np.testing.assert_array_equal(one["label"], plain[:4].argmax(-1))


def test_predict_on_batch_keeps_direct_path_without_override():
    seq = models.Sequential([layers.Input((5,)), layers.Dense(3)])
    calls = []
    orig = seq._direct_inference

    def spy(xs):
        calls.append(len(xs))
        return orig(xs)

    seq._direct_inference = spy
    assert not seq._overridden("predict_step")
    seq.predict_on_batch(np.zeros((2, 5), np.float32))
    assert calls == [1]


def test_default_path_untouched_when_not_overridden(monkeypatch):
    """fit/evaluate/predict of a plain model neither call the public steps nor build step data."""
    from fastnn.models import step_data, trainer

    def fail(*args, **kwargs):
        pytest.fail("the custom-step path was taken")

    monkeypatch.setattr(trainer, "unpack_x_y_sample_weight", fail)  # every public default step calls it
    monkeypatch.setattr(step_data.StepData, "__init__", fail)
    x, y = _data(20)
    m = _mlp(models.Model)
    m.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    m.evaluate(x, y, verbose=0)
    m.predict(x, verbose=0)
    m.train_on_batch(x, y)
    m.test_on_batch(x, y)
    m.predict_on_batch(x)


def test_metrics_after_plain_fit_mirror_history():
    x, y = _data(50)
    m = _mlp(models.Model)
    h = m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert [mt.name for mt in m.metrics] == ["loss", "compile_metrics"]
    res = m.get_metrics_result()
    np.testing.assert_allclose(res["loss"], h.history["loss"][-1], rtol=1e-12)
    assert res["accuracy"] == h.history["accuracy"][-1]


def test_compute_loss_includes_add_loss_and_regularization():
    fastnn.utils.set_random_seed(2)
    inp = layers.Input((5,))
    out = layers.Dense(1, kernel_regularizer=fastnn.regularizers.L2(0.1))(inp)
    m = models.Model(inp, out)
    m.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 5), np.float32)
    y = np.zeros((4, 1), np.float32)
    y_pred = m(fastnn.Tensor(x))
    total = m.compute_loss(x, y, y_pred).item()
    mse = float(np.mean(y_pred.numpy() ** 2))
    k = m.layers[1].kernel.numpy()
    np.testing.assert_allclose(total, mse + 0.1 * float(np.sum(k * k)), rtol=1e-5)
    with pytest.raises(ValueError, match="y=None"):
        m.compute_loss(y_pred=y_pred)


def test_compute_loss_without_any_loss_raises():
    inp = layers.Input((3,))
    m = models.Model(inp, layers.Dense(1)(inp))
    m.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="no loss"):
        m.compute_loss(y=np.zeros((2, 1)), y_pred=m(fastnn.ones(2, 3)))


def test_zero_grad_clears_every_weight():
    m = _mlp(models.Model)
    loss = m(fastnn.Tensor(_data(4)[0])).sum()
    loss.backward()
    assert all(w.grad is not None for w in m.weights)
    assert m.weights[0].value.grad is m.weights[0].grad
    m.zero_grad()
    assert all(w.grad is None for w in m.weights)


# ------------------------------------------------------------------ VAE on digits
class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps from fastnn's normal generator."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = fastnn.random.normal(z_mean.shape)
        return z_mean + fastnn.exp(z_log_var * 0.5) * eps


class VAE(models.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = fastnn.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = fastnn.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = fastnn.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x):
        return self.decoder(self.encoder(x)[2])

    def train_step(self, data):
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        reconstruction_loss = fastnn.mean(fastnn.sum(_bce(data, reconstruction), axis=-1))
        kl = (1.0 + z_log_var - fastnn.square(z_mean) - fastnn.exp(z_log_var)) * -0.5
        kl_loss = fastnn.mean(fastnn.sum(kl, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        ws = self.trainable_weights
        self.optimizer.apply_gradients(zip([w.grad for w in ws], ws))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def _bce(target, prob):
    """Elementwise binary cross-entropy (the per-pixel loss the VAE sums over pixels)."""
    p = fastnn.clip(prob, 1e-7, 1.0 - 1e-7)
    return -(target * fastnn.log(p) + (1.0 - target) * fastnn.log(1.0 - p))


def test_vae_on_digits_lowers_its_loss():
    from sklearn.datasets import load_digits

    x = (load_digits().data / 16.0).astype(np.float32)  # (1797, 64) in [0, 1]
    fastnn.utils.set_random_seed(0)
    enc_in = layers.Input((64,))
    h = layers.Dense(32, activation="relu")(enc_in)
    z_mean = layers.Dense(2, name="z_mean")(h)
    z_log_var = layers.Dense(2, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    encoder = models.Model(enc_in, [z_mean, z_log_var, z], name="encoder")
    dec_in = layers.Input((2,))
    decoder = models.Model(dec_in, layers.Dense(64, activation="sigmoid")(layers.Dense(32, activation="relu")(dec_in)),
                           name="decoder")
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=fastnn.optimizers.Adam(learning_rate=0.003))
    h = vae.fit(x, epochs=6, batch_size=64, verbose=0)
    assert set(h.history) == {"loss", "reconstruction_loss", "kl_loss"}
    losses = h.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    assert all(v > 0 for v in h.history["kl_loss"])
    # the trackers were reset each epoch: the last epoch's mean is over its own batches only
    assert vae.total_loss_tracker.count == np.ceil(len(x) / 64)
    assert vae.predict(x[:5], verbose=0).shape == (5, 64)


# ------------------------------------------------------------------ GAN with two optimizers
class GAN(models.Model):
    def __init__(self, discriminator, generator, latent_dim, freeze_d=False):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.freeze_d = freeze_d
        self.d_loss_tracker = fastnn.metrics.Mean(name="d_loss")
        self.g_loss_tracker = fastnn.metrics.Mean(name="g_loss")
        self.built = True
        self.snapshots = []

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def _snap(self):
        return ([w.numpy().copy() for w in self.discriminator.weights],
                [w.numpy().copy() for w in self.generator.weights])

    def train_step(self, real):
        if isinstance(real, tuple):
            real = real[0]
        n = real.shape[0]
        before = self._snap()
        z = fastnn.random.normal((n, self.latent_dim))
        fake = self.generator(z)
        combined = fastnn.concatenate([fake, real], axis=0)
        labels = np.concatenate([np.ones((n, 1)), np.zeros((n, 1))]).astype(np.float32)
        labels += 0.05 * fastnn.random.uniform(labels.shape).numpy()
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(combined))
        d_loss.backward()
        dw = self.discriminator.trainable_weights
        self.d_optimizer.apply([w.grad for w in dw], dw)
        mid = self._snap()

        z = fastnn.random.normal((n, self.latent_dim))
        self.zero_grad()
        if self.freeze_d:
            self.discriminator.trainable = False
        g_loss = self.loss_fn(np.zeros((n, 1), np.float32), self.discriminator(self.generator(z)))
        g_loss.backward()
        gw = self.generator.trainable_weights
        self.g_optimizer.apply([w.grad for w in gw], gw)
        if self.freeze_d:
            self.discriminator.trainable = True
        self.snapshots.append((before, mid, self._snap()))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def _changed(a, b):
    return [not np.array_equal(u, v) for u, v in zip(a, b)]


@pytest.mark.parametrize("freeze_d", [False, True])
def test_gan_two_optimizers_update_only_their_half(freeze_d):
    fastnn.utils.set_random_seed(3)
    latent = 4
    disc = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="tanh"), layers.Dense(1)],
                             name="discriminator")
    gen = models.Sequential([layers.Input((latent,)), layers.Dense(8, activation="tanh"), layers.Dense(6)],
                            name="generator")
    gan = GAN(disc, gen, latent, freeze_d=freeze_d)
    gan.compile(d_optimizer=fastnn.optimizers.Adam(learning_rate=0.001),
                g_optimizer=fastnn.optimizers.Adam(learning_rate=0.001),
                loss_fn=fastnn.losses.BinaryCrossentropy(from_logits=True))
    real = np.random.default_rng(0).normal(2.0, 0.5, size=(64, 6)).astype(np.float32)
    h = gan.fit(real, epochs=3, batch_size=16, verbose=0)
    assert set(h.history) == {"d_loss", "g_loss"} and len(h.history["d_loss"]) == 3
    assert all(np.isfinite(h.history["d_loss"])) and all(np.isfinite(h.history["g_loss"]))
    assert len(gan.snapshots) == 3 * 4
    for before, mid, after in gan.snapshots:
        # discriminator half-step: every discriminator weight moves, no generator weight does
        assert all(_changed(before[0], mid[0])) and not any(_changed(before[1], mid[1]))
        # generator half-step: the reverse
        assert not any(_changed(mid[0], after[0])) and all(_changed(mid[1], after[1]))
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 12
    assert gan.optimizer.iterations == 0  # compile()'s default optimizer is never used


# ------------------------------------------------------------------ structures and sources of batches
def test_dict_inputs_keep_their_structure():
    seen = []

    class Two(models.Model):
        def train_step(self, data):
            x, y, _ = unpack_x_y_sample_weight(data)
            seen.append(x)
            return super().train_step(data)

    fastnn.utils.set_random_seed(0)
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    out = layers.Dense(1)(layers.Concatenate()([a, b]))
    m = Two({"a": a, "b": b}, out)
    m.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    y = rng.normal(size=(12, 1))
    h = m.fit({"a": xa, "b": xb}, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert set(seen[0]) == {"a", "b"} and seen[0]["a"].shape == (4, 3) and seen[0]["a"].dtype == "float32"
    np.testing.assert_allclose(seen[0]["b"].numpy(), xb[:4].astype(np.float32))
    assert len(h.history["loss"]) == 2
    with pytest.raises(ValueError, match="cardinality"):
        m.fit({"a": xa, "b": xb[:5]}, y, verbose=0)


def test_custom_steps_with_a_source_of_batches():
    class Batches:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return self.x[i * 10:(i + 1) * 10], self.y[i * 10:(i + 1) * 10]

    x, y = _data(30)
    a, b = _mlp(models.Model), _mlp(DefaultStep)
    ha = a.fit(Batches(x, y), epochs=2, verbose=0)
    hb = b.fit(Batches(x, y), epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-12)
    m = _mlp(HalfLoss)
    want = _mlp(models.Model).evaluate(Batches(x, y), verbose=0)
    got = m.evaluate(Batches(x, y), verbose=0)
    np.testing.assert_allclose(got[0], want[0] * 0.5, rtol=1e-6)
    h = m.fit(x, y, validation_data=Batches(x, y), epochs=1, verbose=0)
    assert "val_loss" in h.history


def test_epoch_logs_come_from_metrics_when_keys_match():
    class LossOnly(models.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
            self.metrics[0].update_state(loss)
            return {"loss": loss}  # this batch's loss; the epoch logs get the tracker's mean

    x, y = _data(30)
    m = _mlp(LossOnly, metrics=None)
    seen = []
    cb = fastnn.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    h = m.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
    np.testing.assert_allclose(h.history["loss"], [np.mean(seen)], rtol=1e-6)


class ViaComputeMetrics(models.Model):
    """The default step with compute_metrics (which also reports the per-output loss trackers
    compute_loss updates)."""

    def train_step(self, data):
        x, y, sw = unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sw)
        self.metrics[0].update_state(loss, sample_weight=len(x))
        loss.backward()
        self.optimizer.apply_gradients((w.grad, w) for w in self.trainable_weights)
        return self.compute_metrics(x, y, y_pred, sw)


def test_two_outputs_default_step_reproduced():
    def make(cls):
        fastnn.utils.set_random_seed(4)
        inp = layers.Input((5,), name="inp")
        h = layers.Dense(6, activation="tanh")(inp)
        out_a = layers.Dense(1, name="reg")(h)
        out_b = layers.Dense(3, activation="softmax", name="cls")(h)
        m = cls(inp, [out_a, out_b])
        m.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 1.0],
                  metrics=[["mae"], ["accuracy"]])
        return m

    x, yc = _data(40)
    yr = x[:, :1] * 2.0
    a, b = make(models.Model), make(ViaComputeMetrics)
    assert [m.name for m in b.metrics] == ["loss", "compile_metrics", "reg_loss", "cls_loss"]
    ha = a.fit(x, [yr, yc], epochs=2, batch_size=8, shuffle=False, verbose=0)
    hb = b.fit(x, [yr, yc], epochs=2, batch_size=8, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert set(hb.history) == set(ha.history) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"}
    for k in ha.history:
        np.testing.assert_allclose(hb.history[k], ha.history[k], rtol=1e-12, err_msg=k)
