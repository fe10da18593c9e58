"""fastnn.saving against careless or hostile files (issue 13, "Files" and "Limits"): a save keeps
the file's mode, writes through symbolic links, leaves no temporary files (and cleans up those of
killed saves); a crafted configuration cannot make load_model allocate what the file does not
hold; deeply nested JSON is a ValueError naming the file; the optional HMAC signature."""

import copy
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest
from fastnn import layers, models
from fastnn import saving as S
from safetensors.numpy import save as st_save

KEY = b"team secret"


def small_model(units=2, seed=0):
    m = models.Sequential([layers.Input((3,), name="inp"), layers.Dense(units, name="dense")])
    rng = np.random.default_rng(seed)
    m.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in m.weights])
    return m


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def temp_files(directory):
    return [n for n in os.listdir(directory) if S.TEMP_MARK in n or n.endswith(".tmp")]


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after)."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_mask(mask):
        os.umask(mask)

    yield set_mask
    os.umask(saved)


# --------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("how", ["save", "save_weights"])
def test_resave_keeps_a_private_mode(tmp_path, how):
    p = tmp_path / ("m.keras" if how == "save" else "m.weights.safetensors")
    getattr(small_model(), how)(p)
    os.chmod(p, 0o600)
    getattr(small_model(seed=1), how)(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    os.chmod(p, 0o640)
    getattr(small_model(seed=2), how)(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    small_model().save(tmp_path / "m.keras")
    small_model().save_weights(tmp_path / "w.safetensors")
    for name in ("m.keras", "w.safetensors"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~mask


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_read_only_file_is_not_replaced(tmp_path, monkeypatch):
    p = tmp_path / "m.keras"
    small_model().save(p)
    before = p.read_bytes()
    os.chmod(p, 0o444)
    if os.geteuid() == 0:  # root may write any file: answer as for anyone else
        monkeypatch.setattr(S.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match="read-only"):
        small_model(seed=1).save(p)
    assert p.read_bytes() == before and temp_files(tmp_path) == []


# ------------------------------------------------------------------------ symbolic links
@pytest.mark.parametrize("relative", [False, True])
def test_save_writes_through_a_symlink(tmp_path, relative):
    store = tmp_path / "store"
    store.mkdir()
    target = store / "model-v1.keras"
    small_model().save(target)
    link = tmp_path / "current.keras"
    os.symlink(os.path.relpath(target, tmp_path) if relative else target, link)
    os.chmod(target, 0o600)
    with open(target, "rb") as old:  # atomic: a reader of the old file keeps the old bytes
        old_bytes = old.read()
        old.seek(0)
        new = small_model(seed=1)
        new.save(link)
        assert old.read() == old_bytes
    assert os.path.islink(link) and os.path.realpath(link) == os.path.realpath(target)
    assert target.read_bytes() != old_bytes
    assert same_weights(models.load_model(target), new)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert temp_files(tmp_path) == [] and temp_files(store) == []
    new.save_weights(link)  # weights too
    assert os.path.islink(link)


def test_a_chain_of_links_is_followed(tmp_path):
    target = tmp_path / "real.keras"
    os.symlink(target, tmp_path / "a.keras")
    os.symlink(tmp_path / "a.keras", tmp_path / "b.keras")
    small_model().save(target)
    m = small_model(seed=3)
    m.save(tmp_path / "b.keras")
    assert os.path.islink(tmp_path / "a.keras") and os.path.islink(tmp_path / "b.keras")
    assert same_weights(models.load_model(target), m)


def test_a_dangling_symlink_creates_its_target(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "sub" / "model.keras"
    (tmp_path / "sub").mkdir()
    link = tmp_path / "model.keras"
    os.symlink(target, link)
    m = small_model()
    m.save(link)  # as open(link, "w") would: the target is created, the link stays
    assert os.path.islink(link) and target.is_file()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert same_weights(models.load_model(link), m)


def test_a_dangling_symlink_into_a_missing_directory_says_so(tmp_path):
    link = tmp_path / "model.keras"
    os.symlink(tmp_path / "nowhere" / "model.keras", link)
    with pytest.raises(FileNotFoundError, match="a link to"):
        small_model().save(link)
    assert os.path.islink(link)


def test_a_symlink_loop_is_an_error(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(OSError, match="loop"):
        small_model().save(tmp_path / "a")


# ----------------------------------------------------------------------- temporary files
def test_no_temporary_file_is_left_after_an_exception(tmp_path, monkeypatch):
    p = tmp_path / "m.keras"
    small_model().save(p)
    before = p.read_bytes()

    def fail(f, data):
        f.write(data[:100])
        raise RuntimeError("interrupted")

    monkeypatch.setattr(S, "_write_chunks", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        small_model(seed=1).save(p)
    monkeypatch.undo()

    def fail_replace(src, dst):
        raise OSError("replace failed")

    monkeypatch.setattr(S.os, "replace", fail_replace)
    with pytest.raises(OSError, match="replace failed"):
        small_model(seed=1).save_weights(p)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["m.keras"] and p.read_bytes() == before
    assert not S._ACTIVE_TEMPS


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_temp(directory, base, pid, age_s, rand="0123456789abcdef"):
    path = directory / f".{base}{S.TEMP_MARK}{pid}-{rand}"
    path.write_bytes(b"x" * 100)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_stale_temporary_files_are_cleaned_up_by_the_next_save(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = dead_pid()
        stale_dead = make_temp(tmp_path, "m.keras", gone, 120, "a" * 16)  # killed save, a while ago
        fresh_dead = make_temp(tmp_path, "m.keras", gone, 0, "b" * 16)  # maybe another machine's save
        live = make_temp(tmp_path, "m.keras", sleeper.pid, 120, "c" * 16)  # a live process's save
        ancient_live = make_temp(tmp_path, "m.keras", sleeper.pid, 7 * 3600, "d" * 16)  # pid reused
        other_name = make_temp(tmp_path, "other.keras", gone, 120, "e" * 16)  # same directory
        legacy = tmp_path / ".m.keras.ab12cd_3.tmp"  # an older version's mkstemp name
        legacy.write_bytes(b"x")
        os.utime(legacy, (time.time() - 7 * 3600,) * 2)
        mine = tmp_path / "notes.fastnn-tmp-1-abcdefab"  # not hidden: not ours
        mine.write_bytes(b"keep")
        small_model().save(tmp_path / "m.keras")
        assert not stale_dead.exists() and not ancient_live.exists() and not other_name.exists()
        assert not legacy.exists()
        assert fresh_dead.exists() and live.exists() and mine.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path, monkeypatch):
    """A real kill -9 of a process in the middle of writing a 64 MB model."""
    target = tmp_path / "big.keras"
    small_model().save(target)
    before = target.read_bytes()
    ready = tmp_path / "ready"
    child = textwrap.dedent(f"""
        import os, sys, time
        import numpy as np
        from fastnn import saving as S
        def slow(f, data):
            f.write(data[: len(data) // 2]); f.flush()
            open({str(ready)!r}, "w").close()
            time.sleep(120)
        S._write_chunks = slow
        S.save_weights_file({str(target)!r}, [("w", np.ones((16, 1 << 20), np.float32))])
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", child], env=env)
    try:
        deadline = time.time() + 60
        while not ready.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the child did not start its save"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    ready.unlink()
    leftovers = temp_files(tmp_path)
    assert len(leftovers) == 1 and f"{S.TEMP_MARK}{proc.pid}-" in leftovers[0]
    assert os.path.getsize(tmp_path / leftovers[0]) >= 32 << 20
    assert target.read_bytes() == before  # the killed save did not touch the file
    monkeypatch.setattr(S, "_STALE_GRACE_S", 0.0)  # else only once a minute has passed
    small_model().save(target)
    assert temp_files(tmp_path) == []


def test_a_concurrent_save_keeps_its_temporary_file(tmp_path, monkeypatch):
    """Another thread's save in the same directory (same pid) must not remove a live one."""
    monkeypatch.setattr(S, "_STALE_GRACE_S", 0.0)
    writing, release = threading.Event(), threading.Event()
    real = S._write_chunks

    def blocking(f, data):
        if threading.current_thread().name == "slow":
            f.write(data[:10])
            writing.set()
            release.wait(30)
            f.seek(0)
        real(f, data)

    monkeypatch.setattr(S, "_write_chunks", blocking)
    slow_model, errors = small_model(seed=5), []

    def run():
        try:
            slow_model.save(tmp_path / "slow.keras")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=run, name="slow")
    t.start()
    assert writing.wait(30)
    small_model().save(tmp_path / "fast.keras")  # cleans the directory: must spare "slow"'s file
    assert len(temp_files(tmp_path)) == 1
    release.set()
    t.join(30)
    assert not errors and temp_files(tmp_path) == []
    assert same_weights(models.load_model(tmp_path / "slow.keras"), slow_model)


def test_a_long_file_name_still_saves(tmp_path):
    p = tmp_path / ("m" * 240 + ".keras")
    small_model().save(p)
    assert models.load_model(p) is not None and temp_files(tmp_path) == []


# ----------------------------------------------------------------------- HMAC signature
def test_signed_model_round_trip(tmp_path):
    m = small_model()
    m.save(tmp_path / "m.keras", signing_key=KEY)
    assert same_weights(models.load_model(tmp_path / "m.keras", signing_key=KEY), m)
    assert same_weights(models.load_model(tmp_path / "m.keras"), m)  # no key: still loads
    assert same_weights(S.load_model(tmp_path / "m.keras", signing_key=KEY.decode()), m)  # str = UTF-8
    m.save_weights(tmp_path / "w.safetensors", signing_key=KEY)
    other = small_model(seed=9)
    other.load_weights(tmp_path / "w.safetensors", signing_key=KEY)
    assert same_weights(other, m)


def test_a_wrong_key_is_rejected(tmp_path):
    p = tmp_path / "m.keras"
    small_model().save(p, signing_key=KEY)
    with pytest.raises(ValueError, match=r"m\.keras.*signature does not match"):
        models.load_model(p, signing_key=b"another key")
    with pytest.raises(ValueError, match="signature does not match"):
        small_model().load_weights(p, signing_key=b"another key")


def test_an_unsigned_file_is_rejected_when_a_key_is_given(tmp_path):
    p = tmp_path / "m.keras"
    small_model().save(p)
    with pytest.raises(ValueError, match=r"m\.keras.*not signed"):
        models.load_model(p, signing_key=KEY)
    with pytest.raises(ValueError, match="not signed"):
        S.load_weights_file(p, signing_key=KEY)


def rewrite(path, edit_meta=None, edit_arrays=None, keep_checksum=False):
    """What an attacker can do: change the content and write a well-formed file (with a correct
    SHA-256, unless keep_checksum) without knowing the key."""
    from safetensors.numpy import load_file

    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header_meta = json.loads(raw[8 : 8 + n])["__metadata__"]
    arrays = load_file(path)
    if edit_arrays:
        edit_arrays(arrays)
    if edit_meta:
        edit_meta(header_meta)
    if not keep_checksum:
        order = json.loads(header_meta["order"])
        header_meta["sha256"] = S._checksum(order, arrays, header_meta["order"], header_meta["metadata"])
    path.write_bytes(st_save(arrays, metadata=header_meta))


def test_a_tampered_signed_file_is_detected(tmp_path):
    p = tmp_path / "m.keras"
    small_model().save(p, signing_key=KEY)

    def poison(arrays):
        arrays["dense/kernel"] = arrays["dense/kernel"] + np.float32(1)

    rewrite(p, edit_arrays=poison)
    models.load_model(p)  # the checksum was recomputed: without the key it loads
    with pytest.raises(ValueError, match="modified after it was signed"):
        models.load_model(p, signing_key=KEY)


def test_a_flipped_byte_is_detected_with_and_without_the_key(tmp_path):
    p = tmp_path / "m.keras"
    small_model().save(p, signing_key=KEY)
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 0x10  # in the tensor data
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="signature does not match"):
        models.load_model(p, signing_key=KEY)
    with pytest.raises(ValueError, match="checksum mismatch"):
        models.load_model(p)


def test_a_removed_signature_is_detected(tmp_path):
    p = tmp_path / "m.keras"
    small_model().save(p, signing_key=KEY)
    rewrite(p, edit_meta=lambda meta: meta.pop(S.SIGNATURE_KEY), keep_checksum=True)
    models.load_model(p)
    with pytest.raises(ValueError, match="not signed"):
        models.load_model(p, signing_key=KEY)


def test_signing_key_types(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        small_model().save(tmp_path / "m.keras", signing_key=b"")
    with pytest.raises(TypeError, match="signing_key"):
        small_model().save(tmp_path / "m.keras", signing_key=1234)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------- backward compatibility
def old_format_file(path, named, meta):
    """A file as fastnn wrote it before the signature (format version 1), checksum computed
    independently of fastnn.saving."""
    order = [n for n, _ in named]
    order_json, meta_json = json.dumps(order), json.dumps(meta, sort_keys=True)
    h = hashlib.sha256(b"fastnn-safetensors-v1\0")
    for n, a in named:
        h.update(n.encode() + b"\0" + a.dtype.str.encode() + b"\0" + repr(tuple(a.shape)).encode() + b"\0")
        h.update(a.tobytes(order="C"))
    h.update(b"\0order\0" + order_json.encode())
    h.update(b"\0metadata\0" + meta_json.encode())
    header = {"format": "fastnn", "format_version": "1", "fastnn_version": "0.0", "order": order_json,
              "metadata": meta_json, "sha256": h.hexdigest()}
    path.write_bytes(st_save(dict(named), metadata=header))


def test_files_of_the_existing_format_still_load(tmp_path):
    m = small_model()
    named = [(w.path, w.numpy()) for w in m.weights]
    meta = {"kind": "model", "model": S.serialize_object(m), "build_config": None, "compile_config": None}
    old_format_file(tmp_path / "old.keras", named, meta)
    assert same_weights(models.load_model(tmp_path / "old.keras"), m)
    with pytest.raises(ValueError, match="not signed"):
        models.load_model(tmp_path / "old.keras", signing_key=KEY)
    # and what fastnn writes now is the same bytes but for the version string
    m.save(tmp_path / "new.keras")
    arrays, new_meta = S.load_weights_file(tmp_path / "new.keras")
    assert [n for n, _ in arrays] == [n for n, _ in named] and new_meta == json.loads(json.dumps(meta))


def test_a_signed_file_keeps_the_format(tmp_path):
    """A reader that knows nothing of signatures sees an ordinary version-1 file."""
    p = tmp_path / "m.keras"
    small_model().save(p, signing_key=KEY)
    raw = p.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]
    assert header["format_version"] == "1" and len(header[S.SIGNATURE_KEY]) == 64
    assert set(header) == {"format", "format_version", "fastnn_version", "order", "metadata", "sha256",
                           S.SIGNATURE_KEY}


# -------------------------------------------------------------------- crafted configurations
def crafted(tmp_path, edit, name="crafted.keras"):
    """A small model file whose configuration `edit` changes; its checksum is made valid."""
    src = tmp_path / "src.keras"
    small_model().save(src)
    named, meta = S.load_weights_file(src)
    meta = copy.deepcopy(meta)
    edit(meta["model"]["config"]["layers"])
    S.save_weights_file(tmp_path / name, named, meta)
    return tmp_path / name


def load_bounded(path):
    """load_model's error, its time and the peak of what was allocated meanwhile."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(ValueError) as info:
            models.load_model(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return str(info.value), time.perf_counter() - t, peak


def test_dense_units_2_31_is_rejected_before_allocating(tmp_path):
    def edit(lys):
        lys[1]["config"]["units"] = 2**31

    p = crafted(tmp_path, edit)
    assert os.path.getsize(p) < 5000
    msg, seconds, peak = load_bounded(p)
    assert "crafted.keras" in msg and "'dense'" in msg and "units=2147483648" in msg
    assert seconds < 2 and peak < 50 << 20


def test_a_config_within_the_size_limit_cannot_outgrow_the_file(tmp_path):
    def edit(lys):  # each size allowed alone, a 16 GiB kernel together
        lys[0]["config"]["batch_shape"] = [None, 4096]
        lys[1]["config"]["units"] = 2**20

    msg, seconds, peak = load_bounded(crafted(tmp_path, edit))
    assert "crafted.keras" in msg and "layer 'dense' (Dense)" in msg and "(4096, 1048576)" in msg
    assert "largest tensor" in msg and seconds < 2 and peak < 50 << 20


def test_many_layers_cannot_outgrow_the_file(tmp_path):
    def edit(lys):  # each kernel as large as the file's largest tensor, 200 of them
        dense = lys[1]
        lys[1:] = []
        for i in range(200):
            c = copy.deepcopy(dense)
            c["config"]["name"] = f"d{i}"
            c["config"]["units"] = 2
            lys.append(c)

    msg, _, _ = load_bounded(crafted(tmp_path, edit))
    assert "crafted.keras" in msg and "values in all" in msg


def test_a_huge_input_is_rejected(tmp_path):
    def edit(lys):
        lys[0]["config"]["batch_shape"] = [None, 2**14, 2**14, 3]

    msg, seconds, _ = load_bounded(crafted(tmp_path, edit))
    assert "crafted.keras" in msg and "'inp' (InputLayer)" in msg and "per sample" in msg and seconds < 2


def test_a_huge_build_input_shape_is_rejected(tmp_path):
    m = models.Sequential([layers.Dense(2, name="dense")])
    m.build((None, 3))
    m.save_weights(tmp_path / "w.safetensors")
    named, meta = S.load_weights_file(tmp_path / "w.safetensors")
    meta["build_config"] = {"input_shape": [None, 2**20, 2**10]}
    S.save_weights_file(tmp_path / "w.safetensors", named, meta)
    with pytest.raises(ValueError, match=r"w\.safetensors.*build configuration.*per sample"):
        models.Sequential([layers.Dense(2)]).load_weights(tmp_path / "w.safetensors")
    meta["build_config"] = {"input_shape": [None, 2**20]}  # within the limits, not within the file
    S.save_weights_file(tmp_path / "w.safetensors", named, meta)
    with pytest.raises(ValueError, match=r"w\.safetensors.*\(1048576, 2\).*largest tensor"):
        models.Sequential([layers.Dense(2)]).load_weights(tmp_path / "w.safetensors")


def test_model_from_json_is_bounded_too():
    m = small_model()
    config = json.loads(m.to_json())
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 2**15]
    config["config"]["layers"][1]["config"]["units"] = 2**16  # 2**31 parameters
    with pytest.raises(ValueError, match="MAX_PARAMETERS_WITHOUT_FILE"):
        models.model_from_json(json.dumps(config))
    config["config"]["layers"][1]["config"]["units"] = 2**31
    with pytest.raises(ValueError, match="MAX_LAYER_DIM"):
        models.model_from_json(json.dumps(config))


def test_legitimate_models_still_load(tmp_path):
    inp = layers.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    inner = models.Sequential([layers.Input((256,)), layers.Dense(5), layers.Dense(2)])
    out = inner(x)
    m = models.Model(inp, out)
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.ones((4, 8, 8, 3), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    m.save(tmp_path / "m.keras", signing_key=KEY)
    again = models.load_model(tmp_path / "m.keras", signing_key=KEY)
    assert same_weights(again, m)
    rnn = models.Sequential([layers.Input((5, 3)), layers.Bidirectional(layers.LSTM(4)), layers.Dense(1)])
    rnn.save(tmp_path / "rnn.keras")
    assert same_weights(models.load_model(tmp_path / "rnn.keras"), rnn)
    assert models.model_from_json(m.to_json()) is not None


# ----------------------------------------------------------------------------- nesting
def test_deeply_nested_metadata_names_the_file(tmp_path):
    p = tmp_path / "deep.keras"
    named = [("w", np.zeros(2, np.float32))]
    order_json = json.dumps(["w"])
    meta_json = "[" * 100_000 + "]" * 100_000
    header = {"format": "fastnn", "format_version": "1", "fastnn_version": "x", "order": order_json,
              "metadata": meta_json, "sha256": S._checksum(["w"], dict(named), order_json, meta_json)}
    p.write_bytes(st_save(dict(named), metadata=header))
    for load in (S.load_weights_file, models.load_model):
        with pytest.raises(ValueError, match=r"deep\.keras.*nests 100000 levels"):
            load(p)


def test_a_deeply_nested_header_names_the_file(tmp_path):
    p = tmp_path / "deep-header.keras"
    body = ('{"__metadata__": {"format": "fastnn"}, "x": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()
    p.write_bytes(len(body).to_bytes(8, "little") + body)
    with pytest.raises(ValueError, match=r"deep-header\.keras.*nests 50001 levels"):
        models.load_model(p)


def test_a_deep_but_legal_nesting_loads(tmp_path):
    """Nested models nest their JSON; a few levels are far from the limit."""
    m = small_model()
    for _ in range(4):
        m = models.Sequential([layers.Input((3,)), m])
    m.save(tmp_path / "nested.keras")
    _, meta = S.load_weights_file(tmp_path / "nested.keras")
    assert S._json_depth(json.dumps(meta)) < S.MAX_JSON_DEPTH
    assert same_weights(models.load_model(tmp_path / "nested.keras"), m)


def test_json_depth_ignores_brackets_in_strings():
    assert S._json_depth('{"a": "[[[[{{", "b": [1, {"c": "\\"]]"}]}') == 3
    assert S._json_depth("12") == 0 and S._json_depth("[]") == 1
