"""Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing, 28x28 grey
levels, 10 classes (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot).

On Debian, ``apt-get install dataset-fashion-mnist`` installs the files where ``load_data()``
finds them (/usr/share/datasets/fashion-mnist).

Example::

    (x_train, y_train), (x_test, y_test) = fastnn.datasets.fashion_mnist.load_data()
    x_train.shape, y_train[:3]       # (60000, 28, 28), array([9, 0, 0], dtype=uint8)
"""

from __future__ import annotations

import os

from . import _files, _mnist_like

__all__ = ["load_data", "CLASS_NAMES"]

APT_PACKAGE = "dataset-fashion-mnist"  # Debian/Ubuntu: the four files in /usr/share/datasets/fashion-mnist

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def load_data(path: str | os.PathLike | None = None) -> _files.Splits:
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, as keras.datasets.fashion_mnist.

    Args:
        path: a directory holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
            t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not). None
            searches $FASTNN_DATA/fashion-mnist, $FASTNN_DATA,
            $KERAS_HOME/datasets/fashion-mnist (~/.keras/datasets/fashion-mnist) and Debian's
            /usr/share/datasets/fashion-mnist.

    Raises:
        FileNotFoundError: no copy found (the message gives the apt-get command, which files to
            put where, and the paths searched).
        ValueError: a file is truncated or not in the IDX format, or its header announces more
            than fastnn.datasets._files.MAX_FILE_BYTES (2 GiB; nothing beyond what the header
            announces is ever decompressed). The message names the file.
    """
    return _mnist_like.load("fashion-mnist", path, title="Fashion-MNIST",
                            origin="https://github.com/zalandoresearch/fashion-mnist", apt_package=APT_PACKAGE)
