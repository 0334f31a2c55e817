"""Rules for linear algebra: dot (function and method), matmul, outer, inner, tensordot,
einsum with subscripts written out in full (any number of operands), trace and diagonal
(function and method), and diag in both directions.

All are linear in each argument: a tangent is the sum of the operation with one tangent in
place of its argument; an adjoint contracts the output's adjoint with the other argument.

The last section holds the rules of the runtime helpers these adjoints call, so that generated
code can be differentiated again (grad of grad, hvp, hessian). Each helper is linear in the
adjoint `g` and, for the products, in the other operand: its tangent applies it to each tangent
in turn, and its adjoint is the transposed map.
"""

import numpy

from srcad import runtime
from srcad.rules import adjoint, d, returns_sequence, tangent
from srcad.runtime import (
    dot_adjoint_left,
    dot_adjoint_right,
    einsum_pullback,
    einsum_pullback_in_operands,
    einsum_pushforward,
    matmul_adjoint_left,
    matmul_adjoint_right,
    tensordot_adjoint_left,
    tensordot_adjoint_right,
    undiag,
    undiagonal,
    untrace,
)

returns_sequence(runtime.einsum_pullback)

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
def einsum(y, subscripts, *operands, out=None, optimize=False, dtype=None, order="K",
           casting="safe"):
    d[operands] += einsum_pullback(d[y], subscripts, operands)


@tangent(numpy.einsum)
def einsum(y, subscripts, *operands, out=None, optimize=False, dtype=None, order="K",
           casting="safe"):
    d[y] = einsum_pushforward(subscripts, operands, d[operands])


# ---- diagonals ----------------------------------------------------------------------------


@adjoint(numpy.trace)
@adjoint(numpy.ndarray.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[a] += untrace(d[y], a, offset, axis1, axis2)


@tangent(numpy.trace)
@tangent(numpy.ndarray.trace)
def trace(y, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    d[y] = numpy.trace(d[a], offset, axis1, axis2)


@adjoint(numpy.diagonal)
@adjoint(numpy.ndarray.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[a] += undiagonal(d[y], a, offset, axis1, axis2)


@tangent(numpy.diagonal)
@tangent(numpy.ndarray.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    d[y] = numpy.diagonal(d[a], offset, axis1, axis2)


@adjoint(numpy.diag)
def diag(y, v, k=0):
    d[v] += undiag(d[y], v, k)


@tangent(numpy.diag)
def diag(y, v, k=0):
    d[y] = numpy.diag(d[v], k)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


@adjoint(runtime.dot_adjoint_left)
def dot_adjoint_left_(out, g, a, b):
    d[g] += numpy.dot(d[out], b)
    d[b] += dot_adjoint_right(g, d[out], b)


@tangent(runtime.dot_adjoint_left)
def dot_adjoint_left_(out, g, a, b):
    d[out] = dot_adjoint_left(d[g], a, b) + dot_adjoint_left(g, a, d[b])


@adjoint(runtime.dot_adjoint_right)
def dot_adjoint_right_(out, g, a, b):
    d[g] += numpy.dot(a, d[out])
    d[a] += dot_adjoint_left(g, a, d[out])


@tangent(runtime.dot_adjoint_right)
def dot_adjoint_right_(out, g, a, b):
    d[out] = dot_adjoint_right(d[g], a, b) + dot_adjoint_right(g, d[a], b)


@adjoint(runtime.tensordot_adjoint_left)
def tensordot_adjoint_left_(out, g, a, b, axes=2):
    d[g] += numpy.tensordot(d[out], b, axes)
    d[b] += tensordot_adjoint_right(g, d[out], b, axes)


@tangent(runtime.tensordot_adjoint_left)
def tensordot_adjoint_left_(out, g, a, b, axes=2):
    d[out] = tensordot_adjoint_left(d[g], a, b, axes) + tensordot_adjoint_left(g, a, d[b], axes)


@adjoint(runtime.tensordot_adjoint_right)
def tensordot_adjoint_right_(out, g, a, b, axes=2):
    d[g] += numpy.tensordot(a, d[out], axes)
    d[a] += tensordot_adjoint_left(g, a, d[out], axes)


@tangent(runtime.tensordot_adjoint_right)
def tensordot_adjoint_right_(out, g, a, b, axes=2):
    d[out] = tensordot_adjoint_right(d[g], a, b, axes) + tensordot_adjoint_right(g, d[a], b, axes)


@adjoint(runtime.einsum_pullback)
def einsum_pullback_(out, g, subscripts, operands):
    d[g] += einsum_pushforward(subscripts, operands, d[out])
    d[operands] += einsum_pullback_in_operands(g, subscripts, operands, d[out])


@tangent(runtime.einsum_pullback)
def einsum_pullback_(out, g, subscripts, operands):
    d[out] = (einsum_pullback(d[g], subscripts, operands)
              + einsum_pullback_in_operands(g, subscripts, operands, d[operands]))


@adjoint(runtime.untrace)
def untrace_(out, g, a, offset=0, axis1=0, axis2=1):
    d[g] += numpy.trace(d[out], offset, axis1, axis2)


@tangent(runtime.untrace)
def untrace_(out, g, a, offset=0, axis1=0, axis2=1):
    d[out] = untrace(d[g], a, offset, axis1, axis2)


@adjoint(runtime.undiagonal)
def undiagonal_(out, g, a, offset=0, axis1=0, axis2=1):
    d[g] += numpy.diagonal(d[out], offset, axis1, axis2)


@tangent(runtime.undiagonal)
def undiagonal_(out, g, a, offset=0, axis1=0, axis2=1):
    d[out] = undiagonal(d[g], a, offset, axis1, axis2)


@adjoint(runtime.undiag)
def undiag_(out, g, v, k=0):
    d[g] += numpy.diag(d[out], k)


@tangent(runtime.undiag)
def undiag_(out, g, v, k=0):
    d[out] = undiag(d[g], v, k)
