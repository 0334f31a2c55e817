"""Cases for the reduction rules in templates/reductions.py.

References (`vjp=`) are written from the math in plain NumPy: `spread(u, shape, axis, keepdims)`
gives each entry of the input the cotangent of the slice it was reduced into. Max, min and the
extremum-based norms draw distinct values (on a grid, so no two are within the finite-difference
step); std and var draw slices of at least two distinct values.
"""

import math

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcad import runtime
from tests.support.cases import POSITIVE, REAL, args, arrays, case, scalars

# ---- strategies and references ---------------------------------------------------------------


def distinct_arrays(min_dims=0, max_dims=3, min_side=1, max_side=4, shape=None, signed=True):
    """Arrays of distinct values at least 0.01 apart (in magnitude too when `signed`)."""
    shapes = st.just(shape) if shape is not None else hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    magnitudes = st.integers(10, 300).map(lambda k: k / 100)

    def build(s):
        values = hnp.arrays(numpy.float64, s, elements=magnitudes, unique=True)
        signs = hnp.arrays(numpy.float64, s, elements=st.sampled_from([-1.0, 1.0]) if signed
                           else st.just(1.0))
        return st.tuples(values, signs).map(lambda pair: pair[0] * pair[1])
    return shapes.flatmap(build)


def grid_arrays(min_dims=0, max_dims=3, max_side=4, zeros=False):
    """Arrays of values on a coarse grid, with (when `zeros`) many exact zeros."""
    elements = st.integers(-8, 8).map(lambda k: k / 4)
    if zeros:
        elements = st.one_of(st.just(0.0), elements)
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side).flatmap(
        lambda s: hnp.arrays(numpy.float64, s, elements=elements))


def near(base):
    """Arrays close to the matrix `base`: each entry moves by at most 0.05."""
    base = numpy.asarray(base, float)
    noise = hnp.arrays(numpy.float64, base.shape, elements=st.floats(-0.05, 0.05))
    return noise.map(lambda n: base + n)


def reduced_axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axis)


def spread(u, shape, axis=None, keepdims=False):
    """The cotangent `u` of a reduction over `axis`, repeated over the reduced axes of `shape`."""
    axes = reduced_axes(len(shape), axis)
    u = numpy.asarray(u, float)
    if not keepdims:
        u = u.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return numpy.broadcast_to(u, shape)


def slice_size(shape, axis):
    return math.prod(shape[a] for a in reduced_axes(len(shape), axis))


# ---- sum -------------------------------------------------------------------------------------


@case(numpy.sum, args=args(arrays(REAL)), vjp=lambda u, x: (spread(u, x.shape),))
def sum_all(x):
    return numpy.sum(x)


@case(numpy.sum, args=args(scalars(REAL)), vjp=lambda u, x: (u,))
def sum_scalar(x):
    return numpy.sum(x)


@case(numpy.sum, args=args(arrays(REAL, min_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, 1, True),))
def sum_axis_keepdims(x):
    return numpy.sum(x, axis=1, keepdims=True)


@case(numpy.sum, args=args(arrays(REAL, min_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, -1),))
def sum_negative_axis(x):
    return numpy.sum(x, axis=-1)


@case(numpy.sum, args=args(arrays(REAL, min_dims=3)),
      vjp=lambda u, x: (spread(u, x.shape, (0, -1)),))
def sum_tuple_axis(x):
    return numpy.sum(x, axis=(0, -1))


@case(numpy.sum, args=args(arrays(REAL, min_dims=1)),
      vjp=lambda u, x: (spread(u, x.shape, None, True),))
def sum_all_keepdims(x):
    return numpy.sum(x, keepdims=True)


@case(numpy.ndarray.sum, args=args(arrays(REAL)), vjp=lambda u, x: (spread(u, x.shape),))
def sum_method(x):
    return x.sum()


@case(numpy.ndarray.sum, args=args(arrays(REAL, min_dims=3)),
      vjp=lambda u, x: (spread(u, x.shape, (1, 2), True),))
