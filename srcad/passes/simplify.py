"""Derivative code simplified by the static shapes of its names.

In: one filled template expression of the reverse pass (an adjoint value, such as
`unbroadcast(d_y * (1.0 - y * y), x)`), a function giving the static shape of a name (or None),
the `FreeNames` of the generated code (what its calls refer to, and how it names numpy), and
what the reverse pass knows of adjoint names in the block (`spread`: reduction adjoints spread
over an array; `products`: matrix products). Out: the same expression with what the shapes make
unnecessary taken out, as a person would write it:

* `unbroadcast` goes where shapes match or becomes a sum over known axes;
* the adjoints of `@` are written as NumPy (`g @ y.T`, `x.T @ g`);
* `np.size` of a known shape is a number;
* a reduction's adjoint is broadcast by the elementwise operation that reads it instead of
  being spread into an array first.

`as_methods` does for primal statements what shapes decide: `np.sum(a, axis=1)` of a name
that holds a NumPy array of one or more dimensions reads `a.sum(axis=1)` (likewise `max`,
`min`, `mean`, `prod`, `any`, `all`): NumPy's function checks the type of its argument before
it calls the same reduction, which on small arrays costs as much as the reduction (measured:
3.0 against 1.7 us for the sum of a (32, 10) array over its rows). A name counts as such an
array when its static shape has one or more dimensions and every assignment of it is an
arithmetic operator, `@`, a NumPy ufunc or one of these reductions: never a parameter (it may
be a list, or a model's `Parameter`), nor a value read from an object.

`tangent` does for the tangents of forward-mode code specialized to shapes (the code `hvp` and
`hessian` run) what shapes decide there: `broadcast_as(t, y)` is `t` where the shapes of `t`
and `y` match, so that `y`, read by nothing else, goes as dead code.

`spread_of` and `product_of` tell the reverse pass which adjoint names to record in `spread`
and `products`; `sizes_as_numbers` writes as numbers the size reads (annotated SIZE) that
alone would keep a value alive, for `optimize`. Shapes come from `passes.shapes` (the same
shape rules as inference).
"""

import ast
import itertools

import numpy

from .. import annotations as anno
from .. import runtime
from ..ast_util import call, copy_node, name, walk
from ..shape_rules import literal
from .shapes import _UNKNOWN, _Pending, _shape


def simplify(node, shape_of, free, spread=None, products=None, lazy=False):
    """`node` (a derivative expression) with what the shapes make unnecessary taken out;
    `shape_of(name)` gives a name's static shape or None, `free` is the `FreeNames` of the
    generated code (what its calls refer to, and how it names numpy).

    * `unbroadcast(g, x)` is `g` when the shapes match, else `np.sum(g, axis=...)` over the
      axes that broadcasting added (or, with keepdims, stretched): `g.sum(axis=0)`;
    * `matmul_adjoint_left/right(g, x, y)` is written out: `g @ y.T`, `x.T @ g`, ...; not in
      code for Dask arrays (`lazy`), where the helper reduces over chunks with one tensordot;
    * `np.size(x)` is a number; `np.size(y) / np.size(x)`, where y is x reduced over known
      axes, is `1.0 / x.shape[0]` (`1.0 / x.size` when y has one element), and its inverse
      `x.shape[0]` (`optimize` writes the number where only that read would keep x alive);
    * `spread` maps adjoint names whose value is a reduction's adjoint spread over `x`
      (`unreduce(g, x)`) to `(g, x)`: an elementwise operation with an operand of the shape of
      `x` takes `g` itself, and broadcasting does the spreading (`d_sum * (1.0 - y * y)`
      instead of an array of ones times `1.0 - y * y`); so does an `unreduce` call there;
    * `products` maps adjoint names whose value is a product of matrices or vectors `a @ b` to
      that product: the name's transpose is `b.T @ a.T` (`d_add.T @ x`, not a view of
      `x.T @ d_add`; `x.T.T` is `x`); that of `np.multiply.outer(a, b)` swaps `a` and `b`.
    """
    return _Simplifier(_Lookup(shape_of, free), free, spread or {}, products or {},
                       lazy).visit(node)


def tangent(node, shape_of, free):
    """A tangent expression of forward-mode code (`node`) with `broadcast_as(t, y)` written
    `t` where the static shapes of `t` and `y` are the same (`shape_of(name)` gives the shape
    of a name, or of a tangent that of its primal): the primal `y` is then read by nothing
    else, and goes as dead code."""
    return _Tangent(_Lookup(shape_of, free), free).visit(node)


