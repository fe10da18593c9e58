"""The CNN suite: the convolutional issue's two training-step targets, fastnn against torch in
one process.

- the course-notes CNN (Conv2D 32@5x5/2 'same', Conv2D 32@5x5/2, 2x2 max pooling, Dropout,
  Dense 512, Dropout, Dense 10 softmax) on 32x32x3, batch 32, RMSprop(0.0005), categorical
  cross-entropy;
- LeNet-5 (fastnn.applications.LeNet5 with relu and max pooling) on 28x28x1, batch 64, Adam,
  sparse categorical cross-entropy.

fastnn runs ``model.train_on_batch`` (channels_last); torch runs zero_grad + forward (NCHW) +
loss + backward + ``optimizer.step`` with the same initial weights. Times are per step, medians
of interleaved rounds (fastnn.bench.timing). ``--profile`` prints where a fastnn step spends its
time instead: the ``fastnn._C`` kernels by total time (cProfile) and the Python around them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import environment, table
from .timing import Candidate, ThreadControl, guarded, measure, same_round_ratio

MODELS = ("course_cnn", "lenet5")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=MODELS, action="append", default=None,
                   help="benchmark only this model (repeatable; default both)")
    p.add_argument("--profile", action="store_true",
                   help="profile the fastnn training steps (per-kernel totals) instead of timing against torch")


def course_cnn(input_shape=(32, 32, 3), num_classes: int = 10):
    """The course notes' CNN as a fastnn Sequential, compiled as the notes do."""
    from fastnn import layers, models, optimizers

    m = models.Sequential([
        layers.Input(input_shape),
        layers.Conv2D(32, (5, 5), strides=(2, 2), padding="same"), layers.Activation("relu"),
        layers.Conv2D(32, (5, 5), strides=(2, 2)), layers.Activation("relu"),
        layers.MaxPooling2D(pool_size=(2, 2)), layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(512), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(num_classes), layers.Activation("softmax"),
    ])
    m.compile(loss="categorical_crossentropy", optimizer=optimizers.RMSprop(learning_rate=0.0005))
    return m


def lenet5(input_shape=(28, 28, 1), num_classes: int = 10):
    from fastnn import applications, optimizers

    m = applications.LeNet5(input_shape=input_shape, classes=num_classes, activation="relu", subsampling="max")
    m.compile(loss="sparse_categorical_crossentropy", optimizer=optimizers.Adam(learning_rate=1e-3))
    return m


def _copy_conv_dense(torch, fastnn_model, modules):
    """Copy fastnn's weights into torch modules in order: conv kernels (kh, kw, cin, cout) ->
    (cout, cin, kh, kw), Dense kernels (in, out) -> (out, in)."""
    ws = fastnn_model.get_weights()
    with torch.no_grad():
        for i, mod in enumerate(modules):
            k, b = ws[2 * i], ws[2 * i + 1]
            k = k.transpose(3, 2, 0, 1) if k.ndim == 4 else k.T
            mod.weight.copy_(torch.from_numpy(k.copy()))
            mod.bias.copy_(torch.from_numpy(b))


def _torch_course(torch, fm):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(3, 32, 5, stride=2), nn.Conv2d(32, 32, 5, stride=2)
            self.d1, self.d2 = nn.Linear(3 * 3 * 32, 512), nn.Linear(512, 10)
            self.drop1, self.drop2 = nn.Dropout(0.25), nn.Dropout(0.5)

        def forward(self, x):
            x = torch.relu(self.c1(nn.functional.pad(x, (1, 2, 1, 2))))  # TF 'same' at stride 2
            x = nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
            x = self.drop1(x).permute(0, 2, 3, 1).flatten(1)
            return self.d2(self.drop2(torch.relu(self.d1(x))))

    net = Net()
    _copy_conv_dense(torch, fm, [net.c1, net.c2, net.d1, net.d2])
    return net, torch.optim.RMSprop(net.parameters(), lr=0.0005, alpha=0.9, eps=1e-7)


def _torch_lenet(torch, fm):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.f1, self.f2, self.f3 = nn.Linear(256, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
            x = nn.functional.max_pool2d(torch.relu(self.c2(x)), 2).permute(0, 2, 3, 1).flatten(1)
            return self.f3(torch.relu(self.f2(torch.relu(self.f1(x)))))

    net = Net()
    _copy_conv_dense(torch, fm, [net.c1, net.c2, net.f1, net.f2, net.f3])
    return net, torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)


