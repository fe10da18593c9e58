"""Saving and loading models and weights: safetensors files with a checksum, written atomically.

The file format
---------------
Every fastnn file, a model (``model.save``) or weights only (``model.save_weights``), is one
safetensors file (https://github.com/huggingface/safetensors): an 8-byte header length, a JSON
header, then the raw tensor bytes. The header's ``__metadata__`` (a str -> str map) holds:

- ``format``: ``"fastnn"``; ``format_version``: ``"1"``; ``fastnn_version``;
- ``order``: the JSON list of tensor names in the model's weight order (safetensors itself keeps
  the tensors sorted by name);
- ``metadata``: the caller's metadata as JSON; for a model file that is the architecture
  (``{"kind": "model", "model": <class_name + get_config()>, "build_config": ...,
  "compile_config": ..., "optimizer_state": ...}``), for weights ``{"kind": "weights", ...}``.
  A compiled model's optimizer state is stored as tensors too (``optimizer/iterations``, then
  ``optimizer/<weight name>/<slot>``, after the model's weights); ``optimizer_state`` lists
  their names, the position in ``model.weights`` of each variable they belong to, and the slot
  names of each. Files without it (older files, uncompiled models) load as before;
- ``sha256``: the SHA-256 of every tensor (name, dtype, shape and bytes, in ``order``) and of
  the ``order`` and ``metadata`` strings; verified on every load;
- ``hmac_sha256`` (only in a file saved with ``signing_key=``): the HMAC-SHA256 with the
  caller's key of the same content. Loading with ``signing_key=`` requires it and checks it
  (``hmac.compare_digest``); without a key it is ignored, so signed files stay ordinary version-1
  files (older fastnn versions read them) and unsigned files load as before.

Why one safetensors file and not a zip or a directory: one file is renamed into place in one
``os.replace``, so a crash never leaves a model half-written (a directory cannot be swapped
atomically and a zip would need the same temporary-file dance plus a second parser); the
safetensors header is plain JSON of bounded size, parsed without running code, and the tensor
data is raw bytes (never pickle); and any safetensors reader (torch, JAX, NumPy) can read the
weights of a fastnn model file directly. The file name is free: ``model.keras``, ``model.h5`` or
``model.fastnn`` all hold this format, recognised by its content, not its extension.

Safety
------
Loading never unpickles and never executes anything from the file: the JSON config names
classes, which are looked up in fastnn's own modules, the registry
(``register_serializable``) and ``custom_objects``; nothing is imported by a name read from a
file. A ``Lambda`` layer's function is stored by name only; loading it needs the function in
``custom_objects`` (``resolve_function`` says so otherwise). Each write goes to a temporary
file in the target's directory, is flushed to disk, and is renamed over the target: an
interrupted write leaves the previous file intact. Truncated, corrupted or foreign files and
checksum mismatches raise ValueError naming the file.

Files behave as ``open(path, "w")`` would (see atomic_write_bytes): a re-saved file keeps its
permission bits (a private 0600 model stays private), a new one gets ``0o666 & ~umask``, a
read-only one is not replaced; a symbolic link is written through to its target, which is
replaced atomically (a dangling link creates its target). The temporary files are named
``.{name}.fastnn-tmp-{pid}-{random}``, removed on any exception, and those left by a killed
save are removed by the next save in that directory once their process is gone.

What a loaded file may make fastnn build is bounded before anything is allocated: its JSON may
nest at most MAX_JSON_DEPTH levels; a layer's sizes (units, filters, kernel_size, ...) are at
most MAX_LAYER_DIM, an input at most MAX_INPUT_ELEMENTS values per sample; and while load_model
builds the model, no weight may be larger than the file's largest tensor nor all of them more
than the file holds (model_from_json: MAX_PARAMETERS_WITHOUT_FILE). These are module attributes,
to be raised for a legitimate model beyond them.

Keyed signature: ``model.save(path, signing_key=key)`` / ``save_weights(..., signing_key=key)``
sign the file; ``load_model(path, signing_key=key)`` / ``load_weights(..., signing_key=key)``
raise ValueError when the file is unsigned, modified since, or signed with another key. Unlike
the checksum (which anyone can recompute after editing a file), only a holder of the key can
make a valid signature: a team can tell a tampered model from theirs.

Example::

    fastnn.saving.save_model(model, "clf.keras")           # what model.save does
    model2 = fastnn.saving.load_model("clf.keras")
    fastnn.saving.save_weights(model, "clf.weights.safetensors")
    fastnn.saving.load_weights(model2, "clf.weights.safetensors")
    model.save("clf.keras", signing_key=key)               # key: bytes kept secret by the team
    fastnn.models.load_model("clf.keras", signing_key=key)  # ValueError if modified or not ours
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import inspect
import json
import math
import os
import re
import secrets
import stat
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Union

import numpy as np

__all__ = [
    "save_weights_file",
    "load_weights_file",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "to_json",
    "model_from_json",
    "register_serializable",
    "register_keras_serializable",
    "get_registered_object",
    "get_registered_name",
    "get_custom_objects",
    "custom_object_scope",
    "serialize_object",
    "deserialize_object",
    "deserialize_callable",
    "function_name",
    "resolve_function",
]

PathLike = Union[str, os.PathLike]
FORMAT = "fastnn"
FORMAT_VERSION = "1"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_CHUNK = 1 << 20
SIGNATURE_KEY = "hmac_sha256"  # the header entry of a signed file (see save_weights_file)

# Limits on what a loaded file (or JSON text) may make fastnn build; raise them (they are module
# attributes) for a legitimate model beyond them.
MAX_JSON_DEPTH = 100
"""The deepest nesting of JSON arrays/objects a file's header or configuration may have."""
MAX_LAYER_DIM = 2**24
"""The largest size a loaded layer configuration may give (units, filters, input_dim,
output_dim, kernel_size, n, target_shape, ... any one dimension)."""
MAX_INPUT_ELEMENTS = 2**28
"""The most values one sample of a loaded model's input may have (the product of its shape)."""
MAX_PARAMETERS_WITHOUT_FILE = 2**30
"""The most parameters model_from_json may create (a model file's own weights bound load_model)."""


