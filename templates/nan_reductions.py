"""Rules for reductions beyond templates/reductions.py: cumprod (function and method),
cumulative_sum and cumulative_prod (without `include_initial`), ptp,
average (without weights), and NaN-aware reductions that skip NaN entries: nansum, nanmean,
nanprod, nanmax, nanmin, nanvar, nanstd (with `ddof`), nancumsum, nancumprod.

A NaN entry gets derivative 0 (it does not reach the result). cumprod's derivative is a scan
(`runtime_exact.scan`: each running product's derivative is the previous one's times the entry,
plus the product before the entry times its derivative), so it is exact where an entry is 0.
nanmax/nanmin share the derivative among the entries that attain the extremum, as max and min
do; ptp is max minus min. nanstd of one element per result has derivative 0 (`std_divisor`).
"""

import numpy

from srcad.rules import adjoint, d, reduction, shape, tangent
from srcad.runtime import extremum_adjoint, extremum_tangent, prod_others, unreduce
from srcad.runtime_exact import scan, scan_back, shifted, std_divisor

from .reductions import reduction_shape

NAN_REDUCTIONS = (numpy.nansum, numpy.nanmean, numpy.nanprod, numpy.nanmax, numpy.nanmin,
                  numpy.nanvar, numpy.nanstd, numpy.ptp, numpy.average)
reduction(*NAN_REDUCTIONS)
shape(*NAN_REDUCTIONS)(reduction_shape)

# ---- cumulative products ------------------------------------------------------------------


@adjoint(numpy.cumprod)                 # (a taken in y's shape: flat when `axis` is None)
@adjoint(numpy.ndarray.cumprod)
def cumprod(y, a, axis=None, dtype=None, out=None):
    before = shifted(y, axis, 1.0)
    after = scan_back(numpy.reshape(a, numpy.shape(y)), d[y], axis)
    d[a] += numpy.reshape(before * after, numpy.shape(a))


@tangent(numpy.cumprod)
@tangent(numpy.ndarray.cumprod)
def cumprod(y, a, axis=None, dtype=None, out=None):
    d[y] = scan(numpy.reshape(a, numpy.shape(y)),
                shifted(y, axis, 1.0) * numpy.reshape(d[a], numpy.shape(y)), axis)


@adjoint(numpy.cumulative_sum)         # the array API's cumsum (`axis` keyword-only)
def cumulative_sum(y, x, *, axis=None, dtype=None):
    after = numpy.flip(numpy.cumsum(numpy.flip(d[y], axis), axis), axis)
    d[x] += numpy.reshape(after, numpy.shape(x))


@tangent(numpy.cumulative_sum)
def cumulative_sum(y, x, *, axis=None, dtype=None):
    d[y] = numpy.cumulative_sum(d[x], axis=axis)


@adjoint(numpy.cumulative_prod)
def cumulative_prod(y, x, *, axis=None, dtype=None):
    before = shifted(y, axis, 1.0)
    after = scan_back(numpy.reshape(x, numpy.shape(y)), d[y], axis)
    d[x] += numpy.reshape(before * after, numpy.shape(x))


@tangent(numpy.cumulative_prod)
def cumulative_prod(y, x, *, axis=None, dtype=None):
    d[y] = scan(numpy.reshape(x, numpy.shape(y)),
                shifted(y, axis, 1.0) * numpy.reshape(d[x], numpy.shape(y)), axis)


@adjoint(numpy.nancumsum)
def nancumsum(y, a, axis=None, dtype=None, out=None):
    after = numpy.flip(numpy.cumsum(numpy.flip(d[y], axis), axis), axis)
    d[a] += numpy.where(numpy.isnan(a), 0.0, numpy.reshape(after, numpy.shape(a)))


@tangent(numpy.nancumsum)
def nancumsum(y, a, axis=None, dtype=None, out=None):
    d[y] = numpy.cumsum(numpy.where(numpy.isnan(a), 0.0, d[a]), axis)


@adjoint(numpy.nancumprod)               # cumprod with NaNs as ones (and derivative 0 there)
def nancumprod(y, a, axis=None, dtype=None, out=None):
    ones = numpy.reshape(numpy.where(numpy.isnan(a), 1.0, a), numpy.shape(y))
    after = scan_back(ones, d[y], axis)
    d[a] += numpy.where(numpy.isnan(a), 0.0,
                        numpy.reshape(shifted(y, axis, 1.0) * after, numpy.shape(a)))


@tangent(numpy.nancumprod)
def nancumprod(y, a, axis=None, dtype=None, out=None):
    ones = numpy.reshape(numpy.where(numpy.isnan(a), 1.0, a), numpy.shape(y))
    d[y] = scan(ones, shifted(y, axis, 1.0) * numpy.reshape(
        numpy.where(numpy.isnan(a), 0.0, d[a]), numpy.shape(y)), axis)