def sum_method_tuple_keepdims(x):
    return x.sum(axis=(1, 2), keepdims=True)


# ---- mean ------------------------------------------------------------------------------------


@case(numpy.mean, args=args(arrays(REAL)), vjp=lambda u, x: (spread(u, x.shape) / x.size,))
def mean_all(x):
    return numpy.mean(x)


@case(numpy.mean, args=args(scalars(REAL)), vjp=lambda u, x: (u,))
def mean_scalar(x):
    return numpy.mean(x)


@case(numpy.mean, args=args(arrays(REAL, min_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, -2) / x.shape[-2],))
def mean_negative_axis(x):
    return numpy.mean(x, axis=-2)


@case(numpy.mean, args=args(arrays(REAL, min_dims=3)),
      vjp=lambda u, x: (spread(u, x.shape, (0, 2), True) / slice_size(x.shape, (0, 2)),))
def mean_tuple_keepdims(x):
    return numpy.mean(x, axis=(0, 2), keepdims=True)


@case(numpy.ndarray.mean, args=args(arrays(REAL, min_dims=1)),
      vjp=lambda u, x: (spread(u, x.shape, 0) / x.shape[0],))
def mean_method(x):
    return x.mean(axis=0)


# ---- prod ------------------------------------------------------------------------------------


def others(x, axis=None):
    """Reference: for each entry, the product of the other entries of its slice (by setting the
    entry to 1 and multiplying the slice out)."""
    out = numpy.empty(x.shape)
    for index in numpy.ndindex(*x.shape):
        one = x.copy()
        one[index] = 1.0
        out[index] = numpy.broadcast_to(numpy.prod(one, axis=axis, keepdims=True),
                                        x.shape)[index]
    return out


@case(numpy.prod, args=args(arrays(POSITIVE)),
      vjp=lambda u, x: (spread(u, x.shape) * others(x),))
def prod_all(x):
    return numpy.prod(x)


@case(numpy.prod, args=args(grid_arrays(zeros=True)),
      vjp=lambda u, x: (spread(u, x.shape) * others(x),))
def prod_all_with_zeros(x):
    return numpy.prod(x)


@case(numpy.prod, args=args(grid_arrays(min_dims=2, zeros=True)),
      vjp=lambda u, x: (spread(u, x.shape, -1) * others(x, -1),))
def prod_axis_with_zeros(x):
    return numpy.prod(x, axis=-1)


@case(numpy.prod, args=args(grid_arrays(min_dims=3, zeros=True)),
      vjp=lambda u, x: (spread(u, x.shape, (0, 2), True) * others(x, (0, 2)),))
def prod_tuple_keepdims(x):
    return numpy.prod(x, axis=(0, 2), keepdims=True)


@case(numpy.prod, args=args(scalars(REAL)), vjp=lambda u, x: (u,))
def prod_scalar(x):
    return numpy.prod(x)


@case(numpy.ndarray.prod, args=args(grid_arrays(min_dims=2, zeros=True)),
      vjp=lambda u, x: (spread(u, x.shape, 1, True) * others(x, 1),))
def prod_method(x):
    return x.prod(axis=1, keepdims=True)


# ---- max and min -----------------------------------------------------------------------------


def argmax_mask(x, axis=None, keepdims=False, lowest=False):
    best = numpy.min(x, axis=axis, keepdims=True) if lowest else \
        numpy.max(x, axis=axis, keepdims=True)
    return (x == best).astype(float)


@case(numpy.max, args=args(distinct_arrays()),
      vjp=lambda u, x: (spread(u, x.shape) * argmax_mask(x),))
def max_all(x):
    return numpy.max(x)


@case(numpy.max, args=args(distinct_arrays(min_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, -1, True) * argmax_mask(x, -1),))
def max_axis_keepdims(x):
    return numpy.max(x, axis=-1, keepdims=True)


