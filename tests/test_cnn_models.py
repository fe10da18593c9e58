"""Ten training steps of the course-notes CNN and of LeNet-5 against torch from the same initial
weights: Keras kernels (kh, kw, cin, cout) become torch's (cout, cin, kh, kw), NHWC images are
permuted to NCHW, TensorFlow's 'same' padding with stride 2 is torch's explicit (1, 2) padding,
and Flatten runs on NHWC maps (torch permutes back before flattening). The optimizer steps on
the torch side are Keras's update rules written in torch ops (Keras's RMSprop puts epsilon
inside the square root and its Adam folds the bias correction into the step, torch.optim does
neither), so the default epsilons stay in. The two Dropout layers are left out: their random
masks are not the same stream in the two libraries."""

import importlib.util
import os

import fastnn
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from fastnn import applications, optimizers, utils
from oracle import TOL, assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _course_module():
    spec = importlib.util.spec_from_file_location("course_cnn", os.path.join(ROOT, "examples", "course_cnn.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _conv_w(k):  # Keras (kh, kw, cin, cout) -> torch (cout, cin, kh, kw)
    return torch.tensor(np.ascontiguousarray(np.transpose(k, (3, 2, 0, 1))), requires_grad=True)


def _param(a, transpose=False):
    return torch.tensor(np.ascontiguousarray(a.T if transpose else a), requires_grad=True)


def _torch_params(weights):
    """Torch leaves from fastnn's weights: conv kernels permuted, Dense kernels transposed."""
    out = []
    for w in weights:
        out.append(_conv_w(w) if w.ndim == 4 else _param(w, transpose=w.ndim == 2))
    return out


def _back_to_keras(params):
    out = []
    for p in params:
        a = p.detach().numpy()
        out.append(np.transpose(a, (2, 3, 1, 0)) if a.ndim == 4 else (a.T if a.ndim == 2 else a))
    return out


def _flatten_nhwc(z):
    return z.permute(0, 2, 3, 1).reshape(z.shape[0], -1)


def _course_forward(p, x):
    z = TF.conv2d(TF.pad(x, (1, 2, 1, 2)), p[0], p[1], stride=2)  # TF 'same', stride 2, odd kernel
    z = TF.conv2d(torch.relu(z), p[2], p[3], stride=2)
    z = TF.max_pool2d(torch.relu(z), 2)
    z = torch.relu(TF.linear(_flatten_nhwc(z), p[4], p[5]))
    return TF.linear(z, p[6], p[7])  # logits; the softmax is in the loss


def _lenet_forward(p, x, act, pool):
    z = pool(act(TF.conv2d(x, p[0], p[1])), 2)
    z = pool(act(TF.conv2d(z, p[2], p[3])), 2)
    z = act(TF.linear(_flatten_nhwc(z), p[4], p[5]))
    z = act(TF.linear(z, p[6], p[7]))
    return TF.linear(z, p[8], p[9])


class _KerasRMSprop:
    """Keras 3 RMSprop (rho 0.9, epsilon inside the root) with Keras 2 time decay."""

    def __init__(self, params, lr, decay, rho=0.9, eps=1e-7):
        self.params, self.lr, self.decay, self.rho, self.eps = params, lr, decay, rho, eps
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self):
        lr = self.lr / (1.0 + self.decay * self.t)
        for p, v in zip(self.params, self.v):
            v.mul_(self.rho).add_((1 - self.rho) * p.grad * p.grad)
            p.sub_(lr * p.grad / torch.sqrt(v + self.eps))
            p.grad = None
        self.t += 1


class _KerasAdam:
    """Keras 3 Adam: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); w -= alpha m / (sqrt(v) + eps)."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        alpha = self.lr * (1 - self.b2**self.t) ** 0.5 / (1 - self.b1**self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m.add_((p.grad - m) * (1 - self.b1))
            v.add_((p.grad * p.grad - v) * (1 - self.b2))
            p.sub_(alpha * m / (torch.sqrt(v) + self.eps))
            p.grad = None


def _run(model, forward, opt_cls, x, y_onehot, steps=10):
    params = _torch_params(model.get_weights())
    opt = opt_cls(params)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    yt = torch.from_numpy(y_onehot)
    tol = TOL["cnn_training"]
    for step in range(steps):
        loss_f = float(model.train_on_batch(x, y_onehot))
        loss_t = -(yt * torch.log_softmax(forward(params, xt), dim=1)).sum(dim=1).mean()
        loss_t.backward()
        opt.step()
        assert_close(np.float32(loss_f), np.float32(loss_t.item()), f"{model.name} loss", f"step {step}", **tol)
    for i, (wf, wt) in enumerate(zip(model.get_weights(), _back_to_keras(params))):
        assert_close(wf, wt, f"{model.name} weights", f"variable {i}", **tol)


def test_course_cnn_ten_steps_match_torch():
    fastnn.set_num_threads(2)
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((32, 32, 32, 3), dtype=np.float32)
    y = utils.to_categorical(rng.integers(0, 10, 32), 10)
    model = _course_module().build_model(x.shape[1:], 10, dropout=False)
    with pytest.warns(DeprecationWarning):
        opt = optimizers.RMSprop(lr=0.0005, decay=1e-6)
    model.compile(loss="categorical_crossentropy", optimizer=opt)
    model.build((None, *x.shape[1:]))
    _run(model, _course_forward, lambda ps: _KerasRMSprop(ps, 0.0005, 1e-6), x, y)


@pytest.mark.parametrize("shape, activation, subsampling", [((28, 28, 1), "relu", "max"),
                                                             ((32, 32, 1), "tanh", "average")])
def test_lenet5_ten_steps_match_torch(shape, activation, subsampling):
    utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.random((64, *shape), dtype=np.float32)
    y = utils.to_categorical(rng.integers(0, 10, 64), 10)
    model = applications.LeNet5(input_shape=shape, activation=activation, subsampling=subsampling,
                                classifier_activation="softmax")
    model.compile(loss="categorical_crossentropy", optimizer=optimizers.Adam(learning_rate=1e-3))
    act = torch.relu if activation == "relu" else torch.tanh
    pool = TF.max_pool2d if subsampling == "max" else TF.avg_pool2d
    _run(model, lambda p, xt: _lenet_forward(p, xt, act, pool), _KerasAdam, x, y)
