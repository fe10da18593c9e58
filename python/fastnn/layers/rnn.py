"""Recurrent layers (Keras 3): SimpleRNN, LSTM, GRU, their cells, StackedRNNCells, the generic
RNN(cell) layer (``RNN([cell, cell, ...])`` stacks cells), Bidirectional, TimeDistributed and
Masking.

Inputs are (batch, timesteps, features). Weight layouts are Keras's: ``kernel`` (features,
k * units), ``recurrent_kernel`` (units, k * units), ``bias`` (k * units,) -- (2, 3 * units) for
GRU with ``reset_after=True`` (input and recurrent biases, torch's form) -- with the gates in the
order i, f, c, o (LSTM) and z, r, h (GRU).

The built-in layers run the whole sequence in C++ (one call forward, one backward: the input
projection of every step is one GEMM, then each step is one recurrent GEMM and one fused gate
kernel; masks and go_backwards inside). They take the generic path (a Python loop over the
cell) only where the fused kernels do not apply: activations other than tanh, sigmoid, relu,
hard_sigmoid and linear, or recurrent_dropout while training. Custom cells always take it.

Masks follow Keras 3: a masked step keeps the previous state and outputs the previous output
(zeros before the first unmasked step), or zeros with ``zero_output_for_mask=True``
(Bidirectional sets it when returning sequences).

Example::

    model = fastnn.models.Sequential([
        fastnn.layers.Input((80, 50)),
        fastnn.layers.LSTM(64),
        fastnn.layers.Dense(1, activation="sigmoid"),
    ])
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

import numpy as np

from .. import _C, _raw
from .. import activations as _activations
from .. import constraints as _constraints
from .. import functional as F
from .. import initializers as _initializers
from .. import random as _random
from .. import regularizers as _regularizers
from ..autograd import Function
from ..symbolic import flatten
from ..tensor import Tensor
from .base import Layer

__all__ = [
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "StackedRNNCells",
    "RNN",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "Bidirectional",
    "TimeDistributed",
    "Masking",
]

# Activation name -> the code of the fused kernels (csrc/kernels/rnn.h, enum RnnAct).
_ACT_CODES = _raw.RNN_ACTIVATION
_CELL_CODES = {"SimpleRNNCell": 0, "LSTMCell": 1}


# ---------------------------------------------------------------------------- arguments
# One rule per constructor argument of the cells and layers below: a function
# (value, name, owner) -> the normalized value, raising an error that names the layer the user
# called (owner), the argument and the value.
def _units(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {name}={value!r}")
    return int(value)


def _rate(value, name: str, owner: str) -> float:
    # [0, 1): the fused kernels scale the kept units by 1 / (1 - rate)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"{owner}: {name} must be a number in [0, 1), got {name}={value!r}")
    return float(value)


def _flag(value, name: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {name}={value!r}")
    return bool(value)


def _seed(value, name: str, owner: str) -> int | None:
    return None if value is None else _parsed(_random.Generator, value, name, owner).seed


def _parsed(parse, value, name: str, owner: str):
    """``parse(value)`` (an activation, initializer, regularizer, constraint or generator), its
    error prefixed with the layer and the argument."""
    try:
        return parse(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{owner}: invalid {name}={value!r}: {e}") from None


def _by(parse):
    return lambda value, name, owner: _parsed(parse, value, name, owner)


_ARG_RULES = {
    "units": _units,
    "activation": _by(_activations.get),
    "recurrent_activation": _by(_activations.get),
    "kernel_initializer": _by(_initializers.get),
    "recurrent_initializer": _by(_initializers.get),
    "bias_initializer": _by(_initializers.get),
    "kernel_regularizer": _by(_regularizers.get),
    "recurrent_regularizer": _by(_regularizers.get),
    "bias_regularizer": _by(_regularizers.get),
    "activity_regularizer": _by(_regularizers.get),
    "kernel_constraint": _by(_constraints.get),
    "recurrent_constraint": _by(_constraints.get),
    "bias_constraint": _by(_constraints.get),
    "dropout": _rate,
    "recurrent_dropout": _rate,
    "seed": _seed,
    **{k: _flag for k in ("use_bias", "unit_forget_bias", "reset_after", "return_sequences", "return_state",
                          "go_backwards", "stateful", "unroll", "zero_output_for_mask")},
}


def _checked(owner: str, args: dict) -> dict:
    """The arguments, each checked and normalized by its rule in _ARG_RULES."""
    return {k: _ARG_RULES[k](v, k, owner) for k, v in args.items()}


def _own_args(frame: dict) -> dict:
    """The named arguments of the __init__ whose ``locals()`` this is (called first thing in it),
    without self, its **kwargs and super()'s __class__ cell."""
    return {k: v for k, v in frame.items() if k not in ("self", "kwargs", "__class__")}


