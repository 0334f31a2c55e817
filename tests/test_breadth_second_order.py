"""Second derivatives through the rules added for NumPy's breadth (templates/rearrange.py,
decompositions.py, products.py, nan_reductions.py, elementwise.py): their adjoints call helpers
(placed, gathered, undiff, power_tangent, kron_adjoint_*) whose own rules let srcad
differentiate generated code again. Forward over reverse and reverse over reverse are checked
against central differences of srcad's gradient, and hvp against the Hessian."""

import numpy as np
import pytest

import srcad
from srcad.testing import check_grads

RNG = np.random.default_rng(7)
SPREAD = np.diag([1.0, 2.5, 4.0])
INDEX = np.array([[0, 2], [1, 1], [2, 0]])


def moves(x):
    t = np.tril(x) + np.rot90(x) + np.roll(x, 1, axis=0)
    r = np.repeat(t, [1, 2, 0], axis=0) + np.take(t, [2, 0, 1], axis=0)[:3]
    p = np.pad(r, 1, mode="reflect")
    return np.sum(np.sin(p) * np.diff(p, axis=1).sum()) + np.sum(np.cumprod(x * x + 1.0, axis=1))


def products(x):
    k = np.kron(x, x[:2, :2])
    c = np.cross(x, x[::-1])
    return np.sum(np.tanh(k)) + np.sum(c * c) + np.vdot(x, np.flipud(x))


def decompositions(x):
    a = x + x.T + 2.0 * SPREAD
    w, v = np.linalg.eigh(a)
    s = np.linalg.svd(a + x)[1]
    q, r = np.linalg.qr(a)
    return (np.sum(w * w) + np.sum(v * v * w) + np.sum(s ** 3) + np.sum(r * r)
            + np.sum(np.linalg.matrix_power(a / 4.0, 3)) + np.sum(np.linalg.pinv(a)))


def elementwise(x):
    return np.sum(np.arcsinh(x) * np.logaddexp2(x, 0.5 * x) + np.sinc(x) + np.fmax(x, 0.1)
                  + np.cbrt(x * x + 1.0) + np.remainder(x, 0.7) * x)


def nan_aware(x):
    y = np.where(np.abs(x) > 1.5, np.nan, x)
    return np.nansum(y * y) + np.nanmean(np.exp(y), axis=0).sum() + np.nanmax(y)


@pytest.mark.parametrize("f", [moves, products, decompositions, elementwise, nan_aware])
def test_second_order(f):
    x = RNG.uniform(-1.0, 1.0, (3, 3))
    check_grads(f, (x,), order=2)
    v = RNG.standard_normal((3, 3))
    H = srcad.hessian(f)(x).reshape(9, 9)
    np.testing.assert_allclose(srcad.hvp(f)(x, v).ravel(), H @ v.ravel(), rtol=1e-8,
                               atol=1e-10)
