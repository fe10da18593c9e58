"""A small ResNet on Fashion-MNIST: fastnn.applications.ResNet18 with the small-image stem.

A 3x3 stem of `width` filters, then three stages of basic residual blocks (two 3x3
convolutions with batch norm, joined to the shortcut by Add) of width, 2 width and 4 width
filters at 28x28, 14x14 and 7x7, global average pooling and softmax. Adam with the learning
rate divided by 10 for the last epoch, batch 64. Batch normalization tests with its moving
statistics (momentum 0.99, as Keras): a run needs a few hundred steps before they settle.

    python examples/resnet_fashion_mnist.py [--epochs 5] [--width 16] [--train-size N]
"""

from __future__ import annotations

import argparse
from typing import Optional

import numpy as np
from fastnn import applications, callbacks, models, optimizers, utils
from fastnn.datasets import fashion_mnist


def build(width: int = 16, blocks=(1, 1, 1)) -> models.Model:
    return applications.ResNet18(input_shape=(28, 28, 1), classes=10, width=width, blocks=blocks,
                                 small_inputs=True, name="resnet")


def main(epochs: int = 5, width: int = 16, train_size: Optional[int] = None, batch_size: int = 64,
         verbose: int = 2) -> float:
    utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = x_train[..., None].astype(np.float32) / 255.0
    x_test = x_test[..., None].astype(np.float32) / 255.0
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    model = build(width)
    model.compile(optimizer=optimizers.Adam(learning_rate=2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if verbose:
        model.summary()
    last = epochs - 1

    def schedule(epoch, lr):
        return 2e-4 if epoch >= last and epochs > 1 else 2e-3

    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
              callbacks=[callbacks.LearningRateScheduler(schedule)])
    acc = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    print(f"ResNet (width {width}, {model.count_params()} parameters): test accuracy {acc:.4f} "
          f"after {epochs} epochs")
    return float(acc)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--train-size", type=int, default=None)
    a = p.parse_args()
    main(a.epochs, a.width, a.train_size)
