"""fastnn.callbacks against a stand-in model (the callbacks see a model only through
stop_training, get_weights/set_weights, save/save_weights) and a small fit-like driver."""

import csv
import math
import os
import warnings

import fastnn
import numpy as np
import pytest
from fastnn import callbacks as C
from fastnn import metrics as M


class StandIn:
    """What the callbacks may touch on a model; weights are one array set per epoch."""

    def __init__(self):
        self.stop_training = False
        self.w = [np.zeros(3, np.float32)]
        self.saved = []
        self.metrics = []

    def get_weights(self):
        return [a.copy() for a in self.w]

    def set_weights(self, ws):
        self.w = [np.array(a) for a in ws]

    def save(self, path):
        self.saved.append(("model", path))
        with open(path, "w") as f:
            f.write(f"model {self.w[0][0]}")

    def save_weights(self, path):
        self.saved.append(("weights", path))
        with open(path, "w") as f:
            f.write("weights")


def read(path, **kw):
    with open(path, **kw) as f:
        return f.read()


def fit(model, callbacks, epoch_logs, steps=3, batch_loss=None):
    """Drive the hooks as fit does: the weights after epoch e are all e."""
    cbs = C.CallbackList(callbacks, add_history=True, model=model, epochs=len(epoch_logs), steps=steps, verbose=0)
    model.stop_training = False
    cbs.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        for b in range(steps):
            cbs.on_train_batch_begin(b)
            loss = batch_loss(epoch, b) if batch_loss else logs.get("loss", 0.0)
            cbs.on_train_batch_end(b, {"loss": loss})
            if model.stop_training:
                break
        model.w = [np.full(3, float(epoch), np.float32)]
        cbs.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cbs.on_train_end()
    return cbs.history


def test_callback_base_has_every_hook():
    cb = C.Callback()
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
                 "on_predict_end"):
        getattr(cb, hook)(logs={})
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
                 "on_batch_begin", "on_batch_end"):
        getattr(cb, hook)(0, logs={})
    m = StandIn()
    cb.set_model(m)
    cb.set_params({"epochs": 2})
    assert cb.model is m and cb.params == {"epochs": 2}


def test_callback_list_dispatches_in_order_and_aliases():
    calls = []

    class Rec(C.Callback):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

        def on_epoch_end(self, epoch, logs=None):
            calls.append((self.tag, "epoch_end", epoch, dict(logs)))

        def on_batch_end(self, batch, logs=None):  # Keras 2 name: reached through on_train_batch_end
            calls.append((self.tag, "batch_end", batch))

        def on_test_end(self, logs=None):
            calls.append((self.tag, "test_end"))

    cbs = C.CallbackList([Rec("a"), Rec("b")], model=StandIn(), epochs=1)
    assert all(cb.params == {"epochs": 1} for cb in cbs)
    cbs.on_train_batch_end(4, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 0.5})
    cbs.on_epoch_end(1)  # logs default to {}
    cbs.on_test_end()
    assert calls == [("a", "batch_end", 4), ("b", "batch_end", 4), ("a", "epoch_end", 0, {"loss": 0.5}),
                     ("b", "epoch_end", 0, {"loss": 0.5}), ("a", "epoch_end", 1, {}), ("b", "epoch_end", 1, {}),
                     ("a", "test_end"), ("b", "test_end")]
    with pytest.raises(TypeError, match="Callback instances"):
        C.CallbackList([lambda: None])


def test_history():
    m = StandIn()
    h = fit(m, [], [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}])
    assert h.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert h.epoch == [0, 1]
    assert m.history is h


def _val_logs(values, key="val_loss"):
    return [{"loss": 1.0, key: v} for v in values]


def test_early_stopping_patience():
    m = StandIn()
    es = C.EarlyStopping(monitor="val_loss", patience=2)
    h = fit(m, [es], _val_logs([5, 4, 3, 3.5, 3.2, 1.0, 0.5]))
    # best at epoch 2; epochs 3 and 4 do not improve: stops at epoch 4
    assert es.stopped_epoch == 4 and m.stop_training
    assert h.epoch == [0, 1, 2, 3, 4]
    assert es.best == 3 and es.best_epoch == 2
    assert m.w[0][0] == 4.0  # no restore by default


