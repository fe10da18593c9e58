"""Reverse-mode automatic differentiation: Function, the graph node, the backward engine.

A differentiable op is one ``Function`` subclass with ``forward(ctx, *args)`` and
``backward(ctx, grad)`` side by side. Both work on raw storage (NumPy arrays on the CPU,
``_C.DeviceArray`` on CUDA) and call the C++ kernels; ``Function.apply`` unwraps Tensors,
runs ``forward``, wraps the result and, when gradients are recorded, links a ``Node`` into the
graph. ``backward`` returns one gradient per positional argument of ``forward`` (None for
arguments that are not tensors or need no gradient).

Example::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return _C.unary_forward(UNARY["square"], x, 0.0, 0.0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return (_C.unary_backward(UNARY["square"], grad, x, None, 0.0, 0.0),)
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from . import _raw

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backward."""
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    _mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
        return False

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager (and decorator) that turns gradient recording off.

    Example::

        with fastnn.no_grad():
            y = model(x)      # y.requires_grad is False
    """

    _mode = False


class enable_grad(_GradMode):
    """Context manager (and decorator) that turns gradient recording back on."""

    _mode = True


class Context:
    """Per-call scratch space of a Function: saved arrays and whatever forward stores."""

    def __init__(self):
        self.saved: tuple = ()
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays


class Node:
    """One recorded call: the Function, its context, its tensor inputs, its outputs' metadata."""

    __slots__ = ("fn", "ctx", "inputs", "out_meta", "freed", "__weakref__")

    def __init__(self, fn, ctx, inputs, out_meta):
        self.fn = fn
        self.ctx = ctx
        self.inputs = inputs  # one entry per positional argument: a Tensor or None
        self.out_meta = out_meta  # (shape, device) of each output, to make zero gradients
        self.freed = False

    @property
    def name(self) -> str:
        return self.fn.__name__ + "Backward"


class Function:
    """Base class of differentiable operations (see the module docstring)."""

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # Functions whose result never carries a gradient (argmax, comparisons) set this False.
    differentiable = True
    # Functions whose backward returns only newly allocated arrays, each used once (kernel
    # outputs), set this True: a leaf then keeps the array as its .grad instead of a copy.
    fresh_grads = False

    @classmethod
    def apply(cls, *args, **kwargs):
        record = False
        raw = []
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                if a.requires_grad:
                    record = True
            else:
                raw.append(a)
        record = record and cls.differentiable and getattr(_state, "enabled", True)
        ctx = Context()
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        out = cls.forward(ctx, *raw, **kwargs)
        multi = isinstance(out, tuple)
        outs = tuple(Tensor._wrap(o) for o in out) if multi else (Tensor._wrap(out),)
        if record:
            inputs = tuple(a if isinstance(a, Tensor) and a.requires_grad else None for a in args)
            node = Node(cls, ctx, inputs, tuple((o.shape, o.device) for o in outs))
            for i, o in enumerate(outs):
                o.requires_grad = True
                o._node = node
                o._out_index = i
        return outs if multi else outs[0]


def _toposort(roots: list[Node]) -> list[Node]:
    """Nodes reachable from roots, each after every node that consumes it (iterative DFS)."""
    order, visited = [], set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, it = stack[-1]
            child = None
            for inp in it:
                if inp is not None and inp._node is not None and id(inp._node) not in visited:
                    child = inp._node
                    break
            if child is None:
                order.append(node)
                stack.pop()
            else:
                visited.add(id(child))
                stack.append((child, iter(child.inputs)))
    order.reverse()  # consumers first
    return order


def _accumulate_leaf(t, g, fresh: bool = False) -> None:
    # A row-sparse gradient (fastnn.sparse) stays sparse on a leaf while every contribution
    # is sparse; a dense contribution makes the sum dense.
    if isinstance(g, RowSparseGrad):
        if t.grad is None:
            t.grad = g
        else:
            s = _sparse().accumulate(t.grad if isinstance(t.grad, RowSparseGrad) else t.grad._data, g)
            t.grad = s if isinstance(s, RowSparseGrad) else Tensor._wrap(s)
    elif t.grad is None:
        # The engine may hand the same array to several inputs (add's backward): copy it,
        # unless the Function that made it promises a private array.
        t.grad = Tensor._wrap(g if fresh else _raw.copy(g))
    elif isinstance(t.grad, RowSparseGrad):
        t.grad = Tensor._wrap(_sparse().add_into_dense(g, t.grad))
    else:
        t.grad = Tensor._wrap(_raw.add(t.grad._data, g))


def backward(tensors, grads, retain_graph: bool = False) -> None:
    """Accumulate d(sum_i tensors[i] * grads[i]) / d(leaf) into every leaf's ``.grad``."""
    pending: dict[tuple[int, int], Any] = {}
    roots = []
    for t, g in zip(tensors, grads):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if t._node is None:  # a leaf: its gradient is the seed itself
            _accumulate_leaf(t, g)
            continue
        key = (id(t._node), t._out_index)
        pending[key] = g if key not in pending else _raw.add(pending[key], g)
        roots.append(t._node)
        if t._retains_grad:
            _accumulate_leaf(t, g)
    if not roots:
        return
    for node in _toposort(roots):
        outs = [pending.pop((id(node), i), None) for i in range(len(node.out_meta))]
        if all(o is None for o in outs):
            continue
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name}): the saved "
                "arrays were freed after the first backward. Pass retain_graph=True to the first "
                "backward() call if you need to backward twice."
            )
        if len(outs) == 1:
            gin = node.fn.backward(node.ctx, outs[0])
        else:
            outs = [
                o if o is not None else _raw.zeros(shape, device)
                for o, (shape, device) in zip(outs, node.out_meta)
            ]
            gin = node.fn.backward(node.ctx, tuple(outs))
        if not isinstance(gin, tuple):
            gin = (gin,)
        if not retain_graph:
            node.ctx = None
            node.freed = True
        for inp, g in zip(node.inputs, gin):
            if inp is None or g is None:
                continue
            if tuple(g.shape) != inp.shape:
                raise RuntimeError(
                    f"{node.name} returned a gradient of shape {tuple(g.shape)} for an input of "
                    f"shape {inp.shape}"
                )
            if inp._node is None:
                _accumulate_leaf(inp, g, node.fn.fresh_grads)
            else:
                if isinstance(g, RowSparseGrad):  # only leaves keep a gradient sparse
                    g = g._dense_raw()
                key = (id(inp._node), inp._out_index)
                pending[key] = g if key not in pending else _raw.add(pending[key], g)
                if inp._retains_grad:
                    _accumulate_leaf(inp, g)


# The Tensor class; tensor.py (which imports this module) sets it once the class exists.
Tensor: type = None  # type: ignore[assignment]


class _NoRowSparse:  # stands in until fastnn.sparse is imported: no gradient is an instance
    pass


# fastnn.sparse.RowSparseGrad; that module sets it when it is imported.
RowSparseGrad: type = _NoRowSparse


def _sparse():
    from . import sparse

    return sparse
