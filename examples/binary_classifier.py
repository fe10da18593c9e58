"""The course notes' first Keras example: a small Sequential binary classifier.

Dense(4, input_dim=3) with a sigmoid, Dense(1) with a sigmoid, SGD(lr=0.003) (the Keras 2
spelling, accepted with a DeprecationWarning), binary cross-entropy, accuracy, 500 epochs with
validation data, then predict_classes, predict and the ROC curve. The data: three standardised
features of scikit-learn's bundled breast-cancer set (mean radius, mean texture, mean
smoothness), malignant vs benign; 63% of the test set is benign, so that is the accuracy of a
constant guess.

Full run (500 epochs): about 5 s on 2 cores, printing the model summary, one line every 50
epochs (fit's verbose=2 would print two lines for each of the 500), then
    final loss 0.4099, val_accuracy 0.8741
    test accuracy 0.8741 (a constant guess: 0.6294), ROC AUC 0.9635 (chance: 0.5)
SGD at lr=0.003 learns slowly (the test accuracy is still 0.65 after 200 epochs),
and the full run is short already: --quick runs it unchanged.

    python examples/binary_classifier.py [--quick] [--epochs 500] [--roc roc.png]
"""

import argparse
import warnings

import fastnn
import numpy as np
from fastnn import callbacks, layers, metrics, models, optimizers, utils
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


def load_data(seed: int = 0):
    data = load_breast_cancer()
    x = data.data[:, [0, 1, 4]].astype(np.float32)  # mean radius, mean texture, mean smoothness
    y = data.target.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    mean, std = x_train.mean(0), x_train.std(0)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def every_n_epochs(n: int, epochs: int) -> callbacks.Callback:
    """A callback printing the epoch's logs on one line every n epochs (and after the last)."""

    def show(epoch, logs):
        if (epoch + 1) % n == 0 or epoch + 1 == epochs:
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items()))

    return callbacks.LambdaCallback(on_epoch_end=show)


def main(epochs: int = 500, roc_path: str | None = None, verbose: int = 1) -> float:
    """Train and test; returns the test accuracy. verbose: 0 prints only the results, 1 a line
    every 50 epochs, 2 Keras's two lines per epoch."""
    utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = load_data()
    model = models.Sequential()
    model.add(layers.Dense(4, input_dim=3, activation="sigmoid"))
    model.add(layers.Dense(1, activation="sigmoid"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lr= is the Keras 2 spelling
        sgd = optimizers.SGD(lr=0.003)
    model.compile(optimizer=sgd, loss="binary_crossentropy", metrics=["accuracy"])
    if verbose:
        model.summary()
    progress = [every_n_epochs(50, epochs)] if verbose == 1 else []
    history = model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=epochs,
                        verbose=2 if verbose == 2 else 0, callbacks=progress)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # predict_classes: Keras 2
        classes = model.predict_classes(x_test, verbose=0)
    scores = model.predict(x_test, verbose=0).ravel()
    acc = metrics.accuracy_score(y_test, classes.ravel())
    auc = metrics.roc_auc_score(y_test, scores)
    print(f"final loss {history.history['loss'][-1]:.4f}, val_accuracy {history.history['val_accuracy'][-1]:.4f}")
    guess = max(y_test.mean(), 1 - y_test.mean())  # always answering the more common class
    print(f"test accuracy {acc:.4f} (a constant guess: {guess:.4f}), ROC AUC {auc:.4f} (chance: 0.5)")
    if roc_path:
        try:
            utils.plot_roc(y_test, scores, roc_path)
            print(f"ROC curve written to {roc_path}")
        except ImportError as e:
            print(e)
    return acc


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the same run: it takes seconds already")
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--roc", default=None, help="write the ROC curve to this PNG (needs matplotlib)")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1,
                   help="0: results only, 1: a line every 50 epochs, 2: two lines per epoch")
    a = p.parse_args()
    print("fastnn", fastnn.__version__)
    main(a.epochs, a.roc, verbose=a.verbose)
