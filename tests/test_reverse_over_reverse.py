"""Reverse over reverse through loops: the outer reverse pass differentiates the loop stacks of
the inner gradient (the adjoint of `S.append(v)` pops `dS` into `dv`, that of `v = S.pop()`
pushes `dv` onto `dS`).

Each function of tests/support/loop_functions.py (a `for` over a range, over the rows of an
array, over the entries of the input, a `while` whose trip count depends on the data, nested
loops, an `if` inside a loop, a helper with a loop called in a loop) is checked: the Hessian
from vjp of grad, a pullback of a cotangent, a gradient used inside a further computation and
third derivatives, against autograd's (the same source run with `np` = `autograd.numpy`) and
against central differences of srcad's first derivatives.
"""

import re

import autograd  # (the test extra installs it: a missing one fails, never skips)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from tests.support import loop_functions as ours
from tests.support.autograd_twin import autograd_twin, on_autograd

THEIRS = autograd_twin(ours)
PAIRS = list(zip(ours.FUNCTIONS, THEIRS.FUNCTIONS))
IDS = [f.__name__ for f in ours.FUNCTIONS]
POINTS = [np.array([0.3, -0.4, 0.7]), np.array([-0.8, 0.25, 0.55])]
vectors = hnp.arrays(np.float64, (3,), elements=st.floats(-1.0, 1.0, allow_nan=False,
                                                             width=64))


def central(func, x, eps=1e-6):
    """Central differences of the vector function `func` at `x`: rows are outputs."""
    cols = [(func(x + eps * e) - func(x - eps * e)) / (2 * eps) for e in np.eye(len(x))]
    return np.stack(cols, axis=1)


