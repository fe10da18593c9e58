"""The extended fuzz run: python -m tests.fuzz --calls 300000 --workers 2

Spreads the calls evenly over every _C entry, prints a heartbeat every 30 s, then a table of
calls, outcomes (returned, or the exception type), crashes, hangs and problems per entry, and
every finding with its reproducer. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import fastnn._C as C

from . import runner


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=20000, help="calls in all, spread over the entries")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--call-timeout", type=float, default=10.0, help="seconds after which a call is a hang")
    p.add_argument("--entries", help="comma-separated entry names (default: all)")
    p.add_argument("--json", help="write the results here as JSON")
    a = p.parse_args(argv)
    entries = a.entries.split(",") if a.entries else runner.entries_to_fuzz(C)
    per_entry = math.ceil(a.calls / len(entries))
    print(f"fuzzing {len(entries)} entries of fastnn._C ({C.build_type} build), {per_entry} calls each, "
          f"{a.workers} workers, seed {a.seed}", flush=True)
    start, last_beat, reported = time.time(), [time.time()], set()

    def heartbeat(results):
        for r in results.values():  # each finding as soon as it is known
            for kind, items in (("crash", r.crashes), ("hang", r.hangs)):
                for c in items:
                    if (r.name, c["seed"], c["call"]) not in reported:
                        reported.add((r.name, c["seed"], c["call"]))
                        print(f"    {kind} of {r.name} ({c['how']}): {c['reproducer'].splitlines()[-1]}", flush=True)
        if time.time() - last_beat[0] >= 30:
            last_beat[0] = time.time()
            calls = sum(r.calls for r in results.values())
            bad = sum(len(r.crashes) + len(r.hangs) for r in results.values())
            print(f"    ... {calls} calls, {bad} crashes or hangs, {time.time() - start:.0f} s", flush=True)

    built_at = os.stat(C.__file__).st_mtime
    results = runner.run(entries, per_entry, a.seed, a.workers, a.call_timeout, progress=heartbeat)
    if os.stat(C.__file__).st_mtime != built_at:
        print(f"warning: {C.__file__} was rebuilt during the run; a process that had it mapped can die of "
              "SIGBUS or SIGSEGV, so rerun any crash's reproducer (or fuzz a copy of the package)")
    print(runner.summary(results))
    bad = [r for r in results.values() if not r.ok]
    for r in bad:
        print("\n" + r.failures())
    total = sum(r.calls for r in results.values())
    crashes = sum(len(r.crashes) for r in results.values())
    hangs = sum(len(r.hangs) for r in results.values())
    print(f"\n{total} calls in {time.time() - start:.0f} s: {crashes} crashes, {hangs} hangs, "
          f"{sum(r.outcomes.get('problems', 0) for r in results.values())} other problems")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({n: {"calls": r.calls, "outcomes": r.outcomes, "problems": r.problems, "crashes": r.crashes,
                           "hangs": r.hangs} for n, r in results.items()}, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
