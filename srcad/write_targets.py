"""What an array written into keeps of a float value: the dtype kind of the names of a
normal-form function, as far as generation can tell.

NumPy stores a value written into an integer or boolean array truncated (`a = np.arange(4);
a[1] = v` stores `int(v)`): the stored value is piecewise constant in `v`, so its derivative
is zero almost everywhere, and zero is the answer srcad gives there (the convention of
`x.astype(int)`). Into a float array (or a list or dict) the value is kept and its derivative
passes.

`numpy.full_like(a, v)` stores `v` into an array of `a`'s dtype in the same way.

In: a normal-form `FunctionDef` (calls annotated by `resolve` and `classify`) and the job
(`wrt`, `statics`). Out: annotation STORES on each call of `runtime.set_item` (and of
`numpy.full_like` without `dtype=`):
"float" when its target keeps a float written into it, "integer" when it truncates it, None
when generation cannot tell (the dtype of an argument not differentiated, of what a user's
function or an unknown call returns): `activity` then marks the write for a check at run time
(`srcad.runtime_checks.float_target`). An augmented write (`x[i] += v`) whose target may be
an integer and whose value may be a float keeps annotation AUGMENTED: `deny` puts a check of
NumPy's casting rule before it (`srcad.runtime_checks.augmented_write`); so does the operation
of `x op= v` (an ast.BinOp), checked after it (`runtime_checks.augmented_assign`). Only what
is sure is "float": a wrong "float" would be a silently wrong derivative, a wrong None only a
check more.
"""

import ast

import numpy

from . import annotations as anno
from . import inplace, runtime
from .ast_util import walk
from .passes.deny import dtype_node
from .passes.resolve import local_names

FLOAT, INTEGER, CONTAINER = "float", "integer", "container"
_UNSET = object()
# constructors of float arrays when no dtype is given; their `dtype=` decides otherwise
_FLOAT_MAKERS = (numpy.zeros, numpy.ones, numpy.empty, numpy.eye, numpy.identity,
                 numpy.linspace, numpy.logspace, numpy.geomspace)
# results of the dtype of their first argument when no dtype is given
_LIKE = (numpy.zeros_like, numpy.ones_like, numpy.empty_like, numpy.full_like, numpy.copy,
         numpy.array, numpy.asarray, numpy.ascontiguousarray, numpy.asfortranarray,
         numpy.atleast_1d, numpy.atleast_2d, numpy.reshape, numpy.ravel, numpy.transpose)
_LIKE_METHODS = ("copy", "reshape", "ravel", "flatten", "transpose", "squeeze", "repeat")
# methods of a float array whose result is a float array
_FLOAT_METHODS = ("sum", "mean", "dot", "cumsum", "prod", "clip", "max", "min", "var", "std")
# NumPy functions whose result is a float array when a float is among their arguments
_PROMOTING = (numpy.sum, numpy.mean, numpy.dot, numpy.concatenate, numpy.stack, numpy.vstack,
              numpy.hstack, numpy.outer, numpy.tensordot, numpy.einsum, numpy.where,
              numpy.clip, numpy.tile, numpy.repeat, numpy.broadcast_to, numpy.expand_dims,
              numpy.squeeze, numpy.cumsum, numpy.prod, numpy.max, numpy.min, numpy.inner,
              numpy.kron, numpy.diag, numpy.tril, numpy.triu)


def stored(call):
    """(target, value) of a call that stores a value into an array of its target's dtype:
    `set_item(x, index, value)` and `numpy.full_like(a, fill_value)` without `dtype=`; else
    None."""
    func = anno.get(call, anno.FUNC)
    if func is runtime.set_item:
        return call.args[0], call.args[2]
    if func is numpy.full_like and anno.get(call, anno.RESULT_KIND) is None:
        parts = [inplace.argument(func, call, False, p) for p in ("a", "fill_value")]
        return None if None in parts else tuple(parts)
    return None


def annotate(tree: ast.FunctionDef, job) -> None:
    """Put STORES on every call of `tree` that stores a value (`stored`; see the module
    docstring), and clear AUGMENTED where NumPy's casting cannot fail."""
    kinds = infer(tree, job)
    for node in walk(tree):
        if isinstance(node, ast.Call) and stored(node):
            target = kind_of(stored(node)[0], kinds)
            stores = INTEGER if target == INTEGER else \
                FLOAT if target in (FLOAT, CONTAINER) else None
            anno.set_(node, anno.STORES, stores)
            if anno.get(node, anno.AUGMENTED) and (
                    stores == FLOAT or kind_of(node.args[2], kinds) == INTEGER):
                anno.set_(node, anno.AUGMENTED, False)   # NumPy's casting cannot fail
        elif isinstance(node, ast.BinOp) and anno.get(node, anno.AUGMENTED) and (
                isinstance(node.left, ast.Constant) or           # a number: rebound
                kind_of(node.left, kinds) in (FLOAT, CONTAINER) or
                kind_of(node, kinds) == INTEGER):
            anno.set_(node, anno.AUGMENTED, False)


def infer(tree, job):
    """{name: FLOAT, INTEGER, CONTAINER or None (unknown)}: a name assigned values of two
    kinds is unknown; loops are walked to a fixed point."""
    kinds = {p: FLOAT for p in job.wrt}
    assigns = [s for s in _in_order(tree.body) if isinstance(s, ast.Assign)]
    loops = {t.id for s in walk(tree) if isinstance(s, ast.For)
             for t in walk(s.target) if isinstance(t, ast.Name)}
    for name in local_names(tree) - set(job.wrt) - set(job.statics):
        kinds.setdefault(name, _UNSET if name not in _parameters(tree) else None)
    for name in loops:
        kinds[name] = None
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            target = stmt.targets[0]
            if not isinstance(target, ast.Name) or kinds.get(target.id) is None:
                continue
            new = kind_of(stmt.value, kinds)
            old = kinds[target.id]
            joined = new if old is _UNSET else old if old == new else None
            if joined is not old:
                kinds[target.id], changed = joined, True
    return {k: (None if v is _UNSET else v) for k, v in kinds.items()}


