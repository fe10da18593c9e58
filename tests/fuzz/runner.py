"""The parent side: runs fuzzing tasks in a pool of worker subprocesses and tells a clean
exception (counted by the worker) from a crash (the process died: a signal, a sanitizer abort),
a hang (SIGALRM from the worker's per-call timer, or no new call for a long while) and a problem
the worker caught (an unexpected exception type, a write into an array it must not touch).

A worker gets a batch of tasks (entry, calls, seed). When it dies, the call it was making is in
its LAST file: that is the crash's reproducer. The rest of the dead task is retried with the
next seed (up to MAX_CRASHES per entry, so one broken entry cannot eat the budget), and the
batch's other tasks go back to the queue.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .entries import ENTRIES

MAX_CRASHES = 3  # per entry; after that its remaining calls are dropped
CALLS_PER_TASK = 1000  # a task runs one entry; more calls are split over tasks with their own seeds
CALLS_PER_WORKER = 3000  # tasks are batched so that a worker's start-up (~1 s) is amortized


@dataclass
class EntryResult:
    name: str
    calls: int = 0
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    problems: list = field(default_factory=list)  # {"problem", "reproducer"} from the worker
    crashes: list = field(default_factory=list)  # {"how", "seed", "call", "reproducer", "stderr"}
    hangs: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.crashes or self.hangs or self.outcomes.get("problems"))

    def failures(self) -> str:
        """Every finding, with its reproducer, for a test failure message."""
        out = []
        for kind, items in (("crash", self.crashes), ("hang", self.hangs)):
            for c in items:
                out.append(f"{kind} of {self.name} ({c['how']}, seed {c['seed']}, call {c['call']}):\n"
                           f"{c['reproducer']}\n{c['stderr']}")
        for p in self.problems:
            out.append(f"{self.name}: {p['problem']}\n{p['reproducer']}")
        return "\n\n".join(out)


def package_root() -> Path:
    """The folder from which `python -m <this package>.worker` resolves."""
    return Path(__file__).resolve().parents[len(__package__.split("."))]


def worker_env() -> dict:
    """The parent's environment (LD_PRELOAD, ASAN_OPTIONS, PYTHONPATH: a sanitizer build is
    what the workers load too) with this package's root on the path."""
    env = dict(os.environ)
    inherited = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]  # workers run elsewhere
    env["PYTHONPATH"] = os.pathsep.join([str(package_root()), *inherited])
    return env


def split_tasks(entries, calls: int, seed: int) -> list[list]:
    tasks = []
    for name in entries:
        for k, start in enumerate(range(0, calls, CALLS_PER_TASK)):
            tasks.append([name, min(CALLS_PER_TASK, calls - start), seed * 1_000_003 + k * 7919 + _stable_hash(name)])
    return tasks


def _stable_hash(s: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(s)) % 100_000


def _excerpt(text: str) -> str:
    """The part of a dead worker's stderr that says why: the sanitizer's or Python's report."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(m in line for m in ("ERROR: AddressSanitizer", "runtime error:", "Fatal Python error", "Traceback")):
            return "\n".join(lines[i:i + 16])
    return "\n".join(lines[-20:])


class _Worker:
    def __init__(self, batch: list, tmp: Path, n: int, call_timeout: float):
        self.batch, self.call_timeout = batch, call_timeout
        self.last, self.report, self.log = (tmp / f"w{n}.{x}" for x in ("last", "report", "log"))
        self.started, self.killed = time.time(), False
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"{__package__}.worker", "--tasks", json.dumps(batch), "--last",
                 str(self.last), "--report", str(self.report), "--call-timeout", str(call_timeout)],
                stdout=log, stderr=subprocess.STDOUT, env=worker_env(), cwd=str(package_root()))

    def stalled(self) -> bool:
        """No new call for 3 call timeouts: stuck outside the timed call (in an `after` check or
        the argument generation), where the worker's own timer does not run."""
        try:
            since = max(self.started, os.path.getmtime(self.last))
        except OSError:
            since = self.started
        return time.time() - since > 3 * self.call_timeout + 30


