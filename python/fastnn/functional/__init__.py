"""fastnn.functional: every differentiable operation, as functions on Tensors.

Each op is a ``Function`` (fastnn.autograd) whose forward and backward call the C++/CUDA
kernels in ``fastnn._C``. Grouped by family: shape (views, copies, indexing), elementwise
(arithmetic with broadcasting), activations, reductions (and softmax), linalg (matmul),
losses, nn (dropout, embedding), conv (convolutions).
"""

from .activations import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

from . import activations, elementwise, linalg, losses, nn, reductions, shape

# The functions only: `from fastnn.functional import *` (as fastnn/__init__ does) must not bind
# the submodule names, which would shadow fastnn.activations, fastnn.losses, ...
__all__ = sorted({name for mod in (activations, elementwise, linalg, losses, nn, reductions, shape)
                  for name in getattr(mod, "__all__", ())})
