"""Hostile arguments through the public layers, each batch of calls in a subprocess so that a
crash or a hang is a test failure and not the end of the run.

* Property tests (hypothesis) over the constructor of every public layer class: generated
  hostile keyword arguments (zero, negative, huge, fractional, NaN, wrong types, unknown
  strings) must construct or raise ValueError / TypeError; a constructed layer called on small
  inputs of rank 2, 3 and 4 must return or raise ValueError / TypeError.
* A sweep of convolution configurations through Conv1D, Conv2D, DepthwiseConv2D,
  SeparableConv2D and Conv2DTranspose (both data formats, 'valid' / 'same', dilation 1..5,
  strides, kernels wider than the feature map, 1..5 pixel inputs): each must match torch within
  the oracle's GEMM tolerance or raise ValueError.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import fastnn
import fastnn.layers as L
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import TOL

CHILD_TIMEOUT = 30  # seconds for one batch, plus 0.1 s a case; a hang fails the test
CHILD_MEMORY = 8 << 30  # address-space limit of a child: a runaway allocation fails, it does not swap

# ---------------------------------------------------------------------------- the runner
# The child reads a list of cases (JSON) and, for each, prints "START i" before and one result
# line after: {"i": i, "outcome": "ok" | "ValueError" | "TypeError" | "other", "detail": ...}.
# A "build" case constructs `layer(**kwargs)` (kwargs as Python source) and calls it on each
# input shape; a "conv" case also saves the input, the weights and the output in <dir>/<i>.npz.
CHILD = r'''
import json, resource, sys, traceback
import numpy as np
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import fastnn
from fastnn.layers import *  # noqa
import fastnn.layers as L
cases = json.load(open(sys.argv[1]))
out_dir = sys.argv[3]
OK = (ValueError, TypeError, NotImplementedError)

def emit(**r):
    print(json.dumps(r), flush=True)

for i, case in enumerate(cases):
    if i < case.get("skip_to", 0):
        continue
    print(f"START {i}", flush=True)
    ns = dict(vars(L), np=np, fastnn=fastnn)
    try:
        kwargs = eval(case["kwargs"], ns)
        layer = getattr(L, case["layer"])(**kwargs)
    except OK as e:
        emit(i=i, outcome=type(e).__name__, stage="construct", detail=str(e)[:300])
        continue
    except BaseException as e:
        emit(i=i, outcome="other", stage="construct", detail=traceback.format_exc()[-1500:])
        continue
    results = []
    for shape in case["shapes"]:
        rng = np.random.default_rng(i)
        x = rng.standard_normal(shape).astype(np.float32)
        try:
            lay = layer if len(case["shapes"]) == 1 else getattr(L, case["layer"])(**eval(case["kwargs"], ns))
            y = lay(fastnn.Tensor(x))
            if case.get("save"):
                ys = y.numpy()
                np.savez(f"{out_dir}/{i}.npz", x=x, y=ys, *[w for w in lay.get_weights()])
            results.append(("ok", ""))
        except (*OK, MemoryError) as e:
            results.append((type(e).__name__, str(e)[:300]))
        except BaseException as e:
            results.append(("other", traceback.format_exc()[-1500:]))
    bad = [r for r in results if r[0] == "other"]
    outcome = "other" if bad else results[0][0] if len(results) == 1 else "ok"
    emit(i=i, outcome=outcome, stage="call", detail=bad[0][1] if bad else results[0][1], per_shape=results)
'''


def run_cases(cases: list[dict], out_dir: str) -> dict[int, dict]:
    """Run `cases` in subprocesses; results by index. A crash or a hang is recorded for the case
    that was running (outcome 'crash' / 'hang') and the batch resumes after it."""
    src = Path(out_dir) / "child.py"
    src.write_text(CHILD)
    results: dict[int, dict] = {}
    start = 0
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(fastnn.__file__)),
                                          os.environ.get("PYTHONPATH", "")])}
    while start < len(cases):
        spec = Path(out_dir) / "cases.json"
        spec.write_text(json.dumps([{**c, "skip_to": start} for c in cases]))
        try:
            p = subprocess.run([sys.executable, str(src), str(spec), str(CHILD_MEMORY), out_dir], env=env,
                               capture_output=True, text=True, timeout=CHILD_TIMEOUT + 0.1 * len(cases))
            stdout, rc, hung = p.stdout, p.returncode, False
        except subprocess.TimeoutExpired as e:
            stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            rc, hung = None, True
        running = None
        for line in stdout.splitlines():
            if line.startswith("START "):
                running = int(line.split()[1])
            elif line.startswith("{"):
                r = json.loads(line)
                results[r["i"]] = r
                running = None
        if running is None:
            if rc != 0 or hung:  # died between cases (import, teardown)
                raise AssertionError(f"child failed outside a case: rc={rc}\n{p.stderr[-3000:]}")
            break
        results[running] = {"i": running, "outcome": "hang" if hung else "crash",
                            "detail": f"exit status {rc}" if not hung else f"no answer in {CHILD_TIMEOUT} s"}
        start = running + 1
    return results


def describe(case: dict, r: dict) -> str:
    return f"{case['layer']}(**{case['kwargs']}) on {case['shapes']}: {r['outcome']} {r.get('detail', '')}"


# ---------------------------------------------------------------------------- constructors
def _public_layer_classes() -> list[str]:
    out = []
    for name in L.__all__:
        c = getattr(L, name)
        if isinstance(c, type) and issubclass(c, L.Layer) and c is not L.Layer and name != "InputLayer":
            out.append(name)
    return sorted(set(out))


LAYERS = _public_layer_classes()


def _params(cls: type) -> list[str]:
    """Named __init__ parameters of `cls` and its bases (**kwargs forward to them)."""
    import inspect
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in names:
                names.append(p.name)
        if klass is L.Layer:
            break
    return names


# Sane values (Python source) for the required arguments, so that the hostile one is what fails.
SANE = {
    "units": "3", "filters": "2", "kernel_size": "2", "input_dim": "10", "output_dim": "3",
    "activation": "'relu'", "rate": "0.5", "target_shape": "(-1,)", "function": "lambda t: t", "n": "2",
    "op": "'add'", "axes": "1", "scale": "0.5", "height": "2", "width": "2", "height_factor": "0.1",
    "width_factor": "0.1", "factor": "0.1", "num_heads": "2", "key_dim": "2", "cells": "[SimpleRNNCell(2)]",
    "cell": "SimpleRNNCell(2)", "layer": "LSTM(2)",
}
HOSTILE = [
    "0", "-1", "-7", "1", "2", "3", "2**31", "2**40", "2**63", "-(2**63)", "1.5", "-0.5", "0.999", "1.0",
    "float('nan')", "float('inf')", "-float('inf')", "'bogus'", "''", "None", "True", "False", "()",
    "(0, 0)", "(-1, 2)", "(2, 2, 2, 2, 2)", "[3]", "(2**40, 1)", "(1, 2**40)", "'same'", "'valid'", "'causal'",
    "'full'", "'channels_first'", "'channels_last'", "object()", "{}", "np.int64(3)", "np.float32(0.5)",
    "3.0", "(1.5, 2)", "((1, 0), (2, 1))", "'relu'", "lambda t: t",
]
SHAPES = [[2, 4], [2, 5, 3], [2, 5, 5, 3]]


def _case(layer: str, picks: dict) -> dict:
    req = {k: SANE.get(k, "1") for k in _required(layer)}
    kw = {**req, **picks}
    return {"layer": layer, "kwargs": "dict(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ")",
            "shapes": SHAPES}


def _required(layer: str) -> list[str]:
    import inspect
    init = getattr(L, layer).__init__
    return [p.name for p in list(inspect.signature(init).parameters.values())[1:]
            if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


@st.composite
def hostile_case(draw):
    layer = draw(st.sampled_from(LAYERS))
    params = [p for p in _params(getattr(L, layer)) if p not in ("name", "input_shape", "batch_input_shape")]
    chosen = draw(st.lists(st.sampled_from(params), min_size=1, max_size=3, unique=True)) if params else []
    return _case(layer, {p: draw(st.sampled_from(HOSTILE)) for p in chosen})


# What a hostile argument may give: a result, or a clear error. NotImplementedError is the
# deliberate refusal of a Keras feature fastnn lacks (Lambda's mask=, flash_attention=). When
# calling (never when constructing or building: weights larger than memory are a ValueError),
# an output larger than memory (RepeatVector(2**31), UpSampling2D(size=2**40)) is an immediate
# MemoryError naming its shape, as Keras's ResourceExhaustedError.
ALLOWED = ("ok", "ValueError", "TypeError", "NotImplementedError", "MemoryError")


def check_batch(cases: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as d:
        results = run_cases(cases, d)
    bad = [describe(cases[i], r) for i, r in sorted(results.items()) if r["outcome"] not in ALLOWED]
    assert not bad, f"{len(bad)} of {len(cases)} cases failed:\n" + "\n".join(bad[:20])


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          print_blob=False)
@given(st.lists(hostile_case(), min_size=60, max_size=60))
def test_hostile_constructor_kwargs(cases):
    check_batch(cases)


@pytest.mark.slow
@pytest.mark.parametrize("layer", LAYERS)
def test_every_argument_of_every_layer(layer):
    """Each named argument of `layer`, alone, set to each hostile value (one subprocess per layer)."""
    params = [p for p in _params(getattr(L, layer)) if p not in ("name", "input_shape", "batch_input_shape")]
    check_batch([_case(layer, {p: v}) for p in params for v in HOSTILE])


KNOWN = [  # arguments found to crash, hang or allocate without bound
    ("MaxPooling2D", {"pool_size": "2**40", "padding": "'same'"}),
    ("AveragePooling2D", {"pool_size": "2**40", "padding": "'same'"}),
    ("MaxPooling1D", {"pool_size": "2**40", "padding": "'same'"}),
    ("MaxPooling2D", {"pool_size": "3", "strides": "2**40", "padding": "'same'"}),
    ("Dense", {"units": "2**40"}),
    ("Embedding", {"input_dim": "2**40", "output_dim": "8"}),
    ("Conv2D", {"filters": "2**40", "kernel_size": "3"}),
    ("Conv2D", {"filters": "2", "kernel_size": "3", "dilation_rate": "2**40", "padding": "'same'"}),
    ("Conv2D", {"filters": "2", "kernel_size": "3", "strides": "2**40", "padding": "'same'"}),
]


def test_known_hostile_arguments():
    check_batch([{**_case(layer, kw), "shapes": [[2, 5, 5, 3]] if "2D" in layer else [[2, 5, 3]]}
                 for layer, kw in KNOWN])


# ---------------------------------------------------------------------------- conv sweep
def tf_same(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    keff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


def _t(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def torch_reference(layer: str, kw: dict, x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The Keras semantics of `layer(**kw)` on x with `weights`, computed with torch."""
    cl = kw["data_format"] == "channels_last"
    padding, rank = kw["padding"], 1 if layer == "Conv1D" else 2
    ks = (kw["kernel_size"],) * rank if isinstance(kw["kernel_size"], int) else kw["kernel_size"]
    st_ = (kw["strides"],) * rank if isinstance(kw["strides"], int) else kw["strides"]
    dl = (kw["dilation_rate"],) * rank if isinstance(kw["dilation_rate"], int) else kw["dilation_rate"]
    xt = _t(x)
    if cl:
        xt = xt.permute(0, 2, 1) if rank == 1 else xt.permute(0, 3, 1, 2)
    spatial = xt.shape[2:]
    if layer == "Conv2DTranspose":
        w, b = _t(weights[0]), _t(weights[1])
        full = TF.conv_transpose2d(xt, w.permute(3, 2, 0, 1), None, stride=st_, dilation=dl)
        sizes, tops = [], []
        for i in range(2):
            n, keff, s = spatial[i], (ks[i] - 1) * dl[i] + 1, st_[i]
            size = n * s + max(keff - s, 0) if padding == "valid" else n * s
            sizes.append(size)
            tops.append(0 if padding == "valid" else max((n - 1) * s + keff - size, 0) // 2)
        extra = [max(0, tops[i] + sizes[i] - full.shape[2 + i]) for i in range(2)]
        full = TF.pad(full, (0, extra[1], 0, extra[0]))
        y = full[:, :, tops[0]:tops[0] + sizes[0], tops[1]:tops[1] + sizes[1]] + b.view(1, -1, 1, 1)
    else:
        pads: list[int] = []
        for i in reversed(range(rank)):  # TF.pad: last axis first
            pads += list(tf_same(spatial[i], ks[i], st_[i], dl[i]) if padding == "same" else (0, 0))
        xp = TF.pad(xt, pads)
        if layer == "Conv1D":
            y = TF.conv1d(xp, _t(weights[0]).permute(2, 1, 0), _t(weights[1]), stride=st_, dilation=dl)
        elif layer == "Conv2D":
            y = TF.conv2d(xp, _t(weights[0]).permute(3, 2, 0, 1), _t(weights[1]), stride=st_, dilation=dl)
        else:
            dk = _t(weights[0])
            c, m = dk.shape[2], dk.shape[3]
            dw = dk.reshape(ks[0], ks[1], 1, c * m).permute(3, 2, 0, 1)
            if layer == "DepthwiseConv2D":
                y = TF.conv2d(xp, dw, _t(weights[1]), stride=st_, dilation=dl, groups=c)
            else:
                h = TF.conv2d(xp, dw, None, stride=st_, dilation=dl, groups=c)
                y = TF.conv2d(h, _t(weights[1]).permute(3, 2, 0, 1), _t(weights[2]))
    if cl:
        y = y.permute(0, 2, 1) if rank == 1 else y.permute(0, 2, 3, 1)
    return y.numpy()


def keras_rejects(layer: str, kw: dict, spatial: tuple[int, ...]) -> bool:
    """Whether Keras raises for this configuration: 'valid' with a dilated kernel wider than the
    input (a negative output size), or strides > 1 together with dilation > 1."""
    rank = len(spatial)
    ks = (kw["kernel_size"],) * rank if isinstance(kw["kernel_size"], int) else kw["kernel_size"]
    s = (kw["strides"],) * rank if isinstance(kw["strides"], int) else kw["strides"]
    d = (kw["dilation_rate"],) * rank if isinstance(kw["dilation_rate"], int) else kw["dilation_rate"]
    if max(s) > 1 and max(d) > 1:
        return True
    if kw["padding"] == "valid" and layer != "Conv2DTranspose":
        return any((k - 1) * dd + 1 > n for k, dd, n in zip(ks, d, spatial))
    return False


CONV_LAYERS = ["Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"]


def conv_configs(n: int, seed: int = 0) -> list[tuple[str, dict, list[int]]]:
    """`n` configurations drawn with a fixed seed, plus the ones that used to crash."""
    rng = random.Random(seed)
    out = []
    for layer in CONV_LAYERS:  # the crash of issue 13: channels_first, 'same', dilated kernel wider than the map
        kw = dict(kernel_size=3, dilation_rate=4, padding="same", data_format="channels_first", strides=1)
        out.append((layer, kw, [1, 2, 3] if layer == "Conv1D" else [1, 2, 3, 3]))
    while len(out) < n + len(CONV_LAYERS):
        layer = rng.choice(CONV_LAYERS)
        rank = 1 if layer == "Conv1D" else 2
        d = rng.randint(1, 5)
        s = 1 if d > 1 and rng.random() < 0.8 else rng.randint(1, 3)
        kw = dict(
            kernel_size=(rng.randint(1, 7) if rank == 1 or rng.random() < 0.5
                         else (rng.randint(1, 7), rng.randint(1, 7))),
            strides=s, dilation_rate=d, padding=rng.choice(["valid", "same"]),
            data_format=rng.choice(["channels_last", "channels_first"]),
        )
        c = rng.randint(1, 3)
        spatial = [rng.randint(1, 5) for _ in range(rank)]
        shape = [rng.randint(1, 2)] + (spatial + [c] if kw["data_format"] == "channels_last" else [c] + spatial)
        out.append((layer, kw, shape))
    return out


def _conv_kwargs(layer: str, kw: dict) -> dict:
    full = {**kw, "bias_initializer": "ones"}
    if layer == "DepthwiseConv2D":
        full["depth_multiplier"] = 2
    elif layer == "SeparableConv2D":
        full.update(filters=3, depth_multiplier=2)
    else:
        full["filters"] = 3
    return full


def run_conv_sweep(configs) -> list[str]:
    cases = [{"layer": layer, "kwargs": repr(_conv_kwargs(layer, kw)), "shapes": [shape], "save": True}
             for layer, kw, shape in configs]
    failures = []
    with tempfile.TemporaryDirectory() as d:
        results = run_cases(cases, d)
        for i, (layer, kw, shape) in enumerate(configs):
            r = results.get(i, {"outcome": "missing"})
            spatial = tuple(shape[1:-1] if kw["data_format"] == "channels_last" else shape[2:])
            desc = f"{layer}({_conv_kwargs(layer, kw)}) on {shape}"
            if r["outcome"] == "ValueError":
                if not keras_rejects(layer, kw, spatial):
                    failures.append(f"{desc}: ValueError where Keras computes an output: {r['detail']}")
                continue
            if r["outcome"] != "ok":
                failures.append(f"{desc}: {r['outcome']} {r.get('detail', '')}")
                continue
            if keras_rejects(layer, kw, spatial):
                failures.append(f"{desc}: an output where Keras raises")
                continue
            f = np.load(f"{d}/{i}.npz")
            weights = [f[f"arr_{j}"] for j in range(len(f.files) - 2)]
            want = torch_reference(layer, kw, f["x"], weights)
            got = f["y"]
            if got.shape != want.shape:
                failures.append(f"{desc}: shape {got.shape}, torch {want.shape}")
                continue
            ks = kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],)
            tol = TOL["gemm"](int(np.prod(ks)) * shape[1 if kw["data_format"] == "channels_first" else -1] * 2)
            try:
                np.testing.assert_allclose(got, want, **tol)
            except AssertionError as e:
                failures.append(f"{desc}: differs from torch: {str(e).splitlines()[3:6]}")
    return failures


def test_conv_configs_quick():
    failures = run_conv_sweep(conv_configs(150, seed=1))
    assert not failures, f"{len(failures)} configurations failed:\n" + "\n".join(failures[:25])


@pytest.mark.slow
def test_conv_configs_sweep():
    failures = run_conv_sweep(conv_configs(2000, seed=2))
    assert not failures, f"{len(failures)} configurations failed:\n" + "\n".join(failures[:25])
