"""fastnn.functional: every differentiable operation, as functions on Tensors.

Each op is a ``Function`` (fastnn.autograd) whose forward and backward call the C++/CUDA
kernels in ``fastnn._C``. Grouped by family: shape (views, copies, indexing), elementwise
(arithmetic with broadcasting), activations, reductions (and softmax), linalg (matmul),
losses, nn (dropout, embedding), conv (convolutions), pooling (pooling, upsampling, padding,
cropping), normalization (batch and layer normalization).
"""

from . import activations, conv, elementwise, linalg, losses, nn, normalization, pooling, reductions, shape
from .activations import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

# The functions only: `from fastnn.functional import *` (as fastnn/__init__ does) must not bind
# the submodule names, which would shadow fastnn.activations, fastnn.losses, ...
__all__ = sorted({name for mod in (activations, conv, elementwise, linalg, losses, nn, normalization, pooling,
                                    reductions, shape)
                  for name in getattr(mod, "__all__", ())})
