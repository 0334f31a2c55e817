"""Cases for the rules in templates/decompositions.py. Eigen- and singular vectors enter only
through sign-invariant expressions (squares, U diag(s) V^T pieces); references are autograd's
vector-Jacobian products of the same formulas (an independent implementation), or products
written out (matrix_power)."""

import autograd
import autograd.numpy as anp
import numpy

from srcad import runtime_linalg
from tests.support.cases import REAL, args, arrays, case

RNG = numpy.random.default_rng(11)
SPREAD = numpy.diag([1.0, 2.5, 4.0])          # keeps eigenvalues and singular values apart
SPREAD43 = numpy.vstack([SPREAD, numpy.zeros((1, 3))])
SMALL = (-0.3, 0.3)
# QR's Householder reflections flip signs at a matrix whose columns have zeros below the
# diagonal (LAPACK then skips the reflection): these bases keep away from that
QR_TALL = SPREAD43 + numpy.array([[0.0, 0.4, -0.2], [0.5, 0.0, 0.3], [-0.4, 0.6, 0.0],
                                  [0.7, -0.5, 0.8]])
QR_STACK = SPREAD + numpy.array([[[0.0, 0.3, 0.1], [0.6, 0.0, -0.2], [0.5, 0.7, 0.0]],
                                 [[0.0, -0.3, 0.2], [-0.6, 0.0, 0.4], [0.8, -0.5, 0.0]]])


def _autograd_vjp(f):
    """The reference vjp of `f` (written with autograd.numpy), for a case with one argument."""
    def vjp(u, x):
        return (autograd.make_vjp(f)(x)[0](u),)
    return vjp


def _eigh_parts(a, np):
    w, v = np.linalg.eigh(a + SPREAD)
    return np.concatenate([w, np.ravel(v * v)])


@case(numpy.linalg.eigh, args=args(arrays(SMALL, shape=(3, 3))),
      vjp=_autograd_vjp(lambda a: _eigh_parts(anp.tril(a) + anp.tril(a, -1).T, anp)))
def eigh(a):
    w, v = numpy.linalg.eigh(a + SPREAD)
    return numpy.concatenate([w, numpy.ravel(v * v)])


@case(numpy.linalg.eigh, args=args(arrays(SMALL, shape=(3, 3))),
      vjp=_autograd_vjp(lambda a: _eigh_parts(anp.triu(a) + anp.triu(a, 1).T, anp)))
def eigh_upper(a):
    w, v = numpy.linalg.eigh(a + SPREAD, UPLO="U")
    return numpy.concatenate([w, numpy.ravel(v * v)])


@case(numpy.linalg.eigvalsh, args=args(arrays(SMALL, shape=(2, 3, 3))),
      vjp=_autograd_vjp(lambda a: anp.linalg.eigh(anp.tril(a) + anp.swapaxes(anp.tril(a, -1),
                                                                              -1, -2) + SPREAD)[0]))
def eigvalsh_stack(a):
    return numpy.linalg.eigvalsh(a + SPREAD)


@case(numpy.linalg.eigvalsh, args=args(arrays(SMALL, shape=(3, 3))),
      vjp=_autograd_vjp(lambda a: anp.linalg.eigh(anp.triu(a) + anp.triu(a, 1).T + SPREAD)[0]))
def eigvalsh_upper(a):
    return numpy.linalg.eigvalsh(a + SPREAD, UPLO="U")


def _svd_parts(a, np, spread):
    u, s, vt = np.linalg.svd(a + spread, full_matrices=False)
    return np.concatenate([s, np.ravel(u * u), np.ravel(vt * vt), np.ravel(u[:, :1] * vt[:1])])


@case(numpy.linalg.svd, args=args(arrays(SMALL, shape=(3, 3))),
      vjp=_autograd_vjp(lambda a: _svd_parts(a, anp, SPREAD)))
