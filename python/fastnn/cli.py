"""The command line: ``python -m fastnn info`` (build, SIMD level, threads, CUDA),
``python -m fastnn demo`` (an MLP on the bundled digits) and
``python -m fastnn bench [SUITE]`` (benchmarks against NumPy and torch, see fastnn.bench)."""

from __future__ import annotations

import argparse
import platform
import sys

from . import _C, cuda, get_num_threads


def info() -> dict:
    """What this fastnn build is and what it will use on this machine."""
    d = {
        "fastnn": _C.__version__,
        "build type": _C.build_type,
        "python": platform.python_version(),
        "SIMD detected": _C.detected_isa(),
        "SIMD in use": _C.active_isa(),
        "threads": get_num_threads(),
        "CUDA built": cuda.is_built(),
        "CUDA available": cuda.is_available(),
    }
    if cuda.is_available():
        d["CUDA devices"] = ", ".join(cuda.get_device_name(i) for i in range(cuda.device_count()))
    return d


def _print_info(args) -> int:
    for k, v in info().items():
        if isinstance(v, bool):
            v = "yes" if v else "no"
        print(f"{k + ':':<16} {v}")
    return 0


def _demo(epochs: int) -> int:
    from .demo import main as demo_main

    demo_main(epochs=epochs)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; `argv` None means this process's own arguments."""
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in and args_in[0] == "bench":
        from . import bench  # imported only here: the peers it measures are optional

        # a real command line may be re-executed (to strip OPENBLAS_* before NumPy loads)
        from .bench.environment import current_command

        return bench.main(args_in[1:], reexec_command=current_command() if argv is None else None)
    parser = argparse.ArgumentParser(prog="python -m fastnn", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="print the version, build, SIMD level, threads and CUDA status").set_defaults(
        func=_print_info
    )
    demo = sub.add_parser("demo", help="train an MLP on the bundled digits and print accuracy and confusion matrix")
    demo.add_argument("--epochs", type=int, default=20)
    demo.set_defaults(func=lambda a: _demo(a.epochs))
    sub.add_parser("bench", help="benchmarks against NumPy and torch (python -m fastnn bench lists the suites)",
                   add_help=False)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
