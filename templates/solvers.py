"""Rules for numpy.linalg beyond templates/linalg.py and decompositions.py: multi_dot (the
first and last arrays may be vectors), vector_norm (any `ord`, `axis` None, an int or a tuple,
`keepdims`) and matrix_norm (the last two axes, every `ord`), cond (`p` None, 2, -2, 'fro',
'nuc', 1, -1, inf, -inf, on stacks too), tensorinv (`ind`), tensorsolve (`axes`), and lstsq
(its solution, residuals and singular values, for `a` of full rank: over- and under-determined
systems, a vector or a matrix of right-hand sides).

multi_dot is the einsum of a chain ('ab,bc,cd->ad'), so it has einsum's rules. The norms
follow numpy.linalg.norm's derivative (`norm_derivative`: 0 at a zero vector, ties share). cond
is s_max / s_min (p None, 2; its inverse for -2), else |a| |a^-1|. tensorinv and tensorsolve are
inv and solve of their matrix forms. lstsq's solution is x = A+ b: dx = -A+ dA x + A+ A+^T dA^T
r + (I - A+ A) dA^T A+^T x + A+ db with r = b - A x (Golub and Pereyra), the residuals' is
2 r^T (db - dA x), the singular values' u_i^T dA v_i. Where `a` has lower rank, the solution
jumps: lstsq's derivative is an error there, not a number.
"""

import numpy

from srcad import runtime_pieces
from srcad.rules import adjoint, d, nondifferentiable, returns_sequence, tangent
from srcad.runtime import (
    einsum_pullback,
    einsum_pushforward,
    inverse_axes,
    norm_derivative,
    unreduce,
    zeros_like,
)
from srcad.runtime_pieces import (
    chain_subscripts,
    check_full_rank,
    cond_derivative,
    tensor_order,
    tensor_side,
    vector_norm_derivative,
)

returns_sequence(numpy.linalg.lstsq)
nondifferentiable(runtime_pieces.chain_subscripts, runtime_pieces.tensor_side,
                  runtime_pieces.tensor_order, runtime_pieces.check_full_rank,
                  reason="it gives subscripts, sizes, axes or a check")

# ---- multi_dot ----------------------------------------------------------------------------


@adjoint(numpy.linalg.multi_dot)
def multi_dot(y, arrays, *, out=None):
    d[arrays] += einsum_pullback(d[y], chain_subscripts(arrays), arrays)


@tangent(numpy.linalg.multi_dot)
def multi_dot(y, arrays, *, out=None):
    d[y] = einsum_pushforward(chain_subscripts(arrays), arrays, d[arrays])


# ---- norms and condition numbers ----------------------------------------------------------


@adjoint(numpy.linalg.vector_norm)
def vector_norm(y, x, *, axis=None, keepdims=False, ord=2):
    d[x] += unreduce(d[y], x, axis, keepdims) * vector_norm_derivative(x, y, ord, axis, keepdims)


@tangent(numpy.linalg.vector_norm)
def vector_norm(y, x, *, axis=None, keepdims=False, ord=2):
    d[y] = numpy.sum(d[x] * vector_norm_derivative(x, y, ord, axis, keepdims), axis,
                     keepdims=keepdims)


@adjoint(numpy.linalg.matrix_norm)
def matrix_norm(y, x, *, keepdims=False, ord="fro"):
    d[x] += unreduce(d[y], x, (-2, -1), keepdims) * norm_derivative(x, y, ord, (-2, -1),
                                                                    keepdims)


@tangent(numpy.linalg.matrix_norm)
def matrix_norm(y, x, *, keepdims=False, ord="fro"):
    d[y] = numpy.sum(d[x] * norm_derivative(x, y, ord, (-2, -1), keepdims), (-2, -1),
                     keepdims=keepdims)


@adjoint(numpy.linalg.cond)
def cond(y, x, p=None):
    d[x] += numpy.expand_dims(d[y], (-2, -1)) * cond_derivative(x, y, p)


@tangent(numpy.linalg.cond)
def cond(y, x, p=None):
    d[y] = numpy.sum(d[x] * cond_derivative(x, y, p), (-2, -1))


