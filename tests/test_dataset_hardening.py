"""Crafted dataset files: a gzip bomb, IDX headers that announce more than the limit or overflow,
a truncated payload, bad magic numbers, a zip bomb in an .npz, CIFAR-10 pickles that claim huge
arrays or nest their labels exponentially. Each raises a ValueError naming the file, in well under
a second and without taking more memory than the file holds (fastnn.datasets._files.MAX_FILE_BYTES
bounds what any file may decompress to)."""

from __future__ import annotations

import gzip
import pickle
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastnn.datasets import _files, cifar10, mnist

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MB = 1 << 20


def idx_header(dims, code=0x08) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


def gzip_bomb(path: Path, head: bytes, zeros: int) -> Path:
    """A gzip file of `head` followed by `zeros` zero bytes, compressed piece by piece (nothing
    of that size is ever held or written)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    piece = bytes(16 * MB)
    with open(path, "wb") as f:
        f.write(comp.compress(head))
        left = zeros
        while left:
            n = min(left, len(piece))
            f.write(comp.compress(piece[:n]))
            left -= n
        f.write(comp.flush())
    return path


class Bounded:
    """Asserts that the block took under `seconds` and allocated (traced) under `peak` bytes."""

    def __init__(self, seconds=5.0, peak=64 * MB):
        self.seconds, self.peak = seconds, peak

    def __enter__(self):
        tracemalloc.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < self.seconds, f"took {elapsed:.1f} s"
        assert peak < self.peak, f"allocated {peak / MB:.0f} MB"
        return False


def raises_naming(path: Path, *words):
    """pytest.raises(ValueError) whose message names `path` and holds each of `words`."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(ValueError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            msg = str(self.info.value)
            assert str(path) in msg, msg
            for w in words:
                assert w in msg, msg
            return handled

    return _Check()


def mnist_dir(tmp_path: Path, bad_role: int, bad: bytes, gz: bool = True) -> Path:
    """A directory of four valid small IDX files, with file `bad_role` replaced by `bad` (raw bytes)."""
    d = tmp_path / "d"
    d.mkdir()
    rng = np.random.default_rng(0)
    good = [rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), rng.integers(0, 10, 3, dtype=np.uint8)] * 2
    for i, (name, arr) in enumerate(zip(IDX_NAMES, good)):
        data = idx_header(arr.shape) + arr.tobytes()
        (d / (name + ".gz")).write_bytes(bad if i == bad_role else gzip.compress(data))
    return d


# ---------------------------------------------------------------------------- IDX
def test_gzip_bomb_trailing_zeros(tmp_path):
    # a valid 10-label header, then 256 MiB of zeros in a file of a quarter of a megabyte
    p = gzip_bomb(tmp_path / "train-labels-idx1-ubyte.gz", idx_header((10,)) + bytes(range(10)), 256 * MB)
    assert p.stat().st_size < MB
    with Bounded(), raises_naming(p, "unexpected bytes"):
        _files.load_idx(p, ndim=1)


def test_gzip_bomb_header_over_limit(tmp_path):
    # the header announces 60000 x 28 x 28 x 1000 bytes (47 GB); refused before any data is read
    p = gzip_bomb(tmp_path / "x.gz", idx_header((60000, 28, 28000)), 64 * MB)
    with Bounded(), raises_naming(p, "limit", "(60000, 28, 28000)", "MAX_FILE_BYTES"):
        _files.load_idx(p)


def test_gzip_bomb_through_load_data(tmp_path):
    bomb = gzip_bomb(tmp_path / "bomb.gz", idx_header((3,)) + bytes(3), 128 * MB).read_bytes()
    d = mnist_dir(tmp_path, 1, bomb)
    with Bounded(), raises_naming(d / "train-labels-idx1-ubyte.gz", "unexpected bytes"):
        mnist.load_data(path=d)


def test_limit_overridable(tmp_path, monkeypatch):
    arr = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    p = tmp_path / "x-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(idx_header(arr.shape) + arr.tobytes()))
    np.testing.assert_array_equal(_files.load_idx(p), arr)
    with raises_naming(p, "limit"):
        _files.load_idx(p, max_bytes=1000)
    monkeypatch.setattr(_files, "MAX_FILE_BYTES", 1000)
    with raises_naming(p, "limit"):
        _files.load_idx(p)
    np.testing.assert_array_equal(_files.load_idx(p, max_bytes=10_000), arr)
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="max_bytes"):
            _files.load_idx(p, max_bytes=bad)


