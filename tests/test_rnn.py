"""Recurrent layers: SimpleRNN, LSTM, GRU (both reset_after forms), their cells and RNN(cell),
Bidirectional, TimeDistributed, Masking. Outputs and every gradient (inputs, initial states,
kernel, recurrent kernel, bias) against torch's nn.RNN / nn.LSTM / nn.GRU with the weights mapped,
and against a float64 transcription of Keras 3's step loop (masks, go_backwards, GRU with
reset_after=False, which torch lacks)."""

import fastnn
import numpy as np
import pytest
import torch
from fastnn import layers as L
from fastnn.layers.base import clear_session
from oracle import TOL, assert_close


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


def _x(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


KINDS = {  # name -> (layer factory, number of states)
    "simple_tanh": (lambda u, **k: L.SimpleRNN(u, **k), 1),
    "simple_relu": (lambda u, **k: L.SimpleRNN(u, activation="relu", **k), 1),
    "lstm": (lambda u, **k: L.LSTM(u, **k), 2),
    "gru": (lambda u, **k: L.GRU(u, **k), 1),
    "gru_v1": (lambda u, **k: L.GRU(u, reset_after=False, **k), 1),
}


def _randomize(layer, seed=1):
    """Weights large enough for the gates to leave their linear range."""
    rng = np.random.default_rng(seed)
    layer.set_weights([(rng.standard_normal(w.shape) * 0.5).astype(np.float32) for w in layer.weights])


def _run(layer, x, states, dy, dstates, mask=None):
    """Forward with initial states; backward of sum(y * dy) + sum(state * dstate); returns numpy
    outputs and gradients (x, states..., kernel, recurrent kernel, bias)."""
    xt = fastnn.tensor(x, requires_grad=True)
    st = [fastnn.tensor(s, requires_grad=True) for s in states]
    kw = {} if mask is None else {"mask": fastnn.tensor(mask.astype(np.float32))}
    out = layer(xt, initial_state=st, **kw) if st else layer(xt, **kw)
    y, fin = out[0], list(out[1:])
    loss = (y * fastnn.tensor(dy)).sum()
    for f, d in zip(fin, dstates):
        loss = loss + (f * fastnn.tensor(d)).sum()
    loss.backward()
    grads = [xt.grad.numpy()] + [s.grad.numpy() for s in st] + [w.grad.numpy() for w in layer.weights]
    return [y.numpy()] + [f.numpy() for f in fin], grads


def _keras_ref(kind, weights, x, states, mask=None, go_backwards=False, return_sequences=False, zero_output=False,
               act=None):
    """Keras 3's step loop (backend rnn with masks) in float64 torch; returns (y, final states) with
    gradients available through torch.autograd."""
    W, U, b = weights
    T = x.shape[1]
    u = U.shape[0]
    fa = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "elu": torch.nn.functional.elu}
    A = fa[act or ("relu" if kind == "simple_relu" else "tanh")]
    S = torch.sigmoid
    h = states[0]
    c = states[1] if kind == "lstm" else None
    prev, outs = torch.zeros_like(h), []
    for s in range(T):
        t = T - 1 - s if go_backwards else s
        xt = x[:, t]
        cn = c
        if kind.startswith("simple"):
            hn = A(xt @ W + b + h @ U)
        elif kind == "lstm":
            g = xt @ W + b + h @ U
            i, f, cc, o = g.split(u, 1)
            cn = S(f) * c + S(i) * A(cc)
            hn = S(o) * A(cn)
        elif kind == "gru":
            gx, gr = xt @ W + b[0], h @ U + b[1]
            z, r = S(gx[:, :u] + gr[:, :u]), S(gx[:, u:2 * u] + gr[:, u:2 * u])
            hn = z * h + (1 - z) * A(gx[:, 2 * u:] + r * gr[:, 2 * u:])
        else:
            gx = xt @ W + b
            z, r = S(gx[:, :u] + h @ U[:, :u]), S(gx[:, u:2 * u] + h @ U[:, u:2 * u])
            hn = z * h + (1 - z) * A(gx[:, 2 * u:] + (r * h) @ U[:, 2 * u:])
        m = torch.ones(x.shape[0], 1, dtype=torch.bool) if mask is None else torch.tensor(mask[:, t:t + 1] > 0)
        out = torch.where(m, hn, torch.zeros_like(hn) if zero_output else prev)
        h = torch.where(m, hn, h)
        if c is not None:
            c = torch.where(m, cn, c)
        prev = out
        outs.append(out)
    y = torch.stack(outs, 1) if return_sequences else outs[-1]
    return y, ([h, c] if c is not None else [h])


