"""Rules for NumPy's elementwise functions (ufuncs and friends).

Parameters: the result first, then the arguments with NumPy's names and defaults. Rules reuse
the result (`y`) where the derivative is a function of it (exp, tanh, sqrt), as a person would.
"""

import numpy

from srcad.rules import adjoint, d, tangent

# ---- exponentials and logarithms -------------------------------------------------------------


@adjoint(numpy.exp)
def exp(y, x):
    d[x] += d[y] * y


@tangent(numpy.exp)
def exp(y, x):  # noqa: F811
    d[y] = d[x] * y


@adjoint(numpy.log)
def log(y, x):
    d[x] += d[y] / x


@tangent(numpy.log)
def log(y, x):  # noqa: F811
    d[y] = d[x] / x


# ---- hyperbolic -----------------------------------------------------------------------------


@adjoint(numpy.tanh)
def tanh(y, x):
    d[x] += d[y] * (1.0 - y * y)


@tangent(numpy.tanh)
def tanh(y, x):  # noqa: F811
    d[y] = d[x] * (1.0 - y * y)
