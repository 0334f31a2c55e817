"""Array constructors whose values depend on their arguments: `numpy.linspace`, `numpy.logspace`
and `numpy.geomspace` (in their endpoints), `numpy.vander` (in `x`), and `numpy.polyval`, the
polynomial a row of `vander` evaluates (in `p` and `x`).

`linspace(start, stop, num)` is linear in (start, stop) together: sample i is
`start + t[i] * (stop - start)` with `t[i] = i / (num - 1)` (or `i / num` without the endpoint).
The helpers of the adjoint (`unlinspace` and its transpose `relinspace`) are linear in their
first argument and have rules of their own, for second derivatives.
Its tangent is the linspace of the tangents (`d.full`: one endpoint may be constant), its
adjoint sums the result's adjoint against the weights `1 - t` and `t`. `retstep=True` (a tuple
result) is not taken by these rules, so srcad rejects it at the user's line; an integer `dtype=`
cuts the derivative before a rule is looked up (see `srcad.passes.deny`).
`logspace` is `base ** linspace(start, stop)`: its derivative is `y log(base)` times
linspace's; its base is a number that is not differentiated (a differentiated base is an error
at the user's line, an array of bases a SrcadError). `geomspace` has `log |y|` a linspace of
`log |start|` and `log |stop|` (endpoints of one sign): its derivative is `y` times the
linspace of `d start / start` and `d stop / stop`.
"""

import numpy

from srcad import runtime_construction
from srcad.rules import adjoint, d, nondifferentiable, tangent, without_derivative
from srcad.runtime_construction import (
    log_base,
    polyval_exponents,
    relinspace,
    unlinspace,
    vander_exponents,
    vander_shift,
)

nondifferentiable(runtime_construction.log_base, reason="the logarithm of a constant base")
nondifferentiable(runtime_construction.vander_exponents, runtime_construction.vander_shift,
                  runtime_construction.polyval_exponents,
                  reason="it gives exponents and shifts from shapes and flags")


@adjoint(numpy.linspace)
def linspace(y, start, stop, num=50, endpoint=True, *, dtype=None, axis=0, device=None):
    d[start] += unlinspace(d[y], start, num, endpoint, axis, False)
    d[stop] += unlinspace(d[y], stop, num, endpoint, axis, True)


@tangent(numpy.linspace)
def linspace(y, start, stop, num=50, endpoint=True, *, dtype=None, axis=0, device=None):
    d[y] = numpy.linspace(d.full[start], d.full[stop], num, endpoint, axis=axis)


@adjoint(numpy.logspace)                 # base ** linspace: y log(base) times linspace's weights
def logspace(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[start] += unlinspace(d[y] * y * log_base(base), start, num, endpoint, axis, False)
    d[stop] += unlinspace(d[y] * y * log_base(base), stop, num, endpoint, axis, True)


@tangent(numpy.logspace)
def logspace(y, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    d[y] = y * log_base(base) * numpy.linspace(d.full[start], d.full[stop], num, endpoint,
                                               axis=axis)


@adjoint(numpy.geomspace)                # start (stop / start) ** t: log y is linspace of logs
def geomspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[start] += unlinspace(d[y] * y, start, num, endpoint, axis, False) / start
    d[stop] += unlinspace(d[y] * y, stop, num, endpoint, axis, True) / stop


@tangent(numpy.geomspace)
def geomspace(y, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    d[y] = y * numpy.linspace(d.full[start] / start, d.full[stop] / stop, num, endpoint,
                              axis=axis)


without_derivative(runtime_construction.unlinspace, "x", "num", "endpoint", "axis", "at_stop")


@adjoint(runtime_construction.unlinspace)
def unlinspace_(out, g, x, num, endpoint=True, axis=0, at_stop=False):
    d[g] += relinspace(d[out], g, num, endpoint, axis, at_stop)


@tangent(runtime_construction.unlinspace)
def unlinspace_(out, g, x, num, endpoint=True, axis=0, at_stop=False):
    d[out] = unlinspace(d[g], x, num, endpoint, axis, at_stop)


without_derivative(runtime_construction.relinspace, "g", "num", "endpoint", "axis", "at_stop")


@adjoint(runtime_construction.relinspace)
def relinspace_(out, h, g, num, endpoint=True, axis=0, at_stop=False):
    d[h] += unlinspace(d[out], h, num, endpoint, axis, at_stop)


@tangent(runtime_construction.relinspace)
def relinspace_(out, h, g, num, endpoint=True, axis=0, at_stop=False):
    d[out] = relinspace(d[h], g, num, endpoint, axis, at_stop)


@adjoint(numpy.vander)
def vander(y, x, N=None, increasing=False):
    d[x] += numpy.sum(d[y] * numpy.roll(y, vander_shift(increasing), axis=1)
                      * vander_exponents(y, increasing), axis=1)


@tangent(numpy.vander)
def vander(y, x, N=None, increasing=False):
    d[y] = numpy.reshape(d[x], (-1, 1)) * (numpy.roll(y, vander_shift(increasing), axis=1)
                                           * vander_exponents(y, increasing))


@adjoint(numpy.polyval)                  # p[0] x^(N-1) + ... + p[N-1]
def polyval(y, p, x):
    d[p] += numpy.reshape(numpy.reshape(d[y], (-1,)) @ numpy.vander(
        numpy.ravel(x), numpy.shape(p)[0]), numpy.shape(p))
    d[x] += d[y] * numpy.polyval(p[:-1] * polyval_exponents(p), x)


@tangent(numpy.polyval)
def polyval(y, p, x):
    d[y] = numpy.polyval(d[p], x) + d[x] * numpy.polyval(p[:-1] * polyval_exponents(p), x)
