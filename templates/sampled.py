"""Rules for functions of sampled data: interp (in x, xp, fp, left and right), convolve and
correlate (every mode, linear in each argument), gradient (in the samples; spacings and
coordinates constant).

interp is piecewise linear: in `x` its derivative is the slope of the interval NumPy picks (at
a node, the interval that starts there; 0 beyond the ends and at the last node), in `fp` the
interpolation weights, in `xp` minus the slope times the weights, in `left`/`right` 1 beyond
the ends (see `srcad.runtime_sampled`). `period` is a constant.

The last section holds the rules of the helpers, so that generated code can be differentiated
again: `interp_slope` is linear in `fp` and moves with `xp`; the transposes are linear in `g`
and move with `x` and `xp`, each derivative written with the same helpers. A derivative that
reaches a `period` or gradient's spacings there (a gradient differentiated again in them) is
an error (`refused`), never dropped.
"""

import numpy

from srcad import runtime_sampled
from srcad.rules import adjoint, d, linear, nondifferentiable, tangent, without_derivative
from srcad.runtime_sampled import (
    gradient_of,
    gradient_transpose,
    interp_beyond,
    interp_edge,
    interp_slope,
    interp_slope_transpose,
    interp_transpose,
    mode_slice,
    ungradient,
    unmode,
)
from srcad.runtime_statistics import refused

nondifferentiable(runtime_sampled.interp_beyond, runtime_sampled.interp_edge,
                  reason="it gives masks and constants")

# ---- interp -------------------------------------------------------------------------------


@adjoint(numpy.interp)
def interp(y, x, xp, fp, left=None, right=None, period=None):
    slope = interp_slope(x, xp, fp, period)
    d[x] += d[y] * slope
    d[xp] += interp_transpose(-d[y] * slope, x, xp, 0.0, 0.0, period)
    d[fp] += interp_transpose(d[y], x, xp, left, right, period)
    d[left] += numpy.sum(d[y] * interp_beyond(x, xp, -1, period))
    d[right] += numpy.sum(d[y] * interp_beyond(x, xp, 1, period))


@tangent(numpy.interp)
def interp(y, x, xp, fp, left=None, right=None, period=None):
    slope = interp_slope(x, xp, fp, period)
    d[y] = (slope * d[x] - slope * numpy.interp(x, xp, d[xp], 0.0, 0.0, period)
            + numpy.interp(x, xp, d[fp], interp_edge(left), interp_edge(right), period)
            + d[left] * interp_beyond(x, xp, -1, period)
            + d[right] * interp_beyond(x, xp, 1, period))


# ---- gradient -----------------------------------------------------------------------------


@adjoint(numpy.gradient)                 # the spacings (scalars or coordinates) are constants
def gradient(y, f, *varargs, axis=None, edge_order=1):
    d[f] += ungradient(d[y], f, varargs, axis, edge_order)


@tangent(numpy.gradient)
def gradient(y, f, *varargs, axis=None, edge_order=1):
    d[y] = gradient_of(d[f], varargs, axis, edge_order)


# ---- convolve and correlate ---------------------------------------------------------------


@adjoint(numpy.convolve)                 # the full result's adjoint, correlated with the other
def convolve(y, a, v, mode="full"):
    d[a] += numpy.reshape(numpy.correlate(unmode(d[y], a, v, mode, numpy.convolve),
                                          numpy.ravel(v), "valid"), numpy.shape(a))
    d[v] += numpy.reshape(numpy.correlate(unmode(d[y], a, v, mode, numpy.convolve),
                                          numpy.ravel(a), "valid"), numpy.shape(v))


@tangent(numpy.convolve)
def convolve(y, a, v, mode="full"):
    d[y] = numpy.convolve(d[a], v, mode) + numpy.convolve(a, d[v], mode)


@adjoint(numpy.correlate)                # correlate(a, v) is convolve(a, v reversed)
def correlate(y, a, v, mode="valid"):
    d[a] += numpy.reshape(numpy.correlate(unmode(d[y], a, v, mode, numpy.correlate),
                                          numpy.flip(v), "valid"), numpy.shape(a))
    d[v] += numpy.reshape(numpy.flip(numpy.correlate(unmode(d[y], a, v, mode, numpy.correlate),
                                                     a, "valid")), numpy.shape(v))


@tangent(numpy.correlate)
def correlate(y, a, v, mode="valid"):
    d[y] = numpy.correlate(d[a], v, mode) + numpy.correlate(a, d[v], mode)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


@adjoint(runtime_sampled.interp_slope)
def interp_slope_(out, x, xp, fp, period=None):
    d[fp] += interp_slope_transpose(d[out], x, xp, period)
    d[xp] += interp_slope_transpose(-d[out] * out, x, xp, period)
    d[period] += refused(d[out], "numpy.interp's period")


