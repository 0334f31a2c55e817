"""Loops whose adjoint gets values back without a stack (`srcad.loop_plan`): a range loop's
counter run backwards, entries `xs[t]` and counter arithmetic recomputed in the reversed trip,
derivative copies in a reversed trip propagated (`passes/optimize`).

Each function of tests/support/loop_plan_functions.py (plain range loops, nested loops, rows of
an array, a shifted range, and the loops where the plan must not apply or must apply with care:
break, continue, while, a reassigned target, early return, shapes changing from trip to trip, a
later loop overwriting what an earlier one reads) is checked against autograd (the same source
run with `np` = `autograd.numpy`) and against finite differences (`check_grads`), for sequences
of hypothesis-drawn lengths (none included) and values; second order (hvp, hessian, vjp of
grad) against autograd's Hessian and central differences of srcad's gradient. The generated
source is checked for what the plan promises: no counter, trip count or entry on a stack where
it applies, trips counted where it must not.
"""

import re
import warnings

import autograd  # (the test extra installs it: a missing one fails, never skips)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad.errors import RuleFailedError
from srcad.testing import check_grads
from tests.support import loop_plan_functions as ours
from tests.support.autograd_twin import autograd_twin

THEIRS = autograd_twin(ours)
PAIRS = list(zip(ours.FUNCTIONS, THEIRS.FUNCTIONS))
IDS = [f.__name__ for f in ours.FUNCTIONS]
values = st.floats(-0.9, 0.9, allow_nan=False, width=64)


def _arguments(length, data):
    x = data.draw(hnp.arrays(np.float64, (4,), elements=values))
    xs = data.draw(hnp.arrays(np.float64, (length, 4), elements=values))
    W = data.draw(hnp.arrays(np.float64, (4, 4), elements=values))
    return x, xs, W


def _autograd_grads(theirs_f, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # ("Output seems independent of input": no trips)
        return [autograd.grad(theirs_f, i)(*args) for i in range(3)]


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 5), st.data())
def test_gradients_match_autograd_and_differences(ours_f, theirs_f, length, data):
    args = _arguments(length, data)
    got = srcad.grad(ours_f, wrt=(0, 1, 2))(*args)
    for g, want in zip(got, _autograd_grads(theirs_f, args)):
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-11)
    check_grads(ours_f, args, wrt=(0, 1, 2))


POINT = (np.array([0.3, -0.4, 0.7, 0.1]),
         np.array([[0.2, -0.5, 0.1, 0.4], [-0.3, 0.6, 0.2, -0.1], [0.5, 0.1, -0.4, 0.3],
                   [0.1, 0.2, 0.3, -0.6], [-0.2, -0.1, 0.4, 0.5]]),
         np.array([[0.4, -0.2, 0.1, 0.3], [0.2, 0.5, -0.3, 0.1], [-0.1, 0.3, 0.2, -0.4],
                   [0.3, -0.1, 0.4, 0.2]]))


def _in_x(func, args):
    def of_x(x):
        return func(x, *args[1:])
    return of_x


