"""Loop nests with one flat stack per value (`passes/reverse`, `_shared_stacks`): the reversed
nest replays the forward trips in reverse, so the inner loops' values are pushed onto stacks
started before the outermost loop and popped there, not kept per outer trip on stacks of
stacks. Checked against autograd and central differences for trip counts from 0 (no outer trip)
to 4 (inner trips that differ from outer trip to outer trip, none in some), pullbacks called
twice, and second order (hvp, hessian, vjp of grad)."""

import warnings

import autograd  # (the test extra installs it: a missing one fails, never skips)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.testing import check_grads
from tests.support import flat_stack_functions as ours
from tests.support.autograd_twin import autograd_twin

THEIRS = autograd_twin(ours)
PAIRS = list(zip(ours.FUNCTIONS, THEIRS.FUNCTIONS))
IDS = [f.__name__ for f in ours.FUNCTIONS]
values = st.floats(-0.9, 0.9, allow_nan=False, width=64)
X = np.array([0.3, -0.4, 0.7, 0.1])
XS = np.array([[0.2, -0.5, 0.1, 0.4], [-0.3, 0.6, 0.2, -0.1], [0.5, 0.1, -0.4, 0.3],
               [0.1, 0.2, 0.3, -0.6]])


def _autograd_grads(theirs_f, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # ("Output seems independent of input": no trips)
        return [autograd.grad(theirs_f, i)(*args) for i in range(2)]


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@settings(max_examples=12, deadline=None)
@given(st.integers(0, 4), st.data())
def test_gradients_match_autograd_and_differences(ours_f, theirs_f, length, data):
    x = data.draw(hnp.arrays(np.float64, (4,), elements=values))
    xs = data.draw(hnp.arrays(np.float64, (length, 4), elements=values))
    got = srcad.grad(ours_f, wrt=(0, 1))(x, xs)
    for g, want in zip(got, _autograd_grads(theirs_f, (x, xs))):
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-11)
    if ours_f not in (ours.nested_while, ours.in_branch):   # (differences could cross the
        check_grads(ours_f, (x, xs), wrt=(0, 1))            # data-dependent branch)


@pytest.mark.parametrize("ours_f", ours.FUNCTIONS, ids=IDS)
def test_no_stack_of_stacks(ours_f):
    derivative = srcad.grad(ours_f, wrt=(0, 1))
    derivative(X, XS)
    text = srcad.source(derivative, X, XS)
    assert ".append(" in text and "_stack_stack" not in text, text


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
def test_differences_at_a_point(ours_f, theirs_f):
    check_grads(ours_f, (X, XS), wrt=(0, 1))


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_pullback_called_twice(ours_f, theirs_f, sign):
    """Each call pops from its own copy of the flat stacks (both paths of `nest_in_branch`)."""
    x = X * np.array([sign, 1.0, 1.0, 1.0])
    _, pullback = srcad.vjp(ours_f, wrt=(0, 1))(x, XS)
    want = _autograd_grads(theirs_f, (x, XS))
    for scale in (1.0, -2.0, 0.5):
        for g, w in zip(pullback(scale), want):
            np.testing.assert_allclose(g, scale * w, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@pytest.mark.parametrize("length", [0, 1, 3])
def test_second_order(ours_f, theirs_f, length):
    """hvp and hessian (forward over reverse) and vjp of grad (reverse over reverse), against
    autograd's Hessian and central differences of srcad's gradient."""
    xs = XS[:length]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = autograd.hessian(lambda z: theirs_f(z, xs))(X)
    gradient = srcad.grad(ours_f)
    eps = 1e-6
    numeric = np.stack([(gradient(X + eps * e, xs) - gradient(X - eps * e, xs)) / (2 * eps)
                        for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(want, numeric, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcad.hessian(ours_f)(X, xs), want, rtol=1e-9, atol=1e-10)
    v = np.array([0.5, -1.0, 0.25, 2.0])
    np.testing.assert_allclose(srcad.hvp(ours_f)(X, xs, v), want @ v, rtol=1e-9, atol=1e-10)
    _, pullback = srcad.vjp(gradient)(X, xs)
    rows = np.stack([pullback(e) for e in np.eye(4)])
    np.testing.assert_allclose(rows, want, rtol=1e-9, atol=1e-10)
