"""srcad's one unparser (`srcad.codegen.expression`, astor behind it): what it writes parses back
to the same expression, long expressions included (astor breaks long lines); generated code with
a long branch or loop test compiles and is right; the other modules that write an expression
(errors quoting the user's code, the integer-cast check) read it as the user wrote it."""

import ast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import codegen
from srcad.errors import SrcadError
from srcad.testing import check_grads

NAMES = ["x", "y", "np", "a_rather_long_name_of_a_value", "another_long_name_for_a_value"]
BINARY = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.Mod, ast.FloorDiv]
COMPARE = [ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In]


def _name(ident):
    return ast.Name(id=ident, ctx=ast.Load())


leaves = st.one_of(
    st.sampled_from(NAMES).map(_name),
    st.integers(0, 10 ** 6).map(ast.Constant),
    st.floats(0.0, 1e6, allow_nan=False).map(ast.Constant),
    st.sampled_from(["int32", "float64", "it's", 'say "hi"']).map(ast.Constant),
    st.sampled_from([None, True, False]).map(ast.Constant))


def _compound(children):
    return st.one_of(
        st.builds(lambda op, a, b: ast.BinOp(left=a, op=op(), right=b),
                  st.sampled_from(BINARY), children, children),
        st.builds(lambda op, a: ast.UnaryOp(op=op(), operand=a),
                  st.sampled_from([ast.USub, ast.Not, ast.Invert]), children),
        st.builds(lambda op, a, b: ast.Compare(left=a, ops=[op()], comparators=[b]),
                  st.sampled_from(COMPARE), children, children),
        st.builds(lambda op, values: ast.BoolOp(op=op(), values=values),
                  st.sampled_from([ast.And, ast.Or]), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda f, args: ast.Call(func=ast.Attribute(value=_name("np"), attr=f,
                                                              ctx=ast.Load()),
                                           args=args, keywords=[]),
                  st.sampled_from(["tanh", "sum", "shape"]), st.lists(children, max_size=3)),
        st.builds(lambda a, i: ast.Subscript(value=a, slice=i, ctx=ast.Load()),
                  children, children),
        st.builds(lambda a: ast.Attribute(value=a, attr="T", ctx=ast.Load()), children),
        st.builds(lambda t, a, b: ast.IfExp(test=t, body=a, orelse=b),
                  children, children, children))


expressions = st.recursive(leaves, _compound, max_leaves=24)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_what_the_unparser_writes_parses_back_to_the_same_expression(node):
    text = codegen.expression(node)
    assert ast.dump(ast.parse(text, mode="eval").body) == ast.dump(node), text


def test_a_string_alone_is_written_as_a_string_not_a_docstring():
    assert codegen.expression(ast.Constant("int64")) == "'int64'"
    assert codegen.expression(ast.parse("(a + b) * c", mode="eval").body) == "(a + b) * c"


def long_branch(x, a, b):
    if np.ndim(a) == 2 and np.shape(a)[0] < np.shape(a)[1] + 1 and b < 3.0 and b > -3.0 and True:
        y = x * 2.0
    else:
        y = x * 3.0
    return np.sum(np.sin(y))


def long_loop(x, steps_with_a_long_name, limit_with_a_long_name):
    i = 0
    while i < steps_with_a_long_name and i < limit_with_a_long_name and i >= 0 and i != 99:
        x = x * 0.5
        i = i + 1
    return np.sum(x * x)


def test_a_long_branch_test_gives_code_that_compiles_and_is_right():
    """The test's text once lost the parentheses that made astor's line break valid: the
    generated code was a SyntaxError."""
    x = np.array([0.3, -0.2, 0.9])
    for a, factor in ((np.ones((2, 2)), 2.0), (np.ones(2), 3.0)):
        expected = factor * np.cos(factor * x)
        np.testing.assert_allclose(srcad.grad(long_branch)(x, a, 1.0), expected)
        np.testing.assert_allclose(srcad.vjp(long_branch)(x, a, 1.0)[1](1.0), expected)
        np.testing.assert_allclose(srcad.jvp(long_branch)(x, a, 1.0, np.ones(3))[1],
                                   np.sum(expected))
        check_grads(long_branch, (x, a, 1.0), wrt=(0,))
    assert "if " in srcad.grad(long_branch).source()


def test_a_long_loop_test_gives_code_that_compiles_and_is_right():
    x = np.array([3.0, -1.0])
    for steps, limit in ((4, 6), (5, 3)):
        expected = 2 * x * 0.25 ** min(steps, limit)
        np.testing.assert_allclose(srcad.value_and_grad(long_loop)(x, steps, limit)[1],
                                   expected)
        np.testing.assert_allclose(srcad.jvp(long_loop)(x, steps, limit, np.ones(2))[1],
                                   np.sum(expected))
        check_grads(long_loop, (x, steps, limit), wrt=(0,))
    assert "while " in srcad.grad(long_loop).source()


def misspelled(x):
    return np.linalg.nrom(x)


def calls_a_local(x):
    g = np.tanh
    return np.sum(g(x))


@pytest.mark.parametrize("func, quoted", [(misspelled, "`np.linalg.nrom`"),
                                          (calls_a_local, "`g`")])
def test_errors_quote_the_callee_as_the_user_wrote_it(func, quoted):
    with pytest.raises(SrcadError) as info:
        srcad.grad(func)(np.ones(2))
    assert quoted in str(info.value)
    assert __file__ in str(info.value)


def integer_casts(x):
    return (np.sum(x * x.astype("int64")) + np.sum(x * x.astype(np.int32))
            + np.sum(x * x.astype(int)) + np.sum(x.astype("float64") * 2.0))


def test_integer_casts_cut_the_derivative_however_the_dtype_is_written():
    x = np.array([1.3, 2.6, 0.4])
    np.testing.assert_allclose(srcad.grad(integer_casts)(x), 3 * np.floor(x) + 2.0)
    check_grads(integer_casts, (x,))
