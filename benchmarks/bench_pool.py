#!/usr/bin/env python3
"""Max pooling (LeNet-5 and course-CNN shapes) and batch norm, forward + backward: fastnn
against torch, 1 and 2 threads, medians. The same as ``python -m fastnn bench pool``.

    python benchmarks/bench_pool.py
    python benchmarks/bench_pool.py --quick --threads 2
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
    sys.exit(bench.main(["pool"] + sys.argv[1:], reexec_command=current_command()))