def test_early_stopping_restore_best_weights():
    m = StandIn()
    es = C.EarlyStopping(patience=1, restore_best_weights=True, verbose=0)
    fit(m, [es], _val_logs([5, 2, 3, 4, 0.1]))
    assert es.stopped_epoch == 2
    np.testing.assert_array_equal(m.w[0], np.full(3, 1.0))  # the weights after the best epoch (1)


def test_early_stopping_restores_even_without_stop():
    m = StandIn()
    es = C.EarlyStopping(patience=10, restore_best_weights=True)
    fit(m, [es], _val_logs([3, 1, 2]))
    assert es.stopped_epoch == 0
    assert m.w[0][0] == 1.0


def test_early_stopping_min_delta_mode_and_auto():
    m = StandIn()
    es = C.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    fit(m, [es], _val_logs([0.5, 0.52, 0.53, 0.9], key="val_accuracy"))
    assert es.stopped_epoch == 1  # +0.02 is below min_delta: not an improvement
    es = C.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.05)
    fit(m, [es], _val_logs([1.0, 0.9, 0.88, 0.5]))
    assert es.stopped_epoch == 2 and es.best == 0.9
    es = C.EarlyStopping(monitor="val_thing", mode="max", patience=0)
    fit(StandIn(), [es], _val_logs([1, 2, 1.5], key="val_thing"))
    assert es.stopped_epoch == 2
    with pytest.raises(ValueError, match="mode='max'"):
        fit(StandIn(), [C.EarlyStopping(monitor="val_thing")], _val_logs([1.0], key="val_thing"))
    # mode='auto' follows the model's metric direction when the name says nothing
    m = StandIn()
    m.metrics = [M.BinaryAccuracy(name="hits")]
    es = C.EarlyStopping(monitor="val_hits", patience=0)
    fit(m, [es], _val_logs([0.1, 0.2, 0.15], key="val_hits"))
    assert es.stopped_epoch == 2
    with pytest.warns(UserWarning, match="unknown"):
        assert C.EarlyStopping(mode="bigger").mode == "auto"


def test_early_stopping_baseline_and_start_from_epoch():
    es = C.EarlyStopping(patience=2)
    fit(StandIn(), [es], _val_logs([3, 3.5, 4, 4]))
    assert es.stopped_epoch == 2
    es = C.EarlyStopping(patience=2, baseline=1.0)
    fit(StandIn(), [es], _val_logs([3, 3.5, 4, 4]))
    assert es.stopped_epoch == 1  # epoch 0 did not beat the baseline, so its wait counts
    es = C.EarlyStopping(patience=0, start_from_epoch=3)
    fit(StandIn(), [es], _val_logs([1, 2, 3, 4, 5, 6]))
    assert es.stopped_epoch == 4  # epochs 0-2 are not watched


def test_early_stopping_missing_monitor_warns():
    es = C.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        fit(StandIn(), [es], [{"loss": 1.0}])
    assert es.stopped_epoch == 0


def test_early_stopping_bad_arguments():
    with pytest.raises(ValueError, match="patience=-1"):
        C.EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match="monitor"):
        C.EarlyStopping(monitor=3)


def test_checkpoint_every_epoch_with_name_fields(tmp_path):
    m = StandIn()
    path = str(tmp_path / "ckpt" / "model-{epoch:02d}-{val_loss:.2f}.keras")
    fit(m, [C.ModelCheckpoint(path)], _val_logs([0.9123, 0.5, 0.25]))
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["model-01-0.91.keras", "model-02-0.50.keras",
                                                     "model-03-0.25.keras"]
    assert [k for k, _ in m.saved] == ["model"] * 3


def test_checkpoint_best_only(tmp_path):
    m = StandIn()
    path = str(tmp_path / "best.keras")
    ck = C.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    fit(m, [ck], _val_logs([0.9, 0.5, 0.7, 0.4, 0.6]))
    assert [p for _, p in m.saved] == [path] * 3  # epochs 0, 1, 3
    assert read(path) == "model 3.0"  # the weights after the best epoch
    assert ck.best == 0.4


