"""Cases for the elementwise rules in templates/elementwise.py.

References (`vjp=`) are the textbook derivatives written in plain NumPy. Functions with kinks
(abs, maximum, minimum, clip, where) draw values that stay a fixed distance away from them.
"""

import math

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.support.cases import (
    POSITIVE,
    REAL,
    UNIT,
    args,
    arrays,
    broadcast_args,
    case,
    scalars,
    sum_to,
)


def grid(low, high, step=0.25, offset=0.0):
    """Floats `k * step + offset` within [low, high]: values from two grids whose offsets
    differ (mod step) never come closer than that difference."""
    first = math.ceil((low - offset) / step)
    last = math.floor((high - offset) / step)
    return st.integers(first, last).map(lambda k: k * step + offset)


def away_from_zero(low=-2.0, high=2.0, gap=0.2):
    return st.floats(low, high, allow_nan=False, width=64).filter(lambda v: abs(v) > gap)


def broadcast_elements(*elements, max_dims=3, max_side=4):
    """Strategy for a tuple of arrays with mutually broadcastable shapes, the i-th array's
    entries drawn from `elements[i]`."""
    def build(shapes):
        return st.tuples(*(hnp.arrays(numpy.float64, s, elements=e)
                           for s, e in zip(shapes.input_shapes, elements)))
    return hnp.mutually_broadcastable_shapes(
        num_shapes=len(elements), min_dims=0, max_dims=max_dims,
        max_side=max_side).flatmap(build)


def shifted_pair():
    """Two broadcastable arrays that never tie (their values lie on offset grids)."""
    return broadcast_elements(grid(-2.0, 2.0, offset=0.1), grid(-2.0, 2.0))


# ---- exponentials and logarithms -------------------------------------------------------------


@case(numpy.exp, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.exp(x),))
def exp(x):
    return numpy.exp(x)


@case(numpy.exp, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.exp(x),))
def exp_scalar(x):
    return numpy.exp(x)


@case(numpy.exp2, args=args(arrays(REAL)), vjp=lambda u, x: (u * 2.0 ** x * math.log(2.0),))
def exp2(x):
    return numpy.exp2(x)


@case(numpy.expm1, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.exp(x),))
def expm1(x):
    return numpy.expm1(x)


@case(numpy.log, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u / x,))
def log(x):
    return numpy.log(x)


@case(numpy.log2, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u / (x * math.log(2.0)),))
def log2(x):
    return numpy.log2(x)


@case(numpy.log10, args=args(arrays(POSITIVE)),
      vjp=lambda u, x: (u / (x * math.log(10.0)),))
def log10(x):
    return numpy.log10(x)


@case(numpy.log1p, args=args(arrays((-0.5, 2.0))), vjp=lambda u, x: (u / (1.0 + x),))
def log1p(x):
    return numpy.log1p(x)


def _logaddexp_vjp(u, x, y):
    total = numpy.exp(x) + numpy.exp(y)
    return sum_to(u * numpy.exp(x) / total, x.shape), sum_to(u * numpy.exp(y) / total, y.shape)


@case(numpy.logaddexp, args=broadcast_args(REAL, REAL), vjp=_logaddexp_vjp)
def logaddexp(x, y):
    return numpy.logaddexp(x, y)


@case(numpy.logaddexp, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (u * 200.0 * (1.0 + numpy.tanh(200.0 * x)),))
def logaddexp_large(x):
    return numpy.logaddexp(x * 400.0, 0.0)      # exp(x * 400) would overflow


# ---- powers and roots ------------------------------------------------------------------------


@case(numpy.sqrt, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u / (2.0 * numpy.sqrt(x)),))
def sqrt(x):
    return numpy.sqrt(x)


@case(numpy.square, args=args(arrays(REAL)), vjp=lambda u, x: (2.0 * x * u,))
def square(x):
    return numpy.square(x)


