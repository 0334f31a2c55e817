"""Static shapes: what the shapes of the arguments tell about every other value.

In: a normal-form `FunctionDef`, the shapes of (some of) its parameters, as tuples of ints
(`()` for a scalar), of the model parameters it reads (`self.V.weight`, annotation PARAM), and
a way to learn what the user functions it calls return. Out of `infer`: `{name: shape}` for
each name that holds a value of that shape every time it is assigned, in every call with
arguments of those shapes. A name is left out when srcad cannot tell (an operation without a
shape rule below, a value that changes shape from one assignment to another, a list of
arrays); leaving out is always safe.

Shapes are found by a fixed point over all assignments at once (loops and branches included):
a name's shape is the one its every assignment gives, given the shapes of the operands. Rules:
arithmetic, comparisons and NumPy ufuncs broadcast; `@` and `numpy.matmul` as NumPy does;
`sum`/`mean`/`max`/`min`/`prod`/`var`/`std` with constant `axis` and `keepdims`; `x.T`;
`numpy.zeros`/`ones`/`empty` of a size known from shapes; indexing with constants and loop
counters; `x.shape[i]`, `len(x)` and a `range` loop counter are integers.

The simplifier that uses these shapes in derivative code is `passes.simplify`.
"""

import ast

import numpy

from .. import annotations as anno
from .. import calls, rules

_BROADCASTING = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)
_REDUCTIONS = {"sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std"}
_FILLED = (numpy.zeros, numpy.ones, numpy.empty)
_UNKNOWN = None


class _Pending(Exception):
    """An operand whose shape is not settled yet (the fixed point comes back to it)."""


def infer(tree, params, parameters=None, results=None):
    """`{name: shape}` for `tree` (see the module docstring); `params` maps parameter names to
    their shapes (parameters left out are unknown), `parameters` the reads of a static model's
    parameters, as annotation PARAM gives them (`("self", "V.weight")`), to theirs;
    `results(func, statics, {parameter: shape or None})` gives the shape of what a call of a
    user function returns, or None."""
    assignments = _assignments(tree)
    params = {p: tuple(s) for p, s in params.items() if s is not None}
    counters = _counters(assignments)
    assigned = {target for target, _ in assignments}
    unknown = set()
    while True:
        env = _Env(params, counters, unknown, parameters or {}, results, assigned)
        pending = env.fixed_point(assignments)
        if not pending:
            return {n: s for n, s in env.shapes.items() if s is not _UNKNOWN}
        unknown |= pending


class _Env:
    """Shapes found so far (`_UNKNOWN` for names that cannot have one), and the names that
    are loop counters (integers)."""

    def __init__(self, params, counters, unknown, parameters, results, assigned):
        self.shapes = dict(params)
        self.assigned = assigned
        self.shapes.update({n: _UNKNOWN for n in unknown})
        self.counters = counters
        self.parameters = parameters
        self.results = results

    def parameter(self, read):
        return self.parameters.get(tuple(read), _UNKNOWN)

    def call_result(self, node, func):
        """The shape of what the call `node` of the user function `func` returns."""
        if self.results is None or not calls.is_user_function(func, rules.ADJOINT):
            return _UNKNOWN
        plain, args, statics = calls.unbind(func, node)
        try:
            bound = calls.bind_arguments(plain, args, {k.arg: k.value for k in node.keywords})
        except TypeError:
            return _UNKNOWN
        static = dict(statics)
        argument_shapes = {param: None if param in static or isinstance(arg, calls.Default)
                           else _shape(arg, self) for param, arg in bound.items()}
        return self.results(plain, statics, argument_shapes)

    def __getitem__(self, ident):
        if ident not in self.shapes:
            if ident not in self.assigned:
                return _UNKNOWN             # a global, or a parameter of unknown shape
            raise _Pending
        return self.shapes[ident]

    def callee(self, node):
        return None                 # primal calls carry annotation FUNC

    def fixed_point(self, assignments):
        """Settle the shapes; returns the names still waiting on an unsettled operand."""
        changed = True
        while changed:
            changed, pending = False, set()
            for target, value in assignments:
                if self.shapes.get(target, ()) is _UNKNOWN:
                    continue
                try:
                    shape = _shape(value, self)
                except _Pending:
                    pending.add(target)
                    continue
                if target not in self.shapes or self.shapes[target] != shape:
                    self.shapes[target] = shape if target not in self.shapes else _UNKNOWN
                    changed = True
        return pending


_COUNTER = "counter"          # the value of a `for ... in range(...)` target


