"""Cases for the rules in templates/statistics.py. Values are distinct (no ties, so the order
statistics are differentiable); references pick the sorted entries by the textbook definitions
of NumPy's methods (Hyndman and Fan's positions), slice by slice with loops."""

import math

import numpy

from srcad import runtime_statistics
from tests.support.cases import args, case
from tests.support.cases.nan_reductions import MASK
from tests.support.cases.reductions import distinct_arrays

D34 = distinct_arrays(shape=(3, 4))
A = numpy.array([[0.3, -1.2, 2.0, 0.7], [1.1, 0.2, -0.4, -2.2], [0.9, 1.5, -0.6, 0.1]])


def with_nans(x):
    """NaN where MASK holds (MASK read from this module, which the host-leak test moves)."""
    return numpy.where(MASK, numpy.nan, x)


def _picks(n, q, method):
    """[(position, weight)] in the sorted slice of length n that quantile q reads."""
    v = q * (n - 1)
    lo, frac = math.floor(v), v - math.floor(v)
    hi = min(lo + 1, n - 1)
    if method == "linear":
        return [(lo, 1.0 - frac), (hi, frac)]
    if method == "midpoint":
        return [(lo, 0.5), (hi, 0.5)] if frac > 0 else [(lo, 1.0)]
    at = {"lower": lo, "higher": math.ceil(v), "nearest": round(v)}[method]
    return [(at, 1.0)]


def _order_vjp(u, x, q, method="linear", axis=-1, mask=None):
    """The vjp of numpy.quantile(x, q, axis, method) for a 2-D x and q a list, by loops (NaN
    entries, where `mask`, left out of each slice)."""
    x, grad = numpy.moveaxis(x, axis, -1), numpy.zeros_like(x)
    view = numpy.moveaxis(grad, axis, -1)
    u = numpy.reshape(u, (len(q), x.shape[0]))
    for row in range(x.shape[0]):
        keep = numpy.flatnonzero(~mask[row]) if mask is not None else numpy.arange(x.shape[1])
        order = keep[numpy.argsort(x[row, keep])]
        for k, level in enumerate(q):
            for position, weight in _picks(len(order), level, method):
                view[row, order[position]] += weight * u[k, row]
    return grad


@case(numpy.median, args=args(D34), vjp=lambda u, x: (_order_vjp(u, x, [0.5]),))
def median(x):
    return numpy.median(x, axis=1)


@case(numpy.median, args=args(distinct_arrays(shape=(5,))),
      vjp=lambda u, x: (_order_vjp(u, x[None], [0.5])[0],))
def median_all(x):
    return numpy.median(x, keepdims=True)


@case(numpy.quantile, args=args(D34),
      vjp=lambda u, x: (_order_vjp(u, x, [0.1, 0.5, 0.9], axis=0),))
def quantile(x):
    return numpy.quantile(x, [0.1, 0.5, 0.9], axis=0)


METHODS = ("lower", "higher", "nearest", "midpoint", "linear")


def _methods_vjp(u, x):
    return sum(_order_vjp(u[i], x, [0.3, 0.5, 0.75], m) for i, m in enumerate(METHODS))


@case(numpy.percentile, args=args(D34), vjp=lambda u, x: (_methods_vjp(u, x),))
def percentile_methods(x):
    return numpy.stack([numpy.percentile(x, [30, 50, 75], axis=1, method="lower"),
                        numpy.percentile(x, [30, 50, 75], axis=1, method="higher"),
                        numpy.percentile(x, [30, 50, 75], axis=1, method="nearest"),
                        numpy.percentile(x, [30, 50, 75], axis=1, method="midpoint"),
                        numpy.percentile(x, [30, 50, 75], axis=-1)])


@case(numpy.quantile, args=args(distinct_arrays(shape=(2, 3, 2))),
      vjp=lambda u, x: (numpy.moveaxis(_order_vjp(
          u.reshape(1, 3), numpy.moveaxis(x, 1, 0).reshape(3, 4), [0.4]).reshape(3, 2, 2),
          0, 1),))
def quantile_axes_keepdims(x):
    return numpy.quantile(x, 0.4, axis=(0, 2), keepdims=True)


WEIGHTS = numpy.array([0.5, 2.0, 1.0, 0.25])


def _weighted_vjp(u, x, q):
    grad = numpy.zeros_like(x)
    for row in range(x.shape[0]):
        order = numpy.argsort(x[row])
        cdf = numpy.cumsum(WEIGHTS[order])
        grad[row, order[numpy.argmax(cdf >= q * cdf[-1])]] += u[row]
    return grad


@case(numpy.quantile, args=args(D34), vjp=lambda u, x: (_weighted_vjp(u, x, 0.35),))
def quantile_weights(x):
    return numpy.quantile(x, 0.35, axis=1, method="inverted_cdf", weights=WEIGHTS)


@case(numpy.nanmedian, args=args(D34),
      vjp=lambda u, x: (_order_vjp(u, x, [0.5], mask=MASK),))
def nanmedian(x):
    return numpy.nanmedian(with_nans(x), axis=1)


@case(numpy.nanquantile, args=args(D34),
      vjp=lambda u, x: (_order_vjp(u, x, [0.25, 0.6], axis=0, mask=MASK.T),))
def nanquantile(x):
    return numpy.nanquantile(with_nans(x), [0.25, 0.6], axis=0)


@case(numpy.nanpercentile, args=args(D34),
      vjp=lambda u, x: (_order_vjp(u, x.reshape(1, 12), [0.4], "nearest",
                                   mask=MASK.reshape(1, 12)).reshape(3, 4),))
def nanpercentile(x):
    return numpy.nanpercentile(with_nans(x), 40, method="nearest")


@case(runtime_statistics.quantile_tangent, runtime_statistics.quantile_adjoint,
      args=args(D34, distinct_arrays(shape=(2, 3))))
def quantile_helpers(t, g):
    return numpy.concatenate([
        runtime_statistics.quantile_tangent(t, A, 1, False, numpy.quantile, [0.3, 0.8]).ravel(),
        runtime_statistics.quantile_adjoint(g, A, 1, False, numpy.quantile, [0.3, 0.8]).ravel()])
