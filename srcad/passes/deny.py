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

`run(tree, info, free)`, after `activity`: the first DENY expression whose value the result
needs (or any write, which changes a value behind srcad's back) is a `MissingRuleError` at its
line. A cast whose dtype generation cannot read is differentiated as a cast to a float, after a
run-time check of the dtype that raises a `MissingRuleError` at the user's line otherwise.
"""

import ast
import builtins
import math

import numpy

from .. import annotations as anno
from .. import inplace, runtime_checks
from ..ast_util import copy_node
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
    when it has a `dtype=` srcad cannot read now, "other" for a dtype neither numeric nor
    boolean (object, text, dates), else None (a float, or no dtype given)."""
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
    return "integer" if kind in "biu" else None if kind in "fc" else "other"


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


def dtype_node(call):
    """The node a call passes as its `dtype=` (positionally or by keyword)."""
    func = anno.get(call, anno.FUNC)
    return inplace.argument(func, call, anno.get(call, anno.METHOD) is not None, "dtype")


def dtype_is_float(call, active):
    """For a call of RESULT_KIND "unknown": True when its dtype is `v.dtype` of a
    differentiated value `v` (a float: only floats carry derivatives)."""
    node = dtype_node(call)
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


def run(tree, info, free):
    """Raise a MissingRuleError at the first denied expression that matters (see above); put a
    run-time check of the dtype (`srcad.runtime_checks.float_dtype`) before each active cast
    whose dtype generation could not read. `free` binds the check's name in generated code."""
    found = []
    for stmt in ast.walk(tree):
        if not isinstance(stmt, (ast.Assign, ast.Expr)):
            continue
        denied = anno.get(stmt.value, anno.DENY)
        if denied and (denied[1] or anno.get(stmt, anno.ACTIVE)) and len(denied) == 2:
            found.append((anno.get(stmt, anno.ORIGIN) or 0, denied[0]))
    if found:
        line, reason = min(found)
        raise MissingRuleError(reason, info.location(line))
    _insert_checks(tree, info, free)
    return tree


def _insert_checks(node, info, free):
    """Before each active statement whose value is marked for a dtype check, the check."""
    for field in ("body", "orelse"):
        stmts = getattr(node, field, None)
        if not isinstance(stmts, list):
            continue
        out = []
        for stmt in stmts:
            _insert_checks(stmt, info, free)
            denied = anno.get(getattr(stmt, "value", None), anno.DENY)
            if denied and len(denied) == 3 and anno.get(stmt, anno.ACTIVE):
                out.append(_dtype_check(denied[2], stmt, info, free))
            out.append(stmt)
        setattr(node, field, out)


def _dtype_check(dtype, stmt, info, free):
    line = anno.get(stmt, anno.ORIGIN)
    check = ast.Expr(value=ast.Call(
        func=ast.Name(id=free.bind("float_dtype", runtime_checks.float_dtype), ctx=ast.Load()),
        args=[copy_node(dtype), ast.Constant(info.filename), ast.Constant(line),
              ast.Constant(info.name)], keywords=[]))
    anno.set_(check.value, anno.FUNC, runtime_checks.float_dtype)
    return anno.set_(check, anno.ORIGIN, line)
