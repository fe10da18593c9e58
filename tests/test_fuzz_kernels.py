"""Property-based fuzzing of every fastnn._C entry (issue 13), bounded for CI.

Each entry gets FASTNN_FUZZ_CALLS hypothesis-drawn calls (default 400: about a minute on two
cores), mostly plausible and partly hostile (tests/fuzz/draw.py), in worker subprocesses, so that
a segfault, a sanitizer abort or a hang fails that entry's test with its reproducer instead of
ending the run. A call may return or raise ValueError, TypeError, OverflowError, MemoryError,
IndexError or RuntimeError; it must not write into a read-only array or into an array it only
reads. FASTNN_FUZZ_SEED picks other calls (default 0: CI repeats the same ones);
FASTNN_FUZZ_CALL_TIMEOUT is the seconds after which a call counts as hung (default 10).
The extended run is `python -m tests.fuzz --calls 300000`.
"""

import os

import fastnn._C as C
import pytest
from fuzz import runner
from fuzz.entries import ENTRIES

CALLS = int(os.environ.get("FASTNN_FUZZ_CALLS", "400"))
SEED = int(os.environ.get("FASTNN_FUZZ_SEED", "0"))
CALL_TIMEOUT = float(os.environ.get("FASTNN_FUZZ_CALL_TIMEOUT", "10"))
FUZZED = [n for n in runner.callable_entries(C) if n in ENTRIES]


def test_every_entry_has_a_fuzzer():
    """A new binding needs its generator in tests/fuzz/entries.py."""
    assert [n for n in runner.callable_entries(C) if n not in ENTRIES] == []
    assert [n for n in ENTRIES if not hasattr(C, n)] == [], "generators of entries that no longer exist"


@pytest.fixture(scope="module")
def fuzz_results(request):
    """All selected entries fuzzed at once, over a pool of workers (one process per entry would
    spend more time starting Python than fuzzing)."""
    wanted = [item.callspec.params["entry"] for item in request.session.items
              if item.module is request.module and "entry" in getattr(getattr(item, "callspec", None), "params", {})]
    return runner.run(wanted, CALLS, SEED, workers=os.cpu_count() or 2, call_timeout=CALL_TIMEOUT)


@pytest.mark.parametrize("entry", FUZZED)
def test_fuzz(entry, fuzz_results):
    r = fuzz_results[entry]
    assert r.ok, f"seed {SEED}:\n{r.failures()}"
    assert r.calls > 0
