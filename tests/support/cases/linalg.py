"""Cases for the linear-algebra rules in templates/linalg.py, each with an analytic `vjp`
written from the math in plain NumPy (einsum spells the index sums out)."""

import numpy

from srcad import runtime, runtime_exact, runtime_linalg
from tests.support.cases import REAL, args, arrays, case, scalars

M23 = arrays(REAL, shape=(2, 3))
M34 = arrays(REAL, shape=(3, 4))
V2 = arrays(REAL, shape=(2,))
V3 = arrays(REAL, shape=(3,))
T234 = arrays(REAL, shape=(2, 3, 4))

# ---- dot and matmul --------------------------------------------------------------------------


@case(numpy.dot, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def dot_matrices(a, b):
    return numpy.dot(a, b)


@case(numpy.dot, numpy.ndarray.dot, args=args(V3, M34),
      vjp=lambda u, a, b: (2.0 * b @ u, 2.0 * numpy.outer(a, u)))
def dot_vector_matrix(a, b):
    return numpy.dot(a, b) + a.dot(b)


@case(numpy.ndarray.dot, args=args(M23, V3), vjp=lambda u, a, v: (numpy.outer(u, v), a.T @ u))
def dot_method_matrix_vector(a, v):
    return a.dot(v)


@case(numpy.dot, args=args(V3, V3), vjp=lambda u, a, b: (u * b, u * a))
def dot_vectors(a, b):
    return numpy.dot(a, b)


@case(numpy.dot, args=args(scalars(REAL), V3), vjp=lambda u, s, v: (numpy.sum(u * v), s * u))
def dot_scalar(s, v):
    return numpy.dot(s, v)


@case(numpy.matmul, args=args(arrays(REAL, shape=(2, 2, 3)), M34),
      vjp=lambda u, a, b: (u @ b.T, numpy.einsum("bij,bik->jk", a, u)))
def matmul_stack_matrix(a, b):
    return numpy.matmul(a, b)


@case(numpy.matmul, args=args(V3, M34), vjp=lambda u, v, b: (b @ u, numpy.outer(v, u)))
def matmul_vector_matrix(v, b):
    return numpy.matmul(v, b)


# ---- outer, inner, tensordot -----------------------------------------------------------------


@case(numpy.outer, args=args(V3, arrays(REAL, shape=(2, 2))),
      vjp=lambda u, a, b: (u @ b.ravel(), (a @ u).reshape(2, 2)))
def outer(a, b):
    return numpy.outer(a, b)


@case(numpy.multiply.outer, args=args(M23, arrays(REAL, shape=(2,))),
      vjp=lambda u, a, b: (numpy.einsum("ijk,k->ij", u, b), numpy.einsum("ijk,ij->k", u, a)))
def multiply_outer(a, b):
    return numpy.multiply.outer(a, b)


@case(numpy.multiply.outer, args=args(scalars(REAL), V3),
      vjp=lambda u, s, v: (numpy.sum(u * v), s * u))
def multiply_outer_scalar(s, v):
    return numpy.multiply.outer(s, v)


@case(numpy.inner, args=args(V3, V3), vjp=lambda u, a, b: (u * b, u * a))
def inner_vectors(a, b):
    return numpy.inner(a, b)


@case(numpy.inner, args=args(M23, arrays(REAL, shape=(4, 3))),
      vjp=lambda u, a, b: (u @ b, u.T @ a))
def inner_matrices(a, b):
    return numpy.inner(a, b)


@case(numpy.tensordot, args=args(T234, arrays(REAL, shape=(4, 3, 2))),
      vjp=lambda u, a, b: (numpy.einsum("il,kjl->ijk", u, b), numpy.einsum("il,ijk->kjl", u, a)))
def tensordot_pairs(a, b):
    return numpy.tensordot(a, b, axes=([1, 2], [1, 0]))


@case(numpy.tensordot, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def tensordot_int(a, b):
    return numpy.tensordot(a, b, axes=1)


@case(numpy.tensordot, args=args(T234, arrays(REAL, shape=(3, 4, 2))),
      vjp=lambda u, a, b: (numpy.einsum("il,jkl->ijk", u, b), numpy.einsum("il,ijk->jkl", u, a)))
def tensordot_default(a, b):
    return numpy.tensordot(a, b)


@case(numpy.tensordot, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def tensordot_negative_axes(a, b):
    return numpy.tensordot(a, b, axes=([-1], [0]))


@case(numpy.tensordot, args=args(V2, V3), vjp=lambda u, a, b: (u @ b, a @ u))
def tensordot_outer(a, b):
    return numpy.tensordot(a, b, axes=0)


# ---- einsum ----------------------------------------------------------------------------------


@case(numpy.einsum, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def einsum_matmul(a, b):
    return numpy.einsum("ij,jk->ik", a, b)


@case(numpy.einsum, args=args(M23, V3), vjp=lambda u, a, v: (numpy.outer(u, v), a.T @ u))
def einsum_matrix_vector(a, v):
    return numpy.einsum("ij,j->i", a, v)


@case(numpy.einsum, args=args(V3, V3), vjp=lambda u, a, b: (u * b, u * a))
def einsum_vector_dot(a, b):
    return numpy.einsum("i,i->", a, b)


@case(numpy.einsum, args=args(V3, V2), vjp=lambda u, a, b: (u @ b, a @ u))
def einsum_outer(a, b):
    return numpy.einsum("i,j->ij", a, b)


@case(numpy.einsum, args=args(arrays(REAL, shape=(2, 2, 3)), arrays(REAL, shape=(2, 3, 2))),
      vjp=lambda u, a, b: (u @ b.transpose(0, 2, 1), a.transpose(0, 2, 1) @ u))
def einsum_batched(a, b):
    return numpy.einsum("bij,bjk->bik", a, b)


@case(numpy.einsum, args=args(M23), vjp=lambda u, a: (u.T,))
def einsum_transpose(a):
    return numpy.einsum("ij->ji", a)


@case(numpy.einsum, args=args(M23), vjp=lambda u, a: (u * numpy.ones((2, 3)),))
def einsum_total(a):
    return numpy.einsum("ij->", a)


@case(numpy.einsum, args=args(M23),
      vjp=lambda u, a: (numpy.broadcast_to(2 * u[:, None], (2, 3)),))
def einsum_one_operand(a):
    return numpy.einsum("ij->i", a) + numpy.einsum("ij->ji", a).sum(axis=0)


@case(numpy.einsum, args=args(M23, M23), vjp=lambda u, a, b: (u * b, u * a))
def einsum_frobenius(a, b):
    return numpy.einsum("ij,ij->", a, b)


@case(numpy.einsum, args=args(M23, M23), vjp=lambda u, a, b: (u[:, None] * b, u[:, None] * a))
def einsum_rowwise_dot(a, b):
    return numpy.einsum("ij,ij->i", a, b)


@case(numpy.einsum, args=args(M23, arrays(REAL, shape=(4,))),
      vjp=lambda u, a, v: (numpy.broadcast_to((u @ v)[:, None], (2, 3)), a.sum(axis=1) @ u))
def einsum_index_of_one_operand(a, v):
    return numpy.einsum("ij,k->ik", a, v)


@case(numpy.einsum, args=args(M23, M34, arrays(REAL, shape=(4, 2))),
      vjp=lambda u, a, b, c: (u @ (b @ c).T, a.T @ u @ c.T, (a @ b).T @ u))
def einsum_three_operands(a, b, c):
    return numpy.einsum("ij, jk, kl -> il", a, b, c)


@case(numpy.einsum, args=args(M23, M34), wrt=1, vjp=lambda u, a, b: (a.T @ u,))
def einsum_keywords(a, b):
    return numpy.einsum("ij,jk->ik", a, b, optimize=True)


# ---- diagonals -------------------------------------------------------------------------------


def _diagonal_adjoint_reference(u):
    """Adjoint of `a.diagonal(-1, 0, 2)` for `a` of shape (3, 2, 4): entries (1, 0), (2, 1)."""
    out = numpy.zeros((3, 2, 4))
    out[1, :, 0] = u[:, 0]
    out[2, :, 1] = u[:, 1]
    return out


@case(numpy.trace, args=args(M34), vjp=lambda u, a: (u * numpy.eye(3, 4, k=1),))
def trace(a):
    return numpy.trace(a, offset=1)


@case(numpy.trace, args=args(T234),
      vjp=lambda u, a: (u[:, None, None] * numpy.eye(3, 4, k=-1),))
def trace_axes(a):
    return numpy.trace(a, -1, 1, 2)


@case(numpy.ndarray.trace, args=args(M34), vjp=lambda u, a: (u * numpy.eye(3, 4),))
def trace_method(a):
    return a.trace()


@case(numpy.diagonal, args=args(M34), vjp=lambda u, a: (numpy.eye(3, 4, k=1) * u[:, None],))
def diagonal(a):
    return numpy.diagonal(a, 1)


@case(numpy.ndarray.diagonal, args=args(arrays(REAL, shape=(3, 2, 4))),
      vjp=lambda u, a: (_diagonal_adjoint_reference(u),))
def diagonal_method_axes(a):
    return a.diagonal(-1, 0, 2)


@case(numpy.diag, args=args(M34), vjp=lambda u, a: (numpy.eye(3, 4, k=1) * u[:, None],))
def diag_extract(a):
    return numpy.diag(a, 1)


@case(numpy.diag, args=args(M34), vjp=lambda u, a: (numpy.eye(3, 4, k=-2) * u[-1],))
def diag_extract_below(a):
    return numpy.diag(a, k=-2)


@case(numpy.diag, args=args(V3), vjp=lambda u, v: (numpy.diagonal(u, -1),))
def diag_build(v):
    return numpy.diag(v, -1)


@case(numpy.diag, args=args(V2), vjp=lambda u, v: (numpy.diagonal(u),))
def diag_build_main(v):
    return numpy.diag(v)


# ---- the helpers' own rules (derivatives of generated code) ----------------------------------
# Each helper differentiated in its derivative arguments; the others give shapes only.

X23 = numpy.zeros((2, 3))
X234 = numpy.zeros((2, 3, 4))
X324 = numpy.zeros((3, 2, 4))


@case(runtime.dot_adjoint_left, args=args(arrays(REAL, shape=(2, 4)), M34),
      vjp=lambda u, g, b: (u @ b, u.T @ g))
def dot_adjoint_left(g, b):
    return runtime.dot_adjoint_left(g, X23, b)


@case(runtime.dot_adjoint_left, args=args(V3, V3), vjp=lambda u, g, b: (u * b, u * g))
def dot_adjoint_left_scalar(g, b):
    return runtime.dot_adjoint_left(g, numpy.zeros(()), b)


@case(runtime.dot_adjoint_right, args=args(arrays(REAL, shape=(2, 4)), M23),
      vjp=lambda u, g, a: (a @ u, g @ u.T))
def dot_adjoint_right(g, a):
    return runtime.dot_adjoint_right(g, a, X23.T[:, :2] @ numpy.zeros((2, 4)))


@case(runtime.tensordot_adjoint_left, args=args(arrays(REAL, shape=(2, 2)),
                                                arrays(REAL, shape=(4, 3, 2))),
      vjp=lambda u, g, b: (numpy.einsum("ijk,kjl->il", u, b), numpy.einsum("ijk,il->kjl", u, g)))
def tensordot_adjoint_left(g, b):
    return runtime.tensordot_adjoint_left(g, X234, b, ([1, 2], [1, 0]))


@case(runtime.tensordot_adjoint_right, args=args(arrays(REAL, shape=(2, 2)), T234),
      vjp=lambda u, g, a: (numpy.einsum("kjl,ijk->il", u, a), numpy.einsum("kjl,il->ijk", u, g)))
def tensordot_adjoint_right(g, a):
    return runtime.tensordot_adjoint_right(g, a, numpy.zeros((4, 3, 2)), ([1, 2], [1, 0]))


def _pullback_vjp(u, g, a, b):
    ua, ub = u[:6].reshape(2, 3), 2.0 * u[6:].reshape(3, 4)
    return ua @ b + a @ ub, g @ ub.T, ua.T @ g


@case(runtime.einsum_pullback, args=args(arrays(REAL, shape=(2, 4)), M23, M34),
      vjp=_pullback_vjp)
def einsum_pullback(g, a, b):
    da, db = runtime.einsum_pullback(g, "ij,jk->ik", (a, b))
    return numpy.concatenate([numpy.ravel(da), numpy.ravel(db) * 2.0])


@case(runtime.einsum_pullback, args=args(V2, M23, arrays(REAL, shape=(4,))), wrt=(1, 2))
def einsum_pullback_in_operands_only(g, a, v):
    pieces = runtime.einsum_pullback(g, "ij,k->i", [a, v])
    return numpy.sum(pieces[0] * a) + pieces[1] * 3.0


@case(runtime.einsum_pullback, args=args(V2), vjp=lambda u, g: (u.sum(axis=1),))
def einsum_pullback_one_operand(g):
    return runtime.einsum_pullback(g, "ij->i", (X23,))[0]


@case(runtime.untrace, args=args(V2), vjp=lambda u, g: (numpy.trace(u, -1, 1, 2),))
def untrace(g):
    return runtime.untrace(g, X234, -1, 1, 2)


@case(runtime.undiagonal, args=args(arrays(REAL, shape=(2, 2))),
      vjp=lambda u, g: (numpy.diagonal(u, -1, 0, 2),))
def undiagonal(g):
    return runtime.undiagonal(g, X324, -1, 0, 2)


@case(runtime.undiag, args=args(arrays(REAL, shape=(4, 4))), vjp=lambda u, g: (numpy.diag(u, 1),))
def undiag_of_vector(g):
    return runtime.undiag(g, numpy.zeros(3), 1)


@case(runtime.undiag, args=args(V3), vjp=lambda u, g: (numpy.diag(u, 1),))
def undiag_of_matrix(g):
    return runtime.undiag(g, numpy.zeros((3, 4)), 1)


# ---- inverse, determinants, solve, Cholesky --------------------------------------------------
# Matrices are drawn well-conditioned: B / (2 n) + 2 I with B in REAL is strictly diagonally
# dominant; B B^T / n + I is symmetric positive definite. References use numpy.linalg.inv.


def well_conditioned(shape):
    """Square matrices (or stacks) that are strictly diagonally dominant."""
    n = shape[-1]
    return arrays(REAL, shape=shape).map(lambda b: b / (2 * n) + 2.0 * numpy.eye(n))


def positive_definite(shape):
    """Symmetric positive definite matrices (or stacks), eigenvalues at least 1."""
    n = shape[-1]
    return arrays(REAL, shape=shape).map(
        lambda b: b @ numpy.swapaxes(b, -1, -2) / n + numpy.eye(n))


def _inv_t(a):
    return numpy.swapaxes(numpy.linalg.inv(a), -1, -2)


@case(numpy.linalg.inv, args=args(well_conditioned((3, 3))),
      vjp=lambda u, a: (-_inv_t(a) @ u @ _inv_t(a),))
def inv(a):
    return numpy.linalg.inv(a)


@case(numpy.linalg.inv, args=args(well_conditioned((2, 3, 3))),
      vjp=lambda u, a: (-_inv_t(a) @ u @ _inv_t(a),))
def inv_stack(a):
    return numpy.linalg.inv(a)


@case(numpy.linalg.det, args=args(well_conditioned((3, 3))),
      vjp=lambda u, a: (u * numpy.linalg.det(a) * _inv_t(a),))
def det(a):
    return numpy.linalg.det(a)


@case(numpy.linalg.det, args=args(well_conditioned((2, 2, 2))),
      vjp=lambda u, a: ((u * numpy.linalg.det(a))[:, None, None] * _inv_t(a),))
def det_stack(a):
    return numpy.linalg.det(a)


@case(numpy.linalg.slogdet, args=args(well_conditioned((3, 3))), vjp=lambda u, a: (u * _inv_t(a),))
def slogdet(a):
    sign, logdet = numpy.linalg.slogdet(a)
    return logdet


@case(numpy.linalg.slogdet, args=args(well_conditioned((2, 3, 3))),
      vjp=lambda u, a: (u[:, None, None] * _inv_t(a),))
def slogdet_stack(a):
    return numpy.linalg.slogdet(a)[1]


@case(numpy.linalg.slogdet, args=args(well_conditioned((3, 3))),
      vjp=lambda u, a: (-u * numpy.linalg.det(a) * _inv_t(a),))
def slogdet_sign(a):
    sign, logdet = numpy.linalg.slogdet(-a)           # a negative determinant
    return sign * numpy.exp(logdet)


def _solve_vjp(u, a, b):
    x = numpy.linalg.solve(a, b)
    g = numpy.linalg.solve(numpy.swapaxes(a, -1, -2), u)
    return -g @ numpy.swapaxes(x, -1, -2), g


@case(numpy.linalg.solve, args=args(well_conditioned((3, 3)), V3),
      vjp=lambda u, a, b: (-numpy.outer(_inv_t(a) @ u, numpy.linalg.solve(a, b)),
                           _inv_t(a) @ u))
def solve_vector(a, b):
    return numpy.linalg.solve(a, b)


@case(numpy.linalg.solve, args=args(well_conditioned((3, 3)), arrays(REAL, shape=(3, 2))),
      vjp=_solve_vjp)
def solve_matrix(a, b):
    return numpy.linalg.solve(a, b)


@case(numpy.linalg.solve, args=args(well_conditioned((2, 3, 3)), arrays(REAL, shape=(2, 3, 2))),
      vjp=_solve_vjp)
def solve_stack(a, b):
    return numpy.linalg.solve(a, b)


def _solve_stack_vector_vjp(u, a, b):
    x = numpy.linalg.solve(a, b)                         # (2, 3): one solution per matrix
    g = numpy.einsum("kji,kj->ki", numpy.linalg.inv(a), u)
    return -numpy.einsum("ki,kj->kij", g, x), g.sum(axis=0)


@case(numpy.linalg.solve, args=args(well_conditioned((2, 3, 3)), V3),
      vjp=_solve_stack_vector_vjp)
def solve_stack_one_vector(a, b):
    return numpy.linalg.solve(a, b)


@case(numpy.linalg.solve, args=args(well_conditioned((3, 3)), arrays(REAL, shape=(2, 3, 2))),
      wrt=0, vjp=lambda u, a, b: (_solve_vjp(u, a, b)[0].sum(axis=0),))
def solve_one_matrix_many_right_hand_sides(a, b):
    return numpy.linalg.solve(a, b)


@case(numpy.linalg.solve, args=args(well_conditioned((3, 3)), V3), wrt=1,
      vjp=lambda u, a, b: (_inv_t(a) @ u,))
def solve_right_hand_side_only(a, b):
    return numpy.linalg.solve(a, b)


def _cholesky_vjp_reference(u, a):
    """The vjp of numpy's cholesky (which reads the lower triangle of `a`), from the identity
    dL L^T + L dL^T = dS that defines its tangent, solved as a linear system over the lower
    triangles (independent of the closed-form rule)."""
    if a.ndim > 2:
        return numpy.stack([_cholesky_vjp_reference(ui, ai) for ui, ai in zip(u, a)])
    low = numpy.linalg.cholesky(a)
    n = a.shape[-1]
    lower = [(i, j) for i in range(n) for j in range(i + 1)]
    system = numpy.zeros((len(lower), len(lower)))      # dL (lower entries) -> dS (lower)
    for k, (i, j) in enumerate(lower):
        unit = numpy.zeros((n, n))
        unit[i, j] = 1.0
        image = unit @ low.T + low @ unit.T
        system[:, k] = [image[p, q] for p, q in lower]
    weights = numpy.linalg.solve(system.T, [u[i, j] for i, j in lower])
    out = numpy.zeros((n, n))
    for (i, j), w in zip(lower, weights):
        out[i, j] = w                                   # dS[i, j] is d a[i, j] (lower only)
    return out


@case(numpy.linalg.cholesky, args=args(positive_definite((3, 3))),
      vjp=lambda u, a: (_cholesky_vjp_reference(u, a),))
def cholesky(a):
    return numpy.linalg.cholesky(a)


@case(numpy.linalg.cholesky, args=args(positive_definite((2, 3, 3))),
      vjp=lambda u, a: (_cholesky_vjp_reference(u, a),))
def cholesky_stack(a):
    return numpy.linalg.cholesky(a)


def _cholesky_of_product_vjp(u, b):
    g = _cholesky_vjp_reference(u, b @ b.T + 3.0 * numpy.eye(3))
    return ((g + g.T) @ b,)


@case(numpy.linalg.cholesky, args=args(arrays(REAL, shape=(3, 3))),
      vjp=_cholesky_of_product_vjp)
def cholesky_of_a_product(b):
    return numpy.linalg.cholesky(b @ b.T + 3.0 * numpy.eye(3))


# ---- the helpers of solve and cholesky (srcad/runtime_linalg.py) -----------------------------
# `b` only says how to read right-hand sides: a vector (B3) or matrices (B32).

B3, B32 = numpy.zeros(3), numpy.zeros((3, 2))


def _solve_vectors_vjp(u, a, rhs):
    x = numpy.einsum("kij,kj->ki", numpy.linalg.inv(a), rhs)
    g = numpy.einsum("kji,kj->ki", numpy.linalg.inv(a), u)
    return -numpy.einsum("ki,kj->kij", g, x), g


@case(runtime_linalg.solve_columns, args=args(well_conditioned((2, 3, 3)),
                                              arrays(REAL, shape=(2, 3))),
      vjp=_solve_vectors_vjp)
def solve_columns_vectors(a, rhs):
    return runtime_linalg.solve_columns(a, rhs, B3)


@case(runtime_linalg.solve_columns, args=args(well_conditioned((3, 3)), arrays(REAL, shape=(3, 2))),
      vjp=_solve_vjp)
def solve_columns_matrices(a, rhs):
    return runtime_linalg.solve_columns(a, rhs, B32)


@case(runtime_linalg.matmul_columns, args=args(arrays(REAL, shape=(3, 3)),
                                               arrays(REAL, shape=(2, 3))),
      vjp=lambda u, m, x: (u.T @ x, u @ m))
def matmul_columns_vectors(m, x):
    return runtime_linalg.matmul_columns(m, x, B3)


@case(runtime_linalg.matmul_columns, args=args(arrays(REAL, shape=(2, 3, 3)),
                                               arrays(REAL, shape=(3, 2))),
      vjp=lambda u, m, x: (u @ x.T, numpy.einsum("kij,kil->jl", m, u)))
def matmul_columns_matrices(m, x):
    return runtime_linalg.matmul_columns(m, x, B32)


@case(runtime_linalg.outer_columns, args=args(arrays(REAL, shape=(2, 3)),
                                              arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g, x: (numpy.einsum("kij,kj->ki", u, x), numpy.einsum("kij,ki->kj", u, g)))
def outer_columns_vectors(g, x):
    return runtime_linalg.outer_columns(g, x, B3)


@case(runtime_linalg.outer_columns, args=args(arrays(REAL, shape=(3, 2)),
                                              arrays(REAL, shape=(4, 2))),
      vjp=lambda u, g, x: (u @ x, u.T @ g))
def outer_columns_matrices(g, x):
    return runtime_linalg.outer_columns(g, x, B32)


@case(runtime_linalg.tril_halved, args=args(arrays(REAL, shape=(2, 3, 3))),
      vjp=lambda u, x: (u * (numpy.tri(3) - 0.5 * numpy.eye(3)),))
def tril_halved(x):
    return runtime_linalg.tril_halved(x)


@case(runtime_linalg.symmetrize_lower, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, x: (numpy.tril(u + u.T) - numpy.diag(numpy.diag(u)),))
def symmetrize_lower(x):
    return runtime_linalg.symmetrize_lower(x)


@case(runtime_linalg.unsymmetrize_lower, args=args(arrays(REAL, shape=(2, 3, 3))),
      vjp=lambda u, g: (numpy.tril(u) + numpy.swapaxes(numpy.tril(u, -1), -1, -2),))
def unsymmetrize_lower(g):
    return runtime_linalg.unsymmetrize_lower(g)


@case(runtime_exact.det_cofactor, args=args(well_conditioned((3, 3)), arrays(REAL, shape=())))
def det_cofactor(a, y):
    return runtime_exact.det_cofactor(a, y)        # a and y taken apart: y * inv(a)^T


@case(runtime_exact.det_cofactor, args=args(well_conditioned((2, 3, 3))), wrt=0)
def det_cofactor_through_det(a):
    return runtime_exact.det_cofactor(a, numpy.linalg.det(a))

