"""Programs the random-program tester (tests/test_random_programs.py) found srcad getting
wrong, one test each, named after the bug. Each compares srcad with finite differences and,
where it is short, with the derivative written by hand."""

import numpy as np
import pytest

import srcad
from srcad.testing import check_grads


def loop_in_a_branch(x, w):
    if np.max(w) > 0.3:
        while np.sum(x * x) > 0.5:
            x = x * 0.6
    return np.sum(np.sin(x)) + np.sum(w)


def test_pullback_of_a_loop_in_a_branch_can_be_called_twice():
    """The pullback popped from the primal's own stack when the loop sat in a branch (the
    stack was not passed in and copied), so a second call found it empty."""
    x, w = np.full(3, 0.7), np.ones(2)
    _, pullback = srcad.vjp(loop_in_a_branch, wrt=(0, 1))(x, w)
    first, second = pullback(1.0), pullback(1.0)
    shrunk, trips = x.copy(), 0
    while np.sum(shrunk * shrunk) > 0.5:
        shrunk, trips = shrunk * 0.6, trips + 1
    np.testing.assert_allclose(first[0], np.cos(shrunk) * 0.6 ** trips)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(srcad.jacobian(loop_in_a_branch, mode="reverse")(x, w),
                               srcad.jacobian(loop_in_a_branch, mode="forward")(x, w))
    check_grads(loop_in_a_branch, (x, w))


def value_set_in_a_branch_then_looped(x, y, n):
    if np.max(x) > -0.2:
        x = x + y
        for _ in range(n):
            x = np.tanh(x + x)
        x = x * np.cos(x)
    return np.sum(x * x)


def test_pullback_reads_a_value_the_primal_set_in_a_branch_only():
    """A value assigned in a branch and restored by a loop's adjoint was local to the
    pullback, unset when read: UnboundLocalError."""
    x, y = np.array([0.3, -0.1, 0.2]), np.array([0.1, 0.2, -0.3])
    for n in (0, 2):
        check_grads(value_set_in_a_branch_then_looped, (x, y, n), wrt=(0, 1))
        check_grads(value_set_in_a_branch_then_looped, (-1.0 - x, y, n), wrt=(0, 1))


def rows_of_a_reassigned_array(X):
    for row in X:
        X = X * np.cos(row)
    return np.sum(X)


def test_for_loop_walks_the_array_it_started_with():
    """`for row in X` with `X = ...` in the body read rows of the new X: Python iterates over
    the object the loop started with."""
    X = np.array([[0.3, -0.4], [0.8, 0.1], [-0.5, 0.6]])
    value, _ = srcad.jvp(rows_of_a_reassigned_array)(X, np.ones_like(X))
    assert value == rows_of_a_reassigned_array(X)
    check_grads(rows_of_a_reassigned_array, (X,))
    by_hand = np.zeros_like(X)                  # d/dX of sum(X * prod_r cos(X0[r]))
    c = np.prod(np.cos(X), axis=0)
    by_hand += c
    total = np.sum(X, axis=0) * c
    by_hand -= total * np.tan(X)
    np.testing.assert_allclose(srcad.grad(rows_of_a_reassigned_array)(X), by_hand)


def add_through_a_view(x):
    h = x[1:]
    h += 1.0
    return np.sum(x * x)


def add_through_a_second_name(x):
    h = x * 1.0
    g = h
    g += x
    return np.sum(h * h)


def set_item_through_a_transpose(X):
    Y = X * 2.0
    Z = Y.T
    Z[0] = 0.0
    return np.sum(Y * Y)


@pytest.mark.parametrize("func, line, names", [
    (add_through_a_view, "h += 1.0", ("`h`", "`x`")),
    (add_through_a_second_name, "g += x", ("`g`", "`h`")),
    (set_item_through_a_transpose, "Z[0] = 0.0", ("`Z`", "`Y`"))])
def test_in_place_write_that_another_name_sees_is_rejected(func, line, names):
    """`h = x[1:]; h += 1.0` changes `x` too (NumPy writes in place), but srcad gave `h` a new
    value and differentiated as if `x` had not changed: a silently wrong derivative. Such a
    write is now an error at its line."""
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(func)(np.array([[1.0, 2.0], [3.0, 4.0]]))
    message = str(info.value)
    assert all(n in message for n in names) and line in message and __file__ in message


def in_place_writes_nobody_else_sees(x):
    acc = np.zeros(3)
    acc += x * x
    h = x[1:]
    h = h + 1.0                     # a new array: x is unchanged
    out = x.copy()
    out[0] = 2.0
    for row in np.outer(x, x):
        acc += row
    acc *= 0.5
    total = 0.0
    for _ in range(2):
        for row in out[:, None]:    # `row` is a view of `out`, but is read only in its loop
            total = total + row * x[0]
        out *= 0.5
    return np.sum(acc * h[0]) + np.sum(out * x) + np.sum(total)


def test_in_place_writes_nobody_else_sees_still_work():
    x = np.array([0.3, -0.7, 1.1])
    check_grads(in_place_writes_nobody_else_sees, (x,))


