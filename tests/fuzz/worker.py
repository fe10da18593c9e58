"""A fuzzing worker: one subprocess calling fastnn._C entries with hypothesis-drawn arguments.

    python -m tests.fuzz.worker --tasks '[["sgemm", 500, 7], ...]' --last LAST --report REPORT

Before each call the worker writes the call (entry, seed, call number, reproducer) to LAST, so
that when the process dies (a signal, a sanitizer abort) or hangs (SIGALRM after
--call-timeout seconds: its default action ends the process even inside C code), the parent
reads what it was doing. After each task it appends a JSON line to REPORT: calls made, outcomes
by exception type, and problems (an exception of another type, an array written that must not
be, a failed `after` check) with their reproducers.
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import json
import os
import resource
import signal
import sys
import tempfile

import fastnn._C as C
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from .draw import Draw
from .entries import ENTRIES
from .values import Built, reproducer

# The only ways a call may end besides returning (pybind11's argument TypeError included).
ACCEPTED = (ValueError, TypeError, OverflowError, MemoryError, IndexError, RuntimeError)
MAX_PROBLEMS = 5  # reproducers kept per task; all are counted


class LastCall:
    """The file holding the call in progress (rewritten in place, no fsync: a crash of this
    process does not lose what was written)."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)


@st.composite
def calls_of(draw, entry):
    """The calls of an entry, as a strategy (a generator's exception is passed on as a value)."""
    try:
        return entry.gen(Draw(draw), entry.name)
    except Exception as e:  # noqa: BLE001
        return e


def fuzz(name: str, calls: int, run_seed: int, last: LastCall, scratch: str, call_timeout: float) -> dict:
    entry, fn = ENTRIES[name], getattr(C, name)
    outcomes: collections.Counter = collections.Counter()
    problems: list[dict] = []
    n = 0

    @seed(run_seed)
    @settings(max_examples=calls, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(calls_of(entry))
    def one_call(call):
        nonlocal n
        repro = "(not drawn)"
        try:  # a generator bug is reported, but is not a kernel finding
            if isinstance(call, Exception):
                raise call
            repro = reproducer(name, call.args, call.kwargs)
            built = Built(call.args, call.kwargs, scratch)
        except Exception as e:  # noqa: BLE001
            outcomes["harness errors"] += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({"problem": f"harness: cannot draw or build the arguments: {e!r}",
                                 "reproducer": repro})
            return
        last.write(json.dumps({"entry": name, "seed": run_seed, "call": n, "reproducer": repro}))
        n += 1
        found = []
        signal.setitimer(signal.ITIMER_REAL, call_timeout)
        try:
            try:
                result = fn(*built.args, **built.kwargs)
                outcomes["returned"] += 1
                if entry.after:
                    found += entry.after(C, call, built, result)
            except ACCEPTED as e:
                outcomes[type(e).__name__] += 1
            except Exception as e:  # noqa: BLE001 - any other exception type is a finding
                outcomes[type(e).__name__] += 1
                found.append(f"unexpected {type(e).__name__}: {e}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        found += built.changed()
        built.close()
        for f in found:
            outcomes["problems"] += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({"problem": f, "reproducer": repro})

    one_call()
    return {"entry": name, "seed": run_seed, "calls": n, "outcomes": dict(outcomes), "problems": problems}


def limit_memory() -> None:
    """Huge sizes that pass the checks should fail to allocate (MemoryError), not swap the machine.
    AddressSanitizer reserves terabytes of address space, so under it ASAN_OPTIONS limits instead
    (max_allocation_size_mb, allocator_may_return_null)."""
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return
    limit = int(float(os.environ.get("FASTNN_FUZZ_MEMORY_GB", "4")) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", required=True, help="JSON list of [entry, calls, seed]")
    p.add_argument("--last", required=True)
    p.add_argument("--report", required=True)
    p.add_argument("--call-timeout", type=float, default=10.0)
    a = p.parse_args(argv)
    faulthandler.enable()  # a Python traceback on SIGSEGV / SIGABRT, next to the sanitizer's report
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    limit_memory()
    last = LastCall(a.last)
    with tempfile.TemporaryDirectory(prefix="fastnn-fuzz-") as scratch, open(a.report, "a") as report:
        for name, calls, run_seed in json.loads(a.tasks):
            report.write(json.dumps(fuzz(name, calls, run_seed, last, scratch, a.call_timeout)) + "\n")
            report.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
