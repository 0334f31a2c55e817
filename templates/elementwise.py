"""Rules for NumPy's elementwise functions (ufuncs and friends) and value-preserving casts.

Covered, in both modes:

* exponentials and logarithms: exp, exp2, expm1, log, log2, log10, log1p, logaddexp,
  logaddexp2, ldexp (in its first argument)
* powers and roots: sqrt, cbrt, square, reciprocal, power, float_power
* trigonometric: sin, cos, tan, arcsin, arccos, arctan, arctan2, hypot, sinc, deg2rad/radians,
  rad2deg/degrees
* hyperbolic: sinh, cosh, tanh, arcsinh, arccosh, arctanh (and their `asinh`... aliases)
* the error function: math.erf; the modified Bessel function numpy.i0 (its derivative I1 is
  `srcad.runtime_bessel.i1`, with a rule of its own for second derivatives)
* piecewise: abs/absolute/fabs (and the builtin `abs`), maximum, minimum, fmax, fmin (and the
  builtins `max`, `min` of two values), where, clip (and `ndarray.clip`), remainder/mod and
  fmod (1 in the dividend, minus the integer quotient in the divisor), copysign (in its first
  argument), nextafter (1 in its first argument; the second picks a direction only),
  nan_to_num (1 where the input is finite), positive
* casts that pass derivatives through: numpy.float64(x), float(x), `x.item()` of a size-1
  array, numpy.asarray, numpy.array, `x.copy()`, `x.astype(dtype)`

Python's `math` functions on floats share the rule of the NumPy function with the same formula
(`math.exp` with numpy.exp, `math.asin` with numpy.arcsin, `math.pow` with numpy.power, `math.fabs`
with numpy.absolute, ...); a gradient with respect to a Python float is a Python float.

Parameters: the result first, then the arguments with NumPy's names and defaults (ufuncs take
their inputs positionally: `x` for one input, `x1, x2` for two). Rules reuse the result where
the derivative is a function of it (exp, tanh, sqrt), as a person would. Binary rules sum each
adjoint back to its argument's shape with `unbroadcast`.

Conventions where the function has kinks: abs has derivative 0 at 0 (`sign`); maximum and
minimum share the derivative equally between tied arguments (as PyTorch's and JAX's maximum
do), so `maximum(x, x)` has derivative 1; against a number written in the call
(`maximum(x, 0)`, `minimum(c, x)`) they take the derivative from below at a tie: 0 for
maximum, so a ReLU's mask is `x > 0` (as PyTorch's relu and srcad's nn.ReLU), and 1 for
minimum (`x <= c`, as PyTorch's clamp with max=c); clip
passes it to `a` where `a` lies within the bounds (ties included) and to a bound where `a` lies
beyond it, assuming `a_min <= a_max`.
"""

import math

import numpy

from srcad import runtime_bessel
from srcad.rules import adjoint, d, elementwise, linear, shape, tangent, without_derivative
from srcad.runtime import array_adjoint, broadcast_as, cast_like, unbroadcast, where_tangent
from srcad.runtime_bessel import i1
from srcad.runtime_exact import clip_source, power_slope
from srcad.shape_rules import broadcast

# ---- shapes: every elementwise ufunc broadcasts its operands ---------------------------------


@shape(numpy.ufunc)            # the rule of each ufunc (without a gufunc signature) without its own
def ufunc_shape(shapes, *operands, dtype=None):
    return broadcast([shapes.shape(x) for x in operands])


# ---- exponentials and logarithms -------------------------------------------------------------


@elementwise(numpy.exp, math.exp)
def exp(g, y, x):
    return g * y


@elementwise(numpy.exp2)
def exp2(g, y, x):
    return g * y * math.log(2.0)


@elementwise(numpy.expm1, math.expm1)
def expm1(g, y, x):
    return g * (y + 1.0)


@elementwise(numpy.log, math.log)
def log(g, y, x):
    return g / x


@elementwise(numpy.log2, math.log2)
def log2(g, y, x):
    return g / (x * math.log(2.0))


@elementwise(numpy.log10, math.log10)
def log10(g, y, x):
    return g / (x * math.log(10.0))


@elementwise(numpy.log1p, math.log1p)
def log1p(g, y, x):
    return g / (1.0 + x)


@adjoint(numpy.logaddexp)       # weights sigmoid(x1 - x2), sigmoid(x2 - x1): z is not needed
def logaddexp(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (0.5 + 0.5 * numpy.tanh(0.5 * (x1 - x2))), x1)
    d[x2] += unbroadcast(d[z] * (0.5 - 0.5 * numpy.tanh(0.5 * (x1 - x2))), x2)