def svd(a):
    u, s, vt = numpy.linalg.svd(a + SPREAD)
    return numpy.concatenate([s, numpy.ravel(u * u), numpy.ravel(vt * vt),
                              numpy.ravel(u[:, :1] * vt[:1])])


@case(numpy.linalg.svd, args=args(arrays(SMALL, shape=(4, 3))),
      vjp=_autograd_vjp(lambda a: _svd_parts(a, anp, SPREAD43)))
def svd_tall(a):
    u, s, vt = numpy.linalg.svd(a + SPREAD43, full_matrices=False)
    return numpy.concatenate([s, numpy.ravel(u * u), numpy.ravel(vt * vt),
                              numpy.ravel(u[:, :1] * vt[:1])])


@case(numpy.linalg.svd, args=args(arrays(SMALL, shape=(3, 4))),
      vjp=_autograd_vjp(lambda a: _svd_parts(a, anp, SPREAD43.T)))
def svd_wide(a):
    u, s, vt = numpy.linalg.svd(a + SPREAD43.T, full_matrices=False)
    return numpy.concatenate([s, numpy.ravel(u * u), numpy.ravel(vt * vt),
                              numpy.ravel(u[:, :1] * vt[:1])])


@case(numpy.linalg.svdvals, args=args(arrays(SMALL, shape=(4, 3))),
      vjp=_autograd_vjp(lambda a: anp.linalg.svd(a + SPREAD43, full_matrices=False)[1]))
def svdvals(a):
    return numpy.linalg.svdvals(a + SPREAD43)


@case(numpy.linalg.qr, args=args(arrays(SMALL, shape=(4, 3))))
def qr_tall(a):
    q, r = numpy.linalg.qr(a + QR_TALL)
    return numpy.concatenate([numpy.ravel(q), numpy.ravel(r)])


@case(numpy.linalg.qr, args=args(arrays(SMALL, shape=(2, 3, 3))))
def qr_stack(a):
    q, r = numpy.linalg.qr(a + QR_STACK)
    return q * 2.0 + r


@case(numpy.linalg.pinv, args=args(arrays(SMALL, shape=(4, 3))),
      vjp=_autograd_vjp(lambda a: anp.linalg.pinv(a + SPREAD43)))
def pinv_tall(a):
    return numpy.linalg.pinv(a + SPREAD43)


@case(numpy.linalg.pinv, args=args(arrays(SMALL, shape=(3, 4))),
      vjp=_autograd_vjp(lambda a: anp.linalg.pinv(a + SPREAD43.T)))
def pinv_wide(a):
    return numpy.linalg.pinv(a + SPREAD43.T)


@case(numpy.linalg.matrix_power, args=args(arrays(REAL, shape=(3, 3))),
      vjp=_autograd_vjp(lambda a: anp.dot(anp.dot(a, a), a) + anp.dot(a, a)))
def matrix_power(a):
    return numpy.linalg.matrix_power(a, 3) + numpy.linalg.matrix_power(a, 2)


@case(numpy.linalg.matrix_power, args=args(arrays(SMALL, shape=(2, 3, 3))),
      vjp=_autograd_vjp(lambda a: anp.linalg.inv(anp.matmul(a + SPREAD, a + SPREAD))))
def matrix_power_negative(a):
    return numpy.linalg.matrix_power(a + SPREAD, -2)


@case(runtime_linalg.power_tangent, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, t: (_power_tangent_vjp(u),))
def power_tangent(t):
    return runtime_linalg.power_tangent(t, RNG_MATRIX, 3) + runtime_linalg.power_tangent(
        t, RNG_MATRIX + SPREAD, -1)


RNG_MATRIX = RNG.standard_normal((3, 3)) / 3


def _power_tangent_vjp(u):
    a = RNG_MATRIX
    b = numpy.linalg.inv(RNG_MATRIX + SPREAD)
    return (a.T @ a.T @ u + a.T @ u @ a.T + u @ a.T @ a.T) - b.T @ u @ b.T
