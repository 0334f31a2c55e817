"""The two shorthands for rules whose one formula gives both modes (registered by
`rules.elementwise` and `rules.linear`).

An elementwise rule names the derivative carried through first (`g`), then the result and the
arguments, and returns `g` times the derivative, as the expression a person would write::

    @elementwise(numpy.tanh)
    def tanh(g, y, x):
        return g * (1.0 - y * y)

gives the adjoint `d[x] += d[y] * (1.0 - y * y)` and the tangent `d[y] = d[x] * (1.0 - y * y)`
(the Jacobian of an elementwise function is diagonal, so it is its own transpose). Only the
first argument carries a derivative; the others are constants.

A linear rule (linear in its first argument, the others constants) returns its transpose
applied to the result's adjoint; its tangent is the primitive itself applied to the tangent,
with the other arguments in order::

    @linear(numpy.swapaxes)
    def swapaxes(y, a, axis1, axis2):
        return numpy.swapaxes(d[y], axis1, axis2)

gives the adjoint `d[a] += numpy.swapaxes(d[y], axis1, axis2)` and the tangent
`d[y] = numpy.swapaxes(d[a], axis1, axis2)`. The primitive is called by the name the rule's
module knows it by (`swapaxes` imported from a module, or `numpy.swapaxes`).

In: the decorated function (statements before the `return` are kept, in both modes) and the
key. Out: for each mode, the arguments of its `Template`: `build()` returns the statements of
the derived body, `signature` its parameters where they differ from the function's, `names`
what the derived body calls.
"""

import ast
import inspect

import numpy

from .errors import TemplateError
from .template import definition


def elementwise(func):
    """`{mode: Template arguments}` of the elementwise rule `func(g, result, x, ...)`."""
    params = list(inspect.signature(func).parameters.values())
    if len(params) < 3:
        raise TemplateError(f"the elementwise rule {func.__name__} needs the parameters "
                            "(g, result, x, ...)")
    carried, result, argument = (p.name for p in params[:3])
    signature = inspect.signature(func).replace(parameters=params[1:])

    def build(target, source, op):
        def body():
            head, returned = _returned(func)
            value = _Substitute(carried, source).visit(returned.value)
            return head + [_derivative(target, op, value, returned)]
        return body

    return {"adjoint": {"signature": signature, "build": build(argument, result, ast.Add())},
            "tangent": {"signature": signature, "build": build(result, argument, None)}}


def linear(func, key):
    """`{mode: Template arguments}` of the linear rule `func(result, x, ...)` of `key`."""
    params = list(inspect.signature(func).parameters.values())
    if len(params) < 2 or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise TemplateError(f"the linear rule {func.__name__} needs the parameters "
                            "(result, x, ...) without *args or **kwargs")
    result, argument, rest = params[0].name, params[1].name, params[2:]
    callee, names = _callee(key)

    def adjoint():
        head, returned = _returned(func)
        return head + [_derivative(argument, ast.Add(), returned.value, returned)]

    def tangent():
        _, returned = _returned(func)
        args = [_d(argument)] + [_name(p.name) for p in rest if p.kind != p.KEYWORD_ONLY]
        keywords = [ast.keyword(arg=p.name, value=_name(p.name))
                    for p in rest if p.kind == p.KEYWORD_ONLY]
        value = ast.Call(func=callee(), args=args, keywords=keywords)
        return [_derivative(result, None, value, returned)]

    return {"adjoint": {"build": adjoint},
            "tangent": {"build": tangent, "names": names}}


def _returned(func):
    """(statements before the `return`, the `return` statement) of a shorthand's body; the
    statement built from the returned formula takes the place of the `return`."""
    body = definition(func).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]                                                  # docstring
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        raise TemplateError(f"the rule {func.__name__} must end by returning its formula")
    return body[:-1], body[-1]


def _callee(key):
    """(a function giving the expression that calls `key`, the names it needs): `numpy.name`
    for a NumPy function, as templates write it, else the primitive's own name."""
    ident = getattr(key, "__name__", None)
    if not isinstance(ident, str) or not ident.isidentifier():
        raise TemplateError(f"a linear rule needs a primitive with a name, not {key!r}")
    if getattr(numpy, ident, None) is key:
        return (lambda: ast.Attribute(value=_name("numpy"), attr=ident, ctx=ast.Load()),
                {"numpy": numpy})
    return (lambda: _name(ident)), {ident: key}


class _Substitute(ast.NodeTransformer):
    """Every read of the name `carried` replaced by `d[source]`."""

    def __init__(self, carried, source):
        self.carried = carried
        self.source = source

    def visit_Name(self, node):
        if node.id == self.carried and isinstance(node.ctx, ast.Load):
            return _d(self.source)
        return node


def _derivative(ident, op, value, place):
    """`d[ident] += value` (op Add) or `d[ident] = value` (op None), located at `place`."""
    target = _d(ident)
    target.ctx = ast.Store()
    if op is None:
        stmt = ast.Assign(targets=[target], value=value)
    else:
        stmt = ast.AugAssign(target=target, op=op, value=value)
    return ast.fix_missing_locations(ast.copy_location(stmt, place))


def _d(ident):
    return ast.Subscript(value=_name("d"), slice=_name(ident), ctx=ast.Load())


def _name(ident):
    return ast.Name(id=ident, ctx=ast.Load())
