"""Benchmarks: fastnn against its peers (NumPy/OpenBLAS, torch) on the same work, in the same
process, as tables of medians and same-round ratios. ``python -m fastnn bench`` lists the
suites; ``python -m fastnn bench gemm`` runs one.

A suite is a module with

- ``add_arguments(parser)``: its own options (the common ones are added here),
- ``run(args, ctx) -> dict``: measures, prints its table(s) to stdout, returns JSON-able results,
- optionally ``plot(result, path)``: writes a PNG chart (``--png``).

and one line in this file: ``register_suite(name, help, module, peers)``. The module is imported
only when the suite runs, so its peers (torch, threadpoolctl, matplotlib) are imported then too;
``import fastnn`` never imports this package. A peer that is not installed is left out of the
tables, and the run says so in one line, with the pip command that installs it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from . import environment

__all__ = ["Suite", "SUITES", "register_suite", "main", "Context", "missing_peers", "missing_peers_line"]

# The optional peers: pip name -> import name. All are in pyproject's [test] extra and install with
# `pip install "fastnn[test]"`.
PEER_MODULES = {"torch": "torch", "threadpoolctl": "threadpoolctl", "scikit-learn": "sklearn"}
TEST_EXTRA_PEERS = ("torch", "threadpoolctl", "scikit-learn")
NO_TORCH = "no torch timings"


@dataclass(frozen=True)
class Suite:
    """A registered benchmark suite: its name on the command line, a one-line help, the module
    that implements it, and its optional peers as (pip name, what a run without it leaves out)."""

    name: str
    help: str
    module: str
    peers: tuple[tuple[str, str], ...] = ()

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


SUITES: dict[str, Suite] = {}


def register_suite(name: str, help: str, module: str, peers: dict[str, str] | None = None) -> None:
    """Adds a suite to ``python -m fastnn bench``; `peers` maps each optional package the suite
    measures against (its pip name) to what the suite leaves out when it is not installed."""
    if name in SUITES or name == "all":
        raise ValueError(f"benchmark suite {name!r} is already registered")
    SUITES[name] = Suite(name, help, module, tuple((peers or {}).items()))


register_suite("gemm", "SGEMM GFLOP/s: fastnn vs NumPy (OpenBLAS) vs torch (MKL), fraction of the FMA peak",
               "fastnn.bench.gemm", {"torch": NO_TORCH, "threadpoolctl": "no NumPy timings in gemm"})
register_suite("mlp", "MLP training step and batch-1 inference: fastnn vs torch", "fastnn.bench.mlp",
               {"torch": NO_TORCH})
register_suite("embedding", "Embedding(20000, 50) training step and Adam step, sparse and dense: fastnn vs torch",
               "fastnn.bench.embedding", {"torch": NO_TORCH})
register_suite("rnn", "Embedding(20000, 50) + LSTM(64) / GRU(64) / SimpleRNN(5) training step: fastnn vs torch",
               "fastnn.bench.rnn", {"torch": NO_TORCH})
register_suite("sklearn", "MLPClassifier.fit on digits, 200 epochs: fastnn.sklearn vs scikit-learn",
               "fastnn.bench.sklearn_mlp",
               {"scikit-learn": "the sklearn suite is skipped",
                "threadpoolctl": "scikit-learn runs at its default thread count in the sklearn suite"})
register_suite("cnn", "course-notes CNN and LeNet-5 training steps: fastnn vs torch", "fastnn.bench.cnn",
               {"torch": NO_TORCH})
register_suite("pool", "max pooling and batch norm forward + backward on CNN shapes: fastnn vs torch",
               "fastnn.bench.pool", {"torch": NO_TORCH})


def peer_installed(package: str) -> bool:
    """Whether the peer (its pip name) can be imported; found without importing it."""
    module = PEER_MODULES.get(package, package)
    if module in sys.modules:
        return sys.modules[module] is not None  # None: its import is blocked
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_peers(suites: Sequence[Suite]) -> dict[str, list[str]]:
    """The peers of `suites` that are not installed: pip name -> what the suites leave out."""
    missing: dict[str, list[str]] = {}
    for suite in suites:
        for package, effect in suite.peers:
            if not peer_installed(package):
                effects = missing.setdefault(package, [])
                if effect not in effects:
                    effects.append(effect)
    return missing


def missing_peers_line(missing: dict[str, list[str]]) -> str | None:
    """One line: which peers are skipped, what that leaves out, and the pip command that installs
    them; None when nothing is missing."""
    if not missing:
        return None
    what = "; ".join(f"{package} ({', '.join(effects)})" for package, effects in missing.items())
    extra = [p for p in missing if p in TEST_EXTRA_PEERS]
    others = [p for p in missing if p not in TEST_EXTRA_PEERS]
    command = "pip install " + " ".join((['"fastnn[test]"'] if extra else []) + others)
    if extra:
        command += f" (or pip install {' '.join(missing)})"
    return f"peers not installed, so skipped: {what}. Install them with: {command}"


@dataclass
class Context:
    """What every suite gets besides its arguments: the timing settings (after --quick), the
    OpenBLAS environment report, and a progress logger (stderr)."""

    rounds: int
    target: float
    retries: int
    retry_wait: float
    noisy: float
    openblas: dict[str, Any]
    log: Callable[[str], None] = field(default=lambda s: print(s, file=sys.stderr, flush=True))


def _parse_threads(s: str) -> list[int]:
    try:
        ts = [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads takes comma-separated positive integers, got {s!r}") from None
    if not ts or any(t < 1 for t in ts):
        raise argparse.ArgumentTypeError(f"--threads takes comma-separated positive integers, got {s!r}")
    return list(dict.fromkeys(ts))


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        v = -1.0
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {s!r}")
    return v


def positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


def _nonnegative_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {s!r}")
    return v


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=_parse_threads, default=[1, 2],
                   help="comma-separated thread counts for every library (default 1,2)")
    p.add_argument("--quick", action="store_true", help="fewer and shorter rounds (5 x 0.03 s instead of 11 x 0.08 s)")
    p.add_argument("--rounds", type=positive_int, default=None, help="interleaved rounds per measurement")
    p.add_argument("--target", type=_positive_float, default=None, metavar="SECONDS",
                   help="length of one timed block (repetitions are calibrated to it)")
    p.add_argument("--retries", type=_nonnegative_int, default=None,
                   help="re-measurements of a row when other processes were busy (default 1 quick, 2 full)")
    p.add_argument("--json", metavar="PATH", help="write the raw numbers (seconds per call, all rounds) as JSON")
    p.add_argument("--png", metavar="PATH", help="write a bar chart (needs matplotlib)")
    p.add_argument("--format", choices=("md", "plain"), default="md", help="table format (default markdown)")
    p.add_argument("--keep-openblas-env", action="store_true",
                   help="do not strip OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (NumPy then runs with them)")


def _suite_parser(suite: Suite | None, prog: str = "python -m fastnn") -> argparse.ArgumentParser:
    name = suite.name if suite else "all"
    p = argparse.ArgumentParser(prog=f"{prog} bench {name}",
                                description=suite.help if suite else "Run every benchmark suite in turn.")
    add_common_arguments(p)
    if suite is not None:
        suite.load().add_arguments(p)
    return p


def list_suites(out=None, prog: str = "python -m fastnn") -> None:
    out = out or sys.stdout
    print(f"usage: {prog} bench SUITE [options]   ({prog} bench SUITE -h for options)", file=out)
    print("", file=out)
    print("suites:", file=out)
    width = max([len(s) for s in SUITES] + [3])
    for s in SUITES.values():
        print(f"  {s.name:<{width}}  {s.help}", file=out)
    print(f"  {'all':<{width}}  every suite in turn (common options only)", file=out)
    print("", file=out)
    print(f"example: {prog} bench gemm --quick --threads 1", file=out)
    missing = missing_peers(list(SUITES.values()))
    if missing:
        print("", file=out)
        print(missing_peers_line(missing), file=out)


def _write_json(path: str, data: Any) -> None:
    """Writes through a temporary file, so a failed run never leaves half a file behind."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, default=str)
        f.write("\n")
    os.replace(tmp, path)


