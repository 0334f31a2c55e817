"""Cases for the rules in templates/sampled.py. interp's nodes lie on a grid of tenths and its
points halfway between twentieths, so no point meets a node (where interp has a kink); its
references find each point's interval by a loop and differentiate the line through it."""

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from srcad import runtime_sampled
from tests.support.cases import REAL, args, arrays, case, scalars

NODES = st.lists(st.integers(-20, 20), min_size=2, max_size=5, unique=True).map(
    lambda k: numpy.array(sorted(k), dtype=float) / 10.0)
POINTS = hnp.arrays(numpy.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                    elements=st.integers(-50, 49).map(lambda k: (k + 0.5) / 20.0))


def _nodes_and_values(draw_values=REAL):
    return NODES.flatmap(lambda xp: st.tuples(st.just(xp), hnp.arrays(
        numpy.float64, xp.shape, elements=st.floats(*draw_values, width=64))))


def _interp_args(with_edges=False):
    edges = st.tuples(scalars(), scalars()) if with_edges else st.just(())
    return st.tuples(POINTS, _nodes_and_values(), edges).map(
        lambda p: (p[0], *p[1], *p[2]))


def _interp_vjp(u, x, xp, fp, left=None, right=None):
    """(x, xp, fp, left, right) adjoints of numpy.interp, point by point."""
    gx, gxp, gfp = numpy.zeros_like(x), numpy.zeros_like(xp), numpy.zeros_like(fp)
    gl = gr = 0.0
    for i in numpy.ndindex(x.shape):
        v = x[i]
        if v < xp[0]:
            gl += u[i] if left is not None else 0.0
            gfp[0] += u[i] if left is None else 0.0
        elif v > xp[-1]:
            gr += u[i] if right is not None else 0.0
            gfp[-1] += u[i] if right is None else 0.0
        else:
            j = max(k for k in range(len(xp) - 1) if xp[k] <= v)
            h, t = xp[j + 1] - xp[j], (v - xp[j]) / (xp[j + 1] - xp[j])
            slope = (fp[j + 1] - fp[j]) / h
            gx[i] += u[i] * slope
            gfp[j] += u[i] * (1 - t)
            gfp[j + 1] += u[i] * t
            gxp[j] += -u[i] * slope * (1 - t)
            gxp[j + 1] += -u[i] * slope * t
    return gx, gxp, gfp, gl, gr


@case(numpy.interp, args=_interp_args(), vjp=lambda u, x, xp, fp: _interp_vjp(u, x, xp, fp)[:3])
def interp(x, xp, fp):
    return numpy.interp(x, xp, fp)


@case(numpy.interp, args=_interp_args(with_edges=True), vjp=_interp_vjp)
def interp_left_right(x, xp, fp, left, right):
    return numpy.interp(x, xp, fp, left, right)


@case(numpy.interp, args=st.tuples(POINTS, _nodes_and_values()).map(
    lambda p: (p[0] * 1.37, numpy.roll(p[1][0], 1), p[1][1])))
def interp_period(x, xp, fp):
    return numpy.interp(x, xp, fp, period=2.55)


X = numpy.array([-1.475, -0.725, 0.125, 0.675, 1.925, 2.525])


@case(runtime_sampled.interp_slope, runtime_sampled.interp_transpose,
      runtime_sampled.interp_slope_transpose,
      args=args(arrays(REAL, shape=(6,)), NODES.filter(lambda xp: len(xp) == 4),
                arrays(REAL, shape=(4,))))
def interp_helpers(g, xp, fp):
    return numpy.concatenate([runtime_sampled.interp_slope(X, xp, fp) * g,
                              runtime_sampled.interp_transpose(g, X, xp),
                              runtime_sampled.interp_transpose(g * g, X, xp, 0.5, None),
                              runtime_sampled.interp_slope_transpose(g, X, xp)])


# ---- convolve and correlate: references from the sums that define them ----------------------

VECTORS = st.tuples(arrays(REAL, min_dims=1, max_dims=1, max_side=6),
                    arrays(REAL, min_dims=1, max_dims=1, max_side=6))


