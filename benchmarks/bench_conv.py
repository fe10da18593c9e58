#!/usr/bin/env python3
"""Convolution kernels: fastnn against torch on the course-CNN and LeNet-5 shapes, forward
(with the fused bias + relu), backward to the input and backward to the kernel and bias, 1 and 2
threads, medians of interleaved rounds (fastnn.bench.timing) and the same-round ratio
(> 1: fastnn is faster). fastnn runs channels_last (Keras's layout); torch its native NCHW on
the same data, padded explicitly where TensorFlow's 'same' is asymmetric.

    python benchmarks/bench_conv.py               # every shape, 1 and 2 threads
    python benchmarks/bench_conv.py --threads 1 --rounds 5
"""

import argparse
import glob
import os
import sys

_SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
if glob.glob(os.path.join(_SRC, "fastnn", "_C.*")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from fastnn import _C  # noqa: E402
from fastnn.bench.timing import Candidate, ThreadControl, measure, same_round_ratio  # noqa: E402

# name: (batch, h, w, c, filters, k, stride, (top, bottom, left, right))
SHAPES = {
    "course conv1 32x32x3 5x5/2 same": (32, 32, 32, 3, 32, 5, 2, (1, 2, 1, 2)),
    "course conv2 16x16x32 5x5/2 valid": (32, 16, 16, 32, 32, 5, 2, (0, 0, 0, 0)),
    "lenet conv1 28x28x1 5x5 same": (64, 28, 28, 1, 6, 5, 1, (2, 2, 2, 2)),
    "lenet conv2 14x14x6 5x5 valid": (64, 14, 14, 6, 16, 5, 1, (0, 0, 0, 0)),
}


def candidates(shape, threads: int):
    n, h, w, c, oc, k, s, pads = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    kern = (rng.standard_normal((k, k, c, oc)) * 0.1).astype(np.float32)
    bias = np.zeros(oc, np.float32)
    args = ((s, s), pads, (1, 1), 1, True)
    y = _C.conv2d_forward(x, kern, bias, *args, 1)
    g = rng.standard_normal(y.shape).astype(np.float32)
    xt = TF.pad(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), (pads[2], pads[3], pads[0], pads[1]))
    wt = torch.from_numpy(kern).permute(3, 2, 0, 1).contiguous()
    bt = torch.from_numpy(bias)
    gt = torch.from_numpy(g).permute(0, 3, 1, 2).contiguous()

    def t_weight():
        torch.nn.grad.conv2d_weight(xt, wt.shape, gt, stride=s)
        gt.sum((0, 2, 3))

    return {
        "forward": (lambda: _C.conv2d_forward(x, kern, bias, *args, 1),
                    lambda: torch.relu(TF.conv2d(xt, wt, bt, stride=s))),
        "backward data": (lambda: _C.conv2d_backward_data(g, kern, x.shape, *args),
                          lambda: torch.nn.grad.conv2d_input(xt.shape, wt, gt, stride=s)),
        "backward weight+bias": (lambda: _C.conv2d_backward_weight(g, x, kern.shape, *args, True), t_weight),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--target", type=float, default=0.05, help="seconds per timed block")
    opts = ap.parse_args(argv)
    ctl = ThreadControl.default(["fastnn", "torch"])
    print(f"{'shape':36} {'kernel':22} {'thr':>3} {'fastnn ms':>10} {'torch ms':>10} {'ratio':>6}")
    try:
        with torch.no_grad():
            for t in opts.threads:
                for name, shape in SHAPES.items():
                    for kind, (fast, ref) in candidates(shape, t).items():
                        stats = measure(
                            [Candidate("fastnn", "fastnn", t, fast), Candidate("torch", "torch", t, ref)],
                            ctl, rounds=opts.rounds, target=opts.target,
                        )
                        f, r = stats["fastnn"], stats["torch"]
                        print(f"{name:36} {kind:22} {t:>3} {f.median * 1e3:10.3f} {r.median * 1e3:10.3f} "
                              f"{same_round_ratio(f, r):6.2f}")
    finally:
        ctl.restore()
    return 0


if __name__ == "__main__":
    sys.exit(main())