@case(numpy.amax, args=args(distinct_arrays(min_dims=3)),
      vjp=lambda u, x: (spread(u, x.shape, (0, 1)) * argmax_mask(x, (0, 1)),))
def amax_tuple(x):
    return numpy.amax(x, axis=(0, 1))


@case(numpy.ndarray.max, args=args(distinct_arrays(min_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, 0) * argmax_mask(x, 0),))
def max_method(x):
    return x.max(axis=0)


@case(numpy.min, args=args(distinct_arrays(min_dims=1)),
      vjp=lambda u, x: (spread(u, x.shape, 0) * argmax_mask(x, 0, lowest=True),))
def min_axis(x):
    return numpy.min(x, axis=0)


@case(numpy.amin, args=args(distinct_arrays()),
      vjp=lambda u, x: (spread(u, x.shape, None, True) * argmax_mask(x, lowest=True),))
def amin_keepdims(x):
    return numpy.amin(x, keepdims=True)


@case(numpy.ndarray.min, args=args(distinct_arrays()),
      vjp=lambda u, x: (spread(u, x.shape) * argmax_mask(x, lowest=True),))
def min_method(x):
    return x.min()


# ---- var and std -----------------------------------------------------------------------------


def var_vjp(u, x, axis=None, keepdims=False, ddof=0):
    centered = x - numpy.mean(x, axis=axis, keepdims=True)
    return spread(u, x.shape, axis, keepdims) * 2 * centered / (slice_size(x.shape, axis) - ddof)


def std_vjp(u, x, axis=None, keepdims=False, ddof=0):
    std = numpy.std(x, axis=axis, keepdims=True, ddof=ddof)
    return var_vjp(u, x, axis, keepdims, ddof) / (2 * numpy.broadcast_to(std, x.shape))


@case(numpy.var, args=args(distinct_arrays(min_dims=1, min_side=2)),
      vjp=lambda u, x: (var_vjp(u, x),))
def var_all(x):
    return numpy.var(x)


@case(numpy.var, args=args(distinct_arrays(min_dims=2, min_side=2)),
      vjp=lambda u, x: (var_vjp(u, x, -1, True, ddof=1),))
def var_axis_ddof(x):
    return numpy.var(x, axis=-1, ddof=1, keepdims=True)


@case(numpy.ndarray.var, args=args(distinct_arrays(min_dims=3, min_side=2)),
      vjp=lambda u, x: (var_vjp(u, x, (0, 2)),))
def var_method_tuple(x):
    return x.var(axis=(0, 2))


@case(numpy.std, args=args(distinct_arrays(min_dims=1, min_side=2)),
      vjp=lambda u, x: (std_vjp(u, x),))
def std_all(x):
    return numpy.std(x)


@case(numpy.std, args=args(distinct_arrays(min_dims=2, min_side=2)),
      vjp=lambda u, x: (std_vjp(u, x, 0, ddof=1),))
def std_axis_ddof(x):
    return numpy.std(x, axis=0, ddof=1)


@case(numpy.ndarray.std, args=args(distinct_arrays(min_dims=3, min_side=2)),
      vjp=lambda u, x: (std_vjp(u, x, (1, -1), True),))
def std_method_tuple_keepdims(x):
    return x.std(axis=(1, -1), keepdims=True)


# ---- cumsum ----------------------------------------------------------------------------------


def reverse_cumsum(u, axis):
    return numpy.flip(numpy.cumsum(numpy.flip(u, axis), axis), axis)


@case(numpy.cumsum, args=args(arrays(REAL)),
      vjp=lambda u, x: (reverse_cumsum(u, 0).reshape(x.shape),))
def cumsum_flat(x):
    return numpy.cumsum(x)


@case(numpy.cumsum, args=args(arrays(REAL, min_dims=2)),
      vjp=lambda u, x: (reverse_cumsum(u, -1),))
def cumsum_negative_axis(x):
    return numpy.cumsum(x, axis=-1)


