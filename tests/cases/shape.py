"""Cases for the shape rules in templates/shape.py."""

import numpy

from tests.cases import REAL, args, arrays, case

M34 = arrays(REAL, shape=(3, 4))
T234 = arrays(REAL, shape=(2, 3, 4))


@case(numpy.reshape, args=args(M34), vjp=lambda u, x: (2.0 * u.reshape(3, 4),))
def reshape(x):
    return numpy.reshape(x, (2, 6)) * 2.0


@case(numpy.ndarray.reshape, args=args(M34), vjp=lambda u, x: (u.reshape(3, 4),))
def reshape_method_varargs(x):
    return x.reshape(4, -1)


@case(numpy.ndarray.reshape, args=args(M34))
def reshape_method_tuple(x):
    return x.reshape((12,)) * x.reshape(-1)


@case(numpy.ravel, numpy.ndarray.ravel, numpy.ndarray.flatten, args=args(M34),
      vjp=lambda u, x: ((u[:12] + u[12:24] + u[24:]).reshape(3, 4),))
def ravel_forms(x):
    return numpy.concatenate([numpy.ravel(x), x.ravel(), x.flatten()])


@case(numpy.expand_dims, numpy.squeeze, numpy.ndarray.squeeze, args=args(M34))
def expand_and_squeeze(x):
    e = numpy.expand_dims(x, 1)
    return numpy.squeeze(e, axis=1) + numpy.expand_dims(x, 0).squeeze()


@case(numpy.broadcast_to, args=args(arrays(REAL, shape=(1, 4))),
      vjp=lambda u, x: (u.sum(axis=0, keepdims=True),))
def broadcast_to(x):
    return numpy.broadcast_to(x, (3, 4))


@case(numpy.transpose, args=args(T234), vjp=lambda u, x: (numpy.transpose(u, (1, 2, 0)),))
def transpose_axes(x):
    return numpy.transpose(x, (2, 0, 1))


@case(numpy.transpose, args=args(M34))
def transpose_default(x):
    return numpy.transpose(x) * 3.0


@case(numpy.ndarray.transpose, args=args(T234))
def transpose_method(x):
    back = x.transpose().transpose(2, 1, 0)
    return x.transpose(1, 0, 2) + x.transpose((1, 0, 2)) * back.transpose(1, 0, 2)


@case(numpy.ndarray.T, args=args(M34), vjp=lambda u, x: (u.T,))
def dot_T(x):
    return x.T


@case(numpy.swapaxes, numpy.ndarray.swapaxes, args=args(T234))
def swapaxes(x):
    return numpy.swapaxes(x, 0, 2) * x.swapaxes(0, 2)


@case(numpy.moveaxis, args=args(T234), vjp=lambda u, x: (numpy.moveaxis(u, 2, 0),))
def moveaxis(x):
    return numpy.moveaxis(x, 0, -1)


@case(numpy.flip, args=args(M34), vjp=lambda u, x: (numpy.flip(u, 1),))
def flip(x):
    return numpy.flip(x, 1)


@case(numpy.concatenate, args=args(M34, arrays(REAL, shape=(3, 2))),
      vjp=lambda u, a, b: (u[:, :4], u[:, 4:]))
def concatenate(a, b):
    return numpy.concatenate([a, b], axis=1)


@case(numpy.stack, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3,))),
      vjp=lambda u, a, b: (u[:, 0], u[:, 1]))
def stack(a, b):
    return numpy.stack([a, b], axis=1)


@case(numpy.hstack, numpy.vstack, args=args(arrays(REAL, shape=(3,)),
                                            arrays(REAL, shape=(3,))))
def hstack_vstack(a, b):
    return numpy.hstack([a, b * 2.0]) + numpy.ravel(numpy.vstack([a * b, b]))


@case(numpy.hstack, numpy.vstack, args=args(M34, M34))
def hstack_vstack_matrices(a, b):
    return numpy.hstack([a, b]) * numpy.vstack([a, b]).reshape(3, 8)


@case(numpy.split, numpy.array_split, args=args(arrays(REAL, shape=(6, 2))))
def split(x):
    first, second, third = numpy.split(x, 3)
    parts = numpy.array_split(x, [1, 4], axis=0)
    return first * second + parts[1][:2] * 2.0 + third
