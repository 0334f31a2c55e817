"""Run-time helpers of the rules for order statistics (median, percentile, quantile and their
NaN-skipping forms; `templates/statistics.py`).

A quantile is, slice by slice, `(1 - w) s[lo] + w s[hi]`: two entries of the sorted slice `s`
with interpolation weights that depend only on the slice's length, `q`, `method` and `weights`
(constants). NumPy itself says which: the same function applied to the positions 0, 1, ...
n - 1 of the sorted slice gives the position `lo + w` it reads (`_positions`), so every method
NumPy has is followed as NumPy computes it. The derivative flows to the entries at those
positions. Tied entries (equal values) share it equally, as the extrema's do in
`srcad.runtime`: the derivative of a tied order statistic is the mean of the tied entries'.
NaN entries get 0 in the NaN-skipping forms (an all-NaN slice: 0 everywhere); in the plain
forms a slice holding a NaN has a NaN result, and a NaN derivative.

In: the tangent `t` (shaped like `a`) or the adjoint `g` (shaped like the result), the array
`a`, and the call's arguments. Out: the tangent of the result, or the adjoint of `a`.
`quantile_tangent` and `quantile_adjoint` are each other's transpose (linear in their first
argument, and locally constant in `a`).
"""

import warnings

import numpy

NAN_FORMS = ("nanmedian", "nanpercentile", "nanquantile")


