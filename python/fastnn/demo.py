"""``python -m fastnn demo``: train an MLP on the handwritten digits that ship with fastnn (8x8
images, 10 classes; fastnn.datasets.digits) with the Keras-style API, then print the test
accuracy and the confusion matrix. Nothing is downloaded and nothing optional is needed."""

from __future__ import annotations

import time

import numpy as np


def load_digits_split(test_fraction: float = 0.25, seed: int = 0):
    """Standardised digits features, split with a fixed seed: (x_train, y_train, x_test, y_test)."""
    from .datasets import digits

    images, labels = digits._read()
    x = images.reshape(len(images), -1).astype(np.float32)
    y = labels.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - mean) / std
    return x[train], y[train], x[test], y[test]


def build_model():
    from fastnn import layers, models

    return models.Sequential(
        [
            layers.Input((64,)),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_mlp",
    )


def main(epochs: int = 20, verbose: int = 1) -> float:
    """Trains and evaluates; returns the test accuracy."""
    import fastnn
    from fastnn import metrics, utils

    utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = load_digits_split()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    seconds = time.perf_counter() - start
    probs = model.predict(x_test, verbose=0)
    pred = np.argmax(probs, axis=1)
    acc = metrics.accuracy_score(y_test, pred)
    print(f"\ntrained {epochs} epochs in {seconds:.1f} s on {fastnn.get_num_threads()} thread(s)")
    print(f"test accuracy: {acc:.4f} ({len(y_test)} images)")
    cm = metrics.confusion_matrix(y_test, pred)
    print("confusion matrix (rows: true digit, columns: predicted):")
    print("     " + " ".join(f"{c:>3}" for c in range(10)))
    for r, row in enumerate(cm):
        print(f"  {r}: " + " ".join(f"{v:>3}" for v in row))
    return acc
