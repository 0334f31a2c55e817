"""Deny by default: a differentiated value that reaches what srcad cannot differentiate is an
error at the user's line, never a silent zero.

`annotate(tree, names, locals_)`, after `resolve` and before `normalize`: each call that writes
into one of its arguments (`numpy.copyto`, a ufunc's `out=`, `numpy.add.at`, `a.sort()`; see
`srcad.inplace`) gets annotation WRITES; each call whose result is an integer or boolean array
(`int(x)`, `x.astype(numpy.int32)`, `numpy.asarray(x, dtype=int)`, `numpy.sum(x, dtype=bool)`)
gets RESULT_KIND "integer" (its derivative is truly zero; text such as `str(x)` too), and one
whose `dtype=` srcad cannot read while generating (`dtype=dt` for a local `dt`) gets
RESULT_KIND "unknown".

`activity` then marks with DENY (a reason) the expressions that apply something without a
derivative to a differentiated value: an index builder (`numpy.r_[x, x]`), an attribute other
than a shape or a view (`x.flat`), a primitive whose "no derivative" claim is false for the
argument given (`numpy.random.normal(loc=x)`), an unknown `dtype=`, and any write into an
argument.

`run(tree, info)`, after `activity`: the first DENY expression whose value the result needs (or
any write, which changes a value behind srcad's back) is a `MissingRuleError` at its line.
"""

import ast
import builtins
import math

import numpy

from .. import annotations as anno
from .. import inplace
from ..errors import MissingRuleError
from .resolve import evaluate

_SUBLIST = ("srcad cannot differentiate the sublist form of numpy.einsum (operands and index "
            "lists interleaved); write the subscripts as a string, like "
            "`np.einsum('ij,jk->ik', a, b)`")
# functions whose results carry no derivative whatever they are given: integers, booleans,
# text, types
_INTEGER_FUNCTIONS = (builtins.int, builtins.bool, builtins.round, math.floor, math.ceil,
                      math.trunc, builtins.str, builtins.repr, builtins.format, builtins.ascii,
                      builtins.hash, builtins.id, builtins.type, builtins.isinstance,
                      builtins.callable, numpy.array2string, numpy.array_repr,
                      numpy.array_str, numpy.format_float_positional,
                      numpy.format_float_scientific)


def annotate(tree, names, locals_):
    """Annotate the calls of the resolved `tree` with WRITES and RESULT_KIND (see above)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = anno.get(node, anno.FUNC)
        method = anno.get(node, anno.METHOD) is not None
        written = inplace.writes(func, node, method)
        if written:
            anno.set_(node, anno.WRITES, written)
        kind = result_kind(func, node, method, names, locals_)
        if kind:
            anno.set_(node, anno.RESULT_KIND, kind)
        if func is numpy.einsum and _operand_first(node, names, locals_):
            anno.set_(node, anno.DENY, (_SUBLIST, False))
    return tree


def _operand_first(call, names, locals_):
    """True for `numpy.einsum(a, ...)` whose first argument is a global that is not a string
    (the sublist form: an operand, not subscripts)."""
    if not call.args or isinstance(call.args[0], ast.Constant):
        return False
    try:
        value, local = evaluate(call.args[0], names, locals_)
    except (KeyError, AttributeError, IndexError, TypeError):
        return False
    return not local and not isinstance(value, str)


def result_kind(func, call, method, names, locals_):
    """"integer" when the call's result is an integer or boolean array or number, "unknown"
    when it has a `dtype=` srcad cannot read now, else None (a float, or no dtype given)."""
    if _is_integer_type(func):
        return "integer"
    if any(func is f for f in _INTEGER_FUNCTIONS):
        return "integer"
    node = inplace.argument(func, call, method, "dtype") if callable(func) else None
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return None
    try:
        value = _static(node, names, locals_)
        kind = numpy.dtype(value).kind if value is not None else None
    except (KeyError, AttributeError, IndexError, TypeError, ValueError):
        return "unknown"
    if kind is None:
        return "unknown"
    return "integer" if kind in "biu" else None if kind in "fc" else "unknown"


def _static(node, names, locals_):
    """The value of a dtype written as a literal, a global (`numpy.int32`, `int`) or
    `numpy.dtype(...)` of those; None when it depends on local values."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and anno.get(node, anno.FUNC) is numpy.dtype and \
            not node.keywords:
        return numpy.dtype(*(_static(a, names, locals_) for a in node.args))
    return evaluate(node, names, locals_)[0]


def _is_integer_type(func):
    """`numpy.int64`, `numpy.bool_` and the like, called as functions."""
    return (isinstance(func, type) and issubclass(func, numpy.generic)
            and numpy.dtype(func).kind in "biu")


def dtype_is_float(call, active):
    """For a call of RESULT_KIND "unknown": True when its dtype is `v.dtype` of a
    differentiated value `v` (a float: only floats carry derivatives)."""
    func = anno.get(call, anno.FUNC)
    node = inplace.argument(func, call, anno.get(call, anno.METHOD) is not None, "dtype")
    return (isinstance(node, ast.Attribute) and node.attr == "dtype"
            and isinstance(node.value, ast.Name) and node.value.id in active)


def unsupported_form(call):
    """The reason a call of a primitive that has rules is in a form they do not cover, else
    None: `numpy.einsum(x, [0, 1], y, [1, 2])` (the sublist form)."""
    if anno.get(call, anno.FUNC) is numpy.einsum and any(
            isinstance(a, (ast.List, ast.Tuple)) or (isinstance(a, ast.Constant) and
                                                     isinstance(a.value, tuple))
            for a in call.args):
        return _SUBLIST
    return None


def run(tree, info):
    """Raise a MissingRuleError at the first denied expression that matters (see above)."""
    found = []
    for stmt in ast.walk(tree):
        if not isinstance(stmt, (ast.Assign, ast.Expr)):
            continue
        denied = anno.get(stmt.value, anno.DENY)
        if denied and (denied[1] or anno.get(stmt, anno.ACTIVE)):
            found.append((anno.get(stmt, anno.ORIGIN) or 0, denied[0]))
    if found:
        line, reason = min(found)
        raise MissingRuleError(reason, info.location(line))
    return tree
