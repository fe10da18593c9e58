"""Sequence utilities: ``pad_sequences`` with Keras's semantics (keras.utils.pad_sequences).

Example::

    pad_sequences([[1, 2, 3], [4, 5], [6]])
    # array([[1, 2, 3],
    #        [0, 4, 5],
    #        [0, 0, 6]], dtype=int32)
    pad_sequences([[1, 2, 3], [4, 5]], maxlen=2, padding="post", truncating="post")
    # array([[1, 2],
    #        [4, 5]], dtype=int32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pads (and truncates) a list of sequences to one length: a NumPy array (len(sequences), maxlen).

    Sequences shorter than `maxlen` are filled with `value` before them (padding='pre', the
    default) or after them ('post'); longer ones lose their first entries (truncating='pre',
    the default) or their last ones ('post'). Entries may themselves be arrays (each sample of
    shape S gives an output of shape (n, maxlen) + S, S taken from the first non-empty sequence).

    Args:
        sequences: a list of lists (or 1-D arrays) of numbers; empty sequences become all `value`.
        maxlen: the output length; None: the length of the longest sequence.
        dtype: the output dtype ('int32' by default, as Keras; 'float32' keeps fractions;
            object for strings).
        padding: 'pre' or 'post', where the padding goes.
        truncating: 'pre' or 'post', which end of a long sequence is cut.
        value: the padding value (cast to `dtype`: 0.5 becomes 0 with the int32 default).

    Returns:
        An array of shape (len(sequences), maxlen) (plus the sample shape), dtype `dtype`.

    Example::

        pad_sequences([[1, 2, 3], [4, 5], [6]], maxlen=2)   # [[2, 3], [4, 5], [0, 6]]
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be a list of iterables, got {type(sequences).__name__}: {sequences!r}")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood: padding must be "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood: truncating must be "pre" or "post"')
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0
    ):
        raise ValueError(f"maxlen must be None or a non-negative integer, got maxlen={maxlen!r}")
    num_samples = len(sequences)
    lengths = []
    sample_shape: tuple = ()
    found = False
    for i, x in enumerate(sequences):
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables; found a non-iterable at position {i}: {x!r}")
        lengths.append(len(x))
        if not found and len(x):
            sample_shape = np.asarray(x).shape[1:]
            found = True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    maxlen = int(maxlen)
    is_str_dtype = dtype is not object and np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}; "
            "set `dtype=object` for variable length strings"
        )
    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return x
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} is different from "
                f"expected shape {sample_shape}"
            )
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc) :] = trunc
    return x