def run(entries, calls: int, seed: int = 0, workers: int = 2, call_timeout: float = 10.0,
        progress=None) -> dict[str, EntryResult]:
    """Fuzz each entry with `calls` calls; `progress(results)` is called as batches finish."""
    results = {name: EntryResult(name) for name in entries}
    queue = split_tasks(entries, calls, seed)
    running: list[_Worker] = []
    with tempfile.TemporaryDirectory(prefix="fastnn-fuzz-run-") as tmp:
        n = 0
        while queue or running:
            while queue and len(running) < workers:
                batch, total = [], 0
                while queue and total < CALLS_PER_WORKER:
                    batch.append(queue.pop(0))
                    total += batch[-1][1]
                running.append(_Worker(batch, Path(tmp), n, call_timeout))
                n += 1
            time.sleep(0.05)
            for w in list(running):
                if w.proc.poll() is None and w.stalled():
                    w.proc.kill()
                    w.proc.wait()
                    w.killed = True
                if w.proc.poll() is None:
                    continue
                running.remove(w)
                queue = _collect(w, results) + queue
                if progress:
                    progress(results)
    return results


def _collect(w: _Worker, results: dict[str, EntryResult]) -> list:
    """Fold a finished worker's report into `results`; returns the tasks still to run."""
    done = []
    if w.report.exists():
        for line in w.report.read_text().splitlines():
            r = json.loads(line)
            res = results[r["entry"]]
            res.calls += r["calls"]
            res.outcomes.update(r["outcomes"])
            res.problems += r["problems"]
            done.append(r)
    rest = w.batch[len(done):]
    if w.proc.returncode == 0 or not rest:
        return rest
    # the worker died in rest[0]
    name, calls, task_seed = rest[0]
    try:
        last = json.loads(w.last.read_text())
    except (OSError, ValueError):
        last = {"entry": name, "seed": task_seed, "call": -1, "reproducer": "(died before its first call)"}
    rc = w.proc.returncode
    hung = rc == -signal.SIGALRM or w.killed
    how = "no progress, killed" if w.killed else "call timeout (SIGALRM)" if hung else (
        f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit status {rc}")
    res = results[name]
    res.calls += last["call"] + 1
    (res.hangs if hung else res.crashes).append({
        "how": how, "seed": last["seed"], "call": last["call"], "reproducer": last["reproducer"],
        "stderr": _excerpt(w.log.read_text(errors="replace"))})
    left = calls - (last["call"] + 1)
    retry = [[name, left, task_seed + 1]] if left > 0 and len(res.crashes) + len(res.hangs) < MAX_CRASHES else []
    return retry + rest[1:]


def callable_entries(C) -> list[str]:
    """Every function fastnn._C exposes (classes and constants aside)."""
    return sorted(n for n in dir(C) if not n.startswith("__") and callable(getattr(C, n))
                  and not isinstance(getattr(C, n), type))


def summary(results: dict[str, EntryResult]) -> str:
    """A table: calls, outcomes, crashes, hangs and problems per entry, then the totals."""
    kinds = sorted({k for r in results.values() for k in r.outcomes if k != "problems"})
    head = ["entry", "calls", *kinds, "crashes", "hangs", "problems"]
    rows = [[r.name, r.calls, *(r.outcomes.get(k, 0) for k in kinds), len(r.crashes), len(r.hangs),
             r.outcomes.get("problems", 0)] for r in results.values()]
    total = ["TOTAL", *(sum(row[i] for row in rows) for i in range(1, len(head)))]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, total)]
    fmt = "  ".join(f"{{:<{widths[0]}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths)).format
    return "\n".join(fmt(*row) for row in [head, *rows, total])


def entries_to_fuzz(C) -> list[str]:
    """Every callable entry of _C that has a generator (tests check that none lacks one)."""
    return [n for n in callable_entries(C) if n in ENTRIES]
