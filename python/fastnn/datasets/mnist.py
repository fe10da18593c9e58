"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey levels.

Example::

    (x_train, y_train), (x_test, y_test) = fastnn.datasets.mnist.load_data()
    x_train.shape, x_train.dtype     # (60000, 28, 28) uint8
"""

from __future__ import annotations

import os

from . import _files, _mnist_like

__all__ = ["load_data"]

# Where keras.datasets.mnist.load_data() fetches the file it keeps in ~/.keras/datasets.
KERAS_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"


def load_data(path: str | os.PathLike | None = None) -> _files.Splits:
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, as keras.datasets.mnist.

    Args:
        path: a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
            t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each gzipped or not), or Keras's
            mnist.npz. None searches $FASTNN_DATA/mnist, $FASTNN_DATA,
            $KERAS_HOME/datasets/mnist (~/.keras/datasets/mnist) and ~/.keras/datasets/mnist.npz.
            No Debian/Ubuntu package ships MNIST.

    Raises:
        FileNotFoundError: no copy found (the message says which files to put where, and lists
            the paths searched).
        ValueError: a file is truncated or not in the IDX format, or its header announces more
            than fastnn.datasets._files.MAX_FILE_BYTES (2 GiB; nothing beyond what the header
            announces is ever decompressed). The message names the file.
    """
    return _mnist_like.load("mnist", path, title="MNIST", origin="https://yann.lecun.com/exdb/mnist/",
                            npz="mnist.npz", npz_origin=KERAS_NPZ_URL)
