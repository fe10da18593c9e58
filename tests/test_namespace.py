"""The public namespace of fastnn: an explicit __all__, no implementation helpers in dir(), and
the subpackages that need optional packages (or take time) imported only when first touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import fastnn
import pytest

LAZY = ("applications", "bench", "cli", "demo", "seq2seq", "sklearn")

# Helpers that used to show in dir(fastnn); each still lives where its users import it from.
REMOVED = {
    "MALLOC_MMAP_THRESHOLD": "fastnn._MALLOC_MMAP_THRESHOLD",
    "MALLOC_TRIM_THRESHOLD": "fastnn._MALLOC_TRIM_THRESHOLD",
    "getitem": "fastnn.functional.getitem",
    "setitem_": "fastnn.functional.setitem_",
    "to_device": "fastnn.functional.to_device",
    "EPSILON": "fastnn.functional.losses.EPSILON",
    "conv_output_length": "fastnn.functional.conv.conv_output_length",
    "conv_padding": "fastnn.functional.conv.conv_padding",
    "conv_transpose_output_length": "fastnn.functional.conv.conv_transpose_output_length",
}


def _env():
    root = os.path.dirname(os.path.dirname(fastnn.__file__))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def _python(code: str) -> str:
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    obj = fastnn
    for part in module.split(".")[1:]:
        obj = getattr(obj, part)
    return getattr(obj, name)


def test_all_is_sorted_unique_and_resolves():
    assert fastnn.__all__ == sorted(set(fastnn.__all__))
    for name in fastnn.__all__:
        assert not name.startswith("_")
        assert getattr(fastnn, name) is not None, name


def test_dir_is_the_public_names():
    names = dir(fastnn)
    assert names == sorted(names)
    assert set(names) == set(fastnn.__all__) | set(LAZY) | {"__version__"}
    for name in REMOVED:
        assert name not in names and not hasattr(fastnn, name), name
    for name in ("creation", "variables", "symbolic", "importlib", "os"):  # implementation modules
        assert name not in names


def test_removed_names_still_reach_their_users():
    assert isinstance(fastnn._MALLOC_MMAP_THRESHOLD, int) and isinstance(fastnn._MALLOC_TRIM_THRESHOLD, int)
    for dotted in REMOVED.values():
        assert _resolve(dotted) is not None, dotted
    x = fastnn.arange(6).reshape(2, 3)
    assert x[1].tolist() == [3, 4, 5]  # Tensor.__getitem__ -> functional.getitem
    x[0] = 7.0  # Tensor.__setitem__ -> functional.setitem_
    assert x.tolist() == [[7, 7, 7], [3, 4, 5]]
    assert x.to("cpu") is x or x.to("cpu").tolist() == x.tolist()  # Tensor.to -> functional.to_device


def test_public_api_kept():
    assert isinstance(fastnn.malloc_tuned, bool)  # documented (README: memory)
    for name in ("Tensor", "Variable", "Function", "no_grad", "tensor", "randn", "matmul", "relu", "softmax",
                 "get_num_threads", "set_num_threads", "layers", "models", "optimizers", "losses", "metrics",
                 "callbacks", "datasets", "preprocessing", "functional", "cuda", "random", "utils", "saving"):
        assert name in fastnn.__all__, name
    assert isinstance(fastnn.tensor([1.0]), fastnn.Tensor)  # the function, not the module fastnn.tensor


def test_star_import_binds_only_all():
    ns: dict = {}
    exec("from fastnn import *", ns)
    names = {n for n in ns if n != "__builtins__"}
    assert names == set(fastnn.__all__)
    assert not names & set(LAZY)  # `from fastnn import *` never imports scikit-learn


@pytest.mark.parametrize("name", LAZY)
def test_lazy_subpackage_resolves(name):
    if name == "sklearn":
        pytest.importorskip("sklearn")
    mod = getattr(fastnn, name)
    assert isinstance(mod, types.ModuleType) and mod.__name__ == f"fastnn.{name}"
    assert mod is sys.modules[f"fastnn.{name}"] and fastnn.__dict__[name] is mod  # bound: no second lookup


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nosuch'"):
        fastnn.nosuch  # noqa: B018
    assert not hasattr(fastnn, "nosuch")


def test_import_fastnn_imports_no_optional_package_and_no_lazy_subpackage():
    watched = ["torch", "sklearn", "matplotlib", "threadpoolctl"] + [f"fastnn.{n}" for n in LAZY]
    out = _python(f"import sys, json, fastnn; print(json.dumps([m for m in {watched!r} if m in sys.modules]))")
    assert json.loads(out) == []


def test_lazy_subpackages_import_when_touched():
    code = ("import sys, json, fastnn\n"
            "before = 'fastnn.applications' in sys.modules\n"
            "model = fastnn.applications.LeNet5\n"
            "s2s = fastnn.seq2seq\n"
            "print(json.dumps([before, 'fastnn.applications' in sys.modules, 'fastnn.seq2seq' in sys.modules,\n"
            "                  'fastnn.bench' in sys.modules, 'torch' in sys.modules, callable(model)]))\n")
    assert json.loads(_python(code)) == [False, True, True, False, False, True]


def test_sklearn_attribute_without_scikit_learn_says_how_to_install():
    code = ("import sys\nsys.modules['sklearn'] = None\nimport fastnn\n"
            "try:\n    fastnn.sklearn\nexcept AttributeError as e:\n    print('attribute:', e)\n"
            "try:\n    import fastnn.sklearn\nexcept ImportError as e:\n    print('import:', e)\n")
    out = _python(code)
    assert 'attribute: fastnn.sklearn is unavailable: fastnn.sklearn needs scikit-learn' in out
    assert 'import: fastnn.sklearn needs scikit-learn, which is not installed: pip install "fastnn[sklearn]"' in out


def test_introspection_works_without_scikit_learn():
    # hasattr, help() and inspect.getmembers walk dir(fastnn): a lazy subpackage whose optional
    # dependency is missing must answer AttributeError there, not ImportError
    code = ("import sys, inspect, pydoc\nsys.modules['sklearn'] = None\nimport fastnn\n"
            "text = pydoc.render_doc(fastnn)\n"
            "members = dict(inspect.getmembers(fastnn))\n"
            "print(hasattr(fastnn, 'sklearn'), 'sklearn' in members, 'applications' in members, len(text) > 1000)\n")
    assert _python(code).split() == ["False", "False", "True", "True"]
