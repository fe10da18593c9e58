"""The course notes' first Keras example: a small Sequential binary classifier.

Dense(4, input_dim=3) with a sigmoid, Dense(1) with a sigmoid, SGD(lr=0.003) (the Keras 2
spelling, accepted with a DeprecationWarning), binary cross-entropy, accuracy, 500 epochs with
validation data, then predict_classes, predict and the ROC curve. The data: three standardised
features of scikit-learn's bundled breast-cancer set (mean radius, mean texture, mean
smoothness), malignant vs benign.

    python examples/binary_classifier.py [--epochs 500] [--roc roc.png]
"""

import argparse
import warnings

import fastnn
import numpy as np
from fastnn import layers, metrics, models, optimizers, utils
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


def load_data(seed: int = 0):
    data = load_breast_cancer()
    x = data.data[:, [0, 1, 4]].astype(np.float32)  # mean radius, mean texture, mean smoothness
    y = data.target.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    mean, std = x_train.mean(0), x_train.std(0)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def main(epochs: int = 500, roc_path: str | None = None, verbose: int = 2) -> float:
    utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = load_data()
    model = models.Sequential()
    model.add(layers.Dense(4, input_dim=3, activation="sigmoid"))
    model.add(layers.Dense(1, activation="sigmoid"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lr= is the Keras 2 spelling
        sgd = optimizers.SGD(lr=0.003)
    model.compile(optimizer=sgd, loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=epochs, verbose=verbose)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # predict_classes: Keras 2
        classes = model.predict_classes(x_test)
    scores = model.predict(x_test).ravel()
    acc = metrics.accuracy_score(y_test, classes.ravel())
    auc = metrics.roc_auc_score(y_test, scores)
    print(f"final loss {history.history['loss'][-1]:.4f}, val_accuracy {history.history['val_accuracy'][-1]:.4f}")
    print(f"test accuracy {acc:.4f}, ROC AUC {auc:.4f}")
    if roc_path:
        try:
            utils.plot_roc(y_test, scores, roc_path)
            print(f"ROC curve written to {roc_path}")
        except ImportError as e:
            print(e)
    return acc


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--roc", default=None, help="write the ROC curve to this PNG (needs matplotlib)")
    a = p.parse_args()
    print("fastnn", fastnn.__version__)
    main(a.epochs, a.roc)