def central(func, x, eps=1e-6):
    """Central differences of the vector function `func` at `x`: rows are outputs."""
    cols = [(func(x + eps * e) - func(x - eps * e)) / (2 * eps) for e in np.eye(len(x))]
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS, ids=IDS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_second_order_over_the_loops(ours_f, theirs_f, sign):
    """hvp and hessian (forward over reverse) and vjp of grad (reverse over reverse) of the
    generated loops, against autograd's Hessian and central differences of srcad's gradient.
    (Both signs of x[0]: either loop of `loops_in_branches`; code differentiated again joins
    a reversed loop's counter after the branch, where the other path's loop assigned it.)"""
    x = POINT[0] * np.array([sign, 1.0, 1.0, 1.0])
    POINT_ = (x,) + POINT[1:]
    want = autograd.hessian(_in_x(theirs_f, POINT_))(x)
    numeric = central(lambda z: srcad.grad(ours_f)(z, *POINT[1:]), x)
    np.testing.assert_allclose(want, numeric, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcad.hessian(ours_f)(*POINT_), want, rtol=1e-9, atol=1e-10)
    v = np.array([0.5, -1.0, 0.25, 2.0])
    np.testing.assert_allclose(srcad.hvp(ours_f)(*POINT_, v), want @ v, rtol=1e-9, atol=1e-10)
    if ours_f is ours.changing_shapes:  # reverse over reverse of a loop whose shapes change:
        with pytest.raises(RuleFailedError):    # a clear error at the user's line, as before
            _, pullback = srcad.vjp(srcad.grad(ours_f))(*POINT_)    # these loops changed (the
            [pullback(e) for e in np.eye(4)]    # zeros for the next trip's adjoint take the
        return                                  # shape of this trip's)
    _, pullback = srcad.vjp(srcad.grad(ours_f))(*POINT_)
    rows = np.stack([pullback(e) for e in np.eye(4)])
    np.testing.assert_allclose(rows, want, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("ours_f, theirs_f", PAIRS[:4], ids=IDS[:4])
def test_a_pullback_called_twice(ours_f, theirs_f):
    """A pullback recomputes the entries and runs the counter backwards on each call, from the
    primal's final state."""
    value, pullback = srcad.vjp(ours_f, wrt=1)(*POINT)
    want = autograd.grad(theirs_f, 1)(*POINT)
    for scale in (1.0, -2.0):
        np.testing.assert_allclose(pullback(scale), scale * want, rtol=1e-9, atol=1e-11)


def _source(func, args=POINT):
    derivative = srcad.grad(func, wrt=(0, 1, 2))
    derivative(*args)
    return srcad.source(derivative, *args)


def _reversed_loop(text):
    return text[text.index("# grad of line"):]


def test_rnn_adjoint_without_counter_entry_or_copies():
    text = _source(ours.rnn_entries)
    assert "_trips" not in text and "t_stack" not in text and "_item_stack" not in text
    assert re.search(r"^ +for t in range\(xs\.shape\[0\] - 1, -1, -1\):$", text,
                     re.MULTILINE), text
    assert re.search(r"^ +_item = xs\[t\]$", _reversed_loop(text), re.MULTILINE), text
    copies = re.findall(r"^ +d\w+ = d\w+$", _reversed_loop(text), re.MULTILINE)
    assert copies == [], copies
    assert text.count(".append(") == 1                      # h, the carried state, alone


def test_nested_loops_recompute_entries_and_index_arithmetic():
    text = _source(ours.nested_entries)
    assert "_trips" not in text and "i_stack" not in text and "j_stack" not in text
    for recomputed in ("xs[i, j]", "i + 1", "j + 2"):
        assert re.search(rf"^ +_\w+ = {re.escape(recomputed)}$", _reversed_loop(text),
                         re.MULTILINE), recomputed
    assert "_item_stack" not in text and "_add_1_stack" not in text


def test_rows_of_an_array_are_recomputed():
    text = _source(ours.rows)
    assert "row_stack" not in text and "_k_stack" not in text
    assert re.search(r"^ +row = xs\[_k\]$", _reversed_loop(text), re.MULTILINE), text


@pytest.mark.parametrize("func, loop", [(ours.reversed_rows, "for _k in range(len(xs)):"),
                                        (ours.countdown, "for t in range(1, 5):")],
                         ids=["reversed_rows", "countdown"])
def test_a_range_with_step_minus_one_runs_forwards_in_the_adjoint(func, loop):
    text = _source(func)
    assert "_trips" not in text and "_k_stack" not in text and "t_stack" not in text
    assert re.search(rf"^ +{re.escape(loop)}$", _reversed_loop(text), re.MULTILINE), text


@pytest.mark.parametrize("func", [ours.countdown, ours.shifted_range, ours.while_loop,
                                  ours.inner_reads_outer_counter], ids=lambda f: f.__name__)
def test_entries_at_integer_arithmetic_have_static_shapes(func):
    """Specialized to shapes, `xs[t - 1]`, `W[i + 1, j + 1]` and `xs[t]` with `t = t + 1` in a
    while loop have known shapes (an integer index: `passes/shapes`), so no `unbroadcast`
    is left where the shapes match."""
    assert "unbroadcast(" not in _source(func)


@pytest.mark.parametrize("func", [ours.with_break, ours.early_return, ours.while_loop,
                                  ours.target_reassigned], ids=lambda f: f.__name__)
def test_trips_counted_where_the_loop_may_stop_early_or_the_counter_changes(func):
    """A loop that may leave early, a while loop and a loop that reassigns its target keep
    counting trips: the counter cannot be run backwards."""
    assert re.search(r"^ +for _\w* in range\(_trips\w*\):$", _source(func), re.MULTILINE)


def test_entries_at_a_popped_counter_and_of_changing_shapes():
    """In a loop that may stop early the entry `xs[t]` is still recomputed: the counter `t`, an
    integer, is what goes on the stack; a slice whose shape changes from trip to trip is
    recomputed too. Where the index changes within the trip (`t = t + 1` in a while loop) the
    entry is pushed."""
    text = _source(ours.early_return)
    assert "t_stack" in text and "_item_stack" not in text
    assert re.search(r"^ +_item = xs\[t\]$", _reversed_loop(text), re.MULTILINE), text
    text = _source(ours.changing_shapes)
    assert re.search(r"^ +_\w+ = xs\[:\w+\]$", _reversed_loop(text), re.MULTILINE), text
    assert "row_stack" in _source(ours.while_loop)


def test_a_later_loop_that_overwrites_what_the_reversed_loop_reads():
    """`xs` (read as `xs[t]`, not differentiated: on no stack) and `n` (the bound) are
    overwritten by a later loop: kept before it and given back after its adjoint, so the
    earlier loop's adjoint reads the old ones."""
    derivative = srcad.grad(ours.later_loop_overwrites)
    got = derivative(*POINT)
    text = srcad.source(derivative, *POINT)
    assert "xs_before_loop" in text and "n_before_loop" in text
    want = autograd.grad(THEIRS.later_loop_overwrites)(*POINT)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    check_grads(ours.later_loop_overwrites, POINT, wrt=0)


@given(st.integers(0, 6), st.integers(0, 10 ** 6))
def test_rnn_by_hand_over_drawn_lengths(length, seed):
    """The RNN against its gradient written by hand, over lengths none included."""
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal(4) * 0.5, rng.standard_normal((4, 4)) * 0.5
    xs = rng.standard_normal((length, 4))
    states = [x]
    for t in range(length):
        states.append(np.tanh(W @ states[-1] + xs[t] * x))
    dh, dW, dxs = 2 * states[-1], np.zeros_like(W), np.zeros_like(xs)
    dx = np.zeros_like(x)
    for t in reversed(range(length)):
        da = dh * (1 - states[t + 1] ** 2)
        dW += np.outer(da, states[t])
        dxs[t] = da * x
        dx += da * xs[t]
        dh = W.T @ da
    got = srcad.grad(ours.rnn_entries, wrt=(0, 1, 2))(x, xs, W)
    for g, want in zip(got, (dx + dh, dxs, dW)):
        np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)


def test_compiled_mode_runs_the_reversed_loops():
    import numba  # noqa: F401  (the test extra installs it: a missing one fails, never skips)
    for func in (ours.rnn_entries, ours.nested_entries, ours.rows, ours.shifted_range):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = srcad.grad(func, wrt=(0, 1, 2), jit=True)(*POINT)
        want = srcad.grad(func, wrt=(0, 1, 2))(*POINT)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