def _check_against_ref(kind, layer, x, states, mask=None, act=None, **opts):
    rs = layer.return_sequences
    U = layer.cell.units
    B, T = x.shape[:2]
    dy = _x(*((B, T, U) if rs else (B, U)), seed=7)
    ds = [_x(B, U, seed=8 + i) for i in range(len(states))]
    outs, grads = _run(layer, x, states, dy, ds, mask)
    D = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in [x] + states + layer.get_weights()]
    tx, tst, tw = D[0], D[1:1 + len(states)], D[1 + len(states):]
    y, fin = _keras_ref(kind, tw, tx, tst, mask, layer.go_backwards, rs, layer.zero_output_for_mask, act)
    loss = (y * torch.tensor(dy, dtype=torch.float64)).sum()
    for f, d in zip(fin, ds):
        loss = loss + (f * torch.tensor(d, dtype=torch.float64)).sum()
    loss.backward()
    for got, want, name in zip(outs, [y] + fin, ["output"] + [f"state{i}" for i in range(len(fin))]):
        assert_close(got, want.detach().numpy(), kind, name, **TOL["rnn"])
    for got, want, name in zip(grads, D, ["dx"] + [f"dstate{i}" for i in range(len(states))] + ["dW", "dU", "db"]):
        assert_close(got, want.grad.numpy(), kind, name, **TOL["rnn"])


# ---------------------------------------------------------------------------- against torch
def _torch_module(kind, layer, I, U):
    W, R, b = layer.get_weights()
    perm = (lambda a: np.concatenate([a[..., U:2 * U], a[..., :U], a[..., 2 * U:]], -1)) if kind == "gru" else (
        lambda a: a)
    if kind.startswith("simple"):
        m = torch.nn.RNN(I, U, batch_first=True, nonlinearity="relu" if kind == "simple_relu" else "tanh")
    elif kind == "lstm":
        m = torch.nn.LSTM(I, U, batch_first=True)
    else:
        m = torch.nn.GRU(I, U, batch_first=True)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(perm(W).T))
        m.weight_hh_l0.copy_(torch.tensor(perm(R).T))
        if kind == "gru":
            m.bias_ih_l0.copy_(torch.tensor(perm(b[0])))
            m.bias_hh_l0.copy_(torch.tensor(perm(b[1])))
        else:
            m.bias_ih_l0.copy_(torch.tensor(b))
            m.bias_hh_l0.zero_()
    return m, perm


