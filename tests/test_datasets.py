"""fastnn.datasets: IDX (gzipped and plain), Keras's mnist.npz, CIFAR-10 python and binary
batches, scikit-learn's digits; truncated and malformed files; the search path; Debian's
Fashion-MNIST when it is installed."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from fastnn.datasets import cifar10, digits, fashion_mnist, mnist

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def make_set(rng, n_train=7, n_test=3, rows=28, cols=28):
    return (
        rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )


def write_idx(directory: Path, arrays, gz: bool, names=IDX_NAMES) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, arr in zip(names, arrays):
        data = idx_bytes(arr)
        p = directory / (name + (".gz" if gz else ""))
        p.write_bytes(gzip.compress(data) if gz else data)
        paths.append(p)
    return paths


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """The search path sees only tmp_path (no $FASTNN_DATA, an empty $KERAS_HOME)."""
    monkeypatch.delenv("FASTNN_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def check_same(got, arrays):
    (xtr, ytr), (xte, yte) = got
    for a, b in zip((xtr, ytr, xte, yte), arrays):
        assert a.dtype == np.uint8 and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_idx_round_trip(tmp_path, gz, module):
    arrays = make_set(np.random.default_rng(0))
    write_idx(tmp_path / "d", arrays, gz)
    check_same(module.load_data(path=tmp_path / "d"), arrays)
    check_same(module.load_data(path=str(tmp_path / "d")), arrays)


def test_idx_dot_spelling_and_mixed_compression(tmp_path):
    arrays = make_set(np.random.default_rng(1), rows=5, cols=3)
    names = ("train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    write_idx(tmp_path, arrays[:2], gz=False, names=names[:2])
    write_idx(tmp_path, arrays[2:], gz=True, names=names[2:])
    check_same(mnist.load_data(path=tmp_path), arrays)


def corrupt_cases(data: bytes):
    """(description, bad bytes, words the error message must contain)."""
    return [
        ("truncated data", data[:-5], ["truncated", "need"]),
        ("truncated header", data[:6], ["truncated IDX header"]),
        ("too short", data[:2], ["too short"]),
        ("trailing bytes", data + b"\x00\x01", ["unexpected bytes"]),
        ("bad magic", b"\x01\x02" + data[2:], ["magic number"]),
        ("unknown type", data[:2] + b"\x07" + data[3:], ["unknown IDX data type"]),
        ("wrong rank", data[:3] + b"\x02" + data[4:], ["dimension"]),
    ]


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("case", range(7))
def test_idx_malformed_files_name_the_file(tmp_path, gz, case):
    arrays = make_set(np.random.default_rng(2))
    paths = write_idx(tmp_path, arrays, gz)
    good = idx_bytes(arrays[0])
    what, bad, words = corrupt_cases(good)[case]
    paths[0].write_bytes(gzip.compress(bad) if gz else bad)
    with pytest.raises(ValueError) as e:
        fashion_mnist.load_data(path=tmp_path)
    msg = str(e.value)
    assert str(paths[0]) in msg, what
    for w in words:
        assert w in msg, (what, msg)


def test_idx_truncated_gzip_stream(tmp_path):
    arrays = make_set(np.random.default_rng(3))
    paths = write_idx(tmp_path, arrays, gz=True)
    full = paths[2].read_bytes()
    paths[2].write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="gzip stream is truncated") as e:
        mnist.load_data(path=tmp_path)
    assert str(paths[2]) in str(e.value)


def test_idx_corrupted_gzip(tmp_path):
    arrays = make_set(np.random.default_rng(3))
    paths = write_idx(tmp_path, arrays, gz=True)
    full = bytearray(paths[1].read_bytes())
    full[12:20] = b"\xff" * 8
    paths[1].write_bytes(bytes(full))
    with pytest.raises(ValueError, match="gzip") as e:
        mnist.load_data(path=tmp_path)
    assert str(paths[1]) in str(e.value)


def test_idx_images_and_labels_count_must_agree(tmp_path):
    xtr, ytr, xte, yte = make_set(np.random.default_rng(4))
    write_idx(tmp_path, (xtr, ytr[:-1], xte, yte), gz=False)
    with pytest.raises(ValueError, match="7 images but .* 6 labels"):
        mnist.load_data(path=tmp_path)


def test_idx_images_must_be_bytes(tmp_path):
    arrays = make_set(np.random.default_rng(4))
    paths = write_idx(tmp_path, arrays, gz=False)
    x = arrays[3].astype(">i4")
    paths[3].write_bytes(struct.pack(">BBBB", 0, 0, 0x0C, 1) + struct.pack(">I", len(x)) + x.tobytes())
    with pytest.raises(ValueError, match="unsigned bytes"):
        mnist.load_data(path=tmp_path)


def test_missing_file_names_it(tmp_path):
    paths = write_idx(tmp_path, make_set(np.random.default_rng(5)), gz=True)
    paths[3].unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        mnist.load_data(path=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist.load_data(path=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="not a single file"):
        mnist.load_data(path=paths[0])


# ---------------------------------------------------------------------------- search path
def test_search_fastnn_data_then_keras_home(no_env, monkeypatch):
    tmp = no_env
    a = make_set(np.random.default_rng(6))
    b = make_set(np.random.default_rng(7))
    write_idx(tmp / "keras_home" / "datasets" / "fashion-mnist", a, gz=True)
    check_same(fashion_mnist.load_data(), a)
    write_idx(tmp / "data" / "fashion-mnist", b, gz=False)
    monkeypatch.setenv("FASTNN_DATA", str(tmp / "data"))
    check_same(fashion_mnist.load_data(), b)  # $FASTNN_DATA comes first
    write_idx(tmp / "flat", a, gz=False)
    monkeypatch.setenv("FASTNN_DATA", str(tmp / "flat"))  # the files directly in $FASTNN_DATA
    check_same(mnist.load_data(), a)


def test_not_found_says_which_files_where(no_env, monkeypatch):
    monkeypatch.setenv("FASTNN_DATA", str(no_env / "data"))
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data()
    msg = str(e.value)
    for w in ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "mnist.npz",
              str(no_env / "data" / "mnist"), str(no_env / "keras_home" / "datasets" / "mnist")]:
        assert w in msg
    with pytest.raises(FileNotFoundError) as e:
        cifar10.load_data()
    msg = str(e.value)
    for w in ["cifar-10-batches-py", "data_batch_1.bin", str(no_env / "keras_home" / "datasets")]:
        assert w in msg


def test_fashion_mnist_searches_the_debian_dir(no_env, monkeypatch):
    from fastnn.datasets import _files

    monkeypatch.setattr(_files, "DEBIAN_DATASETS", no_env / "usr_share_datasets")
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data()
    assert str(no_env / "usr_share_datasets" / "fashion-mnist") in str(e.value)
    arrays = make_set(np.random.default_rng(16))
    write_idx(no_env / "usr_share_datasets" / "fashion-mnist", arrays, gz=True)
    check_same(fashion_mnist.load_data(), arrays)
    with pytest.raises(FileNotFoundError):  # MNIST has no Debian package: not looked for there
        mnist.load_data()


def test_mnist_npz(no_env):
    xtr, ytr, xte, yte = make_set(np.random.default_rng(8))
    d = no_env / "keras_home" / "datasets"
    d.mkdir(parents=True)
    np.savez(d / "mnist.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    check_same(mnist.load_data(), (xtr, ytr, xte, yte))
    check_same(mnist.load_data(path=d / "mnist.npz"), (xtr, ytr, xte, yte))
    np.savez(d / "bad.npz", x_train=xtr, y_train=ytr)
    with pytest.raises(ValueError, match="missing arrays"):
        mnist.load_data(path=d / "bad.npz")
    (d / "trunc.npz").write_bytes((d / "mnist.npz").read_bytes()[:100])
    with pytest.raises(ValueError, match="trunc.npz"):
        mnist.load_data(path=d / "trunc.npz")
    obj = np.empty(2, dtype=object)
    np.savez(d / "obj.npz", x_train=obj, y_train=ytr, x_test=xte, y_test=yte)
    with pytest.raises(ValueError):  # object arrays would need pickle: refused
        mnist.load_data(path=d / "obj.npz")


# ---------------------------------------------------------------------------- Debian package
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (DEBIAN / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_debian_fashion_mnist(no_env):
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data()
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert ytr.shape == (60000,) and yte.shape == (10000,)
    assert xtr.dtype == ytr.dtype == np.uint8
    # The published class balance: 6,000 training and 1,000 test images per class.
    np.testing.assert_array_equal(np.bincount(ytr), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(yte), [1000] * 10)
    # The first training labels of the published files (Ankle boot, T-shirt, T-shirt, Dress).
    np.testing.assert_array_equal(ytr[:4], [9, 0, 0, 3])
    assert xtr.max() == 255 and xtr.min() == 0


# ---------------------------------------------------------------------------- CIFAR-10
def cifar_arrays(rng, counts=(3, 2, 4, 1, 2, 3)):
    return [(rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()) for n in counts]


def write_cifar_py(directory: Path, parts, protocol=2):
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, (data, labels) in zip(names, parts):
        d = {b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": [b"a.png"] * len(labels)}
        (directory / name).write_bytes(pickle.dumps(d, protocol=protocol))
    return [directory / n for n in names]


def write_cifar_bin(directory: Path, parts):
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for name, (data, labels) in zip(names, parts):
        rec = np.concatenate([np.asarray(labels, np.uint8)[:, None], data], axis=1)
        (directory / name).write_bytes(rec.tobytes())
    return [directory / n for n in names]


def expected_cifar(parts, channels_last=True):
    x = np.concatenate([p[0] for p in parts[:5]]).reshape(-1, 3, 32, 32)
    xt = parts[5][0].reshape(-1, 3, 32, 32)
    if channels_last:
        x, xt = x.transpose(0, 2, 3, 1), xt.transpose(0, 2, 3, 1)
    y = np.concatenate([p[1] for p in parts[:5]]).astype(np.uint8).reshape(-1, 1)
    yt = np.asarray(parts[5][1], np.uint8).reshape(-1, 1)
    return x, y, xt, yt


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_python_batches(tmp_path, protocol):
    parts = cifar_arrays(np.random.default_rng(9))
    write_cifar_py(tmp_path / "cifar-10-batches-py", parts, protocol)
    want = expected_cifar(parts)
    check_same(cifar10.load_data(path=tmp_path / "cifar-10-batches-py"), want)
    check_same(cifar10.load_data(path=tmp_path), want)  # the directory above works too
    got = cifar10.load_data(path=tmp_path, data_format="channels_first")
    check_same(got, expected_cifar(parts, channels_last=False))
    (x, _), _ = got
    assert x.flags.c_contiguous


def test_cifar_str_keys_and_numpy_labels(tmp_path):
    parts = cifar_arrays(np.random.default_rng(10))
    d = tmp_path / "p"
    d.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, (data, labels) in zip(names, parts):
        (d / name).write_bytes(pickle.dumps({"data": data, "labels": np.asarray(labels, np.int64)}))
    check_same(cifar10.load_data(path=d), expected_cifar(parts))


def test_cifar_binary_batches_and_search(no_env, monkeypatch):
    parts = cifar_arrays(np.random.default_rng(11))
    write_cifar_bin(no_env / "keras_home" / "datasets" / "cifar-10-batches-bin", parts)
    check_same(cifar10.load_data(), expected_cifar(parts))
    other = cifar_arrays(np.random.default_rng(12))
    write_cifar_py(no_env / "data" / "cifar10" / "cifar-10-batches-py", other)
    monkeypatch.setenv("FASTNN_DATA", str(no_env / "data"))
    check_same(cifar10.load_data(), expected_cifar(other))


def test_cifar_binary_malformed(tmp_path):
    parts = cifar_arrays(np.random.default_rng(13))
    paths = write_cifar_bin(tmp_path, parts)
    raw = paths[2].read_bytes()
    paths[2].write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="whole number of 3073-byte records") as e:
        cifar10.load_data(path=tmp_path)
    assert str(paths[2]) in str(e.value)
    paths[2].write_bytes(b"")
    with pytest.raises(ValueError, match="3073-byte"):
        cifar10.load_data(path=tmp_path)
    bad = bytearray(raw)
    bad[0] = 12  # a label byte out of 0..9
    paths[2].write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="labels must be in 0..9"):
        cifar10.load_data(path=tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_cifar_pickle_never_runs_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parts = cifar_arrays(np.random.default_rng(14))
    paths = write_cifar_py(tmp_path / "b", parts)
    paths[0].write_bytes(pickle.dumps({b"data": parts[0][0], b"labels": parts[0][1], b"x": _Evil()}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load (posix|os|nt)\\.system") as e:
        cifar10.load_data(path=tmp_path / "b")
    assert str(paths[0]) in str(e.value)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "payload, words",
    [
        (lambda p: p[:-50], "truncated or corrupted"),
        (lambda p: b"garbage" + p, "CIFAR-10 pickle"),
        (lambda p: pickle.dumps([1, 2, 3], protocol=2), "expected a dict"),
        (lambda p: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}, protocol=2), "'data' and 'labels'"),
        (lambda p: pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), "shape \\(N, 3072\\)"),
        (lambda p: pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}), "uint8"),
        (lambda p: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "2 images but 1 labels"),
        (lambda p: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}), "integers"),
    ],
)
def test_cifar_python_malformed(tmp_path, payload, words):
    parts = cifar_arrays(np.random.default_rng(15))
    paths = write_cifar_py(tmp_path, parts)
    paths[5].write_bytes(payload(paths[5].read_bytes()))
    with pytest.raises(ValueError, match=words) as e:
        cifar10.load_data(path=tmp_path)
    assert str(paths[5]) in str(e.value)


def test_cifar_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="data_format"):
        cifar10.load_data(path=tmp_path, data_format="nhwc")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cifar10.load_data(path=tmp_path / "missing")
    f = tmp_path / "f"
    f.write_bytes(b"")
    with pytest.raises(ValueError, match="must be a directory"):
        cifar10.load_data(path=f)


# ---------------------------------------------------------------------------- digits
def test_digits_ship_with_fastnn():
    (xtr, ytr), (xte, yte) = digits.load_data()
    assert xtr.shape == (1438, 8, 8) and xte.shape == (359, 8, 8)
    assert xtr.dtype == ytr.dtype == np.uint8
    assert xtr.max() == 16 and xtr.min() == 0
    assert np.array_equal(np.bincount(np.concatenate([ytr, yte])),
                          [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    (a, _), _ = digits.load_data(seed=113)
    np.testing.assert_array_equal(a, xtr)
    (b, _), _ = digits.load_data(seed=1)
    assert not np.array_equal(b, xtr)
    (c, _), (d, _) = digits.load_data(test_split=0.0)
    assert len(c) == 1797 and len(d) == 0
    for bad in (1.0, -0.1, "0.2", True):
        with pytest.raises(ValueError, match="test_split"):
            digits.load_data(test_split=bad)
    with pytest.raises(ValueError, match="seed"):
        digits.load_data(seed=-1)


def test_digits_are_scikit_learns():
    sk = pytest.importorskip("sklearn.datasets")
    ref = sk.load_digits()
    (xtr, ytr), (xte, yte) = digits.load_data()
    # a permutation of scikit-learn's samples, images and labels kept together
    x = np.concatenate([xtr, xte]).reshape(len(ref.images), -1).astype(np.float64)
    y = np.concatenate([ytr, yte])
    key = {row.tobytes(): t for row, t in zip(ref.data, ref.target)}
    assert all(key[row.tobytes()] == t for row, t in zip(x, y))
    assert sorted(map(bytes, (r.tobytes() for r in x))) == sorted(r.tobytes() for r in ref.data)


def test_digits_file_missing_or_corrupted(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setattr(digits, "_PATH", str(tmp_path / "absent.csv.gz"))
    with pytest.raises(FileNotFoundError, match="reinstall fastnn"):
        digits.load_data()
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("1,2,3\n4,5,6\n")
    monkeypatch.setattr(digits, "_PATH", str(bad))
    with pytest.raises(ValueError, match="corrupted"):
        digits.load_data()
    with gzip.open(bad, "wt") as f:
        f.write("0,1,x\n")
    with pytest.raises(ValueError, match="corrupted"):
        digits.load_data()
    bad.write_bytes(gzip.compress(b"0," * 64 + b"1\n" * 3)[:-9])  # a gzip stream cut short
    with pytest.raises((ValueError, FileNotFoundError), match="digits"):
        digits.load_data()
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(FileNotFoundError, match="unreadable"):
        digits.load_data()


# ---------------------------------------------------------------------------- what a missing dataset says
IDX_GZ = [n + ".gz" for n in IDX_NAMES]


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test: nothing may be downloaded."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_missing_path_says_how_to_get_each_dataset(tmp_path, offline):
    nowhere = tmp_path / "does" / "not" / "exist"
    for loader in (mnist.load_data, fashion_mnist.load_data, cifar10.load_data):
        with pytest.raises(FileNotFoundError) as e:
            loader(path=nowhere)
        msg = str(e.value)
        assert f"path {str(nowhere)!r} does not exist (nothing is downloaded)" in msg
        assert msg.splitlines()[-2:] == ["Searched:", f"  {nowhere}"]  # the exact path searched
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data(path=nowhere)
    msg = str(e.value)
    assert msg.startswith("fashion_mnist.load_data: ")
    assert "sudo apt-get install dataset-fashion-mnist" in msg and "/usr/share/datasets/fashion-mnist" in msg
    assert ", ".join(IDX_GZ) in msg and f"in {nowhere}." in msg
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data(path=str(nowhere))
    msg = str(e.value)
    assert "No Debian/Ubuntu package ships MNIST." in msg and "apt-get" not in msg
    assert ", ".join(IDX_GZ) in msg and "mnist.npz" in msg
    with pytest.raises(FileNotFoundError) as e:
        cifar10.load_data(path=nowhere)
    msg = str(e.value)
    assert "No Debian/Ubuntu package ships CIFAR-10." in msg and "https://www.cs.toronto.edu/~kriz/cifar.html" in msg
    assert f"tar -xzf cifar-10-python.tar.gz -C {nowhere}" in msg
    assert str(nowhere / "cifar-10-batches-py") in msg and "data_batch_5" in msg and "test_batch.bin" in msg


def _searched(msg: str, label: str) -> list[str]:
    """The indented paths under the line `label` of a not-found message."""
    lines = msg.splitlines()
    i = lines.index(label) + 1
    out = []
    while i < len(lines) and lines[i].startswith("  "):
        out.append(lines[i].strip())
        i += 1
    return out


def test_not_found_lists_every_path_searched(no_env, monkeypatch, offline):
    from fastnn.datasets import _files

    monkeypatch.setattr(_files, "DEBIAN_DATASETS", no_env / "usr_share_datasets")
    monkeypatch.setenv("FASTNN_DATA", str(no_env / "data"))
    data, keras = no_env / "data", no_env / "keras_home" / "datasets"

    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data()
    msg = str(e.value)
    assert "sudo apt-get install dataset-fashion-mnist" in msg
    assert str(no_env / "usr_share_datasets" / "fashion-mnist") in msg.splitlines()[2]  # where the package puts them
    assert f"in {keras / 'fashion-mnist'} ($FASTNN_DATA/fashion-mnist" in msg
    assert _searched(msg, "Searched for the four files in:") == [
        str(data / "fashion-mnist"), str(data), str(keras / "fashion-mnist"),
        str(no_env / "usr_share_datasets" / "fashion-mnist")]

    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert "No Debian/Ubuntu package ships MNIST." in msg and ", ".join(IDX_GZ) in msg
    assert f"in {keras / 'mnist'} ($FASTNN_DATA/mnist" in msg and "mnist.npz (https://" in msg
    assert _searched(msg, "Searched for the four files in:") == [str(data / "mnist"), str(data), str(keras / "mnist")]
    assert _searched(msg, "and for mnist.npz at:") == [
        str(keras / "mnist.npz"), str(data / "mnist" / "mnist.npz"), str(data / "mnist.npz"),
        str(keras / "mnist" / "mnist.npz")]

    with pytest.raises(FileNotFoundError) as e:
        cifar10.load_data()
    msg = str(e.value)
    assert f"tar -xzf cifar-10-python.tar.gz -C {keras}" in msg and str(keras / "cifar-10-batches-py") in msg
    label = "Searched for data_batch_1 ... data_batch_5 and test_batch (or the same names with .bin) in:"
    assert _searched(msg, label) == [str(d / sub) if sub else str(d) for d in (data / "cifar10", data, keras)
                                     for sub in ("cifar-10-batches-py", "cifar-10-batches-bin", "")]


def test_incomplete_directory_names_all_four_files(tmp_path):
    paths = write_idx(tmp_path, make_set(np.random.default_rng(17)), gz=True)
    paths[0].unlink()
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data(path=tmp_path)
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path}: missing train-images-idx3-ubyte.gz") and ", ".join(IDX_GZ) in msg
