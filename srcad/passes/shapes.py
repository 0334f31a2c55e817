"""Static shapes: what the shapes of the arguments tell about every other value.

In: a normal-form `FunctionDef` and the job's shapes of (some of) its parameters, as tuples of
ints (`()` for a scalar), of the model parameters it reads (`self.V.weight`, annotation PARAM),
and its `result_shape`, which tells what the user functions it calls return. Out: the same
tree, whose annotation SHAPES (`infer`'s result) is `{name: shape}` for each name that holds a
value of that shape every time it is assigned, in every call with arguments of those shapes.
A name is left out when srcad cannot tell (an operation without a shape rule, a value
that changes shape from one assignment to another, a list of arrays); leaving out is always
safe.

Shapes are found by a fixed point over all assignments at once (loops and branches included):
a name's shape is the one its every assignment gives, given the shapes of the operands. A
`range` loop counter is an integer. Operations take the shape their primitive's shape rule
gives (registered beside its templates, `srcad.shape_rules` says how; an elementwise ufunc
without one takes that of `numpy.ufunc`): arithmetic, comparisons and ufuncs broadcast; `@` and
`numpy.matmul` as NumPy does; reductions with constant `axis` and `keepdims`; `x.T`;
`numpy.zeros`/`ones`/`empty` of a size known from shapes; indexing with constants and integers
(loop counters, sizes and integer arithmetic of them: `xs[t - 1]`); `x.shape[i]` and `len(x)`
are integers.

The simplifier that uses these shapes in derivative code is `passes.simplify`.
"""

import ast
import functools
import inspect

import numpy

from .. import annotations as anno
from .. import calls, rules
from ..job import Job

_UNKNOWN = None


class _Pending(Exception):
    """An operand whose shape is not settled yet (the fixed point comes back to it)."""


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Annotate `tree` with SHAPES (see the module docstring)."""
    static = infer(tree, job.argument_shapes, job.parameter_shapes, job.result_shape)
    return anno.set_(tree, anno.SHAPES, static)


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
    """Names that always hold integers: each of their assignments a range loop's target, a
    whole number, `len(x)`, `x.shape[i]`, or integer arithmetic (`+ - * // %`) of those (the
    largest such set: `t = 0` ... `t = t + 1` is one)."""
    values = {}
    for target, value in assignments:
        values.setdefault(target, []).append(value)
    integers = {n for n, vs in values.items() if all(
        v is _COUNTER or (v is not None and _integer_form(v)) for v in vs)}
    changed = True
    while changed:
        changed = False
        for n in sorted(integers):
            reads = {r.id for v in values[n] if v is not _COUNTER for r in ast.walk(v)
                     if isinstance(r, ast.Name) and not _in_length(r, v)}
            if not reads <= integers:
                integers.discard(n)
                changed = True
    return integers


_INTEGER_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)


def _integer_form(node):
    """True for an expression that is an integer when its names are: a whole number,
    `len(x)`, `x.shape[i]`, a name, and `+ - * // %` and unary minus of those."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub) and _integer_form(node.operand)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _INTEGER_OPS) and _integer_form(node.left) and \
            _integer_form(node.right)
    return _length(node)


def _length(node):
    """True for `len(x)` (the builtin) and `x.shape[i]` (i a whole number)."""
    if isinstance(node, ast.Call):
        return (anno.get(node, anno.FUNC) is len or anno.get(node, anno.BUILTIN) == "len") \
            and len(node.args) == 1 and not node.keywords
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "shape" and isinstance(node.slice, ast.Constant)
            and type(node.slice.value) is int)


def _in_length(name_node, value):
    """True when `name_node` is read only as the `x` of a `len(x)` or `x.shape[i]` in
    `value`: an integer whatever `x` holds."""
    return any(_length(n) and any(r is name_node for r in ast.walk(n))
               for n in ast.walk(value))


def _is_range(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and (node.func.id == "range" or anno.get(node, anno.BUILTIN) == "range"))


# ---- looking up shape rules ----------------------------------------------------------------


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
    if anno.get(node, anno.SIZE) is not None:
        return ()                           # a size read, an int (`specialize`)
    if isinstance(node, ast.Name):
        return shapes[node.id]
    if isinstance(node, ast.Constant):
        value = node.value
        return () if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    key, args, keywords = _operation(node, shapes)
    rule = _rule(key)
    if rule is None:
        return shapes.call_result(node, key) if isinstance(node, ast.Call) else _UNKNOWN
    try:
        _signature(rule).bind(None, *args, **keywords)
    except TypeError:                       # arguments the rule does not understand
        return _UNKNOWN
    return rule(_Reader(shapes), *args, **keywords)


def _operation(node, shapes):
    """(the rule key, argument nodes, keyword nodes) of an operation (see
    `srcad.shape_rules`); key None for a node that is none."""
    if isinstance(node, ast.BinOp):
        return type(node.op), [node.left, node.right], {}
    if isinstance(node, ast.UnaryOp):
        return type(node.op), [node.operand], {}
    if isinstance(node, ast.Compare):
        return ast.Compare, [node.left] + node.comparators, {}
    if isinstance(node, ast.Subscript):
        return ast.Subscript, [node.value, node.slice], {}
    if isinstance(node, ast.Attribute):
        return getattr(numpy.ndarray, node.attr, None), [node.value], {}
    if isinstance(node, ast.Call):
        func = anno.get(node, anno.FUNC) or shapes.callee(node)
        receiver = [node.func.value] if anno.get(node, anno.METHOD) else []
        return func, receiver + list(node.args), {k.arg: k.value for k in node.keywords}
    return None, [], {}


def _rule(key):
    """The shape rule of `key`: its own, or for an elementwise ufunc, that of all ufuncs."""
    rule = rules.shape_rule(key)
    if rule is None and isinstance(key, numpy.ufunc) and key.signature is None:
        rule = rules.shape_rule(numpy.ufunc)
    return rule


@functools.cache
def _signature(rule):
    return inspect.signature(rule)


class _Reader:
    """What a shape rule sees of inference (see `srcad.shape_rules`)."""

    __slots__ = ("_shapes",)

    def __init__(self, shapes):
        self._shapes = shapes

    def shape(self, node):
        """The static shape of an argument node, or None."""
        return _shape(node, self._shapes)

    def is_counter(self, ident):
        """True when `ident` always holds an integer: a `range` loop counter, or integer
        arithmetic of counters, whole numbers and sizes (0 for indexing)."""
        return ident in self._shapes.counters
