"""Golden tests: the exact generated source of a few functions, in both modes.

The expected text lives in tests/golden/<function>.<kind>.txt. To accept a deliberate change,
run `SRCAD_UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff.
"""

import os
import pathlib

import pytest

import srcad
from tests.support import golden_functions as g

HERE = pathlib.Path(__file__).parent / "golden"
CASES = [
    (g.square, "jvp", 0), (g.square, "grad", 0),
    (g.network, "grad", (0, 1)), (g.network, "jvp", 0), (g.network, "vjp", 1),
    (g.branch, "grad", 0), (g.branch, "jvp", 0),
    (g.broadcast_rows, "vjp", (0, 1)), (g.broadcast_rows, "jvp", (0, 1)),
    (g.unpack_and_select, "vjp", (0, 1)), (g.unpack_and_select, "jvp", 1),
    (g.rnn, "grad", (0, 1)), (g.rnn, "vjp", 2), (g.rnn, "jvp", (0, 1)),
    (g.two_layers, "grad", (0, 1)), (g.two_layers, "jvp", 2),
]


@pytest.mark.parametrize("func, kind, wrt", CASES, ids=lambda v: getattr(v, "__name__", None))
def test_generated_source(func, kind, wrt):
    text = srcad.source(getattr(srcad, kind)(func, wrt=wrt))
    path = HERE / f"{func.__name__}.{kind}.txt"
    if os.environ.get("SRCAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_source_specialized_to_shapes():
    """Code for arguments of known shapes: no unbroadcast where shapes match, bias gradients
    as sums over known axes, matmul adjoints as NumPy, no array of ones for the mean."""
    import numpy as np
    args = (np.ones((3, 4)), np.ones(4), np.ones((5, 3)), np.ones((5, 4)))
    text = srcad.source(srcad.grad(g.softmax_regression, wrt=(0, 1)), *args)
    path = HERE / "softmax_regression.grad.shapes.txt"
    if os.environ.get("SRCAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_forward_square_is_the_textbook_line():
    assert "dy = 2 * x * dx" in srcad.source(srcad.jvp(g.square))


def test_source_is_byte_identical_across_processes():
    """No hash-order or id dependence: two interpreters with different hash seeds agree."""
    import subprocess
    import sys

    script = ("import srcad; from tests.support import golden_functions as g; "
              "print(srcad.source(srcad.vjp(g.unpack_and_select, wrt=(0, 1))), end='')")
    root = pathlib.Path(__file__).parent.parent
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=root, check=True,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1
    assert outputs.pop() == (HERE / "unpack_and_select.vjp.txt").read_text()
