"""Run-time helpers of the rules for order statistics (median, percentile, quantile and their
NaN-skipping forms) and for cov and corrcoef (`templates/statistics.py`).

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

cov: `cov_place` puts an argument (or its tangent) in the rows of the variables-by-observations
array numpy.cov builds, `cov_part` takes an adjoint back out (each the other's transpose);
`cov_weights` and `cov_scale` are NumPy's weights and normalization (constants);
`plus_transpose` symmetrizes a covariance's tangent. corrcoef: `corr_tangent` and its
transpose `corr_adjoint` carry a covariance's tangent to the correlations' (no rules: srcad
differentiates them from their source).
"""

import warnings

import numpy

from .backend import array_module

NAN_FORMS = ("nanmedian", "nanpercentile", "nanquantile")


def _rows(x, axis):
    """`x` with the reduced axes last, flattened into one: shape (rows..., n)."""
    if axis is None:
        return numpy.reshape(x, (-1,))
    ndim = numpy.ndim(x)
    axes = tuple(int(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    moved = numpy.moveaxis(x, axes, tuple(range(ndim - len(axes), ndim)))
    return numpy.reshape(moved, numpy.shape(moved)[:ndim - len(axes)] + (-1,))


def _unrows(r, a, axis):
    """The inverse of `_rows`: `r` (rows..., n) back in the shape of `a`."""
    shape, ndim = numpy.shape(a), numpy.ndim(a)
    if axis is None:
        return numpy.reshape(r, shape)
    axes = tuple(int(x) % ndim for x in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    kept = [n for i, n in enumerate(shape) if i not in axes]
    moved = numpy.reshape(r, tuple(kept) + tuple(shape[i] for i in axes))
    return numpy.moveaxis(moved, tuple(range(len(kept), ndim)), axes)


def _result_shape(a, axis, keepdims, q):
    """The shape of the result: q's shape, then a's shape without (or with ones at) `axis`."""
    shape, ndim = numpy.shape(a), numpy.ndim(a)
    axes = range(ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = {int(x) % ndim for x in axes} if ndim else set()
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape) if keepdims is True
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
        self.nan_rows = (numpy.any(numpy.isnan(ordered), axis=-1) if not skip
                         else array_module(ordered).zeros(ordered.shape[:-1], dtype=bool))


def _groups(ordered):
    """Each sorted entry's tie group: equal neighbours share one, numbered over all rows."""
    flat = numpy.reshape(ordered, (-1, ordered.shape[-1]))
    first = array_module(flat).ones((flat.shape[0], 1), dtype=bool)
    new = numpy.concatenate([first, flat[:, 1:] != flat[:, :-1]], axis=1)
    return numpy.reshape(numpy.cumsum(new) - 1, ordered.shape)


def _positions(ordered, skip, reducer, q, method, weights, order, axis, a):
    """The position `lo + w` in each sorted slice that `reducer` reads: `reducer` applied to
    the positions themselves (NaN where the sorted entry is NaN, for the NaN-skipping forms)."""
    places = numpy.broadcast_to(array_module(ordered).arange(ordered.shape[-1], dtype=float),
                                ordered.shape)
    if skip:
        places = numpy.where(numpy.isnan(ordered), numpy.nan, places)
    if reducer.__name__ in ("median", "nanmedian"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return reducer(places, axis=-1)
    options = {"method": method}
    if weights is not None:
        weights = array_module(ordered).asarray(weights, dtype=float)
        w = numpy.broadcast_to(_along(weights, a, axis), numpy.shape(a))
        options["weights"] = numpy.take_along_axis(_rows(w, axis), order, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return reducer(places, q, axis=-1, **options)


def _along(weights, a, axis):
    """`weights` shaped to broadcast against `a`: a 1-D weight per entry along one `axis`."""
    if numpy.ndim(weights) == 1 and numpy.ndim(a) > 1 and isinstance(axis, int):
        shape = [1] * numpy.ndim(a)
        shape[axis] = numpy.shape(weights)[0]
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
    start = numpy.reshape(array_module(frame.group).arange(0, count, max(frame.n, 1)),
                          numpy.shape(frame.group)[:-1])
    ordered = (numpy.bincount(numpy.ravel(start + frame.lo), numpy.ravel((1.0 - frame.w) * g),
                              minlength=count)
               + numpy.bincount(numpy.ravel(start + frame.hi), numpy.ravel(frame.w * g),
                                minlength=count))
    ordered = _tie_mean(numpy.reshape(ordered, numpy.shape(frame.group)), frame.group)
    rows = numpy.take_along_axis(ordered, numpy.argsort(frame.order, axis=-1), axis=-1)
    rows = numpy.where(frame.nan_rows[..., None], numpy.nan, rows)
    return _unrows(rows, a, axis)


# ---- cov and corrcoef ---------------------------------------------------------------------
# numpy.cov reads `m` and `y` as rows of variables by columns of observations (`rowvar=False`:
# transposed), stacks them into one array X, and gives (X - mean) W (X - mean)^T / fact.


def _ndmin2(shape):
    return (1,) * (2 - len(shape)) + tuple(shape) if len(shape) < 2 else tuple(shape)


def _transposed(like, rowvar, first):
    """Whether numpy.cov transposes `like` (`m` when `first`, else `y`)."""
    if rowvar:
        return False
    return numpy.ndim(like) != 1 if first else _ndmin2(numpy.shape(like))[0] != 1


def _row_counts(m, y, rowvar):
    """(rows of X from m, rows of X from y: 0 without y)."""
    def rows(like, first):
        shape = _ndmin2(numpy.shape(like))
        return shape[1] if _transposed(like, rowvar, first) else shape[0]
    return rows(m, True), (0 if y is None else rows(y, False))


def cov_place(t, m, y, rowvar, part):
    """`t` (shaped like `m` for `part` 0, like `y` for `part` 1) in the rows of X that
    numpy.cov(m, y, rowvar) makes of it, zeros in the others' rows; 0.0 for a `t` of None."""
    if t is None:
        return 0.0
    like = m if part == 0 else y
    piece = numpy.reshape(t, _ndmin2(numpy.shape(like)))
    if _transposed(like, rowvar, part == 0):
        piece = numpy.transpose(piece)
    first, second = _row_counts(m, y, rowvar)
    if second == 0:
        return piece
    return numpy.pad(piece, ((0, second), (0, 0)) if part == 0 else ((first, 0), (0, 0)))


def cov_part(g, m, y, rowvar, part):
    """The rows of `g` (shaped like X) that came from `m` (`part` 0) or `y` (`part` 1), in the
    shape of that argument: the transpose of `cov_place`."""
    like = m if part == 0 else y
    first, _ = _row_counts(m, y, rowvar)
    piece = g[:first] if part == 0 else g[first:]
    if _transposed(like, rowvar, part == 0):
        piece = numpy.transpose(piece)
    return numpy.reshape(piece, numpy.shape(like))


def cov_weights(x, fweights=None, aweights=None):
    """numpy.cov's weight of each observation (column of `x`): fweights times aweights.

    NumPy multiplies a float64 `fweights` array by `aweights` in place (its `w *= aweights`
    on `asarray(fweights, dtype=float)`), so after the call the array no longer holds the
    weights it used: an error, not a derivative for other weights."""
    if (aweights is not None and isinstance(fweights, numpy.ndarray)
            and fweights.dtype == numpy.float64):
        raise ValueError("numpy.cov has multiplied the float64 `fweights` array by `aweights` in "
                         "place (NumPy's own code), so srcad cannot tell the weights it used: "
                         "pass integer fweights (numpy.cov then copies them)")
    xp = array_module(x)
    w = xp.ones(numpy.shape(x)[1])
    for given in (fweights, aweights):
        if given is not None:
            w = w * xp.asarray(given, dtype=float)
    return w


def cov_scale(x, bias=False, ddof=None, fweights=None, aweights=None):
    """Each observation's weight over numpy.cov's normalization (`fact`), as NumPy sets it."""
    w = cov_weights(x, fweights, aweights)
    ddof = (0 if bias else 1) if ddof is None else ddof
    if fweights is None and aweights is None:
        fact = numpy.shape(x)[1] - ddof
    elif ddof == 0:
        fact = numpy.sum(w)
    elif aweights is None:
        fact = numpy.sum(w) - ddof
    else:
        fact = numpy.sum(w) - ddof * numpy.sum(w * array_module(x).asarray(
            aweights, dtype=float)) / numpy.sum(w)
    return w / fact if fact > 0 else w * numpy.inf        # NumPy: fact 0, an inf result


def plus_transpose(p, like):
    """`p + p^T` for a square `p` (of any shape holding k * k entries), shaped like `like`:
    the tangent of a covariance from `p = T S Xc^T`. Its own transpose."""
    k = round(numpy.size(p) ** 0.5)
    square = numpy.reshape(p, (k, k))
    return numpy.reshape(square + numpy.transpose(square), numpy.shape(like))


def corr_tangent(dc, r, v):
    """The tangent of the correlations `r` (k x k) along the covariances' tangent `dc`, for
    the variances `v`. No rule: srcad differentiates it from its source (calls NumPy only)."""
    h = numpy.diagonal(dc) / (2.0 * v)
    return dc / numpy.sqrt(numpy.outer(v, v)) - r * (numpy.reshape(h, (-1, 1)) + h)


def corr_adjoint(g, r, v):
    """The transpose of `corr_tangent` in `dc`, applied to the correlations' adjoint `g`. No
    rule: srcad differentiates it from its source (calls NumPy only)."""
    gr = g * r
    return g / numpy.sqrt(numpy.outer(v, v)) - numpy.diag(
        numpy.sum(gr + numpy.transpose(gr), axis=1) / (2.0 * v))


def refused(t, what):
    """0.0 for a derivative `t` that is zero (a constant argument's zeros, or a list of them);
    else raises: `t` reached an argument (`what`) that srcad's rules take as a constant. The
    rules of the helpers name such arguments in a term of their own, so that a derivative
    reaching one (a gradient differentiated again in `q`, say) is an error, never dropped."""
    parts = t if isinstance(t, (list, tuple)) else [t]
    if any(numpy.any(part != 0) for part in parts):
        raise ValueError(f"srcad has no derivative in {what}: it differentiates these calls "
                         "only with a constant there")
    return 0.0
