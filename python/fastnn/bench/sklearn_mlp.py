"""The sklearn suite: ``fastnn.sklearn.MLPClassifier.fit`` against scikit-learn's own
``MLPClassifier.fit`` on the digits data (1797 x 64, 10 classes, X / 16), one hidden layer of 256
relu units, Adam, batch 200, the same random_state.

Both run exactly ``--epochs`` epochs (``n_iter_no_change`` = epochs, so the tol rule never stops
one of them earlier than the other) and the same work: the time is one whole fit, the median of
interleaved rounds (fastnn.bench.timing), and the ratio is t_sklearn / t_fastnn in the same
round. The thread count of each side is set before each of its fits: fastnn.set_num_threads, and
threadpoolctl for sklearn's BLAS. A separate fit on a 75/25 split gives each side's test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=200, help="epochs per fit (default 200)")
    p.add_argument("--hidden", type=int, default=256, help="hidden units (default 256)")


def _data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _estimators(epochs: int, hidden: int):
    from sklearn.neural_network import MLPClassifier as SkMLP

    from ..sklearn import MLPClassifier

    kw = dict(hidden_layer_sizes=(hidden,), max_iter=epochs, n_iter_no_change=epochs, random_state=0)
    return {"fastnn": lambda: MLPClassifier(**kw), "sklearn": lambda: SkMLP(**kw)}


def _quiet_fit(est, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    try:
        import sklearn  # noqa: F401
    except ImportError:  # bench.main has said so, with the pip command
        return {"suite": "sklearn", "skipped": "scikit-learn is not installed"}
    from sklearn.model_selection import train_test_split

    X, y = _data()
    makers = _estimators(args.epochs, args.hidden)
    lib_of = {"fastnn": "fastnn", "sklearn": "numpy"}
    ctl = ThreadControl.default(["fastnn", "numpy"])
    rows: dict[str, Any] = {k: {} for k in makers}
    accuracy: dict[str, float] = {}
    try:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
        for name, make in makers.items():
            ctl.set(lib_of[name], args.threads[0])
            accuracy[name] = float(_quiet_fit(make(), Xtr, ytr).score(Xte, yte))
        for t in args.threads:
            cands = [Candidate(f"{n}|{t}", lib_of[n], t, lambda m=m: _quiet_fit(m(), X, y)) for n, m in makers.items()]
            # a fit lasts seconds: one call per round, no calibration beyond that
            res = guarded(lambda c=cands: measure(c, ctl, target=1e-3, rounds=max(3, ctx.rounds // 2), warmup=1),
                          noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait, label=f"sklearn {t}T",
                          log=ctx.log)
            for n in makers:
                rows[n][str(t)] = dict(res.result[f"{n}|{t}"].to_dict(), foreign_load=res.foreign_load)
            rows["sklearn"][str(t)]["fastnn_speedup"] = same_round_ratio(res.result[f"fastnn|{t}"],
                                                                         res.result[f"sklearn|{t}"])
    finally:
        ctl.restore()
    result = {"suite": "sklearn", "threads": args.threads, "epochs": args.epochs, "hidden": args.hidden,
              "rounds": max(3, ctx.rounds // 2), "env": environment.machine_info(), "rows": rows,
              "test_accuracy": accuracy}
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    if "skipped" in result:
        return f"sklearn suite skipped: {result['skipped']}"
    h = "## " if fmt == "md" else ""
    L = [f"{h}MLPClassifier.fit on digits (1797 x 64, 10 classes), hidden ({result['hidden']},) relu, Adam, "
         f"{result['epochs']} epochs: median seconds per fit, {result['rounds']} interleaved rounds", ""]
    acc = result["test_accuracy"]
    L.append("- speedup = t_sklearn / t_fastnn in the same rounds (> 1: fastnn is faster); test accuracy (75/25 "
             f"split): fastnn {acc['fastnn']:.4f}, sklearn {acc['sklearn']:.4f}")
    L.append("")
    threads = result["threads"]
    header = ["fit"] + [f"{t}T" for t in threads] + [f"{t}T speedup" for t in threads]
    body = []
    for name, d in result["rows"].items():
        cells = [f"{name} MLPClassifier"] + [f"{d[str(t)]['median_s']:.3f} s" for t in threads]
        cells += [table.ratio(d[str(t)].get("fastnn_speedup")) for t in threads]
        body.append(cells)
    L.append(table.render(header, body, fmt))
    return "\n".join(L)
