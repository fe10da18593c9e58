"""The operation codes Python passes to the kernels come from _C, which builds them from the enums'
name tables in csrc/kernels/*.h: a code means the same function on both sides."""

import fastnn._C as C
import numpy as np
import pytest
from fastnn import _raw
from oracle import TOL


def test_codes_are_exported_by_the_module():
    assert _raw.UNARY == C.UNARY_OPS and _raw.BINARY == C.BINARY_OPS and _raw.REDUCE == C.REDUCE_OPS
    assert _raw.RNN_ACTIVATION == C.RNN_ACTIVATIONS
    assert {k: v for k, v in _raw.EPILOGUE.items() if k is not None} == C.EPILOGUE_ACTIVATIONS
    for table in (C.UNARY_OPS, C.BINARY_OPS, C.REDUCE_OPS, C.EPILOGUE_ACTIVATIONS, C.RNN_ACTIVATIONS):
        assert sorted(table.values()) == list(range(len(table)))  # dense codes from 0, as the enums


# Each named code computes the function of its name: the epilogue of dense against NumPy.
_NUMPY = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0),
          "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}


@pytest.mark.parametrize("name", sorted(C.EPILOGUE_ACTIVATIONS))
def test_each_epilogue_code_is_the_named_function(name):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 7), np.float32), rng.standard_normal((7, 3), np.float32)
    y = C.dense(x, w, None, C.EPILOGUE_ACTIVATIONS[name])
    np.testing.assert_allclose(y, _NUMPY[name](x.astype(np.float64) @ w), **TOL["gemm"](7))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "abs", "square", "neg"])
def test_unary_codes_are_the_named_function(name):
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    want = {"sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x), "relu": np.maximum(x, 0), "abs": np.abs(x),
            "square": x * x, "neg": -x}[name]
    np.testing.assert_allclose(C.unary_forward(C.UNARY_OPS[name], x), want, **TOL["transcendental"])
