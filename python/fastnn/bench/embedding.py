"""The embedding suite: one training step of an embedding-heavy model, fastnn against torch.

Model: Embedding(20000, 50) on a (32, 20) batch of indices, mean over time, Dense(2) logits,
softmax cross-entropy, Adam. fastnn ``train_on_batch`` with the row-sparse gradient
(``Embedding(sparse=True)``) and with the dense one, against torch's zero_grad + forward + loss +
backward + ``Adam.step`` (dense gradient; the default single-tensor loop, ``foreach=True`` and
``fused=True``). The optimizer step alone is timed too (fastnn ``apply_gradients`` on the
embedding's row-sparse and dense gradient, torch ``Adam.step`` on the dense one), since the
(20000, 50) Adam update is most of the step.

Times are per step, medians of interleaved rounds (fastnn.bench.timing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vocab", type=int, default=20000, help="embedding rows (default 20000)")
    p.add_argument("--dim", type=int, default=50, help="embedding size (default 50)")
    p.add_argument("--batch", type=int, default=32, help="sequences per batch (default 32)")
    p.add_argument("--length", type=int, default=20, help="indices per sequence (default 20)")


def _fastnn_model(args, sparse: bool, seed: int = 0):
    import fastnn
    from fastnn import layers, models

    fastnn.random.seed(seed)
    inp = layers.Input(shape=(args.length,), dtype="int64")
    h = layers.Embedding(args.vocab, args.dim, sparse=sparse)(inp)
    out = layers.Dense(2)(h.mean(axis=1))
    m = models.Model(inp, out)
    m.compile(optimizer="adam", loss=fastnn.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


class _TorchNet:
    """The same model in torch, with fastnn's initial weights (Linear weight = kernel^T)."""

    def __init__(self, torch, fastnn_model, **adam_kw):
        emb, kernel, bias = fastnn_model.get_weights()
        self.emb = torch.nn.Embedding(*emb.shape)
        self.lin = torch.nn.Linear(*kernel.shape)
        with torch.no_grad():
            self.emb.weight.copy_(torch.from_numpy(emb))
            self.lin.weight.copy_(torch.from_numpy(kernel.T.copy()))
            self.lin.bias.copy_(torch.from_numpy(bias))
        params = list(self.emb.parameters()) + list(self.lin.parameters())
        self.opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7, **adam_kw)
        self.lossf = torch.nn.CrossEntropyLoss()

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.lossf(self.lin(self.emb(x).mean(dim=1)), y)
        loss.backward()
        self.opt.step()


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    import numpy as np

    import fastnn

    try:
        import torch
    except ImportError:
        torch = None
    threads: list[int] = args.threads
    libs = ["fastnn"] + (["torch"] if torch is not None else [])
    ctl = ThreadControl.default(libs)
    rng = np.random.default_rng(0)
    x = rng.integers(0, args.vocab, size=(args.batch, args.length))
    y = rng.integers(0, 2, args.batch)

    fns: dict[str, Any] = {}
    lib_of: dict[str, str] = {}
    models_ = {}
    for sparse in (True, False):
        tag = "sparse" if sparse else "dense"
        m = _fastnn_model(args, sparse)
        m.train_on_batch(x, y)  # builds the optimizer's slots
        models_[tag] = m
        fns[f"fastnn train ({tag} grad)"] = lambda m=m: m.train_on_batch(x, y)
        # the optimizer step alone, on the embedding gradient of one batch
        emb = next(lyr for lyr in m.layers if isinstance(lyr, fastnn.layers.Embedding)).embeddings
        emb.grad = None
        fastnn.functional.embedding(x, emb, sparse=sparse).sum().backward()
        g = emb.grad
        emb.grad = None
        opt = fastnn.optimizers.Adam()
        opt.apply_gradients([(g, emb)])
        fns[f"fastnn adam step ({tag} grad)"] = lambda opt=opt, g=g, emb=emb: opt.apply_gradients([(g, emb)])
    for k in fns:
        lib_of[k] = "fastnn"
    if torch is not None:
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        variants = (("default", {"foreach": False}), ("foreach", {"foreach": True}), ("fused", {"fused": True}))
        for name, kw in variants:
            net = _TorchNet(torch, models_["dense"], **kw)
            net.step(tx, ty)
            fns[f"torch train (adam {name})"] = lambda net=net: net.step(tx, ty)
            lib_of[f"torch train (adam {name})"] = "torch"
            fns[f"torch adam step ({name})"] = net.opt.step  # the gradients of the last step stay set
            lib_of[f"torch adam step ({name})"] = "torch"

    groups = {"train": [k for k in fns if "train" in k], "step": [k for k in fns if "step" in k]}
    rows: dict[str, Any] = {}
    try:
        for t in threads:
            for grp, names in groups.items():
                cands = [Candidate(f"{n}|{t}", lib_of[n], t, fns[n]) for n in names]
                res = guarded(
                    lambda c=cands: measure(c, ctl, target=ctx.target, rounds=ctx.rounds),
                    noisy=ctx.noisy,
                    retries=ctx.retries,
                    wait=ctx.retry_wait,
                    label=f"embedding {grp} {t}T",
                    log=ctx.log,
                )
                base = "fastnn train (sparse grad)" if grp == "train" else "fastnn adam step (sparse grad)"
                for n in names:
                    s = res.result[f"{n}|{t}"]
                    rows.setdefault(n, {})[str(t)] = dict(s.to_dict(), foreign_load=res.foreign_load)
                    if n != base:
                        rows[n][str(t)]["fastnn_speedup"] = same_round_ratio(
                            res.result[f"{base}|{t}"], res.result[f"{n}|{t}"]
                        )
    finally:
        ctl.restore()
    result = {
        "suite": "embedding",
        "threads": threads,
        "vocab": args.vocab,
        "dim": args.dim,
        "batch": args.batch,
        "length": args.length,
        "rounds": ctx.rounds,
        "env": environment.machine_info(),
        "rows": rows,
    }
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    h = "## " if fmt == "md" else ""
    L = [
        f"{h}Embedding({result['vocab']}, {result['dim']}) -> mean over time -> Dense(2), Adam: "
        f"median time per call, {result['rounds']} interleaved rounds",
        "",
        f"- batch {result['batch']} x {result['length']} indices. speedup = t_other / t_fastnn_sparse in the "
        "same rounds (> 1: fastnn with the row-sparse gradient is faster), against fastnn train (sparse grad) "
        "for the training rows and fastnn adam step (sparse grad) for the optimizer-step rows",
        "",
    ]
    threads = result["threads"]
    header = ["item"] + [f"{t}T" for t in threads] + [f"{t}T speedup" for t in threads]
    body = []
    for name, d in result["rows"].items():
        cells = [name] + [f"{d[str(t)]['median_s'] * 1e3:.3f} ms" for t in threads]
        cells += [table.ratio(d[str(t)].get("fastnn_speedup")) for t in threads]
        body.append(cells)
    L.append(table.render(header, body, fmt))
    return "\n".join(L)
