import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fastnn  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Each test starts from the same seed and the default thread count."""
    threads = fastnn.get_num_threads()
    fastnn.random.seed(0)
    yield
    fastnn.set_num_threads(threads)


def pytest_terminal_summary(terminalreporter):
    oracle = sys.modules.get("oracle")  # only when some test used the torch oracle
    if oracle is None:
        return
    ERRORS = oracle.ERRORS
    if not ERRORS:
        return
    tr = terminalreporter
    tr.section("max error against torch, per op")
    width = max(len(k) for k in ERRORS)
    for k in sorted(ERRORS):
        a, r = ERRORS[k]
        tr.write_line(f"{k:<{width}}  abs {a:.2e}  rel {r:.2e}")
    path = os.environ.get("FASTNN_ERROR_REPORT")
    if path:
        with open(path, "w") as f:
            for k in sorted(ERRORS):
                f.write(f"{k}\t{ERRORS[k][0]:.3e}\t{ERRORS[k][1]:.3e}\n")
