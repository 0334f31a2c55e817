"""Rules for reductions: sum, mean, prod, max/amax, min/amin, var, std, cumsum and
numpy.linalg.norm, as functions and (except norm) as ndarray methods (`x.sum(axis=1)`), in both
modes, for `axis` None, an int (negative too) or a tuple, and `keepdims`.

Python's `sum` of a list or tuple of arrays and numbers (and `start`) gives each item the
result's adjoint, summed back to the item's shape; `sum` of an array's rows is an error that
points to numpy.sum.

`unreduce(g, x, axis, keepdims)` spreads an adjoint back over the reduced axes. Conventions:
max and min share the derivative equally among the entries that attain the extremum; prod is
exact where entries are zero (`prod_others`); std has no derivative where the deviation of
several entries is zero (it gives inf/nan there, as its square root does), and the derivative 0
of the std of one entry (`std_divisor`: autograd's and PyTorch's limit); norm follows NumPy's
meaning of `ord` for vectors and matrices and is 0 at a zero vector.

Arguments without a rule parameter (`where=`, `initial=` of prod/max/min, `correction=`, `mean=`)
are rejected with an error that names the rule, rather than differentiated wrongly.
"""

import builtins

import numpy

from srcad import runtime
from srcad.rules import (
    adjoint,
    d,
    linear,
    reduction,
    returns_sequence,
    shape,
    tangent,
    without_derivative,
)
from srcad.runtime import (
    broadcast_as,
    extremum_adjoint,
    extremum_tangent,
    norm_derivative,
    prod_others,
    sum_adjoint,
    unbroadcast,
    unreduce,
)
from srcad.runtime_exact import std_divisor
from srcad.shape_rules import UNKNOWN_LITERAL, literal

returns_sequence(runtime.sum_adjoint)

# ---- what reduces, and to what shape -------------------------------------------------------

REDUCTIONS = (numpy.sum, numpy.ndarray.sum, numpy.mean, numpy.ndarray.mean, numpy.prod,
              numpy.ndarray.prod, numpy.max, numpy.amax, numpy.ndarray.max, numpy.min,
              numpy.amin, numpy.ndarray.min, numpy.var, numpy.ndarray.var, numpy.std,
              numpy.ndarray.std)
reduction(*REDUCTIONS)


@shape(*REDUCTIONS)
def reduction_shape(shapes, a, /, axis=None, *, keepdims=None):
    """Constant `axis` (None, an int or a tuple) and `keepdims`."""
    dims, axis, keepdims = shapes.shape(a), literal(axis), literal(keepdims)
    if axis is None and keepdims in (False, None):
        return ()                                   # a full reduction: a scalar
    if dims is None or axis is UNKNOWN_LITERAL or keepdims not in (True, False, None):
        return None
    axes = range(len(dims)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    try:
        axes = {int(a) % len(dims) for a in axes} if dims else set()
    except (TypeError, ZeroDivisionError):
        return None
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(dims))
    return tuple(n for i, n in enumerate(dims) if i not in axes)


@shape(numpy.var, numpy.ndarray.var, numpy.std, numpy.ndarray.std)
def spread_shape(shapes, a, /, axis=None, *, ddof=None, keepdims=None):
    """As `reduction_shape`; `ddof` does not change the shape."""
    return reduction_shape(shapes, a, axis, keepdims=keepdims)


# ---- sum and mean ----------------------------------------------------------------------------


@adjoint(numpy.sum)
@adjoint(numpy.ndarray.sum)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False, initial=0):
    d[a] += unreduce(d[y], a, axis, keepdims)


@tangent(numpy.sum)
@tangent(numpy.ndarray.sum)
def sum(y, a, axis=None, dtype=None, out=None, keepdims=False, initial=0):
    d[y] = numpy.sum(d[a], axis, keepdims=keepdims)


@adjoint(numpy.mean)
@adjoint(numpy.ndarray.mean)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += unreduce(d[y], a, axis, keepdims) * (numpy.size(y) / numpy.size(a))


@tangent(numpy.mean)
@tangent(numpy.ndarray.mean)
def mean(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = numpy.mean(d[a], axis, keepdims=keepdims)


# ---- product ---------------------------------------------------------------------------------


@adjoint(numpy.prod)
@adjoint(numpy.ndarray.prod)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] += unreduce(d[y], a, axis, keepdims) * prod_others(a, y, axis, keepdims)


