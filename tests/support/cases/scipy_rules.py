"""Cases for SciPy's rules in templates/scipy_rules.py. References are textbook derivatives in
NumPy (polygamma through the Hurwitz zeta function, the triangular solves through
numpy.linalg.solve of the full matrix)."""

import math

import numpy
from scipy import linalg, special

from tests.support.cases import (
    POSITIVE,
    REAL,
    args,
    arrays,
    broadcast_args,
    case,
    sum_to,
)

EYE = numpy.eye(3)
CHOL = numpy.array([[2.0, 0.0, 0.0], [0.5, 1.5, 0.0], [-0.3, 0.4, 1.2]])
SMALL = (-0.5, 0.5)


def _sigmoid(x):
    return 1.0 / (1.0 + numpy.exp(-x))


# ---- elementwise ----------------------------------------------------------------------------


@case(special.expit, args=args(arrays(REAL)),
      vjp=lambda u, x: (u * _sigmoid(x) * (1.0 - _sigmoid(x)),))
def expit(x):
    return special.expit(x)


@case(special.logit, args=args(arrays((0.1, 0.9))), vjp=lambda u, x: (u / (x * (1.0 - x)),))
def logit(x):
    return special.logit(x)


@case(special.log_expit, args=args(arrays(REAL)), vjp=lambda u, x: (u / (1.0 + numpy.exp(x)),))
def log_expit(x):
    return special.log_expit(x)


@case(special.log_expit, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (u * 50.0 / (1.0 + numpy.exp(50.0 * x)),))
def log_expit_large(x):
    return special.log_expit(50.0 * x)


@case(special.erf, args=args(arrays(REAL)),
      vjp=lambda u, x: (u * 2.0 / math.sqrt(math.pi) * numpy.exp(-x * x),))
def erf(x):
    return special.erf(x)


@case(special.erfc, args=args(arrays(REAL)),
      vjp=lambda u, x: (-u * 2.0 / math.sqrt(math.pi) * numpy.exp(-x * x),))
def erfc(x):
    return special.erfc(x)


@case(special.gammaln, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u * special.psi(x),))
def gammaln(x):
    return special.gammaln(x)


@case(special.psi, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u * special.zeta(2.0, x),))
def digamma(x):
    return special.digamma(x)


@case(special.zeta, args=args(arrays(POSITIVE)),
      vjp=lambda u, q: (-3.0 * u * special.zeta(4.0, q),))
def zeta(q):
    return special.zeta(3.0, q)


@case(special.polygamma, args=args(arrays(POSITIVE)),
      vjp=lambda u, x: (u * 6.0 * special.zeta(4.0, x),))
def polygamma(x):
    return special.polygamma(2, x)


@case(special.xlogy, args=broadcast_args(REAL, POSITIVE),
      vjp=lambda u, x, y: (sum_to(u * numpy.log(y), x.shape), sum_to(u * x / y, y.shape)))
def xlogy(x, y):
    return special.xlogy(x, y)


@case(special.xlog1py, args=broadcast_args(REAL, POSITIVE),
      vjp=lambda u, x, y: (sum_to(u * numpy.log1p(y), x.shape),
                           sum_to(u * x / (1.0 + y), y.shape)))
def xlog1py(x, y):
    return special.xlog1py(x, y)


# ---- reductions and normalisations ------------------------------------------------------------


def _weights(a, axis=None, b=1.0):
    e = b * numpy.exp(a)
    return e / numpy.sum(e, axis=axis, keepdims=True)


@case(special.logsumexp, args=args(arrays(REAL)), vjp=lambda u, a: (u * _weights(a),))
def logsumexp(a):
    return special.logsumexp(a)


@case(special.logsumexp, args=args(arrays(REAL, shape=(3, 4))),
      vjp=lambda u, a: (u * _weights(a, 1),))
def logsumexp_axis_keepdims(a):
    return special.logsumexp(a, axis=1, keepdims=True)


