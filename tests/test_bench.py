"""The benchmark harness (fastnn.bench): the FMA peak probe, the timing statistics on a fake
clock, the tables, and `python -m fastnn bench gemm` end to end. No speed is asserted here."""

import json
import os
import subprocess
import sys

import fastnn
import pytest
from fastnn import _C
from fastnn.bench import gemm, table, timing

ISAS = ("avx512", "avx2")
LEVEL = {"generic": 0, "avx2": 1, "avx512": 2}


@pytest.mark.parametrize("isa", ISAS)
def test_fma_peak_positive_for_each_isa_the_cpu_has(isa):
    if LEVEL[_C.detected_isa()] < LEVEL[isa]:
        with pytest.raises(ValueError, match="does not support"):
            _C.fma_peak(isa, 0.01, 1)
        return
    g1 = _C.fma_peak(isa, 0.02, 1)
    # one core of any x86-64 with FMA: between a slow laptop core and far beyond today's cores
    assert 1.0 < g1 < 1000.0
    g2 = _C.fma_peak(isa, 0.02, 2)
    assert 1.0 < g2 < 2000.0


@pytest.mark.parametrize("args, match", [
    (("generic", 0.01, 1), "no FMA probe"),
    (("sse9", 0.01, 1), "unknown ISA"),
    (("avx2", 0.0, 1), "seconds"),
    (("avx2", 100.0, 1), "seconds"),
    (("avx2", 0.01, 0), "threads"),
])
def test_fma_peak_rejects_bad_arguments(args, match):
    if LEVEL[_C.detected_isa()] < 1 and args[0] == "avx2":
        pytest.skip("no AVX2 on this CPU")
    with pytest.raises(ValueError, match=match):
        _C.fma_peak(*args)


class FakeClock:
    """A clock that advances only when a timed function runs or the harness sleeps."""

    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(s)
        self.t += s


def test_measure_statistics_on_a_fake_clock():
    clk = FakeClock()
    n_fast = [0]

    def fast():  # 1 ms per call
        n_fast[0] += 1
        clk.t += 0.001

    def slow():  # 4 ms per call
        clk.t += 0.004

    calls = []
    cands = [timing.Candidate("fast", "fastnn", 1, fast), timing.Candidate("slow", "numpy", 1, slow)]
    ctl = timing.ThreadControl({"fastnn": lambda t: calls.append(("fastnn", t)),
                                "numpy": lambda t: calls.append(("numpy", t))})
    st = timing.measure(cands, ctl, target=0.02, rounds=5, warmup=2, clock=clk, sleep=clk.sleep)
    assert st["fast"].reps == 20 and st["slow"].reps == 5  # calibrated to the 0.02 s target
    assert st["fast"].samples == pytest.approx([0.001] * 5)
    assert st["slow"].median == pytest.approx(0.004) and st["slow"].min == pytest.approx(0.004)
    # warm-up (2) + calibration (1) + per round one untimed call and a block of 20
    assert n_fast[0] == 3 + 5 * 21
    assert timing.same_round_ratio(st["fast"], st["slow"]) == pytest.approx(4.0)
    assert clk.sleeps == []  # single-threaded: no spin sleeps
    assert calls == [("fastnn", 1), ("numpy", 1)]  # each thread count set once


def test_a_block_slowed_down_by_other_processes_is_cut_short():
    clk = FakeClock()
    n = [0]

    def f():  # 1 ms per call for warm-up and calibration, then 100 times slower
        n[0] += 1
        clk.t += 0.001 if n[0] <= 3 else 0.1

    st = timing.measure([timing.Candidate("f", "fastnn", 1, f)], None, target=0.032, rounds=1, warmup=2,
                        clock=clk, sleep=clk.sleep)
    assert st["f"].reps == 32 and st["f"].samples == pytest.approx([0.1])
    # calls checked every 32 // 16 = 2: the block stops once 10 x target = 0.32 s have passed
    assert n[0] == 3 + 1 + 4


def test_median_min_and_same_round_ratio():
    a = timing.Stats([3.0, 1.0, 2.0, 10.0, 2.5], reps=1)
    assert a.median == 2.5 and a.min == 1.0 and a.max == 10.0
    b = timing.Stats([6.0, 2.0, 4.0, 10.0, 7.5], reps=1)
    assert timing.same_round_ratio(a, b) == 2.0  # ratios 2, 2, 2, 1, 3
    d = a.to_dict()
    assert d["median_s"] == 2.5 and d["rounds"] == 5 and d["samples_s"] == a.samples


def test_spin_sleep_after_multithreaded_blocks_of_another_library():
    clk = FakeClock()
    order = []

    def mk(name):
        def f():
            order.append(name)
            clk.t += 0.02  # longer than a block: reps 1, no untimed re-warm call
        return f

    cands = [timing.Candidate("np2", "numpy", 2, mk("np2")), timing.Candidate("fn2", "fastnn", 2, mk("fn2")),
             timing.Candidate("fn1", "fastnn", 1, mk("fn1"))]
    st = timing.measure(cands, None, target=0.01, rounds=2, warmup=0, clock=clk, sleep=clk.sleep)
    assert all(s.reps == 1 for s in st.values())
    # calibration, round 0 in order, round 1 reversed
    assert order == ["np2", "fn2", "fn1"] * 2 + ["fn1", "fn2", "np2"]
    # after 2-thread numpy before fastnn (0.11) twice, after 2-thread fastnn before numpy (0.02),
    # and after the last 2-thread block; never after 1-thread blocks or within one library
    N, O = timing.NUMPY_SPIN_SLEEP, timing.OMP_SPIN_SLEEP
    assert clk.sleeps == [N, N, O, N]