class _Tangent(ast.NodeTransformer):
    def __init__(self, lookup, free):
        self.lookup = lookup
        self.free = free

    def visit_Call(self, node):
        self.generic_visit(node)
        if _callee(node, self.free) is runtime.broadcast_as and len(node.args) == 2 \
                and not node.keywords:
            try:
                have, want = (_shape(arg, self.lookup) for arg in node.args)
            except _Pending:
                return node
            if have is not None and have == want:
                return node.args[0]
        return node


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
    or a copy or negation of a name in `spread`; `g` is a number (or arithmetic of numbers
    and sizes, `1.0 / x.size`) or a name. Else None."""
    if isinstance(node, ast.Name):
        return spread.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = spread_of(node.operand, free, spread)
        if inner is not None and _is_static(inner[0]):
            return _fold(ast.UnaryOp(op=ast.USub(), operand=copy_node(inner[0]))), inner[1]
        return None
    if not (isinstance(node, ast.Call) and _callee(node, free) is runtime.unreduce
            and not node.keywords and 2 <= len(node.args) <= 4):
        return None
    g, x, *rest = node.args
    g = _Folder().visit(copy_node(g))
    if isinstance(g, ast.Name) and g.id in spread and _is_static(spread[g.id][0]):
        g = spread[g.id][0]                     # a number spread twice is still that number
    axis, keepdims = (literal(a) for a in (rest + [None, None])[:2])
    if _is_static(g) or (
            isinstance(g, ast.Name) and (axis is None or keepdims is True)):
        return g, x
    return None


def _is_static(node):
    """True for a number, or arithmetic of numbers and size reads annotated SIZE
    (`1.0 / x.shape[0]`, `-1.0 / x.size`): a scalar that does not change during the call."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult,
                                                            ast.Div)):
        return _is_static(node.left) and _is_static(node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_static(node.operand)
    return _is_number(node) or anno.get(node, anno.SIZE) is not None


def sizes_as_numbers(tree):
    """In the generated function `tree`: a size read annotated SIZE (`1.0 / h.shape[0]`,
    `1.0 / _mul.size`) of a value that nothing else reads is written as its number, and its
    statement's numbers folded (`0.2`): reading it would keep that value alive, or computed,
    for its size alone. The functions' parameters are always there. True when something
    changed (`optimize` calls it between rounds of dead code removal)."""
    nodes = walk(tree)
    bases = {id(base) for node in nodes if anno.get(node, anno.SIZE) is not None
             for base in _size_bases(node)}
    alive = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
             and id(n) not in bases}
    alive |= {a.arg for f in nodes if isinstance(f, ast.FunctionDef)
              for a in f.args.posonlyargs + f.args.args + f.args.kwonlyargs}
    changed = False
    for stmt in nodes:
        if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Return)) or stmt.value is None:
            continue
        numbers = _SizeNumbers(alive)
        value = numbers.visit(stmt.value)
        if numbers.changed:
            stmt.value = _Folder().visit(value)
            changed = True
    return changed


def _size_bases(node):
    """The names whose sizes the size read `node` reads (`h` of `h.shape[0]`, `h.size`,
    `len(h)`, `np.size(h) // np.shape(h)[1]`): its names, less those it calls."""
    called = {id(n) for call_ in walk(node) if isinstance(call_, ast.Call)
              for n in walk(call_.func)}
    return [n for n in walk(node) if isinstance(n, ast.Name) and id(n) not in called]


class _SizeNumbers(ast.NodeTransformer):
    def __init__(self, alive):
        self.alive = alive
        self.changed = False

    def generic_visit(self, node):
        size = anno.get(node, anno.SIZE)
        if size is not None and any(base.id not in self.alive for base in _size_bases(node)):
            self.changed = True
            return ast.Constant(size)
        return super().generic_visit(node)


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
    def __init__(self, lookup, free, spread, products, lazy):
        self.lookup = lookup
        self.free = free
        self.spread = spread
        self.products = products
        self.lazy = lazy

    def visit(self, node):
        if anno.get(node, anno.SIZE) is not None:
            return node                 # a size read as the user wrote it (`specialize`)
        return super().visit(node)

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
        ratio = self.size_ratio(node)
        if ratio is not None:
            return ratio
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
                and len(node.args) == 3 and not node.keywords and not self.lazy:
            inline = self.matmul_adjoint(func is runtime.matmul_adjoint_left, *node.args)
            return node if inline is None else inline
        if func is numpy.size and len(node.args) == 1 and not node.keywords:
            shape = self.shape(node.args[0])
            return node if shape is None else ast.Constant(int(numpy.prod(shape, dtype=int)))
        return node

    def size_ratio(self, node):
        """`np.size(y) / np.size(x)` of names of known, nonzero sizes as the shape expression
        it is: `1.0 / x.shape[0]` (y is x with axis 0 reduced), `1.0 / x.size` (y has one
        element), `x.shape[0]` for the inverse (an int: the same value); the same float as
        the division of the sizes. Each size read is annotated SIZE with its number. None for
        any other node, and where the shapes do not tell which axes were reduced (a number
        is written then)."""
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
            return None
        operands = [_size_operand(side, self.free) for side in (node.left, node.right)]
        if None in operands:
            return None
        (top, top_shape), (bottom, bottom_shape) = (
            (operand, self.shape(operand)) for operand in operands)
        if top_shape is None or bottom_shape is None:
            return None
        top_size, bottom_size = (int(numpy.prod(s, dtype=int)) for s in (top_shape, bottom_shape))
        if top_size == 0 or bottom_size == 0:
            return None
        if top_size == bottom_size:
            return ast.Constant(1.0)
        big, small = (bottom, top) if top_size < bottom_size else (top, bottom)
        factor = _reduced(big, self.shape(big), self.shape(small))
        if factor is None or top_size > bottom_size:
            return factor
        return ast.BinOp(left=ast.Constant(1.0), op=ast.Div(), right=factor)

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


