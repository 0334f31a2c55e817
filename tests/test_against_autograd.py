"""srcad against an independent AD system (HIPS autograd), in both modes.

The functions of tests/support/crosscheck_functions.py run once with `np` = NumPy through srcad, and
once with `np` = `autograd.numpy` through autograd; gradients and directional derivatives must
agree to 1e-9 relative, on hypothesis-drawn inputs.
"""


import autograd  # (the test extra installs it: a missing one fails, never skips)
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from tests.support import crosscheck_functions as ours
from tests.support.autograd_twin import autograd_twin

THEIRS = autograd_twin(ours)
values = st.floats(-1.2, 1.2, allow_nan=False, width=64).filter(lambda v: v == 0 or abs(v) > 1e-3)
inputs = st.tuples(hnp.arrays(np.float64, (4,), elements=values),
                   hnp.arrays(np.float64, (3, 4), elements=values))


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # grads wrt unused W
@pytest.mark.parametrize("index", range(len(ours.FUNCTIONS)),
                         ids=[f.__name__ for f in ours.FUNCTIONS])
@given(inputs)
def test_matches_autograd(index, args):
    x, W = args
    func, reference = ours.FUNCTIONS[index], THEIRS.FUNCTIONS[index]
    if func is ours.reductions:            # std has no derivative where a column has no spread
        assume(np.all(np.std(W + x, axis=0) > 1e-3) and np.all(np.std(W, axis=1) > 1e-3))
    want = autograd.grad(reference, 0)(x, W), autograd.grad(reference, 1)(x, W)
    got = srcad.grad(func, wrt=(0, 1))(x, W)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
    dx, dW = np.linspace(-1, 1, 4), np.linspace(0.5, -0.5, 12).reshape(3, 4)
    _, directional = srcad.jvp(func, wrt=(0, 1))(x, W, dx, dW)
    expected = np.sum(want[0] * dx) + np.sum(want[1] * dW)
    np.testing.assert_allclose(directional, expected, rtol=1e-9, atol=1e-10)
