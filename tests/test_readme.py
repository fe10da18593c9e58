"""README.md's code runs as pasted: every ```python block in a fresh interpreter (in an empty
folder, so that whatever it writes lands there), and the `python -m fastnn` / `fastnn` lines of
the ```bash blocks that need no network and no build."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def _blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block of `language` in README.md."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    out = []
    for m in re.finditer(r"^```" + language + r"\n(.*?)^```", text, re.S | re.M):
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


PYTHON_BLOCKS = _blocks("python")
# Commands of the bash blocks that run here as they are: fastnn's own command line (the benchmarks
# take minutes and are tested in test_bench.py / test_cli.py).
FASTNN_COMMANDS = [
    (line, cmd.strip())
    for line, block in _blocks("bash")
    for cmd in re.split(r"&&|\n", block)
    if re.match(r"\s*(python -m fastnn|fastnn)\s+(info|demo|--help)", cmd)
]


def test_readme_has_code():
    assert len(PYTHON_BLOCKS) >= 2 and FASTNN_COMMANDS


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")


@pytest.mark.parametrize("line,code", PYTHON_BLOCKS, ids=[f"README.md:{n}" for n, _ in PYTHON_BLOCKS])
def test_python_block_runs_as_pasted(line, code, tmp_path):
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"README.md line {line}:\n{code}\n--- stderr:\n{p.stderr[-3000:]}"


@pytest.mark.parametrize("line,command", FASTNN_COMMANDS, ids=[f"README.md:{n}" for n, _ in FASTNN_COMMANDS])
def test_fastnn_command_runs(line, command, tmp_path):
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    elif shutil.which("fastnn") is None:
        pytest.skip("the fastnn console command is not on PATH (fastnn not pip-installed here)")
    if "demo" in argv and "--epochs" not in argv:
        argv += ["--epochs", "2"]  # the demo's full run is tested in test_examples.py
    p = subprocess.run(argv, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"README.md line {line}: {command}\n{p.stderr[-3000:]}"
    assert p.stdout.strip()
