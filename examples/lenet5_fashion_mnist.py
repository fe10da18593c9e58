"""LeNet-5 on Fashion-MNIST: the 61,706-parameter network of fastnn.applications.LeNet5.

The 28x28 images are zero-padded to 32x32 (as LeCun et al. did with MNIST), so the model is
the paper's size: conv 6@5x5, 2x2 pooling, conv 16@5x5, 2x2 pooling, dense 120, 84, 10. Relu and
max pooling (instead of the paper's tanh and average subsampling) with Adam, batch 64; 10% of
the training images are held out for validation.

    python examples/lenet5_fashion_mnist.py [--epochs 15] [--train-size N]
"""

from __future__ import annotations

import argparse
from typing import Optional

import numpy as np
from fastnn import applications, optimizers, utils
from fastnn.datasets import fashion_mnist


def load():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    pad = ((0, 0), (2, 2), (2, 2))
    x_train = np.pad(x_train, pad)[..., None].astype(np.float32) / 255.0
    x_test = np.pad(x_test, pad)[..., None].astype(np.float32) / 255.0
    return (x_train, y_train), (x_test, y_test)


def main(epochs: int = 15, train_size: Optional[int] = None, verbose: int = 2) -> float:
    utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load()
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    model = applications.LeNet5(input_shape=(32, 32, 1), classes=10, activation="relu", subsampling="max")
    model.compile(optimizer=optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if verbose:
        model.summary()
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1, verbose=verbose)
    acc = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    print(f"LeNet-5 ({model.count_params()} parameters): test accuracy {acc:.4f} after {epochs} epochs")
    return float(acc)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--train-size", type=int, default=None)
    a = p.parse_args()
    main(a.epochs, a.train_size)
