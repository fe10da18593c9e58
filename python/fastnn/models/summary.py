"""model.summary(): the Keras 3 table of layers, output shapes, parameter counts (and, for
functional models, the layers each one is connected to), then the totals with their sizes.

Example output::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                      ┃ Output Shape                  ┃         Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
    │ dense (Dense)                     │ (None, 64)                    │           2,112 │
    └───────────────────────────────────┴───────────────────────────────┴─────────────────┘
     Total params: 2,112 (8.25 KB)
     Trainable params: 2,112 (8.25 KB)
     Non-trainable params: 0 (0.00 B)
"""

from __future__ import annotations

import math
from typing import Callable

__all__ = ["print_summary", "readable_memory_size", "summary_text"]


def readable_memory_size(nbytes: float) -> str:
    """Bytes in B, KB, MB, GB (powers of 1024) with two decimals, as Keras."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    i = 0
    while nbytes >= 1024 and i < len(units) - 1:
        nbytes /= 1024
        i += 1
    return f"{nbytes:.2f} {units[i]}"


def _shape_str(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_shape_str(s) for s in shape)
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_shape_str(v)}" for k, v in shape.items())
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _type_name(layer) -> str:
    from .model import Model

    return "Functional" if type(layer) is Model else type(layer).__name__


def _layer_nodes(model, layer) -> list:
    ids = getattr(model, "_node_ids", set())
    return [n for n in layer._inbound_nodes if n.id in ids]


def _output_shape(model, layer) -> str:
    from ..symbolic import KerasTensor

    nodes = _layer_nodes(model, layer)
    if not nodes:
        return "?"
    out = nodes[0].outputs

    def shp(o):
        if isinstance(o, KerasTensor):
            return o.shape
        if isinstance(o, (list, tuple)):
            return [shp(v) for v in o]
        if isinstance(o, dict):
            return {k: shp(v) for k, v in o.items()}
        return ()

    return _shape_str(shp(out))


def _connections(model, layer) -> list[str]:
    out = []
    for node in _layer_nodes(model, layer):
        for t in node.flat_inputs:
            lyr, ni, ti = t._history
            out.append(f"{lyr.name}[{ni}][{ti}]")
    return out or ["-"]


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    return [text[i : i + width] for i in range(0, len(text), width)]


def summary_text(model, line_length: int | None = None) -> str:
    """The summary table as a string."""
    from ..layers.core import InputLayer
    from .sequential import Sequential

    sequential_like = isinstance(model, Sequential) or not getattr(model, "_is_graph", False)
    if sequential_like:
        header = ["Layer (type)", "Output Shape", "Param #"]
        positions = [0.45, 0.80, 1.0]
        line_length = line_length or 88
        align = ["<", "<", ">"]
        layers = [lyr for lyr in model.layers if not isinstance(lyr, InputLayer)]
    else:
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        positions = [0.30, 0.56, 0.70, 1.0]
        line_length = line_length or 108
        align = ["<", "<", ">", "<"]
        layers = model.layers
    widths, cur = [], 0
    for p in positions:
        w = int(p * line_length) - cur
        widths.append(w - 3)  # one border and two spaces of padding per column
        cur += w
    rows = []
    for lyr in layers:
        name = f"{lyr.name} ({_type_name(lyr)})"
        shape = _output_shape(model, lyr) if getattr(model, "_is_graph", False) else "?"
        params = f"{lyr.count_params():,}" if lyr.built else "0 (unbuilt)"
        cells = [name, shape, params]
        if not sequential_like:
            conns = _connections(model, lyr)
            cells.append("\n".join(c + ("," if i < len(conns) - 1 else "") for i, c in enumerate(conns)))
        rows.append(cells)

    def line(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def text_rows(cells, border: str) -> list[str]:
        cols = []
        for c, w in zip(cells, widths):
            parts = []
            for piece in str(c).split("\n"):
                parts.extend(_wrap(piece, w))
            cols.append(parts)
        height = max(len(c) for c in cols)
        out = []
        for r in range(height):
            cells_r = [(c[r] if r < len(c) else "") for c in cols]
            out.append(border + border.join(f" {s:{a}{w}} " for s, a, w in zip(cells_r, align, widths)) + border)
        return out

    lines = [f'Model: "{model.name}"']
    lines.append(line("┏", "━", "┳", "┓"))
    lines.extend(text_rows(header, "┃"))
    lines.append(line("┡", "━", "╇", "┩"))
    for i, cells in enumerate(rows):
        lines.extend(text_rows(cells, "│"))
        if i < len(rows) - 1:
            lines.append(line("├", "─", "┼", "┤"))
    lines.append(line("└", "─", "┴", "┘"))
    if model.built:
        trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
        non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
        total = trainable + non_trainable
        lines.append(f" Total params: {total:,} ({readable_memory_size(total * 4)})")
        lines.append(f" Trainable params: {trainable:,} ({readable_memory_size(trainable * 4)})")
        lines.append(f" Non-trainable params: {non_trainable:,} ({readable_memory_size(non_trainable * 4)})")
    else:
        lines.append(" Total params: 0 (unbuilt)")
        lines.append(" Trainable params: 0 (unbuilt)")
        lines.append(" Non-trainable params: 0 (unbuilt)")
    return "\n".join(lines)


def print_summary(model, line_length: int | None = None, print_fn: Callable | None = None) -> None:
    text = summary_text(model, line_length)
    if print_fn is None:
        print(text)
    else:
        for ln in text.split("\n"):
            print_fn(ln)
