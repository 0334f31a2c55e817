"""Code generation that scales, and loop nests that keep only what their adjoint reads.

Timings are not tested here (examples/scaling.py measures them); these tests pin the pieces
that made generation superlinear to the behaviour they replaced: `ast_util.walk` visits what
`ast.walk` visits (less the context and operator markers) in the same order, `Namer.fresh`
gives the first free name even after `restore`, and the unread stacks removed from loop nests
change no derivative (checked against autograd and finite differences) while an outer loop no
longer keeps, per trip, the values its inner loop pops for itself.
"""

import ast
import inspect

import autograd
import autograd.numpy as anp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import ast_util, generation
from srcad.naming import Namer
from srcad.passes import normalize, optimize, reverse
from srcad.testing import check_grads


def test_walk_visits_what_ast_walk_visits_in_its_order():
    """Every node `ast.walk` visits, in its order, less the context and operator markers."""
    markers = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
    for module in (normalize, optimize, reverse):
        tree = ast.parse(inspect.getsource(module))
        expected = [n for n in ast.walk(tree) if not isinstance(n, markers)]
        got = ast_util.walk(tree)
        assert len(got) == len(expected)
        assert all(a is b for a, b in zip(got, expected))


@given(st.lists(st.sampled_from(["_mul", "_mul_1", "_tanh", "d_mul", "_t", "9x"]),
                max_size=30), st.integers(0, 30))
@settings(max_examples=60, deadline=None)
def test_fresh_gives_the_first_free_name_after_any_history(bases, cut):
    """The counter a base resumes from never skips a free name, also after `restore`."""
    namer = Namer({"_mul_2"})
    state, given_names = None, []
    for i, base in enumerate(bases):
        if i == cut:
            state = namer.snapshot()
        given_names.append(namer.fresh(base))
    assert len(set(given_names)) == len(given_names)
    if state is not None:
        namer.restore(state)
        reference = Namer()
        reference.taken = set(state[0])
        for base in bases[cut:]:
            assert namer.fresh(base) == _first_free(reference, base)


def _first_free(namer, base):
    base = base if base.isidentifier() else "_t"
    candidate, k = base, 0
    while candidate in namer.taken:
        k += 1
        candidate = f"{base}_{k}"
    namer.taken.add(candidate)
    return candidate


def nest(x, y):
    h = x * y
    for _i in range(2):
        for _j in range(3):
            h = np.tanh(h) * y
            h = h + 0.5 * x
    return np.sum(h)


def nest_autograd(x, y):
    h = x * y
    for _i in range(2):
        for _j in range(3):
            h = anp.tanh(h) * y
            h = h + 0.5 * x
    return anp.sum(h)


def nest_reading_after(x, y):
    """The adjoint of `z = h * h` reads `h` as it was before the loops: what the loops' stacks
    give back must stay."""
    h = x * y
    z = h * h
    for _i in range(2):
        for _j in range(2):
            h = np.sin(h) * z
    return np.sum(h * z)


def nest_reading_after_autograd(x, y):
    h = x * y
    z = h * h
    for _i in range(2):
        for _j in range(2):
            h = anp.sin(h) * z
    return anp.sum(h * z)


arrays = st.lists(st.floats(-1.0, 1.0, allow_nan=False, width=64), min_size=3, max_size=3)


@given(arrays, arrays)
@settings(max_examples=15, deadline=None)
def test_loop_nests_match_autograd_and_finite_differences(x, y):
    x, y = np.array(x), np.array(y)
    for f, reference in ((nest, nest_autograd),
                         (nest_reading_after, nest_reading_after_autograd)):
        got = srcad.grad(f, wrt=(0, 1))(x, y)
        expected = autograd.grad(reference, (0, 1))(x, y)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
        check_grads(f, (x, y))


def test_an_outer_loop_keeps_no_copy_of_what_its_inner_loop_pops():
    text = generation.generate(nest, "grad", ("x", "y")).text
    pushes = [line.strip() for line in text.splitlines() if ".append(" in line]
    # the inner loop's values (h twice, tanh, the shape of `0.5 * x`), the inner stacks saved
    # per outer trip, and the inner trip count: nothing of h or tanh before the inner loop
    assert pushes == ["_trips_stack.append(_trips)", "_tanh_stack.append(_tanh)",
                      "h_stack.append(h)", "_mul_stack.append(shape_only(_mul))",
                      "h_stack.append(h)", "_mul_stack_stack.append(_mul_stack)",
                      "_tanh_stack_stack.append(_tanh_stack)",
                      "h_stack_stack.append(h_stack)"]
    assert text.count(".pop()") == len(pushes)


def test_a_stack_whose_value_is_read_after_the_loop_stays():
    text = generation.generate(nest_reading_after, "grad", ("x", "y")).text
    popped = {line.split("=")[0].strip() for line in text.splitlines() if ".pop()" in line}
    assert "h" in popped