def reverse_hessian(func, x):
    """The Hessian, one pullback of vjp(grad(func)) per row: reverse over reverse only."""
    value, pullback = srcad.vjp(srcad.grad(func))(x)
    np.testing.assert_allclose(value, srcad.grad(func)(x), rtol=1e-12, atol=1e-14)
    return np.stack([pullback(e) for e in np.eye(len(x))])


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(vectors, vectors)
def test_vjp_of_grad_matches_autograd(ours_f, theirs_f, x, u):
    want = autograd.hessian(theirs_f)(x)
    np.testing.assert_allclose(reverse_hessian(ours_f, x), want, rtol=1e-9, atol=1e-10)
    _, pullback = srcad.vjp(srcad.grad(ours_f))(x)
    np.testing.assert_allclose(pullback(u), want.T @ u, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("ours_f", ours.FUNCTIONS, ids=IDS)
@pytest.mark.parametrize("x", POINTS, ids=["a", "b"])
def test_vjp_of_grad_matches_differences_of_the_gradient(ours_f, x):
    numeric = central(srcad.grad(ours_f), x)
    np.testing.assert_allclose(reverse_hessian(ours_f, x), numeric, rtol=1e-5, atol=1e-6)
    jac = srcad.jacobian(srcad.grad(ours_f), mode="reverse")(x)
    np.testing.assert_allclose(jac, numeric, rtol=1e-5, atol=1e-6)


def test_the_outer_pass_differentiates_the_stacks():
    """The pullback pushes the adjoint of each popped value onto an adjoint stack and pops it
    where the value was pushed: no forward mode (no `jvp_`) is involved."""
    derivative = srcad.vjp(srcad.grad(ours.nested))
    derivative(POINTS[0])
    text = srcad.source(derivative)
    assert "jvp_" not in text
    pullback = text[text.index("def pullback"):]
    for line in ["d_tanh_stack.append(d_tanh_1)",             # of `_tanh = _tanh_stack.pop()`
                 "d_tanh_1 = add_popped(d_tanh_1, d_tanh_stack.pop())"]:  # `_tanh_stack.append`
        assert re.search(rf"^ +{re.escape(line)}$", pullback, re.MULTILINE), line
    assert "_stack_stack" not in text       # the inner loop's stacks are shared by the outer
    #                                         trips (one flat stack), in both passes


def _energy(gradient):
    def energy(x):
        g = gradient(x)
        return np.sum(g * g) + np.sum(np.sin(g) * x)
    return energy


def _energy_autograd(theirs_f):
    anp = autograd.numpy

    def energy(x):
        g = autograd.grad(theirs_f)(x)
        return anp.sum(g * g) + anp.sum(anp.sin(g) * x)
    return energy


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@pytest.mark.parametrize("x", POINTS, ids=["a", "b"])
def test_a_gradient_used_inside_a_further_computation(ours_f, theirs_f, x):
    """`grad` of a function that calls a srcad gradient (with loops) and computes on with it:
    the gradient's generated code is transformed like the user's own."""
    energy = _energy(srcad.grad(ours_f))
    got = srcad.grad(energy)(x)
    np.testing.assert_allclose(got, autograd.grad(_energy_autograd(theirs_f))(x), rtol=1e-9,
                               atol=1e-10)
    np.testing.assert_allclose(got, central(lambda z: np.array([energy(z)]), x)[0],
                               rtol=1e-5, atol=1e-6)
    _, dvalue = srcad.jvp(energy)(x, np.ones(3))
    np.testing.assert_allclose(dvalue, np.sum(got), rtol=1e-9, atol=1e-10)


def _along(func, point, direction):
    def along(a):
        return func(point + a * direction)
    return along


@pytest.mark.parametrize("index", [0, 3, 4, 5], ids=[IDS[i] for i in (0, 3, 4, 5)])
def test_third_derivatives_through_loops(index):
    ours_f, theirs_f = PAIRS[index]
    point, direction = POINTS[0], np.array([0.5, -1.0, 0.25])
    ours_a, theirs_a = _along(ours_f, point, direction), _along(theirs_f, point, direction)
    second = srcad.grad(srcad.grad(ours_a))
    third = srcad.grad(second)
    for a in (0.1, -0.2):
        want2 = autograd.grad(autograd.grad(theirs_a))(a)
        want3 = autograd.grad(autograd.grad(autograd.grad(theirs_a)))(a)
        assert second(a) == pytest.approx(want2, rel=1e-9, abs=1e-10)
        assert third(a) == pytest.approx(want3, rel=1e-8, abs=1e-9)
        eps = 1e-5
        assert third(a) == pytest.approx((second(a + eps) - second(a - eps)) / (2 * eps),
                                         rel=1e-5, abs=1e-6)


def coupled(x, w):
    h = x
    for _ in range(3):
        h = np.tanh(w * h + x)
    return np.sum(h * h * w)


def test_vjp_of_a_gradient_in_two_arguments():
    """vjp of `grad(f, wrt=(0, 1))` (a tuple of gradients) with a tuple cotangent, in both
    arguments: each block of the Hessian, against autograd and central differences."""
    anp = autograd.numpy

    def theirs(x, w):
        h = x
        for _ in range(3):
            h = anp.tanh(w * h + x)
        return anp.sum(h * h * w)

    x, w = POINTS[0], np.array([0.9, -0.6, 0.4])
    u, v = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.7])
    (gx, gw), pullback = srcad.vjp(srcad.grad(coupled, wrt=(0, 1)), wrt=(0, 1))(x, w)
    got_x, got_w = pullback((u, v))

    def inner(x, w):
        return (anp.sum(autograd.grad(theirs, 0)(x, w) * u)
                + anp.sum(autograd.grad(theirs, 1)(x, w) * v))
    np.testing.assert_allclose(got_x, autograd.grad(inner, 0)(x, w), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got_w, autograd.grad(inner, 1)(x, w), rtol=1e-9, atol=1e-10)
    grad_xw = srcad.grad(coupled, wrt=(0, 1))

    def contracted(x, w):
        a, b = grad_xw(x, w)
        return np.array([np.sum(a * u) + np.sum(b * v)])
    np.testing.assert_allclose(got_x, central(lambda z: contracted(z, w), x)[0], rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(got_w, central(lambda z: contracted(x, z), w)[0], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", ["array_in_loop", "array_of_helper_results"])
@settings(max_examples=10, deadline=None)
@given(vectors, vectors)
def test_array_of_values_in_every_second_order_form(name, x, v):
    """`np.array([...])` of differentiated values, in a loop and of results of a helper with a
    loop: hessian, hvp, jvp of grad and vjp of grad against autograd's Hessian."""
    ours_f, theirs_f = getattr(ours, name), getattr(THEIRS, name)
    want = autograd.hessian(theirs_f)(x)
    np.testing.assert_allclose(srcad.hessian(ours_f)(x), want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(srcad.hvp(ours_f)(x, v), want @ v, rtol=1e-9, atol=1e-10)
    _, tangent = srcad.jvp(srcad.grad(ours_f))(x, v)
    np.testing.assert_allclose(tangent, want @ v, rtol=1e-9, atol=1e-10)
    _, pullback = srcad.vjp(srcad.grad(ours_f))(x)
    np.testing.assert_allclose(pullback(v), want.T @ v, rtol=1e-9, atol=1e-10)


# ---- first-order gradients found wrong on the way (the reversed trips of a loop) -----------
def target_known_before(x):
    s = 0.0
    j = 0
    for _ in range(2):
        s = s + x[j]                    # reads the previous inner loop's last `j`
        for j in range(2):
            s = s + np.sin(x[j] * s)
    return s


def target_assigned_again(x):
    s = 0.0
    for j in range(3):
        j = 2 - j
        s = s + np.sin(x[j] * s + x[0])
    return s


def assigned_in_one_branch(x):
    if x[0] > 0:
        a = x * 2.0
    if x[0] > 0:
        y = a * x
    else:
        y = x
    return np.sum(np.sin(y))


@pytest.mark.parametrize("func", [target_known_before, target_assigned_again,
                                  assigned_in_one_branch])
@pytest.mark.parametrize("x", POINTS, ids=["a", "b"])
def test_first_order_loops_and_branches(func, x):
    """A loop variable bound before its loop (and read after it) or assigned again in the body
    got, in the reversed trips, the value of another trip (a wrong gradient); a branch's zero
    adjoint read a value no path had assigned (an error). Both modes, against autograd."""
    theirs = on_autograd(func)
    want = autograd.grad(theirs)(x)
    np.testing.assert_allclose(srcad.grad(func)(x), want, rtol=1e-12, atol=1e-14)
    _, directional = srcad.jvp(func)(x, np.ones(3))
    np.testing.assert_allclose(directional, np.sum(want), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reverse_hessian(func, x), autograd.hessian(theirs)(x),
                               rtol=1e-9, atol=1e-12)


def vector_map(x):
    h = x
    for i in range(3):
        h = np.tanh(h * x[i] + 0.2)
    return np.array([np.sum(h * h), h[0] * x[2]])


def paired(x, u):
    return np.sum(vector_map(x) * u)


def test_second_order_vjp_of_a_vector_function():
    """The vjp of a vjp (what `srcad.vjp(srcad.vjp(F))` would mean): the gradient in `x` of
    `<F(x), u>` is `J(x)^T u`, and vjp of that gradient is the second-order vjp. Against
    autograd's vjp of its vjp, through a loop and `np.array` of values."""
    theirs = on_autograd(vector_map)
    x, u, w = POINTS[1], np.array([0.7, -1.3]), np.array([0.2, 0.5, -0.4])
    first, pullback = srcad.vjp(srcad.grad(paired))(x, u)
    first_vjp, _ = autograd.make_vjp(theirs)(x)
    np.testing.assert_allclose(first, first_vjp(u), rtol=1e-12, atol=1e-14)

    def contracted(z):
        return autograd.numpy.sum(autograd.make_vjp(theirs)(z)[0](u) * w)
    np.testing.assert_allclose(pullback(w), autograd.grad(contracted)(x), rtol=1e-9,
                               atol=1e-12)
    numeric = central(lambda z: srcad.grad(paired)(z, u), x)
    np.testing.assert_allclose(pullback(w), numeric.T @ w, rtol=1e-5, atol=1e-7)
    with pytest.raises(srcad.SrcadError, match="not of vjp"):
        srcad.vjp(srcad.vjp(vector_map))


DIRECTION = np.array([1.0, -0.5, 0.25])
jvp_over_range = srcad.jvp(ours.over_range)


def squared_directional(x):
    _, tangent = jvp_over_range(x, DIRECTION)
    return tangent * tangent


def test_a_jvp_used_inside_a_further_computation():
    """grad (reverse over forward) and jvp of a function that calls a srcad jvp with a loop."""
    x = POINTS[0]

    def theirs(z):
        return autograd.numpy.sum(autograd.grad(THEIRS.over_range)(z) * DIRECTION) ** 2
    got = srcad.grad(squared_directional)(x)
    np.testing.assert_allclose(got, autograd.grad(theirs)(x), rtol=1e-9, atol=1e-12)
    _, directional = srcad.jvp(squared_directional)(x, DIRECTION)
    np.testing.assert_allclose(directional, got @ DIRECTION, rtol=1e-9, atol=1e-12)


def _activated():
    act = np.sin

    def activated(x):
        h = x
        for _ in range(2):
            h = act(h) * x
        return np.sum(h)

    def use(new):
        nonlocal act
        act = new
    return activated, use


activated, use_activation = _activated()
grad_activated = srcad.grad(activated)


def activated_energy(x):
    return np.sum(grad_activated(x) ** 2)


def test_a_called_gradient_that_goes_stale_is_generated_again():
    """The code of `grad(activated_energy)` is made from `grad_activated`'s generated code,
    which holds the closure value `act` as a constant: changing the closure makes the inner
    gradient stale, and with it the outer (a guard on the inner code's validity)."""
    x = POINTS[0]
    energy_grad = srcad.grad(activated_energy)
    before = energy_grad(x)
    try:
        use_activation(np.cos)
        after = energy_grad(x)
        np.testing.assert_allclose(after, central(
            lambda z: np.array([activated_energy(z)]), x)[0], rtol=1e-5, atol=1e-6)
        assert not np.allclose(after, before)
    finally:
        use_activation(np.sin)
    np.testing.assert_allclose(energy_grad(x), before, rtol=1e-12)