@pytest.mark.parametrize("kind", ["simple_tanh", "simple_relu", "lstm", "gru"])
@pytest.mark.parametrize("B,T,I,U", [(1, 1, 1, 1), (3, 7, 5, 13), (2, 11, 17, 8), (5, 3, 2, 33)])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_against_torch(kind, B, T, I, U, go_backwards):
    make, n_states = KINDS[kind]
    layer = make(U, return_sequences=True, return_state=True, go_backwards=go_backwards)
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    states = [_x(B, U, seed=3 + i) for i in range(n_states)]
    dy, ds = _x(B, T, U, seed=5), [_x(B, U, seed=6 + i) for i in range(n_states)]
    outs, grads = _run(layer, x, states, dy, ds)

    m, perm = _torch_module(kind, layer, I, U)
    xt = torch.tensor(x[:, ::-1].copy() if go_backwards else x, requires_grad=True)
    st = [torch.tensor(s[None], requires_grad=True) for s in states]
    y, fin = m(xt, tuple(st) if kind == "lstm" else st[0])
    fin = list(fin) if kind == "lstm" else [fin]
    loss = (y * torch.tensor(dy)).sum() + sum((f[0] * torch.tensor(d)).sum() for f, d in zip(fin, ds))
    loss.backward()
    assert_close(outs[0], y.detach().numpy(), kind, "output", **TOL["rnn"])
    for i, f in enumerate(fin):
        assert_close(outs[1 + i], f[0].detach().numpy(), kind, f"state{i}", **TOL["rnn"])
    dx = xt.grad.numpy()[:, ::-1] if go_backwards else xt.grad.numpy()
    assert_close(grads[0], dx, kind, "dx", **TOL["rnn"])
    for i, s in enumerate(st):
        assert_close(grads[1 + i], s.grad.numpy()[0], kind, f"dstate{i}", **TOL["rnn"])
    gW, gR, gb = grads[1 + n_states:]
    assert_close(gW, perm(m.weight_ih_l0.grad.numpy().T), kind, "dkernel", **TOL["rnn"])
    assert_close(gR, perm(m.weight_hh_l0.grad.numpy().T), kind, "drecurrent_kernel", **TOL["rnn"])
    if kind == "gru":
        want_b = np.stack([perm(m.bias_ih_l0.grad.numpy()), perm(m.bias_hh_l0.grad.numpy())])
    else:
        want_b = m.bias_ih_l0.grad.numpy()
    assert_close(gb, want_b, kind, "dbias", **TOL["rnn"])


def test_bidirectional_lstm_against_torch():
    B, T, I, U = 3, 6, 5, 7
    layer = L.Bidirectional(L.LSTM(U, return_sequences=True))
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    m = torch.nn.LSTM(I, U, batch_first=True, bidirectional=True)
    Wf, Rf, bf, Wb, Rb, bb = layer.get_weights()
    with torch.no_grad():
        for sfx, (W, R, b) in (("", (Wf, Rf, bf)), ("_reverse", (Wb, Rb, bb))):
            getattr(m, "weight_ih_l0" + sfx).copy_(torch.tensor(W.T))
            getattr(m, "weight_hh_l0" + sfx).copy_(torch.tensor(R.T))
            getattr(m, "bias_ih_l0" + sfx).copy_(torch.tensor(b))
            getattr(m, "bias_hh_l0" + sfx).zero_()
    dy = _x(B, T, 2 * U, seed=4)
    xt = fastnn.tensor(x, requires_grad=True)
    y = layer(xt)
    (y * fastnn.tensor(dy)).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty, _ = m(tx)
    (ty * torch.tensor(dy)).sum().backward()
    assert_close(y.numpy(), ty.detach().numpy(), "bidirectional", "output", **TOL["rnn"])
    assert_close(xt.grad.numpy(), tx.grad.numpy(), "bidirectional", "dx", **TOL["rnn"])
    assert_close(layer.weights[4].grad.numpy(), m.weight_hh_l0_reverse.grad.numpy().T, "bidirectional", "dU_rev",
                 **TOL["rnn"])


