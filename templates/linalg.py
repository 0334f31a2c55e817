"""Rules for linear algebra: dot (function and method), matmul, outer (`numpy.outer`, which
flattens its operands, and `numpy.multiply.outer`, which keeps their axes), inner, tensordot,
einsum with any string of subscripts (any number of operands), trace and diagonal
(function and method), and diag in both directions; numpy.linalg's inv, det, slogdet, solve
(vector and matrix right-hand sides) and cholesky, on matrices and stacks of matrices.

The products are linear in each argument: a tangent is the sum of the operation with one
tangent in place of its argument; an adjoint contracts the output's adjoint with the other
argument. inv, det, slogdet and solve follow from d(A^-1) = -A^-1 dA A^-1; cholesky (which
reads the lower triangle of its argument) from dL = L Phi(L^-1 dA L^-T).

The last section holds the rules of the runtime helpers these adjoints call, so that generated
code can be differentiated again (grad of grad, hvp, hessian). Each helper is linear in the
adjoint `g` and, for the products, in the other operand: its tangent applies it to each tangent
in turn, and its adjoint is the transposed map.
"""

import numpy

from srcad import runtime, runtime_exact, runtime_linalg
from srcad.rules import adjoint, d, linear, returns_sequence, shape, tangent, without_derivative
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
    unbroadcast,
    undiag,
    undiagonal,
    untrace,
    zeros_like,
)
from srcad.runtime_exact import cofactor_slope, det_cofactor, inverse_transpose
from srcad.runtime_linalg import (
    matmul_columns,
    outer_columns,
    solve_columns,
    symmetrize_lower,
    tril_halved,
    unsymmetrize_lower,
)
from srcad.shape_rules import matrix_product

returns_sequence(runtime.einsum_pullback, numpy.linalg.slogdet)

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


shape(numpy.matmul)(matrix_product)


@adjoint(numpy.outer)
def outer(y, a, b, out=None):
    d[a] += numpy.reshape(d[y] @ numpy.ravel(b), numpy.shape(a))
    d[b] += numpy.reshape(numpy.ravel(a) @ d[y], numpy.shape(b))


@tangent(numpy.outer)
def outer(y, a, b, out=None):
    d[y] = numpy.outer(d[a], b) + numpy.outer(a, d[b])


@adjoint(numpy.multiply.outer)
def multiply_outer(y, a, b):
    d[a] += numpy.tensordot(d[y], b, axes=numpy.ndim(b))
    d[b] += numpy.tensordot(a, d[y], axes=numpy.ndim(a))


@tangent(numpy.multiply.outer)
def multiply_outer(y, a, b):
    d[y] = numpy.multiply.outer(d[a], b) + numpy.multiply.outer(a, d[b])


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


@linear(numpy.diagonal, numpy.ndarray.diagonal)
def diagonal(y, a, offset=0, axis1=0, axis2=1):
    return undiagonal(d[y], a, offset, axis1, axis2)


@linear(numpy.diag)
def diag(y, v, k=0):
    return undiag(d[y], v, k)


# ---- inverse, determinants, solve, Cholesky ---------------------------------------------
# Matrices are the last two axes (leading axes are a stack), as in numpy.linalg. Adjoints use
# solves and inverses; det's cofactors come from the SVD at a singular matrix (det_cofactor).
# slogdet's sign gets no derivative.


@adjoint(numpy.linalg.inv)
def inv(y, a):
    inv_t = numpy.swapaxes(y, -1, -2)
    d[a] += -(inv_t @ d[y] @ inv_t)


@tangent(numpy.linalg.inv)
def inv(y, a):
    d[y] = -(y @ d[a] @ y)


@adjoint(numpy.linalg.det)
def det(y, a):
    d[a] += numpy.expand_dims(d[y], (-2, -1)) * det_cofactor(a, y)


@tangent(numpy.linalg.det)
def det(y, a):
    d[y] = numpy.sum(det_cofactor(a, y) * d[a], axis=(-2, -1))


