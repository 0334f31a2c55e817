"""How a shape rule is written, and the shape arithmetic that rules share.

A shape rule says what shape a primitive's result has, given its arguments. It is registered
on the primitive's real object beside the primitive's templates (`@shape(numpy.matmul)` in
`templates/linalg.py`), and `passes.shapes` looks it up while it infers shapes::

    @shape(numpy.matmul)
    def matmul_shape(shapes, x1, x2, /):
        return matmul(shapes.shape(x1), shapes.shape(x2))

In: `shapes`, a reader of what inference knows (`shapes.shape(node)`: the static shape of an
argument, a tuple of ints or None; `shapes.is_counter(name)`: whether a name is a `range` loop
counter, an integer), then the call's argument nodes (AST, a method's receiver first) bound to
the rule's parameters. Out: the result's shape as a tuple, or None when it cannot be told. A
call that does not bind to the rule's parameters has no known shape, so a rule takes exactly
the arguments it understands (`/` and `*` keep the others out). Operators are keyed by their
`ast` class and get their operands (`ast.Compare` all of them); `x.T` is keyed by
`numpy.ndarray.T`; `ast.Subscript` gets the base and the raw index node.
"""

import ast

import numpy

UNKNOWN_LITERAL = object()          # `literal` of an expression that is not a literal


def literal(node):
    """The value of a literal argument node (None for no node), else UNKNOWN_LITERAL."""
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return UNKNOWN_LITERAL


def broadcast(shapes):
    """The shape NumPy broadcasting gives `shapes`; None if one is unknown or they clash."""
    if any(s is None for s in shapes):
        return None
    try:
        return tuple(numpy.broadcast_shapes(*shapes))
    except ValueError:
        return None


def matmul(a, b):
    """The shape of `x @ y` for `x`, `y` of shapes `a`, `b`, as NumPy's matmul gives it."""
    if a is None or b is None or not a or not b:
        return None
    left, right = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    if left[-1] != right[-2]:
        return None
    batch = broadcast([left[:-2], right[:-2]])
    if batch is None:
        return None
    out = batch + (left[-2], right[-1])
    if len(b) == 1:
        out = out[:-1]
    if len(a) == 1:
        out = out[:-2] + out[-1:] if len(b) > 1 else out[:-1]
    return out


def broadcasting(shapes, *operands):
    """The shape rule of an elementwise operation: its operands broadcast."""
    return broadcast([shapes.shape(o) for o in operands])


def matrix_product(shapes, x1, x2, /):
    """The shape rule of `x1 @ x2` and `numpy.matmul(x1, x2)`."""
    return matmul(shapes.shape(x1), shapes.shape(x2))


def same_shape(shapes, x, /):
    """The shape rule of an operation whose result has its one argument's shape."""
    return shapes.shape(x)
