"""Smoke test: every example runs to the end in quick mode (SRCAD_EXAMPLE_QUICK=1), prints
what it shows, and writes the plots it says it saved. examples/benchmark.py has its own test."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SKIP = {"benchmark.py", "dask_benchmark.py"}      # run by hand (README: the figures)
NEEDS = {"sklearn": "scikit-learn", "matplotlib": "matplotlib"}
NEEDS_GPU = {"gpu_benchmark.py"}        # run by hand on a machine with CuPy and a GPU


def examples():
    return sorted(p for p in EXAMPLES.glob("*.py") if p.name not in SKIP)


@pytest.mark.parametrize("path", examples(), ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    source = path.read_text()
    if path.name in NEEDS_GPU and not _gpu_available():     # says so, and exits 0
        result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "needs CuPy and an NVIDIA GPU" in result.stdout and not result.stderr
        return
    for module, package in NEEDS.items():
        if re.search(rf"^\s*(import|from) {module}\b", source, re.M) and \
                importlib.util.find_spec(module) is None:
            pytest.skip(f"{path.name} needs {package}: pip install '.[examples]'")
    env = dict(os.environ, SRCAD_EXAMPLE_QUICK="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    assert len(result.stdout.splitlines()) >= 5
    for saved in re.findall(r"saved to (\S+\.png)", result.stdout):
        assert (tmp_path / saved).stat().st_size > 1000, f"{path.name}: {saved} is missing"


def _gpu_available():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:                           # not installed, or no driver/device
        return False


HELP = """
import contextlib, io, runpy, sys
for path in sys.argv[1:]:
    sys.argv = [path, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as exc:
            assert exc.code == 0, (path, exc.code)
        else:
            raise AssertionError(f"{path} ran instead of printing its usage")
    assert out.getvalue().startswith("usage: "), (path, out.getvalue()[:200])
    print(path, "ok")
"""


def test_every_example_takes_help(tmp_path):
    """`--help` prints the usage and exits 0 without running the example (one interpreter)."""
    paths = [str(p) for p in sorted(EXAMPLES.glob("*.py"))]
    result = subprocess.run([sys.executable, "-c", HELP, *paths], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(" ok\n") == len(paths)


def test_every_example_has_a_docstring_and_a_main_guard():
    for path in examples():
        source = path.read_text()
        assert source.startswith('"""'), path.name
        assert 'if __name__ == "__main__":' in source, path.name