def test_checkpoint_best_only_max_weights_only_and_fields(tmp_path, capsys):
    m = StandIn()
    path = str(tmp_path / "w-{epoch}-{val_accuracy:.3f}.weights.safetensors")
    ck = C.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, save_weights_only=True, verbose=1)
    fit(m, [ck], _val_logs([0.5, 0.8, 0.7], key="val_accuracy"))
    assert [os.path.basename(p) for k, p in m.saved if k == "weights"] == [
        "w-1-0.500.weights.safetensors", "w-2-0.800.weights.safetensors"]
    out = capsys.readouterr().out
    assert "val_accuracy improved from 0.50000 to 0.80000" in out
    assert "Epoch 3: val_accuracy did not improve from 0.80000" in out


def test_checkpoint_initial_threshold_missing_monitor_and_bad_field(tmp_path):
    m = StandIn()
    ck = C.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True, initial_value_threshold=0.3)
    fit(m, [ck], _val_logs([0.5, 0.2]))
    assert len(m.saved) == 1
    ck = C.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)
    with pytest.warns(UserWarning, match="val_loss available"):
        fit(StandIn(), [ck], [{"loss": 1.0}])
    ck = C.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))
    with pytest.raises(KeyError, match="val_acc"):
        fit(StandIn(), [ck], _val_logs([0.5]))


def test_checkpoint_save_freq_batches(tmp_path):
    m = StandIn()
    ck = C.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.keras"), save_freq=2)
    fit(m, [ck], _val_logs([1.0, 1.0]), steps=3)
    # 6 batches, every 2nd: epoch 1 batch 2, epoch 2 batch 1, epoch 2 batch 3
    assert [os.path.basename(p) for _, p in m.saved] == ["m-1-2.keras", "m-2-1.keras", "m-2-3.keras"]
    with pytest.raises(ValueError, match="save_freq"):
        C.ModelCheckpoint("x.keras", save_freq="batch")


def test_checkpoint_into_directory_is_an_error(tmp_path):
    with pytest.raises(OSError, match="non-directory"):
        fit(StandIn(), [C.ModelCheckpoint(str(tmp_path))], _val_logs([1.0]))


def test_terminate_on_nan(capsys):
    m = StandIn()
    h = fit(m, [C.TerminateOnNaN()], [{"loss": 1.0}] * 5, batch_loss=lambda e, b: math.nan if (e, b) == (1, 1) else 1.0)
    assert m.stop_training
    assert h.epoch == [0, 1]
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    m = StandIn()
    fit(m, [C.TerminateOnNaN()], [{"loss": 1.0}] * 2, batch_loss=lambda e, b: math.inf)
    assert m.stop_training


def test_lambda_callback():
    seen = []
    cb = C.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])),
        on_batch_end=lambda batch, logs: seen.append(f"b{batch}"),
        on_train_end=lambda logs: seen.append("end"),
    )
    fit(StandIn(), [cb], [{"loss": 0.5}, {"loss": 0.25}], steps=2)
    assert seen == ["begin", "b0", "b1", (0, 0.5), "b0", "b1", (1, 0.25), "end"]
    with pytest.raises(TypeError, match="on_epoch_ending"):
        C.LambdaCallback(on_epoch_ending=print)
    with pytest.raises(TypeError, match="callable"):
        C.LambdaCallback(on_epoch_end=3)


def test_lambda_callback_batch_hooks_run_in_model_fit():
    # the hooks live on the instance, not the class: fit must still call them every batch
    seen = []
    cb = C.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append((batch, sorted(logs))))
    inp = fastnn.layers.Input((2,))
    m = fastnn.models.Model(inp, fastnn.layers.Dense(1)(inp))
    m.compile(optimizer="sgd", loss="mse")
    m.fit(np.zeros((6, 2), np.float32), np.zeros((6, 1), np.float32), batch_size=2, verbose=0, callbacks=[cb])
    assert seen == [(0, ["loss"]), (1, ["loss"]), (2, ["loss"])]


