#!/usr/bin/env python3
"""One training step (Adam, binary cross-entropy) of Embedding(20000, 50) -> LSTM(64), GRU(64) or
SimpleRNN(5) -> Dense(1, sigmoid) on a 32 x 80 batch of indices: fastnn against the same model in
torch, at 1 and 2 threads. The same as ``python -m fastnn bench rnn``; ``--help`` lists the options.

    python benchmarks/bench_rnn.py                        # 1 and 2 threads, all three models
    python benchmarks/bench_rnn.py --quick --models lstm --threads 2 --json rnn.json
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
    sys.exit(bench.main(["rnn"] + sys.argv[1:], reexec_command=current_command()))
