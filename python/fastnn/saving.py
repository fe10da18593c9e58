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
  the ``order`` and ``metadata`` strings; verified on every load.

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

Example::

    fastnn.saving.save_model(model, "clf.keras")           # what model.save does
    model2 = fastnn.saving.load_model("clf.keras")
    fastnn.saving.save_weights(model, "clf.weights.safetensors")
    fastnn.saving.load_weights(model2, "clf.weights.safetensors")
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import tempfile
import threading
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


def _version() -> str:
    from . import _C

    return str(getattr(_C, "__version__", "unknown"))


# ----------------------------------------------------------------------- atomic writes
def _write_chunks(f, data: memoryview) -> None:
    """Write `data` to `f` in chunks (a separate function so tests can interrupt it)."""
    for i in range(0, len(data), _CHUNK):
        f.write(data[i : i + _CHUNK])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory and os.replace:
    readers see the old file or the new one, never a partial one."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: the directory {directory!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, memoryview(data))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


# ----------------------------------------------------------------------------- checksum
def _checksum(order: Sequence[str], arrays: dict, order_json: str, meta_json: str) -> str:
    h = hashlib.sha256()
    h.update(b"fastnn-safetensors-v1\0")
    for name in order:
        a = arrays[name]
        h.update(name.encode("utf-8") + b"\0" + a.dtype.str.encode() + b"\0" + repr(tuple(a.shape)).encode() + b"\0")
        h.update(a.tobytes(order="C"))
    h.update(b"\0order\0" + order_json.encode("utf-8"))
    h.update(b"\0metadata\0" + meta_json.encode("utf-8"))
    return h.hexdigest()


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
                      metadata: dict | None = None) -> None:
    """Write named arrays and a JSON-serializable metadata dict to a safetensors file, with a
    SHA-256 checksum, atomically.

    Args:
        path: the file to write (replaced atomically if it exists).
        named_arrays: (name, array) pairs, in the order load_weights_file returns them; names
            must be unique.
        metadata: any JSON-serializable dict (returned by load_weights_file).

    Example::

        save_weights_file("w.safetensors", [("dense/kernel", k), ("dense/bias", b)], {"note": "x"})
    """
    from safetensors.numpy import save as st_save

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
    atomic_write_bytes(path, st_save(arrays, metadata=header_meta))


def _corrupt(path: str, why: str) -> ValueError:
    return ValueError(f"cannot load {path!r}: {why}")


def load_weights_file(path: PathLike) -> tuple[list[tuple[str, np.ndarray]], dict]:
    """Read a file written by save_weights_file: ([(name, array), ...] in saved order, metadata).

    Raises ValueError naming the file when it is truncated, corrupted, not a fastnn file (a
    pickle, an HDF5 file, a safetensors file without fastnn's checksum), or when the checksum
    does not match; FileNotFoundError when it does not exist.

    Example::

        arrays, meta = load_weights_file("w.safetensors")
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

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
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f"the file header is corrupted ({e})") from None
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
    try:
        order = json.loads(meta["order"])
        user_meta = json.loads(meta["metadata"])
        expected = meta["sha256"]
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f"the fastnn metadata is corrupted ({e})") from None
    if not isinstance(order, list) or sorted(order) != sorted(arrays):
        raise _corrupt(path, "the file is corrupted: its tensor list does not match its tensors")
    got = _checksum(order, arrays, meta["order"], meta["metadata"])
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


def save_model(model: Any, path: PathLike) -> None:
    """Save `model`'s architecture (``get_config``, as JSON) and weights to one file, atomically.

    Uses the model contract: ``type(model).from_config`` must rebuild it from
    ``model.get_config()``; ``model.weights`` are Variables with ``.name`` and ``.numpy()``.
    ``get_build_config()`` and ``get_compile_config()`` are stored when the model has them, and
    so is the state of a compiled model's optimizer (its iteration count and slots, as tensors
    named ``optimizer/...``): load_model then resumes training where it stopped.

    Example::

        save_model(model, "model.keras"); model = load_model("model.keras")
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
    save_weights_file(path, named + opt_named, meta)


def load_model(path: PathLike, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Rebuild a model saved by save_model: its class from the config (found by name in fastnn,
    the registry or custom_objects; nothing is imported or executed from the file), then its
    weights. With compile=True, a stored compile configuration is re-applied when the model has
    ``compile_from_config``, and a stored optimizer state is put into the new optimizer, so that
    training continues as if it had not stopped.

    Args:
        path: the file.
        custom_objects: name -> class or function, for custom layers and Lambda functions.
        compile: re-compile from the stored compile configuration.
        safe_mode: accepted for Keras compatibility; loading is always safe.

    Example::

        model = load_model("model.keras", custom_objects={"my_fn": my_fn})
    """
    path = os.fspath(path)
    named, meta = load_weights_file(path)
    if not isinstance(meta, dict) or meta.get("kind") != "model":
        raise ValueError(
            f"{path!r} holds weights only (written by save_weights), not a model: build the model "
            "and call model.load_weights(path)"
        )
    named, opt_arrays, opt_info = _split_optimizer(named, meta)
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


def save_weights(model: Any, path: PathLike) -> None:
    """Save `model.weights` (in order, with their names) to a safetensors file, atomically.

    Example::

        save_weights(model, "model.weights.safetensors")
    """
    meta = {"kind": "weights", "class_name": type(model).__name__,
            "build_config": _optional(model, "get_build_config")}
    save_weights_file(path, _named_weights(model), meta)


def load_weights(model: Any, path: PathLike) -> None:
    """Load weights saved by save_weights (or the weights of a save_model file) into `model`,
    position by position; ValueError when their number or shapes differ from the model's.

    Example::

        load_weights(model, "model.weights.safetensors")
    """
    path = os.fspath(path)
    named, meta = load_weights_file(path)
    named = _split_optimizer(named, meta)[0]  # a model file's optimizer state is not the model's
    if isinstance(meta, dict):
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
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"model_from_json: not valid JSON ({e})") from None
    return deserialize_object(config, custom_objects)