def test_lambda_callback_stops_training():
    m = StandIn()
    cb = C.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(m, "stop_training", epoch == 1))
    h = fit(m, [cb], [{"loss": 1.0}] * 5)
    assert h.epoch == [0, 1]


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 1.5, "accuracy": 0.5, "val_loss": 2.0, "val_accuracy": 0.25},
            {"loss": 1.0, "accuracy": 0.75, "val_loss": 1.5, "val_accuracy": 0.5}]
    fit(StandIn(), [C.CSVLogger(path)], logs)
    rows = list(csv.reader(read(path, newline="").splitlines()))
    assert rows == [["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
                    ["0", "0.5", "1.5", "0.25", "2.0"], ["1", "0.75", "1.0", "0.5", "1.5"]]
    # append: no second header
    fit(StandIn(), [C.CSVLogger(path, append=True)], logs[:1])
    rows = list(csv.reader(read(path, newline="").splitlines()))
    assert len(rows) == 4 and rows[3][0] == "0"
    # overwrite, another separator, and val_ keys missing from the first epoch
    fit(StandIn(), [C.CSVLogger(path, separator=";")], [{"loss": 1.0}, {"loss": 0.5, "val_loss": 0.7}])
    lines = read(path).splitlines()
    assert lines == ["epoch;loss;val_loss", "0;1.0;NA", "1;0.5;0.7"]


def test_no_warnings_in_a_plain_run(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(StandIn(), [C.EarlyStopping(patience=1), C.ModelCheckpoint(str(tmp_path / "m.keras")),
                        C.TerminateOnNaN(), C.CSVLogger(tmp_path / "l.csv")], _val_logs([1.0, 0.5]))


# ------------------------------------------------------------- learning rate callbacks
class WithOptimizer(StandIn):
    def __init__(self, optimizer):
        super().__init__()
        self.optimizer = optimizer


def lr_probe(model, seen):
    """Records the learning rate each epoch starts with (runs after the scheduler in the list)."""
    return C.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))


def test_learning_rate_scheduler_of_the_epoch():
    from fastnn import optimizers

    model, seen = WithOptimizer(optimizers.SGD(learning_rate=0.01)), []
    sched = C.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    h = fit(model, [sched, lr_probe(model, seen)], [{"loss": 1.0}] * 4)
    want = [0.1, 0.05, 0.1 / 3, 0.025]
    assert seen == want
    assert h.history["learning_rate"] == want
    assert model.optimizer.learning_rate == 0.025


def test_learning_rate_scheduler_of_the_epoch_and_lr(capsys):
    from fastnn import optimizers

    def scheduler(epoch, lr):
        return lr if epoch < 2 else lr * math.exp(-0.1)

    model, seen = WithOptimizer(optimizers.Adam(learning_rate=0.01)), []
    h = fit(model, [C.LearningRateScheduler(scheduler, verbose=1), lr_probe(model, seen)], [{"loss": 1.0}] * 5)
    want = [0.01, 0.01, 0.01 * math.exp(-0.1), 0.01 * math.exp(-0.1) ** 2, 0.01 * math.exp(-0.1) ** 3]
    np.testing.assert_allclose(seen, want, rtol=1e-15)
    np.testing.assert_allclose(h.history["learning_rate"], want, rtol=1e-15)
    out = capsys.readouterr().out
    assert out.count("LearningRateScheduler setting learning rate to") == 5
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.01." in out


def test_learning_rate_scheduler_return_types():
    from fastnn import optimizers

    def constant(v):
        return lambda epoch: v

    for value in (np.float32(0.5), np.float64(0.25), np.array(0.125), fastnn.tensor(np.array(0.5, np.float32))):
        model = WithOptimizer(optimizers.SGD())
        fit(model, [C.LearningRateScheduler(constant(value))], [{"loss": 1.0}])
        assert model.optimizer.learning_rate == float(np.asarray(value))
    for bad in (1, "0.1", None, [0.1]):
        model = WithOptimizer(optimizers.SGD())
        with pytest.raises(ValueError, match=r"output of the `schedule` function should be a float. Got: "):
            fit(model, [C.LearningRateScheduler(constant(bad))], [{"loss": 1.0}])
    with pytest.raises(ValueError, match="learning_rate=-0.1"):
        fit(WithOptimizer(optimizers.SGD()), [C.LearningRateScheduler(lambda e: -0.1)], [{"loss": 1.0}])
    with pytest.raises(TypeError, match="schedule must be a function"):
        C.LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match='Optimizer must have a "learning_rate" attribute'):
        fit(StandIn(), [C.LearningRateScheduler(lambda e: 0.1)], [{"loss": 1.0}])


