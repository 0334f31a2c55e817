"""Cases for the shape rules in templates/shape.py, each with an analytic `vjp` in plain NumPy:
the adjoint of a move of entries is the reverse move of `u`."""

import numpy

from srcad import runtime
from tests.support.cases import REAL, args, arrays, case, scalars
from tests.support.cases.reductions import distinct_arrays

V3 = arrays(REAL, shape=(3,))
M23 = arrays(REAL, shape=(2, 3))
M34 = arrays(REAL, shape=(3, 4))
T234 = arrays(REAL, shape=(2, 3, 4))
ORDER = numpy.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 1.0   # for sort helpers

# ---- reshaping -------------------------------------------------------------------------------


@case(numpy.reshape, args=args(M34), vjp=lambda u, x: (2.0 * u.reshape(3, 4),))
def reshape(x):
    return numpy.reshape(x, (2, 6)) * 2.0


@case(numpy.reshape, args=args(M34), vjp=lambda u, x: (u.reshape((3, 4), order="F"),))
def reshape_fortran_order(x):
    return numpy.reshape(x, (4, -1), order="F")


@case(numpy.ndarray.reshape, args=args(M34), vjp=lambda u, x: (u.reshape(3, 4),))
def reshape_method_varargs(x):
    return x.reshape(4, -1)


@case(numpy.ndarray.reshape, args=args(M34), vjp=lambda u, x: (2.0 * x * u.reshape(3, 4),))
def reshape_method_tuple(x):
    return x.reshape((12,)) * x.reshape(-1)


@case(numpy.ravel, numpy.ndarray.ravel, numpy.ndarray.flatten, args=args(M34),
      vjp=lambda u, x: ((u[:12] + u[12:24] + u[24:]).reshape(3, 4),))
def ravel_forms(x):
    return numpy.concatenate([numpy.ravel(x), x.ravel(), x.flatten()])


@case(numpy.ravel, numpy.ndarray.flatten, args=args(M23),
      vjp=lambda u, x: (u[:6].reshape((2, 3), order="F") + u[6:].reshape((2, 3), order="F"),))
def ravel_fortran_order(x):
    return numpy.concatenate([numpy.ravel(x, order="F"), x.flatten("F")])


@case(numpy.expand_dims, numpy.squeeze, numpy.ndarray.squeeze, args=args(M34),
      vjp=lambda u, x: (2.0 * u,))
def expand_and_squeeze(x):
    e = numpy.expand_dims(x, 1)
    return numpy.squeeze(e, axis=1) + numpy.expand_dims(x, 0).squeeze()


@case(numpy.expand_dims, args=args(M34),
      vjp=lambda u, x: (u[:12].reshape(3, 4) + u[12:].reshape(3, 4),))
def expand_dims_negative_and_tuple(x):
    return numpy.concatenate([numpy.expand_dims(x, -1).ravel(),
                              numpy.expand_dims(x, (0, 2)).ravel()])


@case(numpy.squeeze, numpy.ndarray.squeeze, args=args(arrays(REAL, shape=(3, 1, 4, 1))),
      vjp=lambda u, x: ((u[0] + u[1] + u[2]).reshape(3, 1, 4, 1),))
def squeeze_axes(x):
    return numpy.stack([numpy.squeeze(x, axis=-1)[:, 0], x.squeeze(1)[..., 0], x.squeeze()])


@case(numpy.broadcast_to, args=args(arrays(REAL, shape=(1, 4))),
      vjp=lambda u, x: (u.sum(axis=0, keepdims=True),))
def broadcast_to(x):
    return numpy.broadcast_to(x, (3, 4))


@case(numpy.broadcast_to, args=args(arrays(REAL, shape=(4,))),
      vjp=lambda u, x: (u.sum(axis=(0, 1)),))
def broadcast_to_new_axes(x):
    return numpy.broadcast_to(x, (2, 3, 4))


