"""Cases for numpy.i0 and srcad's I1 helper (templates/elementwise.py). References: SciPy's
modified Bessel functions (`special.i1`, and I1' = (I0 + I2) / 2 from `special.i0` and
`special.iv`)."""

import numpy
from scipy import special

from srcad import runtime_bessel
from tests.support.cases import args, arrays, case

WIDE = (-30.0, 30.0)


@case(numpy.i0, args=args(arrays(WIDE)), vjp=lambda u, x: (u * special.i1(x),), rtol=1e-4)
def i0(x):
    return numpy.i0(x)


def _i1_slope(x):
    """(I0 + I2) / 2; SciPy's iv gives NaN at subnormal x, where the slope is 1/2."""
    with numpy.errstate(invalid="ignore"):
        return numpy.where(numpy.abs(x) < 1e-300, 0.5, (special.i0(x) + special.iv(2, x)) / 2.0)


@case(runtime_bessel.i1, args=args(arrays(WIDE)), vjp=lambda u, x: (u * _i1_slope(x),),
      rtol=1e-4)
def i1(x):
    return runtime_bessel.i1(x)


@case(runtime_bessel.i1, args=args(arrays(shape=(3,))), vjp=lambda u, x: (u * 0.0,))
def i1_at_zero(x):                       # the limit 1/2 of I0 - I1 / x, times the 0 of x * 0
    return runtime_bessel.i1(x * 0.0) * 2.0
