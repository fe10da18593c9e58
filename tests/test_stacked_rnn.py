"""StackedRNNCells and RNN([cell, cell, ...]): outputs, final states and every gradient against
stacked torch nn.LSTM / nn.GRU / nn.RNN layers (or one module with num_layers=2) with the weights
mapped, on both paths (the fused pass per built-in cell and the generic step loop over the stack);
masks, go_backwards, initial and stateful states, Bidirectional, parameter counts, config and
saving."""

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


CELLS = {  # kind -> (cell factory, number of states, torch module class)
    "lstm": (L.LSTMCell, 2, torch.nn.LSTM),
    "gru": (L.GRUCell, 1, torch.nn.GRU),
    "simple": (L.SimpleRNNCell, 1, torch.nn.RNN),
}


class Forwarding(L.Layer):
    """A custom cell around a built-in one: RNN cannot fuse it, so the stack takes the step loop."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    @property
    def state_size(self):
        return self.inner.state_size

    @property
    def output_size(self):
        return self.inner.output_size

    def build(self, input_shape):
        self.inner._maybe_build(input_shape)

    def call(self, inputs, states, training=False):
        return self.inner.call(inputs, states, training=training)


def _stack(kinds, units, path, **kwargs):
    cells = [CELLS[k][0](u) for k, u in zip(kinds, units)]
    if path == "loop":
        cells = [Forwarding(c) for c in cells]
    return L.RNN(cells, **kwargs)


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([(rng.standard_normal(w.shape) * 0.5).astype(np.float32) for w in layer.weights])


def _gru_perm(a, u):
    # Keras's gates z, r, h against torch's r, z, n
    return np.concatenate([a[..., u:2 * u], a[..., :u], a[..., 2 * u:]], -1)


def _load_torch(m, suffix, kind, weights, u):
    W, R, b = weights
    perm = (lambda a: _gru_perm(a, u)) if kind == "gru" else (lambda a: a)
    with torch.no_grad():
        getattr(m, f"weight_ih_{suffix}").copy_(torch.tensor(perm(W).T))
        getattr(m, f"weight_hh_{suffix}").copy_(torch.tensor(perm(R).T))
        if kind == "gru":
            getattr(m, f"bias_ih_{suffix}").copy_(torch.tensor(perm(b[0])))
            getattr(m, f"bias_hh_{suffix}").copy_(torch.tensor(perm(b[1])))
        else:
            getattr(m, f"bias_ih_{suffix}").copy_(torch.tensor(b))
            getattr(m, f"bias_hh_{suffix}").zero_()
    return perm


def _torch_grads(m, suffix, kind, perm):
    gW = perm(getattr(m, f"weight_ih_{suffix}").grad.numpy().T)
    gR = perm(getattr(m, f"weight_hh_{suffix}").grad.numpy().T)
    if kind == "gru":
        gb = np.stack([perm(getattr(m, f"bias_ih_{suffix}").grad.numpy()),
                       perm(getattr(m, f"bias_hh_{suffix}").grad.numpy())])
    else:
        gb = getattr(m, f"bias_ih_{suffix}").grad.numpy()
    return [gW, gR, gb]


class TorchStack:
    """The same stack in torch: one module with num_layers=len(kinds) when every cell has the same
    kind and size (the layout the brief names), else one module per cell chained."""

    def __init__(self, kinds, units, I, weights):
        self.kinds, self.units = kinds, units
        self.single = len(set(kinds)) == 1 and len(set(units)) == 1
        ws = [weights[3 * i:3 * i + 3] for i in range(len(kinds))]
        if self.single:
            k = kinds[0]
            self.mods = [CELLS[k][2](I, units[0], num_layers=len(kinds), batch_first=True)]
            self.perms = [_load_torch(self.mods[0], f"l{i}", k, w, units[0]) for i, w in enumerate(ws)]
        else:
            sizes = [I] + list(units[:-1])
            self.mods = [CELLS[k][2](i, u, batch_first=True) for k, i, u in zip(kinds, sizes, units)]
            self.perms = [_load_torch(m, "l0", k, w, u) for m, k, w, u in zip(self.mods, kinds, ws, units)]

    def __call__(self, x, states):
        """x (B, T, I); states: flat torch tensors (B, u) in cell order; returns (y, flat final states)."""
        per, k = [], 0
        for kind in self.kinds:
            n = CELLS[kind][1]
            per.append(states[k:k + n])
            k += n
        if self.single:
            if self.kinds[0] == "lstm":
                h0 = torch.stack([s[0] for s in per])
                c0 = torch.stack([s[1] for s in per])
                y, (h, c) = self.mods[0](x, (h0, c0))
                return y, [t for i in range(len(per)) for t in (h[i], c[i])]
            y, h = self.mods[0](x, torch.stack([s[0] for s in per]))
            return y, [h[i] for i in range(len(per))]
        out = []
        for m, kind, s in zip(self.mods, self.kinds, per):
            if kind == "lstm":
                x, (h, c) = m(x, (s[0][None], s[1][None]))
                out += [h[0], c[0]]
            else:
                x, h = m(x, s[0][None])
                out.append(h[0])
        return x, out

    def weight_grads(self):
        if self.single:
            return [g for i, p in enumerate(self.perms) for g in _torch_grads(self.mods[0], f"l{i}", self.kinds[i], p)]
        return [g for m, k, p in zip(self.mods, self.kinds, self.perms) for g in _torch_grads(m, "l0", k, p)]


def _fastnn_run(layer, x, states, dy, ds, mask=None):
    xt = fastnn.tensor(x, requires_grad=True)
    st = [fastnn.tensor(s, requires_grad=True) for s in states]
    kw = {} if mask is None else {"mask": fastnn.tensor(mask.astype(np.float32))}
    out = layer(xt, initial_state=st, **kw)
    loss = (out[0] * fastnn.tensor(dy)).sum()
    for f, d in zip(out[1:], ds):
        loss = loss + (f * fastnn.tensor(d)).sum()
    loss.backward()
    grads = [xt.grad.numpy()] + [s.grad.numpy() for s in st] + [w.grad.numpy() for w in layer.weights]
    return [o.numpy() for o in out], grads


STACKS = [  # (kinds, units, B, T, I)
    (("lstm", "lstm"), (7, 7), 3, 6, 5),       # nn.LSTM(num_layers=2)
    (("lstm", "lstm"), (5, 13), 2, 9, 3),      # two nn.LSTM, odd sizes
    (("gru", "gru"), (9, 9), 4, 5, 2),
    (("gru", "gru"), (3, 17), 1, 7, 11),
    (("simple", "simple"), (6, 6), 3, 8, 4),
    (("simple", "simple"), (1, 5), 2, 3, 1),
    (("lstm", "gru", "simple"), (4, 6, 3), 3, 5, 7),
    (("gru", "lstm", "lstm"), (8, 8, 8), 2, 4, 3),
]


@pytest.mark.parametrize("kinds,units,B,T,I", STACKS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_stack_against_torch(kinds, units, B, T, I, go_backwards, path):
    layer = _stack(kinds, units, path, return_sequences=True, return_state=True, go_backwards=go_backwards)
    x = _x(B, T, I)
    layer(fastnn.tensor(x))
    _randomize(layer)
    sizes = [u for k, u in zip(kinds, units) for _ in range(CELLS[k][1])]
    assert layer._state_sizes() == sizes
    assert (layer._fused_opts(True) is not None) == (path == "fused")
    states = [_x(B, u, seed=3 + i) for i, u in enumerate(sizes)]
    dy = _x(B, T, units[-1], seed=5)
    ds = [_x(B, u, seed=20 + i) for i, u in enumerate(sizes)]
    outs, grads = _fastnn_run(layer, x, states, dy, ds)

    ref = TorchStack(kinds, units, I, layer.get_weights())
    xt = torch.tensor(x[:, ::-1].copy() if go_backwards else x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    y, fin = ref(xt, st)
    loss = (y * torch.tensor(dy)).sum() + sum((f * torch.tensor(d)).sum() for f, d in zip(fin, ds))
    loss.backward()
    name = "+".join(kinds)
    assert len(outs) == 1 + len(sizes)
    assert_close(outs[0], y.detach().numpy(), name, "output", **TOL["rnn"])
    for i, f in enumerate(fin):
        assert_close(outs[1 + i], f.detach().numpy(), name, f"state{i}", **TOL["rnn"])
    dx = xt.grad.numpy()[:, ::-1] if go_backwards else xt.grad.numpy()
    assert_close(grads[0], dx, name, "dx", **TOL["rnn"])
    for i, s in enumerate(st):
        assert_close(grads[1 + i], s.grad.numpy(), name, f"dstate{i}", **TOL["rnn"])
    for i, (got, want) in enumerate(zip(grads[1 + len(sizes):], ref.weight_grads())):
        assert_close(got, want, name, f"dweight{i}", **TOL["rnn"])


@pytest.mark.parametrize("kinds,units", [(("lstm", "lstm"), (4, 4)), (("gru", "simple"), (5, 3))])
def test_padded_batch_matches_unpadded_sequences_in_torch(kinds, units):
    # right padding, masked: each row gives torch's result on its own unpadded sequence
    B, T, I = 4, 7, 3
    lengths = [7, 4, 1, 5]
    x = _x(B, T, I)
    mask = np.zeros((B, T), np.float32)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        x[i, n:] = 0.0
    layer = _stack(kinds, units, "fused", return_state=True)
    layer(fastnn.tensor(x))
    _randomize(layer)
    ref = TorchStack(kinds, units, I, layer.get_weights())
    out = layer(fastnn.tensor(x), mask=fastnn.tensor(mask))
    zeros = [torch.zeros(1, u) for k, u in zip(kinds, units) for _ in range(CELLS[k][1])]
    for i, n in enumerate(lengths):
        y, fin = ref(torch.tensor(x[i:i + 1, :n]), zeros)
        assert_close(out[0].numpy()[i], y[0, -1].detach().numpy(), "stack", "padded output", **TOL["rnn"])
        for j, f in enumerate(fin):
            assert_close(out[1 + j].numpy()[i], f[0].detach().numpy(), "stack", f"padded state{j}", **TOL["rnn"])


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masked_fused_stack_equals_step_loop(go_backwards, zero_output, return_sequences):
    # left padding, holes and an all-masked row: the fused pass cell by cell must equal the
    # stack run step by step, outputs, states and gradients
    B, T, I = 4, 6, 3
    x = _x(B, T, I)
    mask = np.ones((B, T), np.float32)
    mask[0, :2] = 0
    mask[1, 3] = 0
    mask[1, 5] = 0
    mask[2] = 0
    kinds, units = ("lstm", "gru", "simple"), (5, 4, 3)
    opts = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                zero_output_for_mask=zero_output)
    fused = _stack(kinds, units, "fused", **opts)
    loop = _stack(kinds, units, "loop", **opts)
    fused(fastnn.tensor(x))
    loop(fastnn.tensor(x))
    _randomize(fused)
    loop.set_weights(fused.get_weights())
    sizes = fused._state_sizes()
    states = [_x(B, u, seed=3 + i) for i, u in enumerate(sizes)]
    dy = _x(*((B, T, 3) if return_sequences else (B, 3)), seed=5)
    ds = [_x(B, u, seed=20 + i) for i, u in enumerate(sizes)]
    a_out, a_grads = _fastnn_run(fused, x, states, dy, ds, mask)
    b_out, b_grads = _fastnn_run(loop, x, states, dy, ds, mask)
    for i, (p, q) in enumerate(zip(a_out + a_grads, b_out + b_grads)):
        assert_close(p, q, "stack", f"fused vs loop {i}", **TOL["rnn"])
    # the all-masked row keeps its initial states
    for s, f in zip(states, a_out[1:]):
        np.testing.assert_array_equal(f[2], s[2])


def test_stacked_cells_as_a_cell():
    c1, c2 = L.LSTMCell(4), L.GRUCell(3)
    stack = L.StackedRNNCells([c1, c2])
    assert stack.state_size == [[4, 4], 3]
    assert stack.output_size == 3
    init = stack.get_initial_state(2)
    assert [[tuple(s.shape) for s in per] for per in init] == [[(2, 4), (2, 4)], [(2, 3)]]
    x = fastnn.tensor(_x(2, 5))
    out, new = stack(x, init)
    assert tuple(out.shape) == (2, 3) and len(new) == 2 and len(new[0]) == 2 and len(new[1]) == 1
    assert c1.kernel.shape == (5, 16) and c2.kernel.shape == (4, 9)
    # one step of the stack is one step of each cell in order
    h1, hc = c1.call(x, [s for s in init[0]])
    want, _ = c2.call(h1, init[1])
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    # flat states are accepted too
    out2, _ = stack.call(x, [s for per in init for s in per])
    np.testing.assert_array_equal(out2.numpy(), out.numpy())
    with pytest.raises(ValueError, match="expects 3 states"):
        stack.call(x, init[0])
    layer = L.RNN(stack)
    assert layer.cell is stack and layer(fastnn.tensor(_x(2, 6, 5))).shape == (2, 3)


def test_initial_state_nested_or_flat_and_errors():
    layer = L.RNN([L.LSTMCell(4), L.SimpleRNNCell(3)], return_state=True)
    x = fastnn.tensor(_x(2, 5, 3))
    layer(x)
    h1, c1, h2 = (fastnn.tensor(_x(2, u, seed=i)) for i, u in enumerate((4, 4, 3)))
    flat = layer(x, initial_state=[h1, c1, h2])
    nested = layer(x, initial_state=[[h1, c1], [h2]])
    for a, b in zip(flat, nested):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(flat[0].numpy(), layer(x)[0].numpy())
    with pytest.raises(ValueError, match="expects 3 initial state"):
        layer(x, initial_state=[h1, c1])
    with pytest.raises(ValueError, match=r"must have shape \(2, 3\)"):
        layer(x, initial_state=[h1, c1, h1])
    with pytest.raises(ValueError, match="at least one cell"):
        L.RNN([])
    with pytest.raises(TypeError, match="every cell must be a Layer"):
        L.RNN([L.LSTMCell(3), "lstm"])
    with pytest.raises(TypeError, match="must be a list of RNN cells"):
        L.StackedRNNCells(L.LSTMCell(3))
    with pytest.raises(ValueError, match="expected 3 features"):
        layer(fastnn.tensor(_x(2, 5, 4)))


def test_functional_model_with_stacked_states():
    # an encoder's flat final states start a decoder stack of the same shape
    enc_in, dec_in = L.Input((5, 3)), L.Input((4, 2))
    enc = L.RNN([L.LSTMCell(6), L.GRUCell(4)], return_state=True)
    _, h1, c1, h2 = enc(enc_in)
    dec = L.RNN([L.LSTMCell(6), L.GRUCell(4)], return_sequences=True)
    y = dec(dec_in, initial_state=[h1, c1, h2])
    model = fastnn.models.Model([enc_in, dec_in], y)
    assert model.output_shape == (None, 4, 4)
    assert enc.compute_output_shape((None, 5, 3)) == ((None, 4), (None, 6), (None, 6), (None, 4))
    xe, xd = _x(3, 5, 3), _x(3, 4, 2, seed=1)
    got = model.predict([xe, xd], verbose=0)
    _, *states = enc(fastnn.tensor(xe))
    np.testing.assert_allclose(got, dec(fastnn.tensor(xd), initial_state=states).numpy(), rtol=1e-6, atol=1e-6)


def test_stateful_stack_continues_the_sequence():
    x = _x(2, 8, 3)
    whole = L.RNN([L.LSTMCell(4), L.GRUCell(5)], return_sequences=True)
    whole(fastnn.tensor(x))
    _randomize(whole)
    inp = L.Input(batch_shape=(2, 4, 3))
    part = L.RNN([L.LSTMCell(4), L.GRUCell(5)], return_sequences=True, stateful=True)
    fastnn.models.Model(inp, part(inp))
    part.set_weights(whole.get_weights())
    assert [tuple(s.shape) for s in part.states] == [(2, 4), (2, 4), (2, 5)]
    want = whole(fastnn.tensor(x)).numpy()
    a = part(fastnn.tensor(x[:, :4])).numpy()
    b = part(fastnn.tensor(x[:, 4:])).numpy()
    np.testing.assert_allclose(np.concatenate([a, b], 1), want, rtol=1e-6, atol=1e-6)
    part.reset_states()
    np.testing.assert_array_equal(part(fastnn.tensor(x[:, :4])).numpy(), a)
    part.reset_states([np.zeros((2, 4)), np.zeros((2, 4)), np.ones((2, 5))])
    assert not np.allclose(part(fastnn.tensor(x[:, :4])).numpy(), a)
    with pytest.raises(ValueError, match="has 3 states"):
        part.reset_states([np.zeros((2, 4))])


def test_bidirectional_stack_against_torch():
    B, T, I, U = 3, 6, 4, 5
    x = _x(B, T, I)
    mask = np.ones((B, T), np.float32)
    mask[1, 4:] = 0
    layer = L.Bidirectional(L.RNN([L.LSTMCell(U), L.LSTMCell(U)], return_sequences=True, return_state=True))
    layer(fastnn.tensor(x))
    _randomize(layer)
    ws = layer.get_weights()
    assert len(ws) == 12
    fwd = TorchStack(("lstm", "lstm"), (U, U), I, ws[:6])
    bwd = TorchStack(("lstm", "lstm"), (U, U), I, ws[6:])
    xt = fastnn.tensor(x, requires_grad=True)
    out = layer(xt, mask=fastnn.tensor(mask))
    assert len(out) == 1 + 8
    dy = _x(B, T, 2 * U, seed=4)
    (out[0] * fastnn.tensor(dy)).sum().backward()
    zeros = [torch.zeros(1, U) for _ in range(4)]
    tx = torch.tensor(x, requires_grad=True)
    loss = 0
    for i in range(B):
        n = int(mask[i].sum())
        yf, sf = fwd(tx[i:i + 1, :n], zeros)
        yb, sb = bwd(tx[i:i + 1, :n].flip(1), zeros)
        assert_close(out[0].numpy()[i, :n], torch.cat([yf[0], yb[0].flip(0)], -1).detach().numpy(), "bidi stack",
                     "output", **TOL["rnn"])
        np.testing.assert_array_equal(out[0].numpy()[i, n:], 0.0)  # masked steps output zeros
        for j, s in enumerate(sf + sb):
            assert_close(out[1 + j].numpy()[i], s[0].detach().numpy(), "bidi stack", f"state{j}", **TOL["rnn"])
        loss = loss + (torch.cat([yf[0], yb[0].flip(0)], -1) * torch.tensor(dy[i, :n])).sum()
    loss.backward()
    # masked (padding) steps still pass gradient zero to their inputs
    assert_close(xt.grad.numpy(), tx.grad.numpy(), "bidi stack", "dx", **TOL["rnn"])


def test_param_counts_and_summary_equal_keras():
    model = fastnn.models.Sequential([
        L.Input((80, 50)),
        L.RNN([L.LSTMCell(64), L.LSTMCell(32)], return_sequences=True),
        L.RNN([L.GRUCell(16), L.SimpleRNNCell(8), L.GRUCell(4, reset_after=False)]),
        L.Dense(1),
    ])
    lstm2 = 4 * (64 * (50 + 64) + 64) + 4 * (32 * (64 + 32) + 32)
    mixed = 3 * (16 * (32 + 16) + 2 * 16) + (8 * (16 + 8) + 8) + 3 * (4 * (8 + 4) + 4)
    assert [lyr.count_params() for lyr in model.layers] == [lstm2, mixed, 5]
    assert model.layers[0].count_params() == sum(c.count_params() for c in model.layers[0].cell.cells)
    assert model.output_shape == (None, 1)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"{lstm2:,}" in text and f"{mixed:,}" in text
    assert f"Total params: {lstm2 + mixed + 5:,}" in text
    assert [w.path for w in model.layers[0].weights][:2] == ["rnn/stacked_rnn_cells/lstm_cell/kernel",
                                                             "rnn/stacked_rnn_cells/lstm_cell/recurrent_kernel"]


def test_config_and_save_load_round_trip(tmp_path):
    model = fastnn.models.Sequential([
        L.Input((6, 3)),
        L.Masking(0.0),
        L.RNN([L.LSTMCell(4, recurrent_activation="hard_sigmoid"), L.GRUCell(5, reset_after=False)],
              return_sequences=True, go_backwards=True),
        L.Bidirectional(L.RNN([L.SimpleRNNCell(3, activation="relu"), L.LSTMCell(2)]), merge_mode="sum"),
        L.Dense(1),
    ])
    x = _x(4, 6, 3)
    x[1, 4:] = 0.0
    want = model.predict(x, verbose=0)
    for lyr in model.layers:
        clone = type(lyr).from_config(lyr.get_config())
        assert clone.get_config() == lyr.get_config()
    config = model.layers[1].get_config()
    assert config["cell"]["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in config["cell"]["config"]["cells"]] == ["LSTMCell", "GRUCell"]
    path = tmp_path / "stack.fastnn"
    model.save(path)
    loaded = fastnn.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    assert isinstance(loaded.layers[1].cell, L.StackedRNNCells)
    w2 = tmp_path / "stack.weights.safetensors"
    model.save_weights(w2)
    fresh = fastnn.models.Sequential.from_config(model.get_config())
    fresh.build((None, 6, 3))
    fresh.load_weights(w2)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), want)


def test_dropout_in_stacked_cells():
    # dropout keeps the fused path, recurrent dropout takes the loop; both reset their masks
    x = fastnn.tensor(_x(3, 5, 4))
    for kw in ({"dropout": 0.3}, {"recurrent_dropout": 0.3}):
        cells = [L.LSTMCell(6, seed=1, **kw), L.GRUCell(3, seed=2, **kw)]
        layer = L.RNN(cells)
        y0 = layer(x).numpy()
        y1 = layer(x, training=True).numpy()
        assert y1.shape == (3, 3) and np.isfinite(y1).all() and not np.allclose(y0, y1)
        np.testing.assert_array_equal(layer(x).numpy(), y0)
        assert all(c._dp_mask is None and c._rdp_mask is None for c in cells)


def test_fit_with_a_stack_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 10, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1, keepdims=True) > 0).astype(np.float32)
    model = fastnn.models.Sequential([L.Input((10, 2)), L.RNN([L.GRUCell(8), L.LSTMCell(8)]),
                                      L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=fastnn.optimizers.Adam(0.01), loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert hist[-1] < 0.8 * hist[0]
