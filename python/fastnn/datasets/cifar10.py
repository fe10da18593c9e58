"""CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, 10 classes (0 airplane,
1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck).

Reads either distribution of https://www.cs.toronto.edu/~kriz/cifar.html, unpacked:
``cifar-10-batches-py`` (Python pickles) or ``cifar-10-batches-bin`` (raw records). The pickles
are read by an unpickler that only builds NumPy arrays, lists, dicts, strings and numbers: a
file that asks for anything else is rejected, so loading never runs code; an array larger than
the pickle that holds it is refused too. A file decompressing to more than
``fastnn.datasets._files.MAX_FILE_BYTES`` (2 GiB) raises ValueError naming it.

Example::

    (x_train, y_train), (x_test, y_test) = fastnn.datasets.cifar10.load_data()
    x_train.shape, y_train.shape     # (50000, 32, 32, 3) uint8, (50000, 1) uint8
"""

from __future__ import annotations

import io
import math
import os
import pickle
import shlex
from pathlib import Path

import numpy as np

from . import _files

__all__ = ["load_data", "CLASS_NAMES"]

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

_PY_DIR, _BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
_PY_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
_BIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"  # cifar-10-python.tar.gz, cifar-10-binary.tar.gz
_PIXELS = 3 * 32 * 32
_RECORD = 1 + _PIXELS

# The only globals a CIFAR batch pickle needs: how NumPy (1.x and 2.x) rebuilds an array and
# its dtype, and how protocol-2 pickles written by Python 3 store bytes.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _Refused(pickle.UnpicklingError):
    pass


class _NdarrayType:
    """Stands for numpy.ndarray in a pickle: _reconstruct takes it as the array type, but calling
    it (an array of any shape, allocated from a few bytes of pickle) is refused."""

    def __init__(self, path: Path):
        self._path = path

    def __call__(self, *args, **kwargs):
        raise _Refused(f"{self._path}: refusing to call numpy.ndarray: a CIFAR-10 batch holds its arrays' data")


class _ArrayUnpickler(pickle.Unpickler):
    """Refuses every global but the NumPy array constructors (so no code runs), and arrays larger
    than the pickle itself (whose data a genuine pickle holds), so a few crafted bytes cannot
    claim gigabytes."""

    def __init__(self, file, path: Path, max_array_bytes: int):
        super().__init__(file, encoding="bytes")
        self._path = path
        self._max = max_array_bytes
        self._ndarray = _NdarrayType(path)

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise _Refused(
                f"{self._path}: refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays and lists"
            )
        if name == "ndarray":
            return self._ndarray
        found = super().find_class(module, name)
        return self._reconstruct(found) if name == "_reconstruct" else found

    def _reconstruct(self, reconstruct):
        def checked(subtype, shape, dtype):
            if subtype is not self._ndarray:
                raise _Refused(f"{self._path}: refusing to reconstruct an array of type {subtype!r}")
            try:
                dims = [int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,))]
                nbytes = math.prod(dims) * np.dtype(dtype).itemsize
            except (TypeError, ValueError) as e:
                raise _Refused(f"{self._path}: invalid array shape {shape!r} or dtype {dtype!r} ({e})") from None
            if min(dims, default=0) < 0 or nbytes > self._max:
                raise _Refused(f"{self._path}: refusing an array of shape {tuple(dims)} and dtype {dtype!r} "
                               f"({nbytes} bytes) in a pickle of {self._max} bytes")
            return reconstruct(np.ndarray, shape, dtype)

        return checked

    def persistent_load(self, pid):
        raise _Refused(f"{self._path}: persistent ids are not allowed in a CIFAR-10 batch")


def _key(d: dict, name: str):
    for k in (name.encode(), name):
        if k in d:
            return d[k]
    return None


def _read_py_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = _files.read_bytes(path)
    try:
        obj = _ArrayUnpickler(io.BytesIO(raw), path, len(raw)).load()
    except _Refused as e:
        raise ValueError(str(e)) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError) as e:
        raise ValueError(f"{path}: truncated or corrupted CIFAR-10 pickle ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict with 'data' and 'labels', got {type(obj).__name__}")
    data, labels = _key(obj, "data"), _key(obj, "labels")
    if data is None or labels is None:
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in obj)
        raise ValueError(f"{path}: expected the keys 'data' and 'labels', found {keys}")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        desc = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape (N, {_PIXELS}), got {desc}")
    # Checked element by element before NumPy sees them: a pickle can make a list whose items
    # are the same nested list again and again, which np.asarray would expand exponentially.
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(f"{path}: 'labels' must be a list of integers")
        lab = labels
    elif isinstance(labels, (list, tuple)):
        if not all(type(v) is int for v in labels):
            raise ValueError(f"{path}: 'labels' must be a list of integers")
        if len(labels) != len(data):
            raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels")
        bad = [v for v in labels if not 0 <= v <= 9]
        if bad:
            raise ValueError(f"{path}: labels must be in 0..9, found {min(bad)}..{max(bad)}")
        lab = np.asarray(labels, dtype=np.int64)
    else:
        raise ValueError(f"{path}: 'labels' must be a list of integers")
    if len(lab) != len(data):
        raise ValueError(f"{path}: {len(data)} images but {len(lab)} labels")
    _check_labels(lab, path)
    return data.reshape(-1, 3, 32, 32), lab.astype(np.uint8)


