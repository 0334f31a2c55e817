"""Rules for statistics: median, percentile, quantile and their NaN-skipping forms (nanmedian,
nanpercentile, nanquantile), cov and corrcoef.

Order statistics: the derivative flows to the one or two sorted entries NumPy reads, with its
interpolation weights, for every `method` NumPy has (the positions are NumPy's own, see
`srcad.runtime_statistics`); tied entries share it equally (as max and min do); NaN entries get
0 in the NaN-skipping forms. `q` and `weights` (inverted_cdf's) are constants: a differentiated
value given for either is an error at the user's line. `out=` and `overwrite_input=True` write
into an argument, and are rejected before a rule is looked up.

cov and corrcoef: in `m` and `y` (every `rowvar`, `bias`, `ddof`); `fweights` and `aweights`
are constants (a differentiated value there is an error). corrcoef goes through cov's
derivative and the correlations' (`corr_tangent`); NumPy's clip to [-1, 1] only corrects
rounding, and is taken as the identity.

The last section holds the rules of the helpers, so that generated code can be differentiated
again: the quantile helpers are linear in their first argument and locally constant in `a`
(a derivative reaching their `q` or `weights`, as in a gradient differentiated again in `q`,
is an error: `refused`);
`cov_place`, `cov_part` and `plus_transpose` are linear, the first two each other's transpose.
"""

import numpy

from srcad import runtime_statistics
from srcad.rules import (
    adjoint,
    d,
    linear,
    nondifferentiable,
    reduction,
    shape,
    tangent,
    without_derivative,
)
from srcad.runtime_statistics import (
    corr_adjoint,
    corr_tangent,
    cov_part,
    cov_place,
    cov_scale,
    cov_weights,
    plus_transpose,
    quantile_adjoint,
    quantile_tangent,
    refused,
)

from .reductions import reduction_shape

reduction(numpy.median, numpy.nanmedian)
shape(numpy.median, numpy.nanmedian)(reduction_shape)
nondifferentiable(runtime_statistics.cov_weights, runtime_statistics.cov_scale,
                  reason="it gives numpy.cov's weights, constants")
nondifferentiable(runtime_statistics.refused, reason="it gives 0.0 or raises")

# ---- order statistics ---------------------------------------------------------------------


@adjoint(numpy.median)
def median(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.median)


@tangent(numpy.median)
def median(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.median)


@adjoint(numpy.nanmedian)
def nanmedian(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.nanmedian)


@tangent(numpy.nanmedian)
def nanmedian(y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.nanmedian)


@adjoint(numpy.quantile)
def quantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.quantile, q, method, weights)


@tangent(numpy.quantile)
def quantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.quantile, q, method, weights)


@adjoint(numpy.percentile)
def percentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.percentile, q, method, weights)


@tangent(numpy.percentile)
def percentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.percentile, q, method, weights)


@adjoint(numpy.nanquantile)
def nanquantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.nanquantile, q, method, weights)


@tangent(numpy.nanquantile)
def nanquantile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.nanquantile, q, method, weights)


@adjoint(numpy.nanpercentile)
def nanpercentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    d[a] += quantile_adjoint(d[y], a, axis, keepdims, numpy.nanpercentile, q, method, weights)


