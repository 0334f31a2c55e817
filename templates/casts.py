"""Rules for conversions that keep the values of real arrays, beyond templates/elementwise.py:
numpy.copy, asanyarray, ascontiguousarray, asfortranarray, asarray_chkfinite, require, the
function numpy.astype, real, conj/conjugate (and the ndarray methods), and unwrap (which adds
multiples of the period, constant between jumps).

srcad differentiates real arrays, where real and conj are the identity.
"""

import numpy

from srcad.rules import adjoint, d, elementwise, tangent
from srcad.runtime import cast_like


@elementwise(numpy.copy)
def copy(g, y, a, order="K", subok=False):
    return g


@elementwise(numpy.asanyarray, numpy.ascontiguousarray, numpy.asfortranarray)
def asanyarray(g, y, a, dtype=None):
    return g


@elementwise(numpy.asarray_chkfinite)
def asarray_chkfinite(g, y, a, dtype=None, order=None):
    return g


@elementwise(numpy.require)
def require(g, y, a, dtype=None, requirements=None):
    return g


@elementwise(numpy.real, numpy.conj, numpy.conjugate, numpy.ndarray.conj,
             numpy.ndarray.conjugate)
def real(g, y, val):
    return g


@elementwise(numpy.unwrap)
def unwrap(g, y, p, discont=None, axis=-1, *, period=6.283185307179586):
    return g


@adjoint(numpy.astype)
def astype(y, x, dtype, /, *, copy=True):
    d[x] += cast_like(d[y], x)


@tangent(numpy.astype)
def astype(y, x, dtype, /, *, copy=True):
    d[y] = numpy.astype(d[x], dtype)