@case(numpy.ndarray.cumsum, args=args(arrays(REAL, min_dims=1)),
      vjp=lambda u, x: (reverse_cumsum(u, 0),))
def cumsum_method(x):
    return x.cumsum(axis=0)


# ---- norm ------------------------------------------------------------------------------------


def euclid_vjp(u, x, axis=None, keepdims=False):
    norm = numpy.sqrt(numpy.sum(x * x, axis=axis, keepdims=True))
    return spread(u, x.shape, axis, keepdims) * x / norm


@case(numpy.linalg.norm, args=args(arrays(REAL, min_dims=1, away_from_zero=True)),
      vjp=lambda u, x: (euclid_vjp(u, x),))
def norm(x):
    return numpy.linalg.norm(x)


@case(numpy.linalg.norm, args=args(arrays(REAL, min_dims=2, away_from_zero=True)),
      vjp=lambda u, x: (euclid_vjp(u, x, -1, True),))
def norm_axis_keepdims(x):
    return numpy.linalg.norm(x, axis=-1, keepdims=True)


@case(numpy.linalg.norm, args=args(arrays(REAL, shape=(4,), away_from_zero=True)),
      vjp=lambda u, x: (euclid_vjp(u, x),))
def norm_vector_2(x):
    return numpy.linalg.norm(x, 2)


@case(numpy.linalg.norm, args=args(arrays(REAL, min_dims=1, max_dims=1, away_from_zero=True)),
      vjp=lambda u, x: (u * numpy.sign(x),))
def norm_vector_1(x):
    return numpy.linalg.norm(x, ord=1)


@case(numpy.linalg.norm, args=args(distinct_arrays(min_dims=2, max_dims=2)),
      vjp=lambda u, x: (spread(u, x.shape, 1) * numpy.sign(x) * argmax_mask(abs(x), 1),))
def norm_vector_inf(x):
    return numpy.linalg.norm(x, ord=numpy.inf, axis=1)


@case(numpy.linalg.norm, args=args(distinct_arrays(min_dims=1, max_dims=1)),
      vjp=lambda u, x: (u * numpy.sign(x) * argmax_mask(abs(x), lowest=True),))
def norm_vector_minus_inf(x):
    return numpy.linalg.norm(x, ord=-numpy.inf)


@case(numpy.linalg.norm, args=args(arrays(REAL, shape=(2, 3), away_from_zero=True)),
      vjp=lambda u, x: (spread(u, x.shape, 0) * numpy.sign(x) * numpy.abs(x) ** 2
                        / numpy.sum(numpy.abs(x) ** 3, axis=0) ** (2 / 3),))
def norm_vector_3(x):
    return numpy.linalg.norm(x, ord=3, axis=0)


@case(numpy.linalg.norm, args=args(arrays(REAL, shape=(3, 2), away_from_zero=True)),
      vjp=lambda u, x: (numpy.zeros(x.shape),))
def norm_vector_0(x):
    return numpy.linalg.norm(x, ord=0, axis=0)


@case(numpy.linalg.norm, args=args(arrays(REAL, shape=(3, 2), away_from_zero=True)),
      vjp=lambda u, x: (euclid_vjp(u, x),))
def norm_fro(x):
    return numpy.linalg.norm(x, "fro")


@case(numpy.linalg.norm, args=args(arrays(REAL, shape=(2, 3, 2), away_from_zero=True)),
      vjp=lambda u, x: (euclid_vjp(u, x, (0, 2)),))
def norm_fro_axes(x):
    return numpy.linalg.norm(x, "fro", axis=(0, 2))


WELL_SEPARATED = [[3.0, 0.5, -0.2], [0.4, -2.0, 0.3], [-0.3, 0.2, 1.0], [0.1, 0.3, -0.4]]
COLUMN_SUMS = [[2.0, -0.5, 1.0], [-1.0, 0.2, -1.0], [0.5, 0.6, 0.4], [0.3, 0.3, 0.2]]


