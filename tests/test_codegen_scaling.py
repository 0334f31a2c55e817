"""Code generation that scales, and loop nests that keep only what their adjoint reads.

Timings are not tested here (examples/scaling.py measures them); these tests pin the pieces
that made generation superlinear to the behaviour they replaced: `ast_util.walk` visits what
`ast.walk` visits (less the context and operator markers) in the same order, `NameIndex` and
liveness with kept reads answer what the walks answer, `copy_node` copies, `Namer.fresh`
gives the first free name even after `restore`, and the unread stacks removed from loop nests
change no derivative (checked against autograd and finite differences) while an outer loop
no longer keeps, per trip, the values its inner loop pops for itself; forward mode's loop
trials (which change nothing and ask a template once per pattern) find tangents that appear
trip by trip in a nest.
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
from tests.support.autograd_twin import on_autograd


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
    # the inner loop's values (h twice, tanh, the shape of `0.5 * x`) on stacks shared by the
    # outer trips (no stack of stacks): nothing of h or tanh before the inner loop, no trip
    # count (both range loops run their counters backwards)
    assert pushes == ["_tanh_stack.append(_tanh)",
                      "h_stack.append(h)", "_mul_stack.append(shape_only(_mul))",
                      "h_stack.append(h)"]
    assert text.count(".pop()") == len(pushes)
    assert "_stack_stack" not in text
    starts = [line for line in text.splitlines() if line.endswith("_stack = []")]
    assert len(starts) == 3 and all(len(line) - len(line.lstrip()) == 4
                                    for line in starts), starts     # before the outer loop


def test_a_stack_whose_value_is_read_after_the_loop_stays():
    text = generation.generate(nest_reading_after, "grad", ("x", "y")).text
    popped = {line.split("=")[0].strip() for line in text.splitlines() if ".pop()" in line}
    assert "h" in popped


def _function_trees():
    for module in (normalize, optimize, reverse):
        tree = ast.parse(inspect.getsource(module))
        yield from (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def test_name_index_answers_what_the_walks_answer():
    """`NameIndex`: the statements' own parts hold every node of the tree once; its stored,
    loaded and under (asked in any order, kept) are `ast_util.stored`, `loaded` and the names
    of `walk`, statement by statement and for lists of them."""
    for tree in _function_trees():
        index = ast_util.NameIndex()
        statements = optimize._statements(tree)
        owned = [id(n) for stmt in statements for n in index.own(stmt)]
        assert sorted(owned) == sorted(id(n) for n in ast_util.walk(tree))
        for stmt in reversed(statements):          # inner statements first, then outer
            assert index.stored(stmt) == ast_util.stored(stmt)
            assert index.loaded(stmt) == ast_util.loaded(stmt)
            names = [n for n in ast_util.walk(stmt) if isinstance(n, ast.Name)]
            assert sorted(map(id, index.under(stmt))) == sorted(map(id, names))
        body = getattr(tree, "body", [])
        assert index.stored(body) == ast_util.stored(body)
        assert index.loaded(body) == ast_util.loaded(body)


def test_kept_reads_give_the_same_liveness():
    """`live_after_each` and `read_before_assigned` with a memo (kept across calls, as the
    alias check keeps it) answer as without one, for every block of real code."""
    for tree in _function_trees():
        memo = {}
        for node in optimize._statements(tree):
            for field in ("body", "orelse"):
                stmts = getattr(node, field, None)
                if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                    later = {"self", "tree", "node"}
                    assert ast_util.live_after_each(stmts, later, memo) == \
                        ast_util.live_after_each(stmts, later)
                    assert ast_util.read_before_assigned(stmts, memo) == \
                        ast_util.read_before_assigned(stmts)


def test_copy_node_copies_every_node_and_keeps_annotations():
    for tree in _function_trees():
        ast_util.walk(tree)[-1]._srcad = {"key": 1}
        copy = ast_util.copy_node(tree)
        assert ast.dump(copy, include_attributes=True) == \
            ast.dump(tree, include_attributes=True)
        originals = {id(n) for n in ast_util.walk(tree)}
        assert not any(id(n) in originals for n in ast_util.walk(copy))
        assert ast_util.walk(copy)[-1]._srcad == {"key": 1}
        assert ast_util.walk(copy)[-1]._srcad is not ast_util.walk(tree)[-1]._srcad


def late_nest(x, y):
    """`a` gets a tangent only on the second inner trip, from `h`: the loops' trials must find
    that both carry tangents from trip to trip, at both levels."""
    a = y * 0.5
    h = y
    for _i in range(3):
        for _j in range(2):
            h = np.sin(h) * a + h
            a = x * h
    return np.sum(h * a)


@given(arrays, arrays, arrays)
@settings(max_examples=10, deadline=None)
def test_loop_nest_tangents_match_autograd(x, y, dx):
    """Forward mode over a loop nest whose tangents appear trip by trip: the directional
    derivative is autograd's gradient along `dx`, and the gradient is autograd's."""
    x, y, dx = np.array(x), np.array(y), np.array(dx)
    want = autograd.grad(on_autograd(late_nest), 0)(x, y)
    _, directional = srcad.jvp(late_nest, wrt=(0,))(x, y, dx)
    np.testing.assert_allclose(directional, np.sum(want * dx), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(srcad.grad(late_nest, wrt=(0,))(x, y)[0], want, rtol=1e-9,
                               atol=1e-11)
    check_grads(late_nest, (x, y))
