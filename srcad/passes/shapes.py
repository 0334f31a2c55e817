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

`simplify(expr, shape_of, free, spread)` uses the shapes in derivative code (the reverse pass
calls it on each filled template): `unbroadcast` goes where shapes match or becomes a sum over
known axes, the adjoints of `@` are written as the NumPy a person would write (`g @ y.T`,
`x.T @ g`), `np.size` of a known shape is a number, and a reduction's adjoint is broadcast by
the elementwise operation that reads it instead of being spread into an array first.
"""

import ast

import numpy

from .. import annotations as anno
from .. import calls, rules, runtime
from ..ast_util import call, copy_node, name

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


# ---- simplifying derivative code ------------------------------------------------------------


def simplify(node, shape_of, free, spread=None, products=None):
    """`node` (a derivative expression) with what the shapes make unnecessary taken out;
    `shape_of(name)` gives a name's static shape or None, `free` is the `FreeNames` of the
    generated code (what its calls refer to, and how it names numpy).

    * `unbroadcast(g, x)` is `g` when the shapes match, else `np.sum(g, axis=...)` over the
      axes that broadcasting added (or, with keepdims, stretched): `g.sum(axis=0)`;
    * `matmul_adjoint_left/right(g, x, y)` is written out: `g @ y.T`, `x.T @ g`, ...;
    * `np.size(x)` is a number;
    * `spread` maps adjoint names whose value is a reduction's adjoint spread over `x`
      (`unreduce(g, x)`) to `(g, x)`: an elementwise operation with an operand of the shape of
      `x` takes `g` itself, and broadcasting does the spreading (`d_sum * (1.0 - y * y)`
      instead of an array of ones times `1.0 - y * y`); so does an `unreduce` call there;
    * `products` maps adjoint names whose value is a product of matrices or vectors `a @ b` to
      that product: the name's transpose is `b.T @ a.T` (`d_add.T @ x`, not a view of
      `x.T @ d_add`; `x.T.T` is `x`); that of `np.multiply.outer(a, b)` swaps `a` and `b`.
    """
    return _Simplifier(_Lookup(shape_of, free), free, spread or {}, products or {}).visit(node)


def product_of(node, shape_of, free):
    """`node` when the adjoint `node` is `a @ b` or `np.multiply.outer(a, b)` of names (or
    their `.T`) of at most two dimensions each, else None (see `simplify`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        operands = (node.left, node.right)
    elif _is_outer(node, free):
        operands = node.args
    else:
        return None
    lookup = _Lookup(shape_of, free)
    for operand in operands:
        base = operand.value if isinstance(operand, ast.Attribute) and operand.attr == "T" \
            else operand
        shape = lookup[base.id] if isinstance(base, ast.Name) else None
        if shape is None or not 1 <= len(shape) <= 2:
            return None
    return node


def spread_of(node, free, spread):
    """`(g, x)` when the adjoint `node` is the reduction adjoint `unreduce(g, x, axis,
    keepdims)` (with `g` broadcasting against `x` as it is: all axes reduced, or keepdims),
    or a copy or negation of a name in `spread`; `g` is a number or a name. Else None."""
    if isinstance(node, ast.Name):
        return spread.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = spread_of(node.operand, free, spread)
        if inner is not None and isinstance(inner[0], ast.Constant):
            return ast.Constant(-inner[0].value), inner[1]
        return None
    if not (isinstance(node, ast.Call) and _callee(node, free) is runtime.unreduce
            and not node.keywords and 2 <= len(node.args) <= 4):
        return None
    g, x, *rest = node.args
    g = _Folder().visit(copy_node(g))
    if isinstance(g, ast.Name) and g.id in spread and isinstance(spread[g.id][0], ast.Constant):
        g = spread[g.id][0]                     # a number spread twice is still that number
    axis, keepdims = (_literal(a) for a in (rest + [None, None])[:2])
    if isinstance(g, ast.Constant) or (
            isinstance(g, ast.Name) and (axis is None or keepdims is True)):
        return g, x
    return None


def _callee(node, free):
    """The object a call in derivative code calls (`helper(...)` or `np.size(...)`)."""
    func = node.func
    attrs = []
    while isinstance(func, ast.Attribute):
        attrs.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    obj = free.bound.get(func.id, free.namespace.get(func.id))
    for attr in reversed(attrs):
        obj = getattr(obj, attr, None)
    return obj


class _Simplifier(ast.NodeTransformer):
    def __init__(self, lookup, free, spread, products):
        self.lookup = lookup
        self.free = free
        self.spread = spread
        self.products = products

    def visit_Attribute(self, node):
        product = self.products.get(node.value.id) if (
            node.attr == "T" and isinstance(node.value, ast.Name)) else None
        if product is None:
            return self.generic_visit(node)
        if isinstance(product, ast.Call):           # np.multiply.outer(a, b) of vectors
            return ast.Call(func=copy_node(product.func), args=[
                copy_node(a) for a in reversed(product.args)], keywords=[])
        return ast.BinOp(left=_transposed(product.right), op=ast.MatMult(),
                         right=_transposed(product.left))

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return node
        for side, other in (("left", node.right), ("right", node.left)):
            spread = getattr(node, side)
            if (isinstance(node.op, ast.Mult) and isinstance(spread, ast.Call)
                    and _callee(spread, self.free) is runtime.unreduce and spread.args
                    and self.shape(other) == ()):     # unreduce(g, x) * c: unreduce(g * c, x)
                spread.args[0] = _fold(ast.BinOp(left=spread.args[0], op=ast.Mult(),
                                                 right=other))
                return spread
        for side, other in (("left", node.right), ("right", node.left)):
            operand = getattr(node, side)
            spread = (self.spread.get(operand.id) if isinstance(operand, ast.Name)
                      else spread_of(operand, self.free, {}))
            if spread is None:
                continue
            full = self.shape(spread[1])
            if full is not None and self.shape(other) == full:
                setattr(node, side, copy_node(spread[0]))
                break
        return _fold(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return _fold(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        func = _callee(node, self.free)
        if func is runtime.unbroadcast and len(node.args) == 2 and not node.keywords:
            return self.unbroadcast(node, *node.args)
        if func in (runtime.matmul_adjoint_left, runtime.matmul_adjoint_right) \
                and len(node.args) == 3 and not node.keywords:
            inline = self.matmul_adjoint(func is runtime.matmul_adjoint_left, *node.args)
            return node if inline is None else inline
        if func is numpy.size and len(node.args) == 1 and not node.keywords:
            shape = self.shape(node.args[0])
            return node if shape is None else ast.Constant(int(numpy.prod(shape, dtype=int)))
        return node

    def unbroadcast(self, node, g, x):
        """`g` summed to the shape of `x`, as `np.sum` over known axes where it can be."""
        have, want = self.shape(g), self.shape(x)
        if have is None or want is None or len(have) < len(want):
            return node
        if have == want:
            return g
        extra = len(have) - len(want)
        stretched = [extra + i for i, n in enumerate(want) if n == 1 and have[extra + i] != 1]
        if extra and stretched:
            return node                              # sum, then reshape: the helper does it
        axes = list(range(extra)) or stretched
        keywords = [] if not want else [ast.keyword(arg="axis", value=_axes(axes))]
        if stretched:
            keywords.append(ast.keyword(arg="keepdims", value=ast.Constant(True)))
        total = ast.Attribute(value=g, attr="sum", ctx=ast.Load())   # g is an array here
        return ast.Call(func=total, args=[], keywords=keywords)

    def matmul_adjoint(self, left, g, x, y):
        """The adjoint of `x @ y` in `x` (left) or `y`, written out for 1-d and 2-d operands."""
        x_shape, y_shape = self.shape(x), self.shape(y)
        if x_shape is None or y_shape is None or not 1 <= len(x_shape) <= 2 \
                or not 1 <= len(y_shape) <= 2:
            return None
        pair = (len(x_shape), len(y_shape))

        def t(node):
            return ast.Attribute(value=node, attr="T", ctx=ast.Load())

        def matmul(a, b):
            return ast.BinOp(left=a, op=ast.MatMult(), right=b)

        def outer(a, b):
            outer_ = ast.Attribute(value=ast.Attribute(value=name(self.free.bind("numpy", numpy)),
                                                       attr="multiply", ctx=ast.Load()),
                                   attr="outer", ctx=ast.Load())
            return call(outer_, a, b)

        def mul(a, b):
            return ast.BinOp(left=a, op=ast.Mult(), right=b)

        if left:
            return {(2, 2): lambda: matmul(g, t(y)), (2, 1): lambda: outer(g, y),
                    (1, 2): lambda: matmul(y, g), (1, 1): lambda: mul(g, y)}[pair]()
        return {(2, 2): lambda: matmul(t(x), g), (2, 1): lambda: matmul(t(x), g),
                (1, 2): lambda: outer(x, g), (1, 1): lambda: mul(x, g)}[pair]()

    def shape(self, node):
        try:
            return _shape(node, self.lookup)
        except _Pending:
            return None


def _is_outer(node, free):
    """True for `np.multiply.outer(a, b)`."""
    if not (isinstance(node, ast.Call) and len(node.args) == 2 and not node.keywords):
        return False
    func = _callee(node, free)
    return getattr(func, "__name__", None) == "outer" and \
        getattr(func, "__self__", None) is numpy.multiply


def _transposed(node):
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return copy_node(node.value)
    return ast.Attribute(value=copy_node(node), attr="T", ctx=ast.Load())


def _axes(axes):
    return ast.Constant(axes[0]) if len(axes) == 1 else ast.Tuple(
        elts=[ast.Constant(a) for a in axes], ctx=ast.Load())


_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
               ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def _fold(node):
    """Arithmetic on two numbers (or the negation of one) as one number; else `node`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and _is_number(node.operand):
        return ast.Constant(-node.operand.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC \
            and _is_number(node.left) and _is_number(node.right):
        if isinstance(node.op, ast.Div) and node.right.value == 0:
            return node
        return ast.Constant(_ARITHMETIC[type(node.op)](node.left.value, node.right.value))
    return node


class _Folder(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        return _fold(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return _fold(node)


def _is_number(node):
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


class _Lookup:
    """`shape_of` in the form `_shape` reads (no loop counters: derivative code has none)."""

    counters = frozenset()

    def __init__(self, shape_of, free):
        self.shape_of = shape_of
        self.free = free

    def __getitem__(self, ident):
        return self.shape_of(ident)

    def parameter(self, read):
        return _UNKNOWN

    def call_result(self, node, func):
        return _UNKNOWN

    def callee(self, node):
        return _callee(node, self.free)