def same_target_in_two_loops(x):
    acc = x * x
    for row in np.outer(x, x):
        acc = acc + row
    total = 0.0
    for _ in range(2):
        for row in acc[:, None]:
            total = total + row * x[0]
    return np.sum(total)


def test_pullback_reads_the_final_value_of_a_loop_target():
    """A pullback whose adjoint reads a loop target's final value before popping it (`row`,
    the target of two loops) did not receive that value: UnboundLocalError."""
    x = np.array([0.3, -0.7, 1.1])
    check_grads(same_target_in_two_loops, (x,))
    s = np.sum(x)                        # by hand: total = 2 x0 (sum(x * x) + s * s)
    by_hand = 2 * x[0] * (2 * x + 2 * s)
    by_hand[0] += 2 * (np.sum(x * x) + s * s)
    np.testing.assert_allclose(srcad.grad(same_target_in_two_loops)(x), by_hand, atol=1e-12)


def filled_with(s, x):
    return np.sum(np.full_like(x, s) * x) + np.sum(np.full((2, 3), s) ** 2)


def test_the_fill_value_of_full_and_full_like_carries_a_derivative():
    """numpy.full and numpy.full_like were registered as constants, so a derivative through
    their fill value was silently zero; they are linear in it."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    s = 0.3
    assert srcad.grad(filled_with)(s, x) == pytest.approx(np.sum(x) + 2 * 6 * s)
    check_grads(filled_with, (s, x))


def square_of_a_float_cast(x, y):
    while np.sum(y * y) > 0.05:
        y = y * 0.6
    v = float(np.sum(x))
    return v * v + np.sum(y)


def test_hvp_through_float():
    """The adjoint of float() used numpy.full_like, a constant for forward mode: hvp of
    float(sum(x))**2 was 0, not 2."""
    assert srcad.hvp(square_of_a_float_cast)(0.7, np.ones(2), 1.0) == pytest.approx(2.0)


def continue_in_a_loop(x0, x1):
    for _ in range(2):
        v1 = x1 + x0
        if np.max(v1) > 0.3:
            continue
        x0 = np.sin(x0) * v1
    return np.sum(x0 * x0)


def test_hvp_of_a_loop_with_a_placeholder_value():
    """Reverse mode starts a loop value pushed before its first assignment as None; forward
    mode over that code asked for zeros_like(None): AttributeError."""
    x0, x1 = np.array([[0.1, 0.2, -0.3], [0.5, -0.4, 0.2]]), np.array([-0.4, -0.5, -0.2])
    v = np.ones_like(x0)
    hv = srcad.hvp(continue_in_a_loop)(x0, x1, v)
    gradient = srcad.grad(continue_in_a_loop)
    eps = 1e-6
    expected = (gradient(x0 + eps * v, x1) - gradient(x0 - eps * v, x1)) / (2 * eps)
    np.testing.assert_allclose(hv, expected, rtol=1e-5, atol=1e-7)


def sum_of_a_reshape(x):
    v = x.reshape(-1)
    return np.sum(v) + np.sum(np.sin(x))


def test_hvp_through_a_method_of_a_zero_derivative():
    """The tangent of `dx = d_v.reshape(...)` is zero when d_v is constant; the template left
    the zero marker in the code as `__srcad_zero__.reshape(...)`: NameError."""
    x = np.full((2, 3), 0.3)
    np.testing.assert_allclose(srcad.hvp(sum_of_a_reshape)(x, np.ones_like(x)), -np.sin(x))


def nested_loops(x):
    for _ in range(2):
        for _ in range(2):
            x = np.tanh(x + x)
    return np.sum(x * x)


def test_hvp_of_nested_loops():
    """The inner loop's stack was pushed on the outer stack while still empty, so forward
    mode over the gradient never pushed its tangent: IndexError (pop from empty list)."""
    x, v = np.array([0.1, -0.2, 0.05]), np.array([1.0, 0.5, -1.0])
    gradient = srcad.grad(nested_loops)
    eps = 1e-6
    expected = (gradient(x + eps * v) - gradient(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(srcad.hvp(nested_loops)(x, v), expected, rtol=1e-5, atol=1e-6)


def reassigned_a_constant_in_a_loop(x, c):
    v = x * 3.0
    for _ in range(2):
        v = np.sin(c)               # no longer depends on x
        v = np.tanh(v + x)
    return v


def test_a_value_reassigned_a_constant_loses_its_derivative():
    """With respect to x only, `v = np.sin(c)` makes v a constant; both modes kept v's old
    derivative (jvp and grad gave 3.27 here instead of 0.79), silently."""
    x, c = 0.3, 0.2
    expected = 1.0 - np.tanh(np.sin(c) + x) ** 2
    assert srcad.grad(reassigned_a_constant_in_a_loop)(x, c) == pytest.approx(expected)
    assert srcad.jvp(reassigned_a_constant_in_a_loop)(x, c, 1.0)[1] == pytest.approx(expected)
    check_grads(reassigned_a_constant_in_a_loop, (x, c), wrt=0)


def constant_loop_overwrites_a_value(x, w):
    y = np.dot(x, w)
    while np.sum(w * w) > 0.2:
        w = w * 0.6                 # a loop without derivatives (w is not differentiated)
    for _ in range(2):
        y = np.sin(y) * y
    return np.sum(y * w[0])


def test_adjoint_reads_the_value_a_loop_without_derivatives_overwrote():
    """The adjoint of `y = np.dot(x, w)` read the w the while loop left, not the w it was
    called with: a wrong gradient (w restored only by loops that had an adjoint)."""
    rng = np.random.default_rng(1)
    x, w = rng.uniform(-1.5, 1.5, (1, 3)), rng.uniform(-1.5, 1.5, (3, 2))
    check_grads(constant_loop_overwrites_a_value, (x, w), wrt=0)


def activated_in_a_branch_loop(x, y):
    v = y * 2.0
    if np.mean(v) < 0.3:
        for _ in range(2):
            x = x - 0.25 * v * v            # x gets a derivative (of y) on this path only
    u = 0.5 - x
    return np.sum(u * u)


def test_a_tangent_a_branch_gives_on_one_path_only_starts_at_zero_on_the_other():
    """jvp with respect to y: x has a tangent after the loop in the branch, none on the
    other path (it was a constant before): UnboundLocalError when the branch was not taken."""
    x = np.full(3, 0.2)
    for y in (np.full(3, 1.0), np.full(3, -1.0)):
        check_grads(activated_in_a_branch_loop, (x, y), wrt=1)


def doubles_in_place(p):
    p += p                          # changes the caller's array
    return p * p


def calls_a_function_that_writes_into_its_argument(x):
    q = np.sin(x)
    r = doubles_in_place(q)
    return np.sum(q + r)


def test_in_place_write_into_an_argument_is_rejected():
    """`p += p` on an argument changes the caller's array; srcad's code did not, so the
    caller's later use of it (q above) had another value and derivative, silently."""
    with pytest.raises(srcad.UnsupportedSyntaxError, match="caller's array") as info:
        srcad.grad(calls_a_function_that_writes_into_its_argument)(np.ones(3))
    assert "p += p" in str(info.value)