# ---- tensor inverse and solve: inv and solve of the matrix forms --------------------------


@adjoint(numpy.linalg.tensorinv)
def tensorinv(y, a, ind=2):
    side = tensor_side(a, ind)
    inverse_t = numpy.reshape(y, (side, side)).T
    d[a] += -numpy.reshape(inverse_t @ numpy.reshape(d[y], (side, side)) @ inverse_t,
                           numpy.shape(a))


@tangent(numpy.linalg.tensorinv)
def tensorinv(y, a, ind=2):
    side = tensor_side(a, ind)
    inverse = numpy.reshape(y, (side, side))
    d[y] = -numpy.reshape(inverse @ numpy.reshape(d[a], (side, side)) @ inverse, numpy.shape(y))


@adjoint(numpy.linalg.tensorsolve)
def tensorsolve(x, a, b, axes=None):
    order = tensor_order(a, axes)
    matrix = numpy.reshape(numpy.transpose(a, order), (numpy.size(b), numpy.size(x)))
    rhs_adjoint = numpy.linalg.solve(matrix.T, numpy.ravel(d[x]))          # A^-T g
    outer = numpy.reshape(numpy.outer(rhs_adjoint, numpy.ravel(x)),
                          numpy.shape(numpy.transpose(a, order)))
    d[a] += -numpy.transpose(outer, inverse_axes(order))
    d[b] += numpy.reshape(rhs_adjoint, numpy.shape(b))


@tangent(numpy.linalg.tensorsolve)
def tensorsolve(x, a, b, axes=None):
    order = tensor_order(a, axes)
    matrix = numpy.reshape(numpy.transpose(a, order), (numpy.size(b), numpy.size(x)))
    change = numpy.reshape(numpy.transpose(d[a], order), (numpy.size(b), numpy.size(x)))
    d[x] = numpy.reshape(numpy.linalg.solve(matrix, numpy.ravel(d[b]) - change @ numpy.ravel(x)),
                         numpy.shape(x))


# ---- least squares ------------------------------------------------------------------------


@adjoint(numpy.linalg.lstsq)
def lstsq(y, a, b, rcond=None):
    check_full_rank(a, y[2])
    p = numpy.linalg.pinv(a)
    x = numpy.reshape(y[0], (numpy.shape(a)[1], -1))                # columns
    r = numpy.reshape(b, (numpy.shape(a)[0], -1)) - a @ x
    gx = numpy.reshape(d[y][0], numpy.shape(x))
    gr = 2.0 * r * numpy.pad(d[y][1], (0, numpy.shape(x)[1] - numpy.size(y[1])))   # none: 0
    left = numpy.eye(numpy.shape(a)[1], like=p) - p @ a
    parts = numpy.linalg.svd(a, full_matrices=False)
    d[a] += (-(p.T @ gx @ x.T) + r @ (p @ p.T @ gx).T + (p.T @ x) @ (left @ gx).T - gr @ x.T
             + (parts[0] * numpy.expand_dims(d[y][3], -2)) @ parts[2])
    d[b] += numpy.reshape(p.T @ gx + gr, numpy.shape(b))


@tangent(numpy.linalg.lstsq)
def lstsq(y, a, b, rcond=None):
    check_full_rank(a, y[2])
    p = numpy.linalg.pinv(a)
    x = numpy.reshape(y[0], (numpy.shape(a)[1], -1))
    r = numpy.reshape(b, (numpy.shape(a)[0], -1)) - a @ x
    dat = numpy.transpose(d.full[a])
    change = numpy.reshape(d.full[b], numpy.shape(r)) - d.full[a] @ x       # db - dA x
    dx = p @ change + p @ p.T @ dat @ r + (numpy.eye(numpy.shape(a)[1], like=p) - p @ a) \
        @ dat @ p.T @ x
    parts = numpy.linalg.svd(a, full_matrices=False)
    d[y] = [numpy.reshape(dx, numpy.shape(y[0])),
            numpy.sum(2.0 * r * change, axis=0)[:numpy.size(y[1])],
            zeros_like(y[2]),
            numpy.diagonal(parts[0].T @ d.full[a] @ parts[2].T)]