@case(special.logsumexp, args=args(arrays(REAL, shape=(3, 4))),
      vjp=lambda u, a: (u[:, None] * _weights(a * 100.0, 1, numpy.arange(1.0, 5.0)) * 100.0,))
def logsumexp_weighted_large(a):
    return special.logsumexp(a * 100.0, axis=-1, b=numpy.arange(1.0, 5.0))


def _softmax_vjp(u, x, axis=None):
    y = _weights(x, axis)
    return (y * (u - numpy.sum(u * y, axis=axis, keepdims=True)),)


@case(special.softmax, args=args(arrays(REAL)), vjp=_softmax_vjp)
def softmax(x):
    return special.softmax(x)


@case(special.softmax, args=args(arrays(REAL, shape=(2, 3, 4))),
      vjp=lambda u, x: _softmax_vjp(u, x, 1))
def softmax_axis(x):
    return special.softmax(x, axis=1)


@case(special.log_softmax, args=args(arrays(REAL, shape=(3, 4))),
      vjp=lambda u, x: (u - _weights(x, -1) * numpy.sum(u, axis=-1, keepdims=True),))
def log_softmax_axis(x):
    return special.log_softmax(x, axis=-1)


@case(special.log_softmax, args=args(arrays(REAL)),
      vjp=lambda u, x: (u - _weights(x) * numpy.sum(u),))
def log_softmax(x):
    return special.log_softmax(x)


# ---- scipy.linalg ---------------------------------------------------------------------------


def _triangular_vjp(u, a, b, lower=True, trans=False, unit=False):
    full = a + 3.0 * EYE
    full = numpy.tril(full) if lower else numpy.triu(full)
    if unit:
        full = full - numpy.diag(numpy.diag(full)) + EYE
    op = full.T if trans else full
    x = numpy.linalg.solve(op, b)
    gb = numpy.linalg.solve(op.T, u)
    ga = -numpy.outer(gb, x) if b.ndim == 1 else -gb @ x.T
    ga = ga.T if trans else ga
    ga = numpy.tril(ga, -1 if unit else 0) if lower else numpy.triu(ga, 1 if unit else 0)
    return ga, gb


@case(linalg.solve_triangular, args=args(arrays(SMALL, shape=(3, 3)), arrays(REAL, shape=(3,))),
      vjp=_triangular_vjp)
def solve_triangular_lower(a, b):
    return linalg.solve_triangular(a + 3.0 * EYE, b, lower=True)


@case(linalg.solve_triangular,
      args=args(arrays(SMALL, shape=(3, 3)), arrays(REAL, shape=(3, 2))),
      vjp=lambda u, a, b: _triangular_vjp(u, a, b, lower=False, trans=True))
def solve_triangular_upper_transposed(a, b):
    return linalg.solve_triangular(a + 3.0 * EYE, b, trans="T")


@case(linalg.solve_triangular,
      args=args(arrays(SMALL, shape=(3, 3)), arrays(REAL, shape=(3, 2))),
      vjp=lambda u, a, b: _triangular_vjp(u, a, b, unit=True))
def solve_triangular_unit_diagonal(a, b):
    return linalg.solve_triangular(a + 3.0 * EYE, b, lower=True, unit_diagonal=True)


@case(linalg.cho_solve, args=args(arrays(REAL, shape=(3, 2))),
      vjp=lambda u, b: (numpy.linalg.solve(CHOL @ CHOL.T, u),))
def cho_solve(b):
    return linalg.cho_solve((CHOL, True), b)


@case(linalg.cho_solve, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, b: (numpy.linalg.solve(CHOL @ CHOL.T, u),))    # U = CHOL.T, A = U^T U
def cho_solve_upper(b):
    return linalg.cho_solve((CHOL.T, False), b)


@case(special.logsumexp, args=args(arrays(REAL, shape=(4,))),
      vjp=lambda u, a: (u * _weights(a),))
def logsumexp_number_weight(a):
    return special.logsumexp(a, b=2.0) - math.log(2.0)
