#!/usr/bin/env python3
"""Training steps of the course-notes CNN (32x32x3, batch 32, RMSprop) and LeNet-5 (28x28x1,
batch 64, Adam): fastnn ``train_on_batch`` against torch with the same weights. The same as
``python -m fastnn bench cnn``; ``--help`` lists the options (``--profile``: where a fastnn step
spends its time, per kernel).

    python benchmarks/bench_cnn.py                  # 1 and 2 threads
    python benchmarks/bench_cnn.py --quick --threads 1 --json cnn.json
    python benchmarks/bench_cnn.py --profile --threads 1
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
    sys.exit(bench.main(["cnn"] + sys.argv[1:], reexec_command=current_command()))
