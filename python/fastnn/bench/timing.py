"""Timing for benchmarks on shared, noisy machines: interleaved rounds, calibrated repetitions,
medians and minima, spin-pool sleeps, and a monitor of other tenants' CPU use.

The method:

- Every number is seconds per call. Candidates that are compared (fastnn and its peers, 1 and 2
  threads) are measured in interleaved rounds, so ratios come from the same minutes of the same
  process: in each round every candidate runs one untimed call (to re-warm caches after the
  others ran; skipped when one call outlasts a block) and then one timed block of ``reps``
  calls; the order of the candidates alternates from round to round. ``reps`` is calibrated
  once, so that a block lasts about ``target`` seconds (a block cut short after 10 x ``target``
  still gives seconds per call). Medians and minima are taken over rounds.
- After a multi-threaded block, when the next block belongs to another library, the harness
  sleeps: idle worker threads of the previous library's pool keep spinning for a while and would
  steal a core from the next one (OpenBLAS workers spin about 2^28 TSC ticks, so 0.11 s; libgomp
  workers, used by fastnn and torch, a few milliseconds, so 0.02 s).
- The CPU time that other processes used meanwhile (/proc/stat busy time minus this process's
  own CPU time) is recorded as ``foreign_load`` in CPUs; :func:`guarded` re-measures when it
  exceeds a threshold and keeps the least disturbed attempt.

Clock and sleep are parameters, so the statistics can be tested on a fake clock.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

NUMPY_SPIN_SLEEP = 0.11  # OpenBLAS idle workers spin ~2^28 TSC ticks (~0.1 s) after a call
OMP_SPIN_SLEEP = 0.02  # libgomp idle workers spin a few ms (GOMP_SPINCOUNT) after a region

# seconds to sleep after a multi-threaded block of a library before another library runs
SPIN_SLEEP: dict[str, float] = {"numpy": NUMPY_SPIN_SLEEP, "torch": OMP_SPIN_SLEEP, "fastnn": OMP_SPIN_SLEEP}


@dataclass
class Stats:
    """Seconds per call, one sample per round."""

    samples: list[float]
    reps: int

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def to_dict(self) -> dict[str, Any]:
        return {"median_s": self.median, "min_s": self.min, "max_s": self.max, "reps": self.reps,
                "rounds": len(self.samples), "samples_s": list(self.samples)}


def same_round_ratio(fast: Stats, slow: Stats) -> float:
    """Median over rounds of slow_i / fast_i: how many times faster `fast` is than `slow` (> 1:
    `fast` wins), each round's pair measured minutes apart at most."""
    return statistics.median(s / f for f, s in zip(fast.samples, slow.samples))


@dataclass
class Candidate:
    """One thing to time: ``fn()`` is one call; ``lib`` decides the sleep after a multi-threaded
    block and ``threads`` is what the thread controller sets before each block."""

    label: str
    lib: str
    threads: int
    fn: Callable[[], object]


class ThreadControl:
    """Sets the thread count of each library before its blocks: fastnn.set_num_threads,
    torch.set_num_threads, and OpenBLAS through threadpoolctl (``user_api='blas'``).

    ``setters`` maps a library name to a function of the thread count; a library without one
    runs with whatever it has. ``originals`` are the counts that restore() puts back."""

    def __init__(self, setters: dict[str, Callable[[int], None]], originals: dict[str, int] | None = None):
        self.setters = setters
        self.originals = originals or {}
        self.current: dict[str, int] = {}

    def set(self, lib: str, threads: int) -> None:
        if self.current.get(lib) != threads and lib in self.setters:
            self.setters[lib](threads)
            self.current[lib] = threads

    def restore(self) -> None:
        for lib, t in self.originals.items():
            self.set(lib, t)

    @classmethod
    def default(cls, libs: Sequence[str]) -> ThreadControl:
        """Controls for the named libraries among fastnn, numpy and torch (imported here)."""
        setters: dict[str, Callable[[int], None]] = {}
        originals: dict[str, int] = {}
        if "fastnn" in libs:
            import fastnn

            setters["fastnn"] = fastnn.set_num_threads
            originals["fastnn"] = fastnn.get_num_threads()
        if "torch" in libs:
            import torch

            setters["torch"] = torch.set_num_threads
            originals["torch"] = torch.get_num_threads()
        if "numpy" in libs:
            ctl = blas_controller()
            if ctl is not None:
                setters["numpy"] = lambda t: ctl.limit(limits=t, user_api="blas")
                blas = [d["num_threads"] for d in ctl.info() if d.get("user_api") == "blas"]
                if blas:
                    originals["numpy"] = blas[0]
        return cls(setters, originals)


