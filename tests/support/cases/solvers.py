"""Cases for the rules in templates/solvers.py. References are autograd's vector-Jacobian
products of the same quantities written another way (a chain of dots for multi_dot, p-norms
summed by hand, singular values from autograd's svd, inv and solve of the matrix forms, the
normal equations for lstsq), or products written out (the helpers)."""

import autograd
import autograd.numpy as anp
import numpy
from hypothesis import strategies as st

from tests.support.cases import REAL, args, arrays, case

SMALL = (-0.3, 0.3)
SIDES = st.integers(1, 4)
BASE = numpy.array([[3.0, 0.5, -0.4, 0.2, 0.1], [0.3, 2.0, 0.6, -0.5, 0.4],
                    [-0.2, 0.4, 4.0, 0.3, -0.6], [0.5, -0.3, 0.2, 2.5, 0.3],
                    [0.1, 0.6, -0.5, 0.4, 3.5], [0.7, -0.2, 0.3, 0.6, -0.4]])
SPREAD = numpy.diag([1.0, 2.5, 4.0])            # keeps singular values apart


def _vjp(f):
    """The reference vjp of `f` (written with autograd.numpy) with respect to every argument."""
    def vjp(u, *xs):
        return tuple(autograd.make_vjp(f, i)(*xs)[0](u) for i in range(len(xs)))
    return vjp


def _shapes(*shapes):
    """A strategy for a tuple of SMALL arrays of the given shapes, strings of side names drawn
    once for all (letters) or of fixed sides (digits)."""
    names = sorted({n for shape in shapes for n in shape if n.isalpha()})

    def build(sides):
        side = dict(zip(names, sides))
        return st.tuples(*(arrays(SMALL, shape=tuple(side[n] if n.isalpha() else int(n)
                                                     for n in shape)) for shape in shapes))
    return st.tuples(*[SIDES] * len(names)).flatmap(build)


# ---- multi_dot ----------------------------------------------------------------------------


@case(numpy.linalg.multi_dot, args=_shapes("pq", "qr", "rs", "st"),
      vjp=_vjp(lambda a, b, c, e: anp.dot(anp.dot(anp.dot(a, b), c), e)))
def multi_dot(a, b, c, e):
    return numpy.linalg.multi_dot([a, b, c, e])


@case(numpy.linalg.multi_dot, args=_shapes("q", "qr", "r"),
      vjp=_vjp(lambda v, b, w: anp.dot(anp.dot(v, b), w)))
def multi_dot_vectors(v, b, w):
    return numpy.linalg.multi_dot([v, b, w])


@case(numpy.linalg.multi_dot, args=_shapes("pq", "q"),
      vjp=_vjp(lambda a, w: anp.dot(a, w)))
def multi_dot_two(a, w):
    arrays = [a, w]
    return numpy.linalg.multi_dot(arrays)


# ---- norms --------------------------------------------------------------------------------


