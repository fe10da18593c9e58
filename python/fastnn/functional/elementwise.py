"""Elementwise arithmetic and math with NumPy broadcasting: add, sub, mul, div, pow, maximum,
minimum, where, clip, neg, abs, exp, log, sqrt, square.

Each op is a ``Function`` on raw storage calling one kernel of ``fastnn._C`` forward and one
backward; gradients come back at the broadcast shape and are summed down to each input's shape
with ``_raw.sum_to``. Python numbers, lists and NumPy arrays are accepted for either operand and
become float32 tensors on the other operand's device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _C, _raw
from .._raw import BINARY, UNARY
from ..autograd import Function
from ..tensor import Tensor, float32, int64
from .shape import broadcast_shapes

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "power",
    "maximum", "minimum", "where", "clip", "neg", "negative", "abs", "exp", "log", "sqrt", "square",
]

# Which forward arrays each unary backward reads (asked once from the C++ side, which owns the
# rule), so that only those are kept alive for backward.
_UNARY_READS = {code: tuple(_C.unary_backward_reads(code)) for code in UNARY.values()}


def _host(a) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else _C.to_host(a)


def _on(arr: np.ndarray, device: str):
    return arr if device == "cpu" else _C.to_device(arr)


def _const(value: Any, device: str, name: str) -> Tensor:
    """A float32 tensor on `device` from a number, a list or a NumPy array."""
    if isinstance(value, float):  # the common case (x * 0.5): skip the generic conversion
        return Tensor._wrap(_on(np.array(value, dtype=float32), device))
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"{name}: cannot convert the operand to an array: {e}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a tensor, a number or a numeric array, got {type(value).__name__}")
    arr = arr.astype(float32, order="C", copy=False)  # keeps 0-d arrays 0-d
    return Tensor._wrap(_on(arr, device))


def _float_tensor(x: Any, name: str) -> Tensor:
    """`x` as a Tensor; non-tensors become float32. int64 tensors are refused by the kernels
    with a TypeError that names the op."""
    if isinstance(x, Tensor):
        return x
    return _const(x, "cpu", name)


def _is_i64(t: Tensor) -> bool:
    # t._data.dtype directly: Tensor.dtype builds a dtype from a string, slow on the hot path.
    return t._data.dtype == int64


def _as_float(t: Tensor) -> Tensor:
    """An int64 tensor converted to float32 (type promotion, as torch does for int + float)."""
    if not _is_i64(t):
        return t
    return Tensor._wrap(_on(_host(t._data).astype(float32), t.device))


def _is_int_data(v: Any) -> bool:
    if isinstance(v, Tensor):
        return _is_i64(v)
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind in "iu"


_INT_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum,
            "minimum": np.minimum}


def _binary(cls, a: Any, b: Any) -> Tensor:
    """Converts the operands and applies the Function `cls` (or integer arithmetic)."""
    name = cls.op
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not ta and not tb:
        a, b = _const(a, "cpu", name), _const(b, "cpu", name)
    elif not ta:
        if _is_i64(b) and _is_int_data(a) and name in _INT_OPS:
            return _int_binary(name, a, b, b.device)
        a = _const(a, b.device, name)
    elif not tb:
        if _is_i64(a) and _is_int_data(b) and name in _INT_OPS:
            return _int_binary(name, a, b, a.device)
        b = _const(b, a.device, name)
    elif a.device != b.device:
        raise ValueError(f"{name}: operands are on different devices ({a.device} and {b.device})")
    ia, ib = _is_i64(a), _is_i64(b)
    if ia or ib:
        if ia and ib and name in _INT_OPS:
            return _int_binary(name, a, b, a.device)
        # int64 tensors carry no gradient: promote to float32 as torch does.
        a, b = _as_float(a), _as_float(b)
    return cls.apply(a, b)


def _int_binary(name: str, a: Any, b: Any, device: str) -> Tensor:
    """Integer arithmetic on int64 tensors (indices): exact, on the host, never differentiable."""
    ha = _host(a._data) if isinstance(a, Tensor) else np.asarray(a, dtype=int64)
    hb = _host(b._data) if isinstance(b, Tensor) else np.asarray(b, dtype=int64)
    try:
        broadcast_shapes(ha.shape, hb.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {ha.shape} and {hb.shape} cannot be broadcast together") from None
    out = np.asarray(_INT_OPS[name](ha, hb)).astype(int64, order="C", copy=False)
    return Tensor._wrap(_on(out, device))


# ---------------------------------------------------------------------------- binary Functions
class _Binary(Function):
    """out = op(a, b) with broadcasting; backward by the kernel, then summed to each shape."""

    op = ""

    @classmethod
    def forward(cls, ctx, a, b):
        out = _C.binary_forward(BINARY[cls.op], a, b)
        if ctx.needs_input_grad:
            keep_out = _C.binary_backward_reads_out(BINARY[cls.op])
            ctx.save_for_backward(a, b, out if keep_out else None)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b, out = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        da, db = _C.binary_backward(BINARY[cls.op], g, a, b, out, need_a, need_b)
        return (
            _raw.sum_to(da, a.shape) if da is not None else None,
            _raw.sum_to(db, b.shape) if db is not None else None,
        )


class Add(_Binary):
    op = "add"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.shapes = (tuple(a.shape), tuple(b.shape))
        return _C.binary_forward(BINARY["add"], a, b)

    @classmethod
    def backward(cls, ctx, g):  # no kernel: the gradient passes through (summed where broadcast)
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        return (_raw.sum_to(g, sa) if need_a else None, _raw.sum_to(g, sb) if need_b else None)


class Sub(_Binary):
    op = "sub"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.shapes = (tuple(a.shape), tuple(b.shape))
        return _C.binary_forward(BINARY["sub"], a, b)

    @classmethod
    def backward(cls, ctx, g):
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        db = None
        if need_b:  # reduce first, then negate the (smaller) result
            db = _C.unary_forward(UNARY["neg"], _raw.sum_to(g, sb), 0.0, 0.0)
        return (_raw.sum_to(g, sa) if need_a else None, db)


class Mul(_Binary):
    op = "mul"


class Div(_Binary):
    op = "div"


class Pow(_Binary):
    op = "pow"


class Maximum(_Binary):
    op = "maximum"


class Minimum(_Binary):
    op = "minimum"


def add(x: Any, y: Any) -> Tensor:
    """x + y with NumPy broadcasting."""
    return _binary(Add, x, y)


def sub(x: Any, y: Any) -> Tensor:
    """x - y with NumPy broadcasting."""
    return _binary(Sub, x, y)


def mul(x: Any, y: Any) -> Tensor:
    """x * y with NumPy broadcasting."""
    return _binary(Mul, x, y)


def div(x: Any, y: Any) -> Tensor:
    """x / y (true division, IEEE: x / 0 is +-inf or NaN) with NumPy broadcasting.
    Gradients: dx = g / y, dy = -g x / y^2."""
    return _binary(Div, x, y)


def pow(x: Any, y: Any) -> Tensor:  # noqa: A001 - NumPy / torch name
    """x ** y with NumPy broadcasting (libm powf; x ** 2 takes a fast path).
    Gradients as torch: dx = y x^(y-1) (0 where y == 0), dy = x^y log(x) (0 where x == 0 and
    y >= 0)."""
    return _binary(Pow, x, y)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; NaN in either operand propagates. Ties split the gradient in halves."""
    return _binary(Maximum, x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; NaN in either operand propagates. Ties split the gradient in halves."""
    return _binary(Minimum, x, y)


subtract = sub
multiply = mul
divide = div
true_divide = div
power = pow


# ---------------------------------------------------------------------------- where
class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        shape = broadcast_shapes(cond.shape, a.shape, b.shape)
        c = _raw.broadcast_to(cond, shape)
        out = _C.where_forward(c, _raw.broadcast_to(a, shape), _raw.broadcast_to(b, shape))
        if ctx.needs_input_grad:
            ctx.save_for_backward(c)
            ctx.shapes = (tuple(a.shape), tuple(b.shape))
        return out

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved
        _, need_a, need_b = ctx.needs_input_grad
        da, db = _C.where_backward(g, c, need_a, need_b)
        sa, sb = ctx.shapes
        return (
            None,
            _raw.sum_to(da, sa) if da is not None else None,
            _raw.sum_to(db, sb) if db is not None else None,
        )


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise ``x if condition else y`` (condition nonzero / True), all three broadcast
    together (NumPy rules). The gradient flows to x where the condition holds, to y elsewhere.

    Example::

        fastnn.where(x > 0, x, 0.1 * x)   # a leaky ReLU
    """
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else condition
    device = like.device if isinstance(like, Tensor) else "cpu"
    if isinstance(condition, Tensor):
        if condition.device != device:
            raise ValueError(f"where: the condition is on {condition.device} but x / y are on {device}")
        cond = _as_float(condition)
    else:
        cond = _const(condition, device, "where")
    x = _as_float(x) if isinstance(x, Tensor) else _const(x, device, "where")
    y = _as_float(y) if isinstance(y, Tensor) else _const(y, device, "where")
    if x.device != y.device:
        raise ValueError(f"where: x is on {x.device} but y is on {y.device}")
    try:
        broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, x {x.shape} and y {y.shape} cannot be broadcast together"
        ) from None
    return Where.apply(cond, x, y)


