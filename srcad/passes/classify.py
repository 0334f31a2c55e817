"""What each resolved call does besides giving a value, as far as differentiating it goes.

In: a resolved `FunctionDef` (each call annotated with FUNC, or METHOD), and the job's `names`,
`statics` and the function's local names. Out: the same tree, where each call that writes into
one of its arguments (`numpy.copyto`, a ufunc's `out=`, `numpy.add.at`, `a.sort()`; see
`srcad.inplace`) carries annotation WRITES; each call whose result is an integer or boolean array
(`int(x)`, `x.astype(numpy.int32)`, `numpy.asarray(x, dtype=int)`, `numpy.sum(x, dtype=bool)`)
carries RESULT_KIND "integer" (its derivative is truly zero; text such as `str(x)` too), one
of a float `dtype=` "float", one whose `dtype=` srcad cannot read while generating (`dtype=dt`
for a local `dt`) "unknown", one of a dtype neither numeric nor boolean "other"; and
`numpy.einsum` in its sublist form with a global first operand carries DENY. `activity` and
`deny` act on these.
"""

import ast
import builtins
import math

import numpy

from .. import annotations as anno
from .. import inplace
from ..ast_util import walk
from ..job import Job
from .deny import SUBLIST
from .resolve import evaluate, local_names

# functions whose results carry no derivative whatever they are given: integers, booleans,
# text, types
_INTEGER_FUNCTIONS = (builtins.int, builtins.bool, builtins.round, math.floor, math.ceil,
                      math.trunc, builtins.str, builtins.repr, builtins.format, builtins.ascii,
                      builtins.hash, builtins.id, builtins.type, builtins.isinstance,
                      builtins.callable, numpy.array2string, numpy.array_repr,
                      numpy.array_str, numpy.format_float_positional,
                      numpy.format_float_scientific)


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Annotate the calls of `tree` with WRITES, RESULT_KIND and DENY (see the module
    docstring)."""
    names = {**job.names, **job.statics}
    locals_ = local_names(tree) - set(job.statics)
    for node in walk(tree):
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
            anno.set_(node, anno.DENY, (SUBLIST, False))
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
    """"integer" when the call's result is an integer or boolean array or number, "float"
    when its `dtype=` is a float, "unknown" when it has a `dtype=` srcad cannot read now,
    "other" for a dtype neither numeric nor boolean (object, text, dates), else None (a
    complex dtype, or no dtype given)."""
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
    return "integer" if kind in "biu" else "float" if kind == "f" else \
        None if kind == "c" else "other"


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