def _p_norm(x, p, axis, keepdims=False):
    return anp.sum(anp.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


@case(numpy.linalg.vector_norm, args=args(arrays(REAL, max_dims=3, away_from_zero=True)),
      vjp=_vjp(lambda x: anp.sqrt(anp.sum(x * x)) + 0.5 * _p_norm(x, 3, None)))
def vector_norm_all(x):
    return numpy.linalg.vector_norm(x) + 0.5 * numpy.linalg.vector_norm(x, ord=3)


@case(numpy.linalg.vector_norm, args=args(arrays(REAL, min_dims=3, max_dims=3,
                                                 away_from_zero=True)),
      vjp=_vjp(lambda x: _p_norm(x, 2, (0, 2), True) * x + anp.sum(anp.abs(x), axis=-1)[
          ..., None]))
def vector_norm_axes(x):
    return (numpy.linalg.vector_norm(x, axis=(0, -1), keepdims=True) * x
            + numpy.linalg.vector_norm(x, axis=2, ord=1)[..., None])


@case(numpy.linalg.vector_norm, args=args(arrays(SMALL, shape=(3, 4))),
      vjp=_vjp(lambda x: anp.max(anp.abs(x + APART), axis=0)
               - anp.min(anp.abs(x + APART), axis=0)))
def vector_norm_inf(x):
    return (numpy.linalg.vector_norm(x + APART, axis=0, ord=numpy.inf)
            - numpy.linalg.vector_norm(x + APART, axis=0, ord=-numpy.inf))


# magnitudes at least 1 apart in each column, away from 0: no ties for max and min
APART = numpy.array([[1.0, 5.0, -9.0, 2.0], [-3.0, -6.0, 10.0, 4.0], [7.0, 8.0, 12.0, -6.0]])


def _singular_values(x):
    return anp.linalg.svd(x, full_matrices=False)[1]


@case(numpy.linalg.matrix_norm, args=args(arrays(SMALL, shape=(2, 3, 4))),
      vjp=_vjp(lambda x: anp.sqrt(anp.sum((x + SPREAD_34) ** 2, axis=(-2, -1)))
               + 0.5 * anp.sum(_singular_values(x + SPREAD_34), axis=-1)
               + anp.max(_singular_values(x + SPREAD_34), axis=-1)))
def matrix_norm(x):
    y = x + SPREAD_34
    return (numpy.linalg.matrix_norm(y) + 0.5 * numpy.linalg.matrix_norm(y, ord="nuc")
            + numpy.linalg.matrix_norm(y, ord=2))


SPREAD_34 = numpy.hstack([SPREAD, numpy.zeros((3, 1))])


@case(numpy.linalg.matrix_norm, args=args(arrays(SMALL, shape=(3, 4))),
      vjp=_vjp(lambda x: anp.max(anp.sum(anp.abs(x + COLUMNS), axis=0)) * anp.ones((1, 1))
               + anp.min(_singular_values(x + SPREAD_34))))
def matrix_norm_1_keepdims(x):
    return (numpy.linalg.matrix_norm(x + COLUMNS, ord=1, keepdims=True)
            + numpy.linalg.matrix_norm(x + SPREAD_34, ord=-2))


COLUMNS = numpy.array([[0.0, -10.0, 20.0, 30.0]])          # the 1-norm's column: the last


# ---- condition numbers --------------------------------------------------------------------


def _cond_2(x):
    s = _singular_values(x)
    return s[..., 0] / s[..., -1]


@case(numpy.linalg.cond, args=args(arrays(SMALL, shape=(2, 3, 3))),
      vjp=_vjp(lambda x: _cond_2(x + SPREAD) + 2.0 / _cond_2(x + SPREAD)))
def cond_two(x):
    return numpy.linalg.cond(x + SPREAD) + 2.0 * numpy.linalg.cond(x + SPREAD, -2)


@case(numpy.linalg.cond, args=args(arrays(SMALL, shape=(3, 4))),
      vjp=_vjp(lambda x: _cond_2(x + SPREAD_34)))
def cond_wide(x):
    return numpy.linalg.cond(x + SPREAD_34, 2)


# no entry of ROWS + x or its inverse near 0 (|.| has a kink there), row sums apart (no ties)
ROWS = numpy.array([[1.0, 0.4, 0.3], [0.5, 3.0, 0.6], [0.2, 0.7, 6.0]])


def _fro(x):
    return anp.sqrt(anp.sum(x * x, axis=(-2, -1)))


@case(numpy.linalg.cond, args=args(arrays((-0.02, 0.02), shape=(3, 3))),
      vjp=_vjp(lambda x: _fro(x + ROWS) * _fro(anp.linalg.inv(x + ROWS))
               + anp.sum(_singular_values(x + ROWS))
               * anp.sum(_singular_values(anp.linalg.inv(x + ROWS)))
               + anp.max(anp.sum(anp.abs(x + ROWS), axis=1))
               * anp.max(anp.sum(anp.abs(anp.linalg.inv(x + ROWS)), axis=1))))
def cond_norms(x):
    y = x + ROWS
    return numpy.linalg.cond(y, "fro") + numpy.linalg.cond(y, "nuc") + numpy.linalg.cond(
        y, numpy.inf)


# ---- tensorinv, tensorsolve ---------------------------------------------------------------

EYE_2323 = 3.0 * numpy.eye(6).reshape(2, 3, 2, 3)
EYE_623 = numpy.moveaxis(3.0 * numpy.eye(6).reshape(2, 3, 6), 2, 0)


@case(numpy.linalg.tensorinv, args=args(arrays(SMALL, shape=(2, 3, 2, 3))),
      vjp=_vjp(lambda a: anp.reshape(anp.linalg.inv(anp.reshape(a + EYE_2323, (6, 6))),
                                     (2, 3, 2, 3))))
def tensorinv(a):
    return numpy.linalg.tensorinv(a + EYE_2323)


@case(numpy.linalg.tensorinv, args=args(arrays(SMALL, shape=(6, 2, 3))),
      vjp=_vjp(lambda a: anp.reshape(anp.linalg.inv(anp.reshape(a + EYE_623, (6, 6))),
                                     (2, 3, 6))))
def tensorinv_ind_1(a):
    return numpy.linalg.tensorinv(a + EYE_623, ind=1)


@case(numpy.linalg.tensorsolve, args=args(arrays(SMALL, shape=(2, 3, 2, 3)),
                                          arrays(REAL, shape=(2, 3))),
      vjp=_vjp(lambda a, b: anp.reshape(anp.linalg.solve(anp.reshape(a + EYE_2323, (6, 6)),
                                                         anp.ravel(b)), (2, 3))))
def tensorsolve(a, b):
    return numpy.linalg.tensorsolve(a + EYE_2323, b)


@case(numpy.linalg.tensorsolve, args=args(arrays(SMALL, shape=(6, 2, 3)),
                                          arrays(REAL, shape=(2, 3))),
      vjp=_vjp(lambda a, b: anp.linalg.solve(
          anp.reshape(anp.transpose(a + EYE_623, (1, 2, 0)), (6, 6)), anp.ravel(b))))
def tensorsolve_axes(a, b):
    return numpy.linalg.tensorsolve(a + EYE_623, b, axes=(0,))


# ---- least squares ------------------------------------------------------------------------


def _systems(tall, vector):
    """(a, b): a full-rank matrix (BASE's corner plus SMALL entries), taller than wide when
    `tall`, and a vector or matrix of right-hand sides."""
    def build(sides):
        m, n, k = sides
        m, n = (m + n, n) if tall else (m, m + n)
        a = arrays(SMALL, shape=(m, n)).map(lambda x: x + (BASE[:m, :n] if tall else
                                                          BASE[:n, :m].T))
        return st.tuples(a, arrays(REAL, shape=(m,) if vector else (m, k)))
    return st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).flatmap(build)


