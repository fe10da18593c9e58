"""fastnn.functional: every differentiable operation, as functions on Tensors.

Each op is a ``Function`` (fastnn.autograd) whose forward and backward call the C++/CUDA
kernels in ``fastnn._C``. Grouped by family: shape (views, copies, indexing), elementwise
(arithmetic with broadcasting), activations, reductions (and softmax), linalg (matmul),
losses, nn (dropout, embedding), pooling (pooling, upsampling, padding, cropping),
normalization (batch and layer normalization).
"""

from .activations import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