def _size_operand(node, free):
    """The name `x` of `np.size(x)`, else None."""
    if (isinstance(node, ast.Call) and _callee(node, free) is numpy.size and len(node.args) == 1
            and not node.keywords and isinstance(node.args[0], ast.Name)):
        return node.args[0]
    return None


def _reduced(big, dims, kept):
    """The product of the sizes of the axes of `big` (of shape `dims`) that a reduction to
    shape `kept` removed (or kept as 1), written from `big`: `big.size` when everything was
    reduced, `big.shape[i]` (times `big.shape[j]`...) otherwise; None when the shapes do not
    say which axes (`(4, 4)` to `(4,)`) or no reduction gives `kept`."""
    if len(kept) == len(dims):
        if any(k != d and k != 1 for k, d in zip(kept, dims)):
            return None
        choices = {tuple(i for i, (k, d) in enumerate(zip(kept, dims)) if k != d)}
    else:
        choices = {tuple(i for i in axes if dims[i] != 1)
                   for axes in itertools.combinations(range(len(dims)), len(dims) - len(kept))
                   if [d for i, d in enumerate(dims) if i not in axes] == list(kept)}
    if len(choices) != 1:
        return None
    axes = choices.pop()
    if not axes:
        return ast.Constant(1)                  # only axes of length 1 were reduced
    if int(numpy.prod(kept, dtype=int)) == 1:
        return anno.set_(ast.Attribute(value=copy_node(big), attr="size", ctx=ast.Load()),
                         anno.SIZE, int(numpy.prod(dims, dtype=int)))
    sizes = [anno.set_(ast.Subscript(value=ast.Attribute(value=copy_node(big), attr="shape",
                                                         ctx=ast.Load()),
                                     slice=ast.Constant(i), ctx=ast.Load()), anno.SIZE, dims[i])
             for i in axes]
    product = sizes[0]
    for size in sizes[1:]:
        product = ast.BinOp(left=product, op=ast.Mult(), right=size)
    return product


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

    counters: frozenset[str] = frozenset()

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


# ---- primal reductions as methods ----------------------------------------------------------
_METHODS = {numpy.sum: "sum", numpy.max: "max", numpy.min: "min", numpy.mean: "mean",
            numpy.prod: "prod", numpy.any: "any", numpy.all: "all"}
_KEYWORDS = {"axis", "keepdims", "dtype"}


def as_methods(statements, shapes):
    """Rewrite in place, in the primal `statements` (calls annotated FUNC), the reductions of
    arrays as the arrays' methods (see the module docstring); `shapes` is `{name: static
    shape}` (annotation SHAPES)."""
    if not shapes:
        return
    nodes = [node for statement in statements for node in walk(statement)]
    arrays = _arrays(nodes, shapes)
    for node in nodes:
        method = isinstance(node, ast.Call) and _reduction_of(node, arrays)
        if method:
            node.func = ast.Attribute(value=node.args[0], attr=method, ctx=ast.Load())
            node.args = []


def _method(func):
    """The array method of the reduction `func` (a FUNC annotation: any callable), or None."""
    try:
        return _METHODS.get(func)
    except TypeError:                           # (an unhashable callable)
        return None


def _reduction_of(call, arrays):
    """The method for `np.sum(a, axis=..., keepdims=..., dtype=...)` of a name among `arrays`,
    else None."""
    method = _method(anno.get(call, anno.FUNC))
    if (method and len(call.args) == 1 and isinstance(call.args[0], ast.Name)
            and call.args[0].id in arrays and all(k.arg in _KEYWORDS for k in call.keywords)):
        return method
    return None


def _arrays(nodes, shapes):
    """The names that hold NumPy arrays of one or more dimensions (see the module docstring),
    among `nodes`, every node of the statements."""
    direct = {id(node.targets[0]): node.value for node in nodes
              if isinstance(node, ast.Assign) and len(node.targets) == 1}
    values = {}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            values.setdefault(node.id, []).append(direct.get(id(node)))
    return {ident for ident, assigned in values.items()
            if len(shapes.get(ident) or ()) >= 1 and all(map(_array_value, assigned))}


def _array_value(value):
    """True for a value that is an array when its operands are: an arithmetic operator, `@`,
    a NumPy ufunc or one of the reductions."""
    if isinstance(value, ast.BinOp):
        return True
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.op, (ast.USub, ast.UAdd))
    if isinstance(value, ast.Call):
        func = anno.get(value, anno.FUNC)
        return isinstance(func, numpy.ufunc) or _method(func) is not None
    return False
