"""Run-time helpers of the rules for functions of sampled data: interp, convolve and
correlate, gradient (`templates/sampled.py`).

interp: each `x` falls in the interval NumPy picks (`xp[j] <= x < xp[j + 1]`; at a node, the
interval it starts; `x == xp[-1]` reads `fp[-1]`; beyond the ends, `left`/`right` or the end
values; with `period`, the nodes wrapped, sorted and extended by one period on each side, as
NumPy does). There the result is `(1 - u) fp[j] + u fp[j + 1]` with `u = (x - xp[j]) / h`.
`interp_slope` is the slope `(fp[j + 1] - fp[j]) / h` (0 outside the intervals), linear in
`fp`; `interp_transpose` and `interp_slope_transpose` are the transposes of `fp -> interp` and
`fp -> interp_slope`. Every derivative of interp, to any order, is written with these three and
numpy.interp itself (templates/sampled.py).

convolve and correlate: a mode's result is a slice of the full one (`mode_slice`), and
`unmode` puts an adjoint back in the full length, zeros around it.

gradient: along one axis a banded linear map (at most three entries per row);
`gradient_transpose` applies its transpose, found by applying numpy.gradient to three combs.

In: NumPy arrays and the calls' arguments. Out: NumPy arrays.
"""

import numpy

from .backend import array_module


def _library(*values):
    """The array library of the first of `values` that is a device array, else NumPy."""
    for value in values:
        module = array_module(value)
        if module is not numpy:
            return module
    return numpy


# ---- interp -------------------------------------------------------------------------------


def _nodes(xp, period, lib):
    """(the nodes as interp reads them, each one's index in `xp`), arrays of `lib`."""
    xp = lib.asarray(xp, dtype=float)
    if period is None:
        return xp, lib.arange(numpy.size(xp))
    period = abs(period)
    wrapped = xp % period
    order = numpy.argsort(wrapped)
    at = wrapped[order]
    return (numpy.concatenate([at[-1:] - period, at, at[:1] + period]),
            numpy.concatenate([order[-1:], order, order[:1]]))


class _Intervals:
    """Where each entry of `x` (flattened) falls: the indices in `xp` of its interval's ends
    (`lo`, `hi`; both the end node beyond the nodes), its place `u` in the interval (NaN for
    a NaN point, whose result is NaN) and the interval's width `h` (1 outside), `inner`
    (inside an interval), `left`/`right` (beyond the first or last node)."""

    def __init__(self, x, xp, period, lib):
        x = numpy.ravel(lib.asarray(x, dtype=float))
        if period is not None:
            x = x % abs(period)
        at, index = _nodes(xp, period, lib)
        n = at.size
        j = numpy.searchsorted(at, x, side="right") - 1
        self.left, self.right = x < at[0], x > at[-1]
        self.inner = (j >= 0) & (j < n - 1)
        lo = numpy.clip(j, 0, n - 1)
        hi = numpy.where(self.inner, lo + 1, lo)
        self.h = numpy.where(self.inner, at[hi] - at[lo], 1.0)
        self.u = numpy.where(self.inner, (x - at[lo]) / self.h, 0.0)
        self.u = numpy.where(numpy.isnan(x), numpy.nan, self.u)     # a NaN point: NaN weights
        self.lo, self.hi, self.size = index[lo], index[hi], numpy.size(xp)


def interp_slope(x, xp, fp, period=None):
    """The slope of `numpy.interp(x, xp, fp, period=period)` at each `x`, shaped like `x`."""
    lib = _library(x, xp, fp)
    at = _Intervals(x, xp, period, lib)
    fp = lib.asarray(fp, dtype=float)
    slope = numpy.where(at.inner, (fp[at.hi] - fp[at.lo]) / at.h, 0.0) + 0.0 * at.u
    return numpy.reshape(slope, numpy.shape(x))


def interp_transpose(g, x, xp, left=None, right=None, period=None):
    """The transpose of `fp -> numpy.interp(x, xp, fp, left, right, period)` applied to `g`
    (shaped like `x`): a vector like `fp`. Only whether `left`/`right` are None matters."""
    at = _Intervals(x, xp, period, _library(g, x, xp))
    g = numpy.ravel(numpy.broadcast_to(g, numpy.shape(x)))
    keep = ~((at.left & (left is not None)) | (at.right & (right is not None)))
    g = numpy.where(keep, g, 0.0)
    return (numpy.bincount(at.lo, g * (1.0 - at.u), minlength=at.size)
            + numpy.bincount(at.hi, g * at.u, minlength=at.size)
            + 0.0 * numpy.sum(g * at.u))           # NaN everywhere when a point is NaN


def interp_slope_transpose(g, x, xp, period=None):
    """The transpose of `fp -> interp_slope(x, xp, fp, period)` applied to `g`."""
    at = _Intervals(x, xp, period, _library(g, x, xp))
    g = numpy.where(at.inner, numpy.ravel(numpy.broadcast_to(g, numpy.shape(x))) / at.h,
                    0.0 * at.u)
    return (numpy.bincount(at.hi, g, minlength=at.size)
            - numpy.bincount(at.lo, g, minlength=at.size) + 0.0 * numpy.sum(g))


