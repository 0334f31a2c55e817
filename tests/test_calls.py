"""Calls to the user's own functions (transformed recursively), closures, globals, lists,
tuples and dicts of arrays as arguments and results, in both modes.

Each function is checked against a gradient derived by hand and by `check_grads`.
"""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads
from tests.support import helper_module

values = st.floats(-1.5, 1.5, allow_nan=False, width=64)
vectors = hnp.arrays(np.float64, (3,), elements=values)


def layer(W, x, scale=1.0):
    return np.tanh(W @ x) * scale


def two_layers(W1, W2, x):
    h = layer(W1, x)
    return np.sum(layer(W2, h, scale=2.0))


@given(vectors)
def test_calls_with_defaults_and_keywords(x):
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    h = np.tanh(W1 @ x)
    s2 = 2 * (1 - np.tanh(W2 @ h) ** 2)
    dh = W2.T @ s2
    s1 = dh * (1 - h ** 2)
    dW1, dW2, dx = srcad.grad(two_layers, wrt=(0, 1, 2))(W1, W2, x)
    np.testing.assert_allclose(dW2, np.outer(s2, h), rtol=1e-10)
    np.testing.assert_allclose(dW1, np.outer(s1, x), rtol=1e-10)
    np.testing.assert_allclose(dx, W1.T @ s1, rtol=1e-10)
    check_grads(two_layers, (W1, W2, x))


def test_callee_derivatives_are_visible_in_the_source():
    text = srcad.source(srcad.grad(two_layers, wrt=(0, 1)))
    assert "vjp_layer(W1, x)" in text and "def vjp_layer(" in text
    assert "def vjp_layer_wrt_W_x(" in text


def uses_other_module(x):
    return np.sum(helper_module.scaled_tanh(x))


@given(vectors)
def test_function_from_another_module_with_a_global_default(x):
    expected = 3.0 * (1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(srcad.grad(uses_other_module)(x), expected, rtol=1e-12)
    check_grads(uses_other_module, (x,))


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


@given(st.floats(0.3, 1.5), st.integers(0, 6))
def test_recursion(x, n):
    assert srcad.grad(power)(x, n) == pytest.approx(n * x ** (n - 1) if n else 0.0)
    check_grads(power, (x, n), wrt=0)


def pair(x):
    return x * 2.0, np.sum(x)


def uses_pair(x):
    a, b = pair(x)
    return np.sum(a * b)


@given(vectors)
def test_tuple_results(x):
    # f = sum(2x) * sum(x) = 2 s^2  ->  df/dx = 4 s
    np.testing.assert_allclose(srcad.grad(uses_pair)(x), 4 * np.sum(x) * np.ones(3),
                               rtol=1e-10, atol=1e-12)
    check_grads(uses_pair, (x,))
    (y, s), pullback = srcad.vjp(pair)(x)
    np.testing.assert_allclose(pullback((np.ones(3), 2.0)), 2.0 + 2.0 * np.ones(3))


def make_model(c):
    def model(x):
        return np.sum((x - OFFSET) * c)
    return model


OFFSET = np.array([0.5, -0.5, 0.0])


def test_closures_and_globals_are_read():
    c = np.array([2.0, 3.0, 4.0])
    model = make_model(c)
    np.testing.assert_allclose(srcad.grad(model)(np.ones(3)), c)
    check_grads(model, (np.ones(3),))


shifted = functools.partial(layer, scale=0.5)


def mlp_of_list(params, x):
    for W in params:
        x = np.tanh(W @ x)
    return np.sum(x)


def test_list_of_arrays_gradients_come_back_as_a_list():
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((3, 3)) * 0.5 for _ in range(3)]
    x = rng.standard_normal(3)
    grads = srcad.grad(mlp_of_list)(params, x)
    assert isinstance(grads, list) and len(grads) == 3
    assert all(g.shape == (3, 3) for g in grads)
    check_grads(mlp_of_list, (params, x), wrt=0)


def dict_model(params, x):
    h = np.tanh(params["W"] @ x + params["b"])
    return np.sum(h * h)


def test_dict_of_arrays_gradients_come_back_as_a_dict():
    rng = np.random.default_rng(3)
    params = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    grads = srcad.grad(dict_model)(params, x)
    h = np.tanh(params["W"] @ x + params["b"])
    s = 2 * h * (1 - h ** 2)
    assert set(grads) == {"W", "b"}
    np.testing.assert_allclose(grads["W"], np.outer(s, x), rtol=1e-10)
    np.testing.assert_allclose(grads["b"], s, rtol=1e-10)
    check_grads(dict_model, (params, x), wrt=0)


def tuple_model(params, x):
    W, b = params
    return np.sum(W @ x + b)


