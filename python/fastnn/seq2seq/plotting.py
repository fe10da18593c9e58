"""plot_attention: a heat map of attention weights (target tokens down, source tokens across).

Example::

    from fastnn.seq2seq import plot_attention
    plot_attention(hyp.attention, list("oct 20, 1981"), list("1981-10-20") + ["<end>"], "attention.png")
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["plot_attention"]


def plot_attention(
    attention,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | os.PathLike | None = None,
    title: str | None = None,
):
    """Draw `attention` (len(target_tokens), len(source_tokens)) as a heat map with the tokens
    as tick labels, and save it to `path` (any format matplotlib writes, chosen by the suffix).

    Args:
        attention: the weights (len(target_tokens), len(source_tokens)), one row per generated
            token (Hypothesis.attention, with the columns of the padding cut off, e.g.
            ``hyp.attention[:, -len(source):]`` for a 'pre'-padded source).
        source_tokens / target_tokens: the labels of the columns and the rows.
        path: where to save the figure; None returns the figure without saving.
        title: an optional title.

    Returns:
        The matplotlib Figure (closed after saving when a path is given).

    Raises:
        ImportError: matplotlib is not installed (it is an optional dependency).
    """
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_attention needs matplotlib, an optional dependency of fastnn: pip install matplotlib"
        ) from e
    a = np.asarray(attention, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"attention must be 2-D (target, source), got shape {a.shape}")
    ns, nt = len(source_tokens), len(target_tokens)
    if a.shape != (nt, ns):
        raise ValueError(
            f"attention of shape {a.shape} does not match the {nt} target and {ns} source tokens "
            f"(expected shape {(nt, ns)})"
        )
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * ns + 1.5), max(3.0, 0.35 * nt + 1.0)))
    im = ax.imshow(a, cmap="viridis", aspect="auto", vmin=0.0, vmax=max(1e-6, float(a.max())))
    ax.set_xticks(range(ns))
    ax.set_xticklabels([repr(t)[1:-1] if t != " " else "␣" for t in source_tokens], rotation=90)
    ax.set_yticks(range(nt))
    ax.set_yticklabels(list(target_tokens))
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path))
        plt.close(fig)
    return fig
