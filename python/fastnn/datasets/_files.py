"""Where dataset files are looked for, and readers for the IDX format (MNIST, Fashion-MNIST).

Nothing is downloaded: a loader looks in the places listed by ``search_dirs`` and otherwise
raises ``FileNotFoundError`` (``not_found_error``) with the command that installs the files where
a Debian/Ubuntu package ships them, which files to put in which directory otherwise, and every
path it searched.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["search_dirs", "read_bytes", "parse_idx", "load_idx", "find_dir", "Splits", "install_hint",
           "not_found_error"]

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


def read_bytes(path: Path) -> bytes:
    """The file's contents, decompressed when it is gzipped (recognised by its magic bytes, not
    its name); a damaged gzip stream raises ValueError naming the file."""
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise ValueError(f"{path}: the gzip stream is truncated (the file is incomplete)") from None
    except (OSError, zlib.error) as e:
        raise ValueError(f"{path}: not a valid gzip file ({e})") from None


def parse_idx(data: bytes, path: Path, ndim: int | None = None) -> np.ndarray:
    """An array from the bytes of an IDX file: magic number 0x00 0x00 <type> <ndim>, then ndim
    big-endian int32 sizes, then the values. Every inconsistency raises ValueError naming the
    file and what is wrong."""
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX file ({len(data)} bytes; the header alone is 4+ bytes)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file: the magic number must start with two zero bytes, got {data[:4].hex()}"
        )
    code, nd = data[2], data[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{code:02x} in the magic number {data[:4].hex()}")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{path}: expected an IDX file of {ndim} dimension(s), the magic number says {nd}")
    head = 4 + 4 * nd
    if len(data) < head:
        raise ValueError(f"{path}: truncated IDX header: {nd} dimensions need {head} bytes, the file has {len(data)}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=nd, offset=4))
    if any(d >= 2**31 for d in dims):
        raise ValueError(f"{path}: invalid IDX dimensions {dims}")
    dt = _IDX_TYPES[code]
    want = int(np.prod(dims, dtype=np.int64)) * dt.itemsize
    have = len(data) - head
    if have < want:
        raise ValueError(
            f"{path}: truncated: dimensions {dims} need {want} bytes of data, the file has {have}"
        )
    if have > want:
        raise ValueError(
            f"{path}: {have - want} unexpected bytes after the data of dimensions {dims} (expected {want} bytes)"
        )
    arr = np.frombuffer(data, dtype=dt, offset=head).reshape(dims)
    return arr.astype(dt.newbyteorder("="))


def load_idx(path: Path, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or not)."""
    return parse_idx(read_bytes(path), Path(path), ndim)