# ---------------------------------------------------------------------------- against Keras's loop
MASKS = {
    "random": lambda B, T: np.random.default_rng(2).random((B, T)) > 0.4,
    "leading": lambda B, T: np.arange(T)[None, :] >= np.arange(B)[:, None] % T,   # pre-padding
    "trailing": lambda B, T: np.arange(T)[None, :] < T - np.arange(B)[:, None] % T,  # post-padding
    "all_masked_row": lambda B, T: np.r_[np.zeros((1, T), bool), np.ones((B - 1, T), bool)],
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mask", [None] + list(MASKS))
@pytest.mark.parametrize("return_sequences,go_backwards,zero_output",
                         [(True, False, False), (False, True, False), (True, True, True), (False, False, True)])
def test_against_keras_loop(kind, mask, return_sequences, go_backwards, zero_output):
    make, n_states = KINDS[kind]
    B, T, I, U = 4, 6, 3, 9
    layer = make(U, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                 zero_output_for_mask=zero_output)
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    m = None if mask is None else MASKS[mask](B, T)
    _check_against_ref(kind, layer, x, [_x(B, U, seed=3 + i) for i in range(n_states)], m)


_ISA_LEVELS = ["generic", "avx2", "avx512"]
ISAS = _ISA_LEVELS[: _ISA_LEVELS.index(fastnn._C.detected_isa()) + 1]


@pytest.fixture(params=ISAS)
def isa(request):
    """Each GEMM micro-kernel: the recurrent kernel is packed for the one active at the call."""
    before = fastnn._C.active_isa()
    fastnn._C.set_isa(request.param)
    yield request.param
    fastnn._C.set_isa(before)


@pytest.fixture
def two_threads():
    before = fastnn.get_num_threads()
    fastnn.set_num_threads(2)
    yield
    fastnn.set_num_threads(before)


@pytest.mark.parametrize("kind,act", [("lstm", None), ("gru", None), ("gru_v1", None), ("simple_tanh", None),
                                      ("simple_relu", None), ("lstm", "sigmoid"), ("gru", "sigmoid")])
@pytest.mark.parametrize("return_sequences,go_backwards", [(True, False), (False, True)])
def test_batch_split_over_threads_matches_keras(isa, two_threads, kind, act, return_sequences, go_backwards):
    """A batch large enough for the CPU to run the recurrence on one row range per thread, units
    that leave edge tiles in the per-step products (packed recurrent kernel), a random mask, and
    both the fused tanh/sigmoid row kernels and the general ones (sigmoid activation)."""
    make, n_states = KINDS[kind]
    B, T, I, U = 29, 5, 7, 37
    kw = {} if act is None else {"activation": act}
    layer = make(U, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards, **kw)
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    _check_against_ref(kind, layer, x, [_x(B, U, seed=3 + i) for i in range(n_states)], MASKS["random"](B, T),
                       act=act)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_tanh", "gru_v1"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_batch_split_bit_identity_over_thread_counts(kind, return_sequences):
    """37 rows: one range at 1 thread, 19 + 18 at 2, 13 + 12 + 12 at 3; every value must match."""
    make, _ = KINDS[kind]
    layer = make(21, return_sequences=return_sequences, return_state=True)
    B, T = 37, 9
    x = _x(B, T, 6)
    mask = fastnn.tensor(MASKS["trailing"](B, T).astype(np.float32))
    dy = _x(*((B, T, 21) if return_sequences else (B, 21)), seed=2)
    res = []
    before = fastnn.get_num_threads()
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            for w in layer.weights:
                w.grad = None
            xt = fastnn.tensor(x, requires_grad=True)
            out = layer(xt, mask=mask)
            loss = (out[0] * fastnn.tensor(dy)).sum()
            for st in out[1:]:
                loss = loss + st.sum()
            loss.backward()
            res.append([o.numpy() for o in out] + [xt.grad.numpy()] + [w.grad.numpy() for w in layer.weights])
    finally:
        fastnn.set_num_threads(before)
    for other in res[1:]:
        for a, b in zip(res[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["simple_tanh", "lstm", "gru", "gru_v1"])
def test_generic_cell_loop_matches_keras(kind):
    """Activations without a fused kernel (elu) take the Python loop over the cell."""
    make, n_states = KINDS[kind]
    layer = make(6, activation="elu", return_sequences=True, return_state=True)
    assert layer._fused_opts(False) is None
    x = _x(3, 5, 4)
    layer(fastnn.tensor(x))
    _randomize(layer)
    _check_against_ref(kind, layer, x, [_x(3, 6, seed=3 + i) for i in range(n_states)], MASKS["random"](3, 5),
                       act="elu")


def test_right_padding_matches_torch_on_truncated_sequences():
    B, T, I, U = 4, 7, 3, 5
    lengths = [7, 5, 1, 3]
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    layer = L.LSTM(U)
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    y = layer(fastnn.tensor(x), mask=fastnn.tensor(mask.astype(np.float32))).numpy()
    m, _ = _torch_module("lstm", layer, I, U)
    for i, n in enumerate(lengths):
        _, (h, _) = m(torch.tensor(x[i:i + 1, :n]))
        assert_close(y[i], h[0, 0].detach().numpy(), "lstm", "padded", **TOL["rnn"])


def test_masking_layer_propagates_through_models():
    B, T, F = 3, 5, 2
    x = _x(B, T, F)
    x[0, 3:] = 0.0
    x[2, :2] = 0.0
    keep = np.any(x != 0, -1)
    seq = fastnn.models.Sequential([L.Input((T, F)), L.Masking(0.0), L.GRU(4, return_sequences=True), L.GRU(3)])
    gru1, gru2 = seq.layers[1], seq.layers[2]
    got = seq.predict(x, verbose=0)
    h = gru1(fastnn.tensor(x), mask=fastnn.tensor(keep.astype(np.float32)))
    want = gru2(h, mask=fastnn.tensor(keep.astype(np.float32))).numpy()
    np.testing.assert_array_equal(got, want)
    unmasked = gru2(gru1(fastnn.tensor(x))).numpy()
    assert not np.allclose(got, unmasked)
    # the functional API carries the same mask
    inp = L.Input((T, F))
    out = gru2(gru1(L.Masking()(inp)))
    np.testing.assert_array_equal(fastnn.models.Model(inp, out).predict(x, verbose=0), want)
    # the mask is attached to the output of Masking, and return_sequences keeps it
    mt = L.Masking()(fastnn.tensor(x))
    np.testing.assert_array_equal(mt._keras_mask.numpy(), keep.astype(np.float32))
    assert gru1(mt)._keras_mask is not None and gru2(gru1(mt))._keras_mask is None


# ---------------------------------------------------------------------------- layer behaviour
def test_stateful_runs_continue_the_sequence():
    x = _x(2, 8, 3)
    whole = L.LSTM(4, return_sequences=True)
    whole(fastnn.tensor(x))
    inp = L.Input(batch_shape=(2, 4, 3))
    part = L.LSTM(4, return_sequences=True, stateful=True)
    fastnn.models.Model(inp, part(inp))
    part.set_weights(whole.get_weights())
    want = whole(fastnn.tensor(x)).numpy()
    a = part(fastnn.tensor(x[:, :4])).numpy()
    b = part(fastnn.tensor(x[:, 4:])).numpy()
    np.testing.assert_allclose(np.concatenate([a, b], 1), want, rtol=1e-6, atol=1e-6)
    part.reset_states()
    np.testing.assert_array_equal(part(fastnn.tensor(x[:, :4])).numpy(), a)
    with pytest.raises(ValueError, match="batch size"):
        part(fastnn.tensor(x[:1, :4]))
    with pytest.raises(ValueError, match="fixed batch size"):
        L.GRU(3, stateful=True)(L.Input((4, 3)))


def test_return_state_and_initial_state_in_functional_models():
    enc_in, dec_in = L.Input((5, 3)), L.Input((4, 2))
    _, h, c = L.LSTM(6, return_state=True)(enc_in)
    dec = L.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    model = fastnn.models.Model([enc_in, dec_in], L.TimeDistributed(L.Dense(2))(dec))
    assert model.output_shape == (None, 4, 2)
    xe, xd = _x(3, 5, 3), _x(3, 4, 2, seed=1)
    y = model.predict([xe, xd], verbose=0)
    enc, declayer = model.layers[2], model.layers[3]
    _, h2, c2 = enc(fastnn.tensor(xe))
    direct = declayer(fastnn.tensor(xd), initial_state=[h2, c2])
    np.testing.assert_allclose(y, model.layers[-1](direct).numpy(), rtol=1e-6, atol=1e-6)


def test_param_counts_equal_keras():
    model = fastnn.models.Sequential([
        L.Input((80, 50)),
        L.LSTM(64, return_sequences=True),
        L.GRU(64, return_sequences=True),
        L.GRU(32, reset_after=False, return_sequences=True),
        L.Bidirectional(L.SimpleRNN(5)),
    ])
    counts = [lyr.count_params() for lyr in model.layers]
    assert counts == [4 * (64 * (50 + 64) + 64), 3 * (64 * (64 + 64) + 2 * 64), 3 * (32 * (64 + 32) + 32),
                      2 * (5 * (32 + 5) + 5)]
    lstm = model.layers[0]
    assert lstm.kernel.shape == (50, 256) and lstm.recurrent_kernel.shape == (64, 256) and lstm.bias.shape == (256,)
    assert model.layers[1].bias.shape == (2, 192)
    b = lstm.bias.numpy()
    np.testing.assert_array_equal(b[64:128], 1.0)  # unit_forget_bias
    np.testing.assert_array_equal(np.delete(b, np.s_[64:128]), 0.0)
    R = lstm.recurrent_kernel.numpy()
    np.testing.assert_allclose(R @ R.T, np.eye(64), atol=1e-5)  # orthogonal rows


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_tanh", "gru_v1"])
def test_thread_count_bit_identity(kind):
    make, _ = KINDS[kind]
    layer = make(37, return_sequences=True)
    x = _x(9, 13, 11)
    res = []
    before = fastnn.get_num_threads()
    try:
        for n in (1, 2, 3):
            fastnn.set_num_threads(n)
            for w in layer.weights:
                w.grad = None
            xt = fastnn.tensor(x, requires_grad=True)
            y = layer(xt, mask=fastnn.tensor(MASKS["random"](9, 13).astype(np.float32)))
            (y * fastnn.tensor(_x(9, 13, 37, seed=2))).sum().backward()
            res.append([y.numpy(), xt.grad.numpy()] + [w.grad.numpy() for w in layer.weights])
    finally:
        fastnn.set_num_threads(before)
    for other in res[1:]:
        for a, b in zip(res[0], other):
            np.testing.assert_array_equal(a, b)


def test_dropout_masks_fixed_and_seeded():
    x = fastnn.tensor(_x(4, 6, 5))
    a = L.LSTM(3, dropout=0.5, seed=1)
    b = L.LSTM(3, dropout=0.5, seed=1)
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    ya, yb = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(ya, yb)
    assert not np.allclose(ya, a(x).numpy())
    # the input mask is shared by every time step: a zeroed feature stays zero at every step
    cell = a.cell
    m = fastnn.layers.rnn._dropout_mask((4, 1, 5), 0.5, fastnn.random.Generator(3), x).numpy()
    assert set(np.unique(m)) <= {0.0, 2.0}
    # recurrent dropout goes through the cell loop; it trains and differs from inference
    r = L.GRU(3, recurrent_dropout=0.5, seed=2)
    r(x)
    assert r._fused_opts(True) is None and r._fused_opts(False) is not None
    xt = fastnn.tensor(_x(4, 6, 5), requires_grad=True)
    out = r(xt, training=True)
    out.sum().backward()
    assert xt.grad is not None and not np.allclose(out.numpy(), r(xt).numpy())
    assert cell._dp_mask is None  # reset after the call


def test_custom_cell_with_rnn():
    class MinimalCell(L.Layer):
        def __init__(self, units, **kw):
            super().__init__(**kw)
            self.units = units
            self.state_size = units
            self.output_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
            self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units))

        def call(self, inputs, states):
            h = fastnn.functional.matmul(inputs, self.kernel) + fastnn.functional.matmul(states[0],
                                                                                         self.recurrent_kernel)
            return h, [h]

    layer = L.RNN(MinimalCell(4), return_sequences=True)
    x = _x(2, 3, 5)
    y = layer(fastnn.tensor(x)).numpy()
    W, R = layer.get_weights()
    h = np.zeros((2, 4), np.float32)
    for t in range(3):
        h = x[:, t] @ W + h @ R
        np.testing.assert_allclose(y[:, t], h, rtol=1e-5, atol=1e-6)


