"""Rules for indexing: `x[i]`, `x[1:3, None]`, `x[idx_array]`, `x[mask]`, and `t[i]` where `t`
is a tuple or list of arrays; and for writes `x[i] = v`, which normal form turns into
`x_1 = set_item(x, i, v)`. A lookup into a model's parameter (`self.weight[tokens]`) gets a
row-sparse adjoint (srcad.sparse.RowGrad): O(rows used), not O(vocabulary).

The adjoint of indexing scatters: repeated integer indices accumulate (`numpy.add.at`), basic
slices are assigned directly. A write through an index that names an entry twice keeps the
last value, as NumPy does: the earlier values get no adjoint (`last_writes`).
"""

import ast

from srcad import runtime
from srcad.rules import adjoint, d, tangent
from srcad.runtime import item_adjoint, scatter_add, set_item, unbroadcast, without_item, zeros_like
from srcad.runtime_exact import last_writes
from srcad.sparse import row_grad


@adjoint(ast.Subscript)
def subscript(y, x, index):
    d[x] += scatter_add(d[y], x, index)


@tangent(ast.Subscript)
def subscript(y, x, index):
    d[y] = d[x][index]


@adjoint((ast.Subscript, "sequence"))
def sequence_item(y, x, index):
    d[x] += item_adjoint(d[y], x, index)


@adjoint(runtime.set_item)
def set_item_(y, x, index, value):
    d[x] += without_item(d[y], index)
    d[value] += unbroadcast(last_writes(d[y], index), value)


@tangent(runtime.set_item)
def set_item_(y, x, index, value):
    d[y] = without_item(d[x], index) + set_item(zeros_like(y), index, d[value])


@adjoint(runtime.without_item)
def without_item_(y, g, index):
    d[g] += without_item(d[y], index)


@tangent(runtime.without_item)
def without_item_(y, g, index):
    d[y] = without_item(d[g], index)


@adjoint((ast.Subscript, "rows"))
def parameter_rows(y, x, index):
    d[x] += row_grad(d[y], x, index)