def dead_loop_after_a_branch(x, w):
    v = x / (2.0 + np.cos(x))
    if np.max(x) > 0.3:
        v *= np.cos(w)
    c = np.cumsum(v, axis=-1)
    k = 0
    while np.sum(v * v) > 0.05 and k < 1:
        for _ in range(1):
            v = np.sin(v) * w
        k = k + 1
    return np.sum(c * c)


@pytest.mark.parametrize("wrt", [0, 1])
def test_reverse_over_reverse_pops_a_stack_without_derivatives(wrt):
    """The gradient's loop keeps `v` on a stack whose values carry no derivative to the
    output, while `v` has one from its assignment before the loop: reverse over reverse gave
    the adjoint of the pop an adjoint stack named None (a TypeError inside srcad's codegen).
    H v by vjp of the gradient, against hvp and central differences of the gradient."""
    x, w = np.array([[0.5], [0.7]]), np.array([[0.3], [-0.4]])
    v = np.array([[1.0], [-0.5]])
    gradient = srcad.grad(dead_loop_after_a_branch, wrt=wrt)
    _, pullback = srcad.vjp(gradient, wrt=wrt)(x, w)
    hv = srcad.hvp(dead_loop_after_a_branch, wrt=wrt)(x, w, v)
    step = 1e-6
    moved = [[x, w], [x, w]]
    moved[0][wrt], moved[1][wrt] = moved[0][wrt] + step * v, moved[1][wrt] - step * v
    central = (gradient(*moved[0]) - gradient(*moved[1])) / (2 * step)
    np.testing.assert_allclose(pullback(v), hv, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hv, central, rtol=1e-6, atol=1e-9)


def counter_in_both_loops(x, n):
    for i in range(n):          # noqa: B007  (the one name of both counters is the point)
        x = x * 0.9
    if np.sum(x) > 0.0:
        for i in range(n):      # noqa: B007
            x = np.tanh(x)
    return np.sum(x * x)


@pytest.mark.parametrize("n", [0, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_loop_counter_reused_in_a_branch_with_no_trip(n, sign):
    """Normal form gives the branch not taken a copy of the counter `i` of the loop before
    (`i_2 = i_1`, so that both paths end with one version); the pullback took the counter of
    its reversed loop as a value to start from, which kept that copy alive, and with no
    trip the copy read a counter never bound: an UnboundLocalError, where Python itself
    never reads `i`. Against the derivative written by hand."""
    x = sign * np.linspace(0.1, 0.5, 3)
    y, pullback = srcad.vjp(counter_in_both_loops)(x, n)
    z, scale = x * 0.9 ** n, 0.9 ** n
    slope = np.ones(3)
    if np.sum(z) > 0.0:
        for _ in range(n):
            slope, z = slope * (1 - np.tanh(z) ** 2), np.tanh(z)
    np.testing.assert_allclose(pullback(1.0), 2 * z * slope * scale, rtol=1e-12)
    np.testing.assert_allclose(srcad.grad(counter_in_both_loops)(x, n), pullback(1.0),
                               rtol=1e-12)
    check_grads(counter_in_both_loops, (x, n), wrt=0)
