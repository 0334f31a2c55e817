"""Rules for statistics: median, percentile, quantile and their NaN-skipping forms (nanmedian,
nanpercentile, nanquantile), cov and corrcoef.

Order statistics: the derivative flows to the one or two sorted entries NumPy reads, with its
interpolation weights, for every `method` NumPy has (the positions are NumPy's own, see
`srcad.runtime_statistics`); tied entries share it equally (as max and min do); NaN entries get
0 in the NaN-skipping forms. `q` and `weights` (inverted_cdf's) are constants: a differentiated
value given for either is an error at the user's line. `out=` and `overwrite_input=True` write
into an argument, and are rejected before a rule is looked up.

The last section holds the rules of the helpers, so that generated code can be differentiated
again (each is linear in its first argument and locally constant in `a`).
"""

import numpy

from srcad import runtime_statistics
from srcad.rules import adjoint, d, reduction, shape, tangent
from srcad.runtime_statistics import quantile_adjoint, quantile_tangent

from .reductions import reduction_shape

reduction(numpy.median, numpy.nanmedian)
shape(numpy.median, numpy.nanmedian)(reduction_shape)

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


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


@adjoint(runtime_statistics.quantile_tangent)
def quantile_tangent_(out, t, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[t] += quantile_adjoint(d[out], a, axis, keepdims, reducer, q, method, weights)


@tangent(runtime_statistics.quantile_tangent)
def quantile_tangent_(out, t, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[out] = quantile_tangent(d[t], a, axis, keepdims, reducer, q, method, weights)


@adjoint(runtime_statistics.quantile_adjoint)
def quantile_adjoint_(out, g, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[g] += quantile_tangent(d[out], a, axis, keepdims, reducer, q, method, weights)


@tangent(runtime_statistics.quantile_adjoint)
def quantile_adjoint_(out, g, a, axis, keepdims, reducer, q=None, method="linear",
                      weights=None):
    d[out] = quantile_adjoint(d[g], a, axis, keepdims, reducer, q, method, weights)
