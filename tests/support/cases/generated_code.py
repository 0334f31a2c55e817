"""Cases for templates/generated_code.py: the helpers generated code calls, differentiated in
their derivative arguments (the others are data: shapes, indices, masks)."""

import numpy

from srcad import runtime, runtime_exact
from tests.support.cases import POSITIVE, REAL, args, arrays, broadcast_args, case, sum_to

X23 = numpy.zeros((2, 3))
X3 = numpy.zeros(3)
MATRIX = numpy.array([[1.0, 2.0, 3.0], [0.5, 0.1, 4.0]])


@case(runtime.unbroadcast, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g: (numpy.broadcast_to(u, (2, 3)),))
def unbroadcast(g):
    return runtime.unbroadcast(g, X3)


@case(runtime.broadcast_as, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, t: (sum_to(u, (3,)),))
def broadcast_as(t):
    return runtime.broadcast_as(t, X23)


@case(runtime.unreduce, args=args(arrays(REAL, shape=(2,))),
      vjp=lambda u, g: (u.sum(axis=1),))
def unreduce_axis(g):
    return runtime.unreduce(g, X23, 1)


@case(runtime.unreduce, args=args(arrays(REAL, shape=())))
def unreduce_all(g):
    return runtime.unreduce(g, X23)


@case(runtime.extremum_adjoint, args=args(arrays(REAL, shape=(2,))))
def extremum_adjoint(g):
    return runtime.extremum_adjoint(g, MATRIX, MATRIX.max(axis=1), 1)


@case(runtime.extremum_tangent, args=args(arrays(REAL, shape=(2, 3))))
def extremum_tangent(t):
    return runtime.extremum_tangent(t, MATRIX, MATRIX.min(axis=0), 0)


@case(runtime.cast_like, args=args(arrays(REAL, shape=(3,))), vjp=lambda u, g: (u,))
def cast_like(g):
    return runtime.cast_like(g, X3)


@case(runtime.add_popped, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3,))),
      vjp=lambda u, a, b: (u, u))
def add_popped(a, b):
    return runtime.add_popped(a, b)


@case(runtime.matmul_adjoint_left, args=args(arrays(REAL, shape=(2,)), arrays(REAL, shape=(3,))),
      vjp=lambda u, g, y: (u @ y, u.T @ g))
def matmul_adjoint_left_vector(g, y):
    return runtime.matmul_adjoint_left(g, X23, y)


@case(runtime.matmul_adjoint_left, args=args(arrays(REAL, shape=(2, 4)),
                                             arrays(REAL, shape=(3, 4))))
def matmul_adjoint_left_matrix(g, y):
    return runtime.matmul_adjoint_left(g, X23, y)


@case(runtime.matmul_adjoint_right, args=args(arrays(REAL, shape=(3,)),
                                              arrays(REAL, shape=(3, 2))),
      vjp=lambda u, g, x: (x @ u, numpy.outer(u, g).T))
def matmul_adjoint_right_vector(g, x):
    return runtime.matmul_adjoint_right(g, x, X23[0, :2])


@case(runtime.matmul_adjoint_right, args=args(arrays(REAL, shape=(4, 2)),
                                              arrays(REAL, shape=(4, 3))))
def matmul_adjoint_right_matrix(g, x):
    return runtime.matmul_adjoint_right(g, x, X23.T)


@case(runtime.scatter_add, args=args(arrays(REAL, shape=(3,))))
def scatter_add(g):
    return runtime.scatter_add(g, X3, numpy.array([0, 1, 1]))


@case(runtime.item_adjoint, args=args(arrays(REAL, shape=(3,))))
def item_adjoint(g):
    pieces = runtime.item_adjoint(g, [X3, X3], 1)
    return pieces[0] + pieces[1] * 2.0


@case(runtime.split_like, args=args(arrays(REAL, shape=(5,))))
def split_like(g):
    first, second = runtime.split_like(g, [X3[:2], X3], 0)
    return numpy.sum(first * 2.0) + second


@case(runtime.unstack, args=args(arrays(REAL, shape=(2, 3))))
def unstack(g):
    rows = runtime.unstack(g, 0)
    return rows[0] * rows[1]




@case(runtime.add_sequences, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3,))))
def add_sequences(a, b):
    total = runtime.add_sequences([a, b * 2.0], [b, a * a])
    return total[0] * total[1]


@case(runtime_exact.power_slope, args=broadcast_args(POSITIVE, REAL))
def power_slope(x, y):
    return runtime_exact.power_slope(x, y)


EXPONENTS = numpy.array([0.0, 1.0, 2.0])


