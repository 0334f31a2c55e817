"""Cases for the reduction rules in templates/reductions.py."""

import numpy

from tests.cases import REAL, args, arrays, case


@case(numpy.sum, args=args(arrays(REAL)), vjp=lambda u, x: (numpy.full(x.shape, u),))
def sum_all(x):
    return numpy.sum(x)


@case(numpy.sum, args=args(arrays(REAL, min_dims=2)))
def sum_axis_keepdims(x):
    return numpy.sum(x, axis=1, keepdims=True)


@case(numpy.sum, args=args(arrays(REAL, min_dims=2)))
def sum_negative_axis(x):
    return numpy.sum(x, axis=-1)