def _in_order(stmts):
    """The statements of a body and of the bodies nested in it, in the order of the source
    (a value is seen after what it is computed from, loops aside)."""
    for stmt in stmts:
        yield stmt
        for field in ("body", "orelse"):
            yield from _in_order(getattr(stmt, field, None) or [])


def _parameters(tree):
    a = tree.args
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return set(names)


def kind_of(node, kinds):
    """The kind of the value of a normal-form expression (None: unknown)."""
    if isinstance(node, ast.Name):
        kind = kinds.get(node.id)
        return None if kind is _UNSET else kind
    if isinstance(node, ast.Constant):
        value = node.value
        return INTEGER if isinstance(value, (bool, int)) else FLOAT \
            if isinstance(value, float) else None
    if anno.get(node, anno.PARAM):
        return FLOAT                                # a model's Parameter
    if isinstance(node, (ast.List, ast.Dict)):
        return CONTAINER
    if isinstance(node, ast.Compare):
        return INTEGER
    if isinstance(node, ast.UnaryOp):
        return INTEGER if isinstance(node.op, ast.Not) else _array(node.operand, kinds)
    if isinstance(node, ast.BinOp):
        return _binary(node, kinds)
    if isinstance(node, ast.Subscript):
        return _array(node.value, kinds)
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        return _array(node.value, kinds)
    if isinstance(node, ast.Attribute) and node.attr in ("shape", "size", "ndim"):
        return INTEGER                              # sizes (`x.shape[0]` too)
    if isinstance(node, ast.Call):
        return _call(node, kinds)
    return None


def _array(node, kinds):
    """The kind of the array NumPy makes of `node`: of its elements for a list or tuple
    literal (float if one is, integer if all are), else of the value."""
    if isinstance(node, (ast.List, ast.Tuple)):
        parts = [_array(e, kinds) for e in node.elts]
        return FLOAT if FLOAT in parts else INTEGER if parts and all(
            p == INTEGER for p in parts) else None
    kind = kind_of(node, kinds)
    return kind if kind in (FLOAT, INTEGER) else None


def _binary(node, kinds):
    left, right = _array(node.left, kinds), _array(node.right, kinds)
    if FLOAT in (left, right):
        return FLOAT
    if left == right == INTEGER and not isinstance(node.op, (ast.Div, ast.Pow, ast.MatMult)):
        return INTEGER
    return None


def _call(node, kinds):
    """The kind of a call's result: from its `dtype=`, or from what it is given."""
    func = anno.get(node, anno.FUNC)
    method = anno.get(node, anno.METHOD)
    result = anno.get(node, anno.RESULT_KIND)
    if result in (INTEGER, FLOAT) or (result is None and method == "astype"):
        return result
    if result == "unknown":
        dtype = dtype_node(node)                    # `dtype=x.dtype`: the kind of x
        return _array(dtype.value, kinds) if isinstance(dtype, ast.Attribute) and \
            dtype.attr == "dtype" and isinstance(dtype.value, ast.Name) else None
    if result is not None:
        return None
    if func is runtime.set_item or any(func is f for f in _LIKE) and node.args:
        return _array(node.args[0], kinds)
    if method in _LIKE_METHODS:
        return _array(node.func.value, kinds)
    if method in _FLOAT_METHODS:
        return FLOAT if _array(node.func.value, kinds) == FLOAT else None
    if func is len:
        return INTEGER
    if any(func is f for f in _FLOAT_MAKERS):
        return FLOAT
    if func is numpy.full and len(node.args) >= 2:
        return _array(node.args[1], kinds)
    if func is numpy.arange:
        parts = [_array(a, kinds) for a in node.args]
        return FLOAT if FLOAT in parts else INTEGER if parts and all(
            p == INTEGER for p in parts) else None
    if func is numpy.where and len(node.args) != 3:
        return None                                 # the indices of nonzero entries
    if _never_integer(func):
        return FLOAT
    if _keeps_float(func):
        return FLOAT if _gets_float(node, kinds) else None
    return None


def _never_integer(func):
    """True for a ufunc none of whose loops gives integers or booleans (`numpy.sin`,
    `numpy.exp`): its result keeps a float written into it, whatever it is given."""
    return isinstance(func, numpy.ufunc) and not any(
        set(t.split("->")[1]) & set(numpy.typecodes["AllInteger"] + "?") for t in func.types)


def _keeps_float(func):
    """True for a function whose result is a float array when a float is among what it is
    given: a ufunc that maps floats to floats (`numpy.tanh`, `numpy.add`, not
    `numpy.isnan`), or one of a few NumPy functions that promote."""
    if isinstance(func, numpy.ufunc):
        floats = "d" * func.nin + "->" + "d" * func.nout
        return floats in func.types
    return any(func is f for f in _PROMOTING)


def _gets_float(node, kinds):
    """True when an argument of a call (or an element of a list or tuple argument) is
    a float."""
    parts = list(node.args) + [k.value for k in node.keywords]
    for part in parts:
        elements = part.elts if isinstance(part, (ast.List, ast.Tuple)) else [part]
        if any(_array(e, kinds) == FLOAT for e in elements):
            return True
    return False