@tangent(numpy.logaddexp)
def logaddexp(z, x1, x2):
    d[z] = d[x1] * numpy.exp(x1 - z) + d[x2] * numpy.exp(x2 - z)


# ---- powers and roots ------------------------------------------------------------------------


@elementwise(numpy.sqrt, math.sqrt)
def sqrt(g, y, x):
    return g / (2.0 * y)


@elementwise(numpy.square)
def square(g, y, x):
    return 2.0 * x * g


@elementwise(numpy.reciprocal)
def reciprocal(g, y, x):
    return -g * y * y


@adjoint((numpy.power, "constant"))          # a number as exponent (`numpy.power(x, 2)`)
@adjoint((math.pow, "constant"))
def power_constant(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x2 * x1 ** (x2 - 1), x1)
    d[x2] += unbroadcast(d[z] * z * numpy.log(numpy.where(x1 > 0, x1, 1)), x2)


@tangent((numpy.power, "constant"))
@tangent((math.pow, "constant"))
def power_constant(z, x1, x2):
    d[z] = x2 * x1 ** (x2 - 1) * d[x1] + z * numpy.log(numpy.where(x1 > 0, x1, 1)) * d[x2]


@adjoint(numpy.power)                         # any exponent: exact where it is 0
@adjoint(math.pow)
@adjoint(numpy.float_power)
def power(z, x1, x2):
    d[x1] += unbroadcast(d[z] * power_slope(x1, x2), x1)
    d[x2] += unbroadcast(d[z] * z * numpy.log(numpy.where(x1 > 0, x1, 1)), x2)


@tangent(numpy.power)
@tangent(math.pow)
@tangent(numpy.float_power)
def power(z, x1, x2):
    d[z] = power_slope(x1, x2) * d[x1] + z * numpy.log(numpy.where(x1 > 0, x1, 1)) * d[x2]


# ---- trigonometric ---------------------------------------------------------------------------


@elementwise(numpy.sin, math.sin)
def sin(g, y, x):
    return g * numpy.cos(x)


@elementwise(numpy.cos, math.cos)
def cos(g, y, x):
    return -g * numpy.sin(x)


@elementwise(numpy.tan, math.tan)
def tan(g, y, x):
    return g * (1.0 + y * y)


@elementwise(numpy.arcsin, math.asin)
def arcsin(g, y, x):
    return g / numpy.sqrt((1.0 - x) * (1.0 + x))


@elementwise(numpy.arccos, math.acos)
def arccos(g, y, x):
    return -g / numpy.sqrt((1.0 - x) * (1.0 + x))


@elementwise(numpy.arctan, math.atan)
def arctan(g, y, x):
    return g / (1.0 + x * x)


@adjoint(numpy.arctan2)
@adjoint(math.atan2)
def arctan2(z, x1, x2):
    r = numpy.hypot(x1, x2)                 # x1 / r and x2 / r cannot overflow
    d[x1] += unbroadcast(d[z] * (x2 / r) / r, x1)
    d[x2] += unbroadcast(-d[z] * (x1 / r) / r, x2)


@tangent(numpy.arctan2)
@tangent(math.atan2)
def arctan2(z, x1, x2):
    r = numpy.hypot(x1, x2)
    d[z] = (x2 / r) * d[x1] / r - (x1 / r) * d[x2] / r


@adjoint(numpy.hypot)
@adjoint(math.hypot)
def hypot(z, x1, x2):
    d[x1] += unbroadcast(d[z] * x1 / z, x1)
    d[x2] += unbroadcast(d[z] * x2 / z, x2)


@tangent(numpy.hypot)
@tangent(math.hypot)
def hypot(z, x1, x2):
    d[z] = (x1 * d[x1] + x2 * d[x2]) / z


# ---- hyperbolic -----------------------------------------------------------------------------


@elementwise(numpy.sinh, math.sinh)
def sinh(g, y, x):
    return g * numpy.cosh(x)


@elementwise(numpy.cosh, math.cosh)
def cosh(g, y, x):
    return g * numpy.sinh(x)


@elementwise(numpy.tanh, math.tanh)
def tanh(g, y, x):
    return g * (1.0 - y * y)


# ---- the error function (Python's math.erf; NumPy has none) ---------------------------------


@elementwise(math.erf)
def erf(g, y, x):
    return g * (2.0 / math.sqrt(math.pi)) * math.exp(-x * x)


