"""Golden tests: the exact generated source of a few functions, in both modes.

The expected text lives in tests/golden/<function>.<kind>.txt. To accept a deliberate change,
run `SRCAD_UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff.
"""

import os
import pathlib
import re

import pytest

import srcad
from tests.support import golden_functions as g
from tests.support import golden_models

HERE = pathlib.Path(__file__).parent / "golden"
CASES = [
    (g.square, "jvp", 0), (g.square, "grad", 0),
    (g.network, "grad", (0, 1)), (g.network, "jvp", 0), (g.network, "vjp", 1),
    (g.branch, "grad", 0), (g.branch, "jvp", 0),
    (g.broadcast_rows, "vjp", (0, 1)), (g.broadcast_rows, "jvp", (0, 1)),
    (g.unpack_and_select, "vjp", (0, 1)), (g.unpack_and_select, "jvp", 1),
    (g.rnn, "grad", (0, 1)), (g.rnn, "vjp", 2), (g.rnn, "jvp", (0, 1)),
    (g.two_layers, "grad", (0, 1)), (g.two_layers, "jvp", 2),
    (g.relu_layer, "jvp", 1), (g.clipped, "jvp", (0, 1)), (g.means, "jvp", 0),
]


@pytest.mark.parametrize("func, kind, wrt", CASES, ids=lambda v: getattr(v, "__name__", None))
def test_generated_source(func, kind, wrt):
    """(A run-time check names the user's file: compared relative to the checkout, its call
    joined into one line, since the path's length decides where a long line wraps.)"""
    text = srcad.source(getattr(srcad, kind)(func, wrt=wrt))
    text = text.replace(f"'{HERE.parent.parent}/", "'")
    path = HERE / f"{func.__name__}.{kind}.txt"
    if os.environ.get("SRCAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert _joined(text) == _joined(path.read_text())


def _joined(text):
    """`text` with each line that continues after a comma joined to the line it continues."""
    return re.sub(r",[ \t]*\n\s+", ", ", text)


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


def _example(name):
    """Arguments of the shapes the readable forms are pinned at."""
    import numpy as np
    rng = np.random.default_rng(0)
    return {"relu_layer": (rng.standard_normal((4, 3)), rng.standard_normal(3)),
            "clipped": (rng.standard_normal((5, 2)), rng.standard_normal(2)),
            "means": (rng.standard_normal((7, 4)),),
            "batched": (rng.standard_normal((5, 3)), rng.standard_normal((3, 2))),
            "classifier_loss": (golden_models.Classifier(), rng.standard_normal((5, 3)),
                                np.array([0, 1, 1, 0, 1]))}[name]


# the forms that read as written by hand, in the generic code and in the code for the example
# arguments' shapes: a ReLU's mask `x > 0` (np.maximum against a number) and the readable tie
# form of two arrays; sizes as `1.0 / x.shape[0]`, `1.0 / x.size`, `len(x)`; a setting
# (`np.ndim(x) == 1`, a model's `input.ndim == 1`) that specializing decides leaves nothing
READABLE = [
    (g.relu_layer, "grad", (0, 1)), (g.clipped, "grad", (0, 1)), (g.means, "grad", 0),
    (g.batched, "grad", (0, 1)), (golden_models.classifier_loss, "grad", "model"),
]


@pytest.mark.parametrize("func, kind, wrt", READABLE, ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("form", ["generic", "shapes"])
def test_readable_forms(func, kind, wrt, form):
    derivative = getattr(srcad, kind)(func, wrt=wrt)
    text = srcad.source(derivative, *_example(func.__name__), generic=form == "generic")
    path = HERE / f"{func.__name__}.{kind}{'' if form == 'generic' else '.shapes'}.txt"
    if os.environ.get("SRCAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def _by_autograd(name):
    """The functions of READABLE written for autograd (an independent derivative)."""
    import autograd.numpy as anp
    return {
        "relu_layer": lambda W, x: anp.sum(anp.maximum(W @ x, 0.0) ** 2),
        "clipped": lambda x, y: anp.sum(anp.maximum(x, y) * anp.minimum(1.0, x)),
        "means": lambda x: (anp.sum(anp.mean(x, axis=0) ** 2) + anp.mean(x) + anp.var(x)
                            + anp.sum(x) / len(x)),
        "batched": lambda x, W: anp.sum(anp.tanh(x @ W)),
    }[name]


@pytest.mark.parametrize("func, kind, wrt", READABLE[:-1], ids=lambda v: getattr(v, "__name__",
                                                                               None))
def test_readable_forms_compute_the_derivative(func, kind, wrt):
    """The pinned specialized code is the code that runs for those shapes, and its gradient
    agrees with autograd's and with central finite differences (the example points are away
    from the kinks: no ties)."""
    import autograd
    import numpy as np

    from srcad.testing import check_grads
    args = _example(func.__name__)
    derivative = getattr(srcad, kind)(func, wrt=wrt)
    got = derivative(*args)
    assert srcad.source(derivative) == (HERE / f"{func.__name__}.{kind}.shapes.txt").read_text()
    expected = autograd.grad(_by_autograd(func.__name__), wrt)(*args)
    for g_, e in zip(got if isinstance(wrt, tuple) else [got],
                     expected if isinstance(wrt, tuple) else [expected]):
        np.testing.assert_allclose(g_, e, rtol=1e-10, atol=1e-12)
    check_grads(func, args, wrt=wrt)


def test_readable_model_form_computes_the_derivative():
    """The model's specialized gradient against central finite differences of its loss."""
    import numpy as np
    model, x, target = _example("classifier_loss")
    derivative = srcad.grad(golden_models.classifier_loss, wrt="model")
    grads = derivative(model, x, target)
    assert srcad.source(derivative) == (HERE / "classifier_loss.grad.shapes.txt").read_text()
    for name, param in model.named_parameters():
        expected = np.zeros_like(param.data)
        for i in np.ndindex(param.data.shape):
            saved = param.data[i]
            values = []
            for step in (1e-6, -1e-6):
                param.data[i] = saved + step
                values.append(golden_models.classifier_loss(model, x, target))
            param.data[i] = saved
            expected[i] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(grads[name], expected, rtol=1e-6, atol=1e-8, err_msg=name)


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