def _full_vjp(u, a, v, mode, correlate):
    """Adjoints of a and v by the defining sums: full[k] = sum_i a[i] w[k - i], with w = v for
    convolve and v reversed for correlate; the mode keeps full[start:start + len(u)]."""
    n, m = len(a), len(v)
    w = v[::-1] if correlate else v
    start = {"full": 0, "valid": min(n, m) - 1,
             "same": (min(n, m) // 2 if correlate and n < m else (min(n, m) - 1) // 2)}[mode]
    ga, gw = numpy.zeros(n), numpy.zeros(m)
    for k, uk in enumerate(u):
        for i in range(n):
            if 0 <= start + k - i < m:
                ga[i] += uk * w[start + k - i]
                gw[start + k - i] += uk * a[i]
    return ga, (gw[::-1] if correlate else gw)


def _modes_vjp(u, a, v, correlate, modes):
    sizes = [len(numpy.convolve(a, v, mode)) for mode in modes]
    pieces = numpy.split(u, numpy.cumsum(sizes)[:-1])
    parts = [_full_vjp(p, a, v, mode, correlate) for p, mode in zip(pieces, modes)]
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


@case(numpy.convolve, args=VECTORS,
      vjp=lambda u, a, v: _modes_vjp(u, a, v, False, ("full", "same", "valid")))
def convolve(a, v):
    return numpy.concatenate([numpy.convolve(a, v), numpy.convolve(a, v, "same"),
                              numpy.convolve(a, v, mode="valid")])


@case(numpy.correlate, args=VECTORS,
      vjp=lambda u, a, v: _modes_vjp(u, a, v, True, ("valid", "same", "full")))
def correlate(a, v):
    return numpy.concatenate([numpy.correlate(a, v), numpy.correlate(a, v, "same"),
                              numpy.correlate(a, v, mode="full")])


@case(runtime_sampled.unmode, runtime_sampled.mode_slice,
      args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(9,))))
def mode_helpers(g, h):
    return numpy.concatenate([
        runtime_sampled.unmode(g * g, numpy.ones(2), numpy.ones(4), "valid", numpy.convolve),
        runtime_sampled.mode_slice(h * h, numpy.ones(5), numpy.ones(5), "same",
                                   numpy.correlate)])


# ---- gradient: references from the Jacobian NumPy's gradient gives on the identity ----------

COORDS = numpy.array([0.0, 0.4, 1.1, 1.5, 2.6])


def _jacobian(n, h, edge_order):
    """numpy.gradient as a matrix along one axis of length n (its columns: unit vectors)."""
    return numpy.gradient(numpy.eye(n), h, axis=0, edge_order=edge_order)


def _along(u, n, h, axis, edge_order):
    return numpy.moveaxis(numpy.tensordot(_jacobian(n, h, edge_order).T,
                                          numpy.moveaxis(u, axis, 0), 1), 0, axis)


@case(numpy.gradient, args=args(arrays(REAL, min_dims=1, max_dims=1, max_side=7).filter(
    lambda x: x.size >= 3)),
      vjp=lambda u, x: (_along(u[0], x.size, 1.0, 0, 1) + _along(u[1], x.size, 0.5, 0, 2),))
def gradient(x):
    return numpy.stack([numpy.gradient(x), numpy.gradient(x, 0.5, edge_order=2)])


@case(numpy.gradient, args=args(arrays(REAL, shape=(3, 5))),
      vjp=lambda u, x: (_along(u[0], 3, 0.3, 0, 1) + _along(u[1], 5, COORDS, 1, 1)
                        + _along(u[2], 5, COORDS, 1, 2),))
def gradient_coordinates(x):
    gx, gy = numpy.gradient(x, 0.3, COORDS)
    return numpy.stack([gx, gy, numpy.gradient(x, COORDS, axis=-1, edge_order=2)])


@case(runtime_sampled.gradient_of, runtime_sampled.ungradient,
      runtime_sampled.gradient_transpose,
      args=args(arrays(REAL, shape=(3, 5)), arrays(REAL, shape=(4,))))
def gradient_helpers(t, g):
    return numpy.concatenate([
        numpy.ravel(runtime_sampled.gradient_of(t, (COORDS,), 1, 2)),
        numpy.ravel(runtime_sampled.ungradient([t[:, :4], t[:, 1:] * t[:, 1:]], t[:, :4],
                                               (0.5, 2.0), None, 1)),
        runtime_sampled.gradient_transpose(g * g, 0.25, 0, 2)])
