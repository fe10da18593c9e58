#!/usr/bin/env python3
"""Recurrent layers: one training step (forward, binary cross-entropy, backward, Adam) of
LSTM(64), GRU(64) and SimpleRNN(5) + Dense(1, sigmoid) on (batch 32, sequence 80, features 50)
float inputs, fastnn (model.train_on_batch) against torch (nn.LSTM / nn.GRU / nn.RNN + Linear +
Adam), each at 1 and 2 threads, medians of repeated steps, and the ratio torch / fastnn.

    python benchmarks/bench_rnn.py [--threads 1,2] [--steps 30] [--rounds 7]
"""

import argparse
import glob
import os
import sys
import time

_SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
if glob.glob(os.path.join(_SRC, "fastnn", "_C.*")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import fastnn  # noqa: E402
import numpy as np  # noqa: E402

B, T, F = 32, 80, 50
LAYERS = [("LSTM(64)", "LSTM", 64), ("GRU(64)", "GRU", 64), ("SimpleRNN(5)", "SimpleRNN", 5)]


def median_step_ms(step, steps: int, rounds: int) -> float:
    step()  # warm up (allocations, first build)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return float(np.median(times))


def fastnn_step(kind: str, units: int, x, y):
    layer = getattr(fastnn.layers, kind)(units)
    model = fastnn.models.Sequential([fastnn.layers.Input((T, F)), layer, fastnn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=fastnn.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return lambda: model.train_on_batch(x, y)


def torch_step(kind: str, units: int, x, y):
    import torch

    rnn = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[kind](F, units, batch_first=True)
    head = torch.nn.Linear(units, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad()
        out, _ = rnn(xt)
        loss = loss_fn(head(out[:, -1]), yt)
        loss.backward()
        opt.step()

    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, F)).astype(np.float32)
    y = (rng.random((B, 1)) > 0.5).astype(np.float32)
    print(f"training step, batch {B}, sequence {T}, features {F}, Adam; "
          f"median ms of {args.rounds} x {args.steps} steps")
    print(f"{'layer':<14}{'threads':>8}{'fastnn ms':>12}{'torch ms':>12}{'torch/fastnn':>14}")
    for n in [int(v) for v in args.threads.split(",")]:
        fastnn.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        for label, kind, units in LAYERS:
            f_ms = median_step_ms(fastnn_step(kind, units, x, y), args.steps, args.rounds)
            t_ms = median_step_ms(torch_step(kind, units, x, y), args.steps, args.rounds) if torch else float("nan")
            print(f"{label:<14}{n:>8}{f_ms:>12.3f}{t_ms:>12.3f}{t_ms / f_ms:>13.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
