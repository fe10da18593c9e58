"""Transfer learning on Fashion-MNIST: pretrain a small CNN on classes 0-4, take its layers up to
the flattened features (Model(base.input, base.get_layer(name).output)), freeze them, train a new
head on 500 labelled images of classes 5-9, then unfreeze the top convolution block and fine-tune
with a lower learning rate. Subsampled to run in well under a minute on two cores."""

import numpy as np
import pytest
from fastnn import layers, models, optimizers, utils
from fastnn.datasets import fashion_mnist


@pytest.fixture(scope="module")
def data():
    try:
        (x, y), (xt, yt) = fashion_mnist.load_data()
    except FileNotFoundError as e:
        pytest.skip(f"Fashion-MNIST files absent: {e}")
    x = x[..., None].astype(np.float32) / 255.0
    xt = xt[..., None].astype(np.float32) / 255.0
    return x, y.astype(np.int64), xt, yt.astype(np.int64)


def _subset(x, y, classes, n, rng):
    idx = np.flatnonzero(np.isin(y, classes))
    idx = rng.permutation(idx)[:n] if n is not None else idx
    return x[idx], y[idx] - classes[0]


def _base():
    inp = layers.Input((28, 28, 1))
    x = layers.Conv2D(16, 3, activation="relu", name="block1_conv")(inp)
    x = layers.MaxPooling2D(2, name="block1_pool")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="block2_conv")(x)
    x = layers.MaxPooling2D(2, name="block2_pool")(x)
    x = layers.Flatten(name="features")(x)
    x = layers.Dense(64, activation="relu", name="fc")(x)
    return models.Model(inp, layers.Dense(5, activation="softmax", name="predictions")(x), name="source")


def _head(features):
    x = layers.Dense(64, activation="relu", name="new_fc")(features)
    return layers.Dense(5, activation="softmax", name="new_predictions")(x)


def _accuracy(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1) == y))


@pytest.mark.slow
def test_transfer_beats_scratch_and_fine_tunes(data):
    x, y, xt, yt = data
    rng = np.random.default_rng(0)
    utils.set_random_seed(0)
    xs, ys = _subset(x, y, [0, 1, 2, 3, 4], 6000, rng)
    xa, ya = _subset(x, y, [5, 6, 7, 8, 9], 500, rng)
    xta, yta = _subset(xt, yt, [5, 6, 7, 8, 9], 2000, rng)

    base = _base()
    base.compile(optimizer=optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    base.fit(xs, ys, epochs=3, batch_size=64, verbose=0)
    assert base.evaluate(*_subset(xt, yt, [0, 1, 2, 3, 4], 2000, rng), verbose=0, return_dict=True)[
        "accuracy"] > 0.8

    features = models.Model(base.input, base.get_layer("features").output, name="features_model")
    features.trainable = False
    model = models.Model(features.input, _head(features.output), name="transfer")
    frozen = {layer.name: [w.copy() for w in layer.get_weights()] for layer in features.layers if layer.weights}
    assert set(frozen) == {"block1_conv", "block2_conv"}
    n_head = 800 * 64 + 64 + 64 * 5 + 5
    assert sum(int(w.size) for w in model.trainable_weights) == n_head
    model.compile(optimizer=optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xa, ya, epochs=15, batch_size=32, verbose=0)
    for name, ws in frozen.items():  # bit for bit: frozen layers see no update at all
        for before, after in zip(ws, features.get_layer(name).get_weights()):
            np.testing.assert_array_equal(before, after)
    transfer_acc = _accuracy(model, xta, yta)

    utils.set_random_seed(0)
    scratch_base = _base()
    scratch = models.Model(scratch_base.input, _head(scratch_base.get_layer("features").output), name="scratch")
    scratch.compile(optimizer=optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    scratch.fit(xa, ya, epochs=15, batch_size=32, verbose=0)
    scratch_acc = _accuracy(scratch, xta, yta)
    print(f"classes 5-9 from 500 images: transfer {transfer_acc:.4f}, scratch {scratch_acc:.4f}")
    assert transfer_acc > scratch_acc + 0.01

    # Fine-tune: the top block (block2_conv) learns again, with a 10x lower learning rate (a new
    # compile, so the optimizer's slots start for the new set of trainable weights).
    features.get_layer("block2_conv").trainable = True
    assert sum(int(w.size) for w in model.trainable_weights) == n_head + 3 * 3 * 16 * 32 + 32
    model.compile(optimizer=optimizers.Adam(2e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xa, ya, epochs=3, batch_size=32, verbose=0)
    for before, after in zip(frozen["block1_conv"], features.get_layer("block1_conv").get_weights()):
        np.testing.assert_array_equal(before, after)
    moved = [not np.array_equal(b, a) for b, a in zip(frozen["block2_conv"],
                                                      features.get_layer("block2_conv").get_weights())]
    assert all(moved)
    tuned_acc = _accuracy(model, xta, yta)
    print(f"after fine-tuning block2: {tuned_acc:.4f}")
    assert tuned_acc >= transfer_acc - 0.02
