"""The Philox generator: known answer, the exact mapping of kernels/random.h (against a NumPy
re-implementation), reproducibility, thread independence and basic statistics."""

import fastnn
import numpy as np
import pytest
from fastnn import _C
from fastnn import random as frandom
from oracle import TOL, assert_close


def philox_np(seed: int, counters: np.ndarray) -> np.ndarray:
    """Philox-4x32-10 in NumPy: (n, 4) uint32 words for 64-bit counters (high words zero)."""
    c = counters.astype(np.uint64)
    m32 = np.uint64(0xFFFFFFFF)
    c0, c1 = c & m32, c >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ k0
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ k1
        c1, c3, c0, c2 = p1 & m32, p0 & m32, n0, n2
        k0 = (k0 + np.uint64(0x9E3779B9)) & m32
        k1 = (k1 + np.uint64(0xBB67AE85)) & m32
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def words_np(seed: int, offset: int, n: int) -> np.ndarray:
    i = np.arange(offset, offset + n, dtype=np.uint64)
    blocks = philox_np(seed, i >> np.uint64(2))
    return blocks[np.arange(n), (i & np.uint64(3)).astype(np.int64)]


def test_philox_known_answer():
    # Random123 kat_vectors: philox4x32 10 rounds, counter 0, key 0
    kat = (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    assert _C.philox4(0, 0) == kat
    np.testing.assert_array_equal(philox_np(0, np.array([0]))[0], kat)
    # the same words through the uniform mapping: unit = (word >> 8) / 2^24
    u = _C.uniform((4,), 0, 0, 0.0, 1.0)
    np.testing.assert_array_equal((u * 2**24).astype(np.uint32), [0x6627E8, 0xE169C5, 0xBC57AC, 0x9B00DB])


@pytest.mark.parametrize("seed,offset,n", [(0, 0, 1), (1, 3, 17), (2**40 + 5, 2, 1031), (7, 2**33 + 1, 300)])
def test_uniform_mapping(seed, offset, n):
    got = _C.uniform((n,), seed, offset, -2.0, 3.0)
    unit = (words_np(seed, offset, n) >> 8).astype(np.float32) * np.float32(1 / 16777216)
    np.testing.assert_array_equal(_C.uniform((n,), seed, offset, 0.0, 1.0), unit)
    # low + (high - low) * unit, rounded once (FMA: the AVX2 / AVX-512 clones, CUDA) or twice
    fused = (-2.0 + 5.0 * unit.astype(np.float64)).astype(np.float32)
    plain = np.float32(-2.0) + np.float32(5.0) * unit
    assert ((got == fused) | (got == plain)).all()


@pytest.mark.parametrize("seed,offset,n", [(0, 0, 2), (3, 1, 17), (11, 6, 1000)])
def test_normal_mapping(seed, offset, n):
    got = _C.normal((n,), seed, offset, 0.5, 2.0)
    w = words_np(seed, offset, 2 * ((n + 1) // 2)).reshape(-1, 2)
    u1 = ((w[:, 0] >> 8).astype(np.float64) + 1) / 2**24
    u2 = (w[:, 1] >> 8).astype(np.float64) / 2**24
    r = np.sqrt(-2 * np.log(u1))
    want = np.stack([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)], axis=1).reshape(-1)[:n]
    assert_close(got, 0.5 + 2.0 * want, "normal", "mapping", **TOL["transcendental"])


def test_seed_reproducible():
    fastnn.random.seed(123)
    a, b = fastnn.rand(50), fastnn.randn(3, 7)
    fastnn.random.seed(123)
    np.testing.assert_array_equal(fastnn.rand(50).numpy(), a.numpy())
    np.testing.assert_array_equal(fastnn.randn(3, 7).numpy(), b.numpy())
    fastnn.random.seed(124)
    assert not np.array_equal(fastnn.rand(50).numpy(), a.numpy())


def test_offset_advances_by_words_consumed():
    g = frandom.Generator(5)
    a = g.uniform((10,))
    assert g.offset == 10
    b = g.uniform((7,))
    whole = frandom.Generator(5).uniform((17,))
    np.testing.assert_array_equal(np.concatenate([a.numpy(), b.numpy()]), whole.numpy())
    g.normal((5,))  # 2 * ceil(5 / 2) words
    assert g.offset == 23
    g.normal((4,))
    assert g.offset == 27
    # successive draws of the global generator differ
    fastnn.random.seed(0)
    assert not np.array_equal(fastnn.rand(20).numpy(), fastnn.rand(20).numpy())


def test_state_round_trip():
    fastnn.random.seed(9)
    fastnn.rand(13)
    st = fastnn.random.get_state()
    assert st == (9, 13)
    a = fastnn.randn(40)
    fastnn.random.set_state(st)
    np.testing.assert_array_equal(fastnn.randn(40).numpy(), a.numpy())


def test_thread_count_independent():
    n = 300_001
    outs = []
    for t in (1, 2):
        fastnn.set_num_threads(t)
        outs.append((_C.uniform((n,), 77, 5, 0.0, 1.0), _C.normal((n,), 77, 5, 0.0, 1.0)))
    for x, y in zip(*outs):
        np.testing.assert_array_equal(x, y)


def test_statistics():
    n = 200_000
    u = fastnn.random.uniform((n,), 2.0, 5.0, seed=1).numpy()
    assert u.min() >= 2.0 and u.max() < 5.0
    assert abs(u.mean() - 3.5) < 4 * 3 / np.sqrt(12 * n)
    assert abs(u.var() - 9 / 12) < 0.01
    z = fastnn.random.normal((n,), mean=1.0, stddev=3.0, seed=2).numpy()
    assert abs(z.mean() - 1.0) < 4 * 3 / np.sqrt(n)
    assert abs(z.std() - 3.0) < 0.03
    assert np.isfinite(z).all()
    # Keras spelling, and the same numbers for the same explicit seed
    k = fastnn.random.uniform((5,), minval=2.0, maxval=5.0, seed=1).numpy()
    np.testing.assert_array_equal(k, u[:5])


def test_creation_arguments():
    x = fastnn.rand(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.requires_grad and x.dtype == np.float32
    assert fastnn.randn((4, 5)).shape == (4, 5)
    assert fastnn.rand(0, 3).shape == (0, 3)
    assert fastnn.randn(3).shape == (3,)
    assert fastnn.rand(7, low=-1.0, high=0.0).numpy().max() < 0.0
    with pytest.raises(TypeError):
        fastnn.rand(2, dtype="int64")
    with pytest.raises(ValueError, match="seed"):
        fastnn.random.seed(-1)
    with pytest.raises(TypeError):
        fastnn.random.seed(1.5)
    with pytest.raises(ValueError, match="negative"):
        fastnn.rand(-2, 3)
