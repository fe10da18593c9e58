"""Constructor signatures of the recurrent layers and cells against Keras 3's (names, order,
defaults), their documented arguments, the errors for a misspelt keyword (named after the layer
the user called) and for invalid values, and the config / save-load round trip of every argument."""

import inspect

import fastnn
import numpy as np
import pytest
from fastnn import layers as L
from fastnn.layers.base import clear_session


@pytest.fixture(autouse=True)
def _names():
    clear_session()
    yield


_CELL_COMMON = ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout"]
_INIT = ["use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer"]
_LAYER_FLAGS = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll"]

# The parameters of __init__ (before **kwargs), in order, as in keras/src/layers/rnn/*.py (Keras 3).
KERAS3 = {
    L.SimpleRNNCell: ["units", "activation", *_INIT, *_CELL_COMMON, "seed"],
    L.LSTMCell: ["units", "activation", "recurrent_activation", *_INIT, "unit_forget_bias", *_CELL_COMMON, "seed"],
    L.GRUCell: ["units", "activation", "recurrent_activation", *_INIT, *_CELL_COMMON, "reset_after", "seed"],
    L.SimpleRNN: ["units", "activation", *_INIT, "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                  "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                  "recurrent_dropout", *_LAYER_FLAGS, "seed"],
    L.LSTM: ["units", "activation", "recurrent_activation", *_INIT, "unit_forget_bias", "kernel_regularizer",
             "recurrent_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
             "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed", *_LAYER_FLAGS,
             "use_cudnn"],
    L.GRU: ["units", "activation", "recurrent_activation", *_INIT, "kernel_regularizer", "recurrent_regularizer",
            "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
            "dropout", "recurrent_dropout", "seed", *_LAYER_FLAGS, "reset_after", "use_cudnn"],
    L.RNN: ["cell", *_LAYER_FLAGS, "zero_output_for_mask"],
    L.Bidirectional: ["layer", "merge_mode", "weights", "backward_layer"],
    L.TimeDistributed: ["layer"],
    L.Masking: ["mask_value"],
}

KERAS3_DEFAULTS = {
    "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
    "kernel_initializer": "glorot_uniform", "recurrent_initializer": "orthogonal", "bias_initializer": "zeros",
    "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
    "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None,
    "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None, "return_sequences": False, "return_state": False,
    "go_backwards": False, "stateful": False, "unroll": False, "zero_output_for_mask": False, "reset_after": True,
    "use_cudnn": "auto", "merge_mode": "concat", "weights": None, "backward_layer": None, "mask_value": 0.0,
}
REQUIRED = {"units", "cell", "layer"}

# A working instance of each class, given extra keyword arguments.
MAKE = {
    L.SimpleRNNCell: lambda **k: L.SimpleRNNCell(3, **k),
    L.LSTMCell: lambda **k: L.LSTMCell(3, **k),
    L.GRUCell: lambda **k: L.GRUCell(3, **k),
    L.SimpleRNN: lambda **k: L.SimpleRNN(3, **k),
    L.LSTM: lambda **k: L.LSTM(3, **k),
    L.GRU: lambda **k: L.GRU(3, **k),
    L.RNN: lambda **k: L.RNN(L.LSTMCell(3), **k),
    L.Bidirectional: lambda **k: L.Bidirectional(L.LSTM(3), **k),
    L.TimeDistributed: lambda **k: L.TimeDistributed(L.Dense(3), **k),
    L.Masking: lambda **k: L.Masking(**k),
}


def _params(cls):
    return list(inspect.signature(cls).parameters.values())


@pytest.mark.parametrize("cls", list(KERAS3), ids=lambda c: c.__name__)
def test_signature_has_keras3_names_order_and_defaults(cls):
    params = _params(cls)
    assert params[-1].kind is inspect.Parameter.VAR_KEYWORD  # name, dtype, trainable, input_shape, ...
    named = params[:-1]
    assert [p.name for p in named] == KERAS3[cls]
    for p in named:
        if p.name in REQUIRED:
            assert p.default is inspect.Parameter.empty, p.name
        else:
            assert p.default == KERAS3_DEFAULTS[p.name], p.name