def _lstsq_tall(a, b):
    x = anp.linalg.solve(anp.dot(a.T, a), anp.dot(a.T, b))
    r = b - anp.dot(a, x)
    return anp.concatenate([anp.ravel(x), anp.atleast_1d(anp.sum(r * r, axis=0)),
                            anp.linalg.svd(a, full_matrices=False)[1]])


@case(numpy.linalg.lstsq, args=_systems(tall=True, vector=False), vjp=_vjp(_lstsq_tall))
def lstsq_tall(a, b):
    x, residuals, rank, s = numpy.linalg.lstsq(a, b)
    return numpy.concatenate([numpy.ravel(x), residuals, s])


@case(numpy.linalg.lstsq, args=_systems(tall=True, vector=True), vjp=_vjp(_lstsq_tall))
def lstsq_tall_vector(a, b):
    x, residuals, rank, s = numpy.linalg.lstsq(a, b, rcond=None)
    return numpy.concatenate([numpy.ravel(x), residuals, s])


def _lstsq_wide(a, b):
    return anp.ravel(anp.dot(a.T, anp.linalg.solve(anp.dot(a, a.T), b)))


@case(numpy.linalg.lstsq, args=_systems(tall=False, vector=False), vjp=_vjp(_lstsq_wide))
def lstsq_wide(a, b):
    return numpy.ravel(numpy.linalg.lstsq(a, b)[0])


@case(numpy.linalg.lstsq, args=_systems(tall=False, vector=True), vjp=_vjp(_lstsq_wide))
def lstsq_wide_vector(a, b):
    solution = numpy.linalg.lstsq(a, b)
    return solution[0]