@tangent(runtime_sampled.interp_slope)
def interp_slope_(out, x, xp, fp, period=None):
    d[out] = (interp_slope(x, xp, d[fp], period) - out * interp_slope(x, xp, d[xp], period)
              + refused(d[period], "numpy.interp's period"))


@adjoint(runtime_sampled.interp_transpose)
def interp_transpose_(out, g, x, xp, left=None, right=None, period=None):
    d[g] += numpy.interp(x, xp, d[out], interp_edge(left), interp_edge(right), period)
    d[x] += g * interp_slope(x, xp, d[out], period)
    d[xp] += interp_transpose(-g * interp_slope(x, xp, d[out], period), x, xp, 0.0, 0.0, period)
    d[period] += refused(d[out], "numpy.interp's period")


@tangent(runtime_sampled.interp_transpose)
def interp_transpose_(out, g, x, xp, left=None, right=None, period=None):
    d[out] = (interp_transpose(d[g], x, xp, left, right, period)
              + interp_slope_transpose(g * d[x], x, xp, period)
              - interp_slope_transpose(g * numpy.interp(x, xp, d[xp], 0.0, 0.0, period), x, xp,
                                       period)
              + refused(d[period], "numpy.interp's period"))


@adjoint(runtime_sampled.interp_slope_transpose)
def interp_slope_transpose_(out, g, x, xp, period=None):
    d[g] += interp_slope(x, xp, d[out], period)
    d[xp] += interp_slope_transpose(-g * interp_slope(x, xp, d[out], period), x, xp, period)
    d[period] += refused(d[out], "numpy.interp's period")


@tangent(runtime_sampled.interp_slope_transpose)
def interp_slope_transpose_(out, g, x, xp, period=None):
    d[out] = (interp_slope_transpose(d[g], x, xp, period)
              - interp_slope_transpose(g * interp_slope(x, xp, d[xp], period), x, xp, period)
              + refused(d[period], "numpy.interp's period"))


@linear(runtime_sampled.unmode)
def unmode_(out, g, a, v, mode, kind):
    return mode_slice(d[out], a, v, mode, kind)


@linear(runtime_sampled.mode_slice)
def mode_slice_(out, h, a, v, mode, kind):
    return unmode(d[out], a, v, mode, kind)


@adjoint(runtime_sampled.gradient_of)
def gradient_of_(out, t, spacing, axis=None, edge_order=1):
    d[t] += ungradient(d[out], t, spacing, axis, edge_order)
    d[spacing] += refused(d[out], "numpy.gradient's spacings")


@tangent(runtime_sampled.gradient_of)
def gradient_of_(out, t, spacing, axis=None, edge_order=1):
    d[out] = (gradient_of(d[t], spacing, axis, edge_order)
              + refused(d[spacing], "numpy.gradient's spacings"))


@adjoint(runtime_sampled.ungradient)
def ungradient_(out, g, f, spacing, axis=None, edge_order=1):
    d[g] += gradient_of(d[out], spacing, axis, edge_order)
    d[spacing] += refused(d[out], "numpy.gradient's spacings")


@tangent(runtime_sampled.ungradient)
def ungradient_(out, g, f, spacing, axis=None, edge_order=1):
    d[out] = (ungradient(d[g], f, spacing, axis, edge_order)
              + refused(d[spacing], "numpy.gradient's spacings"))


@adjoint(runtime_sampled.gradient_transpose)
def gradient_transpose_(out, g, h, axis, edge_order=1):
    d[g] += numpy.gradient(d[out], h, axis=axis, edge_order=edge_order)
    d[h] += refused(d[out], "numpy.gradient's spacings")


@tangent(runtime_sampled.gradient_transpose)
def gradient_transpose_(out, g, h, axis, edge_order=1):
    d[out] = (gradient_transpose(d[g], h, axis, edge_order)
              + refused(d[h], "numpy.gradient's spacings"))


# the helpers' shape, setting and position parameters (the interval or the mode an entry
# falls in changes only piecewise); spacings and `period` are not among them: their rules
# refuse a derivative there
without_derivative(runtime_sampled.interp_slope, "x")
without_derivative(runtime_sampled.interp_transpose, "left", "right")
without_derivative(runtime_sampled.interp_slope_transpose, "x")
for helper in (runtime_sampled.unmode, runtime_sampled.mode_slice):
    without_derivative(helper, "a", "v", "mode", "kind")
without_derivative(runtime_sampled.gradient_of, "axis", "edge_order")
without_derivative(runtime_sampled.ungradient, "f", "axis", "edge_order")
without_derivative(runtime_sampled.gradient_transpose, "axis", "edge_order")
