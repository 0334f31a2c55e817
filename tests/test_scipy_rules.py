"""SciPy's rules beyond the per-rule cases (tests/support/cases/scipy_rules.py): second order,
the calls they refuse, a loss written with them, and srcad without SciPy."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from scipy import linalg, special

import srcad
from srcad.testing import check_grads

ROOT = str(pathlib.Path(__file__).resolve().parent.parent)
RNG = np.random.default_rng(5)
X = RNG.standard_normal((3, 4))
LABELS = np.eye(4)[[0, 2, 3]]


def cross_entropy(w):
    logits = X @ w
    return -np.sum(LABELS * special.log_softmax(logits, axis=1)) + special.logsumexp(w)


def smooth_mix(x):
    return np.sum(special.expit(x) * special.gammaln(x * x + 1.0) + special.xlogy(x, x * x + 1.0)
                  + special.erf(x) * special.digamma(x * x + 1.0))


def triangular(a):
    x = linalg.solve_triangular(np.tril(a) + 3.0 * np.eye(3), np.arange(1.0, 4.0), lower=True)
    return np.sum(x * x) + np.sum(special.softmax(a, axis=0) * a)


@pytest.mark.parametrize("f, shape", [(cross_entropy, (4, 4)), (smooth_mix, (5,)),
                                      (triangular, (3, 3))])
def test_second_order(f, shape):
    w = RNG.uniform(-0.5, 0.5, shape)
    check_grads(f, (w,), order=2)
    v = RNG.standard_normal(shape)
    H = srcad.hessian(f)(w).reshape(w.size, w.size)
    np.testing.assert_allclose(srcad.hvp(f)(w, v).ravel(), H @ v.ravel(), rtol=1e-8, atol=1e-10)


def test_a_loss_with_logsumexp_matches_the_analytic_gradient():
    w = RNG.standard_normal((4, 4))
    logits = X @ w
    p = np.exp(logits - special.logsumexp(logits, axis=1, keepdims=True))
    expected = X.T @ (p * LABELS.sum(axis=1, keepdims=True) - LABELS) + special.softmax(w)
    np.testing.assert_allclose(srcad.grad(cross_entropy)(w), expected, rtol=1e-10)


def logsumexp_with_sign(x):
    value, sign = special.logsumexp(x, return_sign=True)
    return value


def cholesky_factor(c, b):
    return np.sum(linalg.cho_solve((c, True), b))


def test_calls_the_rules_do_not_cover_are_errors_at_the_line():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="return_sign") as info:
        srcad.grad(logsumexp_with_sign)(np.ones(3))
    assert "special.logsumexp(x, return_sign=True)" in info.value.location.text
    with pytest.raises(srcad.MissingRuleError, match="c_and_lower") as info:
        srcad.grad(cholesky_factor)(np.eye(3), np.ones(3))
    assert "cho_solve((c, True), b)" in info.value.location.text


def test_srcad_works_without_scipy(tmp_path):
    script = ("import sys; sys.modules['scipy'] = None\n"
              "import numpy as np, srcad\n"
              "def f(x):\n    return np.sum(np.tanh(x) ** 2)\n"
              "print(srcad.grad(f)(np.ones(2))[0])\n"
              "print(any(k.startswith('scipy') for k in sys.modules if sys.modules[k]))\n")
    (tmp_path / "no_scipy.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "no_scipy.py")], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": ROOT})
    first, second = out.stdout.split()
    assert abs(float(first) - 2 * np.tanh(1.0) * (1 - np.tanh(1.0) ** 2)) < 1e-12
    assert second == "False"
