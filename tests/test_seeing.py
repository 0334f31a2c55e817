"""Seeing the derivative: the notebook display (`_repr_html_`), `srcad.explain` (and `srcad
explain`), and `srcad.graph`, on the README's examples, a loop and a model; srcad itself
imports without Pygments, networkx and matplotlib."""

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import srcad
from srcad import cli, display

from .support.readme_functions import network, rnn_loss, square

# ---- the notebook display ----

def test_html_puts_each_line_beside_what_it_produced():
    page = srcad.grad(network, wrt=(0, 1))._repr_html_()
    rows = page.split("<tr")[2:]                  # after the header row
    text = [_plain(row) for row in rows]
    assert "def network(x, W):" in text[0] and "def grad_network_wrt_x_W(x, W):" in text[0]
    tanh_row = next(row for row in text if "h = np.tanh(W @ x)" in row)
    assert "d_matmul = dh * (1.0 - h * h)" in tanh_row           # its derivative lines
    assert "dW = matmul_adjoint_left(d_matmul, W, x)" in tanh_row
    assert "unreduce" not in tanh_row                            # the sum's, on its own row
    assert "unreduce(d_sum, _mul)" in next(row for row in text if "np.sum(h * h)" in row)
    assert "color:" in page or "color: " in page                 # highlighted
    assert page.count("<table") == 1


def test_html_of_forward_mode_and_of_calls_to_user_functions():
    page = srcad.jvp(square)._repr_html_()
    assert "dy = 2 * x * dx" in _plain(page) and "&#8630; grad" not in page
    page = srcad.grad(rnn_loss, wrt=(0, 1, 2))._repr_html_()
    assert "_stack.append" in _plain(page)


def test_html_grouping_reads_the_origin_comments():
    header, groups = display.grouped(srcad.source(srcad.grad(square)))
    assert header == ["def grad_square(x):"]
    (line, (values, derivative)), = groups.items()
    assert [v.strip() for v in values] == ["y = x * x", "dy = grad_seed(y)"]
    assert [d.strip() for d in derivative] == ["dx = 2 * x * dy", "return dx"]


def _plain(html):
    """The text of an HTML fragment (tags removed, entities decoded)."""
    import html as html_module
    import re
    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


# ---- explain ----

def test_explain_the_readme_network():
    x, W = np.ones(3), np.full((2, 3), 0.1)
    report = srcad.explain(network, x, W, wrt="W")
    text = str(report)
    assert report.error is None
    assert text.startswith("explain: grad of network with respect to W, for x[3 float64], "
                           "W[2x3 float64]")
    assert "_matmul = W @ x\n      differentiated: depends on W" in text
    assert "rule: operator @: adjoint rule arithmetic.matmul" in text
    assert "rule: np.tanh: adjoint rule elementwise.tanh" in text
    assert ("_mul = h * h\n      differentiated: depends on h\n      rule: operator *: adjoint "
            "rule arithmetic.square") in text                    # the variant of `x * x`
    # the sum's value is not computed (README: only its derivative, 1, is needed)
    assert "_sum = np.sum(_mul)" in text and "not needed by the derivative" in text
    assert "rejected: nothing" in text
    forward = str(srcad.explain(network, x, W, mode="forward"))
    assert "tangent rule elementwise.tanh" in forward and "generic code" in forward


def test_explain_constants_and_what_made_them_so():
    def f(x, k):
        n = np.argmax(x)
        s = k * 2.0
        y = x * s
        return np.sum(y) + n

    text = str(srcad.explain(f, np.arange(3.0), 2.0))
    assert "constant: numpy.argmax has no derivative" in text
    assert ("s = k * 2.0\n      constant: computed only from k, which are not differentiated"
            in text)
    assert "y = x * s\n      differentiated: depends on x" in text


def test_explain_what_was_specialized_away():
    def f(x):
        if np.ndim(x) == 1:
            y = x * 2.0
        else:
            y = np.sum(x, axis=0)
        return np.sum(y)

    text = str(srcad.explain(f, np.ones(3)))
    assert "y = np.sum(x, axis=0)\n      specialized away" in text
    assert "y = x * 2.0\n      differentiated" in text
    matrix = str(srcad.explain(f, np.ones((2, 3))))
    assert "y = x * 2.0\n      specialized away" in matrix


@pytest.mark.parametrize("steps, hidden, inputs", [(5, 4, 3), (20, 32, 16)])
def test_explain_measures_what_a_loop_stores(steps, hidden, inputs):
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((hidden, hidden)), rng.standard_normal((hidden, inputs)),
            rng.standard_normal(hidden), rng.standard_normal((steps, inputs)))
    text = str(srcad.explain(rnn_loss, *args, wrt=(0, 1, 2)))
    assert "reverse mode stores, per trip of this loop:" in text
    h = 8 * hidden                                # float64 bytes of h
    assert f"h (in h_stack): {h} bytes per trip, {h * steps} bytes over {steps} trips" in text
    assert "_item_stack" not in text                          # xs[t]: computed again
    assert ("reverse mode computes again in each reversed trip, instead of storing: "
            "_item = xs[t]") in text
    assert f"in all: {h * steps} bytes at these shapes (views not counted)" in text