def _assignments(tree):
    """(name, value node) for every assignment in `tree` (None: a value of unknown shape;
    `_COUNTER` for a range loop's target)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            if len(node.targets) == 1 and isinstance(target, ast.Name):
                found.append((target.id, node.value))
            else:
                found += [(n.id, None) for t in node.targets for n in ast.walk(t)
                          if isinstance(n, ast.Name)]
        elif isinstance(node, ast.For):
            counter = _COUNTER if _is_range(node.iter) else None
            found += [(n.id, counter) for n in ast.walk(node.target) if isinstance(n, ast.Name)]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            found += [(n.id, None) for n in ast.walk(node.target) if isinstance(n, ast.Name)]
    return found


def _counters(assignments):
    """Names assigned only as range loop targets: always integers."""
    kinds = {}
    for target, value in assignments:
        kinds.setdefault(target, set()).add(value is _COUNTER)
    return {n for n, k in kinds.items() if k == {True}}


def _is_range(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range")


# ---- shape rules ----------------------------------------------------------------------------


def _shape(node, shapes):
    """The shape of `node`'s value; raises _Pending for an unsettled operand; None when it
    cannot be told."""
    if node is None:
        return _UNKNOWN
    if node is _COUNTER:
        return ()
    read = anno.get(node, anno.PARAM)
    if read:
        return shapes.parameter(read)
    if isinstance(node, ast.Name):
        return shapes[node.id]
    if isinstance(node, ast.Constant):
        value = node.value
        return () if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, _BROADCASTING):
            return _broadcast([_shape(node.left, shapes), _shape(node.right, shapes)])
        if isinstance(node.op, ast.MatMult):
            return _matmul(_shape(node.left, shapes), _shape(node.right, shapes))
        return _UNKNOWN
    if isinstance(node, ast.UnaryOp):
        return _shape(node.operand, shapes) if isinstance(node.op, (ast.USub, ast.UAdd)) \
            else _UNKNOWN
    if isinstance(node, ast.Compare):
        return _broadcast([_shape(n, shapes) for n in [node.left] + node.comparators])
    if isinstance(node, ast.Call):
        return _call_shape(node, shapes)
    if isinstance(node, ast.Subscript):
        return _subscript_shape(node, shapes)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        shape = _shape(node.value, shapes)
        return shape[::-1] if shape is not None else _UNKNOWN
    return _UNKNOWN


def _broadcast(shapes):
    if any(s is None for s in shapes):
        return _UNKNOWN
    try:
        return tuple(numpy.broadcast_shapes(*shapes))
    except ValueError:
        return _UNKNOWN


def _matmul(a, b):
    if a is None or b is None or not a or not b:
        return _UNKNOWN
    left, right = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    if left[-1] != right[-2]:
        return _UNKNOWN
    batch = _broadcast([left[:-2], right[:-2]])
    if batch is None:
        return _UNKNOWN
    out = batch + (left[-2], right[-1])
    if len(b) == 1:
        out = out[:-1]
    if len(a) == 1:
        out = out[:-2] + out[-1:] if len(b) > 1 else out[:-1]
    return out


def _call_shape(node, shapes):
    func = anno.get(node, anno.FUNC) or shapes.callee(node)
    method = anno.get(node, anno.METHOD)
    args = ([node.func.value] if method else []) + list(node.args)
    keywords = {k.arg: k.value for k in node.keywords}
    fname = getattr(func, "__name__", None)
    if isinstance(func, numpy.ufunc) and not method and set(keywords) <= {"dtype"}:
        return _broadcast([_shape(a, shapes) for a in args])
    if func is numpy.matmul and len(args) == 2 and not keywords:
        return _matmul(_shape(args[0], shapes), _shape(args[1], shapes))
    if fname in _REDUCTIONS and func in (getattr(numpy, fname, None),
                                         getattr(numpy.ndarray, fname, None)):
        return _reduction_shape(args, keywords, shapes)
    if func in _FILLED and len(args) == 1 and set(keywords) <= {"dtype"}:
        size = _integer(args[0], shapes)
        return (size,) if size is not None else _UNKNOWN
    if func is rules.stop_gradient and len(args) == 1:
        return _shape(args[0], shapes)
    if func is len:
        return ()
    return shapes.call_result(node, func)


def _reduction_shape(args, keywords, shapes):
    params = ["a", "axis"]
    values = dict(zip(params, args))
    if len(args) > 2 or set(keywords) - {"axis", "keepdims"} or set(values) & set(keywords):
        return _UNKNOWN
    values.update(keywords)
    shape = _shape(values["a"], shapes)
    axis, keepdims = _literal(values.get("axis")), _literal(values.get("keepdims"))
    if axis is None and keepdims in (False, None):
        return ()                                   # a full reduction: a scalar
    if shape is None or axis is _UNKNOWN_LITERAL or keepdims not in (True, False, None):
        return _UNKNOWN
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    try:
        axes = {int(a) % len(shape) for a in axes} if shape else set()
    except (TypeError, ZeroDivisionError):
        return _UNKNOWN
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


_UNKNOWN_LITERAL = object()


def _literal(node):
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _UNKNOWN_LITERAL


def _integer(node, shapes):
    """The value of an integer known from shapes: a literal or `x.shape[i]`, else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "shape" and isinstance(node.value.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
        shape = _shape(node.value.value, shapes)
        if shape is not None and -len(shape) <= node.slice.value < len(shape):
            return shape[node.slice.value]
    return None


def _subscript_shape(node, shapes):
    base = node.value
    if isinstance(base, ast.Attribute) and base.attr == "shape":
        return ()                                   # x.shape[i]: an integer
    shape = _shape(base, shapes)
    if shape is None:
        return _UNKNOWN
    index = _index(node.slice, shapes)
    if index is None:
        return _UNKNOWN
    try:
        return numpy.broadcast_to(numpy.empty(()), shape)[index].shape
    except (IndexError, TypeError, ValueError):
        return _UNKNOWN


def _index(node, shapes):
    """An index made of integers (a loop counter stands for 0), constant slices and None
    that has the same effect on the shape as the real one; None when there is none."""
    if isinstance(node, ast.Tuple):
        parts = [_index(e, shapes) for e in node.elts]
        return None if any(p is None for p in parts) else tuple(parts)
    if isinstance(node, ast.Slice):
        parts = [_literal(p) for p in (node.lower, node.upper, node.step)]
        if any(p is not None and type(p) is not int for p in parts):
            return None
        return slice(*parts)
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) is int):
        return node.value
    if isinstance(node, ast.Name) and node.id in shapes.counters:
        return 0
    return None
