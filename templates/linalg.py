"""Rules for linear algebra: dot (function and method), matmul, outer, inner, trace, diag,
tensordot, and einsum with explicit subscripts for one or two operands.

All are linear in each argument: a tangent is the sum of the operation with one tangent in
place of its argument; an adjoint contracts the output's adjoint with the other argument.
"""

import numpy

from srcad.rules import adjoint, d, tangent
from srcad.runtime import (diag_adjoint, dot_adjoint_left, dot_adjoint_right, einsum_adjoints,
                           einsum_tangent, matmul_adjoint_left, matmul_adjoint_right,
                           tensordot_adjoint_left, tensordot_adjoint_right, trace_adjoint)

# ---- products -----------------------------------------------------------------------------


@adjoint(numpy.dot)
@adjoint(numpy.ndarray.dot)
def dot(y, a, b, out=None):
    d[a] += dot_adjoint_left(d[y], a, b)
    d[b] += dot_adjoint_right(d[y], a, b)


@tangent(numpy.dot)
@tangent(numpy.ndarray.dot)
def dot(y, a, b, out=None):
    d[y] = numpy.dot(d[a], b) + numpy.dot(a, d[b])


@adjoint(numpy.matmul)
def matmul(y, x1, x2):
    d[x1] += matmul_adjoint_left(d[y], x1, x2)
    d[x2] += matmul_adjoint_right(d[y], x1, x2)


@tangent(numpy.matmul)
def matmul(y, x1, x2):
    d[y] = d[x1] @ x2 + x1 @ d[x2]


@adjoint(numpy.outer)
def outer(y, a, b, out=None):
    d[a] += numpy.reshape(d[y] @ numpy.ravel(b), numpy.shape(a))
    d[b] += numpy.reshape(numpy.ravel(a) @ d[y], numpy.shape(b))


@tangent(numpy.outer)
def outer(y, a, b, out=None):
    d[y] = numpy.outer(d[a], b) + numpy.outer(a, d[b])


@adjoint(numpy.inner)
def inner(y, a, b):
    d[a] += tensordot_adjoint_left(d[y], a, b, ([-1], [-1]))
    d[b] += tensordot_adjoint_right(d[y], a, b, ([-1], [-1]))


@tangent(numpy.inner)
def inner(y, a, b):
    d[y] = numpy.inner(d[a], b) + numpy.inner(a, d[b])


@adjoint(numpy.tensordot)
def tensordot(y, a, b, axes=2):
    d[a] += tensordot_adjoint_left(d[y], a, b, axes)
    d[b] += tensordot_adjoint_right(d[y], a, b, axes)


@tangent(numpy.tensordot)
def tensordot(y, a, b, axes=2):
    d[y] = numpy.tensordot(d[a], b, axes) + numpy.tensordot(a, d[b], axes)


@adjoint(numpy.einsum)
def einsum(y, subscripts, *operands, out=None, optimize=False):
    d[operands] += einsum_adjoints(d[y], subscripts, operands)


@tangent(numpy.einsum)
def einsum(y, subscripts, *operands, out=None, optimize=False):
    d[y] = einsum_tangent(subscripts, operands, d[operands])


# ---- diagonals ----------------------------------------------------------------------------


@adjoint(numpy.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] += trace_adjoint(d[y], a, offset, axis1, axis2)


@tangent(numpy.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[y] = numpy.trace(d[a], offset, axis1, axis2)


@adjoint(numpy.diag)
def diag(y, v, k=0):
    d[v] += diag_adjoint(d[y], v, k)


@tangent(numpy.diag)
def diag(y, v, k=0):
    d[y] = numpy.diag(d[v], k)