def test_explain_a_model():
    model = srcad.nn.Sequential(srcad.nn.Linear(3, 4), srcad.nn.Tanh(), srcad.nn.Linear(4, 1))

    def loss(model, X, y):
        return np.mean((model(X)[:, 0] - y) ** 2)

    text = str(srcad.explain(loss, model, np.ones((5, 3)), np.zeros(5), wrt="model"))
    assert "model: a Sequential model" in text
    # the layers' forwards are inlined: their lines are explained where they are
    assert ("line 174 of Tanh.forward: return np.tanh(x)\n    _tanh = np.tanh(x_1)\n"
            "      differentiated: depends on x_1\n      rule: np.tanh: adjoint rule "
            "elementwise.tanh") in text
    assert "line 56 of Linear.forward: return x @ self.weight.T + self.bias" in text
    assert "_item = x_3[:, 0]\n      differentiated: depends on x_3" in text
    assert "rejected: nothing" in text


def test_explain_reports_what_was_rejected():
    def f(x):
        try:
            y = x * 2.0
        finally:
            pass
        return y

    report = srcad.explain(f, 1.0)
    assert report.error is not None
    assert "\nrejected: " in str(report) and "try" in str(report).split("\nrejected: ")[1]

    def g(x):
        unused = np.random.normal(loc=x)  # noqa: F841  (drawn, never used)
        return x * 2.0

    text = str(srcad.explain(g, 1.0))
    assert "rejected if differentiated, line" in text and "np.random.normal(loc=x)" in text


def test_explain_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent("""
        import numpy as np

        def xent(W, X, labels):
            z = X @ W
            logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
            return -np.sum(logp[np.arange(X.shape[0]), labels])
    """))
    status = cli.main(["explain", f"{path}:xent", "--shapes", "W=3x4,X=5x3,labels=5:int4"])
    out = capsys.readouterr().out
    assert status == 0
    assert "labels[5 int64]" in out and "_arange = np.arange(X.shape[0])" in out
    assert "constant: numpy.arange has no derivative" in out


# ---- the graph ----

def test_graph_of_the_readme_network_has_values_and_adjoints(tmp_path):
    x, W = np.array([0.5, -1.0, 2.0]), np.full((2, 3), 0.1)
    drawn = srcad.graph(network, x, W, wrt="W", path=tmp_path / "network.svg")
    assert set(drawn.nodes) == {"x", "W", "_matmul", "h", "_mul", "_sum"}
    assert ("W", "_matmul") in drawn.edges and ("_mul", "_sum") in drawn.edges
    h = np.tanh(W @ x)
    nodes = drawn.nodes
    np.testing.assert_allclose(nodes["h"].value, h)
    np.testing.assert_allclose(nodes["_sum"].value, np.sum(h * h))
    np.testing.assert_allclose(nodes["h"].adjoint, 2 * h)                 # d sum(h*h) / dh
    np.testing.assert_allclose(nodes["W"].adjoint, np.outer(2 * h * (1 - h * h), x))
    assert nodes["_sum"].kind == "output" and nodes["_sum"].adjoint == 1.0
    svg = ElementTree.parse(tmp_path / "network.svg").getroot()
    assert svg.tag.endswith("svg")
    assert drawn._repr_png_().startswith(b"\x89PNG")


def test_graph_of_a_loop_and_of_calls():
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((4, 4)), rng.standard_normal((4, 3)), rng.standard_normal(4),
            rng.standard_normal((5, 3)))
    drawn = srcad.graph(rnn_loss, *args, wrt=(0, 1, 2))
    grads = srcad.grad(rnn_loss, wrt=(0, 1, 2))(*args)
    np.testing.assert_allclose(drawn.nodes["Wh"].adjoint, grads[0])
    np.testing.assert_allclose(drawn.nodes["b"].adjoint, grads[2])
    assert drawn.nodes["_sum"].value == pytest.approx(rnn_loss(*args))


def test_graph_of_a_model():
    model = srcad.nn.Sequential(srcad.nn.Linear(3, 4), srcad.nn.Tanh(), srcad.nn.Linear(4, 1))

    def loss(model, X, y):
        return np.mean((model(X)[:, 0] - y) ** 2)

    X, y = np.random.default_rng(2).standard_normal((5, 3)), np.zeros(5)
    drawn = srcad.graph(loss, model, X, y, wrt="model")
    # the layers' forwards are inlined: the graph shows each layer's operations
    assert ("model", "_weight") in drawn.edges and ("X", "x") in drawn.edges
    assert ("x_2", "_matmul_1") in drawn.edges         # the tanh's output into the last layer
    np.testing.assert_allclose(drawn.nodes["x_3"].value, model(X))
    expected = srcad.grad(loss, wrt="model")(model, X, y)
    adjoint = drawn.nodes["model"].adjoint
    assert sorted(adjoint) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(adjoint[name], expected[name])
    np.testing.assert_allclose(drawn.nodes["x_3"].adjoint, 2 * (model(X) - y[:, None]) / 5)


def test_srcad_imports_without_the_optional_display_packages(tmp_path):
    code = textwrap.dedent("""
        import sys
        for name in ("pygments", "networkx", "matplotlib"):
            sys.modules[name] = None                   # import fails
        import numpy as np, srcad
        def f(x):
            return x * x
        assert srcad.grad(f)(3.0) == 6.0
        for call in (lambda: srcad.grad(f)._repr_html_(), lambda: srcad.graph(f, 1.0)):
            try:
                call()
            except ImportError as exc:
                print(exc)
    """)
    (tmp_path / "probe.py").write_text(code)
    result = subprocess.run([sys.executable, str(tmp_path / "probe.py")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "needs Pygments: pip install pygments" in lines[0]
    assert "needs networkx and matplotlib" in lines[1]