def _version() -> str:
    from . import _C

    return str(getattr(_C, "__version__", "unknown"))


# ----------------------------------------------------------------------- atomic writes
# Temporary files are named ".{name}.fastnn-tmp-{pid}-{random}" next to the file they replace,
# so that one left by a killed save can be recognised (and its writer's pid checked) later.
TEMP_MARK = ".fastnn-tmp-"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.fastnn-tmp-(?P<pid>[0-9]{1,10})-(?P<rand>[0-9a-f]{8,32})$")
_LEGACY_TEMP_RE = r"^\.{name}\.[a-z0-9_]{{8}}\.tmp$"  # tempfile.mkstemp names of older versions
# A temporary file whose writer is gone is removed once it is this old (seconds): a margin for
# a directory shared with another machine, where the pid says nothing.
_STALE_GRACE_S = 60.0
# One whose pid runs (it may have been reused by an unrelated process) once it is this old: a
# save in progress touches its file continuously.
_STALE_AGE_S = 6 * 3600.0
_ACTIVE_TEMPS: set[str] = set()  # temporary files this process is writing now (any thread)
_ACTIVE_LOCK = threading.Lock()


def _write_chunks(f, data: memoryview) -> None:
    """Write `data` to `f` in chunks (a separate function so tests can interrupt it)."""
    for i in range(0, len(data), _CHUNK):
        f.write(data[i : i + _CHUNK])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie counts as gone). Unknown -> True (the safe answer)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, OSError):
        return False
    with contextlib.suppress(OSError, IndexError):
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return False
    return True


def _remove_stale_temps(directory: str, base: str) -> None:
    """Remove the temporary files that killed saves left in `directory`: those whose process is
    gone (after a grace period), and any older than _STALE_AGE_S. Never one that a save of this
    process is writing, nor one that a live process may still be writing."""
    now = time.time()
    legacy = re.compile(_LEGACY_TEMP_RE.format(name=re.escape(base)))
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        m = _TEMP_RE.match(name) if TEMP_MARK in name else None
        if m is None and not (name.endswith(".tmp") and legacy.match(name)):
            continue
        full = os.path.join(directory, name)
        with _ACTIVE_LOCK:
            if full in _ACTIVE_TEMPS:
                continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        age = now - st.st_mtime
        if m is None:  # an older version's temporary file: no pid to ask
            stale = age > _STALE_AGE_S
        else:
            pid = int(m["pid"])
            gone = pid == os.getpid() or not _pid_alive(pid)  # ours and not active: an earlier process's
            stale = age > (_STALE_GRACE_S if gone else _STALE_AGE_S)
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(full)


def _temp_name(base: str) -> str:
    raw = os.fsencode(base)
    if len(raw) > 200:  # stay within NAME_MAX (255 bytes) with the mark, the pid and the random part
        base = os.fsdecode(raw[:200]) if os.name != "nt" else base[:100]
    return f".{base}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(8)}"


