"""Higher order: generated code is Python, so srcad differentiates it again.

grad of grad (scalars), forward-over-reverse Hessian-vector products, Jacobians (forward and
reverse, on vectors) and Hessians, each against an analytic result and finite differences.
"""

import ast

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from tests.support import glm

values = st.floats(-1.5, 1.5, allow_nan=False, width=64)


def cube_plus(x):
    return x * x * x + np.tanh(x)


@given(values)
def test_grad_of_grad_of_grad(x):
    t = np.tanh(x)
    assert srcad.grad(srcad.grad(cube_plus))(x) == pytest.approx(6 * x - 2 * t * (1 - t * t),
                                                                 abs=1e-12)
    third = srcad.grad(srcad.grad(srcad.grad(cube_plus)))(x)
    assert third == pytest.approx(6 - 2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t),
                                  abs=1e-10)


def quartic(x, W):
    y = x * x
    return np.sum(np.tanh(W @ y))


def quartic_hessian(x, W):
    y = x * x
    t = np.tanh(W @ y)
    s = 1 - t * t
    g_y = W.T @ s                                   # gradient in y
    h_y = W.T @ np.diag(-2 * t * s) @ W             # Hessian in y
    return np.diag(2 * g_y) + np.diag(2 * x) @ h_y @ np.diag(2 * x)


@given(hnp.arrays(np.float64, (3,), elements=values), st.integers(0, 100))
def test_hessian_and_hvp_on_vectors(x, seed):
    W = np.random.default_rng(seed).standard_normal((2, 3))
    expected = quartic_hessian(x, W)
    H = srcad.hessian(quartic)(x, W)
    np.testing.assert_allclose(H, expected, rtol=1e-9, atol=1e-12)
    v = np.arange(3.0)
    np.testing.assert_allclose(srcad.hvp(quartic)(x, W, v), expected @ v, rtol=1e-9,
                               atol=1e-12)
    grad = srcad.grad(quartic)
    eps = 1e-6
    numeric = np.stack([(grad(x + eps * e, W) - grad(x - eps * e, W)) / (2 * eps)
                        for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-6)


def vector_map(x, A):
    return np.tanh(A @ x) * np.sum(x * x)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
@given(x=hnp.arrays(np.float64, (3,), elements=values))
def test_jacobian_both_modes(mode, x):
    A = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    t = np.tanh(A @ x)
    expected = np.diag(1 - t * t) @ A * np.sum(x * x) + np.outer(t, 2 * x)
    np.testing.assert_allclose(srcad.jacobian(vector_map, mode=mode)(x, A), expected,
                               rtol=1e-10, atol=1e-12)


def test_jacobian_shapes_and_several_arguments():
    x, A = np.ones(3), np.eye(2, 3)
    Jx, JA = srcad.jacobian(vector_map, wrt=(0, 1))(x, A)
    assert Jx.shape == (2, 3) and JA.shape == (2, 2, 3)
    assert srcad.jacobian(cube_plus)(0.5) == pytest.approx(3 * 0.25 + 1 - np.tanh(0.5) ** 2)


def test_higher_order_source_is_readable():
    text = srcad.source(srcad.hvp(quartic))     # (the tangent alone: the value is not read)
    assert text.startswith("def tangent_grad_quartic(x, W, d")
    assert "matmul_adjoint_right" in text and text.rstrip().endswith("return ddx")


def rnn(h, W, xs):
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h * h)