def test_lr_callbacks_refuse_an_optimizer_with_a_schedule():
    from fastnn import optimizers

    opt = optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule.*not settable"):
        fit(WithOptimizer(opt), [C.LearningRateScheduler(lambda e: 0.1)], [{"loss": 1.0}])
    with pytest.raises(TypeError, match="LearningRateSchedule.*not settable"):
        fit(WithOptimizer(opt), [C.ReduceLROnPlateau(monitor="loss", patience=1)], [{"loss": 1.0}] * 3)


def plateau(losses, monitor="val_loss", lr=0.1, **kw):
    from fastnn import optimizers

    model = WithOptimizer(optimizers.SGD(learning_rate=lr))
    cb = C.ReduceLROnPlateau(monitor=monitor, **kw)
    h = fit(model, [cb], [{monitor: v} for v in losses])
    return h.history["learning_rate"], model.optimizer.learning_rate, cb


def test_reduce_lr_on_plateau_patience():
    logged, final, cb = plateau([1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8], factor=0.5, patience=2)
    assert logged == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]  # logged before the epoch's reduction
    assert final == 0.025
    assert cb.best == 0.8 and cb.wait == 0


def test_reduce_lr_on_plateau_cooldown():
    logged, final, _ = plateau([1.0] * 7, factor=0.5, patience=1, cooldown=2)
    assert logged == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]  # reductions at epochs 1, 3, 5
    assert final == 0.0125
    logged, _, _ = plateau([1.0] * 7, factor=0.5, patience=1, cooldown=0)
    assert logged == [0.1, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125]


def test_reduce_lr_on_plateau_min_lr(capsys):
    logged, final, _ = plateau([1.0] * 6, factor=0.1, patience=0, min_lr=0.005, verbose=1)
    np.testing.assert_allclose(logged, [0.1, 0.1, 0.01, 0.005, 0.005, 0.005], rtol=1e-15)
    assert final == 0.005
    out = capsys.readouterr().out
    assert out.count("ReduceLROnPlateau reducing learning rate to") == 2  # none once at min_lr
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.005." in out
    # a min_lr whose float32 rounds below it is not "reduced" again and again either
    logged, final, _ = plateau([1.0] * 5, lr=1e-4, factor=0.5, patience=0, min_lr=1e-5)
    assert final == 1e-5
    _, _, cb = plateau([1.0] * 8, lr=1e-5, factor=0.5, patience=0, min_lr=1e-5, cooldown=3)
    assert cb.cooldown_counter == 0  # no reduction happened, so no cooldown started


def test_reduce_lr_on_plateau_modes_and_min_delta():
    rising = [0.5, 0.6, 0.7, 0.8]
    _, final, _ = plateau(rising, monitor="val_accuracy", factor=0.5, patience=1)  # auto: accuracy goes up
    assert final == 0.1
    _, final, _ = plateau(rising, monitor="val_accuracy", mode="min", factor=0.5, patience=1)
    assert final == pytest.approx(0.1 * 0.5**3)
    _, final, _ = plateau(rising, monitor="val_loss", factor=0.5, patience=1)  # auto: a loss goes down
    assert final == pytest.approx(0.1 * 0.5**3)
    _, final, _ = plateau(rising, monitor="val_loss", mode="max", factor=0.5, patience=1)
    assert final == 0.1
    _, final, _ = plateau(rising, monitor="something", factor=0.5, patience=1)  # unknown name: min
    assert final == pytest.approx(0.1 * 0.5**3)
    # steps smaller than min_delta are no improvement
    _, final, _ = plateau([1.0, 0.99, 0.98, 0.97], factor=0.5, patience=1, min_delta=0.05)
    assert final == pytest.approx(0.1 * 0.5**3)
    _, final, _ = plateau([1.0, 0.99, 0.98, 0.97], factor=0.5, patience=1, min_delta=0.001)
    assert final == 0.1
    with pytest.warns(UserWarning, match="mode sideways is unknown, fallback to auto"):
        cb = C.ReduceLROnPlateau(mode="sideways")
    assert cb.mode == "auto"


