"""The public API: call forms, wrt, value_and_grad, vjp, jvp, source, custom rules.

Each derivative is compared with an analytic formula and checked by finite differences.
"""

import inspect
import traceback

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads

floats = st.floats(-2.0, 2.0, allow_nan=False, width=64)
vectors = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, max_side=5),
                     elements=floats)


def quartic(x, W):
    y = x * x
    return np.sum(np.tanh(W @ y))


def quartic_grads(x, W):
    y = x * x
    s = 1.0 - np.tanh(W @ y) ** 2
    return 2 * x * (W.T @ s), np.outer(s, y)


@given(vectors)
def test_grad_matches_analytic_and_finite_differences(x):
    W = np.linspace(-1, 1, 2 * x.size).reshape(2, x.size)
    dx, dW = srcad.grad(quartic, wrt=(0, 1))(x, W)
    want_dx, want_dW = quartic_grads(x, W)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-12, atol=1e-12)
    check_grads(quartic, (x, W))


def test_wrt_by_index_name_negative_and_tuple():
    x, W = np.array([0.5, -1.0]), np.eye(2)
    want_dx, want_dW = quartic_grads(x, W)
    np.testing.assert_allclose(srcad.grad(quartic)(x, W), want_dx)
    np.testing.assert_allclose(srcad.grad(quartic, wrt="W")(x, W), want_dW)
    np.testing.assert_allclose(srcad.grad(quartic, wrt=-1)(x, W), want_dW)
    dW, dx = srcad.grad(quartic, wrt=("W", "x"))(x, W)
    np.testing.assert_allclose(dx, want_dx)
    (only,) = srcad.grad(quartic, wrt=(0,))(x, W)
    np.testing.assert_allclose(only, want_dx)


@srcad.grad
def decorated(x):
    return np.sum(np.exp(x))


@srcad.grad(wrt="b")
def decorated_with_options(a, b):
    return np.sum(a * b * b)


def test_decorator_forms():
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(decorated(x), np.exp(x))
    np.testing.assert_allclose(decorated_with_options(x, x + 1), 2 * x * (x + 1))


def test_python_float_in_float_out_and_float32_kept():
    def f(x):
        return np.tanh(x) * x

    g = srcad.grad(f)(0.5)
    assert type(g) is float
    assert g == pytest.approx((1 - np.tanh(0.5) ** 2) * 0.5 + np.tanh(0.5), rel=1e-14)
    x32 = np.array([0.5, 1.5], dtype=np.float32)
    g32 = srcad.grad(sum_times_two)(x32)
    assert g32.dtype == np.float32 and g32.shape == x32.shape


def sum_times_two(x):
    return np.sum(x * 2.0)


CALLS = []


def tick():
    CALLS.append(1)


def test_value_and_grad_runs_the_primal_once():
    def f(x):
        tick()
        return np.sum(x * 3.0)

    CALLS.clear()
    value, g = srcad.value_and_grad(f)(np.array([1.0, 2.0]))
    assert value == 9.0 and len(CALLS) == 1
    np.testing.assert_allclose(g, [3.0, 3.0])


def vector_valued(x, W):
    return np.tanh(W @ x), x * 2.0


def test_vjp_any_output_shape_and_tuple_outputs():
    x, W = np.array([0.3, -0.2, 0.1]), np.arange(6.0).reshape(2, 3) / 6
    (y1, y2), pullback = srcad.vjp(vector_valued, wrt=(0, 1))(x, W)
    u1, u2 = np.array([1.0, -2.0]), np.array([0.5, 0.5, 1.0])
    dx, dW = pullback((u1, u2))
    s = u1 * (1 - np.tanh(W @ x) ** 2)
    np.testing.assert_allclose(dx, W.T @ s + 2 * u2)
    np.testing.assert_allclose(dW, np.outer(s, x))
    check_grads(vector_valued, (x, W))


@given(vectors)
def test_jvp_forward_mode(x):
    W = np.linspace(-1, 1, 2 * x.size).reshape(2, x.size)
    dx, dW = np.ones_like(x), np.full_like(W, 0.5)
    y, dy = srcad.jvp(quartic, wrt=(0, 1))(x, W, dx, dW)
    want_dx, want_dW = quartic_grads(x, W)
    assert y == pytest.approx(quartic(x, W))
    assert dy == pytest.approx(np.sum(want_dx * dx) + np.sum(want_dW * dW), rel=1e-10, abs=1e-12)


def test_jvp_of_output_not_depending_on_input_is_zero():
    def f(x, c):
        return c * 2.0

    y, dy = srcad.jvp(f)(np.ones(3), np.ones(3), np.ones(3))
    np.testing.assert_array_equal(dy, np.zeros(3))


def test_source_is_readable_and_deterministic():
    def f(x):
        y = x * x
        return y

    text = srcad.source(srcad.jvp(f))
    assert "dy = 2 * x * dx" in text
    assert text == srcad.generation.generate(f, "jvp", ("x",)).text
    reverse = srcad.source(srcad.grad(f))
    assert "# grad of line" in reverse and "y = x * x" in reverse


def test_generated_function_is_inspectable_and_in_tracebacks():
    df = srcad.grad(quartic)
    assert "def grad_quartic(x, W):" in inspect.getsource(df)
    with pytest.raises(ValueError) as info:
        df(np.ones(3), np.ones((2, 4)))            # shape mismatch inside the generated code
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<srcad grad_quartic")]
    assert generated and "W @ y" in generated[-1].line


def test_generation_is_cached():
    df1, df2 = srcad.grad(quartic), srcad.grad(quartic)
    assert df1.generated is df2.generated


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def crazy(x):
    return np.sum(expit(x) * 3.0)


def test_custom_rules_for_a_function_srcad_does_not_see_into():
    @srcad.register_adjoint(expit)
    def expit_adjoint(y, x):
        srcad.d[x] += srcad.d[y] * y * (1.0 - y)

    @srcad.register_tangent(expit)
    def expit_tangent(y, x):
        srcad.d[y] = srcad.d[x] * y * (1.0 - y)

    x = np.array([-1.0, 0.0, 2.0])
    s = expit(x)
    np.testing.assert_allclose(srcad.grad(crazy)(x), 3 * s * (1 - s))
    assert "y * (1.0 - y)" not in srcad.source(srcad.grad(crazy))   # names are filled in
    check_grads(crazy, (x,))


def test_stop_gradient():
    def f(x):
        return np.sum(x * srcad.stop_gradient(x))

    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(srcad.grad(f)(x), x)
    _, dy = srcad.jvp(f)(x, np.ones(2))
    assert dy == pytest.approx(np.sum(x))
