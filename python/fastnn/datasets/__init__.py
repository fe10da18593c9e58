"""fastnn.datasets: small image datasets read from local files (nothing is downloaded).

``mnist``, ``fashion_mnist`` (IDX files, gzipped or not; Debian's dataset-fashion-mnist package
is found), ``cifar10`` (the Python or binary batches) and ``digits`` (scikit-learn's bundled
8x8 digits). Each ``load_data`` returns ``(x_train, y_train), (x_test, y_test)`` as Keras does.
``synthetic`` generates sequence tasks from a seed: IMDB-shaped sentiment reviews, the adding
problem, a seasonal series and its sliding windows.

Example::

    from fastnn.datasets import fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
"""

from . import cifar10, digits, fashion_mnist, mnist, synthetic

__all__ = ["mnist", "fashion_mnist", "cifar10", "digits", "synthetic"]
