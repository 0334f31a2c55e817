"""Run-time helpers for the derivatives of numpy.linalg.solve and numpy.linalg.cholesky
(templates/linalg.py), called by generated code like those in `srcad.runtime`.

In: arrays of any array library with NumPy's interface, matrices in the last two axes
(leading axes are a stack). Out: arrays of the same library.

Right-hand sides: NumPy 2 reads the `b` of `solve(a, b)` as a vector, or a stack of vectors
when `a` is a stack, only when `b` has one dimension, and as (a stack of) matrices otherwise. The
`*_columns` helpers take the primal's `b` to read their own right-hand sides the same way, so
that the adjoint of a batched vector solve stays a batched vector solve.

Cholesky: NumPy's `cholesky(a)` reads only the lower triangle of `a`, so its derivative is the
derivative of `L(symmetrize_lower(a))`; `unsymmetrize_lower` is the transpose of that map and
`tril_halved` is the `Phi` of the textbook formulas (lower triangle, halved diagonal).
"""

import numpy

from .backend import array_module
from .runtime import shape_of


def _vectors(b):
    return len(shape_of(b)) == 1


def solve_columns(a, rhs, b):
    """`numpy.linalg.solve(a, rhs)`, with `rhs` read as (a stack of) vectors when the primal's
    `b` was a vector."""
    if _vectors(b):
        return numpy.linalg.solve(a, rhs[..., None])[..., 0]
    return numpy.linalg.solve(a, rhs)


def matmul_columns(m, x, b):
    """`m @ x` for `x` shaped like the solution of `solve(a, b)` (vectors when `b` is one)."""
    if _vectors(b):
        return (m @ x[..., None])[..., 0]
    return m @ x


def outer_columns(g, x, b):
    """`g @ x^T` for `g`, `x` shaped like the solution of `solve(a, b)`: the outer product of
    each pair of vectors when `b` is a vector."""
    if _vectors(b):
        return g[..., :, None] * x[..., None, :]
    return g @ numpy.swapaxes(x, -1, -2)


def tril_halved(x):
    """The lower triangle of each matrix in `x`, with its diagonal halved."""
    return numpy.tril(x, -1) + 0.5 * numpy.triu(numpy.tril(x))


def symmetrize_lower(x):
    """The symmetric matrices that the lower triangles of `x` define (what cholesky reads)."""
    return numpy.tril(x) + numpy.swapaxes(numpy.tril(x, -1), -1, -2)


def unsymmetrize_lower(g):
    """The transpose of `symmetrize_lower`: lower triangles of `g + g^T`, diagonals of `g`."""
    return numpy.tril(g) + numpy.tril(numpy.swapaxes(g, -1, -2), -1)


def power_tangent(t, a, n):
    """The tangent of `numpy.linalg.matrix_power(a, n)` along `t`: the sum over k of
    A^k t A^(n-1-k) (for n < 0, of B = A^-1 with the tangent -B t B). Linear in `t`; its
    transpose is `power_tangent(g, A^T, n)`. It has no rule: srcad differentiates it from its
    source (second derivatives of matrix_power), so it calls only NumPy."""
    if n < 0:
        a = numpy.linalg.inv(a)
        t = -(a @ t @ a)
        n = -n
    if n == 0:
        return numpy.zeros_like(t)
    identity = numpy.eye(numpy.shape(a)[-1], like=numpy.zeros_like(a))    # `a` may be a list
    powers = [numpy.broadcast_to(identity, numpy.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    total = powers[0] @ t @ powers[n - 1]
    for k in range(1, n):
        total = total + powers[k] @ t @ powers[n - 1 - k]
    return total


def cross_adjoint_left(g, a, b, axis=-1):
    """The adjoint of `numpy.cross(a, b, axis=axis)` with respect to `a`: the gradient in `a`
    of `sum(cross(a, b) * g)`; linear in `g` and in `b`. Vectors of 3 entries take the
    formula `cross(b, g)`; vectors of 2 (which NumPy extends with a zero third entry) take the
    product with each unit vector in turn."""
    if numpy.shape(a)[axis] == 3 and numpy.shape(b)[axis] == 3:
        return _summed_to(numpy.cross(b, g, axis=axis), numpy.shape(a))
    return _cross_gradient(g, a, lambda unit: numpy.cross(unit, b, axis=axis), axis)


def cross_adjoint_right(g, a, b, axis=-1):
    """The adjoint of `numpy.cross(a, b, axis=axis)` with respect to `b`; linear in `g` and in
    `a` (see `cross_adjoint_left`)."""
    if numpy.shape(a)[axis] == 3 and numpy.shape(b)[axis] == 3:
        return _summed_to(numpy.cross(g, a, axis=axis), numpy.shape(b))
    return _cross_gradient(g, b, lambda unit: numpy.cross(a, unit, axis=axis), axis)


def _cross_gradient(g, x, product, axis):
    """The gradient in `x` of `sum(product(x) * g)` for `product` linear in `x` (a cross
    product), one entry of the vectors of `x` at a time."""
    n, ndim = numpy.shape(x)[axis], numpy.ndim(x)
    along = (1,) * (axis % ndim) + (n,) + (1,) * (ndim - axis % ndim - 1)
    units = array_module(g).eye(n)             # (made by g's array library)
    pieces = []
    for i in range(n):
        unit = numpy.reshape(units[i], along)
        weighted = product(numpy.broadcast_to(unit, numpy.shape(x))) * g
        pieces.append(_summed_to(weighted, numpy.shape(numpy.take(x, i, axis=axis))))
    return numpy.stack(pieces, axis=axis % ndim)


def _summed_to(y, shape):
    """`y` summed over the axes broadcasting added or stretched, to `shape`."""
    extra = numpy.ndim(y) - len(shape)
    y = numpy.sum(y, axis=tuple(range(extra))) if extra > 0 else y
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and numpy.shape(y)[i] != 1)
    return numpy.reshape(numpy.sum(y, axis=stretched, keepdims=True) if stretched else y, shape)


def _kron_blocks(g, a, b):
    """(g viewed with the axes of `a` and `b` interleaved, a and b with equal numbers of axes):
    `numpy.kron(a, b)[..., i*B + k, ...] = a[..., i, ...] b[..., k, ...]`."""
    nd = max(numpy.ndim(a), numpy.ndim(b))
    a = numpy.reshape(a, (1,) * (nd - numpy.ndim(a)) + numpy.shape(a))
    b = numpy.reshape(b, (1,) * (nd - numpy.ndim(b)) + numpy.shape(b))
    shape = [n for pair in zip(numpy.shape(a), numpy.shape(b)) for n in pair]
    return numpy.reshape(g, shape), a, b, nd


def kron_adjoint_left(g, a, b):
    """The adjoint of `numpy.kron(a, b)` with respect to `a`; linear in `g` and in `b`."""
    blocks, a_nd, b_nd, nd = _kron_blocks(g, a, b)
    out = numpy.tensordot(blocks, b_nd, axes=(list(range(1, 2 * nd, 2)), list(range(nd))))
    return numpy.reshape(out, numpy.shape(a))


def kron_adjoint_right(g, a, b):
    """The adjoint of `numpy.kron(a, b)` with respect to `b`; linear in `g` and in `a`."""
    blocks, a_nd, b_nd, nd = _kron_blocks(g, a, b)
    out = numpy.tensordot(blocks, a_nd, axes=(list(range(0, 2 * nd, 2)), list(range(nd))))
    return numpy.reshape(out, numpy.shape(b))