def blas_controller():
    """A threadpoolctl controller of NumPy's BLAS, or None when threadpoolctl is not installed."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl.ThreadpoolController()


def _timed_block(fn: Callable[[], object], reps: int, limit: float, clock: Callable[[], float]) -> float:
    """Seconds per call of up to `reps` calls; stops early once `limit` seconds have passed (when
    other processes slow the calls down many times over, a block calibrated on a quiet machine
    would otherwise take minutes). The clock is read about 16 times per block."""
    step = max(1, reps // 16)
    done = 0
    t0 = clock()
    while done < reps:
        k = min(step, reps - done)
        for _ in range(k):
            fn()
        done += k
        if done < reps and clock() - t0 > limit:
            break
    return (clock() - t0) / done


def measure(
    cands: Sequence[Candidate],
    threads: ThreadControl | None = None,
    *,
    target: float = 0.08,
    rounds: int = 11,
    warmup: int = 2,
    max_reps: int = 1_000_000,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Stats]:
    """Times the candidates in interleaved rounds (module docstring); returns {label: Stats}."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if not target > 0:
        raise ValueError(f"target must be positive, got {target}")
    labels = [c.label for c in cands]
    if len(set(labels)) != len(labels):
        raise ValueError(f"candidate labels must be unique, got {labels}")
    threads = threads or ThreadControl({})
    prev: list[Candidate | None] = [None]

    def switch(c: Candidate) -> None:
        p = prev[0]
        if p is not None and p.threads > 1 and p.lib != c.lib:
            sleep(SPIN_SLEEP.get(p.lib, OMP_SPIN_SLEEP))
        threads.set(c.lib, c.threads)
        prev[0] = c

    reps: dict[str, int] = {}
    rewarm: dict[str, bool] = {}
    for c in cands:
        switch(c)
        for _ in range(warmup):
            t0 = clock()
            c.fn()
            if clock() - t0 >= target:  # a call this long warms itself up
                break
        t0 = clock()
        c.fn()
        dt = clock() - t0
        reps[c.label] = int(max(1, min(max_reps, round(target / max(dt, 1e-9)))))
        rewarm[c.label] = dt < target
    samples: dict[str, list[float]] = {c.label: [] for c in cands}
    for r in range(rounds):
        for c in cands if r % 2 == 0 else cands[::-1]:
            switch(c)
            if rewarm[c.label]:
                c.fn()
            samples[c.label].append(_timed_block(c.fn, reps[c.label], 10 * target, clock))
    p = prev[0]
    if p is not None and p.threads > 1:
        sleep(SPIN_SLEEP.get(p.lib, OMP_SPIN_SLEEP))
    return {c.label: Stats(samples[c.label], reps[c.label]) for c in cands}


class LoadMonitor:
    """CPU time that other processes used between start() and stop(), in CPUs (0 = none, 1 = one
    core fully busy). Linux only (/proc/stat); elsewhere the load reads as 0."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._t0: tuple[float, float, float] | None = None

    @staticmethod
    def _busy_ticks() -> int:
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return 0
        # user nice system idle iowait irq softirq steal ...
        return v[0] + v[1] + v[2] + v[5] + v[6]

    @staticmethod
    def _own_cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def start(self) -> None:
        self._t0 = (self.clock(), self._busy_ticks() / self.hz, self._own_cpu())

    def stop(self) -> float:
        assert self._t0 is not None, "LoadMonitor.stop() before start()"
        w0, b0, o0 = self._t0
        wall = max(self.clock() - w0, 1e-9)
        busy = self._busy_ticks() / self.hz - b0
        own = self._own_cpu() - o0
        return max(0.0, (busy - own) / wall)


@dataclass
class Guarded:
    """The result of a guarded measurement: the least disturbed attempt and its foreign load."""

    result: Any
    foreign_load: float
    attempts: int
    loads: list[float] = field(default_factory=list)


def guarded(
    fn: Callable[[], Any],
    *,
    noisy: float = 0.15,
    retries: int = 2,
    wait: float = 10.0,
    label: str = "",
    monitor: Callable[[], Any] = LoadMonitor,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
) -> Guarded:
    """Runs ``fn()``; while other processes used more than ``noisy`` CPUs meanwhile, waits
    ``wait`` seconds and runs it again (``retries`` times at most). Keeps the least disturbed
    attempt."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    best: Guarded | None = None
    loads: list[float] = []
    for attempt in range(retries + 1):
        mon = monitor()
        mon.start()
        res = fn()
        load = mon.stop()
        loads.append(load)
        if best is None or load < best.foreign_load:
            best = Guarded(res, load, attempt + 1)
        if load <= noisy:
            break
        if attempt < retries:
            log(f"  {label}: other processes used {load:.2f} CPUs meanwhile; waiting {wait:.0f} s, re-measuring")
            sleep(wait)
    assert best is not None
    best.attempts = len(loads)
    best.loads = loads
    return best
