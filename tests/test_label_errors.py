"""Out-of-range integer labels: fit / evaluate / *_on_batch raise a ValueError that names the loss
as it was passed to compile, the label, the valid range and where the sample is in the user's data
(for sources of batches: which batch and the index within it)."""

import re

import fastnn
import numpy as np
import pytest
from fastnn import layers as L
from fastnn.functional.losses import LabelRangeError

N, C, BAD = 2000, 10, 1234


def data(bad_index=BAD, bad_label=10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    y = rng.integers(0, C, N)
    if bad_index is not None:
        y[bad_index] = bad_label
    return x, y


def classifier(loss="sparse_categorical_crossentropy", activation="softmax", metrics=None):
    model = fastnn.models.Sequential([L.Input((4,)), L.Dense(C, activation=activation)])
    model.compile("adam", loss, metrics=metrics)
    return model


class Subclassed(fastnn.models.Model):
    """No graph: the number of classes is only known once a batch has run."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(C, activation="softmax")

    def call(self, x):
        return self.dense(x)


LOSSES = [
    ("sparse_categorical_crossentropy", "softmax", "loss='sparse_categorical_crossentropy'"),
    (fastnn.losses.SparseCategoricalCrossentropy(), "softmax", "loss=SparseCategoricalCrossentropy()"),
    (fastnn.losses.SparseCategoricalCrossentropy(from_logits=True), None,
     "loss=SparseCategoricalCrossentropy(from_logits=True)"),
    (fastnn.losses.sparse_categorical_crossentropy, "softmax", "loss=sparse_categorical_crossentropy"),
]


def message(what, label, loc, user, extra=""):
    return re.escape(f"{what}: label {label} at {loc} is out of range for {user}") + r".*" + re.escape(
        f"has {C} classes, so labels must be integers in [0, {C}){extra}"
    )


@pytest.mark.parametrize("loss, activation, user", LOSSES)
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_names_the_sample_in_the_data(loss, activation, user, shuffle):
    x, y = data()
    model = classifier(loss, activation)
    with pytest.raises(ValueError, match=message("fit", 10, f"index {BAD} of y", user)):
        model.fit(x, y, batch_size=32, epochs=1, shuffle=shuffle, verbose=0)
    assert "sparse_cce" not in str(pytest.raises(ValueError, model.fit, x, y, verbose=0).value)


def test_fit_checks_before_training():
    x, y = data()
    model = classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=f"index {BAD} of y"):
        model.fit(x, y, batch_size=32, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss, activation, user", LOSSES)
def test_evaluate_names_the_sample(loss, activation, user):
    x, y = data()
    with pytest.raises(ValueError, match=message("evaluate", 10, f"index {BAD} of y", user)):
        classifier(loss, activation).evaluate(x, y, batch_size=32, verbose=0)


@pytest.mark.parametrize("method", ["train_on_batch", "test_on_batch"])
def test_on_batch_names_the_sample(method):
    x, y = data()
    model = classifier()
    with pytest.raises(ValueError, match=message(method, 10, f"index {BAD - 1200} of y",
                                                 "loss='sparse_categorical_crossentropy'")):
        getattr(model, method)(x[1200:1300], y[1200:1300])


@pytest.mark.parametrize("label", [-1, 10, 57])
def test_negative_and_large_labels(label):
    x, y = data(7, label)
    user = "loss='sparse_categorical_crossentropy'"
    with pytest.raises(ValueError, match=message("fit", label, "index 7 of y", user)):
        classifier().fit(x, y, verbose=0)


def test_float_labels_and_column_labels():
    x, y = data()
    with pytest.raises(ValueError, match=f"label 10 at index {BAD} of y"):
        classifier().fit(x, y.astype(np.float32), verbose=0)
    with pytest.raises(ValueError, match=f"label 10 at index {BAD} of y"):
        classifier().fit(x, y[:, None], verbose=0)


def test_several_bad_labels_report_the_first():
    x, y = data()
    y[1500] = 11
    y[40] = -3
    with pytest.raises(ValueError, match=r"label -3 at index 40 of y .*\(3 labels are out of range; this is the first"):
        classifier().fit(x, y, verbose=0)


def test_validation_data_and_split():
    x, y = data(None)
    yv = y[:100].copy()
    yv[17] = 12
    with pytest.raises(ValueError, match=re.escape("label 12 at index 17 of validation_data's y")):
        classifier().fit(x, y, validation_data=(x[:100], yv), verbose=0)
    y[1900] = 10  # in the held-out part of validation_split=0.1: still its index in y
    with pytest.raises(ValueError, match=re.escape("label 10 at index 1900 of y")):
        classifier().fit(x, y, validation_split=0.1, verbose=0)


@pytest.mark.parametrize("shuffle", [True, False])
def test_subclassed_model_maps_the_batch_back_to_the_data(shuffle):
    x, y = data()
    model = Subclassed()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=message("fit", 10, f"index {BAD} of y",
                                                 "loss='sparse_categorical_crossentropy'")):
        model.fit(x, y, batch_size=32, shuffle=shuffle, verbose=0)
    with pytest.raises(ValueError, match=f"evaluate: label 10 at index {BAD} of y"):
        model.evaluate(x, y, batch_size=32, verbose=0)


def batches(x, y, batch_size=32):
    for i in range(0, len(x), batch_size):
        yield x[i : i + batch_size], y[i : i + batch_size]


class Batches:
    """A Sequence-like source of batches (__len__ and __getitem__)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // 32

    def __getitem__(self, i):
        return self.x[i * 32 : (i + 1) * 32], self.y[i * 32 : (i + 1) * 32]


def test_sources_of_batches_name_the_batch():
    x, y = data()
    step, within = divmod(BAD, 32)
    where = f"index {within} of y in batch {step} (counting from 0)"
    user = "loss='sparse_categorical_crossentropy'"
    with pytest.raises(ValueError, match=message("fit", 10, where + " of epoch 1", user)):
        classifier().fit(batches(x, y), steps_per_epoch=N // 32, verbose=0)
    with pytest.raises(ValueError, match=message("fit", 10, where + " of epoch 1", user)):
        classifier().fit(Batches(x, y), verbose=0)
    with pytest.raises(ValueError, match=message("evaluate", 10, where, user)):
        classifier().evaluate(batches(x, y), steps=N // 32, verbose=0)


def test_loss_of_the_users_own():
    def my_loss(y_true, y_pred):
        return fastnn.losses.sparse_categorical_crossentropy(y_true, y_pred)

    x, y = data()
    with pytest.raises(ValueError, match=message("fit", 10, f"index {BAD} of y", "loss=my_loss")):
        classifier(my_loss).fit(x, y, verbose=0)


def test_named_loss_object():
    x, y = data()
    loss = fastnn.losses.SparseCategoricalCrossentropy(name="xent")
    with pytest.raises(ValueError, match=re.escape("loss=SparseCategoricalCrossentropy(name='xent')")):
        classifier(loss).fit(x, y, verbose=0)


def test_sparse_top_k_metric():
    x, y = data()
    # a loss that ignores the labels: the metric is what rejects the label
    model = classifier(lambda t, p: (p * 0.0).sum(axis=-1), metrics=["sparse_top_k_categorical_accuracy"])
    with pytest.raises(ValueError, match=message("fit", 10, f"index {BAD} of y",
                                                 "the metric 'sparse_top_k_categorical_accuracy'")):
        model.fit(x, y, batch_size=32, verbose=0)
    model = classifier(lambda t, p: (p * 0.0).sum(axis=-1), metrics=[fastnn.metrics.SparseTopKCategoricalAccuracy()])
    with pytest.raises(ValueError, match=message("evaluate", 10, f"index {BAD} of y",
                                                 "the metric 'sparse_top_k_categorical_accuracy'")):
        model.evaluate(x, y, verbose=0)


def test_sparse_accuracy_counts_a_bad_label_as_wrong():
    # as Keras: sparse categorical accuracy does not reject labels (no loss that does here)
    x, y = data()
    model = classifier(lambda t, p: (p * 0.0).sum(axis=-1), metrics=["sparse_categorical_accuracy"])
    history = model.fit(x, y, verbose=0)
    assert len(history.history["sparse_categorical_accuracy"]) == 1
    got = model.evaluate(x, y, verbose=0, return_dict=True)["sparse_categorical_accuracy"]
    pred = np.argmax(model.predict(x, verbose=0), axis=-1)
    assert pred[BAD] != y[BAD]  # label 10 of 10 classes matches no prediction
    np.testing.assert_allclose(got, np.mean(pred == y), rtol=1e-6)


def test_several_outputs_name_the_output():
    inp = L.Input((4,))
    a = L.Dense(C, activation="softmax", name="a")(inp)
    b = L.Dense(3, activation="softmax", name="b")(inp)
    model = fastnn.models.Model(inp, [a, b])
    model.compile("adam", loss={"a": "sparse_categorical_crossentropy", "b": "sparse_categorical_crossentropy"})
    x, ya = data(None)
    yb = ya % 3
    yb[99] = 3
    with pytest.raises(ValueError, match=re.escape("label 3 at index 99 of y of output 'b'") + ".*"
                       + re.escape("that output has 3 classes, so labels must be integers in [0, 3)")):
        model.fit(x, {"a": ya, "b": yb}, verbose=0)


def test_sequence_labels_name_the_sample_and_step():
    model = fastnn.models.Sequential([L.Input((5, 4)), L.Dense(C, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    y = np.random.default_rng(1).integers(0, C, (300, 5))
    y[123, 3] = 11
    with pytest.raises(ValueError, match=re.escape("label 11 at y[123, 3] (sample 123)")):
        model.fit(np.zeros((300, 5, 4), np.float32), y, verbose=0)


def test_functional_loss_and_metric_errors():
    p = np.full((3, 4), 0.25, np.float32)
    for fn in (fastnn.losses.sparse_categorical_crossentropy, fastnn.losses.SparseCategoricalCrossentropy()):
        with pytest.raises(LabelRangeError, match=re.escape(
            "sparse_categorical_crossentropy: label 7 at y_true[1] is out of range for 4 classes: "
            "labels must be in [0, 4)"
        )) as err:
            fn(np.array([0, 7, 1]), p)
        assert isinstance(err.value, ValueError) and "sparse_cce" not in str(err.value)
        assert (err.value.label, err.value.index, err.value.num_classes, err.value.count) == (7, (1,), 4, 1)
    with pytest.raises(LabelRangeError, match=re.escape("label -2 at y_true[1, 0]")):
        fastnn.losses.sparse_categorical_crossentropy(np.array([[0, 1], [-2, 1]]), np.full((2, 2, 4), 0.25, np.float32))
    with pytest.raises(LabelRangeError, match=re.escape("labels must be in [0, 4), got [7] (the first at y_true[1])")):
        fastnn.metrics.sparse_top_k_categorical_accuracy(np.array([0, 7, 1]), p)


def test_valid_labels_still_train():
    x, y = data(None)
    model = classifier()
    hist = model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    assert np.isfinite(model.evaluate(x, y, verbose=0))
    assert np.isfinite(model.train_on_batch(x[:32], y[:32]))