@case(runtime_exact.power_slope, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (u * numpy.array([0.0, 0.0, 2.0]),))
def power_slope_of_polynomial_terms(x):
    return runtime_exact.power_slope(x, EXPONENTS)   # d/dx of 1, x, x ** 2: 0, 1, 2x


@case(runtime_exact.std_divisor, args=args(arrays(POSITIVE, shape=(2,))),
      vjp=lambda u, y: (3.0 * u,))
def std_divisor(y):
    return runtime_exact.std_divisor(y, X23, 3.0)


@case(runtime_exact.std_divisor, args=args(arrays(POSITIVE, shape=(3,))),
      vjp=lambda u, y: (0.0 * u,))
def std_divisor_of_single_entries(y):
    return runtime_exact.std_divisor(y, X3, 1.0)



REPEATS = numpy.array([0, 2, 0, 1, 2])


@case(runtime_exact.last_writes, args=args(arrays(REAL, shape=(4,))),
      vjp=lambda u, g: (numpy.bincount([0, 1, 2], u[[2, 3, 4]], minlength=4),))
def last_writes_through_repeats(g):
    return runtime_exact.last_writes(g, REPEATS)        # positions 2, 3, 4 survive


@case(runtime_exact.last_writes, args=args(arrays(REAL, shape=(2, 3))))
def last_writes_through_a_slice(g):
    return runtime_exact.last_writes(g, (slice(None), 1))


@case(runtime.array_adjoint, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g: (u,))
def array_adjoint_to_a_list(g):
    pieces = runtime.array_adjoint(g, [X3, X3])
    return numpy.stack([pieces[0], pieces[1]])


@case(runtime.array_adjoint, args=args(arrays(REAL, shape=(1, 3))),
      vjp=lambda u, g: (u[None],))
def array_adjoint_to_an_array(g):
    return runtime.array_adjoint(g, X3)            # undoes ndmin=2


@case(runtime_exact.values_of, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(2,))))
def values_of(a, b):
    pieces = runtime_exact.values_of({"b": b, "a": a}, ("a", "b"))
    return numpy.sum(pieces[0] * 2.0) + pieces[1]



def _scan_vjp(u, a, b):
    """The vjp of `z[k] = sum_{j <= k} b[j] prod_{j < i <= k} a[i]` (1-D), by loops."""
    da, db = numpy.zeros_like(a), numpy.zeros_like(b)
    for k in range(len(a)):
        for j in range(k + 1):
            db[j] += u[k] * numpy.prod(a[j + 1:k + 1])
            for m in range(j + 1, k + 1):
                da[m] += u[k] * b[j] * numpy.prod(numpy.delete(a[j + 1:k + 1], m - j - 1))
    return da, db


def _scan_back_vjp(u, a, b):
    """The vjp of `scan_back`: that of the scan of the reversed `b` with the reversed `a[1:]`
    (`a[0]` is not used)."""
    da, db = _scan_vjp(u[::-1], numpy.concatenate([[1.0], a[:0:-1]]), b[::-1])
    return numpy.concatenate([[0.0], da[:0:-1]]), db[::-1]


ZEROS5 = numpy.array([False, True, False, False, True])


def _masked(mask, da, db):
    """(da with 0 where `mask` holds (those entries are replaced by 0 before the scan), db)."""
    return numpy.where(mask, 0.0, da), db


@case(runtime_exact.scan, args=args(arrays(REAL, shape=(5,)), arrays(REAL, shape=(5,))),
      vjp=lambda u, a, b: _masked(ZEROS5, *_scan_vjp(u, numpy.where(ZEROS5, 0.0, a), b)))
def scan_through_zeros(a, b):
    return runtime_exact.scan(numpy.where(ZEROS5, 0.0, a), b)


@case(runtime_exact.scan_back, args=args(arrays(REAL, shape=(5,)), arrays(REAL, shape=(5,))),
      vjp=lambda u, a, b: _scan_back_vjp(u, a, b))
def scan_back(a, b):
    return runtime_exact.scan_back(a, b)


@case(runtime_exact.scan, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(2, 3))))
def scan_along_the_first_axis(a, b):
    return runtime_exact.scan(a, b, 0)


@case(runtime_exact.shifted, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, y: (numpy.concatenate([u[:, 1:], numpy.zeros((2, 1))], axis=1),))
def shifted(y):
    return runtime_exact.shifted(y, 1, 1.0)


@case(runtime_exact.shifted_back, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, y: (numpy.concatenate([numpy.zeros((1, 3)), u[:-1]]),))
def shifted_back(y):
    return runtime_exact.shifted_back(y, 0)