@pytest.mark.parametrize("cls", [L.SimpleRNNCell, L.LSTMCell, L.GRUCell, L.SimpleRNN, L.LSTM, L.GRU],
                         ids=lambda c: c.__name__)
def test_defaults_are_the_ones_in_effect(cls):
    # the signature is not decoration: a layer built with no arguments has its defaults
    obj = MAKE[cls]()
    config = obj.get_config()
    for p in _params(cls)[:-1]:
        if p.name in REQUIRED or p.name == "use_cudnn":
            continue
        # Layer.get_config leaves out an absent activity_regularizer
        got = config.get(p.name) if p.name == "activity_regularizer" else config[p.name]
        if p.name.endswith("_initializer"):
            assert got["class_name"].lower().replace("_", "") == p.default.replace("_", ""), p.name
        else:
            assert got == p.default, p.name


@pytest.mark.parametrize("cls", list(KERAS3), ids=lambda c: c.__name__)
def test_docstring_lists_every_argument_and_has_an_example(cls):
    doc = inspect.getdoc(cls)
    assert "{args}" not in doc
    args = doc.split("Args:", 1)[1].split("Example", 1)[0]
    for p in _params(cls):
        name = "**kwargs" if p.kind is p.VAR_KEYWORD else p.name
        assert f"\n    {name}: " in "\n" + args, f"{cls.__name__}: {name} is not documented"
    assert "Example::" in doc


def test_generated_docs_give_the_default_of_each_class():
    assert "units: Positive integer" in L.GRU.__doc__
    assert "reset_after:" in L.GRU.__doc__ and "Default: True." in L.GRU.__doc__
    assert "unit_forget_bias" not in L.GRU.__doc__ and "recurrent_activation" not in L.SimpleRNN.__doc__
    assert "Default: 'auto'." in L.LSTM.__doc__ and "use_cudnn" not in L.SimpleRNN.__doc__


# ---------------------------------------------------------------------------- misspelt keywords
MISSPELT = [
    (L.SimpleRNN, "retrun_sequences", "return_sequences"),
    (L.LSTM, "retrun_sequences", "return_sequences"),
    (L.GRU, "reset_afer", "reset_after"),
    (L.LSTM, "unit_forget_bais", "unit_forget_bias"),
    (L.GRU, "recurent_dropout", "recurrent_dropout"),
    (L.SimpleRNN, "kernel_initialiser", "kernel_initializer"),
    (L.LSTM, "input_shap", "input_shape"),
    (L.SimpleRNNCell, "recurrent_dropuot", "recurrent_dropout"),
    (L.LSTMCell, "unit_forget_bais", "unit_forget_bias"),
    (L.GRUCell, "reset_afer", "reset_after"),
    (L.RNN, "go_backward", "go_backwards"),
    (L.Bidirectional, "merge_mod", "merge_mode"),
    (L.TimeDistributed, "nmae", "name"),
    (L.Masking, "mask_vale", "mask_value"),
]


@pytest.mark.parametrize("cls, bad, good", MISSPELT, ids=lambda v: getattr(v, "__name__", v))
def test_misspelt_keyword_names_the_layer_called_and_suggests(cls, bad, good):
    with pytest.raises(TypeError) as info:
        MAKE[cls](**{bad: True})
    msg = str(info.value)
    assert msg.startswith(f"Unrecognized keyword arguments passed to {cls.__name__}: {{'{bad}': True}}")
    assert f"did you mean '{good}' instead of '{bad}'?" in msg


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU], ids=lambda c: c.__name__)
def test_misspelt_keyword_is_not_reported_against_the_cell(cls):
    with pytest.raises(TypeError, match=rf"passed to {cls.__name__}: ") as info:
        cls(4, retrun_sequences=True)
    assert "Cell" not in str(info.value)