# ---- piecewise: abs, maximum, minimum, where, clip -------------------------------------------


@elementwise(numpy.absolute, abs, math.fabs)  # numpy.abs is the same ufunc
def absolute(g, y, x):
    return g * numpy.sign(x)


@adjoint(numpy.maximum)
@adjoint(max)                               # Python's max(a, b) of two values
def maximum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 > x2) + d[z] * (x1 == x2) / 2, x1)   # half at a tie
    d[x2] += unbroadcast(d[z] * (x2 > x1) + d[z] * (x1 == x2) / 2, x2)


@tangent(numpy.maximum)
@tangent(max)
def maximum(z, x1, x2):
    d[z] = d[x1] * (x1 > x2) + d[x2] * (x2 > x1) + (d[x1] + d[x2]) * (x1 == x2) / 2


@adjoint(numpy.minimum)
@adjoint(min)                               # Python's min(a, b) of two values
def minimum(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (x1 < x2) + d[z] * (x1 == x2) / 2, x1)   # half at a tie
    d[x2] += unbroadcast(d[z] * (x2 < x1) + d[z] * (x1 == x2) / 2, x2)


@tangent(numpy.minimum)
@tangent(min)
def minimum(z, x1, x2):
    d[z] = d[x1] * (x1 < x2) + d[x2] * (x2 < x1) + (d[x1] + d[x2]) * (x1 == x2) / 2


# against a number written in the call (`np.maximum(x, 0)`, `min(1.0, x)`, either order): the
# number has no derivative and the result has the shape of the other argument; at a tie the
# derivative is the one from below, 0 for maximum (a ReLU's mask `x > 0`) and 1 for minimum


@adjoint((numpy.maximum, "number"))
@adjoint((max, "number"))
def maximum_number(z, x1, x2):
    d[x1] += d[z] * (x1 > x2)
    d[x2] += d[z] * (x2 > x1)


@tangent((numpy.maximum, "number"))
@tangent((max, "number"))
def maximum_number(z, x1, x2):
    d[z] = d[x1] * (x1 > x2) + d[x2] * (x2 > x1)


@adjoint((numpy.minimum, "number"))
@adjoint((min, "number"))
def minimum_number(z, x1, x2):
    d[x1] += d[z] * (x1 <= x2)
    d[x2] += d[z] * (x2 <= x1)


@tangent((numpy.minimum, "number"))
@tangent((min, "number"))
def minimum_number(z, x1, x2):
    d[z] = d[x1] * (x1 <= x2) + d[x2] * (x2 <= x1)


@shape(numpy.where)
def where_shape(shapes, condition, x, y, /):
    return broadcast([shapes.shape(n) for n in (condition, x, y)])


without_derivative(numpy.where, "condition")


@adjoint(numpy.where)
def where(z, condition, x=None, y=None):
    d[x] += unbroadcast(numpy.where(condition, d[z], 0.0), x)
    d[y] += unbroadcast(numpy.where(condition, 0.0, d[z]), y)


@tangent(numpy.where)
def where(z, condition, x=None, y=None):
    d[z] = where_tangent(d[x], condition, z) + where_tangent(d[y], numpy.logical_not(condition), z)


