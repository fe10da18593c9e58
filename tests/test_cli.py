import argparse
import os
import subprocess
import sys

import fastnn
import pytest
from fastnn import cli


def test_info_reports_build_simd_threads_and_cuda():
    d = cli.info()
    assert d["fastnn"] == fastnn.__version__ and d["fastnn"]
    assert d["SIMD in use"] in ("avx512", "avx2", "generic")
    assert d["threads"] == fastnn.get_num_threads()
    assert d["CUDA available"] == fastnn.cuda.is_available()


def test_python_m_fastnn_info():
    out = subprocess.run([sys.executable, "-m", "fastnn", "info"], capture_output=True, text=True, check=True).stdout
    for key in ("fastnn:", "build type:", "SIMD in use:", "threads:", "CUDA built:", "CUDA available:"):
        assert key in out


def test_forced_isa_is_reported():
    env = {**os.environ, "FASTNN_ISA": "generic"}
    out = subprocess.run([sys.executable, "-m", "fastnn", "info"], capture_output=True, text=True, check=True,
                         env=env).stdout
    assert "SIMD in use:     generic" in out


# ---------------------------------------------------------------------------- help texts and the program name
def _env():
    root = os.path.dirname(os.path.dirname(fastnn.__file__))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=120, **kw)


def test_help_is_plain_text_with_examples_and_names_both_commands():
    p = _run([sys.executable, "-m", "fastnn", "--help"])
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("usage: python -m fastnn ")
    assert "``" not in out and ":func:" not in out  # no reStructuredText
    assert "examples:" in out and "python -m fastnn bench gemm --quick" in out and "python -m fastnn demo" in out
    assert "'fastnn COMMAND'" in out and "console command" in out
    for command in ("info", "demo", "bench"):
        assert f"    {command} " in out
    assert 'pip install "fastnn[test]"' in out
    assert _run([sys.executable, "-m", "fastnn"]).stdout == out  # no command: the same help


def test_console_command_prog_name(tmp_path):
    # the script pip writes for [project.scripts] fastnn = "fastnn.cli:main"
    script = tmp_path / "fastnn"
    script.write_text("import sys\nfrom fastnn.cli import main\nsys.exit(main())\n")
    out = _run([sys.executable, str(script), "--help"]).stdout
    assert out.startswith("usage: fastnn [-h]") and "  fastnn bench gemm --quick" in out
    assert "python -m fastnn bench gemm" not in out
    demo = _run([sys.executable, str(script), "demo", "-h"]).stdout
    assert demo.startswith("usage: fastnn demo ")
    bench = _run([sys.executable, str(script), "bench"]).stdout
    assert bench.startswith("usage: fastnn bench SUITE")
    gemm = _run([sys.executable, str(script), "bench", "gemm", "-h"]).stdout
    assert gemm.startswith("usage: fastnn bench gemm ")


def test_prog_name():
    assert cli.prog_name("/venv/bin/fastnn") == "fastnn"
    assert cli.prog_name("fastnn.exe") == "fastnn" and cli.prog_name("fastnn-script.py") == "fastnn"
    assert cli.prog_name(os.path.join("site-packages", "fastnn", "__main__.py")) == "python -m fastnn"
    assert cli.prog_name("") == "python -m fastnn"


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_argument_and_command_has_help():
    from fastnn import bench

    parsers = list(_parsers(cli.build_parser()))
    parsers += [bench._suite_parser(None)] + [bench._suite_parser(s) for s in bench.SUITES.values()]
    for parser in parsers:
        assert parser.prog.startswith("python -m fastnn")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(c.help for c in action._choices_actions), parser.prog
            else:
                assert action.help and action.help != argparse.SUPPRESS, (parser.prog, action.option_strings)


def test_demo_epochs_help_and_check(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--help"], prog="fastnn")
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: fastnn demo [-h] [--epochs N]") and "passes over the training images" in out
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--epochs", "0"])
    assert e.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == f"fastnn {fastnn.__version__}"


# ---------------------------------------------------------------------------- bench without its peers
# sys.modules[name] = None makes `import name` fail as if the package were not installed.
BLOCK = "import sys\nfor m in {mods!r}: sys.modules[m] = None\nimport runpy\nsys.argv = ['fastnn'] + {argv!r}\n" \
        "runpy.run_module('fastnn', run_name='__main__', alter_sys=True)\n"


def test_bench_without_torch_says_which_peers_are_skipped():
    argv = ["bench", "mlp", "--quick", "--threads", "1", "--rounds", "2", "--target", "0.002", "--retries", "0",
            "--batch", "8"]
    p = _run([sys.executable, "-c", BLOCK.format(mods=["torch"], argv=argv)])
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stdout.splitlines() if "not installed" in line]
    assert len(lines) == 1, p.stdout
    assert "torch (no torch timings)" in lines[0] and 'pip install "fastnn[test]"' in lines[0]
    assert "pip install torch" in lines[0]
    assert "| fastnn train" in p.stdout and "torch train" not in p.stdout


def test_bench_listing_names_the_missing_peers():
    p = _run([sys.executable, "-c", BLOCK.format(mods=["torch", "sklearn", "threadpoolctl"], argv=["bench"])])
    assert p.returncode == 0, p.stderr
    (line,) = [line for line in p.stdout.splitlines() if "not installed" in line]
    for peer in ("torch (", "threadpoolctl (", "scikit-learn (the sklearn suite is skipped)"):
        assert peer in line
    assert 'pip install "fastnn[test]" (or pip install torch threadpoolctl scikit-learn)' in line


def test_missing_peers_in_process(monkeypatch):
    from fastnn import bench

    monkeypatch.setitem(sys.modules, "sklearn", None)
    suites = [bench.SUITES["sklearn"], bench.SUITES["mlp"]]
    missing = bench.missing_peers(suites)
    assert missing["scikit-learn"] == ["the sklearn suite is skipped"]
    line = bench.missing_peers_line({"scikit-learn": missing["scikit-learn"]})
    assert line == ("peers not installed, so skipped: scikit-learn (the sklearn suite is skipped). "
                    'Install them with: pip install "fastnn[test]" (or pip install scikit-learn)')
    assert bench.missing_peers_line({}) is None
    assert bench.peer_installed("numpy") and not bench.peer_installed("no_such_package_fastnn")
