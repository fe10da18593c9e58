"""The machine's single-precision peak, from the FMA-throughput probe built with fastnn
(``_C.fma_peak``: 12 independent FMA accumulator chains per thread, csrc/cpu/peak.h).

The per-core peak is the best of a few short runs on one thread (noise only ever lowers it);
``threads`` threads running at once are measured too, and reported beside it: on a shared or
thermally limited machine their sum can be below per-core peak x threads.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from .. import _C
from .timing import guarded


def probe_isa() -> str | None:
    """The widest FMA ISA this CPU has ('avx512' or 'avx2'), or None (no probe)."""
    isa = _C.detected_isa()
    return isa if isa in ("avx512", "avx2") else None


def measure_peak(threads: Sequence[int], seconds: float = 0.2, repeats: int = 5, retries: int = 2,
                 wait: float = 10.0, log=None) -> dict[str, Any]:
    """{'isa', 'per_core_gflops' (best of `repeats`), 'per_core_median_gflops',
    'concurrent_gflops': {threads: best sum}, 'foreign_load'}; isa None when there is no probe."""
    isa = probe_isa()
    if isa is None:
        return {"isa": None, "per_core_gflops": None, "note": f"no FMA probe for the {_C.detected_isa()} ISA"}

    def run() -> dict[str, Any]:
        one = [_C.fma_peak(isa, seconds, 1) for _ in range(repeats)]
        conc = {str(t): max(_C.fma_peak(isa, seconds, t) for _ in range(max(1, repeats // 2)))
                for t in threads if t > 1}
        return {"one": one, "concurrent": conc}

    g = guarded(run, retries=retries, wait=wait, label="FMA peak", log=log)
    one = g.result["one"]
    return {
        "isa": isa,
        "accumulators": 12,
        "seconds_per_run": seconds,
        "per_core_gflops": max(one),
        "per_core_median_gflops": statistics.median(one),
        "per_core_runs_gflops": one,
        "concurrent_gflops": g.result["concurrent"],
        "foreign_load": g.foreign_load,
        "attempts": g.attempts,
    }