@case(numpy.reciprocal, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (-u / x ** 2,))
def reciprocal(x):
    return numpy.reciprocal(x)


def _power_vjp(u, x, y):
    return (sum_to(u * y * x ** (y - 1.0), x.shape),
            sum_to(u * x ** y * numpy.log(x), y.shape))


@case(numpy.power, args=broadcast_args(POSITIVE, REAL), vjp=_power_vjp)
def power(x, y):
    return numpy.power(x, y)


@case((numpy.power, "constant"), args=args(arrays(REAL)), vjp=lambda u, x: (3.0 * x ** 2 * u,))
def power_constant(x):
    return numpy.power(x, 3)


@case(numpy.power, args=args(arrays(REAL), st.sampled_from([0, 1, 2])), wrt=0,
      vjp=lambda u, x, n: (n * x ** max(n - 1, 0) * u,))
def power_integer(x, n):
    return numpy.power(x, n)


# ---- trigonometric ---------------------------------------------------------------------------


@case(numpy.sin, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.cos(x),))
def sin(x):
    return numpy.sin(x)


@case(numpy.cos, args=args(arrays(REAL)), vjp=lambda u, x: (-u * numpy.sin(x),))
def cos(x):
    return numpy.cos(x)


@case(numpy.tan, args=args(arrays((-1.2, 1.2))), vjp=lambda u, x: (u / numpy.cos(x) ** 2,))
def tan(x):
    return numpy.tan(x)


@case(numpy.arcsin, args=args(arrays(UNIT)), vjp=lambda u, x: (u / numpy.sqrt(1.0 - x ** 2),))
def arcsin(x):
    return numpy.arcsin(x)


@case(numpy.arccos, args=args(arrays(UNIT)),
      vjp=lambda u, x: (-u / numpy.sqrt(1.0 - x ** 2),))
def arccos(x):
    return numpy.arccos(x)


@case(numpy.arctan, args=args(arrays(REAL)), vjp=lambda u, x: (u / (1.0 + x ** 2),))
def arctan(x):
    return numpy.arctan(x)


def _arctan2_vjp(u, y, x):
    r2 = x ** 2 + y ** 2
    return sum_to(u * x / r2, y.shape), sum_to(-u * y / r2, x.shape)


@case(numpy.arctan2, args=broadcast_elements(away_from_zero(), away_from_zero()),
      vjp=_arctan2_vjp)
def arctan2(y, x):
    return numpy.arctan2(y, x)


@case(numpy.arctan2, args=args(hnp.arrays(numpy.float64, (2,), elements=away_from_zero())),
      vjp=lambda u, x: (u * numpy.array([1.0, -1.0]) * x[::-1] / numpy.sum(x ** 2),))
def arctan2_tiny(x):
    return numpy.arctan2(x[0] * 1e-200, x[1] * 1e-200)   # x ** 2 would underflow


def _hypot_vjp(u, x, y):
    r = numpy.sqrt(x ** 2 + y ** 2)
    return sum_to(u * x / r, x.shape), sum_to(u * y / r, y.shape)


@case(numpy.hypot, args=broadcast_elements(away_from_zero(), away_from_zero()), vjp=_hypot_vjp)
def hypot(x, y):
    return numpy.hypot(x, y)


# ---- hyperbolic ------------------------------------------------------------------------------


@case(numpy.sinh, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.cosh(x),))
def sinh(x):
    return numpy.sinh(x)


@case(numpy.cosh, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.sinh(x),))
def cosh(x):
    return numpy.cosh(x)


@case(numpy.tanh, args=args(arrays(REAL)), vjp=lambda u, x: (u / numpy.cosh(x) ** 2,))
def tanh(x):
    return numpy.tanh(x)


# ---- ufunc forms of the operators ------------------------------------------------------------


@case(numpy.add, args=broadcast_args(REAL, REAL),
      vjp=lambda u, x, y: (sum_to(u, x.shape), sum_to(u, y.shape)))
def add(x, y):
    return numpy.add(x, y)