def interp_beyond(x, xp, side, period=None):
    """1.0 where `x` lies beyond the first node (`side` -1) or the last (`side` 1), where
    interp gives `left` or `right`; 0.0 elsewhere and with a `period`. Shaped like `x`."""
    lib = _library(x, xp)
    if period is not None:
        return lib.zeros(numpy.shape(x))
    at = _Intervals(x, xp, None, lib)
    return numpy.reshape((at.left if side < 0 else at.right).astype(float), numpy.shape(x))


def interp_edge(value):
    """The `left`/`right` of interp's tangent in `fp`: None (the end values) stays None; a
    given value is a constant there (its own derivative is a term of its own)."""
    return None if value is None else 0.0


# ---- convolve and correlate ---------------------------------------------------------------


def _mode_part(a, v, mode, kind):
    """(start, length) of `kind(a, v, mode)` (numpy.convolve or numpy.correlate) within the
    full result, as NumPy cuts it."""
    n, m = numpy.size(a), numpy.size(v)
    short, long = min(n, m), max(n, m)
    if mode == "full":
        return 0, n + m - 1
    if mode == "valid":
        return short - 1, long - short + 1
    if mode == "same":
        late = kind is numpy.correlate and n < m          # correlate's centre rounds the other way
        return (short // 2 if late else (short - 1) // 2), long
    raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")


def unmode(g, a, v, mode, kind):
    """The adjoint `g` of `kind(a, v, mode)` put back in the full result's length (zeros
    around it): the transpose of `mode_slice`."""
    start, length = _mode_part(a, v, mode, kind)
    full = numpy.size(a) + numpy.size(v) - 1
    return numpy.pad(numpy.ravel(g), (start, full - start - length))


def mode_slice(h, a, v, mode, kind):
    """The part of the full-length `h` that `kind(a, v, mode)` keeps: the transpose of
    `unmode`."""
    start, length = _mode_part(a, v, mode, kind)
    return h[start:start + length]


# ---- gradient -----------------------------------------------------------------------------


def _gradient_axes(ndim, axis):
    """numpy.gradient's axes, as non-negative ints."""
    if axis is None:
        return list(range(ndim))
    return [int(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def _spacings(spacing, count):
    """One spacing (a scalar or the coordinates) per axis, as numpy.gradient reads `varargs`."""
    if len(spacing) == 0:
        return [1.0] * count
    if len(spacing) == 1 and numpy.ndim(spacing[0]) == 0:
        return [spacing[0]] * count
    return list(spacing)


def gradient_of(t, spacing, axis=None, edge_order=1):
    """`numpy.gradient(t, *spacing, axis=axis, edge_order=edge_order)`."""
    return numpy.gradient(t, *spacing, axis=axis, edge_order=edge_order)


def ungradient(g, f, spacing, axis=None, edge_order=1):
    """The adjoint of `f` in `numpy.gradient(f, *spacing, axis=axis, edge_order=edge_order)`
    for the result's adjoint `g` (an array for one axis, else one per axis)."""
    axes = _gradient_axes(numpy.ndim(f), axis)
    pieces = [g] if len(axes) == 1 else list(g)
    total = 0.0
    for piece, h, ax in zip(pieces, _spacings(spacing, len(axes)), axes):
        total = total + gradient_transpose(piece, h, ax, edge_order)
    return numpy.reshape(total + _library(f, *pieces).zeros(numpy.shape(f)), numpy.shape(f))


def gradient_transpose(g, h, axis, edge_order=1):
    """The transpose of numpy.gradient along one `axis` with spacing `h` (a scalar or the
    coordinates) applied to `g`. Each entry i of the gradient reads three neighbours at most
    (the window starting at `w = clip(i - 1, 0, n - 3)`), one of each residue modulo 3: the
    gradient of the comb of residue r gives each row's coefficient of its entry of that
    residue, and the transpose adds the coefficient times `g` there."""
    lib = _library(g, h)
    moved = numpy.moveaxis(lib.asarray(g, dtype=float), axis, -1)
    n = moved.shape[-1]
    flat = numpy.reshape(moved, (-1, n))
    rows = lib.arange(n)
    start = numpy.clip(rows - 1, 0, max(n - 3, 0))
    offsets = numpy.reshape(lib.arange(flat.shape[0]) * n, (-1, 1))
    out = 0.0
    for r in range(3):
        comb = (rows % 3 == r).astype(float)
        coefficient = numpy.gradient(comb, h, edge_order=edge_order)
        column = numpy.minimum(start + (r - start) % 3, n - 1)
        out = out + numpy.bincount(numpy.ravel(offsets + column),
                                   numpy.ravel(coefficient * flat), minlength=flat.size)
    return numpy.moveaxis(numpy.reshape(out, moved.shape), -1, axis)