def test_hessian_through_a_loop():
    rng = np.random.default_rng(0)
    h, W, xs = rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(
        (4, 3))
    H = srcad.hessian(rnn)(h, W, xs)
    grad = srcad.grad(rnn)
    eps = 1e-6
    numeric = np.stack([(grad(h + eps * e, W, xs) - grad(h - eps * e, W, xs)) / (2 * eps)
                        for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)


def split_product(x):
    a, b, c = np.split(x, 3)
    return np.sum(a * b * c) + np.sum(np.concatenate([x, x])) + np.sum(x ** 3)


def test_hessian_through_lists_of_pieces():
    x = np.array([0.5, -1.0, 2.0])
    a, b, c = x
    expected = np.array([[0, c, b], [c, 0, a], [b, a, 0]]) + np.diag(6 * x)
    np.testing.assert_allclose(srcad.hessian(split_product)(x), expected, rtol=1e-12)


def test_reverse_over_a_gradient_with_loops():
    """vjp, jacobian(mode="reverse") and grad of a gradient through a loop: by the symmetry of
    second derivatives, forward over reverse computes them (not a missing rule for .pop)."""
    def total(h):
        return np.sum(rnn(h, np.eye(2) * 0.5, np.ones((3, 2))))

    h = np.array([0.2, -0.1])
    H = srcad.hessian(total)(h)
    y, pullback = srcad.vjp(srcad.grad(total))(h)
    np.testing.assert_allclose(y, srcad.grad(total)(h), rtol=1e-12)
    np.testing.assert_allclose(pullback(np.array([1.0, -2.0])), H.T @ [1.0, -2.0], rtol=1e-12)
    np.testing.assert_allclose(srcad.jacobian(srcad.grad(total), mode="reverse")(h), H,
                               rtol=1e-12)
    with pytest.raises(srcad.NonScalarOutputError, match="scalar output"):
        srcad.grad(srcad.grad(total))(h)

    def first(a, h):
        return np.sum(rnn(a * h, np.eye(2) * 0.5, np.ones((3, 2))))

    mixed = srcad.grad(srcad.grad(first), wrt=1)(0.7, h)         # d/dh of d/da
    np.testing.assert_allclose(mixed, srcad.jacobian(srcad.grad(first), wrt=1)(0.7, h),
                               rtol=1e-12)


def squash(v, scale=1.0):
    return np.tanh(v) * scale


def layer_pair(x, W):
    return squash(W @ x, scale=2.0), x * x


def recurrent_energy(x, W):
    h, sq = layer_pair(x, W)
    for _ in range(2):
        h = squash(W @ h + x)
    return np.sum(h * h) + np.sum(sq)


def energy_hessian_numeric(x, W, eps=1e-6):
    grad = srcad.grad(recurrent_energy)
    return np.stack([(grad(x + eps * e, W) - grad(x - eps * e, W)) / (2 * eps)
                     for e in np.eye(len(x))], axis=1)


@given(hnp.arrays(np.float64, (3,), elements=st.floats(-1, 1, allow_nan=False, width=64)))
def test_hessian_and_hvp_through_calls_of_user_functions(x):
    """Forward over reverse through calls (keywords, defaults, tuple results, calls in a loop):
    the gradient is generated without pullback closures, each callee getting a `backward_`
    function, which forward mode differentiates again."""
    W = np.random.default_rng(2).standard_normal((3, 3)) * 0.6
    H = srcad.hessian(recurrent_energy)(x, W)
    np.testing.assert_allclose(H, energy_hessian_numeric(x, W), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-11)
    v = np.linspace(-1.0, 1.0, 3)
    np.testing.assert_allclose(srcad.hvp(recurrent_energy)(x, W, v), H @ v, rtol=1e-9,
                               atol=1e-11)
    text = srcad.source(srcad.jvp(srcad.grad(recurrent_energy)))
    assert "def jvp_backward_squash" in text and "pullback" not in text


def scaled_sine(v, scale=1.0):
    return np.sin(v) * scale


def sine_energy(s, v):
    return np.sum(scaled_sine(v * s, scale=2.0) ** 2) + scaled_sine(s)


@given(st.floats(-1.5, 1.5, allow_nan=False), hnp.arrays(np.float64, (3,), elements=st.floats(
    -1, 1, allow_nan=False, width=64)))
def test_grad_of_grad_through_calls_without_loops(s, v):
    """Reverse over reverse through user calls: the inner gradient calls each callee's
    closure-free backward, which the outer reverse pass transforms like any function."""
    second = srcad.grad(srcad.grad(sine_energy))(s, v)
    want = np.sum(8 * v * v * np.cos(2 * v * s)) - np.sin(s)
    np.testing.assert_allclose(second, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(srcad.hessian(sine_energy)(s, v), want, rtol=1e-9, atol=1e-12)


def test_an_hvp_computes_what_its_tangent_needs_alone():
    """`hvp` of arrays transforms the gradient specialized to the call's shapes into code for
    the tangent alone, where forward mode's `broadcast_as` goes where the shapes match: the
    product of the normal model's Hessian with `v` reads neither `b` nor `y` (`2 X'(X v)`)."""
    loss = glm.fresh(glm.normal)
    X, y = glm.data("normal", n=50, p=4)
    b, v = np.linspace(-0.3, 0.3, 4), np.linspace(1.0, -2.0, 4)
    hvp = srcad.hvp(loss)
    np.testing.assert_allclose(hvp(b, X, y, v), 2 * X.T @ (X @ v), rtol=1e-12)
    body = ast.parse(srcad.source(hvp)).body[0].body
    read = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    assert "b" not in read and "y" not in read and "broadcast_as" not in read
    gradient, step = srcad.grad(loss), 1e-5
    central = (gradient(b + step * v, X, y) - gradient(b - step * v, X, y)) / (2 * step)
    np.testing.assert_allclose(hvp(b, X, y, v), central, rtol=1e-6)
