"""Cases for the rules in templates/construction.py (numpy.linspace).

The analytic vector-Jacobian products use linspace's own weights, written out here:
sample i is `(1 - t_i) * start + t_i * stop`, `t_i = i / (num - 1)` (or `i / num` without
the endpoint).
"""

import numpy

from srcad import runtime_construction
from tests.support.cases import REAL, args, arrays, broadcast_args, case, scalars, sum_to

G243 = numpy.zeros((2, 4, 3))


def _weights(num, endpoint):
    return numpy.arange(num) / (num - 1 if endpoint else num)


@case(numpy.linspace, args=args(scalars(REAL), scalars(REAL)),
      vjp=lambda u, a, b: (numpy.sum(u * (1 - _weights(5, True))),
                           numpy.sum(u * _weights(5, True))))
def linspace_scalars(a, b):
    return numpy.linspace(a, b, 5)


@case(numpy.linspace, args=args(scalars(REAL), scalars(REAL)),
      vjp=lambda u, a, b: (numpy.sum(u * (1 - _weights(4, False))),
                           numpy.sum(u * _weights(4, False))))
def linspace_without_endpoint(a, b):
    return numpy.linspace(a, b, num=4, endpoint=False)


@case(numpy.linspace, args=broadcast_args(REAL, REAL, max_dims=2),
      vjp=lambda u, a, b: (sum_to(numpy.moveaxis(u, 0, -1) @ (1 - _weights(3, True)),
                                  numpy.shape(a)),
                           sum_to(numpy.moveaxis(u, 0, -1) @ _weights(3, True), numpy.shape(b))))
def linspace_of_arrays(a, b):
    return numpy.linspace(a, b, 3)


@case(numpy.linspace, args=args(arrays(REAL, shape=(2,)), scalars(REAL)),
      vjp=lambda u, a, b: (numpy.sum(u * (1 - _weights(4, True)), axis=-1),
                           numpy.sum(u * _weights(4, True))))
def linspace_along_the_last_axis(a, b):
    return numpy.linspace(a, b, 4, axis=-1)


@case(numpy.linspace, args=args(scalars(REAL)), wrt=0,
      vjp=lambda u, a: (numpy.sum(u * _weights(6, True)) * 2.0,))
def linspace_with_one_constant_end(a):
    return numpy.linspace(1.5, 2.0 * a, 6)


# ---- logspace and geomspace: y = base ** linspace and start (stop / start) ** t -------------

LOG2 = numpy.log(2.0)


@case(numpy.logspace, args=args(scalars(REAL), scalars(REAL)),
      vjp=lambda u, a, b: (numpy.sum(u * 2.0 ** (a + (b - a) * _weights(5, True)) * LOG2
                                     * (1 - _weights(5, True))),
                           numpy.sum(u * 2.0 ** (a + (b - a) * _weights(5, True)) * LOG2
                                     * _weights(5, True))))
def logspace_base_two(a, b):
    return numpy.logspace(a, b, 5, base=2.0)


def _logspace_vjp(u, a, b, num, at_stop):
    t = _weights(num, False)
    y = 10.0 ** (a[:, None] + (b - a[:, None]) * t)
    weights = t if at_stop else 1 - t
    grad = numpy.sum(u * y * numpy.log(10.0) * weights, axis=-1)
    return numpy.sum(grad) if at_stop else grad


@case(numpy.logspace, args=args(arrays((-1.0, 1.0), shape=(2,)), scalars((-1.0, 1.0))),
      vjp=lambda u, a, b: (_logspace_vjp(u, a, b, 4, False), _logspace_vjp(u, a, b, 4, True)))
def logspace_along_the_last_axis(a, b):
    return numpy.logspace(a, b, 4, endpoint=False, axis=-1)


def _geomspace_vjp(u, a, b, num, at_stop):
    t = _weights(num, True).reshape((num,) + (1,) * numpy.ndim(u[0]))
    y = a * (b / a) ** t
    return sum_to(numpy.sum(u * y * t / b if at_stop else u * y * (1 - t) / a, axis=0),
                  numpy.shape(b if at_stop else a))


@case(numpy.geomspace, args=broadcast_args((0.3, 2.5), (0.3, 2.5), max_dims=2),
      vjp=lambda u, a, b: (_geomspace_vjp(u, a, b, 4, False), _geomspace_vjp(u, a, b, 4, True)))
def geomspace_positive(a, b):
    return numpy.geomspace(a, b, 4)


@case(numpy.geomspace, args=broadcast_args((-2.5, -0.3), (-2.5, -0.3), max_dims=2),
      vjp=lambda u, a, b: (_geomspace_vjp(u, a, b, 4, False), _geomspace_vjp(u, a, b, 4, True)))
def geomspace_negative(a, b):
    return numpy.geomspace(a, b, 4)


@case(numpy.geomspace, args=args(scalars((0.3, 2.5))), wrt=0,
      vjp=lambda u, a: (numpy.sum(u * 1.5 * (2.0 * a / 3.0) ** _weights(5, False)
                                  * _weights(5, False) / a),))
def geomspace_without_endpoint(a):
    return numpy.geomspace(3.0, 2.0 * a, 5, endpoint=False) / 2.0


@case(runtime_construction.unlinspace, args=args(arrays(REAL, shape=(2, 4, 3))),
      vjp=lambda u, g: (numpy.broadcast_to(u, (2, 3))[:, None, :]
                        * _weights(4, True)[None, :, None],))
def unlinspace_of_an_adjoint(g):
    return runtime_construction.unlinspace(g, numpy.zeros((2, 1)), 4, True, 1, True)


@case(runtime_construction.relinspace, args=args(arrays(REAL, shape=(2, 1))),
      vjp=lambda u, h: (numpy.sum(u * (1 - _weights(4, False))[None, :, None], axis=(1, 2))[
          :, None],))
def relinspace_of_an_endpoint(h):
    return runtime_construction.relinspace(h, G243, 4, False, -2, False)


# ---- vander and polyval: references from the powers, entry by entry -------------------------


def _vander_vjp(u, x, increasing):
    n = u.shape[1]
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return sum(u[:, j] * k * x ** max(k - 1, 0) for j, k in enumerate(powers))


@case(numpy.vander, args=args(arrays(REAL, min_dims=1, max_dims=1, max_side=5)),
      vjp=lambda u, x: (_vander_vjp(u[:, :4], x, False) + _vander_vjp(u[:, 4:], x, True),))
def vander(x):
    return numpy.concatenate([numpy.vander(x, 4), numpy.vander(x, 3, increasing=True)], axis=1)


@case(numpy.vander, args=args(arrays(REAL, shape=(3,))),
      vjp=lambda u, x: (_vander_vjp(u, x, False),))
def vander_square(x):
    return numpy.vander(x)


def _polyval_vjp(u, p, x):
    n = len(p)
    gp = numpy.array([numpy.sum(u * x ** (n - 1 - k)) for k in range(n)])
    gx = u * sum(p[k] * (n - 1 - k) * x ** max(n - 2 - k, 0) for k in range(n - 1))
    return gp, gx


@case(numpy.polyval, args=args(arrays(REAL, min_dims=1, max_dims=1, max_side=5),
                               arrays(REAL, max_dims=2)),
      vjp=_polyval_vjp)
def polyval(p, x):
    return numpy.polyval(p, x)
