"""Run-time helpers that make derivatives exact where the plain formula is not: the finite
limits of `x ** y` at `y == 0` and of the standard deviation of one element, writes through
an index array that names a position more than once (NumPy keeps the last write), and the
derivative of the determinant at a singular matrix (the cofactor matrix, not `det * inv^T`).

In: the values a derivative template passes (the primal's arguments and result, an adjoint).
Out: the factor or the adjoint piece the template needs; each is linear in its derivative
argument, and has its own rules in templates/generated_code.py so that generated code calling
it can be differentiated again.
"""

import numpy

from .backend import any_lazy
from .errors import SrcadError
from .runtime import Pieces


def power_slope(x, y, scale=1):
    """`scale * y * x ** (y - 1)`, the derivative of `scale * x ** y` in `x`, with its limit 0
    where `scale * y == 0` (`x ** 0` is 1 for every x, 0 included, where the formula would
    give 0 * inf). Its own derivative in `x` is `power_slope(x, y - 1, scale * y)`."""
    if type(x) is float and type(y) in (int, float) and type(scale) in (int, float) and (
            x != 0 or y >= 1):                 # Python numbers (a loop of scalar code): fast
        return 0.0 if y == 0 or scale == 0 else scale * y * x ** (y - 1)
    factor = numpy.multiply(scale, y)
    with numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = factor * numpy.power(x, numpy.subtract(y, 1))
    if isinstance(factor, (int, float, numpy.generic)) and isinstance(
            slope, (float, numpy.generic)):                 # numbers: no array from `where`
        return slope if factor != 0 else type(slope)(0.0)
    return numpy.where(numpy.equal(factor, 0), 0.0, slope)   # (no test of a device array)


def power_exponent_slope(x, y, scale=1):
    """`scale * x ** (y - 1) * (1 + y * log x)`, the derivative of `power_slope(x, y, scale)`
    in `y` (the logarithm taken as 0 where `x <= 0`, as for the derivative of `x ** y` in
    `y`), 0 where `scale == 0`."""
    with numpy.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log = numpy.log(numpy.where(numpy.greater(x, 0), x, 1))
        value = scale * numpy.power(x, numpy.subtract(y, 1)) * (1 + y * log)
    return numpy.where(numpy.equal(scale, 0), 0.0, value)


def std_divisor(y, a, count):
    """`y * count`, what the derivative of `y = std(a)` divides by; 1 where each entry of `y`
    is the deviation of one element of `a`: that derivative is then exactly 0 (the centered
    value it multiplies is 0), the finite limit autograd and PyTorch give, not 0 / 0."""
    if numpy.size(a) != numpy.size(y):
        return y * count
    return numpy.ones_like(y * count)


def spread_counts(y, a):
    """1 where `y = std(a)` reduces more than one element into each entry, else 0: how much
    of a change in `y` reaches `std_divisor(y, a, count)`."""
    return 1.0 if numpy.size(a) != numpy.size(y) else 0.0


def last_writes(g, index):
    """`g[index]`, with 0 at each position of the index that a later position overwrites:
    the adjoint of the value in `y[index] = value` when the index names an entry more than
    once (`y[[0, 0, 1]] = v`), where NumPy keeps the last write. Which write survives is found
    by NumPy itself, writing the positions' numbers through the same index."""
    part = g[index]
    if _is_basic_index(index):                # slices and integers name each entry once
        return part
    ids = numpy.reshape(numpy.cumsum(numpy.ones_like(part, dtype=numpy.intp)), part.shape) - 1
    winner = numpy.full_like(g, -1, dtype=numpy.intp)
    winner[index] = ids
    return numpy.where(winner[index] == ids, part, numpy.zeros_like(part))


