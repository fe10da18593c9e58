"""fastnn: a Keras-style deep-learning library on hand-written C++ and CUDA kernels.

Example::

    import fastnn
    x = fastnn.randn(4, 3, requires_grad=True)
    loss = (x.relu() ** 2).mean()
    loss.backward()
    x.grad.shape        # (4, 3)
"""

# The functional star import binds fastnn.activations / fastnn.losses to the functional
# submodules of those names; import the real modules so that the attributes point at them.
import importlib as _importlib  # noqa: E402

from . import _C, cuda, functional, random
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .random import rand, randn, seed  # noqa: F401
from .tensor import Tensor, float32, int64
from .variables import Variable

for _name in ("losses", "metrics", "optimizers", "callbacks", "saving", "utils", "activations", "initializers",
              "regularizers", "layers", "models", "preprocessing"):
    _importlib.import_module(f"{__name__}.{_name}")
del _name

__version__ = _C.__version__


def get_num_threads() -> int:
    """Threads used by fastnn's CPU kernels (OMP_NUM_THREADS or the core count by default)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    """Use `n` threads in fastnn's CPU kernels."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads expects an integer, got {n!r}")
    _C.set_num_threads(n)
