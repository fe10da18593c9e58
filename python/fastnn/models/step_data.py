"""What fit/evaluate/predict hand to an overridden train_step / test_step / predict_step.

Keras passes each step the batch in the structure the user gave (``(x, y)``,
``(x, y, sample_weight)`` or ``x`` alone, x and y possibly lists or dicts of arrays), as backend
tensors. ``StepData`` keeps the arrays flat for slicing and shuffling and rebuilds that
structure, as fastnn Tensors, one batch at a time. The default (not overridden) steps never go
through here: they keep the trainer's flat fast path.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..utils import pack_x_y_sample_weight

__all__ = ["StepData", "step_logs", "to_numpy_struct", "concat_structs", "is_structure"]


class _Leaf:
    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def is_structure(o) -> bool:
    """Whether `o` is a container of arrays (a dict, or a list / tuple holding arrays, Tensors or
    such containers) rather than one array written as nested lists of numbers."""
    if isinstance(o, dict):
        return True
    if isinstance(o, (list, tuple)):
        return any(isinstance(e, (np.ndarray, Tensor, dict)) or is_structure(e) for e in o)
    return False


def _build(template, values: list):
    if isinstance(template, _Leaf):
        return values[template.i]
    if isinstance(template, dict):
        return {k: _build(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_build(v, values) for v in template]
    if isinstance(template, tuple):
        return tuple(_build(v, values) for v in template)
    return template  # None


class StepData:
    """x, y and sample_weight of a dataset as flat arrays (all of one length) plus the
    structure to rebuild per batch.

    Args:
        x, y, sample_weight: as given to fit / evaluate / predict (y and sample_weight may be None).
        to_array: converts one leaf to a NumPy array (the trainer's checks and dtypes).
        int_x_to_float: cast integer leaves of x to float32 (what the default steps do for
            models whose inputs are float).
    """

    def __init__(self, x, y, sample_weight, to_array, int_x_to_float: bool = True):
        if x is None:
            raise ValueError("x is None: pass the input data")
        self.arrays: list = []
        self._to_array = to_array
        self.x_t = self._flatten(x, "x", int_x_to_float)
        self.n_x = len(self.arrays)
        self.y_t = None if y is None else self._flatten(y, "y", False)
        self.n_xy = len(self.arrays)
        self.sw_i = None
        if sample_weight is not None:
            self.sw_i = len(self.arrays)
            self.arrays.append(sample_weight)
        self._check_lengths()

    def _flatten(self, o, what: str, int_to_float: bool):
        if o is None:
            return None
        if isinstance(o, dict):
            return {k: self._flatten(v, f"{what}[{k!r}]", int_to_float) for k, v in o.items()}
        if isinstance(o, (list, tuple)) and is_structure(o):
            parts = [self._flatten(v, f"{what}[{i}]", int_to_float) for i, v in enumerate(o)]
            return parts if isinstance(o, list) else tuple(parts)
        a = self._to_array(o, what)
        if int_to_float and a.dtype != np.float32:
            a = a.astype(np.float32)
        self.arrays.append(a)
        return _Leaf(len(self.arrays) - 1)

    def _check_lengths(self) -> None:
        sizes = [len(a) for a in self.arrays]
        if len(set(sizes)) > 1:
            names = self._leaf_names()
            desc = ", ".join(f"{nm}: {s}" for nm, s in zip(names, sizes))
            raise ValueError(
                f"Data cardinality is ambiguous: {desc}. Make sure all arrays contain the same number of samples."
            )
        if not sizes:
            raise ValueError("x holds no arrays")

    def _leaf_names(self) -> list[str]:
        names = [""] * len(self.arrays)

        def rec(t, path):
            if isinstance(t, _Leaf):
                names[t.i] = path
            elif isinstance(t, dict):
                for k, v in t.items():
                    rec(v, f"{path}[{k!r}]")
            elif isinstance(t, (list, tuple)):
                for i, v in enumerate(t):
                    rec(v, f"{path}[{i}]")

        rec(self.x_t, "x")
        rec(self.y_t, "y")
        if self.sw_i is not None:
            names[self.sw_i] = "sample_weight"
        return [n + " size" for n in names]

    @property
    def y_arrays(self) -> list:
        return self.arrays[self.n_x:self.n_xy]

    def set_sample_weight(self, sw: np.ndarray) -> None:
        """Attach (or replace) the per-sample weights (after class_weight is folded in)."""
        if self.sw_i is None:
            self.sw_i = len(self.arrays)
            self.arrays.append(sw)
        else:
            self.arrays[self.sw_i] = sw
        self._check_lengths()

    @property
    def n(self) -> int:
        return len(self.arrays[0])

    @property
    def has_y(self) -> bool:
        return self.y_t is not None

    def take(self, idx: np.ndarray) -> list:
        # fresh arrays, not reused buffers: a custom step may keep references to its batch
        return [np.take(a, idx, axis=0) for a in self.arrays]

    def slice(self, lo: int, hi: int) -> list:
        return [a[lo:hi] for a in self.arrays]

    def pack(self, arrays: list, as_tensors: bool = True):
        """The step's ``data``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` of these batch arrays."""
        vals = [Tensor(a) for a in arrays] if as_tensors else list(arrays)
        x = _build(self.x_t, vals)
        y = None if self.y_t is None else _build(self.y_t, vals)
        sw = None if self.sw_i is None else vals[self.sw_i]
        return pack_x_y_sample_weight(x, y, sw)

    def split(self, at: int) -> tuple[StepData, StepData]:
        """The first `at` samples and the rest (validation_split)."""
        first, rest = object.__new__(StepData), object.__new__(StepData)
        for part, sl in ((first, slice(0, at)), (rest, slice(at, None))):
            part.__dict__.update(self.__dict__)
            part.arrays = [a[sl] for a in self.arrays]
        return first, rest

    def structures(self) -> tuple:
        """(x, y, sample_weight) as NumPy structures over the whole dataset."""
        x = _build(self.x_t, self.arrays)
        y = None if self.y_t is None else _build(self.y_t, self.arrays)
        return x, y, None if self.sw_i is None else self.arrays[self.sw_i]


def _pythonify(v):
    if isinstance(v, Tensor):
        v = v.numpy()
    if isinstance(v, (bool, int, float)):
        return float(v)
    if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind in "biuf":
        # one value per threshold (Precision(thresholds=[...])) stays an array, as in Keras
        return float(np.asarray(v).reshape(())) if np.size(v) == 1 else np.array(v)
    return v


def step_logs(logs, what: str) -> dict:
    """The logs a step returned, checked and made plain: nested dicts flattened (as Keras's
    pythonify_logs), Tensors and NumPy scalars as floats, arrays of several values kept."""
    if not isinstance(logs, dict):
        raise TypeError(
            f"{what} must return a dict of logs ({{'loss': value, ...}}), got {type(logs).__name__}: {logs!r:.80}"
        )
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(step_logs(v, what))
        else:
            out[k] = _pythonify(v)
    return out


def to_numpy_struct(o, what: str = "predict_step"):
    """`o` with each Tensor leaf as a NumPy array (lists, tuples and dicts kept)."""
    if isinstance(o, Tensor):
        return o.numpy()
    if isinstance(o, np.ndarray):
        return o
    if isinstance(o, dict):
        return {k: to_numpy_struct(v, what) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        parts = [to_numpy_struct(v, what) for v in o]
        return parts if isinstance(o, list) else tuple(parts)
    raise TypeError(f"{what} must return Tensors or arrays (or lists / dicts of them), got {type(o).__name__}")


def concat_structs(chunks: list):
    """Batches of outputs of one structure joined along the batch axis, leaf by leaf."""
    first = chunks[0]
    if isinstance(first, np.ndarray):
        if len(chunks) == 1:
            return np.array(first)
        return np.concatenate(chunks, axis=0)
    if isinstance(first, dict):
        return {k: concat_structs([c[k] for c in chunks]) for k in first}
    parts = [concat_structs([c[i] for c in chunks]) for i in range(len(first))]
    return parts if isinstance(first, list) else tuple(parts)