@tangent(numpy.nanpercentile)
def nanpercentile(y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    d[y] = quantile_tangent(d[a], a, axis, keepdims, numpy.nanpercentile, q, method, weights)


# ---- cov and corrcoef ---------------------------------------------------------------------
# C = Xc S Xc^T with Xc the centred rows and S the weights over the normalization: dC is
# T S Xc^T plus its transpose (T the tangent of X), and X's adjoint (G + G^T) Xc S.


@adjoint(numpy.cov)
def cov(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    x = cov_place(m, m, y, rowvar, 0) + cov_place(y, m, y, rowvar, 1)
    w = cov_weights(x, fweights, aweights)
    spread = (x - numpy.sum(x * w, axis=1, keepdims=True) / numpy.sum(w)) * cov_scale(
        x, bias, ddof, fweights, aweights)
    g = numpy.reshape(d[c], (numpy.shape(x)[0], numpy.shape(x)[0]))
    d[m] += cov_part((g + numpy.transpose(g)) @ spread, m, y, rowvar, 0)
    d[y] += cov_part((g + numpy.transpose(g)) @ spread, m, y, rowvar, 1)


@tangent(numpy.cov)
def cov(c, m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    x = cov_place(m, m, y, rowvar, 0) + cov_place(y, m, y, rowvar, 1)
    w = cov_weights(x, fweights, aweights)
    spread = (x - numpy.sum(x * w, axis=1, keepdims=True) / numpy.sum(w)) * cov_scale(
        x, bias, ddof, fweights, aweights)
    d[c] = plus_transpose((cov_place(d[m], m, y, rowvar, 0) + cov_place(d[y], m, y, rowvar, 1))
                          @ numpy.transpose(spread), c)


@adjoint(numpy.corrcoef)                 # R = C / (s s^T), s the square roots of C's diagonal
def corrcoef(r, x, y=None, rowvar=True, *, dtype=None):
    v = numpy.diagonal(numpy.atleast_2d(numpy.cov(x, y, rowvar)))
    z = cov_place(x, x, y, rowvar, 0) + cov_place(y, x, y, rowvar, 1)
    spread = (z - numpy.mean(z, axis=1, keepdims=True)) * cov_scale(z)
    g = numpy.reshape(d[r], (numpy.size(v), numpy.size(v)))
    gc = corr_adjoint(g, numpy.reshape(r, (numpy.size(v), numpy.size(v))), v)
    d[x] += cov_part((gc + numpy.transpose(gc)) @ spread, x, y, rowvar, 0)
    d[y] += cov_part((gc + numpy.transpose(gc)) @ spread, x, y, rowvar, 1)


@tangent(numpy.corrcoef)
def corrcoef(r, x, y=None, rowvar=True, *, dtype=None):
    v = numpy.diagonal(numpy.atleast_2d(numpy.cov(x, y, rowvar)))
    z = cov_place(x, x, y, rowvar, 0) + cov_place(y, x, y, rowvar, 1)
    spread = (z - numpy.mean(z, axis=1, keepdims=True)) * cov_scale(z)
    square = numpy.reshape(r, (numpy.size(v), numpy.size(v)))
    d[r] = numpy.reshape(corr_tangent(plus_transpose(
        (cov_place(d[x], x, y, rowvar, 0) + cov_place(d[y], x, y, rowvar, 1))
        @ numpy.transpose(spread), square), square, v), numpy.shape(r))


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


@adjoint(runtime_statistics.quantile_tangent)
def quantile_tangent_(out, t, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[t] += quantile_adjoint(d[out], a, axis, keepdims, reducer, q, method, weights)
    d[q] += refused(d[out], "the q of a quantile")
    d[weights] += refused(d[out], "the weights of a quantile")


@tangent(runtime_statistics.quantile_tangent)
def quantile_tangent_(out, t, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[out] = (quantile_tangent(d[t], a, axis, keepdims, reducer, q, method, weights)
              + refused(d[q], "the q of a quantile")
              + refused(d[weights], "the weights of a quantile"))


@adjoint(runtime_statistics.quantile_adjoint)
def quantile_adjoint_(out, g, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[g] += quantile_tangent(d[out], a, axis, keepdims, reducer, q, method, weights)
    d[q] += refused(d[out], "the q of a quantile")
    d[weights] += refused(d[out], "the weights of a quantile")


@tangent(runtime_statistics.quantile_adjoint)
def quantile_adjoint_(out, g, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[out] = (quantile_adjoint(d[g], a, axis, keepdims, reducer, q, method, weights)
              + refused(d[q], "the q of a quantile")
              + refused(d[weights], "the weights of a quantile"))


@linear(runtime_statistics.cov_place)
def cov_place_(out, t, m, y, rowvar, part):
    return cov_part(d[out], m, y, rowvar, part)


@linear(runtime_statistics.cov_part)
def cov_part_(out, g, m, y, rowvar, part):
    return cov_place(d[out], m, y, rowvar, part)


@linear(runtime_statistics.plus_transpose)
def plus_transpose_(out, p, like):
    return plus_transpose(d[out], p)


# the helpers' shape, setting and order parameters (their values change the result only
# piecewise); `q` and `weights` are not among them: their rules refuse a derivative there
for helper in (runtime_statistics.quantile_tangent, runtime_statistics.quantile_adjoint):
    without_derivative(helper, "a", "axis", "keepdims", "reducer", "method")
for helper in (runtime_statistics.cov_place, runtime_statistics.cov_part):
    without_derivative(helper, "m", "y", "rowvar", "part")
without_derivative(runtime_statistics.plus_transpose, "like")
