"""Cases for the rules in templates/products.py, with references written as explicit sums
(cross and kron entry by entry) or autograd's products."""

import itertools

import numpy

from srcad import runtime_linalg
from tests.support.cases import REAL, args, arrays, case, sum_to

M23 = arrays(REAL, shape=(2, 3))
M34 = arrays(REAL, shape=(3, 4))
V3 = arrays(REAL, shape=(3,))
LEVI = numpy.zeros((3, 3, 3))
for _i, _j, _k in itertools.permutations(range(3)):
    LEVI[_i, _j, _k] = numpy.linalg.det(numpy.eye(3)[[_i, _j, _k]])


@case(numpy.linalg.matmul, args=args(M23, M34), vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def linalg_matmul(a, b):
    return numpy.linalg.matmul(a, b)


@case(numpy.linalg.outer, args=args(V3, arrays(REAL, shape=(4,))),
      vjp=lambda u, a, b: (u @ b, a @ u))
def linalg_outer(a, b):
    return numpy.linalg.outer(a, b)


@case(numpy.linalg.tensordot, args=args(arrays(REAL, shape=(2, 3, 4)), M34),
      vjp=lambda u, a, b: (numpy.einsum("i,jk->ijk", u, b), numpy.einsum("i,ijk->jk", u, a)))
def linalg_tensordot(a, b):
    return numpy.linalg.tensordot(a, b, axes=2)


@case(numpy.cross, numpy.linalg.cross, args=args(arrays(REAL, shape=(2, 3)), V3),
      vjp=lambda u, a, b: (numpy.einsum("ijk,nj,nk->ni", LEVI, numpy.broadcast_to(b, (2, 3)),
                                        u) * 2.0,
                           numpy.einsum("ijk,ni,nk->j", LEVI, a, u) * 2.0))
def cross(a, b):
    return numpy.cross(a, b) + numpy.linalg.cross(a, b)


@case(numpy.cross, args=args(arrays(REAL, shape=(3, 2)), arrays(REAL, shape=(3, 2))),
      vjp=lambda u, a, b: (numpy.einsum("ijk,jn,kn->in", LEVI, b, u),
                           numpy.einsum("ijk,in,kn->jn", LEVI, a, u)))
def cross_axis(a, b):
    return numpy.cross(a, b, axis=0)


@case(numpy.cross, args=args(arrays(REAL, shape=(3, 2)), arrays(REAL, shape=(2,))),
      vjp=lambda u, a, b: (u[:, None] * numpy.array([b[1], -b[0]]),
                           numpy.array([-u @ a[:, 1], u @ a[:, 0]])))
def cross_of_plane_vectors(a, b):           # vectors of 2 entries: the third of their product
    return numpy.cross(a, b)


def _padded_cross_vjp(u, a, b):
    padded = numpy.concatenate([a, numpy.zeros((1, 4))])      # NumPy's zero third entry
    return (numpy.einsum("ijk,in,kn->jn", LEVI, u, b)[:2],
            numpy.einsum("ijk,in,jn->kn", LEVI, u, padded))


@case(numpy.cross, args=args(arrays(REAL, shape=(2, 4)), M34), vjp=_padded_cross_vjp)
def cross_of_plane_and_space_vectors(a, b):
    return numpy.cross(a, b, axis=0)


@case(runtime_linalg.cross_adjoint_left, runtime_linalg.cross_adjoint_right,
      args=args(arrays(REAL, shape=(3, 3)), arrays(REAL, shape=(3, 2))))
def cross_helpers(g, b):
    plane = numpy.ones((3, 2))
    return numpy.concatenate([
        runtime_linalg.cross_adjoint_left(g[:, 0], plane, b).ravel(),
        runtime_linalg.cross_adjoint_right(g[:, 2], b * b, plane).ravel(),
        runtime_linalg.cross_adjoint_left(g, g * b[:, :1], g, 0).ravel()])


def _kron_vjp(u, a, b):
    ga, gb = numpy.zeros_like(a), numpy.zeros_like(b)
    p, q = b.shape
    for i, j, k, m in itertools.product(range(a.shape[0]), range(a.shape[1]), range(p), range(q)):
        ga[i, j] += u[i * p + k, j * q + m] * b[k, m]
        gb[k, m] += u[i * p + k, j * q + m] * a[i, j]
    return ga, gb


@case(numpy.kron, args=args(M23, arrays(REAL, shape=(3, 2))), vjp=_kron_vjp)
def kron(a, b):
    return numpy.kron(a, b)


@case(numpy.kron, args=args(V3, M23),
      vjp=lambda u, a, b: tuple(g.reshape(s) for g, s in zip(
          _kron_vjp(u, a.reshape(1, 3), b), [(3,), (2, 3)])))
def kron_ranks(a, b):
    return numpy.kron(a, b)


@case(numpy.vdot, args=args(M23, arrays(REAL, shape=(6,))),
      vjp=lambda u, a, b: (u * b.reshape(2, 3), u * a.ravel()))
def vdot(a, b):
    return numpy.vdot(a, b)


@case(numpy.vecdot, numpy.linalg.vecdot,
      args=args(arrays(REAL, shape=(2, 3, 4)), M34),
      vjp=lambda u, a, b: (2.0 * u[..., None] * b, sum_to(2.0 * u[..., None] * a, (3, 4))))
def vecdot(a, b):
    return numpy.vecdot(a, b) + numpy.linalg.vecdot(a, b)


@case(numpy.vecdot, numpy.linalg.vecdot, args=args(M34, M34),
      vjp=lambda u, a, b: (u * b * 2.0, u * a * 2.0))
def vecdot_axis(a, b):
    return numpy.vecdot(a, b, axis=0) + numpy.linalg.vecdot(a, b, axis=0)


@case(numpy.matrix_transpose, numpy.linalg.matrix_transpose,
      args=args(arrays(REAL, shape=(2, 3, 4))),
      vjp=lambda u, x: (2.0 * numpy.swapaxes(u, 1, 2),))
def matrix_transpose(x):
    return numpy.matrix_transpose(x) + numpy.linalg.matrix_transpose(x)


@case(numpy.linalg.diagonal, numpy.linalg.trace, args=args(arrays(REAL, shape=(2, 3, 4))),
      vjp=lambda u, x: (_diagonal_vjp(u, x),))
def linalg_diagonal_trace(x):
    return numpy.linalg.diagonal(x, offset=1) + numpy.linalg.trace(x)[:, None]


def _diagonal_vjp(u, x):
    out = numpy.zeros_like(x)
    for n in range(2):
        for i in range(3):
            out[n, i, i + 1] += u[n, i]
            out[n, i, i] += u[n].sum()
    return out


@case(runtime_linalg.kron_adjoint_left, runtime_linalg.kron_adjoint_right,
      args=args(arrays(REAL, shape=(6, 6)), arrays(REAL, shape=(3, 2))))
def kron_helpers(g, b):
    return numpy.concatenate([runtime_linalg.kron_adjoint_left(g, numpy.ones((2, 3)), b).ravel(),
                              runtime_linalg.kron_adjoint_right(g, b * b, b.T).ravel()])


def _matvec_vecmat_vjp(u, m, v, w):
    first, second = u[:8].reshape(2, 4), u[8:].reshape(2, 3)      # vecmat's, matvec's
    gm = v[None, :, None] * first[:, None, :] + second[:, :, None] * w[None, None, :]
    return gm, numpy.einsum("bj,bij->i", first, m), numpy.einsum("bi,bij->j", second, m)


@case(numpy.matvec, numpy.vecmat,
      args=args(arrays(REAL, shape=(2, 3, 4)), V3, arrays(REAL, shape=(4,))),
      vjp=_matvec_vecmat_vjp)
def matvec_vecmat(m, v, w):
    return numpy.concatenate([numpy.vecmat(v, m).ravel(), numpy.matvec(m, w).ravel()])


# ---- einsum's other string forms (templates/linalg.py's rule; srcad.runtime's helpers) -------


@case(numpy.einsum, args=args(arrays(REAL, shape=(2, 3, 4)), arrays(REAL, shape=(2, 4, 5))),
      vjp=lambda u, a, b: (u @ numpy.swapaxes(b, 1, 2), numpy.swapaxes(a, 1, 2) @ u))
def einsum_ellipsis(a, b):
    return numpy.einsum("...ij,...jk->...ik", a, b)


@case(numpy.einsum, args=args(M34, arrays(REAL, shape=(4, 2))),
      vjp=lambda u, a, b: (u @ b.T, a.T @ u))
def einsum_implicit_output(a, b):
    return numpy.einsum("ij,jk", a, b)


@case(numpy.einsum, args=args(arrays(REAL, shape=(3, 3, 4)), arrays(REAL, shape=(4,))),
      vjp=lambda u, a, b: (numpy.einsum("i,ik,j->ikj", u, numpy.eye(3), b),
                           numpy.einsum("i,iij->j", u, a)))
def einsum_repeated_index(a, b):
    return numpy.einsum("iij,j->i", a, b)


@case(numpy.einsum, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, a: (u * numpy.eye(3),))
def einsum_trace_implicit(a):
    return numpy.einsum("ii", a)


@case(numpy.dot, args=args(arrays(REAL, shape=(2, 3, 4)), arrays(REAL, shape=(5, 4, 2))),
      vjp=lambda u, a, b: (numpy.einsum("ijkl,kml->ijm", u, b),
                           numpy.einsum("ijkl,ijm->kml", u, a)))
def dot_of_stacks(a, b):
    return numpy.dot(a, b)


@case(numpy.dot, args=args(V3, arrays(REAL, shape=(2, 3, 4))),
      vjp=lambda u, a, b: (numpy.einsum("kl,kjl->j", u, b), numpy.einsum("kl,j->kjl", u, a)))
def dot_of_a_vector_and_a_stack(a, b):
    return numpy.dot(a, b)
