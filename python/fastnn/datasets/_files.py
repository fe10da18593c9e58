"""Where dataset files are looked for, and readers for the IDX format (MNIST, Fashion-MNIST).

Nothing is downloaded: a loader looks in the places listed by ``search_dirs`` and otherwise
raises ``FileNotFoundError`` (``not_found_error``) with the command that installs the files where
a Debian/Ubuntu package ships them, which files to put in which directory otherwise, and every
path it searched.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["search_dirs", "read_bytes", "parse_idx", "load_idx", "find_dir", "Splits", "install_hint",
           "not_found_error", "MAX_FILE_BYTES", "max_file_bytes"]

# What every load_data returns: (x_train, y_train), (x_test, y_test).
Splits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

# Where Debian's dataset-* packages install their files (dataset-fashion-mnist puts the four
# gzipped IDX files in /usr/share/datasets/fashion-mnist). Of fastnn's datasets, Debian (and so
# Ubuntu) packages only Fashion-MNIST: `apt-cache search mnist` / `cifar` list no other.
DEBIAN_DATASETS = Path("/usr/share/datasets")

# IDX type codes (the third byte of the magic number) and the big-endian dtypes they stand for.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The most bytes one dataset file may hold once decompressed (an IDX file: the size its header
# announces). A bound, so that a small crafted file (a gzip bomb: 1 MB inflating to 1 GiB, or a
# header announcing 2**31 x 2**31 values) raises ValueError naming the file instead of taking all
# memory. The largest genuine file fastnn reads (MNIST's training images) is 47 MB, a CIFAR-10
# batch 31 MB. Raise it for larger datasets of your own: fastnn.datasets._files.MAX_FILE_BYTES =
# 8 * 2**30, or pass max_bytes= to read_bytes / load_idx.
MAX_FILE_BYTES = 2 * 2**30

# The most dimensions an IDX file may have (NumPy 1.x's limit; MNIST's have 1 or 3).
MAX_IDX_DIMS = 32


def keras_home() -> Path:
    """$KERAS_HOME, or ~/.keras as Keras uses it."""
    env = os.environ.get("KERAS_HOME")
    return Path(env).expanduser() if env else Path("~/.keras").expanduser()


def search_dirs(name: str, debian: bool = False) -> list[Path]:
    """Directories searched for dataset `name`, in order: $FASTNN_DATA/<name>, $FASTNN_DATA,
    $KERAS_HOME/datasets/<name> (or ~/.keras/datasets/<name>), then, with `debian`, the
    directory of Debian's package (/usr/share/datasets/<name>)."""
    dirs = []
    env = os.environ.get("FASTNN_DATA")
    if env:
        base = Path(env).expanduser()
        dirs += [base / name, base]
    dirs.append(keras_home() / "datasets" / name)
    if debian:
        dirs.append(DEBIAN_DATASETS / name)
    seen, out = set(), []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def install_hint(title: str, name: str, apt_package: str | None) -> str:
    """The line of a not-found message that says how a package manager installs dataset `name`."""
    if apt_package:
        return (f"On Debian/Ubuntu, install them with: sudo apt-get install {apt_package}\n"
                f"  (it puts them in {DEBIAN_DATASETS / name}, where load_data() without path= finds them).")
    return f"No Debian/Ubuntu package ships {title}."


def not_found_error(headline: str, steps: Sequence[str],
                    searched: Sequence[tuple[str, Sequence[Path]]]) -> FileNotFoundError:
    """A FileNotFoundError of several lines: `headline`, how to get the files (`steps`), then each
    (label, paths) of `searched`, one path a line."""
    lines = [f"{headline} (nothing is downloaded).", *steps]
    for label, paths in searched:
        lines.append(label)
        lines += [f"  {p}" for p in dict.fromkeys(str(p) for p in paths)]
    return FileNotFoundError("\n".join(lines))


def find_file(directory: Path, names: tuple[str, ...]) -> Path | None:
    """The first of `names` present in `directory`, or None."""
    for n in names:
        p = directory / n
        if p.is_file():
            return p
    return None


def find_dir(dirs: list[Path], required: list[tuple[str, ...]]) -> Path | None:
    """The first directory of `dirs` holding one of the spellings of every required file."""
    for d in dirs:
        if d.is_dir() and all(find_file(d, names) is not None for names in required):
            return d
    return None


def max_file_bytes(max_bytes: int | None = None) -> int:
    """`max_bytes` when given (a positive int), else the module's ``MAX_FILE_BYTES``."""
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"max_bytes must be a positive integer number of bytes, got {limit!r}")
    return limit


def _size(n: int) -> str:
    return f"{n:,} bytes" + (f" ({n / 2**30:.1f} GiB)" if n >= 2**30 else "")


def too_big(path: Path, what: str, limit: int) -> ValueError:
    """The ValueError for a file over the size limit: `what` says by how much."""
    return ValueError(
        f"{path}: {what}; the limit is {_size(limit)} (fastnn.datasets._files.MAX_FILE_BYTES, or "
        "max_bytes=; raise it if the file is genuine)"
    )


_PIECE = 1 << 24  # bytes read at a time


