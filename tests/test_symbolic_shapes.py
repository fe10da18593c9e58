"""Symbolic output shapes: unknown (None) dimensions stay None through every layer, known ones
stay exact, in KerasTensor shapes and in model.summary()."""

import io

import fastnn
import numpy as np
import pytest
from fastnn import layers as L
from fastnn.models import Model, Sequential


def summary_of(model) -> str:
    buf = io.StringIO()
    model.summary(print_fn=lambda line: buf.write(line + "\n"))
    return buf.getvalue()


def test_lambda_then_flatten_keeps_unknown_steps():
    x = L.Input((None, 3))
    y = L.Lambda(lambda t: t * 2.0)(x)
    z = L.Flatten()(y)
    assert y.shape == (None, None, 3)
    assert z.shape == (None, None)  # as Keras: the flattened size is unknown
    text = summary_of(Model(x, z))
    assert "(None, None, 3)" in text and "(None, None)" in text
    assert "(None, 2, 3)" not in text and "(None, 6)" not in text


def test_sequential_summary_keeps_unknown_steps():
    model = Sequential([L.Input((None, 3)), L.Lambda(lambda t: t + 1.0), L.Flatten()])
    assert [lyr.output.shape for lyr in model.layers] == [(None, None, 3), (None, None)]
    text = summary_of(model)
    assert "(None, None, 3)" in text and "(None, 2, 3)" not in text


def test_model_with_unknown_steps_runs_on_any_length():
    x = L.Input((None, 3))
    model = Model(x, L.Flatten()(L.Lambda(lambda t: t * 2.0)(x)))
    for steps in (1, 5, 7):
        a = np.ones((2, steps, 3), np.float32)
        np.testing.assert_array_equal(model.predict(a, verbose=0), np.full((2, 3 * steps), 2.0, np.float32))


@pytest.mark.parametrize(
    "fn, want",
    [
        (lambda t: t * 2.0, (None, None, 3)),
        (lambda t: t[:, 0], (None, 3)),  # the unknown axis is gone
        (lambda t: t[:, 1:], (None, None, 3)),
        (lambda t: fastnn.functional.permute(t, (0, 2, 1)), (None, 3, None)),
        (lambda t: t.sum(axis=1), (None, 3)),
        (lambda t: t.sum(axis=0), (None, 3)),  # over the batch: the unknown steps remain
        (lambda t: t.mean(), ()),
    ],
)
def test_lambda_traced_shapes(fn, want):
    assert L.Lambda(fn)(L.Input((None, 3))).shape == want


def test_known_dimensions_stay_exact():
    assert L.Lambda(lambda t: t * 2.0)(L.Input((5, 3))).shape == (None, 5, 3)
    assert L.Lambda(lambda t: t.sum(axis=0))(L.Input((5, 3))).shape == (5, 3)
    assert L.Lambda(lambda t: t * 2.0)(L.Input((None, 3), batch_size=4)).shape == (4, None, 3)
    assert L.Lambda(lambda t: t * 2.0)(L.Input((5, 3), batch_size=4)).shape == (4, 5, 3)
    assert L.Flatten()(L.Lambda(lambda t: t * 2.0)(L.Input((5, 3)))).shape == (None, 15)


def test_lambda_with_several_inputs_and_outputs():
    a, b = L.Input((None, 3)), L.Input((None, 3))
    assert L.Lambda(lambda ts: ts[0] + ts[1])([a, b]).shape == (None, None, 3)
    outs = L.Lambda(lambda t: [t, t.sum(axis=1)])(a)
    assert [o.shape for o in outs] == [(None, None, 3), (None, 3)]


def test_tensor_ops_keep_unknown_steps():
    x = L.Input((None, 3))
    assert (x + 1.0).shape == (None, None, 3)
    assert (x * x).shape == (None, None, 3)
    assert (x @ np.ones((3, 2), np.float32)).shape == (None, None, 2)
    assert x.mean(axis=1).shape == (None, 3)
    assert x.sum(axis=-1, keepdims=True).shape == (None, None, 1)


class Tail(L.Layer):
    """A layer without compute_output_shape: traced."""

    def call(self, inputs):
        return inputs[:, 1:]