@case(numpy.add, args=args(arrays(REAL, min_dims=1), scalars(REAL)))
def add_one_active(x, s):
    return numpy.add(x, 2.0) * numpy.add(1.5, s)


@case(numpy.subtract, args=broadcast_args(REAL, REAL),
      vjp=lambda u, x, y: (sum_to(u, x.shape), -sum_to(u, y.shape)))
def subtract(x, y):
    return numpy.subtract(x, y)


@case(numpy.subtract, args=args(arrays(REAL, min_dims=1), scalars(REAL)))
def subtract_one_active(x, s):
    return numpy.subtract(x, 2.0) * numpy.subtract(1.5, s)


@case(numpy.multiply, args=broadcast_args(REAL, REAL),
      vjp=lambda u, x, y: (sum_to(u * y, x.shape), sum_to(u * x, y.shape)))
def multiply(x, y):
    return numpy.multiply(x, y)


@case(numpy.divide, args=broadcast_elements(away_from_zero(), away_from_zero()),
      vjp=lambda u, x, y: (sum_to(u / y, x.shape), sum_to(-u * x / y ** 2, y.shape)))
def divide(x, y):
    return numpy.divide(x, y)


@case(numpy.true_divide, args=args(arrays(REAL), scalars(POSITIVE)),
      vjp=lambda u, x, s: (u / s, numpy.sum(-u * x / s ** 2)))
def true_divide(x, s):
    return numpy.true_divide(x, s)


@case(numpy.negative, args=args(arrays(REAL)), vjp=lambda u, x: (-u,))
def negative(x):
    return numpy.negative(x)


# ---- piecewise: abs, maximum, minimum, where, clip -------------------------------------------


@case(numpy.absolute, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * numpy.where(x > 0, 1.0, -1.0),))
def abs_(x):
    return numpy.abs(x)


@case(numpy.absolute, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * numpy.where(x > 0, 1.0, -1.0),))
def absolute(x):
    return numpy.absolute(x)


@case(abs, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * numpy.where(x > 0, 1.0, -1.0),))
def builtin_abs(x):
    return abs(x)


@case(abs, args=args(away_from_zero()), vjp=lambda u, x: (u * math.copysign(1.0, x),))
def builtin_abs_scalar(x):
    return abs(x)


@case(numpy.maximum, args=shifted_pair(),
      vjp=lambda u, x, y: (sum_to(u * (x > y), x.shape), sum_to(u * (x < y), y.shape)))
def maximum(x, y):
    return numpy.maximum(x, y)


@case((numpy.maximum, "number"), args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * (x > 0),))
def relu(x):
    return numpy.maximum(x, 0.0)


@case((numpy.maximum, "number"), args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * (x > 0),))
def relu_number_first(x):
    return numpy.maximum(0, x)


@case((numpy.minimum, "number"), args=broadcast_elements(grid(-2.0, 2.0, offset=0.1)),
      vjp=lambda u, x: (u * (x < 0.5),))
def minimum_number(x):
    return numpy.minimum(x, 0.5)


@case((numpy.minimum, "number"), args=broadcast_elements(grid(-2.0, 2.0, offset=0.1)),
      vjp=lambda u, x: (u * (x < -0.5),))
def minimum_number_first(x):
    return numpy.minimum(-0.5, x)


@case(numpy.minimum, args=shifted_pair(),
      vjp=lambda u, x, y: (sum_to(u * (x < y), x.shape), sum_to(u * (x > y), y.shape)))
def minimum(x, y):
    return numpy.minimum(x, y)


def _where_vjp(u, c, x, y):
    u = numpy.broadcast_to(u, numpy.broadcast_shapes(c.shape, x.shape, y.shape))
    return sum_to(u * (c > 0), x.shape), sum_to(u * (c <= 0), y.shape)


@case(numpy.where, args=broadcast_args(REAL, REAL, REAL), wrt=(1, 2), vjp=_where_vjp)
def where(c, x, y):
    return numpy.where(c > 0, x, y)