def test_rnn_with_builtin_cells_matches_layers():
    x = fastnn.tensor(_x(2, 5, 3))
    for cell, layer in [(L.LSTMCell(4), L.LSTM(4)), (L.GRUCell(4, reset_after=False), L.GRU(4, reset_after=False)),
                        (L.SimpleRNNCell(4), L.SimpleRNN(4))]:
        r = L.RNN(cell)
        r(x)
        layer(x)
        layer.set_weights(r.get_weights())
        np.testing.assert_array_equal(r(x).numpy(), layer(x).numpy())
        out, states = cell(x[:, 0], cell.get_initial_state(2))
        assert out.shape == (2, 4)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(merge_mode):
    x = fastnn.tensor(_x(2, 5, 3))
    layer = L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode=merge_mode)
    out = layer(x)
    f = layer.forward_layer(x).numpy()
    b = layer.backward_layer(x).numpy()[:, ::-1]
    want = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b, "mul": lambda: f * b,
            "ave": lambda: (f + b) / 2, None: lambda: None}[merge_mode]()
    if merge_mode is None:
        np.testing.assert_allclose(out[0].numpy(), f, rtol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), b, rtol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-7)
    states = L.Bidirectional(L.LSTM(3, return_state=True))(x)
    assert len(states) == 5 and states[0].shape == (2, 6)


