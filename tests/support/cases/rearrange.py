"""Cases for the rules in templates/rearrange.py. References move `u` back by hand: explicit
loops over the result's entries (`_scatter`), or the inverse move written in plain NumPy."""

import itertools

import numpy

from srcad import runtime_arrange
from tests.support.cases import REAL, args, arrays, case
from tests.support.cases.reductions import distinct_arrays

M34 = arrays(REAL, shape=(3, 4))
T234 = arrays(REAL, shape=(2, 3, 4))
V5 = arrays(REAL, shape=(5,))
INDEX = numpy.array([[0, 2], [1, 1], [2, 0]])


def _scatter(u, shape, source):
    """The adjoint of a move: for every entry of `u`, add it at `source(result index)` (a tuple
    index into an array of `shape`, or None for an entry that comes from nowhere)."""
    out = numpy.zeros(shape)
    for where in itertools.product(*(range(n) for n in u.shape)):
        place = source(where)
        if place is not None:
            out[place] += u[where]
    return out


@case(numpy.tril, numpy.triu, args=args(M34),
      vjp=lambda u, x: (numpy.tril(u, -1) + numpy.triu(u, 1),))
def tril_triu(x):
    return numpy.tril(x, -1) + numpy.triu(x, k=1)


@case(numpy.tril, args=args(T234), vjp=lambda u, x: (numpy.tril(u),))
def tril_batched(x):
    return numpy.tril(x)


@case(numpy.flipud, numpy.fliplr, args=args(M34), vjp=lambda u, x: (u[::-1] + u[:, ::-1],))
def flipud_fliplr(x):
    return numpy.flipud(x) + numpy.fliplr(x)


@case(numpy.rot90, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: (w[1], 3 - w[0])),))
def rot90(x):
    return numpy.rot90(x)


@case(numpy.rot90, args=args(T234),
      vjp=lambda u, x: (_scatter(u, (2, 3, 4), lambda w: (w[0], 2 - w[2], w[1])),))
def rot90_axes(x):
    return numpy.rot90(x, 3, axes=(1, 2))


@case(numpy.roll, args=args(V5),
      vjp=lambda u, x: (_scatter(u, (5,), lambda w: ((w[0] - 2) % 5,)),))
def roll(x):
    return numpy.roll(x, 2)


@case(numpy.roll, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: ((w[0] + 1) % 3, (w[1] - 3) % 4)),))
def roll_axes(x):
    return numpy.roll(x, (-1, 3), axis=(0, 1))


@case(numpy.atleast_1d, numpy.atleast_2d, numpy.atleast_3d,
      args=args(arrays(REAL, max_dims=3)),
      vjp=lambda u, x: (u * 3.0 * numpy.ones(numpy.shape(x)),))
def atleast(x):
    return numpy.sum(numpy.atleast_1d(x)) + numpy.sum(numpy.atleast_2d(x)) + numpy.sum(
        numpy.atleast_3d(x))


@case(numpy.repeat, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: (w[0] // 2, w[1])),))
def repeat_axis(x):
    return numpy.repeat(x, 2, axis=0)


@case(numpy.repeat, args=args(V5),
      vjp=lambda u, x: (_scatter(u, (5,), lambda w: ([0, 1, 1, 2, 2, 2, 4][w[0]],)),))
def repeat_counts(x):
    return numpy.repeat(x, [1, 2, 3, 0, 1])


@case(numpy.take, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: (w[0], INDEX[w[1], w[2]])),))
def take_axis(x):
    return numpy.take(x, INDEX, axis=1)


@case(numpy.take, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: divmod([11, 0, 5, 5][w[0]], 4)),))
def take_flat(x):
    return numpy.take(x, [-1, 0, 5, 5])


@case(numpy.take_along_axis, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, x: (_scatter(u, (3, 3), lambda w: (w[0], INDEX[w[0], w[1]])),))
def take_along_axis(x):
    return numpy.take_along_axis(x, INDEX, axis=1)