def _create_temp(directory: str, base: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for extra in ("O_CLOEXEC", "O_NOFOLLOW", "O_BINARY"):
        flags |= getattr(os, extra, 0)
    for _ in range(100):
        tmp = os.path.join(directory, _temp_name(base))
        with _ACTIVE_LOCK:  # registered before it exists: a concurrent cleanup never removes it
            _ACTIVE_TEMPS.add(tmp)
        try:
            # mode 0o666: the kernel applies the umask (and a default ACL), as open() does
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            pass
        except BaseException:
            with _ACTIVE_LOCK:
                _ACTIVE_TEMPS.discard(tmp)
            raise
        with _ACTIVE_LOCK:
            _ACTIVE_TEMPS.discard(tmp)
    raise FileExistsError(f"cannot create a temporary file in {directory!r}")


def _write_target(path: str) -> str:
    """The file a write to `path` replaces: `path`, or the file its symbolic link(s) lead to."""
    if not os.path.islink(path):
        return os.path.abspath(path)
    target = os.path.realpath(path)
    if os.path.islink(target):  # realpath stops where the links loop
        raise OSError(errno.ELOOP, f"cannot write {path!r}: its symbolic links form a loop", path)
    return target


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory and os.replace:
    readers see the old file or the new one, never a partial one.

    - An existing file keeps its permission bits (a private 0600 model stays private) and, where
      allowed, its group; a new file gets ``0o666 & ~umask``, as ``open()`` would give it. A file
      that exists but that the caller may not write (read-only) is not replaced: PermissionError.
    - A symbolic link is written through: its target is replaced (atomically, by a temporary file
      in the target's directory) and the link stays a link. A dangling link creates its target,
      as ``open(path, "w")`` does; FileNotFoundError when the target's directory does not exist.
    - The temporary file, ``.{name}.fastnn-tmp-{pid}-{random}``, is removed on any exception;
      those that killed saves left in the directory are removed by the next save there (once
      their process is gone, or after some hours).
    """
    path = os.fspath(path)
    target = _write_target(path)
    shown = repr(path) if target == os.path.abspath(path) else f"{path!r} (a link to {target!r})"
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot write {shown}: it is a directory")
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {shown}: the directory {directory!r} does not exist")
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not os.access(target, os.W_OK):
        raise PermissionError(f"cannot write {shown}: the file is read-only "
                              f"(mode {stat.S_IMODE(old.st_mode):04o}); make it writable or remove it first")
    base = os.path.basename(target)
    _remove_stale_temps(directory, base)
    fd, tmp = _create_temp(directory, base)
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                if hasattr(os, "fchown") and old.st_gid != os.getegid():
                    with contextlib.suppress(OSError):  # keep a shared file's group where allowed
                        os.fchown(f.fileno(), -1, old.st_gid)
                mode = stat.S_IMODE(old.st_mode) & 0o777
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), mode)
                else:
                    os.chmod(tmp, mode)
            _write_chunks(f, memoryview(data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE_TEMPS.discard(tmp)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


# ------------------------------------------------------------------- checksum and signature
_HMAC_PREFIX = b"fastnn-hmac-sha256-v1\0"


def _digest(h: Any, order: Sequence[str], arrays: dict, order_json: str, meta_json: str) -> None:
    """Feed what the checksum and the signature cover into `h` (a hashlib or hmac object)."""
    h.update(b"fastnn-safetensors-v1\0")
    for name in order:
        a = arrays[name]
        h.update(name.encode("utf-8") + b"\0" + a.dtype.str.encode() + b"\0" + repr(tuple(a.shape)).encode() + b"\0")
        h.update(a.reshape(-1).view(np.uint8) if a.flags.c_contiguous else a.tobytes(order="C"))
    h.update(b"\0order\0" + order_json.encode("utf-8"))
    h.update(b"\0metadata\0" + meta_json.encode("utf-8"))


def _checksum(order: Sequence[str], arrays: dict, order_json: str, meta_json: str) -> str:
    h = hashlib.sha256()
    _digest(h, order, arrays, order_json, meta_json)
    return h.hexdigest()


def _signature(key: bytes, order: Sequence[str], arrays: dict, order_json: str, meta_json: str) -> str:
    """HMAC-SHA256 with `key` over the same content as the checksum (every tensor's name, dtype,
    shape and bytes, the tensor order and the metadata)."""
    h = hmac.new(key, _HMAC_PREFIX, hashlib.sha256)
    _digest(h, order, arrays, order_json, meta_json)
    return h.hexdigest()


def _signing_key(key: Any) -> bytes | None:
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray, memoryview)):
        key = bytes(key)
    else:
        raise TypeError(f"signing_key must be bytes (or a str, used as UTF-8), got {type(key).__name__}")
    if not key:
        raise ValueError("signing_key must not be empty: an empty key signs nothing")
    return key


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or hasattr(obj, "get_config"):
        return serialize_object(obj)
    raise TypeError(f"{obj!r} of type {type(obj).__name__} cannot be stored in a fastnn file (not JSON)")


def _dumps(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj, default=_json_default, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} is not JSON-serializable: {e}") from None


# ---------------------------------------------------------------------- weights files
def save_weights_file(path: PathLike, named_arrays: Sequence[tuple[str, np.ndarray]],
                      metadata: dict | None = None, *, signing_key: bytes | str | None = None) -> None:
    """Write named arrays and a JSON-serializable metadata dict to a safetensors file, with a
    SHA-256 checksum, atomically.

    Args:
        path: the file to write (replaced atomically if it exists; see atomic_write_bytes for
            its mode, symbolic links and temporary files).
        named_arrays: (name, array) pairs, in the order load_weights_file returns them; names
            must be unique.
        metadata: any JSON-serializable dict (returned by load_weights_file).
        signing_key: a secret (bytes, or a str used as UTF-8): the file also records an
            HMAC-SHA256 of its content with this key, which ``load_weights_file(path,
            signing_key=...)`` verifies. The file stays readable without the key.

    Example::

        save_weights_file("w.safetensors", [("dense/kernel", k), ("dense/bias", b)], {"note": "x"})
    """
    from safetensors.numpy import save as st_save

    key = _signing_key(signing_key)
    order: list[str] = []
    arrays: dict[str, np.ndarray] = {}
    for item in named_arrays:
        try:
            name, arr = item
        except (TypeError, ValueError):
            raise TypeError(f"named_arrays must hold (name, array) pairs, got {item!r}") from None
        if not isinstance(name, str) or not name:
            raise TypeError(f"tensor names must be non-empty strings, got {name!r}")
        if name in arrays:
            raise ValueError(f"duplicate tensor name {name!r}: names in a weights file must be unique")
        a = np.asarray(arr.numpy() if hasattr(arr, "numpy") and not isinstance(arr, np.ndarray) else arr)
        if a.dtype.kind not in "biuf" or a.dtype.byteorder == ">":
            raise TypeError(f"tensor {name!r} has dtype {a.dtype}: only numeric little-endian arrays can be saved")
        arrays[name] = a if a.flags.c_contiguous else a.copy(order="C")  # ascontiguousarray makes 0-d 1-d
        order.append(name)
    order_json = json.dumps(order)
    meta_json = _dumps(metadata or {}, "metadata")
    header_meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fastnn_version": _version(),
        "order": order_json,
        "metadata": meta_json,
        "sha256": _checksum(order, arrays, order_json, meta_json),
    }
    if key is not None:
        header_meta[SIGNATURE_KEY] = _signature(key, order, arrays, order_json, meta_json)
    atomic_write_bytes(path, st_save(arrays, metadata=header_meta))


def _corrupt(path: str, why: str) -> ValueError:
    return ValueError(f"cannot load {path!r}: {why}")


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPENERS = np.zeros(256, np.int8)
_OPENERS[[ord("["), ord("{")]] = 1
_OPENERS[[ord("]"), ord("}")]] = -1


def _json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets outside strings; 0 for a
    scalar). Linear time, no recursion: safe on any input."""
    if "[" not in text and "{" not in text:
        return 0
    stripped = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    levels = np.cumsum(_OPENERS[np.frombuffer(stripped, np.uint8)], dtype=np.int64)
    return int(levels.max()) if levels.size else 0


def _loads(text: str, where: str, what: str) -> Any:
    """json.loads with a nesting limit: ValueError naming `where` (the file) instead of a
    RecursionError on a deeply nested (crafted) text."""
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"cannot load {where}: {what} nests {depth} levels deep, more than the limit of "
                         f"{MAX_JSON_DEPTH} (fastnn.saving.MAX_JSON_DEPTH): crafted or corrupted?")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"cannot load {where}: {what} nests too deeply") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"cannot load {where}: {what} is corrupted ({e})") from None