# ---------------------------------------------------------------------------- unary Functions
class _Unary(Function):
    """y = op(x; alpha, beta); backward reads only what the kernel needs (x, y or neither)."""

    op = ""

    @classmethod
    def forward(cls, ctx, x, alpha: float = 0.0, beta: float = 0.0):
        code = UNARY[cls.op]
        y = _C.unary_forward(code, x, alpha, beta)
        if ctx.needs_input_grad:
            rx, ry = _UNARY_READS[code]
            ctx.save_for_backward(x if rx else None, y if ry else None)
            ctx.params = (alpha, beta)
        return y

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved
        return (_C.unary_backward(UNARY[cls.op], g, x, y, *ctx.params),)


def _unary_class(op: str, cls_name: str) -> type:
    return type(cls_name, (_Unary,), {"op": op, "__doc__": f"The {op} op (see fastnn.functional)."})


Neg = _unary_class("neg", "Neg")
Abs = _unary_class("abs", "Abs")
Exp = _unary_class("exp", "Exp")
Log = _unary_class("log", "Log")
Sqrt = _unary_class("sqrt", "Sqrt")
Square = _unary_class("square", "Square")
Clip = _unary_class("clip", "Clip")


def neg(x: Any) -> Tensor:
    """-x."""
    return Neg.apply(_float_tensor(x, "neg"))