@case(numpy.delete, args=args(M34),
      vjp=lambda u, x: (_scatter(u, (3, 4), lambda w: (w[0], [0, 2][w[1]])),))
def delete(x):
    return numpy.delete(x, [1, 3], axis=1)


@case(numpy.resize, args=args(V5),
      vjp=lambda u, x: (_scatter(u, (5,), lambda w: ((w[0] * 3 + w[1]) % 5,)),))
def resize(x):
    return numpy.resize(x, (4, 3))


@case(numpy.diagflat, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (numpy.diagonal(u, 1).copy(),))
def diagflat(x):
    return numpy.diagflat(x, k=1)


@case(numpy.compress, numpy.extract, args=args(M34),
      vjp=lambda u, x: (_compress_vjp(u, x),))
def compress_extract(x):
    return numpy.concatenate([numpy.compress(ROWS, x, axis=0).ravel(), numpy.extract(PICK, x)])


ROWS = numpy.array([True, False, True])
PICK = numpy.arange(12).reshape(3, 4) % 5 == 1


def _compress_vjp(u, x):
    out = numpy.zeros((3, 4))
    out[[0, 2]] += u[:8].reshape(2, 4)
    out[numpy.arange(12).reshape(3, 4) % 5 == 1] += u[8:]
    return out


COLUMNS = numpy.array([False, True, True])


def _compress_columns_vjp(u):
    out = numpy.zeros((3, 4))
    out[:, 1:3] += u[:6].reshape(3, 2)
    out.reshape(-1)[1:3] += u[6:]              # the flattened array's entries 1 and 2
    return out


@case(numpy.ndarray.compress, args=args(M34),
      vjp=lambda u, x: (_compress_columns_vjp(u),))
def compress_method(x):                 # the method, along an axis and of the flat array
    return numpy.concatenate([x.compress(COLUMNS, axis=1).ravel(), x.compress(COLUMNS)])


def _pad_source(w, shape, before, mode):
    """The index into `shape` that numpy.pad's entry `w` copies (None for a constant)."""
    place = []
    for i, n, b in zip(w, shape, before):
        j = i - b
        if 0 <= j < n:
            place.append(j)
        elif mode == "constant":
            return None
        elif mode == "edge":
            place.append(min(max(j, 0), n - 1))
        elif mode == "wrap":
            place.append(j % n)
        else:                                       # reflect, within one period here
            place.append(-j if j < 0 else 2 * (n - 1) - j)
    return tuple(place)


@case(numpy.pad, args=args(M34), vjp=lambda u, x: (
    _scatter(u, (3, 4), lambda w: _pad_source(w, (3, 4), (1, 2), "constant")),))
def pad_constant(x):
    return numpy.pad(x, ((1, 0), (2, 1)))


def _pad_modes_vjp(u, x):
    modes = ["edge", "wrap", "reflect"]
    return (sum(_scatter(u[k], (3, 4), lambda w, m=m: _pad_source(w, (3, 4), (2, 2), m))
                for k, m in enumerate(modes)),)


@case(numpy.pad, args=args(M34), vjp=_pad_modes_vjp)
def pad_modes(x):
    return numpy.stack([numpy.pad(x, 2, mode="edge"), numpy.pad(x, 2, "wrap"),
                        numpy.pad(x, 2, mode="reflect")])


def _diff_matrix(n, times):
    m = numpy.eye(n)
    for _ in range(times):
        m = m[1:] - m[:-1]
    return m


@case(numpy.diff, args=args(V5), vjp=lambda u, x: (_diff_matrix(5, 1).T @ u,))
def diff(x):
    return numpy.diff(x)


@case(numpy.diff, args=args(M34), vjp=lambda u, x: (_diff_matrix(3, 2).T @ u,))
def diff_twice_axis(x):
    return numpy.diff(x, n=2, axis=0)


