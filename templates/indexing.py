"""Rules for indexing: `x[i]`, `x[1:3, None]`, `x[idx_array]`, `x[mask]`, and `t[i]` where `t`
is a tuple or list of arrays; and for writes `x[i] = v`, which normal form turns into
`x_1 = set_item(x, i, v)`. A lookup into a model's parameter (`self.weight[tokens]`) gets a
row-sparse adjoint (srcad.sparse.RowGrad): O(rows used), not O(vocabulary).

The adjoint of indexing scatters: repeated integer indices accumulate (`numpy.add.at`), basic
slices are assigned directly. A write through an index that names an entry twice keeps the
last value, as NumPy does: the earlier values get no adjoint (`last_writes`).
"""

import ast

import numpy

from srcad import runtime
from srcad.rules import adjoint, d, linear, shape, tangent, without_derivative
from srcad.runtime import item_adjoint, scatter_add, set_item, unbroadcast, without_item, zeros_like
from srcad.runtime_exact import last_writes
from srcad.shape_rules import literal
from srcad.sparse import row_grad


@adjoint(ast.Subscript)
def subscript(y, x, index):
    d[x] += scatter_add(d[y], x, index)


@tangent(ast.Subscript)
def subscript(y, x, index):
    d[y] = d[x][index]


@shape(ast.Subscript)
def subscript_shape(shapes, x, index, /):
    """Indexing with constants, constant slices, None and loop counters; `x.shape[i]` is an
    integer."""
    if isinstance(x, ast.Attribute) and x.attr == "shape":
        return ()
    dims = shapes.shape(x)
    if dims is None:
        return None
    index = _static_index(index, shapes)
    if index is None:
        return None
    try:
        return numpy.broadcast_to(numpy.empty(()), dims)[index].shape
    except (IndexError, TypeError, ValueError):
        return None


def _static_index(node, shapes):
    """An index made of integers (a loop counter stands for 0), constant slices and None
    that has the same effect on the shape as the real one; None when there is none."""
    if isinstance(node, ast.Tuple):
        parts = [_static_index(e, shapes) for e in node.elts]
        return None if any(p is None for p in parts) else tuple(parts)
    if isinstance(node, ast.Slice):
        parts = [literal(p) for p in (node.lower, node.upper, node.step)]
        if any(p is not None and type(p) is not int for p in parts):
            return None
        return slice(*parts)
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) is int):
        return node.value
    if isinstance(node, ast.Name) and shapes.is_counter(node.id):
        return 0
    return None


@adjoint((ast.Subscript, "sequence"))
def sequence_item(y, x, index):
    d[x] += item_adjoint(d[y], x, index)


without_derivative(runtime.set_item, "index")


@adjoint(runtime.set_item)
def set_item_(y, x, index, value):
    d[x] += without_item(d[y], index)
    d[value] += unbroadcast(last_writes(d[y], index), value)


@tangent(runtime.set_item)
def set_item_(y, x, index, value):
    d[y] = without_item(d[x], index) + set_item(zeros_like(y), index, d[value])


without_derivative(runtime.without_item, "index")


@linear(runtime.without_item)
def without_item_(y, g, index):
    return without_item(d[y], index)


@adjoint((ast.Subscript, "rows"))
def parameter_rows(y, x, index):
    d[x] += row_grad(d[y], x, index)