def test_tuple_of_arrays():
    W, b, x = np.ones((2, 3)), np.zeros(2), np.arange(3.0)
    dW, db = srcad.grad(tuple_model)((W, b), x)
    np.testing.assert_allclose(dW, np.tile(x, (2, 1)))
    np.testing.assert_allclose(db, np.ones(2))


def uses_partial(W, x):
    return np.sum(shifted(W, x))


def test_functools_partial():
    W, x = np.eye(3) * 0.5, np.array([0.1, -0.2, 0.3])
    s = 0.5 * (1 - np.tanh(W @ x) ** 2)
    np.testing.assert_allclose(srcad.grad(uses_partial, wrt=1)(W, x), W.T @ s, rtol=1e-12)
    check_grads(uses_partial, (W, x))


class Model:
    def __init__(self, scale):
        self.scale = scale

    def feature(self, x):
        return np.tanh(x) * self.scale

    def loss(self, x, w):
        return np.sum(self.feature(x) * w)


def test_methods_and_calls_through_self():
    model = Model(2.0)
    x, w = np.array([0.1, -0.4]), np.array([1.0, 3.0])
    expected = 2.0 * (1 - np.tanh(x) ** 2) * w
    np.testing.assert_allclose(srcad.grad(model.loss)(x, w), expected, rtol=1e-12)
    dx, dw = srcad.grad(model.loss, wrt=("x", "w"))(x, w)
    np.testing.assert_allclose(dw, 2.0 * np.tanh(x), rtol=1e-12)
    _, tangent = srcad.jvp(model.loss)(x, w, np.ones(2))
    assert tangent == pytest.approx(np.sum(expected))
    check_grads(model.loss, (x, w))


def stats(x):
    return {"mean": np.sum(x) / 3.0, "energy": np.sum(x * x)}


def uses_stats(x):
    s = stats(x)
    return s["mean"] * s["energy"]


def test_dicts_as_results():
    x = np.array([0.5, -1.0, 2.0])
    mean, energy = np.sum(x) / 3.0, np.sum(x * x)
    np.testing.assert_allclose(srcad.grad(uses_stats)(x), energy / 3.0 + mean * 2 * x)
    check_grads(uses_stats, (x,))
    value, pullback = srcad.vjp(stats)(x)
    assert set(value) == {"mean", "energy"}
    np.testing.assert_allclose(pullback({"mean": 3.0, "energy": 0.5}), 1.0 + x)


def test_third_party_function_with_a_registered_rule():
    import scipy.special as special  # (the test extra installs SciPy)


    @srcad.register_adjoint(special.expit)
    def expit_adjoint(y, x):
        srcad.d[x] += srcad.d[y] * y * (1.0 - y)

    @srcad.register_tangent(special.expit)
    def expit_tangent(y, x):
        srcad.d[y] = srcad.d[x] * y * (1.0 - y)

    x = np.array([-2.0, 0.0, 1.5])
    s = special.expit(x)
    np.testing.assert_allclose(srcad.grad(uses_expit)(x), s * (1 - s) * 2.0, rtol=1e-12)
    check_grads(uses_expit, (x,))


def uses_expit(x):
    import_free = SPECIAL.expit(x)
    return np.sum(import_free * 2.0)


try:
    import scipy.special as SPECIAL
except ImportError:  # pragma: no cover
    SPECIAL = None


def recurrent(x, W, h0=None):
    if h0 is None:
        h = np.zeros(W.shape[0])
    else:
        h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
    return h


def squared_final_state(x, W, h0=None):
    return np.sum(recurrent(x, W, h0) ** 2)


def backprop_through_time(x, W, h0):
    states = [h0]
    for t in range(x.shape[0]):
        states.append(np.tanh(W @ states[-1] + x[t]))
    dx, dW, g = np.zeros_like(x), np.zeros_like(W), 2 * states[-1]
    for t in reversed(range(x.shape[0])):
        a = g * (1 - states[t + 1] ** 2)
        dx[t], dW, g = a, dW + np.outer(a, states[t]), W.T @ a
    return dx, dW, g


@given(hnp.arrays(np.float64, (4, 3), elements=values), st.booleans())
def test_callee_whose_loop_carries_a_value_first_set_in_a_branch(x, give_h0):
    """The callee's pullback restores `h` from the loop's stack; its initial value comes from
    an if/else, so the pullback must receive the primal's final `h` as well."""
    W = np.random.default_rng(1).standard_normal((3, 3)) * 0.5
    h0 = np.linspace(-0.5, 0.5, 3) if give_h0 else None
    dx, dW, dh0 = backprop_through_time(x, W, np.zeros(3) if h0 is None else h0)
    wrt = (0, 1, 2) if give_h0 else (0, 1)
    got = srcad.grad(squared_final_state, wrt=wrt)(x, W, h0)
    for g, e in zip(got, (dx, dW, dh0)):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    check_grads(squared_final_state, (x, W, h0) if give_h0 else (x, W), wrt=wrt)
