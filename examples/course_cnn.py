"""The course notes' convolutional network, line for line in the Keras 2 style the notes use.

Conv2D(32, 5x5, stride 2, 'same') + relu, Conv2D(32, 5x5, stride 2) + relu, 2x2 max pooling,
Dropout(0.25), Flatten, Dense(512) + relu, Dropout(0.5), Dense(num_classes) + softmax, trained
with RMSprop(lr=0.0005, decay=1e-6) on categorical cross-entropy, batch 32, 15 epochs; the test
predictions come from predict_classes and are scored with scikit-learn's accuracy_score.

The data are CIFAR-10 when its files are installed (fastnn.datasets.cifar10 says where they
go); otherwise Fashion-MNIST (28x28x1, Debian's dataset-fashion-mnist package), with the model
unchanged: its input shape is x_train.shape[1:]. The Keras 2 spellings (lr=, decay=,
predict_classes) run with a DeprecationWarning naming the Keras 3 ones.

Full run (15 epochs on the 60,000 Fashion-MNIST images): about 2 minutes on 2 cores, printing
the model summary, two lines per epoch (the test set is the validation data), then
    fashion_mnist: test accuracy 0.8659 after 15 epochs on 60,000 images
(on CIFAR-10, 50,000 larger images: several times longer).
--quick (1 epoch): about 10 s on Fashion-MNIST; it prints test accuracy 0.8059.

    python examples/course_cnn.py [--quick] [--epochs 15] [--train-size N] [--dataset cifar10|fashion_mnist]
"""

from __future__ import annotations

import argparse
from typing import Optional

import numpy as np
from fastnn import optimizers, utils
from fastnn.datasets import cifar10, fashion_mnist
from fastnn.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from fastnn.models import Sequential
from sklearn.metrics import accuracy_score


def load(dataset: Optional[str] = None):
    """(x_train, y_train), (x_test, y_test), name: images scaled to [0, 1], NHWC float32."""
    if dataset in (None, "cifar10"):
        try:
            (x_train, y_train), (x_test, y_test) = cifar10.load_data()
            name = "cifar10"
        except FileNotFoundError:
            if dataset == "cifar10":
                raise
            dataset = None
    if dataset in (None, "fashion_mnist"):
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
        x_train, x_test = x_train[..., None], x_test[..., None]
        name = "fashion_mnist"
    elif dataset != "cifar10":
        raise ValueError(f"dataset must be 'cifar10' or 'fashion_mnist', got dataset={dataset!r}")
    x_train = x_train.astype(np.float32) / 255.0
    x_test = x_test.astype(np.float32) / 255.0
    return (x_train, y_train.ravel()), (x_test, y_test.ravel()), name


def build_model(input_shape, num_classes: int = 10, dropout: bool = True) -> Sequential:
    """The notes' model; dropout=False drops the two Dropout layers (for exact comparisons)."""
    model = Sequential()
    model.add(Conv2D(32, (5, 5), strides=(2, 2), padding="same", input_shape=input_shape))
    model.add(Activation("relu"))
    model.add(Conv2D(32, (5, 5), strides=(2, 2)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    if dropout:
        model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation("relu"))
    if dropout:
        model.add(Dropout(0.5))
    model.add(Dense(num_classes))
    model.add(Activation("softmax"))
    return model


FASHION_MNIST_ACCURACY = 0.87  # what the full run reaches on Fashion-MNIST, quoted by a quick run


def main(epochs: Optional[int] = None, train_size: Optional[int] = None, dataset: Optional[str] = None,
         verbose: int = 2, quick: bool = False) -> float:
    """Train and test; returns the test accuracy. quick=True makes the default 1 epoch, not 15."""
    if epochs is None:
        epochs = 1 if quick else 15
    utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test), name = load(dataset)
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    num_classes = 10
    y_train_1h = utils.to_categorical(y_train, num_classes)
    y_test_1h = utils.to_categorical(y_test, num_classes)

    model = build_model(x_train.shape[1:], num_classes)
    opt = optimizers.RMSprop(lr=0.0005, decay=1e-6)
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
    if verbose:
        model.summary()
    model.fit(x_train, y_train_1h, batch_size=32, epochs=epochs, validation_data=(x_test, y_test_1h),
              shuffle=True, verbose=verbose)
    y_pred = model.predict_classes(x_test)
    acc = accuracy_score(y_test, y_pred)
    note = ""
    if quick:
        full = f"; the full run, 15 epochs, reaches {FASHION_MNIST_ACCURACY:.2f}" if name == "fashion_mnist" else ""
        note = f" (quick run{full})"
    print(f"{name}: test accuracy {acc:.4f} after {epochs} epoch{'s' * (epochs != 1)} on {len(x_train):,} images{note}")
    return float(acc)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a short run: 1 epoch")
    p.add_argument("--epochs", type=int, default=None, help="default 15 (1 with --quick)")
    p.add_argument("--train-size", type=int, default=None, help="default: all")
    p.add_argument("--dataset", choices=["cifar10", "fashion_mnist"], default=None,
                   help="default: CIFAR-10 when its files are installed, else Fashion-MNIST")
    a = p.parse_args()
    main(a.epochs, a.train_size, a.dataset, quick=a.quick)