@case(numpy.tile, args=args(M23), vjp=lambda u, x: (u.reshape(2, 2, 1, 3).sum(axis=(0, 2)),))
def tile(x):
    return numpy.tile(x, (2, 1))


@case(numpy.tile, args=args(V3), vjp=lambda u, x: (u.reshape(2, 2, 3).sum(axis=(0, 1)),))
def tile_adds_axes(x):
    return numpy.tile(x, (2, 2))


@case(numpy.tile, args=args(M23), vjp=lambda u, x: (u.reshape(2, 3, 3).sum(axis=1),))
def tile_int(x):
    return numpy.tile(x, 3)


# ---- permuting axes --------------------------------------------------------------------------


@case(numpy.transpose, args=args(T234), vjp=lambda u, x: (numpy.transpose(u, (1, 2, 0)),))
def transpose_axes(x):
    return numpy.transpose(x, (2, 0, 1))


@case(numpy.transpose, args=args(T234), vjp=lambda u, x: (numpy.transpose(u, (1, 2, 0)),))
def transpose_negative_axes(x):
    return numpy.transpose(x, (-1, 0, 1))


@case(numpy.transpose, args=args(M34), vjp=lambda u, x: (3.0 * u.T,))
def transpose_default(x):
    return numpy.transpose(x) * 3.0


@case(numpy.ndarray.transpose, args=args(T234))
def transpose_method(x):
    back = x.transpose().transpose(2, 1, 0)
    return x.transpose(1, 0, 2) + x.transpose((1, 0, 2)) * back.transpose(1, 0, 2)


@case(numpy.ndarray.transpose, args=args(T234),
      vjp=lambda u, x: (3.0 * numpy.transpose(u, (1, 2, 0)),))
def transpose_method_negative_axes(x):
    return x.transpose(-1, 0, 1) * 2.0 + x.transpose((2, -3, 1))


@case(numpy.ndarray.T, args=args(M34), vjp=lambda u, x: (u.T,))
def dot_T(x):
    return x.T


@case(numpy.ndarray.T, args=args(T234), vjp=lambda u, x: (numpy.transpose(u),))
def dot_T_reverses_all_axes(x):
    return x.T


@case(numpy.swapaxes, numpy.ndarray.swapaxes, args=args(T234),
      vjp=lambda u, x: (2.0 * x * numpy.swapaxes(u, 0, 2),))
def swapaxes(x):
    return numpy.swapaxes(x, 0, 2) * x.swapaxes(0, 2)


@case(numpy.swapaxes, numpy.ndarray.swapaxes, args=args(T234),
      vjp=lambda u, x: (numpy.swapaxes(u, 0, 1) + numpy.swapaxes(u, 0, 1),))
def swapaxes_negative(x):
    return numpy.swapaxes(x, -3, 1) + x.swapaxes(1, -3)


@case(numpy.moveaxis, args=args(T234), vjp=lambda u, x: (numpy.moveaxis(u, 2, 0),))
def moveaxis(x):
    return numpy.moveaxis(x, 0, -1)


@case(numpy.moveaxis, args=args(T234),
      vjp=lambda u, x: (numpy.transpose(u, (2, 0, 1)),))
def moveaxis_several(x):
    return numpy.moveaxis(x, (0, 1), (-1, 0))


@case(numpy.flip, args=args(M34), vjp=lambda u, x: (numpy.flip(u, 1),))
def flip(x):
    return numpy.flip(x, 1)


@case(numpy.flip, args=args(T234), vjp=lambda u, x: (u[::-1, :, ::-1] + u[::-1, ::-1, ::-1],))
def flip_axes_and_all(x):
    return numpy.flip(x, (0, -1)) + numpy.flip(x)


# ---- joining and splitting -------------------------------------------------------------------


@case(numpy.concatenate, args=args(M34, arrays(REAL, shape=(3, 2))),
      vjp=lambda u, a, b: (u[:, :4], u[:, 4:]))
