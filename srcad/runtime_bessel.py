"""The modified Bessel function of the first kind of order 1, `i1`, which NumPy lacks: the
derivative of `numpy.i0` (templates/elementwise.py), called by generated code like the helpers
in `srcad.runtime`.

In: real numbers or a real array. Out: `I1` of each, a float or an array of the same shape.
"""

import numpy


def i1(x):
    """`I1(x) = sum_k (x/2)^(2k+1) / (k! (k+1)!)`, summed until the terms are below a 1e-17
    share of the sum. The terms all have `x`'s sign, so nothing cancels: the relative error
    is a few hundred roundings at most (|x| near 700, where I1 overflows), about 1e-13.
    An odd function: `i1(-x) = -i1(x)`; infinite or NaN where `x` is."""
    x = numpy.asarray(x, dtype=float)
    square = (0.5 * x) * (0.5 * x)
    term = 0.5 * x
    total = term
    k = 0
    with numpy.errstate(invalid="ignore", over="ignore"):
        while not numpy.all((numpy.abs(term) <= 1e-17 * numpy.abs(total))
                            | ~numpy.isfinite(total)):
            k += 1
            term = term * (square / (k * (k + 1.0)))
            total = total + term
    return total if numpy.ndim(total) else total[()]