@case(numpy.where, args=args(hnp.arrays(numpy.float64, hnp.array_shapes(max_dims=2),
                                       elements=grid(0.3, 2.5, offset=0.1))),
      vjp=lambda u, x: (u * (x > 1),))
def where_constant_branch(x):
    return numpy.where(x > 1, x, 0.0)


def _clip_vjp(u, x, low, high):
    inside = (x >= low) & (x <= high)
    u = numpy.broadcast_to(u, numpy.broadcast_shapes(x.shape, low.shape, high.shape))
    return (sum_to(u * inside, x.shape), sum_to(u * (x < low), low.shape),
            sum_to(u * (x > high), high.shape))


@case(numpy.clip, args=broadcast_elements(grid(-3.0, 3.0, offset=0.1), grid(-2.0, -0.25),
                                          grid(0.25, 2.0)), vjp=_clip_vjp)
def clip(x, low, high):
    return numpy.clip(x, low, high)


@case(numpy.clip, args=args(hnp.arrays(numpy.float64, hnp.array_shapes(max_dims=2),
                                       elements=grid(-2.0, 2.0, offset=0.1))),
      vjp=lambda u, x: (u * (x > -0.5),))
def clip_below(x):
    return numpy.clip(x, -0.5, None)


@case(numpy.clip, args=broadcast_elements(grid(-2.0, 2.0, offset=0.1), grid(0.0, 1.0)),
      vjp=lambda u, x, high: (sum_to(u * ((x >= -1.0) & (x <= high)), x.shape),
                              sum_to(u * (x > high), high.shape)))
def clip_keywords(x, high):
    return numpy.clip(x, min=-1.0, max=high)


@case(numpy.ndarray.clip, args=broadcast_elements(grid(-3.0, 3.0, offset=0.1),
                                                  grid(-2.0, -0.25), grid(0.25, 2.0)),
      vjp=_clip_vjp)
def clip_method(x, low, high):
    return numpy.asarray(x).clip(low, high)


@case(numpy.ndarray.clip, args=args(hnp.arrays(numpy.float64, hnp.array_shapes(max_dims=2),
                                               elements=grid(-2.0, 2.0, offset=0.1))),
      vjp=lambda u, x: (u * (x < 1.0),))
def clip_method_max(x):
    return x.clip(max=1.0)


# ---- casts and copies ------------------------------------------------------------------------


@case(numpy.float64, args=args(scalars(REAL)), vjp=lambda u, x: (2.0 * u,))
def float64_scalar(x):
    return numpy.float64(x) * 2.0


@case(numpy.float64, args=args(arrays(REAL)), vjp=lambda u, x: (u,))
def float64_array(x):
    return numpy.float64(x)


@case(float, args=args(arrays(REAL, shape=())), vjp=lambda u, x: (u,))
def float_(x):
    return float(x)


@case(float, args=args(arrays(REAL, shape=(3,))), vjp=lambda u, x: (numpy.array([0, u, 0]),))
def float_item(x):
    return float(x[1]) * 1.0


@case(numpy.asarray, args=args(arrays(REAL)), vjp=lambda u, x: (u,))
def asarray(x):
    return numpy.asarray(x)


@case(numpy.asarray, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(2, 3))),
      vjp=lambda u, x, y: (u[0], u[1]))
def asarray_list(x, y):
    return numpy.asarray([x, y])


@case(numpy.array, args=args(arrays(REAL)), vjp=lambda u, x: (u,))
def array(x):
    return numpy.array(x)


@case(numpy.array, args=args(scalars(REAL), scalars(REAL)),
      vjp=lambda u, a, b: (u[0] + u[2], u[1]))
def array_of_scalars(a, b):
    return numpy.array([a, b, a])


@case(numpy.array, args=args(scalars(REAL), arrays(REAL, shape=())),
      vjp=lambda u, a, b: (u[0, 0] + u[1, 1], u[0, 1] + u[1, 0]))