def test_time_distributed():
    x = _x(2, 5, 4)
    td = L.TimeDistributed(L.Dense(3))
    y = td(fastnn.tensor(x)).numpy()
    W, b = td.get_weights()
    np.testing.assert_allclose(y, x @ W + b, rtol=1e-5, atol=1e-6)
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 3)


def test_errors():
    with pytest.raises(ValueError, match="units"):
        L.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        L.GRU(3, dropout=1.5)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        L.LSTM(3)(fastnn.ones(2, 3))
    layer = L.GRU(3)
    layer(fastnn.ones(2, 4, 5))
    with pytest.raises(ValueError, match="initial state must have shape"):
        layer(fastnn.ones(2, 4, 5), initial_state=[fastnn.ones(3, 3)])
    with pytest.raises(ValueError, match="expects 1 initial state"):
        layer(fastnn.ones(2, 4, 5), initial_state=[fastnn.ones(2, 3), fastnn.ones(2, 3)])
    with pytest.raises(ValueError, match="incompatible"):
        layer(fastnn.ones(2, 4, 6))
    with pytest.raises(ValueError, match="mask must have shape"):
        layer(fastnn.ones(2, 4, 5), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="Merge mode"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="RNN layer"):
        L.Bidirectional(L.Dense(3))
    with pytest.raises(TypeError, match="cell"):
        L.RNN(3)
    with pytest.raises(ValueError, match="kernel of shape"):
        fastnn._C.rnn_forward(1, 1, 2, False, False, False, np.ones((2, 3, 4), np.float32),
                              np.ones((5, 8), np.float32), np.ones((2, 8), np.float32), None, None, None, None)
    with pytest.raises(TypeError, match="float32"):
        fastnn._C.rnn_forward(1, 1, 2, False, False, False, np.ones((2, 3, 4)), np.ones((4, 8), np.float32),
                              np.ones((2, 8), np.float32), None, None, None, None)
    with pytest.raises(ValueError, match="at least one time step"):
        fastnn._C.rnn_forward(0, 1, 1, False, False, False, np.ones((2, 0, 4), np.float32),
                              np.ones((4, 2), np.float32), np.ones((2, 2), np.float32), None, None, None, None)