@tangent(numpy.prod)
@tangent(numpy.ndarray.prod)
def prod(y, a, axis=None, dtype=None, out=None, keepdims=False):
    d[y] = numpy.sum(d[a] * prod_others(a, y, axis, keepdims), axis, keepdims=keepdims)


# ---- extrema ---------------------------------------------------------------------------------


@adjoint(numpy.max)
@adjoint(numpy.amax)
@adjoint(numpy.ndarray.max)
def max(y, a, axis=None, out=None, keepdims=False):
    d[a] += extremum_adjoint(d[y], a, y, axis, keepdims)


@tangent(numpy.max)
@tangent(numpy.amax)
@tangent(numpy.ndarray.max)
def max(y, a, axis=None, out=None, keepdims=False):
    d[y] = extremum_tangent(d[a], a, y, axis, keepdims)


@adjoint(numpy.min)
@adjoint(numpy.amin)
@adjoint(numpy.ndarray.min)
def min(y, a, axis=None, out=None, keepdims=False):
    d[a] += extremum_adjoint(d[y], a, y, axis, keepdims)


@tangent(numpy.min)
@tangent(numpy.amin)
@tangent(numpy.ndarray.min)
def min(y, a, axis=None, out=None, keepdims=False):
    d[y] = extremum_tangent(d[a], a, y, axis, keepdims)


# ---- variance and standard deviation ---------------------------------------------------------


@adjoint(numpy.var)
@adjoint(numpy.ndarray.var)
def var(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - numpy.mean(a, axis, keepdims=True)
    count = numpy.size(a) / numpy.size(y) - ddof
    d[a] += unreduce(d[y], a, axis, keepdims) * centered * (2.0 / count)


@tangent(numpy.var)
@tangent(numpy.ndarray.var)
def var(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - numpy.mean(a, axis, keepdims=True)
    count = numpy.size(a) / numpy.size(y) - ddof
    d[y] = numpy.sum(d[a] * centered, axis, keepdims=keepdims) * (2.0 / count)


@adjoint(numpy.std)
@adjoint(numpy.ndarray.std)
def std(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - numpy.mean(a, axis, keepdims=True)
    count = numpy.size(a) / numpy.size(y) - ddof
    d[a] += unreduce(d[y] / std_divisor(y, a, count), a, axis, keepdims) * centered


@tangent(numpy.std)
@tangent(numpy.ndarray.std)
def std(y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centered = a - numpy.mean(a, axis, keepdims=True)
    count = numpy.size(a) / numpy.size(y) - ddof
    d[y] = numpy.sum(d[a] * centered, axis, keepdims=keepdims) / std_divisor(y, a, count)


# ---- cumulative sum --------------------------------------------------------------------------


@adjoint(numpy.cumsum)
@adjoint(numpy.ndarray.cumsum)
def cumsum(y, a, axis=None, dtype=None, out=None):
    d[a] += numpy.flip(numpy.cumsum(numpy.flip(d[y], axis), axis), axis).reshape(numpy.shape(a))


@tangent(numpy.cumsum)
@tangent(numpy.ndarray.cumsum)
def cumsum(y, a, axis=None, dtype=None, out=None):
    d[y] = numpy.cumsum(d[a], axis)


# ---- Python's sum of a list or tuple ----------------------------------------------------------


@adjoint(builtins.sum)
def builtin_sum(y, iterable, start=0):
    d[iterable] += sum_adjoint(d[y], iterable)
    d[start] += unbroadcast(d[y], start)


@tangent(builtins.sum)
def builtin_sum(y, iterable, start=0):
    d[y] = broadcast_as(builtins.sum(d[iterable]) + d[start], y)


# ---- norms -----------------------------------------------------------------------------------


@adjoint(numpy.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[x] += unreduce(d[y], x, axis, keepdims) * norm_derivative(x, y, ord, axis, keepdims)


@tangent(numpy.linalg.norm)
def norm(y, x, ord=None, axis=None, keepdims=False):
    d[y] = numpy.sum(d[x] * norm_derivative(x, y, ord, axis, keepdims), axis, keepdims=keepdims)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


without_derivative(runtime.sum_adjoint, "items")


@linear(runtime.sum_adjoint)
def sum_adjoint_(out, g, items):
    return broadcast_as(builtins.sum(d[out]), g)