# One description per argument; _document fills a class's "Args:" from its signature with these.
_ARG_DOCS = {
    "units": "Positive integer, the size of the output and of each state.",
    "activation": "Activation of the candidate state and of the output: a name or a callable; None means "
                  "linear. tanh, sigmoid, relu, hard_sigmoid and linear run in the fused C++ kernels, others "
                  "in a Python loop over the steps.",
    "recurrent_activation": "Activation of the gates (a name or a callable; None means linear).",
    "use_bias": "Whether to add a bias vector.",
    "kernel_initializer": "Initializer of ``kernel``, the input weights (a name, a config dict, an Initializer "
                          "or a callable).",
    "recurrent_initializer": "Initializer of ``recurrent_kernel``, the weights of the previous state.",
    "bias_initializer": "Initializer of ``bias``.",
    "unit_forget_bias": "Add 1 to the forget-gate bias at initialization (Jozefowicz et al., 2015); the "
                        "bias initializer is then used for the other gates only.",
    "kernel_regularizer": "Regularizer of ``kernel`` (a name, a config dict, a Regularizer or a callable); "
                          "its penalty joins ``losses``.",
    "recurrent_regularizer": "Regularizer of ``recurrent_kernel``.",
    "bias_regularizer": "Regularizer of ``bias``.",
    "activity_regularizer": "Regularizer of the layer's outputs (the output and the returned states).",
    "kernel_constraint": "Constraint on ``kernel`` (a name, a config dict, a Constraint or a callable), "
                         "applied after each optimizer step.",
    "recurrent_constraint": "Constraint on ``recurrent_kernel``.",
    "bias_constraint": "Constraint on ``bias``.",
    "dropout": "Fraction in [0, 1) of the input units dropped in training (one mask for every step of a "
               "sequence).",
    "recurrent_dropout": "Fraction in [0, 1) of the state units dropped in training (one mask for every "
                         "step; in training this takes the Python loop over the steps).",
    "seed": "Integer seed of the dropout masks (None: fastnn's global generator).",
    "return_sequences": "Return the whole output sequence (batch, timesteps, units) instead of the last "
                        "output (batch, units).",
    "return_state": "Also return the final states, as ``output, *states``.",
    "go_backwards": "Process the sequence backwards (the output sequence is then in that order).",
    "stateful": "Keep the final states of a batch as the initial states of the next (the batch size must be "
                "fixed); ``reset_states()`` sets them back to zeros.",
    "unroll": "Accepted for Keras compatibility; the loop over the steps is never unrolled.",
    "reset_after": "GRU convention: True applies the reset gate after the recurrent product (torch's form, "
                   "bias of shape (2, 3 * units)); False before it (bias (3 * units,)).",
    "use_cudnn": "Accepted for Keras compatibility ('auto', True or False); fastnn runs its own fused "
                 "kernels on either device.",
    "**kwargs": "The generic Layer arguments: name, dtype, trainable, input_shape, input_dim, "
                "batch_input_shape, batch_size.",
}


def _document(cls: type) -> type:
    """Class decorator: replaces the ``{args}`` line of the docstring with one entry per
    constructor argument, in signature order, with its default."""
    lines = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        key = "**kwargs" if p.kind is p.VAR_KEYWORD else p.name
        text = _ARG_DOCS[key] + ("" if p.default is p.empty else f" Default: {p.default!r}.")
        lines.append(f"{key}: {text}")
    doc = cls.__doc__
    at = doc.index("{args}")
    indent = doc[doc.rindex("\n", 0, at) + 1:at]
    entries = [textwrap.fill(line, 100, initial_indent=indent, subsequent_indent=indent + "    ") for line in lines]
    cls.__doc__ = doc[:at - len(indent)] + "\n".join(entries) + doc[at + len("{args}"):]
    return cls


def _ser(obj, module):
    return module.serialize(obj) if obj is not None and hasattr(obj, "get_config") else None


_CONSTRAINT_ARGS = ("kernel_constraint", "recurrent_constraint", "bias_constraint")
_SHARED_CELL_ARGS = _CONSTRAINT_ARGS + ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")


def _dropout_mask(shape, rate: float, gen, like: Tensor) -> Tensor:
    """A constant inverted-dropout mask (0 or 1 / (1 - rate)) from the Philox generator."""
    g = gen if gen is not None else _random.default_generator
    n = int(np.prod(shape))
    key, offset = g.take(n)
    ones = _raw.full(tuple(shape), 1.0, _raw.device_of(like._data))
    return Tensor._wrap(_C.dropout_forward(ones, rate, key, offset))


# ---------------------------------------------------------------------------- cells
class _Cell(Layer):
    """Shared parts of the built-in cells: weights, dropout masks cached across the steps of one
    sequence (as Keras's DropoutRNNCell), config."""

    _gates = 1

    def __init__(self, args: dict, **kwargs):
        """`args`: the cell's own arguments (its __init__'s, by name); `kwargs`: the Layer's."""
        args = _checked(type(self).__name__, args)
        super().__init__(**kwargs)
        self.recurrent_activation = _activations.get("sigmoid")  # SimpleRNNCell has none
        for key, value in args.items():
            setattr(self, key, value)
        self._gen = None if self.seed is None else _random.Generator(self.seed)
        self._dp_mask = None
        self._rdp_mask = None
        self.bias = None

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape) -> None:
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the feature size must be known, got {input_shape}")
        k = self._gates * self.units
        self.kernel = self.add_weight("kernel", (int(input_shape[-1]), k), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, k), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def get_initial_state(self, batch_size: int) -> list[Tensor]:
        n = 2 if self._gates == 4 else 1
        return [Tensor(np.zeros((batch_size, self.units), np.float32)) for _ in range(n)]

    # dropout masks, fixed for every step of one sequence (reset by the RNN layer after a call)
    def get_dropout_mask(self, step_input: Tensor) -> Tensor | None:
        if self._dp_mask is None and self.dropout > 0:
            self._dp_mask = _dropout_mask(step_input.shape, self.dropout, self._gen, step_input)
        return self._dp_mask

    def get_recurrent_dropout_mask(self, state: Tensor) -> Tensor | None:
        if self._rdp_mask is None and self.recurrent_dropout > 0:
            self._rdp_mask = _dropout_mask(state.shape, self.recurrent_dropout, self._gen, state)
        return self._rdp_mask

    def reset_dropout_mask(self) -> None:
        self._dp_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._rdp_mask = None

    def _drop(self, inputs: Tensor, h: Tensor, training) -> tuple[Tensor, Tensor]:
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h = h * self.get_recurrent_dropout_mask(h)
        return inputs, h

    def _fused_activations(self) -> tuple[int, int] | None:
        a = _ACT_CODES.get(_activations.serialize(self.activation))
        r = _ACT_CODES.get(_activations.serialize(self.recurrent_activation))
        return None if a is None or r is None else (a, r)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=_activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=_ser(self.kernel_initializer, _initializers),
            recurrent_initializer=_ser(self.recurrent_initializer, _initializers),
            bias_initializer=_ser(self.bias_initializer, _initializers),
            kernel_regularizer=_regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=_regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=_regularizers.serialize(self.bias_regularizer),
            kernel_constraint=_constraints.serialize(self.kernel_constraint),
            recurrent_constraint=_constraints.serialize(self.recurrent_constraint),
            bias_constraint=_constraints.serialize(self.bias_constraint),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
        )
        return config


