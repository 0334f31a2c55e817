"""Cases for the rules in templates/pieces.py. Shapes are drawn; references cut `u` back into
the pieces by hand (slices, numpy.delete at the inserted places, sums over a grid's other axes,
masks of the chosen entries), never through srcad's helpers."""

import numpy
from hypothesis import strategies as st

from srcad import runtime_pieces
from tests.support.cases import REAL, args, arrays, broadcast_args, case, scalars, sum_to

SIDES = st.integers(1, 4)


def _matrices(*shapes):
    """A strategy for a tuple of arrays of the given shapes, each a string of side names drawn
    once for all (letters) or of fixed sides (digits): `_matrices("pq", "p1")`."""
    names = sorted({n for shape in shapes for n in shape if n.isalpha()})

    def build(sides):
        side = dict(zip(names, sides))
        return st.tuples(*(arrays(REAL, shape=tuple(side[n] if n.isalpha() else int(n)
                                                     for n in shape)) for shape in shapes))
    return st.tuples(*[SIDES] * len(names)).flatmap(build)


# ---- insert -------------------------------------------------------------------------------


@case(numpy.insert, args=_matrices("pq", "p1"),
      vjp=lambda u, a, v: (numpy.delete(u, [0, 2, 3], axis=1),
                           numpy.sum(u[:, [0, 2, 3]], axis=1, keepdims=True)))
def insert_columns(a, v):
    return numpy.insert(a, [0, 1, 1], v, axis=1)          # v broadcast over three columns


@case(numpy.insert, args=args(arrays(REAL, max_dims=3), scalars(REAL)),
      vjp=lambda u, a, v: (numpy.reshape(numpy.delete(u, 1), numpy.shape(a)), u[1]))
def insert_flat(a, v):
    return numpy.insert(a, 1, v)                           # a flattened, one value


@case(numpy.insert, args=_matrices("pq", "q"),
      vjp=lambda u, a, w: (numpy.delete(u, 1, axis=0), u[1]))
def insert_row(a, w):
    return numpy.insert(a, 1, w, axis=0)


@case(numpy.insert, args=args(arrays(REAL, shape=(4,)), arrays(REAL, shape=(2,))),
      vjp=lambda u, a, w: (numpy.delete(u, [0, 2]), u[[0, 2]]))
def insert_slice(a, w):
    return numpy.insert(a, slice(0, 2), w)


@case(numpy.insert, args=args(arrays(REAL, min_dims=1, max_dims=1), scalars(REAL), scalars(REAL)),
      vjp=lambda u, a, s, t: (numpy.delete(u, [1, 2]), u[1] + t * u[2], s * u[2]))
def insert_a_list(a, s, t):
    return numpy.insert(a, 1, [s, t * s])                  # one index, two values


# ---- block --------------------------------------------------------------------------------


@case(numpy.block, args=_matrices("pq", "pr", "sq", "sr"),
      vjp=lambda u, a, b, c, e: (u[:a.shape[0], :a.shape[1]], u[:a.shape[0], a.shape[1]:],
                                 u[a.shape[0]:, :a.shape[1]], u[a.shape[0]:, a.shape[1]:]))
def block_2x2(a, b, c, e):
    return numpy.block([[a, b], [c, e]])


@case(numpy.block, args=_matrices("p", "q"),
      vjp=lambda u, a, b: (3.0 * u[:a.size], u[a.size + 1:]))
def block_of_vectors_and_a_number(a, b):
    parts = [3.0 * a, 2.5, b]
    return numpy.block(parts)


@case(numpy.block, args=_matrices("pq", "pq", "q"),
      vjp=lambda u, a, b, c: (u[0], u[1], u[2].sum(axis=0)))
def block_depth_three(a, b, c):
    return numpy.block([[[a]], [[b]], [[numpy.broadcast_to(c, a.shape)]]])


@case(numpy.block, args=args(arrays(REAL, max_dims=3)), vjp=lambda u, a: (u,))
def block_of_one_array(a):
    return numpy.block(a)


# ---- meshgrid -----------------------------------------------------------------------------


@case(numpy.meshgrid, args=_matrices("p", "q"),
      vjp=lambda u, a, b: (numpy.sum(u[0] * 2.0, axis=0), numpy.sum(u[1], axis=1)))
def meshgrid_xy(a, b):
    x, y = numpy.meshgrid(a, b)
    return numpy.stack([2.0 * x, y])


@case(numpy.meshgrid, args=_matrices("pq", "r", "s"),
      vjp=lambda u, a, b, c: (numpy.reshape(numpy.sum(u, axis=(1, 2)), a.shape),
                              numpy.sum(u, axis=(0, 2)) * 0.5, numpy.sum(u * 3.0, axis=(0, 1))))
def meshgrid_ij_sparse(a, b, c):
    grids = numpy.meshgrid(a, b, c, indexing="ij", sparse=True, copy=False)
    return grids[0] + 0.5 * grids[1] + 3.0 * grids[2]       # (a.size, r, s) by broadcasting


@case(numpy.meshgrid, args=_matrices("p", "q", "r"),
      vjp=lambda u, a, b, c: (numpy.sum(u, axis=(0, 2)), numpy.sum(u, axis=(1, 2)),
                              numpy.sum(u, axis=(0, 1))))