def test_truncated_payload(tmp_path):
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(idx_header((60000, 28, 28)) + bytes(1000))
    with Bounded(), raises_naming(p, "truncated", "(60000, 28, 28)", "47040000"):
        _files.load_idx(p, ndim=3)
    g = tmp_path / "train-images-idx3-ubyte.gz"
    g.write_bytes(gzip.compress(p.read_bytes()))
    with Bounded(), raises_naming(g, "truncated"):
        _files.load_idx(g, ndim=3)
    d = mnist_dir(tmp_path, 0, g.read_bytes())
    with Bounded(), raises_naming(d / "train-images-idx3-ubyte.gz", "truncated"):
        mnist.load_data(path=d)


@pytest.mark.parametrize("dims", [
    (2**31 - 1, 2**31 - 1, 2**31 - 1),   # the product overflows 64 bits
    (2**31 - 1, 2**31 - 1, 4),           # wraps to a small number in int64 arithmetic
    (65536, 65536, 65536),
    (2**32 - 1, 1, 1),                   # not a valid int32 size
])
@pytest.mark.parametrize("gz", [False, True])
def test_overflowing_dims(tmp_path, dims, gz):
    data = idx_header(dims) + bytes(64)
    p = tmp_path / ("images" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    with Bounded(), raises_naming(p):
        _files.load_idx(p)
    d = mnist_dir(tmp_path, 2, gzip.compress(data))
    with Bounded(), raises_naming(d / "t10k-images-idx3-ubyte.gz"):
        mnist.load_data(path=d)


@pytest.mark.parametrize("head, words", [
    (b"\x1f\x00\x08\x03", ["not an IDX file"]),
    (b"\x00\x01\x08\x03", ["not an IDX file"]),
    (b"\x00\x00\x07\x03", ["unknown IDX data type 0x07"]),
    (b"\x00\x00\x08\x02", ["expected an IDX file of 3 dimension(s)"]),
    (b"\x00\x00\x08\xff", ["3 dimension"]),
    (b"\x00\x00", ["too short"]),
    (b"", ["too short"]),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", ["truncated IDX header"]),
])
def test_bad_header(tmp_path, head, words):
    for gz in (False, True):
        p = tmp_path / f"h{int(gz)}"
        p.write_bytes(gzip.compress(head) if gz else head)
        with raises_naming(p, *words):
            _files.load_idx(p, ndim=3)


def test_too_many_dims(tmp_path):
    p = tmp_path / "many"
    p.write_bytes(idx_header((1,) * 40) + b"\x00")
    with raises_naming(p, "at most 32"):
        _files.load_idx(p)
    p.write_bytes(b"\x00\x00\x08\xff" + bytes(16))
    with raises_naming(p, "255 dimensions"):
        _files.load_idx(p)


def test_not_gzip_and_broken_gzip(tmp_path):
    p = tmp_path / "broken.gz"
    p.write_bytes(b"\x1f\x8b" + bytes(30))
    with raises_naming(p, "gzip"):
        _files.load_idx(p)
    good = gzip.compress(idx_header((5,)) + bytes(5))
    p.write_bytes(good[:-12])
    with raises_naming(p, "gzip stream is truncated"):
        _files.load_idx(p)


def test_zero_sized_dims_are_fine(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(idx_header((0, 2**31 - 1, 2**31 - 1)))
    assert _files.load_idx(p).shape == (0, 2**31 - 1, 2**31 - 1)


def test_read_bytes_bounded(tmp_path):
    p = gzip_bomb(tmp_path / "blob.gz", b"", 128 * MB)
    with Bounded(peak=80 * MB), raises_naming(p, "decompresses to more than", "limit"):
        _files.read_bytes(p, max_bytes=32 * MB)
    raw = tmp_path / "raw"
    raw.write_bytes(bytes(2000))
    with raises_naming(raw, "holds more than"):
        _files.read_bytes(raw, max_bytes=1000)
    assert len(_files.read_bytes(raw, max_bytes=2000)) == 2000


# ---------------------------------------------------------------------------- .npz
def test_npz_zip_bomb(tmp_path, monkeypatch):
    p = tmp_path / "mnist.npz"
    big = np.zeros((2000, 28, 28), dtype=np.uint8)  # 1.5 MB of zeros, deflated to a few KB
    np.savez_compressed(p, x_train=big, y_train=np.zeros(2000, np.uint8), x_test=big[:1], y_test=np.zeros(1, np.uint8))
    assert p.stat().st_size < 100_000
    monkeypatch.setattr(_files, "MAX_FILE_BYTES", MB)
    with raises_naming(p, "limit"):
        mnist.load_data(path=p)
    monkeypatch.setattr(_files, "MAX_FILE_BYTES", 8 * MB)
    assert mnist.load_data(path=p)[0][0].shape == (2000, 28, 28)


def test_npz_header_claims_huge_array(tmp_path):
    p = tmp_path / "mnist.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 28, 28), np.uint8))
    header["shape"] = (2**40, 28, 28)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for k in ("x_train", "y_train", "x_test", "y_test"):
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array_header_1_0(f, header)
                f.write(bytes(784))
    with Bounded(), raises_naming(p, "x_train.npy announces an array of shape"):
        mnist.load_data(path=p)


# ---------------------------------------------------------------------------- CIFAR-10 pickles
def cifar_dir(tmp_path: Path, bad: bytes) -> Path:
    """A cifar-10-batches-py directory of five valid small batches, the test batch replaced by `bad`."""
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    rng = np.random.default_rng(0)
    for n in cifar10._PY_FILES[:5]:
        batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [1, 2]}
        (d / n).write_bytes(pickle.dumps(batch, protocol=2))
    (d / "test_batch").write_bytes(bad)
    return d


class _Call:
    """Pickles as a call of `fn(*args)`."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


_reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]


@pytest.mark.parametrize("data", [
    _Call(_reconstruct, np.ndarray, (1 << 26, 3072), np.dtype("u1")),   # 192 GiB, uninitialised
    _Call(_reconstruct, np.ndarray, (1 << 62, 1 << 62), np.dtype("u1")),
    _Call(np.ndarray, (1 << 24, 3072), np.dtype("u1")),                # 48 GiB
    _Call(_reconstruct, np.ndarray, (-1, 3072), np.dtype("u1")),
])
def test_cifar_pickle_claims_huge_array(tmp_path, data):
    d = cifar_dir(tmp_path, pickle.dumps({b"data": data, b"labels": [0]}, protocol=2))
    with Bounded(), raises_naming(d / "test_batch", "refusing"):
        cifar10.load_data(path=d.parent)


def test_cifar_pickle_exponential_labels(tmp_path):
    # every level holds the level below ten times: 10**12 integers from a pickle of a few hundred bytes
    level = [0] * 10
    for _ in range(11):
        level = [level] * 10
    bad = pickle.dumps({b"data": np.zeros((10, 3072), np.uint8), b"labels": level}, protocol=2)
    assert len(bad) < 40_000
    d = cifar_dir(tmp_path, bad)
    with Bounded(), raises_naming(d / "test_batch", "list of integers"):
        cifar10.load_data(path=d.parent)


@pytest.mark.parametrize("labels, words", [
    ([10**30, 1], ["0..9"]),
    ([1.0, 2.0], ["list of integers"]),
    ([True, False], ["list of integers"]),
    ([1, 2, 3], ["2 images but 3 labels"]),
    ("ab", ["list of integers"]),
])
def test_cifar_bad_labels(tmp_path, labels, words):
    bad = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": labels}, protocol=2)
    d = cifar_dir(tmp_path, bad)
    with raises_naming(d / "test_batch", *words):
        cifar10.load_data(path=d.parent)


def test_cifar_valid_batches_still_load(tmp_path):
    d = cifar_dir(tmp_path, pickle.dumps({b"data": np.ones((3, 3072), np.uint8), b"labels": [9, 0, 4]}, protocol=2))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=d.parent)
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_test.ravel().tolist() == [9, 0, 4]


def test_cifar_gzip_bomb(tmp_path, monkeypatch):
    d = cifar_dir(tmp_path, b"")
    gzip_bomb(d / "test_batch", b"", 64 * MB)
    monkeypatch.setattr(_files, "MAX_FILE_BYTES", 8 * MB)
    with Bounded(), raises_naming(d / "test_batch", "decompresses to more than"):
        cifar10.load_data(path=d.parent)