def load_weights_file(path: PathLike, *, signing_key: bytes | str | None = None
                      ) -> tuple[list[tuple[str, np.ndarray]], dict]:
    """Read a file written by save_weights_file: ([(name, array), ...] in saved order, metadata).

    Raises ValueError naming the file when it is truncated, corrupted, not a fastnn file (a
    pickle, an HDF5 file, a safetensors file without fastnn's checksum), when the checksum
    does not match, or when its JSON nests deeper than MAX_JSON_DEPTH; FileNotFoundError when it
    does not exist.

    Args:
        path: the file.
        signing_key: the secret it was saved with (``save_weights_file(..., signing_key=...)``):
            ValueError unless the file carries an HMAC-SHA256 signature made with this key over
            its current content (unsigned, modified after signing, or signed with another key).
            Without it, a signed file loads as any other (its checksum is still verified).

    Example::

        arrays, meta = load_weights_file("w.safetensors")
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    key = _signing_key(signing_key)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a fastnn file")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise _corrupt(path, f"the file is truncated or not a fastnn file ({len(data)} bytes)")
    n = int.from_bytes(data[:8], "little")
    if n == 0 or n > _MAX_HEADER or 8 + n > len(data):
        hint = "an HDF5 file (Keras .h5)?" if data[:8] == b"\x89HDF\r\n\x1a\n" else (
            "a pickle?" if data[:1] == b"\x80" else "truncated?")
        raise _corrupt(path, f"not a fastnn (safetensors) file, or truncated: the header length reads {n} "
                             f"for a file of {len(data)} bytes ({hint})")
    try:
        text = data[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _corrupt(path, f"the file header is corrupted ({e})") from None
    header = _loads(text, repr(path), "the file header")
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt(path, "it is not a fastnn file (no fastnn metadata in the safetensors header)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _corrupt(path, f"unsupported fastnn file version {meta.get('format_version')!r} "
                             f"(this fastnn reads version {FORMAT_VERSION})")
    try:
        arrays = st_load(data)
    except (SafetensorError, ValueError, TypeError) as e:
        raise _corrupt(path, f"the file is truncated or corrupted ({e})") from None
    del data
    try:
        order_json, meta_json, expected = meta["order"], meta["metadata"], meta["sha256"]
        if not all(isinstance(v, str) for v in (order_json, meta_json, expected)):
            raise TypeError("its entries are not strings")
    except (KeyError, TypeError) as e:
        raise _corrupt(path, f"the fastnn metadata is corrupted ({e})") from None
    order = _loads(order_json, repr(path), "the tensor list")
    user_meta = _loads(meta_json, repr(path), "the metadata (the model configuration)")
    if (not isinstance(order, list) or not all(isinstance(n, str) for n in order)
            or sorted(order) != sorted(arrays)):
        raise _corrupt(path, "the file is corrupted: its tensor list does not match its tensors")
    if key is not None:
        recorded = meta.get(SIGNATURE_KEY)
        if recorded is None:
            raise _corrupt(path, "a signing_key was given but the file is not signed (no HMAC-SHA256 "
                                 "signature): it was saved without signing_key, or its signature was removed")
        if not isinstance(recorded, str) or not hmac.compare_digest(
                _signature(key, order, arrays, order_json, meta_json), recorded):
            raise _corrupt(path, "its HMAC-SHA256 signature does not match: the file was modified after it "
                                 "was signed, or it was signed with a different key")
    got = _checksum(order, arrays, order_json, meta_json)
    if got != expected:
        raise _corrupt(path, f"checksum mismatch (SHA-256 {got[:16]}... but the file records "
                             f"{str(expected)[:16]}...): the file is corrupted")
    return [(name, arrays[name]) for name in order], user_meta


# ------------------------------------------------------------------------- the registry
_REGISTRY: dict[str, Any] = {}  # "package>name" -> class or function
_BY_NAME: dict[str, Any] = {}  # plain name -> class or function
_NAMES: dict[Any, str] = {}  # object -> registered name
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_scope = threading.local()
_BUILTIN_MODULES = (
    "fastnn.models", "fastnn.layers", "fastnn.losses", "fastnn.metrics", "fastnn.optimizers",
    "fastnn.optimizers.schedules", "fastnn.initializers", "fastnn.regularizers", "fastnn.constraints",
    "fastnn.activations",
)


def register_serializable(cls: Any = None, *, package: str = "Custom", name: str | None = None):
    """Register a class (or function) so that saved configs can name it: as a decorator
    (``@register_serializable``, ``@register_serializable(package="mylib")``) or a call.

    Registered objects are found by their class name and by ``"package>name"``.

    Example::

        @fastnn.saving.register_serializable
        class Scale(fastnn.layers.Layer):
            ...
    """
    if isinstance(cls, str):  # @register_serializable("mylib")
        package, cls = cls, None

    def decorate(obj):
        if not callable(obj):
            raise TypeError(f"register_serializable expects a class or a function, got {obj!r}")
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise TypeError(f"cannot register {obj.__name__}: it needs a get_config method to be serializable")
        n = name or obj.__name__
        key = f"{package}>{n}"
        _REGISTRY[key] = obj
        _BY_NAME[n] = obj
        _NAMES[obj] = key
        return obj

    return decorate(cls) if cls is not None else decorate


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras's spelling of register_serializable."""
    return register_serializable(package=package, name=name)


def get_registered_name(obj: Any) -> str:
    """The name a config uses for `obj` ("package>name" when registered, else its __name__)."""
    target = obj if isinstance(obj, type) or inspect.isfunction(obj) else type(obj)
    return _NAMES.get(target, target.__name__)


def get_custom_objects() -> dict:
    """The global dict of custom objects (name -> class or function): add to it to make a name
    known to every load."""
    return _GLOBAL_CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(*dicts: dict | None) -> Iterator[None]:
    """Within the block, the names in `dicts` are known to deserialization (Keras's
    custom_object_scope)."""
    stack = getattr(_scope, "stack", None)
    if stack is None:
        stack = _scope.stack = []
    merged: dict = {}
    for d in dicts:
        merged.update(d or {})
    stack.append(merged)
    try:
        yield
    finally:
        stack.pop()


def _builtin(name: str) -> Any:
    import importlib

    if not name or name.startswith("_"):
        return None
    for modname in _BUILTIN_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        obj = getattr(mod, name, None)
        if isinstance(obj, type) and hasattr(obj, "from_config"):
            return obj
        if inspect.isfunction(obj) and str(getattr(obj, "__module__", "")).startswith("fastnn"):
            return obj
    return None


