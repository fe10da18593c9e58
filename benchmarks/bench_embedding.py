#!/usr/bin/env python3
"""One training step of Embedding(20000, 50) -> mean over time -> Dense(2) with Adam on a 32 x 20
batch, and the Adam step alone: fastnn (row-sparse and dense embedding gradient) against torch
(dense gradient; Adam default, foreach and fused). The same as ``python -m fastnn bench embedding``;
``--help`` lists the options.

    python benchmarks/bench_embedding.py                  # 1 and 2 threads
    python benchmarks/bench_embedding.py --quick --threads 1 --json embedding.json
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
    sys.exit(bench.main(["embedding"] + sys.argv[1:], reexec_command=current_command()))
