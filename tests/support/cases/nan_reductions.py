"""Cases for the rules in templates/nan_reductions.py. NaN entries are put in by `numpy.where`
on a fixed mask (so no NaN reaches a derivative through arithmetic); references are written
with explicit masks and loops."""

import numpy

from tests.support.cases import POSITIVE, REAL, args, arrays, case
from tests.support.cases.reductions import distinct_arrays

MASK = numpy.array([[False, True, False, False], [False, False, False, True],
                    [True, False, False, False]])
M34 = arrays(REAL, shape=(3, 4))
NO_NANS = numpy.zeros((3, 4), dtype=bool)


def with_nans(x):
    return numpy.where(MASK, numpy.nan, x)


def _cumprod_vjp(u, x, axis):
    """sum over j >= i of u_j prod_{k <= j, k != i} x_k, by loops along `axis`."""
    x, u = numpy.moveaxis(x, axis, -1), numpy.moveaxis(u, axis, -1)
    out = numpy.zeros_like(x)
    n = x.shape[-1]
    for i in range(n):
        for j in range(i, n):
            others = numpy.prod(numpy.delete(x[..., :j + 1], i, axis=-1), axis=-1)
            out[..., i] += u[..., j] * others
    return numpy.moveaxis(out, -1, axis)


@case(numpy.cumprod, numpy.ndarray.cumprod, args=args(arrays(POSITIVE, shape=(3, 4))),
      vjp=lambda u, x: (_cumprod_vjp(u[0], x, 1) + _cumprod_vjp(u[1], x, 0),))
def cumprod(x):
    return numpy.stack([numpy.cumprod(x, axis=1), x.cumprod(0)])


@case(numpy.cumprod, args=args(arrays((-2.0, -0.3), shape=(5,))),
      vjp=lambda u, x: (_cumprod_vjp(u, x, 0),))
def cumprod_flat(x):
    return numpy.cumprod(x)


ZEROS = numpy.array([[False, True, False, False], [False, False, False, False],
                  [True, False, False, True]])


@case(numpy.cumprod, numpy.ndarray.cumprod, args=args(M34),
      vjp=lambda u, x: (numpy.where(ZEROS, 0.0, _cumprod_vjp(u[0], numpy.where(ZEROS, 0.0, x), 1)
                                    + _cumprod_vjp(u[1], numpy.where(ZEROS, 0.0, x), 0)),))
def cumprod_through_zeros(x):          # the derivative exists at 0: no division by the entries
    z = numpy.where(ZEROS, 0.0, x)
    return numpy.stack([numpy.cumprod(z, axis=1), z.cumprod(0)])


@case(numpy.cumulative_prod, args=args(arrays(REAL, shape=(5,))),
      vjp=lambda u, x: (numpy.where(ZEROS.ravel()[:5], 0.0,
                                    _cumprod_vjp(u, numpy.where(ZEROS.ravel()[:5], 0.0, x), 0)),))
def cumulative_prod_through_zeros(x):
    return numpy.cumulative_prod(numpy.where(ZEROS.ravel()[:5], 0.0, x))


@case(numpy.nancumsum, args=args(M34),
      vjp=lambda u, x: (numpy.where(MASK, 0.0, numpy.cumsum(u[:, ::-1], axis=1)[:, ::-1]),))
def nancumsum(x):
    return numpy.nancumsum(with_nans(x), axis=1)


def _nancumprod_vjp(u, x, axis, mask):
    """cumprod's reference on the entries with NaNs taken as ones; 0 at the NaNs."""
    return numpy.where(mask, 0.0, _cumprod_vjp(u, numpy.where(mask, 1.0, x), axis))


@case(numpy.nancumprod, args=args(M34),
      vjp=lambda u, x: (_nancumprod_vjp(u[0], x, 1, MASK) + _nancumprod_vjp(u[1], x, 0, MASK),))
def nancumprod(x):
    return numpy.stack([numpy.nancumprod(with_nans(x), axis=1),
                        numpy.nancumprod(with_nans(x), 0)])


@case(numpy.nancumprod, args=args(M34),
      vjp=lambda u, x: (numpy.where(ZEROS, 0.0, _nancumprod_vjp(u, numpy.where(ZEROS, 0.0, x),
                                                                1, MASK)),))
def nancumprod_through_zeros(x):       # exact at 0, as cumprod: no division by the entries
    return numpy.nancumprod(with_nans(numpy.where(ZEROS, 0.0, x)), axis=1)


@case(numpy.nancumprod, args=args(M34),
      vjp=lambda u, x: (_nancumprod_vjp(u, x.ravel(), 0, MASK.ravel()).reshape(3, 4),))
