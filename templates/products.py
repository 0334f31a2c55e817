"""Rules for products beyond templates/linalg.py: cross (3-vectors along `axis`), kron, vdot,
vecdot, matrix_transpose, and the array-API spellings in numpy.linalg (matmul, outer,
tensordot, cross, vecdot, matrix_transpose, diagonal and trace of the last two axes), matvec
and vecmat.

Each product is linear in each argument: the tangent is the sum of the product with one
tangent in place of its argument, the adjoint pairs the output's adjoint with the other
argument (a x b pairs with g as a . (b x g) and b . (g x a)). The last section holds the rules
of kron's adjoint helpers, so that generated code can be differentiated again.
"""

import numpy

from srcad import runtime_linalg
from srcad.rules import adjoint, d, linear, tangent, without_derivative
from srcad.runtime import (
    matmul_adjoint_left,
    matmul_adjoint_right,
    tensordot_adjoint_left,
    tensordot_adjoint_right,
    unbroadcast,
    undiagonal,
    untrace,
)
from srcad.runtime_linalg import (
    cross_adjoint_left,
    cross_adjoint_right,
    kron_adjoint_left,
    kron_adjoint_right,
)

# ---- numpy.linalg's spellings of numpy's products (the same formulas) ---------------------


@adjoint(numpy.linalg.matmul)
def matmul_(y, x1, x2):
    d[x1] += matmul_adjoint_left(d[y], x1, x2)
    d[x2] += matmul_adjoint_right(d[y], x1, x2)


@adjoint(numpy.linalg.outer)
def outer_(y, a, b):
    d[a] += numpy.reshape(d[y] @ numpy.ravel(b), numpy.shape(a))
    d[b] += numpy.reshape(numpy.ravel(a) @ d[y], numpy.shape(b))


@adjoint(numpy.linalg.tensordot)
def tensordot_(y, a, b, axes=2):
    d[a] += tensordot_adjoint_left(d[y], a, b, axes)
    d[b] += tensordot_adjoint_right(d[y], a, b, axes)


@tangent(numpy.linalg.matmul)
def matmul_(y, x1, x2):
    d[y] = d[x1] @ x2 + x1 @ d[x2]


@tangent(numpy.linalg.outer)
def outer_(y, a, b):
    d[y] = numpy.outer(d[a], b) + numpy.outer(a, d[b])


@tangent(numpy.linalg.tensordot)
def tensordot_(y, a, b, axes=2):
    d[y] = numpy.tensordot(d[a], b, axes) + numpy.tensordot(a, d[b], axes)


# ---- cross, kron, vdot, vecdot, and the array API's matrix functions ----------------------


@adjoint(numpy.cross)
@adjoint(numpy.linalg.cross)
def cross(y, a, b, *, axis=-1):                # (vectors of 2 entries or 3)
    d[a] += cross_adjoint_left(d[y], a, b, axis)
    d[b] += cross_adjoint_right(d[y], a, b, axis)


@tangent(numpy.cross)
@tangent(numpy.linalg.cross)
def cross(y, a, b, *, axis=-1):
    d[y] = numpy.cross(d[a], b, axis=axis) + numpy.cross(a, d[b], axis=axis)


@adjoint(numpy.kron)
def kron(y, a, b):
    d[a] += kron_adjoint_left(d[y], a, b)
    d[b] += kron_adjoint_right(d[y], a, b)


@tangent(numpy.kron)
def kron(y, a, b):
    d[y] = numpy.kron(d[a], b) + numpy.kron(a, d[b])


@adjoint(numpy.vdot)                          # the flattened arrays' dot product
def vdot(y, a, b):
    d[a] += d[y] * numpy.reshape(b, numpy.shape(a))
    d[b] += d[y] * numpy.reshape(a, numpy.shape(b))


@tangent(numpy.vdot)
def vdot(y, a, b):
    d[y] = numpy.vdot(d[a], b) + numpy.vdot(a, d[b])


@adjoint(numpy.vecdot)
@adjoint(numpy.linalg.vecdot)
def vecdot(y, x1, x2, *, axis=-1):
    d[x1] += unbroadcast(numpy.expand_dims(d[y], axis) * x2, x1)
    d[x2] += unbroadcast(numpy.expand_dims(d[y], axis) * x1, x2)


