"""The rnn suite: the recurrent issue's three training-step targets, fastnn against torch.

Models (integer inputs, batch 32 x sequence 80): Embedding(20000, 50) -> LSTM(64), GRU(64) or
SimpleRNN(5) -> Dense(1, sigmoid), binary cross-entropy, Adam. fastnn ``train_on_batch`` (the
embedding's gradient row-sparse, its default) against torch's zero_grad + forward + loss +
backward + ``Adam.step`` on the same model (``nn.Embedding`` with its dense default gradient,
``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``, ``nn.Linear``, sigmoid, ``nn.BCELoss``, torch's default
Adam), with fastnn's initial weights copied in.

Times are per step, medians of interleaved rounds (fastnn.bench.timing); the speedup is
t_torch / t_fastnn in the same rounds.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio

# name -> (fastnn layer, units, the target speedup over torch and its torch time at 2 threads)
MODELS: dict[str, tuple[str, int, float, float]] = {
    "lstm": ("LSTM", 64, 1.3, 6.71),
    "gru": ("GRU", 64, 3.0, 20.0),
    "simple_rnn": ("SimpleRNN", 5, 2.0, 6.32),
}


def _models_arg(s: str) -> list[str]:
    names = [v.strip() for v in s.split(",") if v.strip()]
    bad = [n for n in names if n not in MODELS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"--models takes a comma-separated subset of {','.join(MODELS)}, got {s!r}")
    return list(dict.fromkeys(names))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", type=_models_arg, default=list(MODELS),
                   help=f"comma-separated subset of {','.join(MODELS)} (default all)")
    p.add_argument("--vocab", type=int, default=20000, help="embedding rows (default 20000)")
    p.add_argument("--dim", type=int, default=50, help="embedding size (default 50)")
    p.add_argument("--batch", type=int, default=32, help="sequences per batch (default 32)")
    p.add_argument("--length", type=int, default=80, help="time steps per sequence (default 80)")


def _label(name: str) -> str:
    kind, units, _, _ = MODELS[name]
    return f"{kind}({units})"


def _fastnn_model(args, name: str, seed: int = 0):
    import fastnn
    from fastnn import layers, models

    kind, units, _, _ = MODELS[name]
    fastnn.random.seed(seed)
    m = models.Sequential([layers.Input((args.length,), dtype="int64"), layers.Embedding(args.vocab, args.dim),
                           getattr(layers, kind)(units), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    return m


class _TorchNet:
    """The same model in torch with fastnn's initial weights: Linear weight = kernel^T, recurrent
    weights transposed, GRU gates z, r, h reordered to torch's r, z, n, and Keras's single bias
    (two rows for GRU) split into bias_ih and bias_hh."""

    def __init__(self, torch, name: str, fastnn_model):
        import numpy as np

        kind = MODELS[name][0]
        ws = fastnn_model.get_weights()
        emb, kernel, rkernel, bias, dk, db = ws
        units = rkernel.shape[0]
        self.emb = torch.nn.Embedding(*emb.shape)
        cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[kind]
        self.rnn = cls(kernel.shape[0], units, batch_first=True)
        self.lin = torch.nn.Linear(units, 1)
        if kind == "GRU":
            def swap(w):  # Keras z, r, h -> torch r, z, n along the last axis
                return np.concatenate([w[..., units:2 * units], w[..., :units], w[..., 2 * units:]], axis=-1)

            kernel, rkernel, b_ih, b_hh = swap(kernel), swap(rkernel), swap(bias[0]), swap(bias[1])
        else:
            b_ih, b_hh = bias, np.zeros_like(bias)
        with torch.no_grad():
            self.emb.weight.copy_(torch.from_numpy(emb))
            self.rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(rkernel.T)))
            self.rnn.bias_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(b_ih)))
            self.rnn.bias_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(b_hh)))
            self.lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(dk.T)))
            self.lin.bias.copy_(torch.from_numpy(db))
        params = list(self.emb.parameters()) + list(self.rnn.parameters()) + list(self.lin.parameters())
        self.opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
        self.lossf = torch.nn.BCELoss()
        self.torch = torch

    def step(self, x, y):
        self.opt.zero_grad()
        out, _ = self.rnn(self.emb(x))
        loss = self.lossf(self.torch.sigmoid(self.lin(out[:, -1])), y)
        loss.backward()
        self.opt.step()


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
    x = rng.integers(0, args.vocab, size=(args.batch, args.length))
    y = (rng.random((args.batch, 1)) > 0.5).astype(np.float32)

    rows: dict[str, Any] = {}
    try:
        for name in args.models:
            fm = _fastnn_model(args, name)
            fns = {"fastnn": lambda fm=fm: fm.train_on_batch(x, y)}
            if torch is not None:
                net = _TorchNet(torch, name, fm)
                tx, ty = torch.from_numpy(x), torch.from_numpy(y)
                fns["torch"] = lambda net=net, tx=tx, ty=ty: net.step(tx, ty)
            fns["fastnn"]()  # builds the optimizer's slots
            row: dict[str, Any] = {"label": _label(name), "target_speedup": MODELS[name][2],
                                   "issue_torch_ms_2T": MODELS[name][3]}
            for t in threads:
                cands = [Candidate(f"{lib}|{t}", lib, t, fn) for lib, fn in fns.items()]
                res = guarded(lambda c=cands: measure(c, ctl, target=ctx.target, rounds=ctx.rounds),
                              noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait,
                              label=f"rnn {name} {t}T", log=ctx.log)
                d = {lib: res.result[f"{lib}|{t}"].to_dict() for lib in fns}
                d["foreign_load"] = res.foreign_load
                if "torch" in fns:
                    d["fastnn_speedup"] = same_round_ratio(res.result[f"fastnn|{t}"], res.result[f"torch|{t}"])
                row[str(t)] = d
            rows[name] = row
    finally:
        ctl.restore()
    result = {"suite": "rnn", "threads": threads, "vocab": args.vocab, "dim": args.dim, "batch": args.batch,
              "length": args.length, "rounds": ctx.rounds, "env": environment.machine_info(), "rows": rows}
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    h = "## " if fmt == "md" else ""
    L = [f"{h}Embedding({result['vocab']}, {result['dim']}) -> recurrent layer -> Dense(1, sigmoid), binary "
         f"cross-entropy, Adam: median training step, {result['rounds']} interleaved rounds", ""]
    L.append(f"- batch {result['batch']} x {result['length']} indices. speedup = t_torch / t_fastnn in the same "
             "rounds (> 1: fastnn is faster); target: the issue's minimum speedup")
    L.append("")
    threads = result["threads"]
    header = (["model"] + [f"fastnn {t}T" for t in threads] + [f"torch {t}T" for t in threads]
              + [f"{t}T speedup" for t in threads] + ["target"])
    body = []
    for row in result["rows"].values():
        cells = [row["label"]]
        for lib in ("fastnn", "torch"):
            for t in threads:
                s = row[str(t)].get(lib)
                cells.append(f"{s['median_s'] * 1e3:.3f} ms" if s else "-")
        cells += [table.ratio(row[str(t)].get("fastnn_speedup")) for t in threads]
        cells.append(f">= {row['target_speedup']:g}x")
        body.append(cells)
    L.append(table.render(header, body, fmt))
    return "\n".join(L)