def test_unrelated_keyword_gets_no_suggestion_and_keras_rejects_the_same():
    with pytest.raises(TypeError) as info:
        L.LSTM(4, zzz=1)
    assert str(info.value) == "Unrecognized keyword arguments passed to LSTM: {'zzz': 1}"
    # Keras's SimpleRNN has no recurrent_activation (nor use_cudnn)
    for kw in ({"recurrent_activation": "relu"}, {"use_cudnn": True}):
        with pytest.raises(TypeError, match="passed to SimpleRNN"):
            L.SimpleRNN(4, **kw)
    with pytest.raises(TypeError, match="passed to GRU.*'unit_forget_bias'"):
        L.GRU(4, unit_forget_bias=True)


# ---------------------------------------------------------------------------- invalid values
BUILTIN = [L.SimpleRNN, L.LSTM, L.GRU, L.SimpleRNNCell, L.LSTMCell, L.GRUCell]
LAYERS = [L.SimpleRNN, L.LSTM, L.GRU]

BAD_UNITS = [0, -3, 2.5, 8.0, "8", None, True]


@pytest.mark.parametrize("cls", BUILTIN, ids=lambda c: c.__name__)
@pytest.mark.parametrize("units", BAD_UNITS, ids=repr)
def test_bad_units(cls, units):
    with pytest.raises(ValueError) as info:
        cls(units)
    assert str(info.value) == f"{cls.__name__}: units must be a positive integer, got units={units!r}"


@pytest.mark.parametrize("cls", BUILTIN, ids=lambda c: c.__name__)
@pytest.mark.parametrize("arg", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), "0.2", None, True], ids=repr)
def test_bad_rates(cls, arg, rate):
    with pytest.raises(ValueError) as info:
        cls(4, **{arg: rate})
    assert str(info.value) == f"{cls.__name__}: {arg} must be a number in [0, 1), got {arg}={rate!r}"


def _flags(cls):
    names = ["use_bias", "unit_forget_bias", "reset_after", *_LAYER_FLAGS, "zero_output_for_mask"]
    return [n for n in names if n in inspect.signature(cls).parameters]


FLAG_CASES = [(cls, flag) for cls in [*BUILTIN, L.RNN] for flag in _flags(cls)]
FLAG_CASES += [(cls, "zero_output_for_mask") for cls in LAYERS]  # through **kwargs to RNN


