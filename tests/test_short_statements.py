"""codegen's short-statement writer (`codegen._Short`) writes what astor writes.

Generated code is mostly short statements of names, numbers, calls and arithmetic, and `_Short`
writes those instead of astor (a tenth of the time of generating long functions went to
astor). These tests hold it to astor's text: random statements built from every node kind it
writes and from some it leaves to astor (strings, comparisons, starred arguments, dicts), in
every position, and the statements of the generated code of the golden functions; and to the
`_pp` precedence astor leaves on each node (a later astor call reads it where a parent gives
none).
"""

import ast
import copy
import inspect

import astor
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import codegen
from tests.support import golden_functions as g

NAMES = st.sampled_from(["x", "dx", "_mul_1", "np", "W"])
NUMBERS = st.one_of(st.integers(-3, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                    st.booleans(), st.none(), st.just(...))
OTHER_CONSTANTS = st.one_of(st.sampled_from(["a", "it's", "x\ny", b"b", float("inf"),
                                             float("nan"), -float("inf")]),
                            st.complex_numbers(max_magnitude=3))
BINARY = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult,
          ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift]
UNARY = [ast.USub, ast.UAdd, ast.Not, ast.Invert]


def _name(ident, ctx=ast.Load):
    return ast.Name(id=ident, ctx=ctx())


def _expressions(others):
    """Expressions of the kinds `_Short` writes; with `others`, also of kinds it leaves to
    astor."""
    leaves = st.one_of(NAMES.map(_name), NUMBERS.map(lambda v: ast.Constant(value=v)))
    if others:
        leaves = leaves | OTHER_CONSTANTS.map(lambda v: ast.Constant(value=v))

    def grow(inner):
        slices = st.builds(lambda lo, up, step: ast.Slice(lower=lo, upper=up, step=step),
                           st.none() | inner, st.none() | inner,
                           st.none() | inner | st.just(_name("None")))
        written = st.one_of(
            st.builds(lambda a, op, b: ast.BinOp(left=a, op=op(), right=b), inner,
                      st.sampled_from(BINARY), inner),
            st.builds(lambda op, a: ast.UnaryOp(op=op(), operand=a), st.sampled_from(UNARY),
                      inner),
            st.builds(lambda v, attr: ast.Attribute(value=v, attr=attr, ctx=ast.Load()),
                      inner, st.sampled_from(["T", "shape", "append"])),
            st.builds(lambda f, args, kws: ast.Call(func=f, args=args, keywords=[
                ast.keyword(arg=k, value=v) for k, v in kws]), inner, st.lists(inner, max_size=3),
                st.lists(st.tuples(st.sampled_from(["axis", None]), inner), max_size=2)),
            st.builds(lambda v, s: ast.Subscript(value=v, slice=s, ctx=ast.Load()), inner,
                      inner | slices | st.lists(inner | slices, max_size=3).map(
                          lambda elts: ast.Tuple(elts=elts, ctx=ast.Load()))),
            st.lists(inner, max_size=3).map(lambda elts: ast.Tuple(elts=elts, ctx=ast.Load())),
            st.lists(inner, max_size=3).map(lambda elts: ast.List(elts=elts, ctx=ast.Load())),
        )
        if not others:
            return written
        return written | st.one_of(
            st.builds(lambda a, b: ast.Compare(left=a, ops=[ast.Lt()], comparators=[b]),
                      inner, inner),
            inner.map(lambda v: ast.Starred(value=v, ctx=ast.Load())),
            st.builds(lambda k, v: ast.Dict(keys=[k], values=[v]), inner, inner))
    return st.recursive(leaves, grow, max_leaves=8)


def _statements(others=False):
    expr = _expressions(others)
    target = NAMES.map(lambda i: _name(i, ast.Store))
    return st.one_of(
        st.builds(lambda t, v: ast.Assign(targets=[t], value=v), target, expr),
        st.builds(lambda a, b, v: ast.Assign(targets=[a, b], value=v), target, target, expr),
        st.builds(lambda t, v: ast.Assign(targets=[ast.Tuple(elts=t, ctx=ast.Store())], value=v),
                  st.lists(target, min_size=1, max_size=3), expr),
        st.builds(lambda t, op, v: ast.AugAssign(target=t, op=op(), value=v), target,
                  st.sampled_from(BINARY), expr),
        expr.map(lambda v: ast.Expr(value=v)),
        (st.none() | expr).map(lambda v: ast.Return(value=v)),
        st.just(ast.Pass()),
    )


def _operands_astor_writes(stmt):
    """True when an attribute's value, a callee or a subscripted value is of a kind that puts
    parentheses of its own (`(a + b).T`): astor gives it no precedence, and `_Short` leaves it
    to astor."""
    plain = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)
    return any(isinstance(getattr(n, field, None), ast.AST)
               and not isinstance(getattr(n, field), plain)
               for n in ast.walk(stmt) for field in ("value", "func")
               if isinstance(n, (ast.Attribute, ast.Call, ast.Subscript)))


def _precedences(node):
    return [(type(n).__name__, getattr(n, "_pp", None)) for n in ast.walk(node)]


@given(st.booleans().flatmap(_statements))
@settings(max_examples=150, deadline=None)
def test_short_statements_read_as_astor_writes_them(stmt):
    """The same text as astor (parentheses, numbers, trailing commas, long lines left to
    astor), and the same precedence left on every node."""
    twin = _copy(stmt)
    expected = astor.to_source(twin)
    assert codegen._source(stmt) == expected
    assert _precedences(stmt) == _precedences(twin)


@given(_statements())
@settings(max_examples=150, deadline=None)
def test_short_writes_short_statements_itself(stmt):
    """Statements of the kinds it writes, short enough for one line, are written by `_Short`
    itself (not handed to astor), in text that parses back to the statement astor reads."""
    expected = astor.to_source(_copy(stmt))
    text = codegen._Short.statement(stmt)
    if len(expected) <= 80 and not _operands_astor_writes(stmt):
        assert text is not None
    if text is not None:
        assert text + "\n" == expected
        assert ast.dump(ast.parse(text).body[0]) == ast.dump(ast.parse(expected).body[0])


def test_short_statements_are_most_of_generated_code():
    """Every statement of the golden functions' generated code: astor's text; and most of them
    written by `_Short` (else it would not save anything)."""
    written = total = 0
    for func, kind, wrt in [(g.rnn, "grad", (0, 1)), (g.network, "vjp", 1),
                            (g.two_layers, "jvp", 2), (g.branch, "grad", 0)]:
        text = srcad.source(getattr(srcad, kind)(func, wrt=wrt))
        tree = ast.parse(text)
        for stmt in ast.walk(tree):
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)):
                total += 1
                short = codegen._Short.statement(_copy(stmt))
                written += short is not None
                assert codegen._source(_copy(stmt)) == astor.to_source(_copy(stmt))
    assert total > 40 and written > 0.8 * total


def test_the_unparser_module_keeps_astor_for_the_rest():
    """A function's signature, a loop and a branch go to astor as before."""
    source = inspect.getsource(codegen._Emitter.function)
    assert "astor.to_source" in source
    loop = ast.parse("for i in range(3):\n    x = 'a'\n").body[0]
    assert codegen.statement(loop) == astor.to_source(loop).strip()


def _copy(node):
    """A deep copy of `node`, with the `_pp` astor or `_Short` left on its nodes."""
    return copy.deepcopy(node)
