#!/usr/bin/env python3
"""RandomTranslation, RandomRotation and RandomZoom in training mode (one call = one batch
augmented), on a CIFAR-sized batch (32, 32, 32, 3) and an MNIST-sized one (64, 28, 28, 1), with 1
and 2 threads: seconds per call, medians of interleaved rounds (fastnn.bench.timing).

    python benchmarks/bench_augmentation.py
    python benchmarks/bench_augmentation.py --quick --threads 1 --json augmentation.json

Only the public layer API is used, so the same script times any version of fastnn on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

# a developer build beside the sources (cmake -S . -B build/dev) wins over an installed fastnn
_SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
if "PYTHONPATH" not in os.environ and glob.glob(os.path.join(_SRC, "fastnn", "_C.*")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import fastnn  # noqa: E402
import numpy as np  # noqa: E402
from fastnn import layers as L  # noqa: E402
from fastnn.bench.timing import Candidate, ThreadControl, guarded, measure  # noqa: E402

SHAPES = {"32x32x32x3": (32, 32, 32, 3), "64x28x28x1": (64, 28, 28, 1)}
LAYERS = {
    "RandomTranslation": lambda: L.RandomTranslation(0.1, 0.1, seed=1),
    "RandomRotation": lambda: L.RandomRotation(0.1, seed=2),
    "RandomZoom": lambda: L.RandomZoom(0.1, seed=3),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    p.add_argument("--quick", action="store_true", help="5 rounds of ~0.03 s (default 11 of ~0.08 s)")
    p.add_argument("--retries", type=int, default=2, help="re-measurements of a disturbed row (default 2)")
    p.add_argument("--json", help="write the medians and minima (seconds per call) to this file")
    args = p.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    rounds, target = (5, 0.03) if args.quick else (11, 0.08)
    ctl = ThreadControl.default(["fastnn"])
    rng = np.random.default_rng(0)
    results: dict[str, float] = {}
    print(f"fastnn {fastnn.__file__}")
    heads = " | ".join(f"{t} thread{'s' if t > 1 else ''}, median (min) ms" for t in threads)
    print(f"| layer | batch | {heads} | foreign load |")
    print("|---|---|" + "---:|" * (len(threads) + 1))
    try:
        for sname, shape in SHAPES.items():
            x = rng.random(shape, dtype=np.float32)
            for lname, make in LAYERS.items():
                layer = make()
                cands = [Candidate(f"{lname} {sname} t{t}", "fastnn", t,
                                   lambda layer=layer, x=x: layer(x, training=True)) for t in threads]
                g = guarded(lambda cands=cands: measure(cands, ctl, rounds=rounds, target=target),
                            retries=args.retries, label=f"{lname} {sname}")
                stats = g.result
                row = []
                for c in cands:
                    st = stats[c.label]
                    results[c.label] = {"median_s": st.median, "min_s": st.min}
                    row.append(f"{st.median * 1e3:.3f} ({st.min * 1e3:.3f})")
                print(f"| {lname} | {sname} | {' | '.join(row)} | {g.foreign_load:.2f} |", flush=True)
    finally:
        ctl.restore()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
