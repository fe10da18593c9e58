#!/usr/bin/env python3
"""SGEMM GFLOP/s: fastnn against NumPy (OpenBLAS) and torch (MKL), with the fraction of the FMA
peak. The same as ``python -m fastnn bench gemm``; ``--help`` lists the options.

    python benchmarks/bench_gemm.py                       # full: 14 shapes, 1 and 2 threads
    python benchmarks/bench_gemm.py --quick --shapes square --json gemm.json
"""

import glob
import os
import sys

# a developer build beside the sources (cmake -S . -B build/dev) wins over an installed fastnn
_SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
if glob.glob(os.path.join(_SRC, "fastnn", "_C.*")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

from fastnn import bench  # noqa: E402
from fastnn.bench.environment import current_command  # noqa: E402

if __name__ == "__main__":
    sys.exit(bench.main(["gemm"] + sys.argv[1:], reexec_command=current_command()))