def array_nested(a, b):
    return numpy.array([[a, b], [b, a]])


@case(numpy.array, args=args(arrays(REAL, max_dims=2)),
      vjp=lambda u, x: (u.reshape(x.shape),))
def array_ndmin(x):
    return numpy.array(x, ndmin=3)


@case(numpy.ndarray.copy, args=args(arrays(REAL)), vjp=lambda u, x: (u,))
def copy(x):
    return x.copy()


@case(numpy.ndarray.astype, args=args(arrays(REAL)), vjp=lambda u, x: (2.0 * u,))
def astype(x):
    return x.astype(numpy.longdouble) * 2.0


@case(numpy.ndarray.astype, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.cos(x),))
def astype_same(x):
    return numpy.sin(x.astype(float))


@case(numpy.ndarray.item, args=args(arrays(REAL, shape=(1, 1))),
      vjp=lambda u, x: (numpy.full((1, 1), 3.0 * u),))
def item(x):
    return x.item() * 3.0


@case(numpy.ndarray.item, float, args=args(arrays(REAL, shape=())),
      vjp=lambda u, x: (u * 2.0 * x,))
def item_and_float_of_0d(x):
    return x.item() * float(x)


# ---- more elementwise functions ----------------------------------------------------------------


@case(numpy.arcsinh, math.asinh, args=args(scalars(REAL)),
      vjp=lambda u, x: (u / math.sqrt(x * x + 1.0) * 2.0,))
def arcsinh_scalar(x):
    return numpy.arcsinh(x) + math.asinh(x)


@case(numpy.arcsinh, args=args(arrays(REAL)), vjp=lambda u, x: (u / numpy.sqrt(x * x + 1.0),))
def arcsinh(x):
    return numpy.asinh(x)


@case(numpy.arccosh, math.acosh, args=args(scalars((1.2, 3.0))),
      vjp=lambda u, x: (2.0 * u / math.sqrt(x * x - 1.0),))
def arccosh_scalar(x):
    return numpy.arccosh(x) + math.acosh(x)


@case(numpy.arctanh, math.atanh, args=args(scalars(UNIT)),
      vjp=lambda u, x: (2.0 * u / (1.0 - x * x),))
def arctanh_scalar(x):
    return numpy.arctanh(x) + math.atanh(x)


@case(numpy.arccosh, numpy.arctanh, args=args(arrays(UNIT)),
      vjp=lambda u, x: (u * (x / numpy.sqrt((x * x + 4.0) * (x * x + 3.0))
                             + 1.0 / (1.0 - x * x)),))
def arccosh_arctanh(x):
    return numpy.acosh(numpy.sqrt(x * x + 4.0)) + numpy.atanh(x)


@case(numpy.deg2rad, numpy.radians, math.radians, numpy.rad2deg, numpy.degrees, math.degrees,
      args=args(scalars(REAL)), vjp=lambda u, x: (u * (3.0 * math.pi / 180 + 540.0 / math.pi),))
def angle_units(x):
    return (numpy.deg2rad(x) + numpy.radians(x) + math.radians(x) + numpy.rad2deg(x)
            + numpy.degrees(x) + math.degrees(x))


@case(numpy.fabs, numpy.positive, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * (numpy.sign(x) + 1.0),))
def fabs_positive(x):
    return numpy.fabs(x) + numpy.positive(x)


@case(numpy.cbrt, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u / (3.0 * numpy.abs(x) ** (2.0 / 3.0)),))
def cbrt(x):
    return numpy.cbrt(x)


def _sinc_slope(x):
    px = math.pi * x
    return numpy.where(x == 0, 0.0, (px * numpy.cos(px) - numpy.sin(px))
                       / (math.pi * numpy.where(x == 0, 1.0, x * x)))


@case(numpy.sinc, args=args(arrays(REAL, away_from_zero=True)),
      vjp=lambda u, x: (u * _sinc_slope(x),))