# ---- NaN-aware reductions -----------------------------------------------------------------


@adjoint(numpy.nansum)
def nansum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += numpy.where(numpy.isnan(a), 0.0, unreduce(d[y], a, axis, keepdims))


@tangent(numpy.nansum)
def nansum(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = numpy.sum(numpy.where(numpy.isnan(a), 0.0, d[a]), axis, keepdims=keepdims)


@adjoint(numpy.nanmean)                  # each entry's weight: 1 / the count of non-NaNs
def nanmean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=True)
    d[a] += numpy.where(numpy.isnan(a), 0.0, unreduce(d[y], a, axis, keepdims) / count)


@tangent(numpy.nanmean)
def nanmean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=keepdims)
    d[y] = numpy.sum(numpy.where(numpy.isnan(a), 0.0, d[a]), axis, keepdims=keepdims) / count


@adjoint(numpy.nanprod)                  # NaNs count as ones
def nanprod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    ones = numpy.where(numpy.isnan(a), 1.0, a)
    d[a] += numpy.where(numpy.isnan(a), 0.0, unreduce(d[y], a, axis, keepdims)
                        * prod_others(ones, y, axis, keepdims))


@tangent(numpy.nanprod)
def nanprod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    ones = numpy.where(numpy.isnan(a), 1.0, a)
    d[y] = numpy.sum(numpy.where(numpy.isnan(a), 0.0, d[a]) * prod_others(ones, y, axis, keepdims),
                     axis, keepdims=keepdims)


@adjoint(numpy.nanmax)                   # a NaN never equals the extremum
@adjoint(numpy.nanmin)
def nanmax(y, a, axis=None, out=None, keepdims=False):
    d[a] += extremum_adjoint(d[y], a, y, axis, keepdims)


@tangent(numpy.nanmax)
@tangent(numpy.nanmin)
def nanmax(y, a, axis=None, out=None, keepdims=False):
    d[y] = extremum_tangent(numpy.where(numpy.isnan(a), 0.0, d[a]), a, y, axis, keepdims)


@adjoint(numpy.nanvar)                   # 2 (a - mean) / (count - ddof) on the non-NaNs
def nanvar(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=True)
    centred = numpy.where(numpy.isnan(a), 0.0, a - numpy.nanmean(a, axis, keepdims=True))
    d[a] += unreduce(d[y], a, axis, keepdims) * 2.0 * centred / (count - ddof)


@tangent(numpy.nanvar)
def nanvar(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=keepdims)
    centred = numpy.where(numpy.isnan(a), 0.0, a - numpy.nanmean(a, axis, keepdims=True))
    d[y] = numpy.sum(numpy.where(numpy.isnan(a), 0.0, d[a]) * centred, axis,
                     keepdims=keepdims) * 2.0 / (count - ddof)


@adjoint(numpy.nanstd)                   # nanvar's over twice the result
def nanstd(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=True)
    centred = numpy.where(numpy.isnan(a), 0.0, a - numpy.nanmean(a, axis, keepdims=True))
    d[a] += unreduce(d[y] / std_divisor(y, a, count - ddof), a, axis, keepdims) * centred


@tangent(numpy.nanstd)
def nanstd(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    count = numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims=keepdims)
    centred = numpy.where(numpy.isnan(a), 0.0, a - numpy.nanmean(a, axis, keepdims=True))
    d[y] = numpy.sum(numpy.where(numpy.isnan(a), 0.0, d[a]) * centred, axis,
                     keepdims=keepdims) / std_divisor(y, a, count - ddof)


# ---- range and average --------------------------------------------------------------------


@adjoint(numpy.ptp)
def ptp(y, a, axis=None, out=None, keepdims=False):
    high = numpy.max(a, axis, keepdims=keepdims)
    low = numpy.min(a, axis, keepdims=keepdims)
    d[a] += extremum_adjoint(d[y], a, high, axis, keepdims) - extremum_adjoint(d[y], a, low,
                                                                              axis, keepdims)


@tangent(numpy.ptp)
def ptp(y, a, axis=None, out=None, keepdims=False):
    high = numpy.max(a, axis, keepdims=keepdims)
    low = numpy.min(a, axis, keepdims=keepdims)
    d[y] = extremum_tangent(d[a], a, high, axis, keepdims) - extremum_tangent(d[a], a, low, axis,
                                                                              keepdims)


@adjoint(numpy.average)                  # without weights: the mean
def average(y, a, axis=None, *, keepdims=False):
    d[a] += unreduce(d[y], a, axis, keepdims) * (numpy.size(y) / numpy.size(a))


@tangent(numpy.average)
def average(y, a, axis=None, *, keepdims=False):
    d[y] = numpy.mean(d[a], axis, keepdims=keepdims)