def concatenate(a, b):
    return numpy.concatenate([a, b], axis=1)


@case(numpy.concatenate, args=args(M23, arrays(REAL, shape=(1, 3)), M23),
      vjp=lambda u, a, b, c: (u[:2], u[2:3], u[3:]))
def concatenate_three(a, b, c):
    return numpy.concatenate((a, b, c))


@case(numpy.concatenate, args=args(T234, arrays(REAL, shape=(2, 3, 1))),
      vjp=lambda u, a, b: (u[..., :4], u[..., 4:]))
def concatenate_negative_axis(a, b):
    return numpy.concatenate([a, b], axis=-1)


@case(numpy.stack, args=args(V3, V3), vjp=lambda u, a, b: (u[:, 0], u[:, 1]))
def stack(a, b):
    return numpy.stack([a, b], axis=1)


@case(numpy.stack, args=args(M23, M23, M23),
      vjp=lambda u, a, b, c: (u[..., 0], u[..., 1], u[..., 2]))
def stack_negative_axis(a, b, c):
    return numpy.stack((a, b, c), axis=-1)


@case(numpy.stack, args=args(M23, M23), vjp=lambda u, a, b: (u[0], u[1]))
def stack_default_axis(a, b):
    return numpy.stack([a, b])


@case(numpy.hstack, numpy.vstack, args=args(V3, V3),
      vjp=lambda u, a, b: (u[:3] + b * u[6:9], 2.0 * u[3:6] + a * u[6:9] + u[9:]))
def hstack_vstack(a, b):
    return numpy.concatenate([numpy.hstack([a, b * 2.0]), numpy.ravel(numpy.vstack([a * b, b]))])


@case(numpy.hstack, numpy.vstack, args=args(M34, M34))
def hstack_vstack_matrices(a, b):
    return numpy.hstack([a, b]) * numpy.vstack([a, b]).reshape(3, 8)


@case(numpy.hstack, args=args(M23, arrays(REAL, shape=(2, 1))),
      vjp=lambda u, a, b: (u[:, :3], u[:, 3:]))
def hstack_matrices(a, b):
    return numpy.hstack((a, b))


@case(numpy.vstack, args=args(M23, V3), vjp=lambda u, a, b: (u[:2], u[2]))
def vstack_matrix_and_vector(a, b):
    return numpy.vstack([a, b])


@case(numpy.hstack, numpy.vstack, args=args(V3, scalars(REAL)),
      vjp=lambda u, a, s: (u[:3], u[3] + u[4] + 2.0 * u[5]))
def hstack_vstack_with_scalar(a, s):
    return numpy.concatenate([numpy.hstack([a, s]), numpy.ravel(numpy.vstack([s, s * 2.0]))])


@case(numpy.split, numpy.array_split, args=args(arrays(REAL, shape=(6, 2))))
def split(x):
    first, second, third = numpy.split(x, 3)
    parts = numpy.array_split(x, [1, 4], axis=0)
    return first * second + parts[1][:2] * 2.0 + third


def _split_vjp(u, x):
    g = numpy.zeros((2, 6))
    g[:, :2] = u[:, :2]                  # first piece
    g[:, 5:] = u[:, 2:]                  # last piece, x[:, 5:]
    return (g,)


@case(numpy.split, args=args(arrays(REAL, shape=(2, 6))), vjp=_split_vjp)
def split_indices_negative_axis(x):
    first, middle, last = numpy.split(x, [2, 5], axis=-1)
    return numpy.concatenate([first, last], axis=1)


def _array_split_vjp(u, x):
    g = numpy.zeros((7, 2))
    g[:3] = u[:3]                        # pieces of 3, 2, 2 rows: the first and the last
    g[5:] = u[3:]
    return (g,)


@case(numpy.array_split, args=args(arrays(REAL, shape=(7, 2))), vjp=_array_split_vjp)
def array_split_uneven(x):
    pieces = numpy.array_split(x, 3)
    return numpy.concatenate([pieces[0], pieces[2]])


