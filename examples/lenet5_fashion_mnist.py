"""LeNet-5 on Fashion-MNIST: the 61,706-parameter network of fastnn.applications.LeNet5.

The 28x28 images are zero-padded to 32x32 (as LeCun et al. did with MNIST), so the model is
the paper's size: conv 6@5x5, 2x2 pooling, conv 16@5x5, 2x2 pooling, dense 120, 84, 10. Relu and
max pooling (instead of the paper's tanh and average subsampling) with Adam, batch 64; 10% of
the training images are held out for validation.

Full run (15 epochs on 54,000 images): about 40 s on 2 cores, printing the model summary, two
lines per epoch, then
    LeNet-5 (61,706 parameters): test accuracy 0.9005 after 15 epochs on 60,000 images (10% of them for validation)
--quick (2 epochs): about 10 s; it prints test accuracy 0.8612.

    python examples/lenet5_fashion_mnist.py [--quick] [--epochs 15] [--train-size N]
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


FULL_ACCURACY = 0.90  # what the full run reaches, quoted by a quick run


def main(epochs: Optional[int] = None, train_size: Optional[int] = None, verbose: int = 2,
         quick: bool = False) -> float:
    """Train and test; returns the test accuracy. quick=True makes the default 2 epochs, not 15."""
    if epochs is None:
        epochs = 2 if quick else 15
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
    note = f" (quick run; the full run, 15 epochs, reaches {FULL_ACCURACY:.2f})" if quick else ""
    print(f"LeNet-5 ({model.count_params():,} parameters): test accuracy {acc:.4f} after {epochs} "
          f"epoch{'s' * (epochs != 1)} on {len(x_train):,} images (10% of them for validation){note}")
    return float(acc)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a short run: 2 epochs")
    p.add_argument("--epochs", type=int, default=None, help="default 15 (2 with --quick)")
    p.add_argument("--train-size", type=int, default=None, help="default: all 60,000")
    a = p.parse_args()
    main(a.epochs, a.train_size, quick=a.quick)
