"""Property-based fuzzing of every fastnn._C entry (issue 13: no input crashes the process,
hangs, or writes where it must not).

Layout, from the bottom up:
  values.py   ArraySpec: an array described by a few numbers (shape, dtype, fill, layout,
              read-only kind), built the same way from its repr, so that a reproducer is exact.
  draw.py     Draw: the vocabulary of plausible and hostile arguments on top of hypothesis.
  entries.py  one generator per _C entry (and a few layer constructors), in the binding order.
  worker.py   runs in a subprocess: calls one or more entries, recording each call before it is
              made, so that a crash (signal, sanitizer abort) or a hang names its reproducer.
  runner.py   the parent: a pool of worker subprocesses, crashes and hangs told apart from
              clean exceptions, figures per entry.
  __main__.py the extended run: python -m tests.fuzz --calls 300000 --workers 2
tests/test_fuzz_kernels.py runs a bounded budget of the same fuzzers under pytest.
"""