@tangent(numpy.vecdot)
@tangent(numpy.linalg.vecdot)
def vecdot(y, x1, x2, *, axis=-1):
    d[y] = numpy.sum(d[x1] * x2, axis=axis) + numpy.sum(x1 * d[x2], axis=axis)


@adjoint(numpy.matvec)                        # x1 (..., m, n) times x2 (..., n)
def matvec(y, x1, x2):
    d[x1] += unbroadcast(numpy.expand_dims(d[y], -1) * numpy.expand_dims(x2, -2), x1)
    d[x2] += unbroadcast(numpy.vecmat(d[y], x1), x2)


@tangent(numpy.matvec)
def matvec(y, x1, x2):
    d[y] = numpy.matvec(d[x1], x2) + numpy.matvec(x1, d[x2])


@adjoint(numpy.vecmat)                        # x1 (..., n) times x2 (..., n, m)
def vecmat(y, x1, x2):
    d[x1] += unbroadcast(numpy.matvec(x2, d[y]), x1)
    d[x2] += unbroadcast(numpy.expand_dims(x1, -1) * numpy.expand_dims(d[y], -2), x2)


@tangent(numpy.vecmat)
def vecmat(y, x1, x2):
    d[y] = numpy.vecmat(d[x1], x2) + numpy.vecmat(x1, d[x2])


@linear(numpy.matrix_transpose, numpy.linalg.matrix_transpose)
def matrix_transpose(y, x):
    return numpy.swapaxes(d[y], -1, -2)


@linear(numpy.linalg.diagonal)
def diagonal(y, x, *, offset=0):
    return undiagonal(d[y], x, offset, -2, -1)


@adjoint(numpy.linalg.trace)
def trace(y, x, *, offset=0):
    d[x] += untrace(d[y], x, offset, -2, -1)


@tangent(numpy.linalg.trace)
def trace(y, x, *, offset=0):
    d[y] = numpy.trace(d[x], offset, -2, -1)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


without_derivative(runtime_linalg.kron_adjoint_left, "a")


@adjoint(runtime_linalg.cross_adjoint_left)      # linear in g and in b (a's shape only)
def cross_adjoint_left_(out, g, a, b, axis=-1):
    d[g] += numpy.cross(d[out], b, axis=axis)
    d[b] += cross_adjoint_right(g, d[out], b, axis)


@tangent(runtime_linalg.cross_adjoint_left)
def cross_adjoint_left_(out, g, a, b, axis=-1):
    d[out] = cross_adjoint_left(d[g], a, b, axis) + cross_adjoint_left(g, a, d[b], axis)


@adjoint(runtime_linalg.cross_adjoint_right)     # linear in g and in a (b's shape only)
def cross_adjoint_right_(out, g, a, b, axis=-1):
    d[g] += numpy.cross(a, d[out], axis=axis)
    d[a] += cross_adjoint_left(g, a, d[out], axis)


@tangent(runtime_linalg.cross_adjoint_right)
def cross_adjoint_right_(out, g, a, b, axis=-1):
    d[out] = cross_adjoint_right(d[g], a, b, axis) + cross_adjoint_right(g, d[a], b, axis)


without_derivative(runtime_linalg.cross_adjoint_left, "a", "axis")      # (shapes, a setting)
without_derivative(runtime_linalg.cross_adjoint_right, "b", "axis")


@adjoint(runtime_linalg.kron_adjoint_left)
def kron_adjoint_left_(out, g, a, b):
    d[g] += numpy.kron(d[out], b)
    d[b] += kron_adjoint_right(g, d[out], b)


@tangent(runtime_linalg.kron_adjoint_left)
def kron_adjoint_left_(out, g, a, b):
    d[out] = kron_adjoint_left(d[g], a, b) + kron_adjoint_left(g, a, d[b])


without_derivative(runtime_linalg.kron_adjoint_right, "b")


@adjoint(runtime_linalg.kron_adjoint_right)
def kron_adjoint_right_(out, g, a, b):
    d[g] += numpy.kron(a, d[out])
    d[a] += kron_adjoint_left(g, a, d[out])


@tangent(runtime_linalg.kron_adjoint_right)
def kron_adjoint_right_(out, g, a, b):
    d[out] = kron_adjoint_right(d[g], a, b) + kron_adjoint_right(g, d[a], b)