@case(numpy.append, args=args(M34, arrays(REAL, shape=(2, 2))),
      vjp=lambda u, x, v: (u[:12].reshape(3, 4), u[12:].reshape(2, 2)))
def append_flat(x, v):
    return numpy.append(x, v)


@case(numpy.append, args=args(M34, arrays(REAL, shape=(3, 2))),
      vjp=lambda u, x, v: (u[:, :4], u[:, 4:]))
def append_axis(x, v):
    return numpy.append(x, v, axis=1)


@case(numpy.append, args=args(M34), vjp=lambda u, x: (u[:12].reshape(3, 4),))
def append_constant(x):
    return numpy.append(x, [1.0, 2.0])


@case(numpy.column_stack, args=args(arrays(REAL, shape=(3,)), M34),
      vjp=lambda u, v, x: (u[:, 0], u[:, 1:]))
def column_stack(v, x):
    return numpy.column_stack([v, x])


@case(numpy.dstack, args=args(M34, arrays(REAL, shape=(3, 4, 2))),
      vjp=lambda u, x, t: (u[:, :, 0], u[:, :, 1:]))
def dstack(x, t):
    return numpy.dstack((x, t))


def _splits_vjp(u, x):
    out = numpy.zeros((2, 4, 6))
    out[:, :2] += u[:24].reshape(2, 2, 6)             # the halves along axis 1
    out[:, 2:] += u[24:48].reshape(2, 2, 6)
    out[:1] += u[48:72].reshape(1, 4, 6)              # the first row along axis 0
    out[:, :, :3] += u[72:].reshape(2, 4, 3)          # the first half along axis 2
    return (out,)


@case(numpy.hsplit, numpy.vsplit, numpy.dsplit, args=args(arrays(REAL, shape=(2, 4, 6))),
      vjp=_splits_vjp)
def splits(x):
    h = numpy.hsplit(x, 2)
    v = numpy.vsplit(x, [1])
    dd = numpy.dsplit(x, 2)
    return numpy.concatenate([h[0].ravel(), h[1].ravel(), v[0].ravel(), dd[0].ravel()])


# ---- the helpers --------------------------------------------------------------------------


@case(runtime_arrange.placed, runtime_arrange.gathered, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g: (_helpers_vjp(u),))
def placed_gathered(g):
    return runtime_arrange.placed(g, ZEROS4, PLACES) + runtime_arrange.gathered(
        runtime_arrange.placed(g, ZEROS4, PLACES), PLACES).sum()


ZEROS4 = numpy.zeros(4)
PLACES = numpy.array([[0, -1, 3], [3, 2, 0]])


def _helpers_vjp(u):
    index = numpy.array([[0, -1, 3], [3, 2, 0]])
    total = u.sum()
    back = numpy.where(index >= 0, u[numpy.maximum(index, 0)], 0.0)
    gathered_back = numpy.zeros(4)
    for i in index.ravel():
        if i >= 0:
            gathered_back[i] += total
    return back + numpy.where(index >= 0, gathered_back[numpy.maximum(index, 0)], 0.0)


@case(runtime_arrange.undiff, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, g: (_diff_matrix(5, 2) @ u,))
def undiff(g):
    return runtime_arrange.undiff(g, numpy.zeros(5), 2, -1)


@case(runtime_arrange.uncolumn_stack, runtime_arrange.undstack,
      args=args(arrays(REAL, shape=(3, 3, 1))),
      vjp=lambda u, g: (_stack_helpers_vjp(u),))
def stack_helpers(g):
    pieces = runtime_arrange.uncolumn_stack(g[:, :, 0], [numpy.zeros(3), numpy.zeros((3, 2))])
    slabs = runtime_arrange.undstack(g, [numpy.zeros((3, 3))])
    return numpy.concatenate([pieces[0], pieces[1].ravel(), slabs[0].ravel()])


