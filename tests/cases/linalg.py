"""Cases for the linear-algebra rules in templates/linalg.py."""

import numpy

from tests.cases import REAL, args, arrays, case, scalars

M23 = arrays(REAL, shape=(2, 3))
M34 = arrays(REAL, shape=(3, 4))
V3 = arrays(REAL, shape=(3,))


@case(numpy.dot, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def dot_matrices(a, b):
    return numpy.dot(a, b)


@case(numpy.dot, numpy.ndarray.dot, args=args(V3, M34))
def dot_vector_matrix(a, b):
    return numpy.dot(a, b) + a.dot(b)


@case(numpy.dot, args=args(scalars(REAL), V3))
def dot_scalar(s, v):
    return numpy.dot(s, v)


@case(numpy.matmul, args=args(arrays(REAL, shape=(2, 2, 3)), M34))
def matmul_function(a, b):
    return numpy.matmul(a, b)


@case(numpy.outer, args=args(V3, arrays(REAL, shape=(2, 2))),
      vjp=lambda u, a, b: (u @ b.ravel(), (a @ u).reshape(2, 2)))
def outer(a, b):
    return numpy.outer(a, b)


@case(numpy.inner, args=args(V3, V3), vjp=lambda u, a, b: (u * b, u * a))
def inner_vectors(a, b):
    return numpy.inner(a, b)


@case(numpy.inner, args=args(M23, arrays(REAL, shape=(4, 3))),
      vjp=lambda u, a, b: (u @ b, u.T @ a))
def inner_matrices(a, b):
    return numpy.inner(a, b)


@case(numpy.tensordot, args=args(arrays(REAL, shape=(2, 3, 4)), arrays(REAL, shape=(4, 3, 2))))
def tensordot_pairs(a, b):
    return numpy.tensordot(a, b, axes=([1, 2], [1, 0]))


@case(numpy.tensordot, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def tensordot_int(a, b):
    return numpy.tensordot(a, b, axes=1)


@case(numpy.einsum, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def einsum_matmul(a, b):
    return numpy.einsum("ij,jk->ik", a, b)


@case(numpy.einsum, args=args(M23, M23))
def einsum_rowwise_dot(a, b):
    return numpy.einsum("ij,ij->i", a, b) + numpy.einsum("ij,ij->", a, b)


@case(numpy.einsum, args=args(arrays(REAL, shape=(2, 2, 3)), arrays(REAL, shape=(2, 3, 2))))
def einsum_batched(a, b):
    return numpy.einsum("bij,bjk->bik", a, b)


@case(numpy.einsum, args=args(M23),
      vjp=lambda u, a: (numpy.broadcast_to(2 * u[:, None], (2, 3)),))
def einsum_one_operand(a):
    return numpy.einsum("ij->i", a) + numpy.einsum("ij->ji", a).sum(axis=0)


@case(numpy.einsum, args=args(V3, arrays(REAL, shape=(2,))))
def einsum_outer(a, b):
    return numpy.einsum("i,j->ij", a, b)


@case(numpy.trace, args=args(M34), vjp=lambda u, a: (u * numpy.eye(3, 4, k=1),))
def trace(a):
    return numpy.trace(a, offset=1)


@case(numpy.diag, args=args(M34), vjp=lambda u, a: (numpy.eye(3, 4, k=1) * u[:, None],))
def diag_extract(a):
    return numpy.diag(a, 1)


@case(numpy.diag, args=args(V3), vjp=lambda u, v: (numpy.diag(u, -1),))
def diag_build(v):
    return numpy.diag(v, -1)
