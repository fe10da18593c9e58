"""The loader shared by MNIST and Fashion-MNIST: four IDX files (gzipped or not)."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from . import _files

# (role, accepted file names): the names of the original distribution, plain or gzipped, and
# the "train-images.idx3-ubyte" spelling some mirrors use.
_ROLES = (
    ("x_train", "train-images", "idx3"),
    ("y_train", "train-labels", "idx1"),
    ("x_test", "t10k-images", "idx3"),
    ("y_test", "t10k-labels", "idx1"),
)


def _names(stem: str, kind: str) -> tuple[str, ...]:
    base = (f"{stem}-{kind}-ubyte", f"{stem}.{kind}-ubyte")
    return tuple(b + ext for b in base for ext in (".gz", ""))


_REQUIRED = [_names(stem, kind) for _, stem, kind in _ROLES]


def _read_dir(directory: Path):
    arrays = {}
    for (role, _stem, kind), names in zip(_ROLES, _REQUIRED):
        p = _files.find_file(directory, names)
        if p is None:
            files = ", ".join(n[0] for n in _REQUIRED)
            raise FileNotFoundError(f"{directory}: missing {names[0]} (or {names[1]}, uncompressed); the directory "
                                    f"must hold all four of {files} (gzipped or not)")
        arr = _files.load_idx(p, ndim=3 if kind == "idx3" else 1)
        if arr.dtype != np.uint8:
            raise ValueError(f"{p}: expected unsigned bytes (IDX type 0x08), got {arr.dtype}")
        arrays[role] = (arr, p)
    for split in ("train", "test"):
        (x, px), (y, py) = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise ValueError(f"{px} holds {len(x)} images but {py} holds {len(y)} labels")
    return (arrays["x_train"][0], arrays["y_train"][0]), (arrays["x_test"][0], arrays["y_test"][0])


def _read_npz(path: Path):
    keys = ("x_train", "y_train", "x_test", "y_test")
    limit = _files.max_file_bytes()
    try:
        # numpy leaks the file it opened when the archive is damaged: hand it our own
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            files = list(f.files)
            missing = [k for k in keys if k not in files]
            # zipfile never inflates more than a member's declared size: bound the declared sizes
            # (a deflated archive of a few MB can declare GBs of zeros)
            inflated = sum(info.file_size for info in f.zip.infolist())
            if inflated > limit:
                raise _files.too_big(path, f"the archive's arrays hold {inflated:,} bytes", limit)
            if not missing:
                for k in keys:
                    _check_npy_header(f.zip, k + ".npy", path)
            arrays = None if missing else [f[k] for k in keys]
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, MemoryError) as e:
        # ValueError: object arrays, which would need unpickling (refused); MemoryError: an array
        # header announcing more than memory holds
        if isinstance(e, ValueError) and str(e).startswith(f"{path}: "):
            raise
        raise ValueError(f"{path}: not a readable .npz file of arrays ({e})") from None
    if missing:
        raise ValueError(f"{path}: missing arrays {missing} (has {files})")
    x_train, y_train, x_test, y_test = arrays
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"{path}: x_{name} must be (N, rows, cols) and y_{name} (N,), got {x.shape} and {y.shape}"
            )
    return (x_train, y_train), (x_test, y_test)


def _check_npy_header(archive: zipfile.ZipFile, member: str, path: Path) -> None:
    """Refuse a member whose .npy header announces more bytes than the member holds (NumPy
    allocates what the header says before reading the data)."""
    info = archive.getinfo(member)
    with archive.open(info) as m:
        version = np.lib.format.read_magic(m)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(m)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise ValueError(f"{path}: {member} announces an array of shape {shape} ({nbytes:,} bytes) but holds "
                         f"{info.file_size:,} bytes")


def _steps(name: str, title: str, npz: str | None, npz_origin: str | None, apt_package: str | None, origin: str,
           target: Path | None) -> list[str]:
    """How to get the files: the package that installs them, else (or also) which files to put where."""
    loader = f"{name.replace('-', '_')}.load_data"
    steps = [_files.install_hint(title, name, apt_package)]
    steps.append(f"{'Or put' if apt_package else 'Put'} these four files (gzipped or not; from {origin}):")
    steps.append("  " + ", ".join(n[0] for n in _REQUIRED))
    if target is None:
        keras_dir = _files.keras_home() / "datasets"
        steps.append(f"in {keras_dir / name} ($FASTNN_DATA/{name} when $FASTNN_DATA is set),")
        if npz:
            steps.append(f"or Keras's {npz} ({npz_origin}) in {keras_dir},")
        steps.append(f"or in any directory, and call {loader}(path=\"<that directory>\").")
    else:
        npz_step = f", or pass path= the location of Keras's {npz} ({npz_origin})." if npz else "."
        steps.append(f"in {target}{npz_step}")
    return steps


def load(name: str, path, *, title: str, origin: str, npz: str | None = None, npz_origin: str | None = None,
         apt_package: str | None = None):
    """Load dataset `name` from `path` (a directory of the four IDX files, or a .npz file) or
    from the first standard location that holds it (with `apt_package`, also the directory
    where that Debian package installs the files). Nothing found raises FileNotFoundError with
    the install command, the files and where to put them, and the paths searched."""
    loader = f"{name.replace('-', '_')}.load_data"
    if path is not None:
        p = Path(os.fspath(path)).expanduser()
        if p.is_file():
            return _read_npz(p) if p.suffix == ".npz" else _bad_file(p)
        if p.is_dir():
            if _files.find_dir([p], _REQUIRED) is not None:
                return _read_dir(p)
            if npz and (p / npz).is_file():
                return _read_npz(p / npz)
            return _read_dir(p)  # raises, naming the first missing file
        raise _files.not_found_error(
            f"{loader}: path {str(p)!r} does not exist",
            _steps(name, title, npz, npz_origin, apt_package, origin, p), [("Searched:", [p])])
    dirs = _files.search_dirs(name, debian=apt_package is not None)
    found = _files.find_dir(dirs, _REQUIRED)
    if found is not None:
        return _read_dir(found)
    npz_files = [_files.keras_home() / "datasets" / npz] + [d / npz for d in dirs] if npz else []
    for f in npz_files:
        if f.is_file():
            return _read_npz(f)
    searched = [("Searched for the four files in:", dirs)]
    if npz_files:
        searched.append((f"and for {npz} at:", npz_files))
    raise _files.not_found_error(f"{loader}: the {title} files were not found",
                                 _steps(name, title, npz, npz_origin, apt_package, origin, None), searched)


def _bad_file(p: Path):
    raise ValueError(f"{p}: pass a directory holding the four IDX files (or a .npz file), not a single file")