@pytest.mark.parametrize("cls, flag", FLAG_CASES, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("value", ["yes", "no", 1, 0, None, "True"], ids=repr)
def test_bool_flags_refuse_non_bools(cls, flag, value):
    with pytest.raises(TypeError) as info:
        MAKE[cls](**{flag: value})
    assert str(info.value) == f"{cls.__name__}: {flag} must be True or False, got {flag}={value!r}"


def test_reported_case():
    with pytest.raises(TypeError, match=r"^GRU: reset_after must be True or False, got reset_after='yes'$"):
        L.GRU(8, reset_after="yes")


@pytest.mark.parametrize("cls, flag", [(L.GRU, "reset_after"), (L.LSTM, "return_sequences"),
                                       (L.LSTMCell, "unit_forget_bias"), (L.RNN, "go_backwards")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_numpy_bools_are_bools(cls, flag):
    obj = MAKE[cls](**{flag: np.bool_(False)})
    assert getattr(obj, flag) is False


BAD_LOOKUPS = [
    ("activation", "tanhh", ValueError, "unknown activation 'tanhh'"),
    ("activation", 3, TypeError, "cannot interpret 3 as an activation"),
    ("recurrent_activation", "sigmod", ValueError, "unknown activation 'sigmod'"),
    ("kernel_initializer", "glorot", ValueError, "unknown initializer 'glorot'"),
    ("recurrent_initializer", 1.5, TypeError, "cannot interpret 1.5 as an initializer"),
    ("bias_initializer", "zero_s", ValueError, "unknown initializer 'zero_s'"),
    ("kernel_regularizer", "l3", ValueError, "unknown regularizer 'l3'"),
    ("recurrent_regularizer", 2, TypeError, "cannot interpret 2 as a regularizer"),
    ("activity_regularizer", "l3", ValueError, "unknown regularizer 'l3'"),
    ("bias_constraint", "maxnorm2", ValueError, "constraint identifier 'maxnorm2'"),
    ("seed", "x", TypeError, "seed must be an integer"),
    ("seed", -1, ValueError, r"seed must be in \[0, 2\*\*64\)"),
    ("seed", 1.5, TypeError, "seed must be an integer"),
]


LOOKUP_CASES = [(cls, *case) for cls in BUILTIN for case in BAD_LOOKUPS if case[0] in inspect.signature(cls).parameters]


@pytest.mark.parametrize("cls, arg, value, exc, why", LOOKUP_CASES,
                         ids=lambda v: "" if v in (TypeError, ValueError) else getattr(v, "__name__", repr(v)))
def test_bad_activations_initializers_regularizers_constraints_seeds(cls, arg, value, exc, why):
    with pytest.raises(exc, match=rf"^{cls.__name__}: invalid {arg}={value!r}: .*{why}") as info:
        cls(4, **{arg: value})
    assert "Cell" not in str(info.value) or cls.__name__.endswith("Cell")


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU], ids=lambda c: c.__name__)
def test_use_cudnn(cls):
    for ok in ("auto", True, False):
        assert cls(4, use_cudnn=ok).use_cudnn == ok
    for bad in ("yes", None, 1):
        with pytest.raises(ValueError, match=rf"^{cls.__name__}: use_cudnn must be 'auto', True or False, "
                                             rf"got use_cudnn={bad!r}$"):
            cls(4, use_cudnn=bad)


def test_wrapper_and_masking_values():
    with pytest.raises(ValueError, match=r"^Bidirectional: invalid merge_mode='max'\. Merge mode should be one of"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Bidirectional: layer must be an RNN layer"):
        L.Bidirectional(L.LSTMCell(3))
    with pytest.raises(ValueError, match="TimeDistributed: layer must be a Layer instance, got 3"):
        L.TimeDistributed(3)
    with pytest.raises(TypeError, match=r"^Masking: mask_value must be a number, got mask_value='0'$"):
        L.Masking("0")
    with pytest.raises(TypeError, match=r"^RNN: cell must be a Layer"):
        L.RNN("lstm")


def test_a_refused_value_does_not_consume_a_layer_name():
    with pytest.raises(TypeError):
        L.Masking(None)
    assert L.Masking().name == "masking"


# ---------------------------------------------------------------------------- accepted values
def test_accepted_values_take_effect():
    assert L.LSTM(np.int64(4)).units == 4
    assert L.GRU(4, reset_after=False, use_bias=True)(fastnn.ones(2, 3, 5)).shape == (2, 4)
    gru = L.GRU(4, reset_after=False)
    gru.build((None, 3, 5))
    assert gru.cell.bias.shape == (12,)
    lstm = L.LSTM(2, unit_forget_bias=True, bias_initializer="zeros")
    lstm.build((None, 3, 5))
    np.testing.assert_array_equal(lstm.cell.bias.numpy(), [0, 0, 1, 1, 0, 0, 0, 0])
    lstm = L.LSTM(2, unit_forget_bias=False, use_bias=False)
    lstm.build((None, 3, 5))
    assert lstm.cell.bias is None and len(lstm.weights) == 2
    simple = L.SimpleRNN(3, activation=None, dropout=0.25, recurrent_dropout=0, seed=7)
    assert simple.activation is fastnn.activations.linear
    assert simple.dropout == 0.25 and simple.recurrent_dropout == 0.0 and simple.seed == 7
    assert L.LSTM(3, implementation=2).units == 3  # Keras 2's argument, ignored as Keras 3 does


def test_unroll_and_use_cudnn_do_not_change_results():
    x = fastnn.tensor(np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32))
    base = L.LSTM(5, return_sequences=True)
    other = L.LSTM(5, return_sequences=True, unroll=True, use_cudnn=False)
    base.build((None, 4, 3))
    other.build((None, 4, 3))
    other.set_weights(base.get_weights())
    np.testing.assert_array_equal(base(x).numpy(), other(x).numpy())


def test_generic_layer_kwargs_pass_through():
    layer = L.GRU(4, name="enc", trainable=False, dtype="float32", input_shape=(5, 3), return_sequences=True)
    assert layer.name == "enc" and layer.trainable is False
    assert layer.cell.name == "gru_cell"
    model = fastnn.models.Sequential([layer])
    assert model.output_shape == (None, 5, 4)
    assert layer.trainable_weights == [] and len(layer.weights) == 3
    with pytest.raises(ValueError, match="float32"):
        L.LSTM(4, dtype="float64")


# ---------------------------------------------------------------------------- config round trip
def _every_argument(cls):
    """Non-default values for each argument of `cls` (initializers, regularizers and constraints
    given as objects, names and config dicts)."""
    kw = dict(
        activation="relu", use_bias=True, kernel_initializer={"class_name": "RandomNormal",
                                                              "config": {"stddev": 0.3, "seed": 3}},
        recurrent_initializer=fastnn.initializers.Orthogonal(gain=0.5, seed=4), bias_initializer="ones",
        kernel_regularizer="l2", recurrent_regularizer=fastnn.regularizers.L1(0.01), bias_regularizer=None,
        kernel_constraint="non_neg", recurrent_constraint={"class_name": "MaxNorm", "config": {"max_value": 2.0}},
        bias_constraint=None, dropout=0.125, recurrent_dropout=0.25, seed=11,
    )
    params = inspect.signature(cls).parameters
    extra = dict(recurrent_activation="hard_sigmoid", unit_forget_bias=False, reset_after=False,
                 activity_regularizer="l1", return_sequences=True, return_state=True, go_backwards=True,
                 stateful=False, unroll=True)
    kw.update({k: v for k, v in extra.items() if k in params})
    return kw


@pytest.mark.parametrize("cls", BUILTIN, ids=lambda c: c.__name__)
def test_config_round_trip_of_every_argument(cls):
    kw = _every_argument(cls)
    obj = cls(4, name="x", **kw)
    config = obj.get_config()
    for k, v in kw.items():
        if isinstance(v, (bool, int, float)) or v is None:
            assert config[k] == v, k
    assert config["activation"] == "relu" and config["units"] == 4
    assert "use_cudnn" not in config  # as Keras: not part of the config
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config
    again = L.deserialize(L.serialize(obj))
    assert type(again) is cls and again.get_config() == config


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_save_load_keeps_arguments_and_outputs(cls, tmp_path):
    kw = _every_argument(cls)
    kw.update(return_state=False, dropout=0.0, recurrent_dropout=0.0)
    layer = cls(4, **kw)
    model = fastnn.models.Sequential([L.Input((5, 3)), L.Masking(0.5), layer, L.Flatten(), L.Dense(1)])
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    x[0, 3:] = 0.5
    want = model.predict(x, verbose=0)
    assert np.isfinite(want).all()
    path = tmp_path / "m.fastnn"
    model.save(path)
    loaded = fastnn.models.load_model(path)
    got = loaded.layers[1]
    assert type(got) is cls and got.get_config() == layer.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)


def test_wrappers_round_trip():
    for obj in (L.RNN(L.GRUCell(3, reset_after=False), go_backwards=True, zero_output_for_mask=True),
                L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="ave"),
                L.TimeDistributed(L.Dense(2)), L.Masking(-1.0)):
        config = obj.get_config()
        clone = type(obj).from_config(config)
        assert type(clone) is type(obj) and clone.get_config() == config