@adjoint(numpy.clip)                       # the derivative goes where NumPy takes the value from
def clip(z, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    d[a] += unbroadcast(numpy.where(clip_source(a, a_min, a_max, min, max) == 0, d[z], 0.0), a)
    d[a_min] += unbroadcast(
        numpy.where(clip_source(a, a_min, a_max, min, max) == 1, d[z], 0.0), a_min)
    d[a_max] += unbroadcast(
        numpy.where(clip_source(a, a_min, a_max, min, max) == 2, d[z], 0.0), a_max)
    d[min] += unbroadcast(numpy.where(clip_source(a, a_min, a_max, min, max) == 1, d[z], 0.0), min)
    d[max] += unbroadcast(numpy.where(clip_source(a, a_min, a_max, min, max) == 2, d[z], 0.0), max)


@tangent(numpy.clip)
def clip(z, a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    d[z] = (where_tangent(d[a], clip_source(a, a_min, a_max, min, max) == 0, z)
            + where_tangent(d[a_min], clip_source(a, a_min, a_max, min, max) == 1, z)
            + where_tangent(d[a_max], clip_source(a, a_min, a_max, min, max) == 2, z)
            + where_tangent(d[min], clip_source(a, a_min, a_max, min, max) == 1, z)
            + where_tangent(d[max], clip_source(a, a_min, a_max, min, max) == 2, z))


@adjoint(numpy.ndarray.clip)
def clip_method(z, a, min=None, max=None, out=None):
    d[a] += unbroadcast(numpy.where(clip_source(a, min, max) == 0, d[z], 0.0), a)
    d[min] += unbroadcast(numpy.where(clip_source(a, min, max) == 1, d[z], 0.0), min)
    d[max] += unbroadcast(numpy.where(clip_source(a, min, max) == 2, d[z], 0.0), max)


@tangent(numpy.ndarray.clip)
def clip_method(z, a, min=None, max=None, out=None):
    d[z] = (where_tangent(d[a], clip_source(a, min, max) == 0, z)
            + where_tangent(d[min], clip_source(a, min, max) == 1, z)
            + where_tangent(d[max], clip_source(a, min, max) == 2, z))


# ---- casts and copies that pass the derivative through ---------------------------------------


@linear(numpy.float64)
def float64(y, value):
    return cast_like(d[y], value)


@adjoint(float)
@adjoint(numpy.ndarray.item)                # x.item() of a size-1 array
def float_(y, x):
    d[x] += broadcast_as(d[y], x)


@tangent(float)
def float_(y, x):
    d[y] = float(d[x])


@tangent(numpy.ndarray.item)
def item(y, a):
    d[y] = d[a].item()


@adjoint(numpy.asarray)
def asarray(y, a, dtype=None, order=None, *, device=None, copy=None):
    d[a] += array_adjoint(d[y], a)


@tangent(numpy.asarray)
def asarray(y, a, dtype=None, order=None, *, device=None, copy=None):
    d[y] = numpy.asarray(d[a], dtype)


@adjoint(numpy.array)
def array(y, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0):
    d[object] += array_adjoint(d[y], object)


@tangent(numpy.array)
def array(y, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0):
    d[y] = numpy.array(d[object], dtype, ndmin=ndmin)


@elementwise(numpy.ndarray.copy)
def copy(g, y, a, order="C"):
    return g


@adjoint(numpy.ndarray.astype)
def astype(y, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[a] += cast_like(d[y], a)


@tangent(numpy.ndarray.astype)
def astype(y, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[y] = d[a].astype(dtype)


# ---- more elementwise functions (NumPy's inverse hyperbolic, angle, rounding-free ufuncs) ----


@elementwise(numpy.arcsinh, math.asinh)
def arcsinh(g, y, x):
    return g / numpy.sqrt(x * x + 1.0)


@elementwise(numpy.arccosh, math.acosh)
def arccosh(g, y, x):
    return g / numpy.sqrt((x - 1.0) * (x + 1.0))


@elementwise(numpy.arctanh, math.atanh)
def arctanh(g, y, x):
    return g / ((1.0 - x) * (1.0 + x))


@elementwise(numpy.deg2rad, numpy.radians, math.radians)
def deg2rad(g, y, x):
    return g * (math.pi / 180.0)


@elementwise(numpy.rad2deg, numpy.degrees, math.degrees)
def rad2deg(g, y, x):
    return g * (180.0 / math.pi)


@elementwise(numpy.fabs)
def fabs(g, y, x):
    return g * numpy.sign(x)


@elementwise(numpy.positive)
def positive(g, y, x):
    return g


@elementwise(numpy.cbrt)
def cbrt(g, y, x):
    return g / (3.0 * y * y)


@elementwise(numpy.sinc)        # (cos(pi x) - sinc(x)) / x; at x = 0 its Taylor series (value 0,
def sinc(g, y, x):              # and the derivatives of sinc up to the sixth right there)
    series = x * (x * x * (math.pi ** 4 / 30.0 - x * x * math.pi ** 6 / 840.0) - math.pi ** 2 / 3.0)
    slope = (numpy.cos(math.pi * x) - y) / numpy.where(x == 0, 1.0, x)
    return g * numpy.where(x == 0, series, slope)


@elementwise(numpy.nan_to_num)
def nan_to_num(g, y, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return g * numpy.isfinite(x)


@elementwise(numpy.ldexp)                   # x1 * 2 ** x2 for integers x2
def ldexp(g, y, x1, x2):
    return g * numpy.ldexp(1.0, x2)


@adjoint(numpy.logaddexp2)                  # weights sigmoid((x1 - x2) log 2), its complement
def logaddexp2(z, x1, x2):
    d[x1] += unbroadcast(d[z] * (0.5 + 0.5 * numpy.tanh((0.5 * math.log(2.0)) * (x1 - x2))), x1)
    d[x2] += unbroadcast(d[z] * (0.5 - 0.5 * numpy.tanh((0.5 * math.log(2.0)) * (x1 - x2))), x2)


@tangent(numpy.logaddexp2)
def logaddexp2(z, x1, x2):
    d[z] = d[x1] * numpy.exp2(x1 - z) + d[x2] * numpy.exp2(x2 - z)


@adjoint(numpy.remainder)                   # x1 - floor(x1 / x2) x2; numpy.mod is remainder
def remainder(z, x1, x2):
    d[x1] += unbroadcast(d[z], x1)
    d[x2] += unbroadcast(-d[z] * numpy.floor_divide(x1, x2), x2)


@tangent(numpy.remainder)
def remainder(z, x1, x2):
    d[z] = d[x1] - d[x2] * numpy.floor_divide(x1, x2)


@adjoint(numpy.fmod)                        # x1 - trunc(x1 / x2) x2
def fmod(z, x1, x2):
    d[x1] += unbroadcast(d[z], x1)
    d[x2] += unbroadcast(-d[z] * numpy.trunc((x1 - z) / x2), x2)


@tangent(numpy.fmod)
def fmod(z, x1, x2):
    d[z] = d[x1] - d[x2] * numpy.trunc((x1 - z) / x2)


@adjoint(numpy.copysign)                    # |x1| with the sign of x2: constant in x2
def copysign(z, x1, x2):
    d[x1] += unbroadcast(d[z] * numpy.sign(x1) * numpy.sign(z), x1)


@tangent(numpy.copysign)
def copysign(z, x1, x2):
    d[z] = d[x1] * numpy.sign(x1) * numpy.sign(z)


@adjoint(numpy.nextafter)                   # the float next to x1 towards x2: slope 1 in x1
def nextafter(z, x1, x2):
    d[x1] += unbroadcast(d[z], x1)


@tangent(numpy.nextafter)
def nextafter(z, x1, x2):
    d[z] = broadcast_as(d[x1], z)


without_derivative(numpy.nextafter, "x2")   # x2 picks only the direction: piecewise constant


@adjoint(numpy.fmax)                        # maximum, except that a NaN loses
def fmax(z, x1, x2):
    w = numpy.where(numpy.isnan(x2), 1.0, numpy.where(numpy.isnan(x1), 0.0,
                                                      (1.0 + numpy.sign(x1 - x2)) / 2))
    d[x1] += unbroadcast(d[z] * w, x1)
    d[x2] += unbroadcast(d[z] * (1.0 - w), x2)


@tangent(numpy.fmax)
def fmax(z, x1, x2):
    w = numpy.where(numpy.isnan(x2), 1.0, numpy.where(numpy.isnan(x1), 0.0,
                                                      (1.0 + numpy.sign(x1 - x2)) / 2))
    d[z] = d[x1] * w + d[x2] * (1.0 - w)


@adjoint(numpy.fmin)                        # minimum, except that a NaN loses
def fmin(z, x1, x2):
    w = numpy.where(numpy.isnan(x2), 1.0, numpy.where(numpy.isnan(x1), 0.0,
                                                      (1.0 + numpy.sign(x2 - x1)) / 2))
    d[x1] += unbroadcast(d[z] * w, x1)
    d[x2] += unbroadcast(d[z] * (1.0 - w), x2)


@tangent(numpy.fmin)
def fmin(z, x1, x2):
    w = numpy.where(numpy.isnan(x2), 1.0, numpy.where(numpy.isnan(x1), 0.0,
                                                      (1.0 + numpy.sign(x2 - x1)) / 2))
    d[z] = d[x1] * w + d[x2] * (1.0 - w)


# ---- the modified Bessel function I0 -------------------------------------------------------


@elementwise(numpy.i0)                      # I0' = I1 (srcad.runtime_bessel: NumPy has no I1)
def i0(g, y, x):
    return g * i1(x)


@elementwise(runtime_bessel.i1)             # I1' = I0 - I1 / x; near 0 its Taylor series
def i1_(g, y, x):                           # 1/2 + 3 x^2 / 16 (to 1e-16; no I1(x) / x of tiny x)
    small = numpy.abs(x) < 1e-4
    return g * numpy.where(small, 0.5 + 0.1875 * x * x,
                           numpy.i0(x) - y / numpy.where(small, 1.0, x))