# ---- the helpers' own rules (derivatives of generated code) ----------------------------------

X3 = numpy.zeros(3)
X23 = numpy.zeros((2, 3))


@case(runtime.unvstack, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, g: (numpy.vstack([u[:6].reshape(2, 3), 2.0 * u[6:]]),))
def unvstack(g):
    matrix, row = runtime.unvstack(g, [X23, X3])
    return numpy.concatenate([numpy.ravel(matrix), row * 2.0])


@case(runtime.unhstack, args=args(arrays(REAL, shape=(2, 5))),
      vjp=lambda u, g: (numpy.hstack([u[:, :3], 3.0 * u[:, 3:]]),))
def unhstack_matrices(g):
    pieces = runtime.unhstack(g, [X23, X23[:, :2]])
    return numpy.hstack([pieces[0], pieces[1] * 3.0])


@case(runtime.unhstack, args=args(arrays(REAL, shape=(4,))),
      vjp=lambda u, g: (numpy.hstack([u[:3], [2.0 * u[3]]]),))
def unhstack_vector_and_scalar(g):
    vector, scalar = runtime.unhstack(g, [X3, 0.0])
    return numpy.hstack([vector, scalar * 2.0])


@case(runtime.untile, args=args(arrays(REAL, shape=(2, 6))),
      vjp=lambda u, g: (numpy.tile(u, (2, 2)),))
def untile(g):
    return runtime.untile(g, X3, (2, 2))


# ---- sorting ---------------------------------------------------------------------------------
# Values are distinct and at least 0.01 apart, so no finite-difference step reorders them.


def _unsort(u, x, axis=-1):
    """Reference adjoint of numpy.sort: `u` put back where each sorted value came from."""
    if axis is None:
        out = numpy.zeros(x.size)
        out[numpy.argsort(x, axis=None)] = u
        return out.reshape(x.shape)
    out = numpy.zeros(x.shape)
    numpy.put_along_axis(out, numpy.argsort(x, axis=axis), u, axis=axis)
    return out


@case(numpy.sort, args=args(distinct_arrays(min_dims=1)), vjp=lambda u, x: (_unsort(u, x),))
def sort(x):
    return numpy.sort(x)


@case(numpy.sort, args=args(distinct_arrays(shape=(3, 2, 2))),
      vjp=lambda u, x: (_unsort(u, x, 0),))
def sort_axis(x):
    return numpy.sort(x, axis=0)


@case(numpy.sort, args=args(distinct_arrays(max_dims=2)),
      vjp=lambda u, x: (_unsort(u, x, None),))
def sort_flattened(x):
    return numpy.sort(x, axis=None)


@case(runtime.sort_tangent, args=args(T234), vjp=lambda u, t: (_unsort(u, ORDER, 1),))
def sort_tangent(t):
    return runtime.sort_tangent(t, ORDER, 1)


@case(runtime.sort_adjoint, args=args(T234),
      vjp=lambda u, g: (numpy.take_along_axis(u, numpy.argsort(ORDER, axis=1), axis=1),))
def sort_adjoint(g):
    return runtime.sort_adjoint(g, ORDER, 1)


@case(runtime.sort_tangent, runtime.sort_adjoint, args=args(arrays(REAL, shape=(3, 4))))
def sort_helpers_flattened(t):
    return runtime.sort_adjoint(runtime.sort_tangent(t, ORDER[0], None) ** 2, ORDER[0], None)


@case(numpy.full_like, args=args(M23, scalars()), wrt=1,
      vjp=lambda u, x, s: (numpy.sum(u * x),))
def full_like_fill(x, s):
    return numpy.full_like(x, s) * x


@case(numpy.full, args=args(arrays(REAL, shape=(3,))), vjp=lambda u, v: (u.sum(axis=0),))
def full_of_a_row(v):
    return numpy.full((2, 3), v)
