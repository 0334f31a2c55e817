"""Cases for the elementwise rules in templates/elementwise.py."""

import numpy

from tests.cases import POSITIVE, REAL, args, arrays, case


@case(numpy.exp, args=args(arrays(REAL)), vjp=lambda u, x: (u * numpy.exp(x),))
def exp(x):
    return numpy.exp(x)


@case(numpy.log, args=args(arrays(POSITIVE)), vjp=lambda u, x: (u / x,))
def log(x):
    return numpy.log(x)


@case(numpy.tanh, args=args(arrays(REAL)), vjp=lambda u, x: (u / numpy.cosh(x) ** 2,))
def tanh(x):
    return numpy.tanh(x)
