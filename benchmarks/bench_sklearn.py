#!/usr/bin/env python3
"""MLPClassifier.fit on digits (hidden 256, 200 epochs): fastnn.sklearn against scikit-learn's own,
as medians of interleaved fits and their ratio. The same as ``python -m fastnn bench sklearn``;
``--help`` lists the options.

    python benchmarks/bench_sklearn.py --threads 1              # the issue's setting: one thread each
    python benchmarks/bench_sklearn.py --quick --json sklearn.json
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
    sys.exit(bench.main(["sklearn"] + sys.argv[1:], reexec_command=current_command()))
