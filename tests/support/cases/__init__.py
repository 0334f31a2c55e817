"""Test cases for derivative rules: small functions, each applying one primitive.

A case is a plain function in a file of this package (srcad reads its source), decorated with
the rule keys it exercises, a hypothesis strategy for its arguments and, where there is one, an
independent analytic vector-Jacobian product to compare with::

    @case(numpy.tanh, args=arrays(REAL), vjp=lambda u, x: (u * (1 - numpy.tanh(x) ** 2),))
    def tanh(x):
        return numpy.tanh(x)

`tests/test_rules.py` runs every case in both modes and fails if a registered rule has no case.
"""

import importlib
import pkgutil

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

CASES = []

# value domains: (low, high) bounds of the drawn floats
REAL = (-2.0, 2.0)
POSITIVE = (0.3, 2.5)
UNIT = (-0.9, 0.9)          # inside (-1, 1), away from the ends
ABOVE_ONE = (1.2, 3.0)


class Case:
    def __init__(self, function, keys, args, wrt, vjp, rtol):
        self.function = function
        self.keys = keys
        self.args = args
        self.wrt = wrt
        self.vjp = vjp
        self.rtol = rtol

    @property
    def name(self):
        return f"{self.function.__module__.rsplit('.', 1)[-1]}.{self.function.__name__}"


def case(*keys, args, wrt=None, vjp=None, rtol=1e-5):
    """Register the decorated function as a test case of the rules of `keys`."""
    def decorate(function):
        CASES.append(Case(function, keys, args, wrt, vjp, rtol))
        return function
    return decorate


def load():
    """Import every case module; returns the list of cases."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return CASES


def _elements(domain, distinct_gap=None):
    low, high = domain
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(domain=REAL, shape=None, min_dims=0, max_dims=3, max_side=4, distinct=False,
           away_from_zero=False):
    """Strategy for one float64 array (a shape may be given, else drawn)."""
    shapes = st.just(shape) if shape is not None else hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)
    elements = _elements(domain)
    if away_from_zero:
        elements = elements.filter(lambda v: abs(v) > 0.2)
    return shapes.flatmap(lambda s: hnp.arrays(numpy.float64, s, elements=elements,
                                               unique=distinct))


def scalars(domain=REAL):
    """Strategy for a Python float."""
    return _elements(domain)


def args(*strategies):
    """Strategy for an argument tuple from one strategy per argument."""
    return st.tuples(*strategies)


def broadcast_args(*domains, num_shapes=None, max_dims=3, max_side=4):
    """Strategy for a tuple of arrays with mutually broadcastable shapes."""
    count = num_shapes or len(domains)

    def build(shapes):
        return st.tuples(*(hnp.arrays(numpy.float64, s, elements=_elements(d))
                           for s, d in zip(shapes.input_shapes, domains)))
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=0, max_dims=max_dims, max_side=max_side).flatmap(build)


def sum_to(g, shape):
    """Reference reduction of a broadcast gradient to `shape` (independent of srcad.runtime)."""
    g = numpy.asarray(g, float)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