def get_registered_object(name: str | None, custom_objects: dict | None = None,
                          module_objects: dict | None = None) -> Any:
    """The class or function a config calls `name`: from custom_objects, the active
    custom_object_scope, the global custom objects, the registry, then fastnn's own modules.
    None when nothing has that name."""
    if not name:
        return None
    sources = [custom_objects or {}, *reversed(getattr(_scope, "stack", None) or []), _GLOBAL_CUSTOM_OBJECTS]
    for src in sources:
        if name in src:
            return src[name]
    if name in _REGISTRY:
        return _REGISTRY[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    plain = name.split(">", 1)[-1]
    return _builtin(plain) or _BY_NAME.get(plain)


def serialize_object(obj: Any) -> Any:
    """A JSON-ready description of `obj`: ``{"module", "class_name", "config", "registered_name"}``
    for objects with get_config; functions are stored by name only (never as code)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return {"module": getattr(obj, "__module__", None), "class_name": "function",
                "config": obj.__name__, "registered_name": get_registered_name(obj)}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"cannot serialize {obj!r}: it has no get_config method")
    cls = type(obj)
    return {"module": cls.__module__, "class_name": cls.__name__, "config": obj.get_config(),
            "registered_name": get_registered_name(cls)}


def function_name(fn: Callable) -> str:
    """The name under which a config records a function (a Lambda layer's, say)."""
    if not callable(fn):
        raise TypeError(f"expected a function, got {fn!r}")
    return _NAMES.get(fn) or getattr(fn, "__name__", type(fn).__name__)


def resolve_function(name: str, custom_objects: dict | None = None, owner: str = "a Lambda layer") -> Callable:
    """The function a config names, for a Lambda layer's from_config. fastnn never stores code,
    so the function must be passed in custom_objects (or registered); ValueError otherwise,
    saying what to pass."""
    fn = get_registered_object(name, custom_objects)
    if fn is None:
        py = name if name.isidentifier() else "my_function"
        hint = ("; a lambda has no name of its own: define it with def, or pass it under the key "
                f"{name!r}") if not name.isidentifier() else ""
        raise ValueError(
            f"{owner} was saved with the function {name!r}, whose code is not stored in the file "
            f"(fastnn never serializes code). Pass it when loading: "
            f"load_model(path, custom_objects={{{name!r}: {py}}}){hint}"
        )
    if not callable(fn):
        raise TypeError(f"custom_objects[{name!r}] must be callable, got {fn!r}")
    return fn


def _call_from_config(cls: Any, config: dict, custom_objects: dict | None) -> Any:
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        raise TypeError(f"{cls.__name__} has no from_config method: it cannot be loaded from a config")
    try:
        params = inspect.signature(from_config).parameters
    except (TypeError, ValueError):
        params = {}
    takes = "custom_objects" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    with custom_object_scope(custom_objects):
        return from_config(config, custom_objects=custom_objects) if takes else from_config(config)


def deserialize_object(config: Any, custom_objects: dict | None = None) -> Any:
    """Rebuild an object from serialize_object's output, looking its class up by name (never
    importing anything the config names)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a serialized object is a dict with 'class_name' and 'config', got {config!r}")
    class_name = config["class_name"]
    if class_name == "function":
        name = config.get("config")
        fn = get_registered_object(config.get("registered_name"), custom_objects) or \
            get_registered_object(name, custom_objects)
        if fn is None:
            return resolve_function(str(name), custom_objects, owner="the saved configuration")
        return fn
    cls = get_registered_object(config.get("registered_name"), custom_objects) or \
        get_registered_object(class_name, custom_objects)
    if cls is None:
        raise ValueError(
            f"Unknown class {class_name!r} in the saved configuration: register it with "
            f"@fastnn.saving.register_serializable, or pass custom_objects={{{class_name!r}: {class_name}}}"
        )
    return _call_from_config(cls, config.get("config", {}), custom_objects)


def deserialize_from(config: Any, classes: dict, kind: str, known: Callable[[], list],
                     custom_objects: dict | None = None) -> Any:
    """Rebuild a {'class_name', 'config'} dict with a class from `classes` (a module's own
    registry of losses, metrics, ...), `custom_objects` or the serializable registry; `kind`
    names the family in errors, `known()` lists the names it accepts."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a serialized {kind} is a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or classes.get(name) or get_registered_object(name, custom_objects)
    if cls is None:
        plural = kind + ("es" if kind.endswith("s") else "s")
        raise ValueError(f"Unknown {kind} class {name!r}; known {plural}: {', '.join(known())}")
    return _call_from_config(cls, config.get("config", {}), custom_objects)


def deserialize_callable(config: Any, classes: dict, kind: str, known: Callable[[], list],
                         custom_objects: dict | None = None) -> Any:
    """deserialize_from for the families whose members may also be plain functions
    (regularizers, constraints): a ``{"class_name": "function", ...}`` entry is looked up by its
    (registered) name in custom_objects and the registry."""
    if isinstance(config, dict) and config.get("class_name") == "function":
        return deserialize_object(config, custom_objects)
    return deserialize_from(config, classes, kind, known, custom_objects)


def _check_storable(config: Any, what: str, layer: str | None = None, key: str | None = None) -> None:
    """Raise before anything is written when a config holds a lambda (a regularizer or a
    constraint given as ``lambda w: ...``): fastnn stores functions by name only, and a lambda
    has none, so the file could never be loaded with it."""
    if isinstance(config, dict):
        if config.get("class_name") == "function" and config.get("config") == "<lambda>":
            where = f"layer {layer!r}" if layer else "an object"
            raise ValueError(
                f"cannot save {what}: {where} has {key or 'an argument'}=<lambda>, and fastnn stores "
                "functions by name only (never their code). Define it with def and register it with "
                "@fastnn.saving.register_keras_serializable() (or pass it in custom_objects when "
                "loading), or use a Regularizer/Constraint subclass with get_config"
            )
        inner = config.get("config")
        if "class_name" in config and isinstance(inner, dict) and isinstance(inner.get("name"), str):
            layer = inner["name"]
        for k, v in config.items():
            _check_storable(v, what, layer, k if k != "config" else key)
    elif isinstance(config, (list, tuple)):
        for v in config:
            _check_storable(v, what, layer, key)


# ---------------------------------------------------------------- limits on loaded configs
# The configuration keys that size a layer (its weights or its outputs); every integer under them
# is checked against MAX_LAYER_DIM before anything is built. The input shapes are also checked
# as a whole against MAX_INPUT_ELEMENTS.
_SIZE_KEYS = frozenset({
    "units", "filters", "input_dim", "output_dim", "embedding_dim", "key_dim", "value_dim", "num_heads",
    "n", "depth_multiplier", "kernel_size", "pool_size", "strides", "dilation_rate", "size", "target_shape",
    "padding", "cropping", "output_padding", "groups", "height", "width", "input_length", "noise_shape",
    "output_shape", "source_vocab_size", "target_vocab_size", "in_dims", "out_dims", "depth_radius",
    "batch_input_shape", "batch_shape", "input_shape", "shape", "batch_size",
})
_SHAPE_KEYS = frozenset({"batch_input_shape", "batch_shape", "input_shape", "shape"})


def _ints(value: Any, depth: int = 0) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 4:
        for v in value:
            yield from _ints(v, depth + 1)


def _check_config_limits(config: Any, where: str, layer: str | None = None, depth: int = 0) -> None:
    """ValueError naming `where` and the layer when a (loaded) configuration sizes a layer beyond
    MAX_LAYER_DIM or an input beyond MAX_INPUT_ELEMENTS: checked before anything is built."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"cannot load {where}: the model configuration nests more than {MAX_JSON_DEPTH} levels")
    if isinstance(config, (list, tuple)):
        for v in config:
            _check_config_limits(v, where, layer, depth + 1)
        return
    if not isinstance(config, dict):
        return
    inner = config.get("config")
    if depth == 0 and "class_name" not in config and "input_shape" in config:  # a build config
        inner, layer = config, "the build configuration"
    if "class_name" in config and isinstance(inner, dict) or inner is config:
        if inner is not config:
            name = inner.get("name")
            layer = (f"layer {name!r} ({config['class_name']})" if isinstance(name, str)
                     else f"layer {config['class_name']!r}")
        for key in _SIZE_KEYS.intersection(inner):
            value = inner[key]
            for v in _ints(value):
                if v > MAX_LAYER_DIM:
                    raise ValueError(
                        f"cannot load {where}: {layer} has {key}={value!r}, more than the limit of "
                        f"{MAX_LAYER_DIM} on a layer size (fastnn.saving.MAX_LAYER_DIM; raise it for a "
                        "legitimate model of that size)")
            if key in _SHAPE_KEYS and isinstance(value, (list, tuple)):
                dims = [v for v in value[1:] if isinstance(v, int) and not isinstance(v, bool) and v > 0]
                if key in ("input_shape", "shape") and inner is not config:  # a layer's: no batch axis
                    dims = [v for v in value if isinstance(v, int) and not isinstance(v, bool) and v > 0]
                if math.prod(dims) > MAX_INPUT_ELEMENTS:
                    raise ValueError(
                        f"cannot load {where}: {layer} has {key}={value!r}, {math.prod(dims)} values per "
                        f"sample, more than the limit of {MAX_INPUT_ELEMENTS} "
                        "(fastnn.saving.MAX_INPUT_ELEMENTS; raise it for a legitimate model of that size)")
    for v in config.values():
        if isinstance(v, (dict, list, tuple)):
            _check_config_limits(v, where, layer, depth + 1)


class _WeightBudget:
    """What a load may allocate: no weight larger than `largest` values, `total` values in all.
    For load_model these are the file's own tensors: every weight the model creates must match
    one of them in shape (or the load fails anyway), so a configuration that asks for more is
    rejected before the memory is allocated."""

    def __init__(self, where: str, total: int, largest: int, source: tuple[str, str, str]) -> None:
        self.where, self.total, self.largest, self.source = where, total, largest, source
        self.used = 0

    def charge(self, layer: Any, name: Any, shape: tuple[int, ...]) -> None:
        """Count a new weight of `shape` (standardized by Layer.add_weight) against the budget."""
        dims = shape
        size = math.prod(dims)
        what = (f"layer {getattr(layer, 'name', '?')!r} ({type(layer).__name__}) would create weight "
                f"{name!r} of shape {tuple(dims)} ({size} values)")
        if size > self.largest:
            raise ValueError(f"cannot load {self.where}: {what}, but {self.source[0].format(self.largest)} "
                             f"{self.source[2]}")
        self.used += size
        if self.used > self.total:
            raise ValueError(f"cannot load {self.where}: {what}, which brings the model to {self.used} values, but "
                             f"{self.source[1].format(self.total)} {self.source[2]}")


@contextlib.contextmanager
def _weight_budget(budget: _WeightBudget) -> Iterator[None]:
    """Within the block, layers built in this context allocate within `budget`; a RecursionError
    (a configuration nested too deeply for the builders) becomes a ValueError naming the file."""
    from .layers.base import WEIGHT_CHECK

    token = WEIGHT_CHECK.set(budget.charge)
    try:
        yield
    except RecursionError:
        raise ValueError(f"cannot load {budget.where}: the model configuration nests too deeply") from None
    finally:
        WEIGHT_CHECK.reset(token)


def _file_budget(path: str, named: list[tuple[str, np.ndarray]]) -> _WeightBudget:
    sizes = [int(a.size) for _, a in named]
    return _WeightBudget(repr(path), sum(sizes), max(sizes, default=0), _FILE_LIMITS)


_FILE_LIMITS = ("the file's largest tensor has {} values", "the file holds {} values in all",
                "(the configuration does not match the weights: crafted or corrupted?)")
_JSON_LIMITS = ("the limit is {} values (fastnn.saving.MAX_PARAMETERS_WITHOUT_FILE)",
                "the limit is {} values (fastnn.saving.MAX_PARAMETERS_WITHOUT_FILE)",
                "(raise it for a legitimate model of that size)")


# --------------------------------------------------------------------- model contract
def _model_name(model: Any) -> str:
    return f"model {getattr(model, 'name', type(model).__name__)!r}"


def _named_weights(model: Any) -> list[tuple[str, np.ndarray]]:
    out, seen = [], set()
    for i, v in enumerate(model.weights):
        name = getattr(v, "path", None) or getattr(v, "name", None) or f"weight_{i}"
        base, k = str(name), 1
        name = base
        while name in seen:
            name = f"{base}_{k}"
            k += 1
        seen.add(name)
        out.append((name, np.asarray(v.numpy() if hasattr(v, "numpy") else v)))
    return out


def _maybe_build(model: Any, build_config: Any) -> None:
    if len(model.weights) == 0 and build_config and hasattr(model, "build_from_config"):
        model.build_from_config(build_config)


def _assign(model: Any, named: list[tuple[str, np.ndarray]], path: str) -> None:
    weights = list(model.weights)
    if len(weights) != len(named):
        if not weights:
            raise ValueError(
                f"cannot load the weights in {path!r} into {_model_name(model)}: the model has no weights "
                "yet (it is not built); build it (call it on data or give its first layer an input "
                "shape) before loading"
            )
        raise ValueError(
            f"cannot load the weights in {path!r} into {_model_name(model)}: the file holds {len(named)} "
            f"weights but the model has {len(weights)}. File: {[(n, a.shape) for n, a in named]}; "
            f"model: {[(getattr(w, 'path', getattr(w, 'name', '?')), tuple(w.shape)) for w in weights]}"
        )
    for i, (w, (n, a)) in enumerate(zip(weights, named)):
        if tuple(w.shape) != tuple(a.shape):
            wn = getattr(w, "path", None) or getattr(w, "name", "?")
            raise ValueError(
                f"cannot load the weights in {path!r} into {_model_name(model)}: weight {i} is "
                f"{n!r} of shape {tuple(a.shape)} in the file but {wn!r} of shape {tuple(w.shape)} "
                "in the model (the architectures differ)"
            )
    model.set_weights([a for _, a in named])


def _optional(model: Any, method: str) -> Any:
    fn = getattr(model, method, None)
    return fn() if callable(fn) else None


def _optimizer_state(model: Any, taken: set) -> tuple[list[tuple[str, np.ndarray]], dict | None]:
    """The compiled optimizer's state as named arrays (the iteration count, then each slot of
    each variable) and the metadata that maps it back onto the model's weights; ([], None) when
    there is nothing to save."""
    opt = getattr(model, "optimizer", None)
    opt_vars = getattr(opt, "_vars", None)
    if opt is None or not opt_vars or not hasattr(opt, "get_weights"):
        return [], None
    weights = list(model.weights)
    position = {id(w): i for i, w in enumerate(weights)}
    indices = [position.get(id(v)) for v in opt_vars]
    if None in indices:
        warnings.warn(
            f"the optimizer of {_model_name(model)} also updates variables that are not the model's "
            "(is it shared with another model?): the model is saved without its optimizer state",
            stacklevel=3,
        )
        return [], None
    names = [n for n, _ in _named_weights(model)]
    arrays = opt.get_weights()
    slot_names = [list(slots) for slots in opt._slots]

    def unique(name: str) -> str:
        base, k = name, 1
        while name in taken:
            name = f"{base}_{k}"
            k += 1
        taken.add(name)
        return name

    out = [(unique("optimizer/iterations"), arrays[0])]
    flat = iter(arrays[1:])
    for i, slots in zip(indices, slot_names):
        for slot in slots:
            out.append((unique(f"optimizer/{names[i]}/{slot}"), next(flat)))
    info = {"tensors": [n for n, _ in out], "variables": indices, "slots": slot_names}
    return out, info


def _split_optimizer(named: list[tuple[str, np.ndarray]], meta: Any) -> tuple[list, list, dict | None]:
    """(the model's weights, the optimizer's arrays, their metadata) of a file's tensors."""
    info = meta.get("optimizer_state") if isinstance(meta, dict) else None
    if not isinstance(info, dict) or not isinstance(info.get("tensors"), list):
        return named, [], None
    opt_names = set(info["tensors"])
    by_name = dict(named)
    if not opt_names <= set(by_name):
        return named, [], None
    return ([(n, a) for n, a in named if n not in opt_names],
            [by_name[n] for n in info["tensors"]], info)


def _restore_optimizer(model: Any, arrays: list, info: dict, path: str) -> None:
    """Put the saved optimizer state into the freshly compiled optimizer of a loaded model."""
    opt = getattr(model, "optimizer", None)
    try:
        weights = list(model.weights)
        var_list = [weights[i] for i in info["variables"]]
        if opt is None:
            raise ValueError("the model has no optimizer after compiling")
        opt.build(var_list)
        opt.set_weights(arrays)
    except (ValueError, TypeError, IndexError, KeyError) as e:
        warnings.warn(f"the model in {path!r} was loaded and compiled but its optimizer state could not be "
                      f"restored ({e}): training starts from a fresh optimizer state", stacklevel=3)


def save_model(model: Any, path: PathLike, *, signing_key: bytes | str | None = None) -> None:
    """Save `model`'s architecture (``get_config``, as JSON) and weights to one file, atomically.

    Uses the model contract: ``type(model).from_config`` must rebuild it from
    ``model.get_config()``; ``model.weights`` are Variables with ``.name`` and ``.numpy()``.
    ``get_build_config()`` and ``get_compile_config()`` are stored when the model has them, and
    so is the state of a compiled model's optimizer (its iteration count and slots, as tensors
    named ``optimizer/...``): load_model then resumes training where it stopped.

    Args:
        model: the model.
        path: the file: an existing file keeps its permissions, a symbolic link is written
            through to its target, and the write is atomic (see atomic_write_bytes).
        signing_key: a secret (bytes, or a str used as UTF-8): the file also records an
            HMAC-SHA256 of its content made with it, for ``load_model(path, signing_key=...)``
            to tell a file of yours from a modified one.

    Example::

        save_model(model, "model.keras"); model = load_model("model.keras")
        save_model(model, "model.keras", signing_key=key)  # load_model(..., signing_key=key) checks it
    """
    meta = {
        "kind": "model",
        "model": serialize_object(model),
        "build_config": _optional(model, "get_build_config"),
        "compile_config": _optional(model, "get_compile_config"),
    }
    named = _named_weights(model)
    opt_named, opt_info = _optimizer_state(model, {n for n, _ in named})
    if opt_info is not None:
        meta["optimizer_state"] = opt_info
    _check_storable(meta["model"], _model_name(model))
    _dumps(meta, f"the configuration of {_model_name(model)}")  # fails before the disk is touched
    save_weights_file(path, named + opt_named, meta, signing_key=signing_key)


def load_model(path: PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True, *, signing_key: bytes | str | None = None) -> Any:
    """Rebuild a model saved by save_model: its class from the config (found by name in fastnn,
    the registry or custom_objects; nothing is imported or executed from the file), then its
    weights. With compile=True, a stored compile configuration is re-applied when the model has
    ``compile_from_config``, and a stored optimizer state is put into the new optimizer, so that
    training continues as if it had not stopped.

    The configuration is checked before anything is built: no layer size above MAX_LAYER_DIM,
    no input of more than MAX_INPUT_ELEMENTS values per sample, no JSON nested deeper than
    MAX_JSON_DEPTH; and while the model is built, no weight may be larger than the file's largest
    tensor nor all of them more than the file holds. A file that breaks these raises ValueError
    naming the file and the layer, before the memory is allocated.

    Args:
        path: the file.
        custom_objects: name -> class or function, for custom layers and Lambda functions.
        compile: re-compile from the stored compile configuration.
        safe_mode: accepted for Keras compatibility; loading is always safe.
        signing_key: the secret the file was saved with: ValueError unless the file is signed
            with it and unchanged since. Without it a signed file loads as any other.

    Example::

        model = load_model("model.keras", custom_objects={"my_fn": my_fn})
    """
    path = os.fspath(path)
    named, meta = load_weights_file(path, signing_key=signing_key)
    if not isinstance(meta, dict) or meta.get("kind") != "model":
        raise ValueError(
            f"{path!r} holds weights only (written by save_weights), not a model: build the model "
            "and call model.load_weights(path)"
        )
    named, opt_arrays, opt_info = _split_optimizer(named, meta)
    _check_config_limits(meta.get("model"), repr(path))
    _check_config_limits(meta.get("build_config"), repr(path))
    with _weight_budget(_file_budget(path, named)):
        model = deserialize_object(meta.get("model"), custom_objects)
        _maybe_build(model, meta.get("build_config"))
    _assign(model, named, path)
    cc = meta.get("compile_config")
    if compile and cc and hasattr(model, "compile_from_config"):
        try:
            with custom_object_scope(custom_objects):
                model.compile_from_config(cc)
        except Exception as e:  # the weights are loaded; compile again by hand
            warnings.warn(f"the model in {path!r} was loaded but could not be compiled again ({e}); "
                          "call model.compile(...)", stacklevel=2)
        else:
            if opt_info is not None:
                _restore_optimizer(model, opt_arrays, opt_info, path)
    return model


def save_weights(model: Any, path: PathLike, *, signing_key: bytes | str | None = None) -> None:
    """Save `model.weights` (in order, with their names) to a safetensors file, atomically (an
    existing file keeps its permissions; a symbolic link is written through).

    Args:
        signing_key: a secret: the file also records an HMAC-SHA256 of its content made with it
            (verified by ``load_weights(model, path, signing_key=...)``).

    Example::

        save_weights(model, "model.weights.safetensors")
    """
    meta = {"kind": "weights", "class_name": type(model).__name__,
            "build_config": _optional(model, "get_build_config")}
    save_weights_file(path, _named_weights(model), meta, signing_key=signing_key)


def load_weights(model: Any, path: PathLike, *, signing_key: bytes | str | None = None) -> None:
    """Load weights saved by save_weights (or the weights of a save_model file) into `model`,
    position by position; ValueError when their number or shapes differ from the model's.

    Args:
        signing_key: the secret the file was saved with: ValueError unless it is signed with it
            and unchanged since.

    Example::

        load_weights(model, "model.weights.safetensors")
    """
    path = os.fspath(path)
    named, meta = load_weights_file(path, signing_key=signing_key)
    named = _split_optimizer(named, meta)[0]  # a model file's optimizer state is not the model's
    if isinstance(meta, dict):
        _check_config_limits(meta.get("build_config"), repr(path))
        with _weight_budget(_file_budget(path, named)):
            _maybe_build(model, meta.get("build_config"))
    _assign(model, named, path)


def to_json(model: Any, **kwargs) -> str:
    """The model's architecture as a JSON string (no weights); json.dumps's kwargs apply.

    Example::

        model2 = model_from_json(to_json(model))
    """
    d = serialize_object(model)
    _check_storable(d, _model_name(model))
    d["fastnn_version"] = _version()
    try:
        return json.dumps(d, default=_json_default, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"the configuration of {_model_name(model)} is not JSON-serializable: {e}") from None


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """A new (untrained) model from to_json's output.

    Example::

        model2 = model_from_json(model.to_json())
    """
    try:
        text = json_string.decode("utf-8") if isinstance(json_string, (bytes, bytearray)) else json_string
        depth = _json_depth(text)
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"model_from_json: the JSON nests {depth} levels deep, more than the limit of "
                             f"{MAX_JSON_DEPTH} (fastnn.saving.MAX_JSON_DEPTH)")
        config = json.loads(text)
    except (TypeError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"model_from_json: not valid JSON ({e})") from None
    where = "the model JSON"
    _check_config_limits(config, where)
    budget = _WeightBudget(where, MAX_PARAMETERS_WITHOUT_FILE, MAX_PARAMETERS_WITHOUT_FILE, _JSON_LIMITS)
    with _weight_budget(budget):
        return deserialize_object(config, custom_objects)