class WideConv(L.Layer):
    """Traced, and needs more than 2 steps (a valid window of 5)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = L.Conv1D(4, 5)

    def call(self, inputs):
        return self.conv(inputs)


def test_custom_layers_are_traced_with_unknown_steps():
    x = L.Input((None, 3))
    assert Tail()(x).shape == (None, None, 3)
    assert Tail()(L.Input((6, 3))).shape == (None, 5, 3)
    assert WideConv()(x).shape == (None, None, 4)
    assert WideConv()(L.Input((9, 3))).shape == (None, 5, 4)


def test_traced_layer_errors_still_raise():
    with pytest.raises(ValueError):
        L.Lambda(lambda t: t + fastnn.ones(7))(L.Input((None, 3)))
    with pytest.raises(ValueError):
        L.Lambda(lambda t: t + fastnn.ones(7))(L.Input((5, 3)))


def test_traced_layer_keeps_no_losses():
    class Penalised(L.Layer):
        def call(self, inputs):
            self.add_loss(inputs.sum())
            return inputs

    layer = Penalised()
    layer(L.Input((None, 3)))
    assert layer.losses == []


@pytest.mark.parametrize(
    "make, inputs, want",
    [
        (lambda: L.Flatten(), [(None, None, 3)], (None, None)),
        (lambda: L.Flatten(), [(4, 3)], (None, 12)),
        (lambda: L.Reshape((-1,)), [(None, 3)], (None, None)),
        (lambda: L.Reshape((-1, 6)), [(None, 3)], (None, None, 6)),
        (lambda: L.Reshape((-1, 3)), [(4, 3)], (None, 4, 3)),
        (lambda: L.Concatenate(axis=1), [(None, 3), (4, 3)], (None, None, 3)),
        (lambda: L.Concatenate(), [(None, 3), (None, 5)], (None, None, 8)),
        (lambda: L.Add(), [(None, 3), (None, 3)], (None, None, 3)),
        (lambda: L.Multiply(), [(None, 3), (4, 3)], (None, 4, 3)),
        (lambda: L.Dot(axes=2), [(None, 3), (None, 3)], (None, None, None)),
        (lambda: L.GlobalAveragePooling1D(), [(None, 3)], (None, 3)),
        (lambda: L.GlobalMaxPool2D(), [(None, None, 3)], (None, 3)),
        (lambda: L.MaxPool1D(2), [(None, 3)], (None, None, 3)),
        (lambda: L.AveragePooling2D(2), [(None, 8, 3)], (None, None, 4, 3)),
        (lambda: L.Conv1D(4, 3), [(None, 3)], (None, None, 4)),
        (lambda: L.Conv1D(4, 3, padding="causal"), [(None, 3)], (None, None, 4)),
        (lambda: L.Conv2D(4, 3, strides=2, padding="same"), [(None, 9, 3)], (None, None, 5, 4)),
        (lambda: L.Conv2DTranspose(4, 3, strides=2), [(None, None, 3)], (None, None, None, 4)),
        (lambda: L.LSTM(4, return_sequences=True), [(None, 3)], (None, None, 4)),
        (lambda: L.LSTM(4), [(None, 3)], (None, 4)),
        (lambda: L.SimpleRNN(4, return_sequences=True), [(None, 3)], (None, None, 4)),
        (lambda: L.GRU(4, return_sequences=True), [(None, 3)], (None, None, 4)),
        (lambda: L.Bidirectional(L.LSTM(4, return_sequences=True)), [(None, 3)], (None, None, 8)),
        (lambda: L.TimeDistributed(L.Dense(2)), [(None, 3)], (None, None, 2)),
        (lambda: L.TimeDistributed(L.Lambda(lambda t: t * 2.0)), [(None, 3)], (None, None, 3)),
        (lambda: L.Dense(2), [(None, 3)], (None, None, 2)),
        (lambda: L.LayerNormalization(), [(None, 3)], (None, None, 3)),
        (lambda: L.Masking(), [(None, 3)], (None, None, 3)),
        (lambda: L.Attention(), [(None, 3), (None, 3)], (None, None, 3)),
    ],
)
def test_layer_shapes_with_unknown_dims(make, inputs, want):
    xs = [L.Input(s) for s in inputs]
    out = make()(xs if len(xs) > 1 else xs[0])
    assert out.shape == want


def test_rnn_states_with_unknown_steps():
    outs = L.GRU(4, return_sequences=True, return_state=True)(L.Input((None, 3)))
    assert [o.shape for o in outs] == [(None, None, 4), (None, 4)]


def test_embedding_then_lambda_keeps_unknown_steps():
    x = L.Input((None,), dtype="int64")
    e = L.Embedding(10, 4)(x)
    y = L.Lambda(lambda t: t * 2.0)(e)
    assert e.shape == (None, None, 4) and y.shape == (None, None, 4)
    assert L.GlobalAveragePooling1D()(y).shape == (None, 4)
