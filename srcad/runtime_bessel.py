"""The modified Bessel function of the first kind of order 1, `i1`, which NumPy lacks: the
derivative of `numpy.i0` (templates/elementwise.py), called by generated code like the helpers
in `srcad.runtime`.

In: real numbers or a real array (of NumPy or of another array library: no copy to the host,
no test of values in Python). Out: `I1` of each, a float or an array of the same shape.
"""

import math

import numpy

SERIES_BELOW = 25.0      # |x| below: the power series; above: the large-argument expansion
SERIES_TERMS = 50        # at |x| = 25 the 50th term is below 1e-17 of the sum
EXPANSION_TERMS = 30     # at |x| = 25 the 30th term is below 1e-18


def i1(x):
    """`I1(x)`, within 3e-15 of SciPy's (relative) for |x| <= 709: the power series
    `sum_k (x/2)^(2k+1) / (k! (k+1)!)` below |x| = 25 (its terms all have x's sign: nothing
    cancels), and `e^|x| / sqrt(2 pi |x|) sum_k c_k / |x|^k` above, with x's sign. Odd;
    infinite or NaN where `x` is; finite up to |x| = 713.98, where I1 overflows."""
    x = x * 1.0
    small = numpy.abs(x) < SERIES_BELOW
    near = numpy.where(small, x, 0.0)
    far = numpy.where(small, SERIES_BELOW, numpy.abs(x))
    out = numpy.where(small, _series(near), numpy.sign(x) * _expansion(far))
    return out[()] if isinstance(out, numpy.ndarray) and out.ndim == 0 else out


def _series(x):
    """The power series of I1 at `x` (|x| <= 25), summed from its first term."""
    square = (0.5 * x) * (0.5 * x)
    term = 0.5 * x
    total = term
    for k in range(1, SERIES_TERMS):
        term = term * (square / (k * (k + 1.0)))
        total = total + term
    return total


def _expansion(x):
    """The large-argument expansion of I1 at `x` >= 25 (or inf, NaN), with e^x taken as
    e^(x/2) twice so that it overflows only where I1 does."""
    inverse = 0.125 / numpy.where(numpy.isinf(x), 1.0, x)
    term = 1.0 + 0.0 * inverse
    total = term
    for k in range(1, EXPANSION_TERMS):
        term = term * ((2 * k - 1) ** 2 - 4.0) / k * inverse
        total = total + term
    with numpy.errstate(over="ignore", invalid="ignore"):
        half = numpy.exp(0.5 * x)
        scaled = half * (half * total / numpy.sqrt((2.0 * math.pi) * x))
    return numpy.where(numpy.isinf(x), x, scaled)