def meshgrid_xy_three(a, b, c):
    x, y, z = numpy.meshgrid(a, b, c)                      # shape (q, p, r)
    return x + y + z


@case(numpy.meshgrid, args=_matrices("p"), vjp=lambda u, a: (u,))
def meshgrid_one(a):
    return numpy.meshgrid(a)[0]


# ---- broadcast_arrays ---------------------------------------------------------------------


@case(numpy.broadcast_arrays, args=broadcast_args(REAL, REAL),
      vjp=lambda u, a, b: (sum_to(u * numpy.broadcast_arrays(a, b)[1], numpy.shape(a)),
                           sum_to(u * numpy.broadcast_arrays(a, b)[0], numpy.shape(b))))
def broadcast_arrays(a, b):
    p, q = numpy.broadcast_arrays(a, b)
    return p * q


@case(numpy.broadcast_arrays, args=broadcast_args(REAL, REAL, REAL),
      vjp=lambda u, a, b, c: (sum_to(u, numpy.shape(a)), sum_to(-2.0 * u, numpy.shape(b)),
                              sum_to(numpy.zeros_like(u), numpy.shape(c))))
def broadcast_arrays_three(a, b, c):
    pieces = numpy.broadcast_arrays(a, b, c, 1.0)
    return pieces[0] - 2.0 * pieces[1] + 0.0 * pieces[2] * pieces[3]


# ---- choose -------------------------------------------------------------------------------

CHOICE = numpy.array([[0, 1, 2], [4, -1, 1]])           # out of range: wrapped or clipped


def _chosen(u, index, k, shape):
    return sum_to(numpy.where(index == k, u, 0.0), shape)


@case(numpy.choose, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(3,)),
                              arrays(REAL, shape=(2, 1))),
      vjp=lambda u, a, b, c: tuple(_chosen(u, CHOICE % 3, k, x.shape) + _chosen(
          u, numpy.clip(CHOICE, 0, 2), k, x.shape) for k, x in enumerate((a, b, c))))
def choose_modes(a, b, c):
    return (numpy.choose(CHOICE, [a, b, c], mode="wrap")
            + numpy.choose(CHOICE, (a, b, c), mode="clip"))


@case(numpy.choose, numpy.ndarray.choose, args=args(arrays(REAL, shape=(3, 2, 3))),
      vjp=lambda u, c: (numpy.stack([numpy.where(numpy.clip(CHOICE, 0, 2) == k, 2.0 * u, 0.0)
                                     for k in range(3)]),))
def choose_from_an_array(c):
    index = numpy.clip(CHOICE, 0, 2)
    return numpy.choose(index, c) + index.choose(c, mode="raise")


# ---- the helpers --------------------------------------------------------------------------

LEAVES = [[numpy.zeros((2, 1)), numpy.zeros((2, 2))], [numpy.zeros((1, 3))]]


@case(runtime_pieces.unblock, args=args(arrays(REAL, shape=(3, 3))),
      vjp=lambda u, g: (numpy.block([[u[:2].reshape(2, 1), u[2:6].reshape(2, 2)],
                                     [u[6:].reshape(1, 3)]]),))
def unblock(g):
    pieces = runtime_pieces.unblock(g, LEAVES)
    return numpy.concatenate([pieces[0][0].ravel(), pieces[0][1].ravel(), pieces[1][0].ravel()])


@case(runtime_pieces.unmeshgrid, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g0, g1: (numpy.broadcast_to(u[:3], (2, 3)),
                             numpy.broadcast_to(u[3:, None], (2, 3))))
def unmeshgrid(g0, g1):
    return numpy.concatenate(runtime_pieces.unmeshgrid([g0, g1], [numpy.zeros(3),
                                                                  numpy.zeros(2)]))


@case(runtime_pieces.unbroadcast_each, runtime_pieces.broadcast_each,
      args=args(arrays(REAL, shape=(3, 4)), arrays(REAL, shape=(3, 4))),
      vjp=lambda u, g0, g1: (numpy.broadcast_to(u[:3, None] + u[7:10, None], (3, 4)),
                             numpy.broadcast_to(u[3:7] + u[10:], (3, 4))))
def unbroadcast_each(g0, g1):
    pieces = runtime_pieces.unbroadcast_each([g0, g1], [numpy.zeros((3, 1)), numpy.zeros(4)])
    grids = runtime_pieces.broadcast_each(pieces)         # back to (3, 4): each g summed twice
    return numpy.concatenate([pieces[0].ravel(), pieces[1], grids[0][:, 0], grids[1][0]])


CHOICES = [numpy.zeros((2, 3)), numpy.zeros(3), numpy.zeros((2, 1))]


def _choose_pieces_vjp(u):
    index, out, start = CHOICE % 3, numpy.zeros((2, 3)), 0
    for k, choice in enumerate(CHOICES):
        piece = numpy.reshape(u[start:start + choice.size], choice.shape)
        out += numpy.where(index == k, numpy.broadcast_to(piece, (2, 3)), 0.0)
        start += choice.size
    return out


@case(runtime_pieces.choose_pieces, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g: (_choose_pieces_vjp(u),))
def choose_pieces(g):
    pieces = runtime_pieces.choose_pieces(g, CHOICE, CHOICES, "wrap")
    return numpy.concatenate([pieces[0].ravel(), pieces[1], pieces[2].ravel()])