def singular_vjp(u, x, which):
    left, _, right = numpy.linalg.svd(x, full_matrices=False)
    if which is None:
        return (u * left @ right,)
    return (u * numpy.outer(left[:, which], right[which, :]),)


@case(numpy.linalg.norm, args=args(near(WELL_SEPARATED)),
      vjp=lambda u, x: singular_vjp(u, x, 0))
def norm_matrix_2(x):
    return numpy.linalg.norm(x, 2)


@case(numpy.linalg.norm, args=args(near(WELL_SEPARATED)),
      vjp=lambda u, x: singular_vjp(u, x, -1))
def norm_matrix_minus_2(x):
    return numpy.linalg.norm(x, -2)


@case(numpy.linalg.norm, args=args(near(WELL_SEPARATED)),
      vjp=lambda u, x: singular_vjp(u, x, None))
def norm_nuclear(x):
    return numpy.linalg.norm(x, "nuc")


@case(numpy.linalg.norm, args=args(near([WELL_SEPARATED, numpy.flipud(WELL_SEPARATED) / 2])))
def norm_matrix_2_axes(x):
    return numpy.linalg.norm(x, 2, axis=(2, 1))


def column_mask(x, best):
    sums = numpy.sum(numpy.abs(x), axis=0)
    return (sums == best(sums)).astype(float)


@case(numpy.linalg.norm, args=args(near(COLUMN_SUMS)),
      vjp=lambda u, x: (u * numpy.sign(x) * column_mask(x, numpy.max),))
def norm_matrix_1(x):
    return numpy.linalg.norm(x, 1)


@case(numpy.linalg.norm, args=args(near(COLUMN_SUMS)),
      vjp=lambda u, x: (u * numpy.sign(x) * column_mask(x, numpy.min),))
def norm_matrix_minus_1(x):
    return numpy.linalg.norm(x, -1)


@case(numpy.linalg.norm, args=args(near(numpy.transpose(COLUMN_SUMS))),
      vjp=lambda u, x: (u * numpy.sign(x) * column_mask(x.T, numpy.max).reshape(-1, 1),))
def norm_matrix_inf(x):
    return numpy.linalg.norm(x, numpy.inf)


@case(numpy.linalg.norm, args=args(near(numpy.transpose(COLUMN_SUMS))),
      vjp=lambda u, x: (u * numpy.sign(x) * column_mask(x.T, numpy.min).reshape(-1, 1),))
def norm_matrix_minus_inf(x):
    return numpy.linalg.norm(x, -numpy.inf)


@case(numpy.linalg.norm, args=args(near([COLUMN_SUMS, numpy.negative(COLUMN_SUMS)])))
def norm_matrix_1_axes_keepdims(x):
    return numpy.linalg.norm(x, 1, axis=(-1, 1), keepdims=True)


# ---- the helper of Python's sum --------------------------------------------------------------


@case(runtime.sum_adjoint, args=args(arrays(REAL, shape=(2, 3))),
      vjp=lambda u, g: (u[:6].reshape(2, 3) + u[6:9] + u[9],))
def sum_adjoint(g):
    pieces = runtime.sum_adjoint(g, [numpy.zeros((2, 3)), numpy.zeros(3), 0.0])
    return numpy.concatenate([numpy.ravel(pieces[0]), pieces[1], numpy.reshape(pieces[2], (1,))])


@case(numpy.linalg.norm, args=args(scalars(POSITIVE), scalars(POSITIVE)),
      vjp=lambda u, x, y: (u * (x / math.hypot(x, y) + x * y * y / math.sqrt((x * y) ** 2 + 4.0)),
                           u * (y / math.hypot(x, y) + (x * x * y) / math.sqrt((x * y) ** 2
                                                                               + 4.0))))
def norm_of_a_list(x, y):
    return numpy.linalg.norm([x, y]) + numpy.linalg.norm([x * y, 2.0])