def _stack_helpers_vjp(u):
    out = numpy.zeros((3, 3, 1))
    out[:, 0, 0] += u[:3]
    out[:, 1:, 0] += u[3:9].reshape(3, 2)
    out[:, :, 0] += u[9:].reshape(3, 3)
    return out


@case(numpy.rollaxis, args=args(T234), vjp=lambda u, x: (numpy.moveaxis(u, 0, 2),))
def rollaxis(x):
    return numpy.rollaxis(x, 2)


@case(numpy.ediff1d, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, x: ((_diff_matrix(6, 1).T @ u).reshape(2, 3),))
def ediff1d(x):
    return numpy.ediff1d(x)


@case(numpy.ndarray.take, numpy.ndarray.repeat, args=args(M34),
      vjp=lambda u, x: (_scatter(u[:6].reshape(3, 2), (3, 4), lambda w: (w[0], [2, 0][w[1]]))
                        + _scatter(u[6:].reshape(6, 4), (3, 4), lambda w: (w[0] // 2, w[1])),))
def take_repeat_methods(x):
    return numpy.concatenate([x.take([2, 0], axis=1).ravel(), x.repeat(2, axis=0).ravel()])


def _partition_vjp(u, x, kth):
    order = numpy.argpartition(x, kth, axis=-1)
    out = numpy.zeros_like(x)
    numpy.put_along_axis(out, order, u, axis=-1)
    return out


@case(numpy.partition, args=args(distinct_arrays(shape=(3, 5))),
      vjp=lambda u, x: (_partition_vjp(u, x, 2),))
def partition(x):
    return numpy.partition(x, 2)


@case(numpy.unstack, args=args(T234), vjp=lambda u, x: (numpy.moveaxis(
    numpy.stack([u[:8].reshape(2, 4), u[8:16].reshape(2, 4), u[16:].reshape(2, 4)]), 0, 1),))
def unstack(x):
    p = numpy.unstack(x, axis=1)
    return numpy.concatenate([p[0].ravel(), p[1].ravel(), p[2].ravel()])


@case(numpy.fft.fftshift, numpy.fft.ifftshift, args=args(arrays(REAL, shape=(3, 5))),
      vjp=lambda u, x: (numpy.roll(u, (-1, -2), (0, 1)) + numpy.roll(u, (1, 2), (0, 1)),))
def fftshifts(x):
    return numpy.fft.fftshift(x) + numpy.fft.ifftshift(x)


def _select_vjp(u, a, b):
    first = A_ABOVE
    second = numpy.logical_and(numpy.logical_not(A_ABOVE), B_ABOVE)
    return numpy.where(first, u, 0.0), numpy.sum(numpy.where(second, u, 0.0), axis=0)


A_ABOVE = numpy.array([[True, False, False, True], [False, False, True, True],
                       [True, True, False, False]])
B_ABOVE = numpy.array([True, True, False, True])


@case(numpy.select, args=args(M34, arrays(REAL, shape=(4,))), vjp=_select_vjp)
def select(a, b):
    return numpy.select([A_ABOVE, B_ABOVE], [a, b], default=7.0)


@case(runtime_arrange.select_pieces, args=args(M34),
      vjp=lambda u, g: (numpy.where(A_ABOVE, u, 0.0),))
def select_pieces(g):
    return runtime_arrange.select_pieces(g, [A_ABOVE], [numpy.zeros((3, 4))])[0]


@case(numpy.trapezoid, args=args(M34),
      vjp=lambda u, y: (u[:3, None] * numpy.array([0.25, 0.5, 0.5, 0.25])
                        + u[None, 3:] * numpy.array([[0.5], [1.5], [1.0]]),))
def trapezoid(y):
    return numpy.concatenate([numpy.trapezoid(y, dx=0.5),
                              numpy.trapezoid(y, SAMPLES, axis=0)])


SAMPLES = numpy.array([0.0, 1.0, 3.0])