def _setup(name, rng):
    """(fastnn model, fastnn step, data as NHWC x and labels) for one model."""
    import numpy as np

    if name == "course_cnn":
        fm, batch, shape = course_cnn(), 32, (32, 32, 3)
    else:
        fm, batch, shape = lenet5(), 64, (28, 28, 1)
    x = rng.random((batch, *shape), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    y = np.eye(10, dtype=np.float32)[labels] if name == "course_cnn" else labels
    return fm, (lambda: fm.train_on_batch(x, y)), x, labels


def profile(names, threads, steps: int = 50) -> str:
    """cProfile of `steps` fastnn training steps per model and thread count: each fastnn._C
    kernel's total and per-step time, and the share left to Python."""
    import cProfile
    import pstats

    import numpy as np

    import fastnn

    out = []
    for name in names:
        for t in threads:
            fastnn.set_num_threads(t)
            fm, step, _, _ = _setup(name, np.random.default_rng(0))
            for _ in range(5):
                step()
            pr = cProfile.Profile()
            pr.enable()
            for _ in range(steps):
                step()
            pr.disable()
            st = pstats.Stats(pr)
            total = st.total_tt
            kernels = []
            for (file, _line, func), (_cc, nc, tt, _ct, _callers) in st.stats.items():
                if file == "~" and "fastnn._C" in func:
                    kernels.append((tt, nc, func.split("fastnn._C.")[-1].rstrip(">")))
            kernels.sort(reverse=True)
            ktime = sum(k[0] for k in kernels)
            out.append(f"{name}, {t} thread(s): {total / steps * 1e3:.3f} ms per step under cProfile, "
                       f"kernels {ktime / total:.0%}, Python {1 - ktime / total:.0%}")
            rows = [[k, str(nc // steps), f"{tt / steps * 1e3:.3f} ms", f"{tt / total:.0%}"] for tt, nc, k in kernels]
            out.append(table.render(["kernel", "calls/step", "time/step", "share"], rows, "plain"))
            out.append("")
    return "\n".join(out)


def run(args: argparse.Namespace, ctx) -> dict[str, Any]:
    import numpy as np

    names = args.model or list(MODELS)
    threads: list[int] = args.threads
    if args.profile:
        text = profile(names, threads)
        print(text)
        return {"suite": "cnn", "profile": text}
    try:
        import torch
    except ImportError:
        torch = None
    libs = ["fastnn"] + (["torch"] if torch is not None else [])
    ctl = ThreadControl.default(libs)
    rng = np.random.default_rng(0)
    fns, lib_of = {}, {}
    for name in names:
        fm, step, x, labels = _setup(name, rng)
        fns[f"{name} fastnn"] = step
        lib_of[f"{name} fastnn"] = "fastnn"
        if torch is not None:
            net, opt = (_torch_course if name == "course_cnn" else _torch_lenet)(torch, fm)
            tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
            ty = torch.from_numpy(labels)
            lossf = torch.nn.CrossEntropyLoss()

            def tstep(net=net, opt=opt, tx=tx, ty=ty, lossf=lossf):
                opt.zero_grad()
                loss = lossf(net(tx), ty)
                loss.backward()
                opt.step()

            fns[f"{name} torch"] = tstep
            lib_of[f"{name} torch"] = "torch"
    rows: dict[str, Any] = {}
    try:
        for t in threads:
            for name in names:
                keys = [k for k in fns if k.startswith(name + " ")]
                cands = [Candidate(f"{k}|{t}", lib_of[k], t, fns[k]) for k in keys]
                res = guarded(lambda c=cands: measure(c, ctl, target=ctx.target, rounds=ctx.rounds),
                              noisy=ctx.noisy, retries=ctx.retries, wait=ctx.retry_wait, label=f"cnn {name} {t}T",
                              log=ctx.log)
                for k in keys:
                    rows.setdefault(k, {})[str(t)] = dict(res.result[f"{k}|{t}"].to_dict(),
                                                          foreign_load=res.foreign_load)
                tk = f"{name} torch"
                if tk in keys:
                    rows[tk][str(t)]["fastnn_speedup"] = same_round_ratio(res.result[f"{name} fastnn|{t}"],
                                                                          res.result[f"{tk}|{t}"])
    finally:
        ctl.restore()
    result = {"suite": "cnn", "threads": threads, "rounds": ctx.rounds, "env": environment.machine_info(),
              "rows": rows}
    print(render(result, args.format))
    sys.stdout.flush()
    return result


def render(result: dict[str, Any], fmt: str = "md") -> str:
    if "profile" in result:
        return result["profile"]
    h = "## " if fmt == "md" else ""
    L = [f"{h}CNN training steps: median time per step, {result['rounds']} interleaved rounds", ""]
    L.append("- course_cnn: 32x32x3, batch 32, RMSprop (target: 1.2x torch); lenet5: 28x28x1, batch 64, Adam "
             "(target: 1.5x torch). speedup = t_torch / t_fastnn in the same rounds (> 1: fastnn is faster)")
    L.append("")
    threads = result["threads"]
    header = ["item"] + [f"{t}T" for t in threads] + [f"{t}T speedup" for t in threads]
    body = []
    for name, d in result["rows"].items():
        cells = [name] + [f"{d[str(t)]['median_s'] * 1e3:.3f} ms" for t in threads]
        cells += [table.ratio(d[str(t)].get("fastnn_speedup")) for t in threads]
        body.append(cells)
    L.append(table.render(header, body, fmt))
    return "\n".join(L)