def _states_list(states) -> list:
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _flat_states(states) -> list:
    """Nested lists of states (StackedRNNCells: one list per cell) as one flat list, in order."""
    return flatten(states) if isinstance(states, (list, tuple)) else [states]


def _flat_sizes(state_size) -> list[int]:
    """A cell's state_size (an int, a list of ints, or nested lists for stacked cells), flat."""
    if isinstance(state_size, (list, tuple)):
        return [v for s in state_size for v in _flat_sizes(s)]
    if isinstance(state_size, bool) or not isinstance(state_size, (int, np.integer)):
        raise TypeError(f"a state_size must be an integer or a list of integers, got {state_size!r}")
    return [int(state_size)]


def _cell_output_size(cell) -> int:
    out = getattr(cell, "output_size", None)
    return int(out) if out is not None else _flat_sizes(cell.state_size)[0]


@_document
class SimpleRNNCell(_Cell):
    """The cell of SimpleRNN: ``h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)``.

    One step: inputs (batch, features), states ``[h]`` (batch, units); returns ``(h, [h])``.

    Args:
        {args}

    Example::

        layer = fastnn.layers.RNN(fastnn.layers.SimpleRNNCell(4))
        layer(fastnn.randn(2, 5, 3)).shape    # (2, 4)
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)

    def call(self, sequence, states, training=False):
        h = _states_list(states)[0]
        x, hd = self._drop(sequence, h, training)
        out = F.matmul(x, self.kernel)
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(out + F.matmul(hd, self.recurrent_kernel))
        return out, [out]


@_document
class LSTMCell(_Cell):
    """The cell of LSTM (Keras's gates i, f, c, o):
    ``c = f * c_prev + i * activation(g_c)``, ``h = o * activation(c)`` with
    ``i, f, o = recurrent_activation(g_i, g_f, g_o)`` and ``g = x @ kernel + h_prev @ recurrent_kernel + bias``.

    One step: inputs (batch, features), states ``[h, c]`` (batch, units) each; returns ``(h, [h, c])``.

    Args:
        {args}

    Example::

        cell = fastnn.layers.LSTMCell(8)
        out, (h, c) = cell(fastnn.randn(2, 3), [fastnn.zeros(2, 8), fastnn.zeros(2, 8)])
    """

    _gates = 4

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def bias_initializer(shape, dtype=None):
            parts = [np.asarray(init((u,), dtype="float32")), np.ones((u,), np.float32),
                     np.asarray(init((2 * u,), dtype="float32"))]
            return np.concatenate([p.numpy() if isinstance(p, Tensor) else p for p in parts]).astype(np.float32)

        return bias_initializer

    def call(self, inputs, states, training=False):
        h, c = _states_list(states)[:2]
        x, hd = self._drop(inputs, h, training)
        z = F.matmul(x, self.kernel) + F.matmul(hd, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        u = self.units
        zi, zf, zc, zo = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(recurrent_activation=_activations.serialize(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias)
        return config


@_document
class GRUCell(_Cell):
    """The cell of GRU (Keras's gates z, r, h): ``h = z * h_prev + (1 - z) * hh`` with
    ``hh = activation(x W_h + r * (h_prev U_h + b_rec_h))`` for ``reset_after=True`` (the default;
    torch's form, with an input and a recurrent bias: bias shape (2, 3 * units)) or
    ``hh = activation(x W_h + (r * h_prev) U_h)`` for ``reset_after=False`` (bias (3 * units,)).

    One step: inputs (batch, features), states ``[h]`` (batch, units); returns ``(h, [h])``.

    Args:
        {args}

    Example::

        cell = fastnn.layers.GRUCell(8)
        out, (h,) = cell(fastnn.randn(2, 3), [fastnn.zeros(2, 8)])
    """

    _gates = 3

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        h = _states_list(states)[0]
        x, hd = self._drop(inputs, h, training)
        u = self.units
        mx = F.matmul(x, self.kernel)
        b_in = b_rec = None
        if self.bias is not None:
            b_in, b_rec = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
            mx = mx + b_in
        ra = self.recurrent_activation
        if self.reset_after:
            mi = F.matmul(hd, self.recurrent_kernel)
            if b_rec is not None:
                mi = mi + b_rec
            z = ra(mx[:, :u] + mi[:, :u])
            r = ra(mx[:, u:2 * u] + mi[:, u:2 * u])
            hh = self.activation(mx[:, 2 * u:] + r * mi[:, 2 * u:])
        else:
            mi = F.matmul(hd, self.recurrent_kernel[:, :2 * u])
            z = ra(mx[:, :u] + mi[:, :u])
            r = ra(mx[:, u:2 * u] + mi[:, u:2 * u])
            hh = self.activation(mx[:, 2 * u:] + F.matmul(r * hd, self.recurrent_kernel[:, 2 * u:]))
        h = z * h + (1.0 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(recurrent_activation=_activations.serialize(self.recurrent_activation),
                      reset_after=self.reset_after)
        return config


class StackedRNNCells(Layer):
    """A stack of RNN cells that behaves as one cell: each step runs the cells in order, the
    output of one being the input of the next (Keras 3's StackedRNNCells). ``RNN([c1, c2])``
    wraps the list in one.

    ``state_size`` is the list of the cells' state sizes (``[[u1, u1], [u2, u2]]`` for two
    LSTMCells), ``output_size`` the last cell's. An RNN layer over the stack keeps its states
    flat, in cell order (``h1, c1, h2, c2``): that is the order of ``return_state`` outputs,
    ``initial_state`` (a nested list per cell is accepted too) and stateful ``states``.

    An RNN over a stack of built-in cells (SimpleRNNCell, LSTMCell, GRUCell with fused
    activations) runs one fused C++ pass per cell over the whole sequence, as stacked layers
    with ``return_sequences=True`` would; the results are those of the step-by-step stack,
    masks and go_backwards included.

    Args:
        cells: a list of cell layers (each with ``call(inputs, states)`` and a ``state_size``).

    Example::

        cells = [fastnn.layers.LSTMCell(8), fastnn.layers.LSTMCell(4)]
        layer = fastnn.layers.RNN(fastnn.layers.StackedRNNCells(cells), return_state=True)
        out, h1, c1, h2, c2 = layer(fastnn.randn(2, 5, 3))
        out.shape, h1.shape, h2.shape           # (2, 4) (2, 8) (2, 4)
    """

    def __init__(self, cells, **kwargs):
        if isinstance(cells, Layer) or not isinstance(cells, (list, tuple)):
            raise TypeError(f"StackedRNNCells: cells must be a list of RNN cells, got cells={cells!r}")
        if not cells:
            raise ValueError("StackedRNNCells: cells must contain at least one cell, got cells=[]")
        for c in cells:
            if not isinstance(c, Layer) or not callable(getattr(c, "call", None)) or not hasattr(c, "state_size"):
                raise TypeError(
                    "StackedRNNCells: every cell must be a Layer with call(inputs, states) and a state_size, "
                    f"got {c!r}"
                )
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return _cell_output_size(self.cells[-1])

    def _counts(self) -> list[int]:
        return [len(_flat_sizes(c.state_size)) for c in self.cells]

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell._maybe_build(shape)
            shape = (shape[0], _cell_output_size(cell))
        self.built = True

    def get_initial_state(self, batch_size: int) -> list:
        """One list of zero states per cell (a cell's own get_initial_state where it has one)."""
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                out.append(_states_list(fn(batch_size)))
            else:
                out.append([Tensor(np.zeros((batch_size, s), np.float32)) for s in _flat_sizes(cell.state_size)])
        return out

    def call(self, inputs, states, training=False):
        """One step of every cell in order. `states`: the cells' states, flat (h1, c1, h2, ...) or
        one list per cell; returns ``(output, [states of cell 1, states of cell 2, ...])``."""
        flat = _flat_states(states)
        counts = self._counts()
        if len(flat) != sum(counts):
            raise ValueError(
                f"StackedRNNCells '{self.name}' expects {sum(counts)} states ({counts} for its cells), "
                f"got {len(flat)}"
            )
        new_states, k = [], 0
        for cell, n in zip(self.cells, counts):
            kw = {"training": training} if cell._call_accepts_training else {}
            inputs, new = cell.call(inputs, flat[k:k + n], **kw)
            new_states.append(_flat_states(new))
            k += n
        return inputs, new_states

    # dropout masks are cached per cell for one sequence; the RNN layer resets them after a call
    def reset_dropout_mask(self) -> None:
        for c in self.cells:
            if hasattr(c, "reset_dropout_mask"):
                c.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self) -> None:
        for c in self.cells:
            if hasattr(c, "reset_recurrent_dropout_mask"):
                c.reset_recurrent_dropout_mask()

    def get_config(self) -> dict:
        from . import serialize

        config = super().get_config()
        config["cells"] = [serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> StackedRNNCells:
        from . import deserialize

        config = dict(config)
        cells = [deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


# ---------------------------------------------------------------------------- fused op
class _FusedRNN(Function):
    """One recurrent layer over the whole sequence in C++ (_C.rnn_forward / _C.rnn_backward).
    Outputs (y, h_T) or (y, h_T, c_T) for LSTM."""

    @staticmethod
    def forward(ctx, x, kernel, rkernel, bias, h0, c0, mask, opts):
        y, hT, cT, ws = _C.rnn_forward(*opts, x, kernel, rkernel, bias, h0, c0, mask)
        ctx.save_for_backward(x, kernel, rkernel, mask, ws)
        ctx.opts = opts
        ctx.flags = (bias is not None, h0 is not None, c0 is not None)
        return (y, hT, cT) if opts[0] == 1 else (y, hT)

    @staticmethod
    def backward(ctx, grads):
        x, kernel, rkernel, mask, ws = ctx.saved
        has_bias, has_h0, has_c0 = ctx.flags
        lstm = ctx.opts[0] == 1
        dx, dW, dU, db, dh0, dc0 = _C.rnn_backward(
            *ctx.opts, x, kernel, rkernel, has_bias, mask, ws, grads[0], grads[1], grads[2] if lstm else None,
            bool(ctx.needs_input_grad[0]),
        )
        return dx, dW, dU, db, dh0 if has_h0 else None, dc0 if has_c0 else None, None, None


# ---------------------------------------------------------------------------- RNN
class RNN(Layer):
    """The generic recurrent layer: runs `cell` over the time axis.

    Args:
        cell: a cell layer with ``call(inputs, states, training)`` returning ``(output, new_states)``,
            a ``state_size`` (an int or a list of ints) and an ``output_size``; or a list of cells,
            run as one StackedRNNCells (states flat in cell order: ``h1, c1, h2, c2, ...``).
        return_sequences: return the whole output sequence (batch, time, units) instead of the last
            output.
        return_state: also return the final states (as ``output, *states``).
        go_backwards: process the sequence backwards (the output sequence is in that order).
        stateful: keep the final states of a batch as the initial states of the next (the batch
            size must be fixed); ``reset_states()`` sets them back to zeros.
        unroll: accepted for compatibility (the loop is never unrolled).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        **kwargs: the generic Layer arguments: name, dtype, trainable, activity_regularizer,
            input_shape, input_dim, batch_input_shape, batch_size.

    The flags are booleans (anything else is a TypeError naming the argument).

    Call arguments: ``inputs`` (batch, time, features), ``initial_state`` (a list of tensors),
    ``mask`` (batch, time) booleans (by default the mask attached by Masking or Embedding),
    ``training``.

    Example::

        layer = fastnn.layers.RNN(fastnn.layers.LSTMCell(16), return_sequences=True)
        layer(fastnn.randn(4, 10, 8)).shape     # (4, 10, 16)
    """

    supports_masking = True

    def __init__(
        self,
        cell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise TypeError(f"RNN: cell must be a Layer with call(inputs, states) and a state_size, got cell={cell!r}")
        flags = _checked(type(self).__name__, dict(
            return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, zero_output_for_mask=zero_output_for_mask,
        ))
        super().__init__(**kwargs)
        self.cell = cell
        for key, value in flags.items():
            setattr(self, key, value)
        self.states = None

    # ------------------------------------------------------------------ shapes
    def _state_sizes(self) -> list[int]:
        return _flat_sizes(self.cell.state_size)

    @staticmethod
    def _seq_shape(input_shape):
        return input_shape[0] if isinstance(input_shape, list) else input_shape

    def _check_input_shape(self, input_shape) -> None:
        shape = self._seq_shape(input_shape)
        if not isinstance(shape, tuple) or len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of shape (batch, timesteps, features), "
                f"got input shape {shape}"
            )

    def build(self, input_shape) -> None:
        shape = self._seq_shape(input_shape)
        if not self.cell.built:
            self.cell._maybe_build((shape[0], shape[-1]))
            for w in self.cell._own_weights:
                w.path = f"{self.name}/{self.cell.name}/{w.name}"
            for c in self.cell.cells if isinstance(self.cell, StackedRNNCells) else ():
                for w in c._own_weights:
                    w.path = f"{self.name}/{self.cell.name}/{c.name}/{w.name}"
        if self.stateful:
            batch = shape[0] if shape[0] is not None else (self._batch_input_shape or (None,))[0]
            if batch is None:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': a stateful RNN needs a fixed batch size; pass "
                    "batch_size to Input (or batch_input_shape to the layer)"
                )
            self._expected_batch = int(batch)
            self.reset_states()
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = self._seq_shape(input_shape)
        self._check_input_shape(shape)
        u = _cell_output_size(self.cell)
        out = (shape[0], shape[1], u) if self.return_sequences else (shape[0], u)
        if self.return_state:
            return (out,) + tuple((shape[0], s) for s in self._state_sizes())
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self._state_sizes())
        return out

    # ------------------------------------------------------------------ states
    def reset_states(self, states=None) -> None:
        """Stateful layers: set the states to zeros (or to `states`)."""
        if not self.stateful:
            raise AttributeError(f"layer '{self.name}' is not stateful (pass stateful=True)")
        b = getattr(self, "_expected_batch", None)
        if b is None:
            raise ValueError(f"layer '{self.name}' is not built yet: its batch size is unknown")
        if states is None:
            self.states = [Tensor(np.zeros((b, s), np.float32)) for s in self._state_sizes()]
            return
        states = _flat_states(states)
        if len(states) != len(self._state_sizes()):
            raise ValueError(f"layer '{self.name}' has {len(self._state_sizes())} states, got {len(states)}")
        out = []
        for s, size in zip(states, self._state_sizes()):
            a = np.asarray(s.numpy() if isinstance(s, Tensor) else s, np.float32)
            if a.shape != (b, size):
                raise ValueError(f"layer '{self.name}': a state must have shape {(b, size)}, got {a.shape}")
            out.append(Tensor(np.array(a)))
        self.states = out

    reset_state = reset_states

    # ------------------------------------------------------------------ call
    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        if initial_state is not None:
            # states travel with the inputs, so that symbolic initial states join the graph
            inputs = [inputs] + _flat_states(initial_state)
        if kwargs.get("mask", 0) is None:
            kwargs.pop("mask")
        return super().__call__(inputs, *args, **kwargs)

    def _cells(self) -> list:
        return list(self.cell.cells) if isinstance(self.cell, StackedRNNCells) else [self.cell]

    @staticmethod
    def _fused_codes(cell, training) -> tuple | None:
        """(cell code, activation code, recurrent activation code) of the fused kernels, or None
        where the cell needs the generic loop."""
        if type(cell) not in (SimpleRNNCell, LSTMCell, GRUCell):
            return None
        acts = cell._fused_activations()
        if acts is None or (training and cell.recurrent_dropout > 0):
            return None
        code = _CELL_CODES.get(type(cell).__name__, 2 if getattr(cell, "reset_after", True) else 3)
        return (code, acts[0], acts[1])

    def _fused_opts(self, training) -> list | None:
        """The fused kernels' options, one tuple per cell (a stack runs cell after cell over the
        whole sequence), or None for the generic loop."""
        cells = self._cells()
        codes = [self._fused_codes(c, training) for c in cells]
        if any(c is None for c in codes):
            return None
        last = len(cells) - 1
        # Cells after the first read the previous cell's output sequence, which is already in
        # processing order; a masked step leaves every cell's state untouched, so the stack's
        # step-by-step semantics hold cell by cell.
        return [code + (self.go_backwards if i == 0 else False, self.zero_output_for_mask,
                        self.return_sequences if i == last else True) for i, code in enumerate(codes)]

    def _mask_array(self, mask, seq: Tensor):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        b, t = seq.shape[0], seq.shape[1]
        if m.shape != (b, t):
            raise ValueError(f"layer '{self.name}': the mask must have shape (batch, timesteps) = {(b, t)}, "
                             f"got {m.shape}")
        return np.ascontiguousarray(m != 0, dtype=np.float32)

    @staticmethod
    def _on_device(m: np.ndarray | None, seq: Tensor):
        return m if m is None or seq.device == "cpu" else _C.to_device(m)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):
            sequences, initial_state = sequences[0], list(sequences[1:])
        if not isinstance(sequences, Tensor) or sequences.ndim != 3:
            shape = getattr(sequences, "shape", None)
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of shape (batch, timesteps, "
                             f"features), got shape {shape}")
        b, t, f = sequences.shape
        if self.stateful and b != self._expected_batch:
            raise ValueError(
                f"If an RNN is stateful, the batch size of the input sequences must be the same as the batch size "
                f"of the states. Expected batch size: {self._expected_batch}, received batch size: {b}"
            )
        if t == 0:
            raise ValueError(f"layer '{self.name}': the input sequence has no time steps (shape {sequences.shape})")
        sizes = self._state_sizes()
        if initial_state is None and self.stateful:
            initial_state = self.states
        if initial_state is not None:
            initial_state = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, np.float32)) for s in
                             _flat_states(initial_state)]
            if len(initial_state) != len(sizes):
                raise ValueError(f"layer '{self.name}' expects {len(sizes)} initial state(s), got "
                                 f"{len(initial_state)}")
            for s, size in zip(initial_state, sizes):
                if tuple(s.shape) != (b, size):
                    raise ValueError(f"layer '{self.name}': an initial state must have shape {(b, size)}, "
                                     f"got {tuple(s.shape)}")
        mask_arr = self._mask_array(mask, sequences)
        opts = self._fused_opts(training)
        try:
            if opts is not None:
                output, states = self._fused_call(sequences, initial_state, mask_arr, training, opts)
            else:
                output, states = self._loop_call(sequences, initial_state, self._on_device(mask_arr, sequences),
                                                 training)
        finally:
            if hasattr(self.cell, "reset_dropout_mask"):
                self.cell.reset_dropout_mask()
                self.cell.reset_recurrent_dropout_mask()
        if self.stateful:
            self.states = [Tensor(_raw.copy(s._data)) for s in states]
        if self.return_state:
            return (output, *states)
        return output

    def _fused_call(self, x, initial_state, mask, training, opts):
        cells = self._cells()
        if x.shape[-1] != cells[0].kernel.shape[0]:
            raise ValueError(f"Input of layer '{self.name}' is incompatible: expected {cells[0].kernel.shape[0]} "
                             f"features, got inputs of shape {x.shape}")
        dev_mask = self._on_device(mask, x)
        if mask is not None and self.go_backwards and len(cells) > 1:
            # the cells after the first see the sequence in processing order
            later_mask = self._on_device(np.ascontiguousarray(mask[:, ::-1]), x)
        else:
            later_mask = dev_mask
        states, k = [], 0
        for i, (cell, o) in enumerate(zip(cells, opts)):
            if training and cell.dropout > 0:
                x = x * _dropout_mask((x.shape[0], 1, x.shape[2]), cell.dropout, cell._gen, x)
            n = 2 if o[0] == 1 else 1
            h0 = initial_state[k] if initial_state else None
            c0 = initial_state[k + 1] if initial_state and n == 2 else None
            k += n
            outs = _FusedRNN.apply(x, cell.kernel, cell.recurrent_kernel, cell.bias, h0, c0,
                                   dev_mask if i == 0 else later_mask, o)
            x = outs[0]
            states.extend(outs[1:])
        return x, states

    def _loop_call(self, x, initial_state, mask, training):
        cell = self.cell
        b, t = x.shape[0], x.shape[1]
        states = initial_state if initial_state is not None else [
            Tensor(np.zeros((b, s), np.float32)) for s in self._state_sizes()
        ]
        kw = {"training": training} if cell._call_accepts_training else {}
        mask_t = Tensor._wrap(mask) if mask is not None else None
        outs, prev = [], None
        for s in range(t):
            i = t - 1 - s if self.go_backwards else s
            out, new = cell.call(x[:, i], states, **kw)
            new = _flat_states(new)
            if mask_t is not None:
                m = mask_t[:, i:i + 1]
                fallback = prev if (prev is not None and not self.zero_output_for_mask) else out * 0.0
                out = F.where(m, out, fallback)
                new = [F.where(m, n, o) for n, o in zip(new, states)]
            states, prev = new, out
            outs.append(out)
        output = F.stack(outs, 1) if self.return_sequences else outs[-1]
        return output, states

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        from . import serialize

        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        config["cell"] = serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> RNN:
        from . import deserialize

        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)


