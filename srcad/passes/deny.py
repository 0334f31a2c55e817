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
before the statement) that raises a `MissingRuleError` at the user's line otherwise; so is a
write into an array whose dtype generation cannot tell (`runtime_checks.float_target`, DENY
(reason, always, target, check)). Before a write `x[i] op= v` annotated AUGMENTED, a check of
NumPy's casting rule (`runtime_checks.augmented_write`), whether or not it is differentiated;
after the operation of `x op= v` annotated AUGMENTED, its check (`augmented_assign`).
"""

import ast

import numpy

from .. import annotations as anno
from .. import inplace, runtime_checks
from ..ast_util import copy_node, walk
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
    for stmt in walk(tree):
        if not isinstance(stmt, (ast.Assign, ast.Expr)):
            continue
        denied = anno.get(stmt.value, anno.DENY)
        if denied and (denied[1] or anno.get(stmt, anno.ACTIVE)) and len(denied) == 2:
            found.append((anno.get(stmt, anno.ORIGIN) or 0, denied[0]))
    if found:
        line, reason = min(found)
        raise MissingRuleError(reason, info.location(line))
    _insert_checks(tree, info, free, anno.get(tree, anno.SHAPES) or {})
    return tree


def _insert_checks(node, info, free, shapes):
    """Before each active statement whose value is marked for a dtype check, the check;
    before each augmented write whose casting may fail (after an augmented operation), its
    check; after an augmented operation `x op= v` whose result the shapes (`{name: static
    shape}` of code specialized to them) do not show to keep `x`'s shape, a shape check."""
    for field in ("body", "orelse"):
        stmts = getattr(node, field, None)
        if not isinstance(stmts, list):
            continue
        out = []
        for stmt in stmts:
            _insert_checks(stmt, info, free, shapes)
            value = getattr(stmt, "value", None)
            denied = anno.get(value, anno.DENY)
            if isinstance(value, ast.Call) and anno.get(value, anno.AUGMENTED):
                x, index, result = value.args
                out.append(_check(runtime_checks.augmented_write, [x, index, result], stmt,
                                  info, free))
            if denied and len(denied) >= 3 and anno.get(stmt, anno.ACTIVE):
                check = denied[3] if len(denied) == 4 else runtime_checks.float_dtype
                out.append(_check(check, [denied[2]], stmt, info, free))
            out.append(stmt)
            if isinstance(value, ast.BinOp) and anno.get(value, anno.AUGMENTED):
                result = ast.Name(id=stmt.targets[0].id, ctx=ast.Load())
                out.append(_check(runtime_checks.augmented_assign, [value.left, result], stmt,
                                  info, free))
            if _may_reshape(stmt, value, shapes):
                result = ast.Name(id=stmt.targets[0].id, ctx=ast.Load())
                out.append(_check(runtime_checks.augmented_shape, [value.left, result], stmt,
                                  info, free))
        setattr(node, field, out)


def _may_reshape(stmt, value, shapes):
    """True for the operation of `x op= v` (`x_1 = x op v`, AUGMENTED set either way) unless
    the shapes show the result keeps `x`'s shape or `v` is a number."""
    if not (isinstance(value, ast.BinOp) and anno.get(value, anno.AUGMENTED) is not None
            and isinstance(value.left, ast.Name) and isinstance(stmt, ast.Assign)):
        return False
    if isinstance(value.right, ast.Constant):
        return False
    known = shapes.get(value.left.id), shapes.get(stmt.targets[0].id)
    return known[0] is None or known[0] != known[1]


def _check(function, values, stmt, info, free):
    """The statement `function(*values, filename, line, name)`: a check of
    `srcad.runtime_checks` at the line of `stmt`."""
    line = anno.get(stmt, anno.ORIGIN)
    check = ast.Expr(value=ast.Call(
        func=ast.Name(id=free.bind(function.__name__, function), ctx=ast.Load()),
        args=[*(copy_node(v) for v in values), *map(ast.Constant, info.where(line))],
        keywords=[]))
    anno.set_(check.value, anno.FUNC, function)
    return anno.set_(check, anno.ORIGIN, line)