def nancumprod_flat(x):                # without an axis: the flattened array's
    return numpy.nancumprod(with_nans(x))


@case(numpy.nansum, args=args(M34), vjp=lambda u, x: (numpy.where(MASK, 0.0, u[:, None]),))
def nansum(x):
    return numpy.nansum(with_nans(x), axis=1)


@case(numpy.nansum, args=args(M34), vjp=lambda u, x: (numpy.where(MASK, 0.0, u),))
def nansum_all(x):
    return numpy.nansum(with_nans(x))


@case(numpy.nanmean, args=args(M34),
      vjp=lambda u, x: (numpy.where(MASK, 0.0, u / numpy.array([2.0, 2.0, 3.0, 2.0])),))
def nanmean(x):
    return numpy.nanmean(with_nans(x), axis=0, keepdims=True)


@case(numpy.nanmean, args=args(M34), vjp=lambda u, x: (numpy.where(MASK, 0.0, u / 9.0),))
def nanmean_all(x):
    return numpy.nanmean(with_nans(x))


def _nanprod_vjp(u, x):
    out = numpy.zeros_like(x)
    for i in range(3):
        for j in range(4):
            if not MASK[i, j]:
                keep = ~MASK[i] & (numpy.arange(4) != j)
                out[i, j] = u[i] * numpy.prod(x[i][keep])
    return out


@case(numpy.nanprod, args=args(arrays(REAL, shape=(3, 4), away_from_zero=True)),
      vjp=lambda u, x: (_nanprod_vjp(u, x),))
def nanprod(x):
    return numpy.nanprod(with_nans(x), axis=1)


def _extreme_vjp(u, x, pick, mask=MASK):
    out = numpy.zeros_like(x)
    for i in range(3):
        values = numpy.where(mask[i], numpy.nan, x[i])
        out[i, pick(values)] = u[i]
    return out


@case(numpy.nanmax, numpy.nanmin, args=args(distinct_arrays(shape=(3, 4))),
      vjp=lambda u, x: (_extreme_vjp(u, x, numpy.nanargmax) + _extreme_vjp(u, x, numpy.nanargmin),))
def nanmax_nanmin(x):
    return numpy.nanmax(with_nans(x), axis=1) + numpy.nanmin(with_nans(x), 1)


@case(numpy.ptp, args=args(distinct_arrays(shape=(3, 4))),
      vjp=lambda u, x: (_extreme_vjp(u, x, numpy.argmax, NO_NANS)
                        - _extreme_vjp(u, x, numpy.argmin, NO_NANS),))
def ptp(x):
    return numpy.ptp(x, axis=1)


@case(numpy.average, args=args(M34), vjp=lambda u, x: (numpy.broadcast_to(u / 3.0, (3, 4)),))
def average(x):
    return numpy.average(x, axis=0)


@case(numpy.cumulative_sum, numpy.cumulative_prod, args=args(arrays(POSITIVE, shape=(3, 4))),
      vjp=lambda u, x: (numpy.cumsum(u[0][:, ::-1], axis=1)[:, ::-1] + _cumprod_vjp(u[1], x, 0),))
def cumulative_sum_prod(x):
    return numpy.stack([numpy.cumulative_sum(x, axis=1), numpy.cumulative_prod(x, axis=0)])


@case(numpy.cumulative_sum, numpy.cumulative_prod, args=args(arrays(POSITIVE, shape=(4,))),
      vjp=lambda u, x: (numpy.cumsum(u[0][::-1])[::-1] + _cumprod_vjp(u[1], x, 0),))
def cumulative_vector(x):
    return numpy.stack([numpy.cumulative_sum(x), numpy.cumulative_prod(x)])


def _nanvar_vjp(u, x, ddof, std):
    out = numpy.zeros_like(x)
    for i in range(3):
        keep = ~MASK[i]
        values = x[i][keep]
        spread = 2.0 * (values - values.mean()) / (keep.sum() - ddof)
        if std:
            spread = spread / (2.0 * numpy.sqrt(numpy.sum((values - values.mean()) ** 2)
                                                / (keep.sum() - ddof)))
        out[i][keep] = u[i] * spread
    return out


@case(numpy.nanvar, args=args(M34), vjp=lambda u, x: (_nanvar_vjp(u, x, 1, False),))
def nanvar(x):
    return numpy.nanvar(with_nans(x), axis=1, ddof=1)


@case(numpy.nanstd, args=args(distinct_arrays(shape=(3, 4))),
      vjp=lambda u, x: (_nanvar_vjp(u[:, 0], x, 0, True),))
def nanstd(x):
    return numpy.nanstd(with_nans(x), axis=1, keepdims=True)
