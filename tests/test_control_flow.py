"""Loops, branches, break and continue, in both modes.

Each function is checked against a gradient derived by hand and by `check_grads` (finite
differences, forward and reverse), with hypothesis drawing values and trip counts.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads

values = st.floats(-1.0, 1.0, allow_nan=False, width=64)


def assert_grads(f, args, expected, wrt):
    got = srcad.grad(f, wrt=wrt)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    check_grads(f, args, wrt=wrt)


# ---- an RNN over a sequence whose length varies -----------------------------------------------
def rnn(h, W, xs):
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h)


def rnn_by_hand(h, W, xs):
    states = [h]
    for x in xs:
        states.append(np.tanh(W @ states[-1] + x))
    dh, dW, dxs = np.ones_like(h), np.zeros_like(W), np.zeros_like(xs)
    for t in reversed(range(len(xs))):
        da = dh * (1 - states[t + 1] ** 2)
        dW += np.outer(da, states[t])
        dxs[t] = da
        dh = W.T @ da
    return dh, dW, dxs


@given(st.integers(0, 6), st.integers(0, 1000))
def test_rnn_over_variable_length_sequences(length, seed):
    rng = np.random.default_rng(seed)
    h, W = rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5
    xs = rng.standard_normal((length, 3))
    assert_grads(rnn, (h, W, xs), rnn_by_hand(h, W, xs), wrt=(0, 1, 2))


# ---- range loops, accumulation, the loop variable in the math ---------------------------------
def power_sum(x, n):
    s = 0.0
    for i in range(n):
        s += x ** i
    return s


@given(st.floats(0.2, 1.5), st.integers(0, 6))
def test_range_loop(x, n):
    assert_grads(power_sum, (x, n), (sum(i * x ** (i - 1) for i in range(1, n)),), wrt=(0,))


# ---- while with a trip count decided by data ---------------------------------------------------
def halve_until_small(x):
    while np.sum(x * x) > 1.0:
        x = x * 0.5
    return np.sum(x * x)


@given(hnp.arrays(np.float64, (3,), elements=st.floats(-4.0, 4.0)))
def test_while_with_data_dependent_trips(x):
    trips = 0
    while np.sum((x * 0.5 ** trips) ** 2) > 1.0:
        trips += 1
    for k in (trips - 1, trips):                    # away from a change in the trip count
        assume(k < 0 or abs(np.sum((x * 0.5 ** k) ** 2) - 1.0) > 1e-4)
    expected = 2 * x * 0.25 ** trips
    assert_grads(halve_until_small, (x,), (expected,), wrt=(0,))


# ---- enumerate, zip, continue, break, branches inside loops ----------------------------------
def gated_sum(xs, w):
    total = 0.0
    for i, x in enumerate(xs):
        if x[0] < 0:
            continue
        total = total + np.sum(x * w) * i
        if np.sum(x) > 1.5:
            break
    return total


def gated_sum_by_hand(xs, w):
    dxs, dw = np.zeros_like(xs), np.zeros_like(w)
    for i, x in enumerate(xs):
        if x[0] < 0:
            continue
        dxs[i] = w * i
        dw += x * i
        if np.sum(x) > 1.5:
            break
    return dxs, dw


@given(hnp.arrays(np.float64, (5, 3), elements=values), hnp.arrays(np.float64, (3,),
                                                                  elements=values))
def test_enumerate_continue_break(xs, w):
    assume(np.all(np.abs(xs[:, 0]) > 1e-3) and np.all(np.abs(xs.sum(axis=1) - 1.5) > 1e-3))
    assert_grads(gated_sum, (xs, w), gated_sum_by_hand(xs, w), wrt=(0, 1))


def dot_pairs(a, b):
    total = 0.0
    for x, y in zip(a, b):
        total = total + x * y
    return total


@given(hnp.arrays(np.float64, (4,), elements=values), hnp.arrays(np.float64, (3,),
                                                                elements=values))
def test_zip_of_unequal_lengths(a, b):
    da, db = np.zeros(4), np.zeros(3)
    da[:3], db[:] = b, a[:3]
    assert_grads(dot_pairs, (a, b), (da, db), wrt=(0, 1))


def loop_over_list(params, x):
    for W in params:
        x = np.tanh(W @ x)
    return np.sum(x)


def test_loop_over_a_list_of_arrays():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 3)) * 0.5 for _ in range(3)]
    x = rng.standard_normal(3)
    value, pullback = srcad.vjp(loop_over_list, wrt=1)(params, x)
    assert value == pytest.approx(np.sum(np.tanh(params[2] @ np.tanh(params[1] @ np.tanh(
        params[0] @ x)))))
    check_grads(loop_over_list, (params, x), wrt=1)


# ---- nested loops -----------------------------------------------------------------------------
def nested(W, xs):
    acc = 0.0
    for x in xs:
        h = x
        for _ in range(3):
            h = np.tanh(W @ h)
        acc = acc + np.sum(h * h)
    return acc


@given(st.integers(0, 4), st.integers(0, 1000))
def test_nested_loops(rows, seed):
    rng = np.random.default_rng(seed)
    W, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((rows, 3))
    check_grads(nested, (W, xs))
    check_grads(nested, (W, xs), wrt=1)


def test_pullbacks_of_loops_can_be_called_again():
    rng = np.random.default_rng(1)
    W, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((2, 3))
    _, pullback = srcad.vjp(nested, wrt=(0, 1))(W, xs)
    first, second = pullback(1.0), pullback(2.0)
    np.testing.assert_allclose(second[0], 2 * first[0])
    np.testing.assert_allclose(second[1], 2 * first[1])


# ---- asserts on shapes stay in the primal -----------------------------------------------------
def checked(x):
    assert x.ndim == 1, "x must be a vector"
    return np.sum(x * x)


def test_asserts_stay_in_the_primal():
    np.testing.assert_allclose(srcad.grad(checked)(np.ones(2)), [2.0, 2.0])
    with pytest.raises(AssertionError, match="vector"):
        srcad.grad(checked)(np.ones((2, 2)))


# ---- what is rejected, with a clear message ---------------------------------------------------
def carried_from_nowhere(xs):
    for x in xs:
        if x > 0:
            last = prev * 2.0  # noqa: F821
        prev = x  # noqa: F841
    return last


def test_value_carried_between_trips_without_a_start_is_rejected():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="before the loop"):
        srcad.grad(carried_from_nowhere)(np.ones(3))


def for_else(xs):
    s = 0.0
    for x in xs:
        s = s + x * x
        if s > 2.0:
            break
    else:
        s = s * 10.0
    return s


def test_for_else_runs_only_when_the_loop_does_not_break():
    np.testing.assert_allclose(srcad.grad(for_else)(np.full(3, 0.5)), [10.0, 10.0, 10.0])
    np.testing.assert_allclose(srcad.grad(for_else)(np.array([1.0, 1.5, 0.1])), [2.0, 3.0, 0.0])
    _, directional = srcad.jvp(for_else)(np.full(3, 0.5), np.ones(3))
    assert directional == pytest.approx(30.0)


# ---- writes into arrays -----------------------------------------------------------------------
def running_products(x):
    out = np.zeros_like(x)
    acc = 1.0
    for i in range(x.shape[0]):
        acc = acc * x[i]
        out[i] = acc
    out[0] += 1.0
    return np.sum(out * out)


@given(hnp.arrays(np.float64, (4,), elements=st.floats(0.3, 1.5)))
def test_writes_into_arrays_in_loops(x):
    out = np.cumprod(x) + np.eye(4)[0]
    expected = np.array([sum(2 * out[i] * np.prod(x[:i + 1]) / x[j]
                             for i in range(j, 4)) for j in range(4)])
    assert_grads(running_products, (x,), (expected,), wrt=(0,))


def writes_into_argument(x):
    x[0] = 1.0
    return np.sum(x)


def test_writing_into_an_argument_is_rejected():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="copy it first"):
        srcad.grad(writes_into_argument)(np.ones(3))


def newton_sqrt(a, tol=1e-12):
    x = a
    step = a
    while np.max(np.abs(step)) > tol:
        step = (x * x - a) / (2 * x)
        x = x - step
    return np.sum(x)


@given(hnp.arrays(np.float64, (3,), elements=st.floats(0.5, 4.0, width=64)))
def test_values_computed_only_for_a_loop_test_get_no_derivative_code(a):
    """`np.max(np.abs(step))` feeds only the comparison: no adjoint, tangent or stack for it."""
    got = srcad.grad(newton_sqrt)(a)
    np.testing.assert_allclose(got, 0.5 / np.sqrt(a), rtol=1e-9)
    _, directional = srcad.jvp(newton_sqrt)(a, np.ones(3))
    np.testing.assert_allclose(directional, np.sum(0.5 / np.sqrt(a)), rtol=1e-9)
    check_grads(newton_sqrt, (a,))
    for text in (srcad.source(srcad.grad(newton_sqrt)), srcad.source(srcad.jvp(newton_sqrt))):
        assert "extremum" not in text and "_abs_stack" not in text and "d_max" not in text


def rnn_outputs(x, W):
    states = [np.zeros(W.shape[0])]
    outputs = []
    for t in range(x.shape[0]):
        h = np.tanh(W @ states[-1] + x[t])
        states.append(h)
        outputs.append(h * h)
    return np.sum(np.stack(outputs))


def rnn_outputs_by_hand(x, W):
    hs = [np.zeros(W.shape[0])]
    for t in range(x.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + x[t]))
    dx, dW, carry = np.zeros_like(x), np.zeros_like(W), np.zeros(W.shape[0])
    for t in reversed(range(x.shape[0])):
        a = (2 * hs[t + 1] + carry) * (1 - hs[t + 1] ** 2)
        dx[t], dW, carry = a, dW + np.outer(a, hs[t]), W.T @ a
    return dx, dW


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3)), elements=values))
def test_lists_built_with_append_in_a_loop(x):
    """`items.append(v)` on a list the function made: each append is a new version of the
    list, so reading `states[-1]` and stacking the outputs differentiate in both modes."""
    W = np.random.default_rng(3).standard_normal((3, 3)) * 0.5
    dx, dW = srcad.grad(rnn_outputs, wrt=(0, 1))(x, W)
    want_dx, want_dW = rnn_outputs_by_hand(x, W)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dW, want_dW, rtol=1e-9, atol=1e-12)
    check_grads(rnn_outputs, (x, W), wrt=(0, 1))
# ---- adjoints a loop accumulates in place ----------------------------------------------------
def shared_weight(W, xs):
    total = 0.0
    for x in xs:
        y = W @ x
        total = total + np.sum(y * y)
    return total


@given(hnp.arrays(np.float64, (3, 3), elements=values),
       hnp.arrays(np.float64, (4, 3), elements=values))
def test_in_place_accumulation_is_private_to_each_call(W, xs):
    """`dW += ...` in the reversed loop: the loop's own zeros, never an array another adjoint
    (or an earlier call, or the caller) holds. Pullbacks called twice agree; the gradient is
    2 sum_t (W x_t) x_t^T."""
    expected = 2 * sum(np.outer(W @ x, x) for x in xs)
    assert_grads(shared_weight, (W, xs), [expected], 0)
    _, pullback = srcad.vjp(shared_weight)(W, xs)
    first = pullback(1.0)
    np.testing.assert_allclose(pullback(1.0), first)
    np.testing.assert_allclose(first, expected, rtol=1e-9, atol=1e-12)
    assert "dW += " in srcad.source(srcad.grad(shared_weight))
    assert "dW += " in srcad.source(srcad.grad(shared_weight), W, xs)


def running_total(x, W):
    total = 0.0
    for i in range(W.shape[0]):
        row = W[i] * x
        if np.sum(row) > 10.0:
            break
        total = total + np.sum(np.sin(row))
    return total


@given(hnp.arrays(np.float64, (3,), elements=values))
def test_value_and_grad_returns_the_final_value_of_a_restored_output(x):
    """The adjoint of the loop restores `total` from its stack: the value returned must be the
    primal's final one, on the generic and on the shape-specialized code."""
    W = np.random.default_rng(5).standard_normal((3, 3))
    want = running_total(x, W)
    df = srcad.value_and_grad(running_total, wrt=(0, 1))
    for value, _ in (df(x, W), df.generated.function(x, W)):     # specialized, generic
        np.testing.assert_allclose(value, want, rtol=1e-12)
