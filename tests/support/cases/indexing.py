"""Cases for the indexing rules in templates/indexing.py."""

import ast

import numpy

from srcad import runtime
from tests.support.cases import REAL, args, arrays, case, scalars


def _scatter(u, shape, index):
    out = numpy.zeros(shape)
    numpy.add.at(out, index, u)
    return out


@case(ast.Subscript, args=args(arrays(REAL, shape=(4, 3))),
      vjp=lambda u, x: (_scatter(u, x.shape, (slice(1, 3), None)),))
def basic_slice(x):
    return x[1:3, None]


@case(ast.Subscript, args=args(arrays(REAL, shape=(5,))))
def negative_and_step(x):
    return x[-1] * x[::2]


@case(ast.Subscript, args=args(arrays(REAL, shape=(4, 2))),
      vjp=lambda u, x: (_scatter(u, x.shape, numpy.array([0, 2, 2, 3])),))
def repeated_integer_indices(x):
    index = numpy.array([0, 2, 2, 3])
    return x[index]


@case(ast.Subscript, args=args(arrays(REAL, shape=(6,))))
def boolean_mask(x):
    mask = numpy.array([True, False, True, True, False, True])
    return x[mask]


@case((ast.Subscript, "sequence"), args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3,))))
def tuple_items(x, y):
    pair = (x * 2.0, y)
    first, second = pair
    return first * second + pair[-1]


@case(runtime.set_item, args=args(arrays(REAL, shape=(4,)), arrays(REAL, shape=(2,))),
      vjp=lambda u, x, v: (numpy.where(numpy.arange(4) % 2 == 1, 0.0, u), u[1::2]))
def set_item(x, v):
    y = x * 1.0
    y[1::2] = v
    return y


@case(runtime.set_item, args=args(arrays(REAL, shape=(3, 2)), scalars(REAL)))
def add_into_item(x, s):
    y = x * 2.0
    y[1, 0] += s * s
    return y


@case(runtime.without_item, args=args(arrays(REAL, shape=(4,))))
def without_item(g):
    return runtime.without_item(g, 2)