def test_reduce_lr_on_plateau_follows_the_models_metric_direction():
    """mode='auto' asks the model's metrics which way is better, as EarlyStopping does."""
    from fastnn import optimizers

    rising = [{"val_score": v} for v in (0.5, 0.6, 0.7)]
    model = WithOptimizer(optimizers.SGD(learning_rate=0.1))
    model.metrics = [M.Accuracy(name="score")]
    fit(model, [C.ReduceLROnPlateau(monitor="val_score", factor=0.5, patience=1)], rising)
    assert model.optimizer.learning_rate == 0.1  # a rising accuracy is an improvement
    model = WithOptimizer(optimizers.SGD(learning_rate=0.1))  # without the metric: minimised, as Keras
    fit(model, [C.ReduceLROnPlateau(monitor="val_score", factor=0.5, patience=1)], rising)
    assert model.optimizer.learning_rate == 0.025


def test_reduce_lr_on_plateau_missing_monitor_and_reset():
    from fastnn import optimizers

    model = WithOptimizer(optimizers.SGD(learning_rate=0.1))
    cb = C.ReduceLROnPlateau(monitor="val_loss", patience=1)
    with pytest.warns(UserWarning, match=r"conditioned on metric `val_loss` which is not available.*loss"):
        h = fit(model, [cb], [{"loss": 1.0}] * 3)
    assert h.history["learning_rate"] == [0.1] * 3 and model.optimizer.learning_rate == 0.1
    cb = C.ReduceLROnPlateau(monitor="loss", patience=2, factor=0.5)
    fit(model, [cb], [{"loss": 1.0}] * 2)
    assert cb.wait == 1 and cb.best == 1.0
    fit(model, [cb], [{"loss": 2.0}])  # a new fit starts from a clean state
    assert cb.wait == 0 and cb.best == 2.0 and model.optimizer.learning_rate == 0.1


def test_reduce_lr_on_plateau_bad_arguments():
    with pytest.raises(ValueError, match=r"factor >= 1.0. Received factor=1.0"):
        C.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match=r"factor >= 0.*factor=-0.5"):
        C.ReduceLROnPlateau(factor=-0.5)
    with pytest.raises(ValueError, match=r"factor must be a number.*'0.5'"):
        C.ReduceLROnPlateau(factor="0.5")
    with pytest.raises(ValueError, match="patience=-1"):
        C.ReduceLROnPlateau(patience=-1)
    with pytest.raises(ValueError, match="cooldown=1.5"):
        C.ReduceLROnPlateau(cooldown=1.5)
    with pytest.raises(ValueError, match="min_lr=-1"):
        C.ReduceLROnPlateau(min_lr=-1)
    with pytest.raises(ValueError, match="min_delta=None"):
        C.ReduceLROnPlateau(min_delta=None)
    with pytest.raises(TypeError, match="unexpected keyword arguments.*'patince'"):
        C.ReduceLROnPlateau(patince=3)
    with pytest.raises(TypeError, match="monitor must be"):
        C.ReduceLROnPlateau(monitor=3)
    with pytest.warns(DeprecationWarning, match="min_delta"):
        cb = C.ReduceLROnPlateau(epsilon=0.01)
    assert cb.min_delta == 0.01


def test_lr_callbacks_in_a_real_fit():
    from fastnn import layers, models, optimizers

    fastnn.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01), loss="mse")

    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)

    h = model.fit(x, y, epochs=15, batch_size=8, verbose=0, callbacks=[C.LearningRateScheduler(scheduler)])
    assert round(model.optimizer.learning_rate, 5) == 0.00607  # the Keras docstring's example
    assert len(h.history["learning_rate"]) == 15 and h.history["learning_rate"][0] == 0.01
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse")
    cb = C.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=10.0)
    h = model.fit(x, y, epochs=4, batch_size=8, verbose=0, validation_split=0.25, callbacks=[cb])
    assert h.history["learning_rate"] == [0.05, 0.05, 0.025, 0.0125]
    assert model.optimizer.learning_rate == 0.00625