def _png_path(path: str, suite: str, many: bool) -> str:
    if not many:
        return path
    root, ext = os.path.splitext(path)
    return f"{root}_{suite}{ext or '.png'}"


def main(argv: Sequence[str] | None = None, reexec_command: Sequence[str] | None = None,
         prog: str = "python -m fastnn") -> int:
    """``python -m fastnn bench [SUITE] [options]``.

    Args:
        argv: the arguments after ``bench``.
        reexec_command: the command line that started this process; when given and
            OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, the process re-executes it without them
            (before any suite runs). In-process callers leave it None, and the variables stay.
        prog: how the command was started, for the usage lines (``python -m fastnn`` or ``fastnn``).
    Returns:
        the exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "list"):
        list_suites(prog=prog)
        return 0
    name, rest = argv[0], argv[1:]
    if name != "all" and name not in SUITES:
        print(f"{prog} bench: unknown suite {name!r}", file=sys.stderr)
        list_suites(sys.stderr, prog=prog)
        return 2
    suites = list(SUITES.values()) if name == "all" else [SUITES[name]]
    args = _suite_parser(None if name == "all" else suites[0], prog).parse_args(rest)

    reason = None
    if environment.openblas_vars_set():
        if args.keep_openblas_env:
            reason = "--keep-openblas-env"
        elif reexec_command:
            environment.reexec_without_openblas_env(reexec_command)  # does not return
        else:
            reason = "in-process run (no command to re-execute)"
    ctx = Context(
        rounds=args.rounds or (5 if args.quick else 11),
        target=args.target or (0.03 if args.quick else 0.08),
        retries=args.retries if args.retries is not None else (1 if args.quick else 2),
        retry_wait=3.0 if args.quick else 10.0,
        noisy=0.15,
        openblas=environment.openblas_report(reason),
    )
    missing = missing_peers(suites)
    if missing:
        print(missing_peers_line(missing), flush=True)
    results = []
    for suite in suites:
        mod = suite.load()
        sargs = args if name != "all" else _suite_parser(suite, prog).parse_args(rest)
        t0 = time.perf_counter()
        res = mod.run(sargs, ctx)
        res["wall_s"] = time.perf_counter() - t0
        res["missing_peers"] = sorted(p for p, _ in suite.peers if p in missing)
        results.append(res)
        if args.png:
            path = _png_path(args.png, suite.name, len(suites) > 1)
            plot = getattr(mod, "plot", None)
            if plot is None:
                ctx.log(f"--png: the {suite.name} suite has no chart")
            else:
                try:
                    import matplotlib  # noqa: F401
                except ImportError:
                    ctx.log(f"--png: matplotlib is not installed, so no chart was written to {path} "
                            "(pip install matplotlib)")
                else:
                    plot(res, path)
                    ctx.log(f"wrote {path}")
    if args.json:
        _write_json(args.json, results[0] if len(results) == 1 else {"suites": results})
        ctx.log(f"wrote {args.json}")
    return 0