class _BuiltinRNN(RNN):
    """SimpleRNN / LSTM / GRU: an RNN over the matching cell, configured with flat arguments."""

    _cell_class: type = SimpleRNNCell
    _layer_args = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")

    def __init__(self, args: dict, **kwargs):
        """`args`: the layer's own arguments (its __init__'s, by name); `kwargs`: RNN's and Layer's."""
        owner = type(self).__name__
        args = dict(args)
        layer_args = {k: args.pop(k) for k in self._layer_args}
        layer_args.update(_checked(owner, {"activity_regularizer": args.pop("activity_regularizer")}))
        use_cudnn = args.pop("use_cudnn", "auto")
        if not (isinstance(use_cudnn, (bool, np.bool_)) or use_cudnn == "auto"):
            raise ValueError(f"{owner}: use_cudnn must be 'auto', True or False, got use_cudnn={use_cudnn!r}")
        kwargs.pop("implementation", None)  # Keras 2's choice of kernel; fastnn has one
        # checked here so that errors name this layer, not its cell
        cell = self._cell_class(**_checked(owner, args), dtype=kwargs.get("dtype"),
                                name=f"{owner.lower().replace('simplernn', 'simple_rnn')}_cell")
        super().__init__(cell, **layer_args, **kwargs)
        self.use_cudnn = use_cudnn if isinstance(use_cudnn, str) else bool(use_cudnn)

    def __getattr__(self, name: str) -> Any:
        # Keras exposes the cell's arguments on the layer (layer.units, layer.kernel, ...)
        if name.startswith("_") or name in ("cell",):
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and hasattr(cell, name):
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self) -> dict:
        config = Layer.get_config(self)
        cell_config = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_config.pop(k, None)
        config.update(cell_config)
        config.update(
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> RNN:
        return cls(**config)


@_document
class SimpleRNN(_BuiltinRNN):
    """Fully connected recurrent layer: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Inputs (batch, timesteps, features); output (batch, units), or (batch, timesteps, units) with
    ``return_sequences``; one state h (batch, units). Call arguments: ``initial_state``, ``mask``,
    ``training`` (as RNN).

    Args:
        {args}

    Example::

        layer = fastnn.layers.SimpleRNN(5, activation="relu")
        layer(fastnn.randn(2, 7, 3)).shape      # (2, 5)
    """

    _cell_class = SimpleRNNCell

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)


