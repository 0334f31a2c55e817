"""Rules for reductions: sum, mean, prod, max, min, var, std, cumsum, norm.

`unreduce(g, x, axis, keepdims)` broadcasts an adjoint back over the reduced axes.
"""

import numpy

from srcad.rules import adjoint, d, tangent
from srcad.runtime import unreduce


@adjoint(numpy.sum)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += unreduce(d[y], a, axis, keepdims)


@tangent(numpy.sum)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: F811
    d[y] = numpy.sum(d[a], axis, keepdims=keepdims)