class _Stream:
    """The file's contents as a stream, inflated when it is gzipped (recognised by its magic
    bytes, not its name). ``read(n)`` never inflates more than `n` bytes, so what a reader asks
    for bounds the memory a small file can claim; a damaged gzip stream raises ValueError naming
    the file."""

    def __init__(self, file, path: Path):
        self.path = path
        self._file = file
        self.compressed = self._file.read(2) == b"\x1f\x8b"
        self._file.seek(0)
        self._src = gzip.GzipFile(fileobj=self._file, mode="rb") if self.compressed else self._file

    @classmethod
    def open(cls, path: Path) -> _Stream:
        path = Path(path)
        f = open(path, "rb")
        try:
            return cls(f, path)
        except BaseException:
            f.close()
            raise

    def read(self, n: int) -> bytearray:
        """Up to `n` bytes (fewer at the end of the file), read in pieces so that memory grows
        with what the file holds, not with what was asked for."""
        out = bytearray()
        try:
            while len(out) < n:
                piece = self._src.read(min(n - len(out), _PIECE))
                if not piece:
                    break
                out += piece
            return out
        except EOFError:
            raise ValueError(f"{self.path}: the gzip stream is truncated (the file is incomplete)") from None
        except (OSError, zlib.error) as e:
            raise ValueError(f"{self.path}: not a valid gzip file ({e})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.compressed:
            self._src.close()
        self._file.close()


def read_bytes(path: Path, max_bytes: int | None = None) -> bytearray:
    """The file's contents, decompressed when it is gzipped (recognised by its magic bytes, not
    its name); a damaged gzip stream raises ValueError naming the file, and so does content of
    more than `max_bytes` (default ``MAX_FILE_BYTES``) once decompressed: at most that many bytes
    are ever inflated."""
    path = Path(path)
    limit = max_file_bytes(max_bytes)
    with _Stream.open(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise too_big(path, f"{'decompresses to' if f.compressed else 'holds'} more than {_size(limit)}", limit)
    return data


def _read_idx(f, path: Path, ndim: int | None, limit: int) -> np.ndarray:
    """An array from the stream `f` of an IDX file. The header is read and checked first; the
    data is then read for exactly the size it announces (plus one byte, to detect trailing
    garbage), so a gzip bomb never inflates more than a header within `limit` allows."""
    magic = f.read(4)
    if len(magic) < 4:
        raise ValueError(f"{path}: too short for an IDX file ({len(magic)} bytes; the header alone is 4+ bytes)")
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file: the magic number must start with two zero bytes, got {magic.hex()}"
        )
    code, nd = magic[2], magic[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{code:02x} in the magic number {magic.hex()}")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{path}: expected an IDX file of {ndim} dimension(s), the magic number says {nd}")
    if nd > MAX_IDX_DIMS:
        raise ValueError(f"{path}: an IDX file of {nd} dimensions (the magic number {magic.hex()}) is not "
                         f"supported: at most {MAX_IDX_DIMS}")
    head = 4 + 4 * nd
    raw_dims = f.read(4 * nd)
    if len(raw_dims) < 4 * nd:
        raise ValueError(
            f"{path}: truncated IDX header: {nd} dimensions need {head} bytes, the file has {4 + len(raw_dims)}"
        )
    dims = tuple(int.from_bytes(raw_dims[i:i + 4], "big") for i in range(0, 4 * nd, 4))
    if any(d >= 2**31 for d in dims):
        raise ValueError(f"{path}: invalid IDX dimensions {dims} (each must be below 2**31)")
    dt = _IDX_TYPES[code]
    want = math.prod(dims) * dt.itemsize  # Python ints: no overflow
    if head + want > limit:
        raise too_big(path, f"the IDX header announces dimensions {dims} of {dt.itemsize}-byte values, "
                             f"{_size(head + want)}", limit)
    data = f.read(want + 1)  # bounded: at most one byte past what the header announces
    if len(data) < want:
        raise ValueError(
            f"{path}: truncated: dimensions {dims} need {want} bytes of data, the file has {len(data)}"
        )
    if len(data) > want:
        raise ValueError(f"{path}: unexpected bytes after the data of dimensions {dims} (expected {want} bytes)")
    arr = np.frombuffer(data, dtype=dt).reshape(dims)  # writable: `data` is a bytearray
    return arr.astype(dt.newbyteorder("="), copy=False)


def parse_idx(data: bytes, path: Path, ndim: int | None = None, max_bytes: int | None = None) -> np.ndarray:
    """An array from the bytes of an IDX file: magic number 0x00 0x00 <type> <ndim>, then ndim
    big-endian int32 sizes, then the values. Every inconsistency raises ValueError naming the
    file and what is wrong, and so does a header announcing more than `max_bytes` (default
    ``MAX_FILE_BYTES``)."""
    return _read_idx(_Stream(io.BytesIO(data), Path(path)), Path(path), ndim, max_file_bytes(max_bytes))


def load_idx(path: Path, ndim: int | None = None, max_bytes: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not). The header is checked before any data is read, and
    no more is decompressed than it announces: a header announcing more than `max_bytes`
    (default ``MAX_FILE_BYTES``) raises ValueError naming the file."""
    path = Path(path)
    limit = max_file_bytes(max_bytes)
    with _Stream.open(path) as f:
        return _read_idx(f, path, ndim, limit)
