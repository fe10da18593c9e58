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


def _error_report_path(config) -> str:
    """FASTNN_ERROR_REPORT, else build/max-error-vs-torch.tsv under the test run's root (a
    temporary file where that is not writable)."""
    path = os.environ.get("FASTNN_ERROR_REPORT")
    if path:
        return path
    folder = os.path.join(str(config.rootpath), "build")
    try:
        os.makedirs(folder, exist_ok=True)
        if os.access(folder, os.W_OK):
            return os.path.join(folder, "max-error-vs-torch.tsv")
    except OSError:
        pass
    import tempfile

    return os.path.join(tempfile.gettempdir(), "fastnn-max-error-vs-torch.tsv")


def pytest_terminal_summary(terminalreporter, config):
    """The largest error against torch seen per op (each within its tolerance, or its test failed)
    goes to a file; the summary names the file."""
    oracle = sys.modules.get("oracle")  # only when some test used the torch oracle
    if oracle is None or not oracle.ERRORS:
        return
    errors = oracle.ERRORS
    path = _error_report_path(config)
    with open(path, "w") as f:
        f.write("op\tmax_abs_error\tmax_rel_error\n")
        for k in sorted(errors):
            f.write(f"{k}\t{errors[k][0]:.3e}\t{errors[k][1]:.3e}\n")
    tr = terminalreporter
    tr.section("max error against torch")
    tr.write_line(f"{len(errors)} ops compared with torch; the largest errors per op: {path}")