def test_config_and_save_load_round_trip(tmp_path):
    model = fastnn.models.Sequential([
        L.Input((6, 3)),
        L.Masking(0.0),
        L.Bidirectional(L.LSTM(4, return_sequences=True, recurrent_activation="hard_sigmoid"), merge_mode="sum"),
        L.GRU(5, reset_after=False, return_sequences=True, go_backwards=True),
        L.TimeDistributed(L.Dense(2)),
        L.SimpleRNN(3, activation="relu"),
        L.Dense(1),
    ])
    x = _x(4, 6, 3)
    x[1, 4:] = 0.0
    want = model.predict(x, verbose=0)
    for lyr in model.layers:
        clone = type(lyr).from_config(lyr.get_config())
        assert clone.get_config() == lyr.get_config()
    path = tmp_path / "rnn.fastnn"
    model.save(path)
    loaded = fastnn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    generic = L.RNN(L.GRUCell(3), return_sequences=True)
    assert type(generic).from_config(generic.get_config()).get_config() == generic.get_config()


def test_fit_learns_a_sequence_task():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 12, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.float32)[:, None]
    for rnn in (L.LSTM(16), L.GRU(16), L.SimpleRNN(16)):
        fastnn.random.seed(0)
        model = fastnn.models.Sequential([L.Input((12, 2)), rnn, L.Dense(1, activation="sigmoid")])
        model.compile(optimizer=fastnn.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
        assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
        assert hist.history["accuracy"][-1] > 0.85


@pytest.mark.parametrize("name", ["lstm", "gru", "simple_rnn"])
def test_bench_rnn_torch_model_is_the_same_model(name):
    """The rnn suite's torch model, with the weights copied from fastnn, gives fastnn's loss."""
    import argparse

    from fastnn.bench import rnn as bench_rnn

    args = argparse.Namespace(vocab=300, dim=7, batch=4, length=6)
    m = bench_rnn._fastnn_model(args, name)
    rng = np.random.default_rng(0)
    x = rng.integers(0, args.vocab, size=(args.batch, args.length))
    y = (rng.random((args.batch, 1)) > 0.5).astype(np.float32)
    want = m.test_on_batch(x, y)
    want = float(want[0] if isinstance(want, (list, tuple)) else want)
    net = bench_rnn._TorchNet(torch, name, m)
    with torch.no_grad():
        out, _ = net.rnn(net.emb(torch.from_numpy(x)))
        got = float(net.lossf(torch.sigmoid(net.lin(out[:, -1])), torch.from_numpy(y)))
    assert_close(np.float32(got), np.float32(want), name, "loss", **TOL["rnn"])


def test_bench_rnn_suite_in_process(tmp_path, capsys):
    """The harness runs (tiny sizes, one round): every row timed; speed is never asserted."""
    import json

    from fastnn import bench

    out = tmp_path / "rnn.json"
    assert bench.main(["rnn", "--quick", "--threads", "1", "--rounds", "1", "--target", "0.002", "--retries", "0",
                       "--vocab", "300", "--dim", "7", "--batch", "4", "--length", "5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| LSTM(64)" in text and "| GRU(64)" in text and "| SimpleRNN(5)" in text
    r = json.loads(out.read_text())
    assert r["suite"] == "rnn" and r["length"] == 5 and set(r["rows"]) == {"lstm", "gru", "simple_rnn"}
    for row in r["rows"].values():
        assert row["1"]["fastnn"]["median_s"] > 0 and row["1"]["torch"]["median_s"] > 0
        assert row["1"]["fastnn_speedup"] > 0