def _read_bin_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = _files.read_bytes(path)
    if len(raw) == 0 or len(raw) % _RECORD:
        raise ValueError(
            f"{path}: truncated or malformed: {len(raw)} bytes is not a whole number of "
            f"{_RECORD}-byte records (1 label byte + {_PIXELS} pixel bytes)"
        )
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    lab = rec[:, 0].copy()
    _check_labels(lab, path)
    return rec[:, 1:].reshape(-1, 3, 32, 32), lab


def _check_labels(lab: np.ndarray, path: Path) -> None:
    if len(lab) and (lab.min() < 0 or lab.max() > 9):
        raise ValueError(f"{path}: labels must be in 0..9, found {int(lab.min())}..{int(lab.max())}")


def _candidates(path) -> list[tuple[Path, str]]:
    """(directory, 'py' | 'bin') pairs to try, in order."""
    if path is not None:
        p = Path(os.fspath(path)).expanduser()
        if not p.exists():
            raise _files.not_found_error(f"cifar10.load_data: path {str(p)!r} does not exist", _steps(p),
                                         [("Searched:", [p])])
        if not p.is_dir():
            raise ValueError(f"cifar10.load_data: path must be a directory, got the file {str(p)!r}")
        return [(p, "py"), (p, "bin"), (p / _PY_DIR, "py"), (p / _BIN_DIR, "bin")]
    env = os.environ.get("FASTNN_DATA")
    bases = [Path(env).expanduser() / "cifar10", Path(env).expanduser()] if env else []
    bases.append(_files.keras_home() / "datasets")
    out = []
    for d in bases:
        out += [(d / _PY_DIR, "py"), (d / _BIN_DIR, "bin"), (d, "py"), (d, "bin")]
    return out


def _steps(target: Path | None) -> list[str]:
    """How to get the batches, and where to unpack them (`target`, else Keras's datasets directory)."""
    into = target if target is not None else _files.keras_home() / "datasets"
    steps = [
        _files.install_hint("CIFAR-10", "cifar10", None),
        f"Download cifar-10-python.tar.gz from {_URL} and unpack it in {into}:",
        f"  mkdir -p {shlex.quote(str(into))} && tar -xzf cifar-10-python.tar.gz -C {shlex.quote(str(into))}",
        f"which gives {into / _PY_DIR}/ with data_batch_1 ... data_batch_5 and test_batch",
        f"(cifar-10-binary.tar.gz works too: {_BIN_DIR}/ with data_batch_1.bin ... data_batch_5.bin, test_batch.bin).",
    ]
    if target is None:
        steps += ["$FASTNN_DATA/cifar10 and $FASTNN_DATA are searched first when $FASTNN_DATA is set. Or call",
                  'cifar10.load_data(path="<the directory holding the batches, or the one above it>").']
    return steps


def load_data(path: str | os.PathLike | None = None, data_format: str = "channels_last") -> _files.Splits:
    """``(x_train, y_train), (x_test, y_test)``, uint8, as keras.datasets.cifar10: images
    (N, 32, 32, 3) (or (N, 3, 32, 32) with ``data_format='channels_first'``), labels (N, 1).

    Args:
        path: a directory holding data_batch_1 ... data_batch_5 and test_batch (the Python
            version) or data_batch_1.bin ... test_batch.bin (the binary version), or the
            directory above cifar-10-batches-py / cifar-10-batches-bin. None searches
            $FASTNN_DATA/cifar10, $FASTNN_DATA, and $KERAS_HOME/datasets (~/.keras/datasets)
            for cifar-10-batches-py or cifar-10-batches-bin.

    Raises:
        FileNotFoundError: no copy found (the message says which files to put where, and lists
            the directories searched). No Debian/Ubuntu package ships CIFAR-10.
        ValueError: a batch is truncated, malformed, or a pickle asks to run code.
    """
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    cands = _candidates(path)
    for d, kind in cands:
        names = _PY_FILES if kind == "py" else _BIN_FILES
        if not all((d / n).is_file() for n in names):
            continue
        reader = _read_py_batch if kind == "py" else _read_bin_batch
        parts = [reader(d / n) for n in names]
        x_train = np.concatenate([p[0] for p in parts[:5]])
        y_train = np.concatenate([p[1] for p in parts[:5]]).reshape(-1, 1)
        x_test, y_test = parts[5][0], parts[5][1].reshape(-1, 1)
        if data_format == "channels_last":
            x_train = np.ascontiguousarray(x_train.transpose(0, 2, 3, 1))
            x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
        else:
            x_train, x_test = np.ascontiguousarray(x_train), np.ascontiguousarray(x_test)
        return (x_train, y_train), (x_test, y_test)
    searched = [d for d, _ in cands]
    raise _files.not_found_error(
        "cifar10.load_data: the CIFAR-10 files were not found", _steps(None if path is None else searched[0]),
        [("Searched for data_batch_1 ... data_batch_5 and test_batch (or the same names with .bin) in:", searched)])