def sinc(x):
    return numpy.sinc(x)


@case(numpy.sinc, args=args(arrays(REAL, shape=(3,))), vjp=lambda u, x: (u * 0.0,))
def sinc_at_zero(x):
    return numpy.sinc(x * 0.0) * 2.0


SPECIAL = numpy.array([0.0, numpy.nan, numpy.inf, -numpy.inf])


@case(numpy.nan_to_num, args=args(arrays(REAL, shape=(4,))),
      vjp=lambda u, x: (u * numpy.array([1.0, 0.0, 0.0, 0.0]),))
def nan_to_num(x):
    return numpy.nan_to_num(numpy.where(SPECIAL == 0.0, x, SPECIAL), posinf=5.0)


EXPONENTS = numpy.array([1, -2, 3])


@case(numpy.ldexp, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (u * numpy.array([2.0, 0.25, 8.0]),))
def ldexp(x):
    return numpy.ldexp(x, EXPONENTS)


def _logaddexp2_vjp(u, x, y):
    total = 2.0 ** x + 2.0 ** y
    return sum_to(u * 2.0 ** x / total, x.shape), sum_to(u * 2.0 ** y / total, y.shape)


@case(numpy.logaddexp2, args=broadcast_args(REAL, REAL), vjp=_logaddexp2_vjp)
def logaddexp2(x, y):
    return numpy.logaddexp2(x, y)


def _away_from_steps(sign=1.0):
    """A dividend and a divisor whose quotient stays 0.3 away from integers."""
    return broadcast_elements(grid(-3.0, 3.0, step=1.0, offset=0.3),
                              st.floats(0.5, 2.0, width=64)).map(
        lambda p: (p[0] * p[1], sign * p[1]))


@case(numpy.remainder, args=_away_from_steps(-1.0),
      vjp=lambda u, x, y: (sum_to(u, x.shape), sum_to(-u * numpy.floor(x / y), y.shape)))
def remainder(x, y):
    return numpy.mod(x, y)


@case(numpy.fmod, args=_away_from_steps(),
      vjp=lambda u, x, y: (sum_to(u, x.shape), sum_to(-u * numpy.trunc(x / y), y.shape)))
def fmod(x, y):
    return numpy.fmod(x, y)


@case(numpy.copysign, args=broadcast_elements(away_from_zero(), away_from_zero()), wrt=0,
      vjp=lambda u, x, y: (sum_to(u * numpy.sign(x) * numpy.sign(y) + 0 * y, x.shape),))
def copysign(x, y):
    return numpy.copysign(x, y)


@case(numpy.nextafter, args=broadcast_args(REAL, REAL), wrt=0,
      vjp=lambda u, x, y: (sum_to(2.0 * u + 0 * y, x.shape),))
def nextafter(x, y):
    return numpy.nextafter(x, y) * 2.0


@case(numpy.float_power, args=broadcast_args(POSITIVE, REAL),
      vjp=lambda u, x, y: (sum_to(u * y * x ** (y - 1.0), x.shape),
                           sum_to(u * x ** y * numpy.log(x), y.shape)))
def float_power(x, y):
    return numpy.float_power(x, y)


@case(numpy.fmax, numpy.fmin, args=shifted_pair(),
      vjp=lambda u, x, y: (sum_to(u * ((x > y) * 1.0 + (x < y)), x.shape),
                           sum_to(u * ((y > x) * 1.0 + (y < x)), y.shape)))
def fmax_fmin(x, y):
    return numpy.fmax(x, y) + numpy.fmin(x, y)


@case(numpy.fmax, numpy.fmin, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (u * numpy.array([2.0, 1.0, 2.0]),))
def fmax_fmin_nan(x):
    return numpy.fmax(x, GAPS) + numpy.fmin(GAPS, x)


GAPS = numpy.array([numpy.nan, 5.0, numpy.nan])
