"""Deny by default: a differentiated value that reaches what srcad cannot differentiate is an
error at the user's line, never a silent zero.

In: a normal-form `FunctionDef` annotated by `classify` (WRITES, RESULT_KIND, DENY on calls)
and by `activity`, which marks with DENY (a reason) the expressions that apply something without
a derivative to a differentiated value: an index builder (`numpy.r_[x, x]`), an attribute other
than a shape or a view (`x.flat`), a primitive whose "no derivative" claim is false for the
argument given (`numpy.random.normal(loc=x)`), an unknown `dtype=`, and any write into an
argument; and the job's `info` and `free`. Out: the same tree, or a `MissingRuleError` at the
line of the first DENY expression whose value the result needs (or of any write, which changes a
value behind srcad's back). A cast whose dtype generation cannot read is differentiated as a
cast to a float, after a run-time check of the dtype (`srcad.runtime_checks.float_dtype`, put
before the statement) that raises a `MissingRuleError` at the user's line otherwise.
"""

import ast

import numpy

from .. import annotations as anno
from .. import inplace, runtime_checks
from ..ast_util import copy_node
from ..errors import MissingRuleError
from ..job import Job

SUBLIST = ("srcad cannot differentiate the sublist form of numpy.einsum (operands and index "
           "lists interleaved); write the subscripts as a string, like "
           "`np.einsum('ij,jk->ik', a, b)`")


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
        return SUBLIST
    return None


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Raise a MissingRuleError at the first denied expression that matters (see above); put a
    run-time check of the dtype (`srcad.runtime_checks.float_dtype`) before each active cast
    whose dtype generation could not read. `job.free` binds the check's name in generated
    code."""
    info, free = job.info, job.free
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
        args=[copy_node(dtype), *map(ast.Constant, info.where(line))], keywords=[]))
    anno.set_(check.value, anno.FUNC, runtime_checks.float_dtype)
    return anno.set_(check, anno.ORIGIN, line)