@_document
class LSTM(_BuiltinRNN):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997) with Keras's weights and gates
    (i, f, c, o).

    Inputs (batch, timesteps, features); output (batch, units), or (batch, timesteps, units) with
    ``return_sequences``; states [h, c], each (batch, units). Call arguments: ``initial_state``,
    ``mask``, ``training`` (as RNN).

    Args:
        {args}

    Example::

        out, h, c = fastnn.layers.LSTM(8, return_state=True)(fastnn.randn(2, 5, 3))
        out.shape, h.shape, c.shape             # (2, 8) each
    """

    _cell_class = LSTMCell

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)


@_document
class GRU(_BuiltinRNN):
    """Gated recurrent unit (Cho et al., 2014) with Keras's gates (z, r, h).

    Inputs (batch, timesteps, features); output (batch, units), or (batch, timesteps, units) with
    ``return_sequences``; one state h (batch, units). Call arguments: ``initial_state``, ``mask``,
    ``training`` (as RNN).

    Args:
        {args}

    Example::

        fastnn.layers.GRU(8, return_sequences=True)(fastnn.randn(2, 5, 3)).shape   # (2, 5, 8)
    """

    _cell_class = GRUCell

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        reset_after: bool = True,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(_own_args(locals()), **kwargs)


# ---------------------------------------------------------------------------- wrappers
class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two outputs.

    Args:
        layer: an RNN layer (SimpleRNN, LSTM, GRU or RNN); its copy processes the sequence
            backwards (go_backwards flipped).
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave' or None (a list of both outputs).
        weights: not supported (Keras's initial weights); use ``set_weights`` after building.
        backward_layer: a layer for the backward direction instead of the copy; it must agree
            with `layer` on return_sequences and return_state.
        **kwargs: the generic Layer arguments (name, trainable, input_shape, ...).

    With return_sequences the backward output is flipped back into time order before merging;
    masked steps output zeros in both directions. With return_state the forward states follow
    the output, then the backward states.

    Example::

        layer = fastnn.layers.Bidirectional(fastnn.layers.LSTM(4))
        layer(fastnn.randn(2, 5, 3)).shape       # (2, 8)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode: str | None = "concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(f"Bidirectional: layer must be an RNN layer (SimpleRNN, LSTM, GRU, RNN), got {layer!r}")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(
                f"Bidirectional: invalid merge_mode={merge_mode!r}. Merge mode should be one of "
                "{'sum', 'mul', 'ave', 'concat', None}"
            )
        if weights is not None:
            raise NotImplementedError("Bidirectional: the weights argument is not supported; use set_weights")
        super().__init__(**kwargs)
        from . import deserialize, serialize

        def clone(src, go_backwards, prefix):
            # The copy shares the source's constraint and regularizer objects: a config would
            # need custom classes and functions registered, and cannot describe a lambda at all.
            cell = getattr(src, "cell", None)
            owners = ((cell, _SHARED_CELL_ARGS), (src, ("activity_regularizer",)))
            held = [(obj, k, getattr(obj, k)) for obj, keys in owners for k in keys
                    if getattr(obj, k, None) is not None]
            for obj, k, _ in held:
                setattr(obj, k, None)
            try:
                conf = serialize(src)
            finally:
                for obj, k, v in held:
                    setattr(obj, k, v)
            conf["config"] = dict(conf["config"], go_backwards=go_backwards, name=f"{prefix}_{src.name}")
            conf["config"].pop("batch_input_shape", None)
            out = deserialize(conf)
            for obj, k, v in held:
                setattr(out.cell if obj is cell else out, k, v)
            return out

        self.forward_layer = clone(layer, layer.go_backwards, "forward")
        if backward_layer is None:
            self.backward_layer = clone(layer, not layer.go_backwards, "backward")
        else:
            if not isinstance(backward_layer, RNN):
                raise ValueError(f"Bidirectional: backward_layer must be an RNN layer, got {backward_layer!r}")
            if backward_layer.return_sequences != layer.return_sequences or \
                    backward_layer.return_state != layer.return_state:
                raise ValueError("Bidirectional: the forward and backward layers must agree on return_sequences "
                                 "and return_state")
            self.backward_layer = backward_layer
        for lyr in (self.forward_layer, self.backward_layer):
            lyr.zero_output_for_mask = lyr.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def build(self, input_shape) -> None:
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        self.forward_layer._maybe_build(shape)
        self.backward_layer._maybe_build(shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        fwd = self.forward_layer.compute_output_shape(shape)
        bwd = self.backward_layer.compute_output_shape(shape)
        fo, bo = (fwd[0], bwd[0]) if self.return_state else (fwd, bwd)
        if self.merge_mode == "concat":
            out = fo[:-1] + (fo[-1] + bo[-1],)
        elif self.merge_mode is None:
            out = [fo, bo]
        else:
            out = fo
        if self.return_state:
            states = tuple(fwd[1:]) + tuple(bwd[1:])
            return (tuple(out) + states) if self.merge_mode is None else (out,) + states
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        n_out = 2 if self.merge_mode is None else 1
        if self.return_state:
            n_states = len(self.forward_layer._state_sizes()) * 2
            return [out] * n_out + [None] * n_states
        return [out] * 2 if n_out == 2 else out

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        if initial_state is not None:
            inputs = [inputs] + _flat_states(initial_state)
        if kwargs.get("mask", 0) is None:
            kwargs.pop("mask")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(sequences, (list, tuple)):
            sequences, initial_state = sequences[0], list(sequences[1:])
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fs = bs = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fs, bs = initial_state[:half], initial_state[half:]
        y = self.forward_layer.call(sequences, initial_state=fs, mask=mask, training=training)
        y_rev = self.backward_layer.call(sequences, initial_state=bs, mask=mask, training=training)
        self.forward_layer._add_activity_losses(y)
        self.backward_layer._add_activity_losses(y_rev)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            out = F.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) * 0.5
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            return (tuple(out) + states) if self.merge_mode is None else (out,) + states
        return out

    def reset_states(self, states=None) -> None:
        self.forward_layer.reset_states(None if states is None else states[: len(states) // 2])
        self.backward_layer.reset_states(None if states is None else states[len(states) // 2:])

    def get_config(self) -> dict:
        from . import serialize

        config = super().get_config()
        src = serialize(self.forward_layer)
        src["config"] = dict(src["config"], name=self.forward_layer.name[len("forward_"):])
        config.update(layer=src, merge_mode=self.merge_mode, backward_layer=serialize(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Bidirectional:
        from . import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects)
        back = config.pop("backward_layer", None)
        back = deserialize(back, custom_objects) if back is not None else None
        return cls(layer, backward_layer=back, **config)


class TimeDistributed(Layer):
    """Applies `layer` to every time step: (batch, time, ...) -> (batch, time, ...out).

    The time steps are folded into the batch for one call of the wrapped layer, so a Dense
    runs as one GEMM over all the steps. Masks pass through.

    Args:
        layer: the Layer instance applied to each step (its weights are shared by the steps).
        **kwargs: the generic Layer arguments (name, trainable, input_shape, ...).

    Example::

        layer = fastnn.layers.TimeDistributed(fastnn.layers.Dense(3))
        layer(fastnn.randn(2, 5, 4)).shape       # (2, 5, 3)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: layer must be a Layer instance, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def _check_input_shape(self, input_shape) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' expects inputs of at least 3 dimensions (batch, time, ...), "
                f"got shape {input_shape}"
            )

    def build(self, input_shape) -> None:
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def call(self, inputs, training=None):
        if inputs.ndim < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects at least 3-D inputs, got shape {inputs.shape}")
        b, t = inputs.shape[0], inputs.shape[1]
        flat = F.reshape(inputs, (b * t,) + tuple(inputs.shape[2:]))
        y = self.layer(flat, training=training)
        return F.reshape(y, (b, t) + tuple(y.shape[1:]))

    def get_config(self) -> dict:
        from . import serialize

        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> TimeDistributed:
        from . import deserialize

        config = dict(config)
        return cls(deserialize(config.pop("layer"), custom_objects), **config)


class Masking(Layer):
    """Masks time steps whose features all equal `mask_value`: the outputs are the inputs with
    those steps zeroed, and carry a (batch, time) mask that recurrent layers downstream skip.

    Args:
        mask_value: the number that marks padding (0.0 by default).
        **kwargs: the generic Layer arguments (name, trainable, input_shape, ...).

    Example::

        x = np.zeros((1, 3, 2), np.float32); x[0, 0] = 1.0
        y = fastnn.layers.Masking(0.0)(fastnn.tensor(x))
        y._keras_mask.numpy()                   # [[1., 0., 0.]]
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float, np.integer, np.floating)):
            raise TypeError(f"Masking: mask_value must be a number, got mask_value={mask_value!r}")
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.built = True

    def _keep(self, inputs: Tensor) -> np.ndarray:
        a = inputs.numpy()
        return np.any(a != self.mask_value, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return Tensor(self._keep(inputs).astype(np.float32))

    def call(self, inputs):
        keep = self._keep(inputs)[..., None].astype(np.float32)
        k = Tensor(keep) if inputs.device == "cpu" else Tensor(keep, device=inputs.device)
        return inputs * k

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config

