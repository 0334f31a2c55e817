"""Rules for indexing: `x[i]`, `x[1:3, None]`, `x[idx_array]`, `x[mask]`, and `t[i]` where `t`
is a tuple or list of arrays.

The adjoint of indexing scatters: repeated integer indices accumulate (`numpy.add.at`), basic
slices are assigned directly.
"""

import ast

from srcad.rules import adjoint, d, tangent
from srcad.runtime import item_adjoint, scatter_add


@adjoint(ast.Subscript)
def subscript(y, x, index):
    d[x] += scatter_add(d[y], x, index)


@tangent(ast.Subscript)
def subscript(y, x, index):  # noqa: F811
    d[y] = d[x][index]


@adjoint((ast.Subscript, "sequence"))
def sequence_item(y, x, index):
    d[x] += item_adjoint(d[y], x, index)
