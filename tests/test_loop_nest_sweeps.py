"""Loop nests swept once per level: what the shortcuts of generating code for a nest decide is
what the full sweeps decide.

Activity finds its active and needed names by sweeping a loop's body to a fixed point; it now
skips an inner loop whose set has not grown since the inner loop's own fixed point (sweeping it
again from each outer sweep repeated the innermost body 2^depth times). Normalize reads each
user statement's assigned names once per generation, the reverse pass each adjoint statement's
reads and stores once per function, and forward mode each assignment's rule once for all the
trials of the loops around it. These tests build random loop nests in which a value becomes
differentiated only on a later trip of an outer loop (`b = 1.0` ... `b = tanh(a * b)` inside),
with branches inside (whose adjoints pop what the primal saved), and check: activity's
annotations equal those of the plain sweeps, and the derivatives (reverse and forward mode)
equal autograd's and central finite differences. (They found an older bug: an adjoint
accumulated in place that nothing reads lost its zeros to dead-code removal but kept its
`dv += e`; see the last test.)
"""

import ast
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import annotations as anno
from srcad import ast_util, generation
from srcad.passes import activity
from srcad.testing import check_grads

LOCALS = ["a", "b", "c"]
READS = ["x", "a", "b", "c"]
FORMS = ["{t} = np.tanh({u} * {v})", "{t} = 0.5 * np.sin({u}) + 0.5 * {v}",
         "{t} = 0.5 * {u} + 0.25", "{t} = 0.5", "{t} = np.tanh({u}) * 0.5"]
#        (values stay within [-1.5, 1.5]: finite differences stay accurate)


def _statement():
    return st.builds(lambda form, t, u, v: form.format(t=t, u=u, v=v), st.sampled_from(FORMS),
                     st.sampled_from(LOCALS), st.sampled_from(READS), st.sampled_from(READS))


def _branch():
    """An `if` whose test is always true or always false at the points tested (stable under
    finite differences), each side assigning."""
    return st.builds(lambda test, yes, no: [f"if {test}:", "    " + yes, "else:", "    " + no],
                     st.sampled_from(["x.shape[0] > 2", "x[0] > 5.0"]), _statement(),
                     _statement())


def _block(depth):
    """A list of lines (indented from 0) of statements, branches and, below `depth`, loops."""
    simple = st.one_of(_statement().map(lambda s: [s]), _branch())
    if depth == 0:
        return st.lists(simple, min_size=1, max_size=3).map(
            lambda groups: [line for g in groups for line in g])
    loop = _block(depth - 1).map(
        lambda body, d=depth: [f"for _i{d} in range(2):"] + ["    " + line for line in body])
    return st.lists(st.one_of(simple, loop), min_size=1, max_size=3).map(
        lambda groups: [line for g in groups for line in g])


def _simple(min_size=0):
    return st.lists(st.one_of(_statement().map(lambda s: [s]), _branch()), min_size=min_size,
                    max_size=2).map(lambda groups: [line for g in groups for line in g])


def _nest(depth):
    """A loop nest exactly `depth` deep, statements and branches (and, below it, more loops)
    before and after each inner loop."""
    inner = _block(0) if depth == 1 else st.tuples(
        _simple(), st.one_of(_nest(depth - 1), _block(depth - 1)), _simple()).map(
        lambda parts: parts[0] + parts[1] + parts[2])
    return inner.map(lambda body, d=depth: [f"for _i{d} in range(2):"]
                     + ["    " + line for line in body])


PROGRAMS = st.integers(1, 3).flatmap(lambda depth: st.tuples(
    _simple(), _nest(depth), _simple(), _block(1))).map(
    lambda parts: "\n".join(["def f(x):", "    a = 1.0", "    b = 1.0", "    c = 1.0"]
                            + ["    " + line for part in parts for line in part]
                            + ["    return np.sum(x * a + b * c)"]))

_FOLDER = Path(tempfile.mkdtemp(prefix="srcad_nest_sweeps_"))
_COUNT = [0]


