"""Shape operations and indexing, forward and backward, against torch."""

import fastnn
import fastnn.functional as F
import numpy as np
import pytest
import torch
from oracle import TOL, check_op, randn

EXACT = TOL["exact"]


@pytest.mark.parametrize("shape, new", [((2, 3, 4), (6, 4)), ((7,), (7, 1)), ((3, 5), (-1,)), ((1, 13), (13,)),
                                        ((0, 3), (3, 0))])
def test_reshape(shape, new):
    check_op(lambda x: x.reshape(new), lambda x: x.reshape(new), [randn(*shape)], "reshape", EXACT)


def test_reshape_shares_storage_and_errors():
    x = fastnn.tensor(np.arange(6, dtype=np.float32))
    assert np.shares_memory(x.reshape(2, 3).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"\(6,\) into \(4,\)"):
        x.reshape(4)
    with pytest.raises(ValueError, match="only one"):
        x.reshape(-1, -1)


@pytest.mark.parametrize("shape, perm", [((2, 3), (1, 0)), ((2, 3, 5), (2, 0, 1)), ((1, 7, 3, 2), (3, 1, 0, 2)),
                                         ((17, 31), (1, 0))])
def test_permute(shape, perm):
    check_op(lambda x: x.permute(perm), lambda x: x.permute(perm), [randn(*shape)], "permute", EXACT)


def test_transpose_forms():
    x = randn(2, 3, 5)
    check_op(lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), [x], "transpose", EXACT)
    check_op(lambda x: F.transpose(x), lambda x: x.permute(2, 1, 0), [x], "transpose", EXACT)
    check_op(lambda x: x.T, lambda x: x.permute(2, 1, 0), [x], "transpose", EXACT)
    with pytest.raises(ValueError, match="permutation"):
        fastnn.tensor(x).permute(0, 0, 1)


def test_squeeze_unsqueeze():
    x = randn(1, 3, 1, 5)
    check_op(lambda x: x.squeeze(), lambda x: x.squeeze(), [x], "squeeze", EXACT)
    check_op(lambda x: x.squeeze(2), lambda x: x.squeeze(2), [x], "squeeze", EXACT)
    check_op(lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [x], "unsqueeze", EXACT)
    with pytest.raises(ValueError, match="size 3"):
        fastnn.tensor(x).squeeze(1)


@pytest.mark.parametrize("shape, target", [((3, 1), (3, 4)), ((1,), (5, 7)), ((2, 1, 3), (4, 2, 5, 3)), ((), (2, 2))])
def test_broadcast_to(shape, target):
    check_op(lambda x: x.broadcast_to(target), lambda x: x.broadcast_to(target), [randn(*shape)], "broadcast_to",
             TOL["reduction"](int(np.prod(target))))


def test_expand_minus_one_and_errors():
    check_op(lambda x: x.expand(4, -1), lambda x: x.expand(4, -1), [randn(1, 3)], "expand", TOL["reduction"](4))
    with pytest.raises(ValueError, match=r"\(2, 3\) to \(4, 3\)"):
        fastnn.tensor(randn(2, 3)).broadcast_to((4, 3))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = [(2, 3, 4), (2, 3, 4)]
    shapes = [tuple(s if d != axis % 3 else s + i for d, s in enumerate(sh)) for i, sh in enumerate(shapes)]
    arrays = [randn(*s, seed=i) for i, s in enumerate(shapes)] + [randn(*shapes[0], seed=9)]
    check_op(lambda *xs: fastnn.concatenate(xs, axis), lambda *ts: torch.cat(ts, axis), arrays, "concatenate", EXACT)


def test_concatenate_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
        fastnn.concatenate([fastnn.zeros(2, 3), fastnn.zeros(2, 4)], axis=0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    arrays = [randn(3, 5, seed=i) for i in range(3)]
    check_op(lambda *xs: fastnn.stack(xs, axis), lambda *ts: torch.stack(ts, axis), arrays, "stack", EXACT)


def test_split():
    x = randn(6, 5)
    check_op(lambda x: fastnn.split(x, 3, axis=0)[1], lambda x: torch.split(x, 2, 0)[1], [x], "split", EXACT)
    check_op(lambda x: fastnn.split(x, [1, 4], axis=1)[2], lambda x: x[:, 4:], [x], "split", EXACT)
    parts = fastnn.split(fastnn.tensor(x), [2, 3], axis=1)
    assert [p.shape for p in parts] == [(6, 2), (6, 1), (6, 2)]
    with pytest.raises(ValueError, match="equal"):
        fastnn.split(fastnn.tensor(x), 4)


INDICES = [
    (2,), (-1,), (slice(1, 4),), (slice(None, None, -2),), (slice(None), 3), (Ellipsis, 1), (None, 1),
    (slice(1, None), None, slice(None, None, 2)), (1, slice(2, 5), -2), ([0, 2, 2],), (slice(None), [4, 0, 1]),
    ([[0, 1], [2, 3]],), ([0, 2], [1, 3]), (slice(2, 2),), (Ellipsis, None),
]


@pytest.mark.parametrize("index", INDICES, ids=[str(i) for i in INDICES])
def test_getitem(index):
    x = randn(5, 6, 4)

    def t_index(i):
        return tuple(torch.tensor(v) if isinstance(v, list) else v for v in i)

    if index == (slice(None, None, -2),):  # torch has no negative steps
        check_op(lambda x: x[index], lambda x: x.flip(0)[::2], [x], "getitem", EXACT)
        return
    check_op(lambda x: x[index], lambda x: x[t_index(index)], [x], "getitem", EXACT)


def test_getitem_bool_mask_and_tensor_index():
    x = randn(5, 3)
    mask = np.array([True, False, True, True, False])
    check_op(lambda x: x[mask], lambda x: x[torch.from_numpy(mask)], [x], "getitem", EXACT)
    idx = fastnn.tensor(np.array([4, 0], np.int64))
    check_op(lambda x: x[idx], lambda x: x[torch.tensor([4, 0])], [x], "getitem", EXACT)


def test_getitem_repeated_indices_accumulate():
    check_op(lambda x: x[[1, 1, 1, 0]], lambda x: x[torch.tensor([1, 1, 1, 0])], [randn(3, 4)], "getitem", EXACT)


def test_getitem_errors():
    x = fastnn.tensor(randn(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        x[3]
    with pytest.raises(IndexError, match="out of bounds"):
        x[:, [0, 4]]
    with pytest.raises(IndexError, match="too many"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="integer"):
        x[np.array([0.5])]


def test_take_and_setitem():
    check_op(lambda x: F.take(x, [2, 0], axis=1), lambda x: x[:, [2, 0]], [randn(3, 4)], "take", EXACT)
    x = fastnn.zeros(3, 4)
    x[1] = 5.0
    x[:, 0] = fastnn.tensor([1.0, 2.0, 3.0])
    want = np.zeros((3, 4), np.float32)
    want[1] = 5
    want[:, 0] = [1, 2, 3]
    np.testing.assert_array_equal(x.numpy(), want)
    y = fastnn.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        y[0] = 1.0


def test_clone_is_a_copy():
    x = fastnn.tensor(randn(3))
    c = x.clone()
    assert not np.shares_memory(c.numpy(), x.numpy())
    check_op(lambda x: x.clone(), lambda x: x.clone(), [randn(4, 2)], "clone", EXACT)