def _is_basic_index(index):
    """True for an index of integers, slices, None and Ellipsis, or one boolean mask."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice))
               or (hasattr(p, "dtype") and p.dtype == bool and len(parts) == 1)
               for p in parts)


def det_cofactor(a, y):
    """The cofactor matrix of `a` (of each matrix of a stack; `y` is `det(a)`): the
    derivative of the determinant, `y * inv(a)^T` where `a` is invertible, and from the SVD
    `a = U S V^T` (cofactors `det(U) det(V) U diag(prod of the other s) V^T`) where not."""
    try:
        inverse = numpy.linalg.inv(a)
    except numpy.linalg.LinAlgError:
        u, s, vh = numpy.linalg.svd(a)
        n = s.shape[-1]
        others = numpy.prod(numpy.where(numpy.eye(n, dtype=bool), 1.0, s[..., None, :]), -1)
        sign = numpy.linalg.det(u) * numpy.linalg.det(vh)
        return numpy.expand_dims(sign, (-2, -1)) * (u * others[..., None, :]) @ vh
    return numpy.expand_dims(y, (-2, -1)) * numpy.swapaxes(inverse, -1, -2)


def inverse_transpose(a):
    """`inv(a)^T` (of each matrix of a stack), for the second derivative of the determinant,
    which srcad gives at invertible matrices only: a singular one is a clear error."""
    try:
        return numpy.swapaxes(numpy.linalg.inv(a), -1, -2)
    except numpy.linalg.LinAlgError:
        raise SrcadError("srcad differentiates numpy.linalg.det twice only at invertible "
                         "matrices; this one is singular") from None


def cofactor_slope(a, y, t):
    """`y * inv(a)^T t^T inv(a)^T`: minus the derivative of `det_cofactor(a, y)` in `a` along
    `t` (with `y` held), and the same map transposed."""
    inverse_t = inverse_transpose(a)
    return numpy.expand_dims(y, (-2, -1)) * (inverse_t @ numpy.swapaxes(t, -1, -2) @ inverse_t)


def summable(x):
    """`x` as a value whose `+` adds item by item, as derivatives of containers do: `Pieces`
    for a list or tuple, `DictPieces` for a dict, `x` itself for an array or a number (the
    tangent of `add_sequences`, whose terms may each be zero, that is, left out)."""
    if isinstance(x, (list, tuple)):
        return Pieces(summable(item) for item in x)
    if isinstance(x, dict):
        return DictPieces({key: summable(item) for key, item in x.items()})
    return x


class DictPieces(dict):
    """A dict of derivatives that adds key by key (`p + q`)."""

    def __add__(self, other):
        return DictPieces({key: self[key] + other[key] for key in self})

    __radd__ = __add__


def values_of(g, keys):
    """`[g[key] for key in keys]`: the adjoints of the values of a dict literal, from the
    adjoint `g` of the dict (a function of its own, which has rules: a comprehension in
    generated code could not be differentiated again)."""
    return [g[key] for key in keys]


def stack_like(pieces, g):
    """The adjoint `pieces` of `array_adjoint(g, a)` (in the form of `a`: nested lists of
    arrays or numbers) stacked back into the shape of `g`, in the array library of its items
    (its transpose)."""
    return numpy.reshape(_stacked(pieces), numpy.shape(g))


def _stacked(pieces):
    if isinstance(pieces, (list, tuple)):
        return numpy.stack([_stacked(piece) for piece in pieces])
    return pieces



def clip_source(a, low=None, high=None, low_kw=None, high_kw=None):
    """Which operand each element of `numpy.clip(a, low, high)` comes from: 0 for `a`, 1 for
    the lower bound, 2 for the upper one, as NumPy computes it (`minimum(maximum(a, low),
    high)`: where the lower bound exceeds the upper one, the upper one). `low_kw`/`high_kw`
    are the `min=`/`max=` spellings; a bound left out is None."""
    low = low if low_kw is None else low_kw
    high = high if high_kw is None else high_kw
    source = numpy.zeros(numpy.shape(a), dtype=numpy.int8) if not hasattr(a, "shape") else \
        numpy.zeros_like(a, dtype=numpy.int8)
    floor = a
    if low is not None:
        source = numpy.where(numpy.less(a, low), numpy.int8(1), source)
        floor = numpy.maximum(a, low)
    if high is not None:
        source = numpy.where(numpy.greater(floor, high), numpy.int8(2), source)
    return source


def scan(a, b, axis=None):
    """`z` with `z[k] = a[k] * z[k-1] + b[k]` along `axis` (`z[-1]` is 0; None: the last axis
    of the 1-D values `cumprod(a)` without an axis gives): the tangent of a cumulative product
    is `scan(a, shifted(y, axis, 1.0) * da)`, with no division by `a`, so it is exact where an
    entry is 0. Linear in `b`; `scan_back` is its transpose. A Dask array stays a graph."""
    a, b = numpy.broadcast_arrays(a, b)
    axis = -1 if axis is None else axis
    if not any_lazy((a, b)):
        with numpy.errstate(all="ignore"):
            products = numpy.cumprod(a, axis=axis)
            if numpy.all(numpy.abs(products) >= numpy.finfo(float).tiny):   # no 0, no
                z = products * numpy.cumsum(b / products, axis=axis)      # underflow
                if numpy.all(numpy.isfinite(z) | ~numpy.isfinite(b)):
                    return z
    steps, terms = numpy.moveaxis(a, axis, 0), numpy.moveaxis(b, axis, 0)
    z = []
    for k in range(terms.shape[0]):
        z.append(terms[k] if k == 0 else steps[k] * z[-1] + terms[k])
    return numpy.stack(z, axis=axis % max(numpy.ndim(b), 1)) if z else b * 1.0


def scan_back(a, b, axis=None):
    """`z` with `z[k] = a[k+1] * z[k+1] + b[k]` along `axis` (the last `z` is `b`'s): the
    transpose of `scan(a, ., axis)`, run from the end."""
    axis = -1 if axis is None else axis
    return numpy.flip(scan(numpy.flip(shifted_back(a, axis, 1.0), axis),
                           numpy.flip(b, axis), axis), axis)


def shifted(y, axis=None, fill=0.0):
    """`y` moved one place along `axis` (None: the last): `out[k] = y[k-1]`, `out[0] = fill`.
    Its derivative is `shifted` of the derivative with fill 0; `shifted_back` is its
    transpose."""
    return _moved(y, axis, fill, back=False)


def shifted_back(y, axis=None, fill=0.0):
    """`y` moved one place back along `axis`: `out[k] = y[k+1]`, the last `out` is `fill`."""
    return _moved(y, axis, fill, back=True)


def _moved(y, axis, fill, back):
    axis = (-1 if axis is None else axis) % max(numpy.ndim(y), 1)
    y = y if hasattr(y, "ndim") else numpy.asarray(y)
    before = (slice(None),) * axis
    kept = y[before + ((slice(1, None),) if back else (slice(None, -1),))]
    edge = numpy.full_like(y[before + (slice(0, 1),)], fill,
                           dtype=y.dtype if y.dtype.kind in "fc" else float)
    return numpy.concatenate([kept, edge] if back else [edge, kept], axis=axis)
