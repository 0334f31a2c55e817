"""Comparing results of any structure (arrays, numbers, and tuples, lists and dicts of them)
entry by entry: `assert_same(got, expected)` fails on a different structure, key, shape or
value (to `rtol`/`atol`); `central_gradient(f, x)`, the gradient of a scalar function of one
array by central differences, the reference the tests compare derivatives with."""

import numpy as np


def assert_same(got, expected, rtol=1e-12, atol=1e-14):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol, atol)
    elif isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            assert_same(got[key], expected[key], rtol, atol)
    else:
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def central_gradient(f, x, eps=1e-6):
    """The gradient of the scalar `f` at the array `x` by central differences (step `eps`)."""
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out