negative = neg


def abs(x: Any) -> Tensor:  # noqa: A001 - NumPy / torch name
    """|x|; the gradient is sign(x) (0 at 0)."""
    return Abs.apply(_float_tensor(x, "abs"))


def exp(x: Any) -> Tensor:
    """e^x (inf above about 88.72, like torch)."""
    return Exp.apply(_float_tensor(x, "exp"))


def log(x: Any) -> Tensor:
    """Natural logarithm (-inf at 0, NaN below 0)."""
    return Log.apply(_float_tensor(x, "log"))


def sqrt(x: Any) -> Tensor:
    """Square root (NaN below 0); the gradient is 1 / (2 sqrt(x))."""
    return Sqrt.apply(_float_tensor(x, "sqrt"))


def square(x: Any) -> Tensor:
    """x * x."""
    return Square.apply(_float_tensor(x, "square"))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy / torch names
    """Clamp x to [min, max]; either bound may be None (unbounded). Number bounds use one fused
    kernel whose gradient is 1 inside the inclusive bounds and 0 outside; tensor bounds are
    applied with maximum / minimum. NaN propagates.

    Example::

        fastnn.clip(x, 0.0, 6.0)   # relu6
    """
    x = _float_tensor(x, "clip")
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if (min is None or _is_number(min)) and (max is None or _is_number(max)):
        lo = -math.inf if min is None else float(min)
        hi = math.inf if max is None else float(max)
        return Clip.apply(x, alpha=lo, beta=hi)
    out = x
    if min is not None:
        out = maximum(out, min)
    if max is not None:
        out = minimum(out, max)
    return out