def _load(source, numpy_module):
    """`f` of `source`, from a file (srcad reads the source), with `np` as `numpy_module`."""
    _COUNT[0] += 1
    name = f"srcad_nest_sweeps_{_COUNT[0]}"
    path = _FOLDER / f"{name}.py"
    path.write_text(source + "\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.np = numpy_module
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.np = numpy_module
    return module.f


def _plain_fixed_point(loop, names, memo, sweep):
    """Activity's fixed point as it was: every sweep of an outer loop sweeps its inner loops
    again to their own fixed point."""
    size = -1
    while size != len(names):
        size = len(names)
        sweep(loop.body, names, memo)


def _activity(func):
    """The ACTIVE annotation of each statement (in walk order) and the active names, of the
    normal form of `func` for its gradient with respect to `x`."""
    tree, job = generation._job(func, "grad", ("x",), "grad_f")
    tree = generation._normal_form(tree, job)
    tree = activity.run(tree, job)
    marks = [(type(n).__name__, bool(anno.get(n, anno.ACTIVE))) for n in ast_util.walk(tree)
             if isinstance(n, ast.stmt)]
    return marks, anno.get(tree, anno.ACTIVE_NAMES)


def _plain_activity(func):
    """`_activity(func)` with the plain sweeps."""
    original = activity._fixed_point
    activity._fixed_point = _plain_fixed_point
    try:
        return _activity(func)
    finally:
        activity._fixed_point = original


@given(PROGRAMS)
@settings(max_examples=60, deadline=None)
def test_activity_skips_only_inner_loops_that_would_change_nothing(source):
    func = _load(source, np)
    assert _activity(func) == _plain_activity(func)


@given(PROGRAMS, st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=3, max_size=3))
@settings(max_examples=40, deadline=None)
def test_random_nests_match_autograd_and_finite_differences(source, values):
    x = np.array(values)
    func, reference = _load(source, np), _load(source, anp)
    expected = autograd.grad(reference)(x)
    np.testing.assert_allclose(srcad.grad(func)(x), expected, rtol=1e-9, atol=1e-12)
    tangent = np.array([0.3, -0.7, 1.1])
    _, jvp = srcad.jvp(func)(x, tangent)
    np.testing.assert_allclose(jvp, expected @ tangent, rtol=1e-9, atol=1e-12)
    check_grads(func, (x,))


def test_a_value_differentiated_from_a_later_trip_on():
    """`b` carries no derivative until `c` (differentiated from the second trip of the outer
    loop on) reaches it: the inner loops must be swept again then, not skipped."""
    source = "\n".join([
        "def f(x):", "    a = 1.0", "    b = 1.0", "    c = 1.0",
        "    for _i3 in range(2):",
        "        for _i2 in range(2):",
        "            for _i1 in range(2):",
        "                b = np.sin(b) + c",
        "        c = a * 0.5",
        "        a = x * 1.5",
        "    return np.sum(x * a + b * c)"])
    func, reference = _load(source, np), _load(source, anp)
    x = np.array([0.2, -0.4, 0.9])
    expected = autograd.grad(reference)(x)
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(srcad.grad(func)(x), expected, rtol=1e-12)
    assert _activity(func) == _plain_activity(func)
    check_grads(func, (x,))


def test_an_accumulation_nothing_reads_goes_with_its_zeros():
    """`c` carries a derivative out of the first loop, then is assigned a constant: the
    adjoint of the second loop accumulates into `dc` (in place, into zeros made before the
    loop) and nothing reads `dc` afterwards. optimize once removed the zeros as dead code and
    kept `dc += ...`: an UnboundLocalError at the user's line instead of a gradient (found by
    the random nests above). Both go now."""
    source = "\n".join([
        "def f(x):", "    a = 1.0", "    c = 1.0",
        "    for i in range(2):", "        c = np.sin(c) + x", "        c = np.tanh(a) * 0.5",
        "    for j in range(2):", "        a = c * a",
        "    return np.sum(x * a)"])
    func, reference = _load(source, np), _load(source, anp)
    x = np.array([0.2, -0.4, 0.9])
    np.testing.assert_allclose(srcad.grad(func)(x), autograd.grad(reference)(x), rtol=1e-12)
    assert not re.search(r"\bdc\b", srcad.source(srcad.grad(func)))
    check_grads(func, (x,))