@adjoint(runtime_exact.det_cofactor)         # (its derivatives: at invertible matrices)
def det_cofactor_(out, a, y):
    d[y] += numpy.sum(d[out] * inverse_transpose(a), axis=(-2, -1))
    d[a] += -cofactor_slope(a, y, d[out])


@tangent(runtime_exact.det_cofactor)
def det_cofactor_(out, a, y):
    d[out] = numpy.expand_dims(d[y], (-2, -1)) * inverse_transpose(a) - cofactor_slope(a, y, d[a])


@adjoint(numpy.linalg.slogdet)
def slogdet(y, a):
    d[a] += numpy.expand_dims(d[y][1], (-2, -1)) * numpy.swapaxes(numpy.linalg.inv(a), -1, -2)


@tangent(numpy.linalg.slogdet)
def slogdet(y, a):
    d[y] = [zeros_like(y[0]), numpy.trace(numpy.linalg.solve(a, d[a]), axis1=-2, axis2=-1)]


@adjoint(numpy.linalg.solve)
def solve(x, a, b):
    rhs_adjoint = solve_columns(numpy.swapaxes(a, -1, -2), d[x], b)     # A^-T g
    d[a] += -unbroadcast(outer_columns(rhs_adjoint, x, b), a)
    d[b] += unbroadcast(rhs_adjoint, b)


@tangent(numpy.linalg.solve)
def solve(x, a, b):
    d[x] = solve_columns(a, d[b] - matmul_columns(d[a], x, b), b)


@adjoint(numpy.linalg.cholesky)
def cholesky(y, a):
    factor_t = numpy.swapaxes(y, -1, -2)                             # L^T
    phi_t = numpy.swapaxes(tril_halved(factor_t @ d[y]), -1, -2)
    inner = numpy.linalg.solve(factor_t,
                               numpy.swapaxes(numpy.linalg.solve(factor_t, phi_t), -1, -2))
    d[a] += unsymmetrize_lower(inner)                               # L^-T Phi(L^T g) L^-1


@tangent(numpy.linalg.cholesky)
def cholesky(y, a):
    symmetric = symmetrize_lower(d[a])
    inner = numpy.linalg.solve(y, numpy.swapaxes(numpy.linalg.solve(y, symmetric), -1, -2))
    d[y] = y @ tril_halved(inner)                                   # L Phi(L^-1 dA L^-T)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


without_derivative(runtime.dot_adjoint_left, "a")


@adjoint(runtime.dot_adjoint_left)
def dot_adjoint_left_(out, g, a, b):
    d[g] += numpy.dot(d[out], b)
    d[b] += dot_adjoint_right(g, d[out], b)


@tangent(runtime.dot_adjoint_left)
def dot_adjoint_left_(out, g, a, b):
    d[out] = dot_adjoint_left(d[g], a, b) + dot_adjoint_left(g, a, d[b])


without_derivative(runtime.dot_adjoint_right, "b")


@adjoint(runtime.dot_adjoint_right)
def dot_adjoint_right_(out, g, a, b):
    d[g] += numpy.dot(a, d[out])
    d[a] += dot_adjoint_left(g, a, d[out])


@tangent(runtime.dot_adjoint_right)
def dot_adjoint_right_(out, g, a, b):
    d[out] = dot_adjoint_right(d[g], a, b) + dot_adjoint_right(g, d[a], b)


without_derivative(runtime.tensordot_adjoint_left, "a", "axes")


@adjoint(runtime.tensordot_adjoint_left)
def tensordot_adjoint_left_(out, g, a, b, axes=2):
    d[g] += numpy.tensordot(d[out], b, axes)
    d[b] += tensordot_adjoint_right(g, d[out], b, axes)


@tangent(runtime.tensordot_adjoint_left)
def tensordot_adjoint_left_(out, g, a, b, axes=2):
    d[out] = tensordot_adjoint_left(d[g], a, b, axes) + tensordot_adjoint_left(g, a, d[b], axes)