def test_guarded_remeasures_when_other_processes_were_busy():
    loads = iter([0.9, 0.4, 0.6])

    class Mon:
        def start(self):
            pass

        def stop(self):
            return next(loads)

    results = iter(["a", "b", "c"])
    slept, logged = [], []
    g = timing.guarded(lambda: next(results), noisy=0.15, retries=2, wait=5.0, monitor=Mon,
                       sleep=slept.append, log=logged.append)
    assert g.result == "b" and g.foreign_load == 0.4 and g.attempts == 3 and g.loads == [0.9, 0.4, 0.6]
    assert slept == [5.0, 5.0] and len(logged) == 2
    quiet = iter([0.0])

    class Quiet(Mon):
        def stop(self):
            return next(quiet)

    g = timing.guarded(lambda: "x", monitor=Quiet, sleep=slept.append, log=logged.append)
    assert g.result == "x" and g.attempts == 1


def test_load_monitor_reads_proc_stat():
    mon = timing.LoadMonitor()
    mon.start()
    sum(range(10000))
    assert mon.stop() >= 0.0


def test_table_markdown_and_plain():
    md = table.render(["shape", "GFLOP/s"], [["square 128", "56.7"], ["x", "n/a"]], "md")
    lines = md.splitlines()
    assert lines[0].startswith("| shape") and lines[1].endswith(":|") and len(lines) == 4
    plain = table.render(["a", "b"], [["1", "22"]], "plain")
    assert plain.splitlines()[2] == "1  22"
    with pytest.raises(ValueError, match="cells"):
        table.render(["a"], [["1", "2"]])
    with pytest.raises(ValueError, match="format"):
        table.render(["a"], [["1"]], "html")


def test_shape_selection():
    assert [s.id for s in gemm.select_shapes("128")] == ["128"]
    assert len(gemm.select_shapes("square")) == 5 and len(gemm.select_shapes(None)) == 14
    assert [s.name for s in gemm.select_shapes("75x8192x32")] == ["conv1 dW = col^T dY"]
    assert all(s.trans_a for s in gemm.select_shapes("dW"))
    with pytest.raises(ValueError, match="matches no shape"):
        gemm.select_shapes("999")


def test_python_m_fastnn_bench_gemm_end_to_end(tmp_path):
    out = tmp_path / "out.json"
    # a forced OpenBLAS core type must be stripped by re-executing before NumPy loads
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell", "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(fastnn.__file__)), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "fastnn", "bench", "gemm", "--quick", "--shapes", "128", "--threads", "1",
           "--rounds", "2", "--target", "0.003", "--retries", "0", "--peak-seconds", "0.01", "--json", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "| square 128" in p.stdout and "fastnn/NumPy" in p.stdout and "OPENBLAS_CORETYPE=Haswell" in p.stdout
    r = json.loads(out.read_text())
    assert r["suite"] == "gemm" and r["threads"] == [1] and r["rounds"] == 2
    assert r["env"]["openblas_env"]["stripped"] == ["OPENBLAS_CORETYPE=Haswell"]
    assert r["env"]["openblas_env"]["now"]["OPENBLAS_CORETYPE"] is None
    assert r["peak"]["per_core_gflops"] is None or r["peak"]["per_core_gflops"] > 0
    (row,) = r["rows"]
    assert (row["M"], row["K"], row["N"], row["trans_a"]) == (128, 128, 128, False)
    assert row["rel_diff_fastnn_numpy"] < 1e-4
    d = row["by_threads"]["1"]
    for lib in r["libs"]:
        assert d[lib]["gflops_median"] > 0 and len(d[lib]["samples_s"]) == 2
    assert "fastnn_over_numpy" in d and "fastnn_peak_fraction" in d


def test_bench_lists_suites_and_rejects_unknown():
    from fastnn import cli

    assert cli.main(["bench"]) == 0
    assert cli.main(["bench", "nosuch"]) == 2


def test_import_fastnn_does_not_import_bench_or_torch():
    code = "import sys, fastnn; print('fastnn.bench' in sys.modules, 'torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(fastnn.__file__))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["False", "False"]


def test_bench_sklearn_suite_in_process(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("threadpoolctl")
    from fastnn import bench

    out = tmp_path / "sk.json"
    assert bench.main(["sklearn", "--quick", "--threads", "1", "--epochs", "2", "--hidden", "8", "--retries", "0",
                       "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| fastnn MLPClassifier" in text and "| sklearn MLPClassifier" in text and "2 epochs" in text
    r = json.loads(out.read_text())
    assert r["suite"] == "sklearn" and r["epochs"] == 2 and r["rounds"] == 3
    assert r["rows"]["sklearn"]["1"]["fastnn_speedup"] > 0 and len(r["rows"]["fastnn"]["1"]["samples_s"]) == 3
    assert 0 <= r["test_accuracy"]["fastnn"] <= 1


def test_bench_cnn_suite_in_process(tmp_path, capsys):
    from fastnn import bench

    out = tmp_path / "cnn.json"
    assert bench.main(["cnn", "--quick", "--threads", "1", "--model", "lenet5", "--retries", "0",
                       "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| lenet5 fastnn" in text and "| lenet5 torch" in text
    r = json.loads(out.read_text())
    assert r["suite"] == "cnn" and len(r["rows"]["lenet5 fastnn"]["1"]["samples_s"]) == r["rounds"]
    assert r["rows"]["lenet5 torch"]["1"]["fastnn_speedup"] > 0


def test_bench_cnn_profile_lists_the_kernels(capsys):
    from fastnn.bench import cnn

    text = cnn.profile(["course_cnn"], [1], steps=2)
    for kernel in ("conv2d_forward", "conv2d_backward_weight", "max_pool2d_backward", "rmsprop_update"):
        assert kernel in text
    assert "ms per step" in text
