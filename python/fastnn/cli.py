"""The command line, ``python -m fastnn`` or (once fastnn is installed with pip) the ``fastnn``
console command: ``info`` (build, SIMD level, threads, CUDA), ``demo`` (an MLP on the bundled
digits) and ``bench [SUITE]`` (benchmarks against NumPy, torch and scikit-learn, see fastnn.bench)."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from . import _C, cuda, get_num_threads

MODULE_PROG = "python -m fastnn"
SCRIPT_PROG = "fastnn"  # pyproject.toml: [project.scripts] fastnn = "fastnn.cli:main"


def prog_name(argv0: str | None = None) -> str:
    """How this process was started, for the usage lines: ``fastnn`` when through the console
    command (argv[0] is the ``fastnn`` script pip wrote), else ``python -m fastnn``."""
    if argv0 is None:
        argv0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(argv0)
    for suffix in (".exe", "-script.py", "-script.pyw"):  # the wrappers pip writes on Windows
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return SCRIPT_PROG if name == SCRIPT_PROG else MODULE_PROG


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


def _description(prog: str) -> str:
    return (f"fastnn {_C.__version__}: a Keras-style deep-learning library on hand-written C++ and CUDA kernels.\n\n"
            f"The commands run as '{MODULE_PROG} COMMAND' and, once fastnn is installed with pip, as\n"
            f"'{SCRIPT_PROG} COMMAND' (the console command pip installs with it): the two are the same.\n"
            f"'{prog} COMMAND -h' shows the options of one command.")


def _epilog(prog: str) -> str:
    rows = [
        ("info", "the version, build type, SIMD level, threads and CUDA status"),
        ("demo --epochs 5", "train a small MLP on the bundled digits (nothing is downloaded)"),
        ("bench", "list the benchmark suites"),
        ("bench gemm --quick", "one suite, with short rounds"),
        ("bench SUITE -h", "the options of one suite"),
    ]
    width = max(len(f"{prog} {cmd}") for cmd, _ in rows)
    lines = ["examples:"] + [f"  {f'{prog} {cmd}':<{width}}  {what}" for cmd, what in rows]
    lines += ["",
              "The benchmarks compare against torch, threadpoolctl (NumPy's thread count) and scikit-learn when",
              "they are installed: pip install \"fastnn[test]\". A suite says which peers it skips."]
    return "\n".join(lines)


def build_parser(prog: str = MODULE_PROG) -> argparse.ArgumentParser:
    """The argument parser of the command line (``bench`` is handed to fastnn.bench before it)."""
    from .bench import positive_int  # the argument types of the command line live with the suites'

    parser = argparse.ArgumentParser(prog=prog, description=_description(prog), epilog=_epilog(prog),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"fastnn {_C.__version__}",
                        help="print the version of fastnn and exit")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    sub.add_parser("info", help="print the version, build, SIMD level, threads and CUDA status",
                   description="Print what this fastnn build is (version, build type, SIMD level detected and in "
                               "use) and what it uses on this machine (threads, CUDA devices).").set_defaults(
        func=_print_info
    )
    demo = sub.add_parser("demo", help="train an MLP on the bundled digits and print accuracy and confusion matrix",
                          description="Train a Keras-style MLP on the bundled 8x8 handwritten digits "
                                      "(nothing is downloaded), then print the test accuracy and the confusion "
                                      "matrix.")
    demo.add_argument("--epochs", type=positive_int, default=20, metavar="N",
                      help="passes over the training images (default 20)")
    demo.set_defaults(func=lambda a: _demo(a.epochs))
    sub.add_parser("bench", help=f"benchmarks against NumPy, torch and scikit-learn ('{prog} bench' lists the suites)",
                   add_help=False)
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Runs the command line; `argv` None means this process's own arguments, and `prog` None
    means the name it was started by (``fastnn`` or ``python -m fastnn``)."""
    prog = prog or prog_name()
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in and args_in[0] == "bench":
        from . import bench  # imported only here: the peers it measures are optional

        # a real command line may be re-executed (to strip OPENBLAS_* before NumPy loads)
        from .bench.environment import current_command

        return bench.main(args_in[1:], reexec_command=current_command() if argv is None else None, prog=prog)
    parser = build_parser(prog)
    args = parser.parse_args(args_in)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
