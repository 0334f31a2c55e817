"""Cases for the rules in templates/casts.py: each keeps the values, so its vjp is `u`."""

import numpy

from tests.support.cases import REAL, args, arrays, case

M34 = arrays(REAL, shape=(3, 4))


@case(numpy.copy, args=args(M34), vjp=lambda u, x: (u,))
def copy(x):
    return numpy.copy(x)


@case(numpy.asanyarray, numpy.ascontiguousarray, numpy.asfortranarray, numpy.asarray_chkfinite,
      numpy.require, args=args(M34), vjp=lambda u, x: (5.0 * u,))
def host_copies(x):
    return (numpy.asanyarray(x) + numpy.ascontiguousarray(x) + numpy.asfortranarray(x)
            + numpy.asarray_chkfinite(x) + numpy.require(x))


@case(numpy.real, numpy.conj, numpy.conjugate, numpy.ndarray.conj, numpy.ndarray.conjugate,
      args=args(M34), vjp=lambda u, x: (5.0 * u,))
def real_and_conjugates(x):
    return numpy.real(x) + numpy.conj(x) + numpy.conjugate(x) + x.conj() + x.conjugate()


@case(numpy.unwrap, args=args(arrays(REAL, shape=(6,))), vjp=lambda u, x: (4.0 * u,))
def unwrap(x):
    return numpy.unwrap(x * 4.0)


@case(numpy.astype, args=args(M34), vjp=lambda u, x: (u,))
def astype(x):
    return numpy.astype(x, numpy.float64)