def _rows(x, axis):
    """`x` with the reduced axes last, flattened into one: shape (rows..., n)."""
    x = numpy.asarray(x)
    if axis is None:
        return numpy.reshape(x, (-1,))
    axes = tuple(int(a) % x.ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    moved = numpy.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    return numpy.reshape(moved, moved.shape[:x.ndim - len(axes)] + (-1,))


def _unrows(r, a, axis):
    """The inverse of `_rows`: `r` (rows..., n) back in the shape of `a`."""
    a = numpy.asarray(a)
    if axis is None:
        return numpy.reshape(r, a.shape)
    axes = tuple(int(x) % a.ndim for x in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    kept = [n for i, n in enumerate(a.shape) if i not in axes]
    moved = numpy.reshape(r, tuple(kept) + tuple(a.shape[i] for i in axes))
    return numpy.moveaxis(moved, tuple(range(len(kept), a.ndim)), axes)


def _result_shape(a, axis, keepdims, q):
    """The shape of the result: q's shape, then a's shape without (or with ones at) `axis`."""
    a = numpy.asarray(a)
    axes = range(a.ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = {int(x) % a.ndim for x in axes} if a.ndim else set()
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape) if keepdims is True
                 or i not in axes)
    return numpy.shape(q) + kept


class _Frame:
    """What a quantile reads, slice by slice: the order that sorts each slice (`order`), its
    tie groups (`group`: each sorted entry's group number, unique over all slices), the
    positions `lo`, `hi` and weight `w` it reads (shaped q's shape + rows), and which slices
    give a NaN result (`nan_rows`)."""

    def __init__(self, a, axis, reducer, q, method, weights):
        rows = _rows(a, axis)
        self.n = rows.shape[-1]
        self.order = numpy.argsort(rows, axis=-1, kind="stable")
        ordered = numpy.take_along_axis(rows, self.order, axis=-1)
        self.group = _groups(ordered)
        skip = reducer.__name__ in NAN_FORMS
        at = _positions(ordered, skip, reducer, q, method, weights, self.order, axis, a)
        valid = ~numpy.isnan(at)
        at = numpy.where(valid, at, 0.0)
        self.lo = numpy.clip(numpy.floor(at), 0, self.n - 1).astype(numpy.intp)
        self.w = numpy.where(valid, at - self.lo, 0.0)
        self.hi = numpy.where(self.w > 0, numpy.minimum(self.lo + 1, self.n - 1), self.lo)
        self.valid = valid
        self.nan_rows = (numpy.isnan(ordered).any(axis=-1) if not skip
                         else numpy.zeros(ordered.shape[:-1], dtype=bool))


def _groups(ordered):
    """Each sorted entry's tie group: equal neighbours share one, numbered over all rows."""
    flat = numpy.reshape(ordered, (-1, ordered.shape[-1]))
    new = numpy.ones(flat.shape, dtype=bool)
    new[:, 1:] = flat[:, 1:] != flat[:, :-1]
    return numpy.reshape(numpy.cumsum(new) - 1, ordered.shape)


def _positions(ordered, skip, reducer, q, method, weights, order, axis, a):
    """The position `lo + w` in each sorted slice that `reducer` reads: `reducer` applied to
    the positions themselves (NaN where the sorted entry is NaN, for the NaN-skipping forms)."""
    places = numpy.broadcast_to(numpy.arange(ordered.shape[-1], dtype=float), ordered.shape)
    if skip:
        places = numpy.where(numpy.isnan(ordered), numpy.nan, places)
    if reducer.__name__ in ("median", "nanmedian"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return reducer(places, axis=-1)
    options = {"method": method}
    if weights is not None:
        w = numpy.broadcast_to(_along(weights, a, axis), numpy.shape(a))
        options["weights"] = numpy.take_along_axis(_rows(w, axis), order, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return reducer(places, q, axis=-1, **options)


def _along(weights, a, axis):
    """`weights` shaped to broadcast against `a`: a 1-D weight per entry along one `axis`."""
    weights = numpy.asarray(weights)
    if weights.ndim == 1 and numpy.ndim(a) > 1 and isinstance(axis, int):
        shape = [1] * numpy.ndim(a)
        shape[axis] = weights.shape[0]
        return numpy.reshape(weights, shape)
    return weights


def _tie_mean(values, group):
    """Each entry of `values` (sorted like the slices) replaced by the mean over its tie group."""
    flat = numpy.ravel(group)
    sums = numpy.bincount(flat, weights=numpy.ravel(values), minlength=flat.size)
    counts = numpy.bincount(flat, minlength=flat.size)
    return numpy.reshape(sums[flat] / counts[flat], numpy.shape(values))


def quantile_tangent(t, a, axis, keepdims, reducer, q=None, method="linear", weights=None):
    """The tangent of `reducer(a, [q,] axis, ...)` along `t` (shaped like `a`)."""
    frame = _Frame(a, axis, reducer, q, method, weights)
    rows = _rows(numpy.broadcast_to(t, numpy.shape(a)), axis)
    ordered = _tie_mean(numpy.take_along_axis(rows, frame.order, axis=-1), frame.group)
    ordered = numpy.broadcast_to(ordered, numpy.shape(frame.lo) + (frame.n,))
    low = numpy.take_along_axis(ordered, frame.lo[..., None], axis=-1)[..., 0]
    high = numpy.take_along_axis(ordered, frame.hi[..., None], axis=-1)[..., 0]
    out = numpy.where(frame.valid, (1.0 - frame.w) * low + frame.w * high, 0.0)
    out = numpy.where(frame.nan_rows, numpy.nan, out)
    return numpy.reshape(out, _result_shape(a, axis, keepdims, q))


def quantile_adjoint(g, a, axis, keepdims, reducer, q=None, method="linear", weights=None):
    """The adjoint of `a` in `reducer(a, [q,] axis, ...)`, for the result's adjoint `g`."""
    frame = _Frame(a, axis, reducer, q, method, weights)
    g = numpy.reshape(numpy.broadcast_to(g, _result_shape(a, axis, keepdims, q)),
                      numpy.shape(frame.lo))
    g = numpy.where(frame.valid, g, 0.0)
    count = frame.group.size
    start = numpy.reshape(numpy.arange(0, count, max(frame.n, 1)), numpy.shape(frame.group)[:-1])
    ordered = (numpy.bincount(numpy.ravel(start + frame.lo), numpy.ravel((1.0 - frame.w) * g),
                              minlength=count)
               + numpy.bincount(numpy.ravel(start + frame.hi), numpy.ravel(frame.w * g),
                                minlength=count))
    ordered = _tie_mean(numpy.reshape(ordered, numpy.shape(frame.group)), frame.group)
    rows = numpy.take_along_axis(ordered, numpy.argsort(frame.order, axis=-1), axis=-1)
    rows = numpy.where(frame.nan_rows[..., None], numpy.nan, rows)
    return _unrows(rows, a, axis)
