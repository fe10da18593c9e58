"""The GEMM suite: C = op(A) B in float32, GFLOP/s of fastnn, NumPy (OpenBLAS) and torch (MKL)
on the same arrays in the same process, the same-round ratios fastnn/peer, and fastnn's
fraction of the FMA peak (per-core peak x threads).

fastnn is timed through ``_C.sgemm`` into a preallocated C (beta = 0), NumPy through
``np.matmul(..., out=C)`` and torch through ``torch.mm(..., out=C)``, so no library pays for
allocating its result; ``--api matmul`` times ``fastnn.matmul`` on fastnn tensors instead
(allocation included). Shapes are (M, K, N): C is M x N, A is M x K (stored K x M when
transposed: the weight-gradient GEMMs of a convolution), B is K x N.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from . import environment, table
from .peak import measure_peak
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio

LIBS = ("fastnn", "numpy", "torch")


@dataclass(frozen=True)
class GemmShape:
    """C (M x N) = op(A) (M x K) B (K x N); trans_a: A is stored K x M."""

    name: str
    M: int
    K: int
    N: int
    trans_a: bool = False
    group: str = "dl"

    @property
    def id(self) -> str:
        return str(self.M) if self.group == "square" else f"{self.M}x{self.K}x{self.N}"

    @property
    def flop(self) -> float:
        return 2.0 * self.M * self.N * self.K


SHAPES: tuple[GemmShape, ...] = tuple(GemmShape(f"square {n}", n, n, n, group="square")
                                      for n in (128, 256, 512, 1024, 2048)) + (
    GemmShape("dense b64 784->256", 64, 784, 256),
    GemmShape("dense b128 784->256", 128, 784, 256),
    GemmShape("dense b256 512->512", 256, 512, 512),
    GemmShape("conv1 im2col fwd", 8192, 75, 32),
    GemmShape("conv2 im2col fwd", 1152, 800, 32),
    GemmShape("conv1 dW = col^T dY", 75, 8192, 32, trans_a=True),
    GemmShape("conv2 dW = col^T dY", 800, 1152, 32, trans_a=True),
    GemmShape("conv2 dcol = dY W^T", 1152, 32, 800),
    GemmShape("fc 32x288->512", 32, 288, 512),
)


def select_shapes(spec: str | None) -> list[GemmShape]:
    """Shapes named by a comma-separated filter: an id ('512' for square 512, '64x784x256'), a
    group ('square', 'dl') or a piece of a name ('conv', 'dense'). None or '' selects all."""
    if not spec:
        return list(SHAPES)
    chosen: set[GemmShape] = set()
    for tok in (t.strip().lower() for t in spec.split(",")):
        if not tok:
            continue
        hit = [s for s in SHAPES if s.id == tok] or [s for s in SHAPES if s.group == tok] or [
            s for s in SHAPES if tok in s.name.lower()]
        if not hit:
            ids = ", ".join(s.id for s in SHAPES)
            raise ValueError(f"--shapes: {tok!r} matches no shape; ids are {ids}, groups square and dl, "
                             "or a piece of a name (conv, dense, ...)")
        chosen.update(hit)
    return [s for s in SHAPES if s in chosen]


def _shapes_arg(spec: str) -> str:
    try:
        select_shapes(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return spec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shapes", type=_shapes_arg, default=None,
                   help="comma-separated filter: ids (128, 64x784x256), groups (square, dl) or name pieces (conv)")
    p.add_argument("--api", choices=("sgemm", "matmul"), default="sgemm",
                   help="time fastnn through _C.sgemm into a preallocated C (default) or fastnn.matmul")
    p.add_argument("--peak-seconds", type=float, default=None, metavar="SECONDS",
                   help="length of one FMA-probe run (default 0.1 quick, 0.25 full)")


def _optional_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _fastnn_call(shape: GemmShape, A, B, C, api: str):
    import fastnn
    from fastnn import _C

    M, K, N, ta = shape.M, shape.K, shape.N, shape.trans_a
    if api == "matmul":
        fa, fb = fastnn.tensor(A), fastnn.tensor(B)
        return lambda: fastnn.matmul(fa, fb, transpose_a=ta)
    lda = M if ta else K
    return lambda: _C.sgemm(ta, False, M, N, K, 1.0, A, lda, B, N, 0.0, C, N)


def _measure_shape(shape: GemmShape, threads: list[int], ctl: ThreadControl, libs: list[str], ctx, api: str,
                   seed: int) -> dict[str, Any]:
    import numpy as np

    torch = _optional_torch() if "torch" in libs else None
    rng = np.random.default_rng(seed)
    M, K, N, ta = shape.M, shape.K, shape.N, shape.trans_a
    A = rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32)
    B = rng.standard_normal((K, N), dtype=np.float32)
    Cf = np.empty((M, N), np.float32)
    Cn = np.empty((M, N), np.float32)
    An = A.T if ta else A
    fns = {"fastnn": _fastnn_call(shape, A, B, Cf, api), "numpy": lambda: np.matmul(An, B, out=Cn)}
    if torch is not None:
        tA, tB, tC = torch.from_numpy(A.copy()), torch.from_numpy(B.copy()), torch.empty(M, N)
        tAn = tA.t() if ta else tA
        fns["torch"] = lambda: torch.mm(tAn, tB, out=tC)
    cands = [Candidate(f"{lib}|{t}", lib, t, fns[lib]) for t in threads for lib in libs]
    g = guarded(lambda: measure(cands, ctl, target=ctx.target, rounds=ctx.rounds),
                noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait, label=shape.name, log=ctx.log)
    st = g.result
    # sanity: fastnn's product against NumPy's
    got = np.asarray(fns["fastnn"]() if api == "matmul" else (fns["fastnn"](), Cf)[1])
    np.matmul(An, B, out=Cn)
    rel = float(np.max(np.abs(got - Cn)) / (np.max(np.abs(Cn)) + 1e-30)) if Cn.size else 0.0
    row: dict[str, Any] = {"name": shape.name, "id": shape.id, "M": M, "K": K, "N": N, "trans_a": ta,
                           "gflop": shape.flop * 1e-9, "rel_diff_fastnn_numpy": rel,
                           "foreign_load": g.foreign_load, "attempts": g.attempts, "by_threads": {}}
    for t in threads:
        d: dict[str, Any] = {}
        for lib in libs:
            s = st[f"{lib}|{t}"]
            d[lib] = dict(s.to_dict(), gflops_median=shape.flop / s.median * 1e-9,
                          gflops_best=shape.flop / s.min * 1e-9)
        f = st[f"fastnn|{t}"]
        for lib in libs[1:]:
            d[f"fastnn_over_{lib}"] = same_round_ratio(f, st[f"{lib}|{t}"])
        row["by_threads"][str(t)] = d
    return row


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    """Measures every selected shape at every thread count; prints the tables; returns the record."""
    import numpy  # noqa: F401  (NumPy's OpenBLAS is loaded now, in the cleaned environment)

    from .timing import blas_controller

    shapes = select_shapes(args.shapes)
    threads: list[int] = args.threads
    notes: list[str] = []
    libs = ["fastnn", "numpy"]
    if _optional_torch() is not None:
        libs.append("torch")
    else:
        notes.append("torch is not installed: its columns are n/a (pip install torch)")
    if blas_controller() is None:
        libs.remove("numpy")
        notes.append("threadpoolctl is not installed, so NumPy's thread count cannot be set: "
                     "its columns are n/a (pip install threadpoolctl)")
    ctl = ThreadControl.default(libs)
    info = environment.machine_info()
    blas = environment.blas_info()
    seconds = args.peak_seconds or (0.1 if args.quick else 0.25)
    ctx.log(f"[gemm] FMA peak probe ({seconds:g} s runs) ...")
    peak = measure_peak(threads, seconds=seconds, repeats=3 if args.quick else 5, retries=ctx.retries,
                        wait=ctx.retry_wait, log=ctx.log)
    rows = []
    try:
        for i, shape in enumerate(shapes):
            row = _measure_shape(shape, threads, ctl, libs, ctx, args.api, seed=i)
            rows.append(row)
            per_t = [f"{t}T " + " ".join(f"{lib} {row['by_threads'][str(t)][lib]['gflops_median']:.1f}"
                                         for lib in libs) for t in threads]
            ctx.log(f"  {shape.name:<22} " + " | ".join(per_t))
    finally:
        ctl.restore()
    result: dict[str, Any] = {
        "suite": "gemm",
        "quick": bool(args.quick),
        "threads": threads,
        "rounds": ctx.rounds,
        "target_s": ctx.target,
        "api": args.api,
        "libs": libs,
        "env": dict(info, blas=blas, openblas_env=ctx.openblas),
        "peak": peak,
        "rows": rows,
        "notes": notes,
    }
    for t in threads:
        for r in rows:
            pk = peak.get("per_core_gflops")
            fr = r["by_threads"][str(t)]["fastnn"]["gflops_median"] / (pk * t) if pk else None
            r["by_threads"][str(t)]["fastnn_peak_fraction"] = fr
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    """The report: a header (versions, BLAS kernel, OpenBLAS variables, peak) and one table per
    thread count."""
    env, peak, libs = result["env"], result["peak"], result["libs"]
    L: list[str] = []
    h = "## " if fmt == "md" else ""
    L.append(f"{h}GEMM C = op(A) B, float32: GFLOP/s, median of {result['rounds']} interleaved rounds "
             f"(~{result['target_s']:g} s timed blocks)")
    L.append("")
    how = ("_C.sgemm into a preallocated C" if result["api"] == "sgemm" else "fastnn.matmul (allocates C)")
    torch_s = (f"torch {env['torch']} ({'MKL' if env.get('torch_mkl') else 'no MKL'}, "
               f"{env.get('torch_cpu_capability')})" if env.get("torch") else "torch not installed")
    L.append(f"- fastnn {env['fastnn']} ({env['fastnn_isa_active']} kernels, {how}); NumPy {env['numpy']} "
             f"({environment.describe_blas(env['blas'])}); {torch_s}")
    L.append(f"- CPU: {env['cpu']}, {env['cpus']} CPUs")
    ob = env["openblas_env"]
    stripped = ", ".join(ob["stripped"]) if ob["stripped"] else "none were set"
    now = ", ".join(f"{k}={v}" for k, v in ob["now"].items() if v is not None) or "neither set"
    line = f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE stripped before NumPy loaded: {stripped}; now: {now}"
    if ob.get("not_stripped"):
        line += f" (not stripped: {ob['not_stripped']})"
    L.append(line)
    pk = peak.get("per_core_gflops")
    if pk:
        conc = "; ".join(f"{t} threads at once {v:.1f}" for t, v in peak["concurrent_gflops"].items())
        L.append(f"- FMA peak ({peak['isa']}, 12 accumulators): {pk:.1f} GFLOP/s per core (best of "
                 f"{len(peak['per_core_runs_gflops'])}, median {peak['per_core_median_gflops']:.1f})"
                 + (f"; {conc}" if conc else "") + "; '% peak' = fastnn / (per-core peak x threads)"
                 + (f" (other processes used {peak['foreign_load']:.2f} CPUs during the probe: the peak reads low)"
                    if peak.get("foreign_load", 0) > 0.15 else ""))
    else:
        L.append(f"- FMA peak: n/a ({peak.get('note')})")
    for n in result["notes"]:
        L.append(f"- note: {n}")
    names = {"fastnn": "fastnn", "numpy": "NumPy", "torch": "torch"}
    for t in result["threads"]:
        L.append("")
        tp = f", peak {pk * t:.1f} GFLOP/s" if pk else ""
        L.append(f"{'### ' if fmt == 'md' else ''}{t} thread{'s' if t > 1 else ''}{tp}")
        L.append("")
        header = ["shape", "M, K, N"] + [names[x] for x in LIBS] + ["fastnn/NumPy", "fastnn/torch", "% peak"]
        rows = []
        for r in result["rows"]:
            d = r["by_threads"][str(t)]
            mark = ("*" if r["foreign_load"] > 0.15 else "") + ("!" if r["rel_diff_fastnn_numpy"] > 1e-3 else "")
            cells = [r["name"] + mark, _mkn(r)]
            cells += [table.gflops(d[x]["gflops_median"]) if x in libs else "n/a" for x in LIBS]
            cells += [table.ratio(d.get(f"fastnn_over_{x}")) for x in ("numpy", "torch")]
            cells.append(table.percent(d.get("fastnn_peak_fraction")))
            rows.append(cells)
        L.append(table.render(header, rows, fmt))
    L.append("")
    L.append("fastnn/peer: median over rounds of the same-round time ratio t_peer / t_fastnn (> 1: fastnn is "
             "faster). * other processes used more than 0.15 CPUs while the row was measured (after "
             "re-measuring): its numbers are less reliable. ! fastnn's result differs from NumPy's by more "
             "than 1e-3 (relative to max |C|).")
    return "\n".join(L)


def _mkn(r: dict[str, Any]) -> str:
    return f"{r['M']}, {r['K']}, {r['N']}" + (" (A^T)" if r["trans_a"] else "")


def plot(result: dict[str, Any], path: str) -> None:
    """A bar chart per thread count: GFLOP/s of each library per shape, the peak as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads, rows, libs = result["threads"], result["rows"], result["libs"]
    fig, axes = plt.subplots(len(threads), 1, figsize=(max(8, 0.9 * len(rows) + 2), 4 * len(threads)),
                             squeeze=False)
    w = 0.8 / len(libs)
    pk = result["peak"].get("per_core_gflops")
    for ax, t in zip(axes[:, 0], threads):
        for j, lib in enumerate(libs):
            ys = [r["by_threads"][str(t)][lib]["gflops_median"] for r in rows]
            ax.bar([i + (j - (len(libs) - 1) / 2) * w for i in range(len(rows))], ys, w, label=lib)
        if pk:
            ax.axhline(pk * t, color="k", ls="--", lw=1, label=f"FMA peak x {t}")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["name"] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("GFLOP/s (median)")
        ax.set_title(f"SGEMM, {t} thread{'s' if t > 1 else ''}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
