"""The MLP suite: the model-API issue's two speed targets, fastnn against torch in one process.

- training step of a 784-256-128-10 relu MLP with softmax cross-entropy (from logits) and Adam,
  batch 128: fastnn ``model.train_on_batch`` against torch's zero_grad + forward + loss +
  backward + ``Adam.step`` (its default, and ``fused=True``);
- batch-1 inference through the same MLP: fastnn ``predict_on_batch`` and ``model(x)`` against
  torch eager under ``inference_mode``.

Times are per step / per call, medians of interleaved rounds (fastnn.bench.timing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio

SIZES = (784, 256, 128, 10)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", type=int, default=128, help="training batch size (default 128)")


def _fastnn_model(seed: int = 0):
    import fastnn
    from fastnn import layers, models

    fastnn.random.seed(seed)
    m = models.Sequential([layers.Input((SIZES[0],)), layers.Dense(SIZES[1], activation="relu"),
                           layers.Dense(SIZES[2], activation="relu"), layers.Dense(SIZES[3])])
    m.compile(optimizer="adam", loss=fastnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def _torch_model(torch, fastnn_model):
    """The same MLP in torch, with fastnn's initial weights copied in (Linear weight = kernel^T)."""
    net = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
                              torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
                              torch.nn.Linear(SIZES[2], SIZES[3]))
    ws = fastnn_model.get_weights()
    with torch.no_grad():
        for i, lin in enumerate([net[0], net[2], net[4]]):
            lin.weight.copy_(torch.from_numpy(ws[2 * i].T.copy()))
            lin.bias.copy_(torch.from_numpy(ws[2 * i + 1]))
    return net


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    import numpy as np

    try:
        import torch
    except ImportError:
        torch = None
    threads: list[int] = args.threads
    libs = ["fastnn"] + (["torch"] if torch is not None else [])
    ctl = ThreadControl.default(libs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[3], args.batch)
    x1 = x[:1].copy()

    fm = _fastnn_model()
    import fastnn

    x1t = fastnn.tensor(x1)
    fns = {"fastnn train": lambda: fm.train_on_batch(x, y),
           "fastnn predict_on_batch": lambda: fm.predict_on_batch(x1),
           "fastnn model(x)": lambda: fm(x1t, training=False)}
    lib_of = {k: "fastnn" for k in fns}
    if torch is not None:
        nets = {}
        for name, kw in (("torch train", {}), ("torch train fused", {"fused": True})):
            net = _torch_model(torch, fm)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7, **kw)
            nets[name] = (net, opt)
        tx, ty, tx1 = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(x1)
        lossf = torch.nn.CrossEntropyLoss()

        def step(net, opt):
            opt.zero_grad()
            loss = lossf(net(tx), ty)
            loss.backward()
            opt.step()

        def infer(net):
            with torch.inference_mode():
                return net(tx1)

        for name, (net, opt) in nets.items():
            fns[name] = lambda net=net, opt=opt: step(net, opt)
            lib_of[name] = "torch"
        fns["torch eager b1"] = lambda net=nets["torch train"][0]: infer(net)
        lib_of["torch eager b1"] = "torch"

    groups = {"train": [k for k in fns if "train" in k], "infer": [k for k in fns if "train" not in k]}
    rows: dict[str, Any] = {}
    try:
        for t in threads:
            for g, names in groups.items():
                cands = [Candidate(f"{n}|{t}", lib_of[n], t, fns[n]) for n in names]
                res = guarded(lambda c=cands: measure(c, ctl, target=ctx.target, rounds=ctx.rounds),
                              noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait, label=f"mlp {g} {t}T",
                              log=ctx.log)
                for n in names:
                    s = res.result[f"{n}|{t}"]
                    rows.setdefault(n, {})[str(t)] = dict(s.to_dict(), foreign_load=res.foreign_load)
                base = "fastnn train" if g == "train" else "fastnn predict_on_batch"
                for n in names:
                    if lib_of[n] == "torch":
                        rows[n][str(t)]["fastnn_speedup"] = same_round_ratio(res.result[f"{base}|{t}"],
                                                                             res.result[f"{n}|{t}"])
    finally:
        ctl.restore()
    result = {"suite": "mlp", "threads": threads, "batch": args.batch, "rounds": ctx.rounds,
              "env": environment.machine_info(), "rows": rows}
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    h = "## " if fmt == "md" else ""
    L = [f"{h}MLP 784-256-128-10 (relu, softmax cross-entropy, Adam): median time per call, "
         f"{result['rounds']} interleaved rounds", ""]
    L.append(f"- training step: batch {result['batch']}; batch-1 inference: one row. speedup = t_torch / t_fastnn "
             "in the same rounds (> 1: fastnn is faster), against fastnn train_on_batch (training rows) or "
             "predict_on_batch (inference rows)")
    L.append("")
    threads = result["threads"]
    header = ["item"] + [f"{t}T" for t in threads] + [f"{t}T speedup" for t in threads]
    body = []
    for name, d in result["rows"].items():
        unit_ms = "train" in name
        cells = [name]
        for t in threads:
            s = d[str(t)]["median_s"]
            cells.append(f"{s * 1e3:.3f} ms" if unit_ms else f"{s * 1e6:.1f} us")
        for t in threads:
            cells.append(table.ratio(d[str(t)].get("fastnn_speedup")))
        body.append(cells)
    L.append(table.render(header, body, fmt))
    return "\n".join(L)
