"""Rules for SciPy, registered only when SciPy imports (`templates/__init__.py`); srcad never
needs SciPy itself.

Covered, in both modes:

* scipy.special, the functions losses use: logsumexp (with constant weights `b`), expit, logit,
  log_expit, softmax, log_softmax, erf, erfc, gammaln, digamma (`psi`), polygamma and zeta (in
  their second argument), xlogy, xlog1py
* scipy.linalg: solve_triangular (both arguments, any `trans`, `lower`, `unit_diagonal`) and
  cho_solve (in the right-hand side `b`; a differentiated factor is an error at the call)

Parameters carry SciPy's names and defaults; a parameter a rule does not list
(`return_sign=True`) makes the call an error at the user's line, not a wrong derivative.
softmax's Jacobian `diag(y) - y y^T` is symmetric, so one formula gives both modes.
"""

import math

import numpy
from scipy import linalg, special

from srcad.rules import adjoint, d, elementwise, reduction, shape, tangent
from srcad.runtime import unbroadcast, unreduce
from srcad.shape_rules import same_shape

from .reductions import reduction_shape

# ---- scipy.special: elementwise ---------------------------------------------------------------


@elementwise(special.expit)
def expit(g, y, x):
    return g * y * (1.0 - y)


@elementwise(special.logit)
def logit(g, y, x):
    return g / (x * (1.0 - x))


@elementwise(special.log_expit)           # 1 - expit(x) = 1 - exp(y), exact for large x
def log_expit(g, y, x):
    return -g * numpy.expm1(y)


@elementwise(special.erf)
def erf(g, y, x):
    return g * (2.0 / math.sqrt(math.pi)) * numpy.exp(-x * x)


@elementwise(special.erfc)
def erfc(g, y, x):
    return -g * (2.0 / math.sqrt(math.pi)) * numpy.exp(-x * x)


@elementwise(special.gammaln)
def gammaln(g, y, x):
    return g * special.psi(x)


@elementwise(special.psi)                 # the trigamma function is zeta(2, x)
def digamma(g, y, x):
    return g * special.zeta(2.0, x)


@adjoint(special.zeta)                    # Hurwitz's zeta(x, q), in q
def zeta(y, x, q=None):
    d[q] += unbroadcast(-d[y] * x * special.zeta(x + 1.0, q), q)


@tangent(special.zeta)
def zeta(y, x, q=None):
    d[y] = -d[q] * x * special.zeta(x + 1.0, q)


@adjoint(special.polygamma)
def polygamma(y, n, x):
    d[x] += d[y] * special.polygamma(n + 1, x)


@tangent(special.polygamma)
def polygamma(y, n, x):
    d[y] = d[x] * special.polygamma(n + 1, x)


@adjoint(special.xlogy)
def xlogy(z, x, y):
    d[x] += unbroadcast(d[z] * numpy.log(y), x)
    d[y] += unbroadcast(d[z] * x / y, y)


@tangent(special.xlogy)
def xlogy(z, x, y):
    d[z] = d[x] * numpy.log(y) + d[y] * x / y


@adjoint(special.xlog1py)
def xlog1py(z, x, y):
    d[x] += unbroadcast(d[z] * numpy.log1p(y), x)
    d[y] += unbroadcast(d[z] * x / (1.0 + y), y)


@tangent(special.xlog1py)
def xlog1py(z, x, y):
    d[z] = d[x] * numpy.log1p(y) + d[y] * x / (1.0 + y)


shape(special.polygamma)(lambda shapes, n, x, /: same_shape(shapes, x))

# ---- scipy.special: reductions and normalisations -------------------------------------------

reduction(special.logsumexp)
shape(special.logsumexp)(reduction_shape)


@adjoint(special.logsumexp)               # the weights b exp(a - y) of each entry
def logsumexp(y, a, axis=None, b=None, keepdims=False):
    w = numpy.exp(a - unreduce(y, a, axis, keepdims)) * (1.0 if isinstance(b, type(None)) else b)
    d[a] += unreduce(d[y], a, axis, keepdims) * w


@tangent(special.logsumexp)
def logsumexp(y, a, axis=None, b=None, keepdims=False):
    w = numpy.exp(a - unreduce(y, a, axis, keepdims)) * (1.0 if isinstance(b, type(None)) else b)
    d[y] = numpy.sum(d[a] * w, axis=axis, keepdims=keepdims)


@elementwise(special.softmax)             # its Jacobian is symmetric: one formula, both modes
def softmax(g, y, x, axis=None):
    return y * (g - numpy.sum(g * y, axis=axis, keepdims=True))


@adjoint(special.log_softmax)
def log_softmax(y, x, axis=None):
    d[x] += d[y] - numpy.exp(y) * numpy.sum(d[y], axis=axis, keepdims=True)


@tangent(special.log_softmax)
def log_softmax(y, x, axis=None):
    d[y] = d[x] - numpy.sum(numpy.exp(y) * d[x], axis=axis, keepdims=True)


shape(special.softmax, special.log_softmax)(lambda shapes, x, /, axis=None: shapes.shape(x))

# ---- scipy.linalg -------------------------------------------------------------------------------


@adjoint(linalg.solve_triangular)       # x = op(A)^-1 b: d[b] = op(A)^-T g, d[A] = -(..)^T masked
def solve_triangular(x, a, b, trans=0, lower=False, unit_diagonal=False):
    transposed = trans not in (0, "N")
    gb = linalg.solve_triangular(a, d[x], trans=0 if transposed else 1, lower=lower,
                                 unit_diagonal=unit_diagonal)
    d[b] += gb
    rows, cols = numpy.reshape(gb, (len(a), -1)), numpy.reshape(x, (len(a), -1))
    ga = -(cols @ rows.T if transposed else rows @ cols.T)
    skip = 1 if unit_diagonal else 0
    d[a] += numpy.tril(ga, -skip) if lower else numpy.triu(ga, skip)


@tangent(linalg.solve_triangular)       # d[x] = op(A)^-1 (d[b] - op(d[A]) x)
def solve_triangular(x, a, b, trans=0, lower=False, unit_diagonal=False):
    skip = 1 if unit_diagonal else 0
    da = numpy.tril(d[a], -skip) if lower else numpy.triu(d[a], skip)
    da = da.T if trans not in (0, "N") else da
    d[x] = linalg.solve_triangular(a, d[b] - da @ x, trans=trans, lower=lower,
                                   unit_diagonal=unit_diagonal)


@adjoint(linalg.cho_solve)              # A^-1 is symmetric: the adjoint solves again
def cho_solve(x, c_and_lower, b):
    d[b] += linalg.cho_solve(c_and_lower, d[x])


@tangent(linalg.cho_solve)
def cho_solve(x, c_and_lower, b):
    d[x] = linalg.cho_solve(c_and_lower, d[b])


shape(linalg.solve_triangular)(lambda shapes, a, b, /, **kw: shapes.shape(b))
shape(linalg.cho_solve)(lambda shapes, c_and_lower, b, /, **kw: shapes.shape(b))
