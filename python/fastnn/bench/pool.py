"""The pooling / normalization suite: fastnn against torch on the CNN shapes of the issue.

- max pooling forward + backward, 2x2 windows: LeNet-5's first pooling (28x28x6, batch 64)
  and the course CNN's (6x6x32, batch 32);
- batch normalization (training mode) forward + backward on (32, 16, 16, 32).

fastnn runs channels_last (Keras's layout) through its autograd Functions; torch runs NCHW
(its native layout) through autograd. Times are per forward + backward, medians of
interleaved rounds (fastnn.bench.timing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio

CASES = {
    "max_pool 2x2, LeNet-5 28x28x6 b64": ("max", (64, 28, 28, 6)),
    "max_pool 2x2, course CNN 6x6x32 b32": ("max", (32, 6, 6, 32)),
    "batch_norm train, 16x16x32 b32": ("bn", (32, 16, 16, 32)),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    del p  # the common options only


def _fastnn_fn(kind, shape, rng):
    import fastnn
    import fastnn.functional as F

    x = fastnn.tensor(rng.standard_normal(shape, dtype="float32"), requires_grad=True)
    if kind == "max":
        out = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])
        g = fastnn.tensor(rng.standard_normal(out, dtype="float32"))

        def step():
            F.max_pool2d(x, 2).backward(g)
            x.grad = None
    else:
        c = shape[-1]
        gamma, beta = fastnn.ones(c, requires_grad=True), fastnn.zeros(c, requires_grad=True)
        mm, mv = fastnn.zeros(c), fastnn.ones(c)
        g = fastnn.tensor(rng.standard_normal(shape, dtype="float32"))

        def step():
            F.batch_norm(x, mm, mv, gamma, beta, training=True).backward(g)
            x.grad = gamma.grad = beta.grad = None
    return step


def _torch_fn(torch, kind, shape, rng):
    nchw = (shape[0], shape[3], shape[1], shape[2])
    x = torch.from_numpy(rng.standard_normal(nchw, dtype="float32")).requires_grad_(True)
    if kind == "max":
        g = torch.from_numpy(rng.standard_normal((nchw[0], nchw[1], nchw[2] // 2, nchw[3] // 2), dtype="float32"))

        def step():
            torch.nn.functional.max_pool2d(x, 2).backward(g)
            x.grad = None
    else:
        c = nchw[1]
        gamma, beta = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        g = torch.from_numpy(rng.standard_normal(nchw, dtype="float32"))

        def step():
            torch.nn.functional.batch_norm(x, rm, rv, gamma, beta, True, 0.01, 1e-3).backward(g)
            x.grad = gamma.grad = beta.grad = None
    return step


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    import numpy as np

    try:
        import torch
    except ImportError:
        torch = None
    threads: list[int] = args.threads
    ctl = ThreadControl.default(["fastnn"] + (["torch"] if torch is not None else []))
    rows: dict[str, Any] = {}
    try:
        for t in threads:
            for name, (kind, shape) in CASES.items():
                rng = np.random.default_rng(0)
                cands = [Candidate(f"fastnn|{name}|{t}", "fastnn", t, _fastnn_fn(kind, shape, rng))]
                if torch is not None:
                    cands.append(Candidate(f"torch|{name}|{t}", "torch", t, _torch_fn(torch, kind, shape, rng)))
                res = guarded(lambda c=cands: measure(c, ctl, target=ctx.target, rounds=ctx.rounds),
                              noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait, label=f"pool {name} {t}T",
                              log=ctx.log)
                row = rows.setdefault(name, {})
                f = res.result[f"fastnn|{name}|{t}"]
                d = {"fastnn_median_s": f.median, "foreign_load": res.foreign_load}
                if torch is not None:
                    tt = res.result[f"torch|{name}|{t}"]
                    d.update(torch_median_s=tt.median, fastnn_speedup=same_round_ratio(f, tt))
                row[str(t)] = d
    finally:
        ctl.restore()
    result = {"suite": "pool", "threads": threads, "rounds": ctx.rounds, "env": environment.machine_info(),
              "rows": rows, "torch": torch is not None}
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    h = "## " if fmt == "md" else ""
    lines = [f"{h}Pooling and batch norm, forward + backward: median time per call (us), "
             f"{result['rounds']} interleaved rounds", "",
             "- fastnn channels_last (Keras) vs torch NCHW; speedup = t_torch / t_fastnn in the same rounds "
             "(> 1: fastnn is faster)", ""]
    threads = result["threads"]
    header = ["item"]
    for t in threads:
        header += [f"fastnn {t}T", f"torch {t}T", f"speedup {t}T"]
    body = []
    for name, per in result["rows"].items():
        cells = [name]
        for t in threads:
            d = per.get(str(t), {})
            cells.append(f"{d['fastnn_median_s'] * 1e6:.1f}" if "fastnn_median_s" in d else "n/a")
            cells.append(f"{d['torch_median_s'] * 1e6:.1f}" if "torch_median_s" in d else "n/a")
            cells.append(table.ratio(d.get("fastnn_speedup")))
        body.append(cells)
    lines.append(table.render(header, body, fmt))
    return "\n".join(lines)
