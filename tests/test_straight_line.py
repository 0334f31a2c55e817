"""Whole straight-line functions of the kinds users write, in both modes.

Each is checked against a gradient derived by hand (an independent analytic result) and by
`check_grads` (finite differences, forward and reverse), on hypothesis-drawn values.
"""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads

values = st.floats(-1.5, 1.5, allow_nan=False, width=64)


def matrices(rows, cols):
    return hnp.arrays(np.float64, (rows, cols), elements=values)


def vectors(n):
    return hnp.arrays(np.float64, (n,), elements=values)


def assert_grads(f, args, expected, wrt):
    got = srcad.grad(f, wrt=wrt)(*args)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    tangents = [np.ones_like(args[i]) if hasattr(args[i], "shape") else 1.0 for i in wrt]
    _, directional = srcad.jvp(f, wrt=wrt)(*args, *tangents)
    want = sum(np.sum(e * t) for e, t in zip(expected, tangents))
    np.testing.assert_allclose(directional, want, rtol=1e-9, atol=1e-10)
    check_grads(f, args, wrt=wrt)


# ---- softmax cross-entropy, written by hand the stable way ---------------------------------
def softmax_cross_entropy(W, x, target):
    logits = W @ x
    shifted = logits - np.max(logits)
    log_total = np.log(np.sum(np.exp(shifted)))
    return log_total - np.sum(target * shifted)


@given(matrices(3, 4), vectors(4))
def test_softmax_cross_entropy(W, x):
    target = np.array([0.0, 1.0, 0.0])
    logits = W @ x
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert_grads(softmax_cross_entropy, (W, x, target),
                 (np.outer(p - target, x), W.T @ (p - target)), wrt=(0, 1))


def logsumexp(x):
    m = np.max(x)
    return np.log(np.sum(np.exp(x - m))) + m


def test_stable_logsumexp_does_not_overflow_in_the_adjoint():
    x = np.array([1000.0, 1001.0, 999.0])
    with np.errstate(over="raise", invalid="raise"):
        g = srcad.grad(logsumexp)(x)
    p = np.exp(x - x.max())
    np.testing.assert_allclose(g, p / p.sum(), rtol=1e-12)


# ---- a two-layer network on a batch, with broadcasting biases --------------------------------
def mlp_loss(W1, b1, W2, b2, X, T):
    H = np.tanh(X @ W1 + b1)
    out = H @ W2 + b2
    return np.mean((out - T) ** 2)


@given(matrices(5, 3), vectors(4))
def test_mlp_loss(X, b1):
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    b2, T = rng.standard_normal(2), rng.standard_normal((5, 2))
    H = np.tanh(X @ W1 + b1)
    dout = 2 * (H @ W2 + b2 - T) / T.size
    dZ = (dout @ W2.T) * (1 - H ** 2)
    expected = (X.T @ dZ, dZ.sum(0), H.T @ dout, dout.sum(0))
    assert_grads(mlp_loss, (W1, b1, W2, b2, X, T), expected, wrt=(0, 1, 2, 3))


# ---- bookkeeping: unpacking, augmented and re-assignment, keywords, constants ----------------
def bookkeeping(x, y):
    a, b = x * 2.0, y
    a += b
    a = a * a
    s = np.sum(a, axis=0, keepdims=True)
    return np.sum(s / 3)


@given(vectors(3), vectors(3))
def test_bookkeeping(x, y):
    a = 2 * x + y
    assert_grads(bookkeeping, (x, y), (4 * a / 3, 2 * a / 3), wrt=(0, 1))


# ---- conditional expressions and branches on data ---------------------------------------------
def piecewise(x, c):
    r = x * c if np.sum(x) > 0 else -x
    if c > 1.0:
        r = r * 2.0
    elif c < -1.0:
        r = r + x
    return np.sum(r * r)


@given(vectors(3), st.sampled_from([0.5, 1.5, -1.5]))
def test_piecewise(x, c):
    k = c if np.sum(x) > 0 else -1.0
    if c > 1.0:
        k = 2 * k
    elif c < -1.0:
        k = k + 1
    assert_grads(piecewise, (x, c), (2 * k * k * x,), wrt=(0,))


# ---- scalars: Python floats in and out, numpy float64 ----------------------------------------
def scalar_poly(x, y):
    scale = np.float64(3.0)
    return scale * x ** 3 - x * y + 2.0 / y


@given(values, st.floats(0.5, 2.0))
def test_python_floats(x, y):
    g = srcad.grad(scalar_poly, wrt=(0, 1))(x, y)
    assert all(type(v) is float for v in g)
    assert_grads(scalar_poly, (x, y), (9 * x ** 2 - y, -x - 2 / y ** 2), wrt=(0, 1))


# ---- indexing: ints, negative, slices, repeated integer arrays, masks, newaxis ---------------
def indexing(x):
    picks = x[np.array([0, 0, 2])]
    column = x[1:3, None]
    return x[0] * x[-1] + np.sum(picks) + np.sum(column * column)


@given(vectors(4))
def test_indexing(x):
    expected = np.zeros(4)
    expected[0] += x[-1] + 2
    expected[-1] += x[0]
    expected[2] += 1
    expected[1:3] += 2 * x[1:3]
    assert_grads(indexing, (x,), (expected,), wrt=(0,))


# ---- array methods and attributes -------------------------------------------------------------
def methods(X):
    centered = X - X.mean(axis=0)
    return centered.T.reshape(-1).sum() + X.max(axis=1).sum()


@given(hnp.arrays(np.float64, (3, 2), elements=values, unique=True))
def test_methods(X):
    assume(abs(X[:, 0] - X[:, 1]).min() > 1e-3)      # max is not differentiable at a tie
    expected = np.zeros_like(X)                         # the centered sum is identically 0
    expected[np.arange(3), X.argmax(axis=1)] = 1.0
    assert_grads(methods, (X,), (expected,), wrt=(0,))


# ---- non-differentiable operations give no derivative and no error ---------------------------
def relu_and_friends(x):
    n = len(x)
    positive = x * (x > 0)
    biggest = x[np.argmax(x)]
    return np.sum(positive) / x.shape[0] + biggest * n + np.sum(np.zeros_like(x))


@given(hnp.arrays(np.float64, (4,), elements=values.filter(lambda v: abs(v) > 0.1),
                  unique=True))
def test_non_differentiable_operations(x):
    top = np.sort(x)
    assume(top[-1] - top[-2] > 1e-3)                 # argmax is not differentiable at a tie
    expected = (x > 0) / 4.0
    expected[np.argmax(x)] += 4
    assert_grads(relu_and_friends, (x,), (expected,), wrt=(0,))
