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
import os as _os

from . import _C, creation, cuda, functional, random, sparse
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .random import rand, randn, seed  # noqa: F401
from .tensor import Tensor, float32, int64
from .variables import Variable

# Helpers of the functional ops that are not tensor operations of their own: they stay in
# fastnn.functional (Tensor.__getitem__ / __setitem__ / .to() and the layers use them from there).
for _name in ("getitem", "setitem_", "to_device", "EPSILON", "conv_output_length", "conv_padding",
              "conv_transpose_output_length"):
    globals().pop(_name, None)

_EAGER_SUBMODULES = ("losses", "metrics", "optimizers", "callbacks", "saving", "utils", "activations", "initializers",
                     "regularizers", "constraints", "layers", "models", "datasets", "preprocessing")
for _name in _EAGER_SUBMODULES:
    _importlib.import_module(f"{__name__}.{_name}")
del _name

# Imported on first use (PEP 562): fastnn.applications.LeNet5 works after a plain `import fastnn`,
# while `import fastnn` stays quick and never imports scikit-learn (fastnn.sklearn needs it), torch
# or matplotlib (fastnn.bench). Not in __all__, so that `from fastnn import *` imports none of them.
_LAZY_SUBMODULES = ("applications", "bench", "cli", "demo", "seq2seq", "sklearn")

__version__ = _C.__version__

# Training steps free and re-allocate the same large buffers every step; with glibc's default,
# adaptive thresholds each of them comes back as fresh mmap()ed pages to fault in (up to half of
# a small CNN's step). Fixed thresholds keep them in the heap (process-wide; see
# csrc/core/malloc_tuning.h). FASTNN_MALLOC_TUNING=0, or malloc settings of one's own in
# GLIBC_TUNABLES, leave the C library as it is.
_MALLOC_MMAP_THRESHOLD = 32 << 20  # glibc's maximum on 64-bit
_MALLOC_TRIM_THRESHOLD = 256 << 20
malloc_tuned: bool = (_os.environ.get("FASTNN_MALLOC_TUNING", "1") != "0"
                      and "glibc.malloc." not in _os.environ.get("GLIBC_TUNABLES", "")
                      and _C.tune_malloc(_MALLOC_MMAP_THRESHOLD, _MALLOC_TRIM_THRESHOLD))


def get_num_threads() -> int:
    """Threads used by fastnn's CPU kernels (OMP_NUM_THREADS or the core count by default)."""
    return _C.get_num_threads()


# The most threads set_num_threads accepts: 4 per hardware thread of the machine, at least 64
# (csrc/core/parallel.h, max_num_threads). More only oversubscribes the cores, and OpenMP cannot
# create tens of thousands of threads: it aborts or crashes the process.
MAX_NUM_THREADS: int = _C.MAX_NUM_THREADS


def set_num_threads(n: int) -> None:
    """Use `n` threads in fastnn's CPU kernels.

    `n` must be between 1 and ``fastnn.MAX_NUM_THREADS``: 4 per hardware thread of the machine,
    and at least 64 (oversubscribing a container limited to a few cores is allowed). Outside
    that range raises ValueError, a non-integer TypeError. OMP_NUM_THREADS is clamped to the
    same range when fastnn is imported.
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads expects an integer, got {n!r}")
    if not 1 <= n <= MAX_NUM_THREADS:  # also before n reaches a C integer (2**70)
        raise ValueError(f"set_num_threads: n must be between 1 and {MAX_NUM_THREADS} "
                         f"(4 per hardware thread, at least 64), got {n}")
    _C.set_num_threads(n)


__all__ = sorted(
    [
        # tensors, autograd, creation and random numbers
        "Tensor", "Variable", "float32", "int64", "Function", "enable_grad", "is_grad_enabled", "no_grad",
        "set_grad_enabled", "rand", "randn", "seed",
        *creation.__all__,
        # the differentiable operations (fastnn.functional), less the helpers removed above
        *(name for name in functional.__all__ if name in globals()),
        # runtime
        "get_num_threads", "set_num_threads", "MAX_NUM_THREADS", "malloc_tuned",
        # subpackages imported with fastnn
        "autograd", "cuda", "functional", "random", "sparse", *_EAGER_SUBMODULES,
    ]
)


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        try:
            return _importlib.import_module(f"{__name__}.{name}")  # also binds it: the next lookup is direct
        except ImportError as e:
            # an attribute lookup answers AttributeError (hasattr, help(fastnn) and inspect rely on
            # it); `import fastnn.sklearn` still raises the ImportError itself
            raise AttributeError(f"fastnn.{name} is unavailable: {e}") from e
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_LAZY_SUBMODULES, "__version__"])