without_derivative(runtime.tensordot_adjoint_right, "b", "axes")


@adjoint(runtime.tensordot_adjoint_right)
def tensordot_adjoint_right_(out, g, a, b, axes=2):
    d[g] += numpy.tensordot(a, d[out], axes)
    d[a] += tensordot_adjoint_left(g, a, d[out], axes)


@tangent(runtime.tensordot_adjoint_right)
def tensordot_adjoint_right_(out, g, a, b, axes=2):
    d[out] = tensordot_adjoint_right(d[g], a, b, axes) + tensordot_adjoint_right(g, d[a], b, axes)


without_derivative(runtime.einsum_pullback, "subscripts")


@adjoint(runtime.einsum_pullback)
def einsum_pullback_(out, g, subscripts, operands):
    d[g] += einsum_pushforward(subscripts, operands, d[out])
    d[operands] += einsum_pullback_in_operands(g, subscripts, operands, d[out])


@tangent(runtime.einsum_pullback)
def einsum_pullback_(out, g, subscripts, operands):
    d[out] = (einsum_pullback(d[g], subscripts, operands)
              + einsum_pullback_in_operands(g, subscripts, operands, d[operands]))


without_derivative(runtime.untrace, "a", "offset", "axis1", "axis2")


@linear(runtime.untrace)
def untrace_(out, g, a, offset=0, axis1=0, axis2=1):
    return numpy.trace(d[out], offset, axis1, axis2)


without_derivative(runtime.undiagonal, "a", "offset", "axis1", "axis2")


@linear(runtime.undiagonal)
def undiagonal_(out, g, a, offset=0, axis1=0, axis2=1):
    return numpy.diagonal(d[out], offset, axis1, axis2)


without_derivative(runtime.undiag, "v", "k")


@linear(runtime.undiag)
def undiag_(out, g, v, k=0):
    return numpy.diag(d[out], k)


without_derivative(runtime_linalg.solve_columns, "b")


@adjoint(runtime_linalg.solve_columns)
def solve_columns_(x, a, rhs, b):
    rhs_adjoint = solve_columns(numpy.swapaxes(a, -1, -2), d[x], b)
    d[a] += -unbroadcast(outer_columns(rhs_adjoint, x, b), a)
    d[rhs] += unbroadcast(rhs_adjoint, rhs)


@tangent(runtime_linalg.solve_columns)
def solve_columns_(x, a, rhs, b):
    d[x] = solve_columns(a, d[rhs] - matmul_columns(d[a], x, b), b)


without_derivative(runtime_linalg.matmul_columns, "b")


@adjoint(runtime_linalg.matmul_columns)
def matmul_columns_(out, m, x, b):
    d[m] += unbroadcast(outer_columns(d[out], x, b), m)
    d[x] += unbroadcast(matmul_columns(numpy.swapaxes(m, -1, -2), d[out], b), x)


@tangent(runtime_linalg.matmul_columns)
def matmul_columns_(out, m, x, b):
    d[out] = matmul_columns(d[m], x, b) + matmul_columns(m, d[x], b)


without_derivative(runtime_linalg.outer_columns, "b")


@adjoint(runtime_linalg.outer_columns)
def outer_columns_(out, g, x, b):
    d[g] += unbroadcast(matmul_columns(d[out], x, b), g)
    d[x] += unbroadcast(matmul_columns(numpy.swapaxes(d[out], -1, -2), g, b), x)


@tangent(runtime_linalg.outer_columns)
def outer_columns_(out, g, x, b):
    d[out] = outer_columns(d[g], x, b) + outer_columns(g, d[x], b)


@linear(runtime_linalg.tril_halved)
def tril_halved_(out, x):
    return tril_halved(d[out])


@linear(runtime_linalg.symmetrize_lower)
def symmetrize_lower_(out, x):
    return unsymmetrize_lower(d[out])


@linear(runtime_linalg.unsymmetrize_lower)
def unsymmetrize_lower_(out, g):
    return symmetrize_lower(d[out])
