"""Cases for cov and corrcoef (templates/statistics.py). References are autograd's
vector-Jacobian products of covariances written out from their definition (weighted means,
centred products over the normalization NumPy documents), an implementation independent of
NumPy's and srcad's."""

import autograd
import autograd.numpy as anp
import numpy
from hypothesis import strategies as st

from srcad import runtime_statistics
from tests.support.cases import REAL, args, arrays, case
from tests.support.cases.reductions import distinct_arrays

FW = numpy.array([1, 2, 1, 3, 1])        # integers: NumPy scales float64 fweights in place
AW = numpy.array([0.5, 1.5, 1.0, 0.8, 2.0])
ROWS = st.integers(1, 3).flatmap(lambda p: arrays(REAL, shape=(p, 5)))


def _cov(x, ddof=1, fw=None, aw=None):
    """Covariance of the rows of x (variables by observations) from its definition."""
    w = anp.ones(x.shape[1]) * (1.0 if fw is None else fw) * (1.0 if aw is None else aw)
    centred = x - anp.sum(x * w, axis=1, keepdims=True) / anp.sum(w)
    if fw is None and aw is None:
        fact = x.shape[1] - ddof
    elif aw is None:
        fact = anp.sum(w) - ddof
    else:
        fact = anp.sum(w) - ddof * anp.sum(w * aw) / anp.sum(w)
    return anp.dot(centred * w, centred.T) / fact


def _corr(x):
    c = _cov(x)
    s = anp.sqrt(anp.diag(c))
    return c / anp.outer(s, s)


def _vjp(f):
    """The reference vjp of `f` (written with autograd.numpy) in every argument."""
    def vjp(u, *xs):
        return tuple(autograd.make_vjp(f, i)(*xs)[0](u) for i in range(len(xs)))
    return vjp


@case(numpy.cov, args=args(ROWS, arrays(REAL, shape=(2, 5))),
      vjp=_vjp(lambda m, y: anp.concatenate([anp.ravel(_cov(anp.concatenate([m, y]))),
                                             anp.ravel(_cov(m.T, ddof=0))])))
def cov(m, y):
    return numpy.concatenate([numpy.cov(m, y).ravel(), numpy.ravel(numpy.cov(m, rowvar=False,
                                                                              bias=True))])


@case(numpy.cov, args=args(arrays(REAL, shape=(5,)), arrays(REAL, shape=(5, 2))),
      vjp=_vjp(lambda v, y: anp.concatenate([
          anp.ravel(_cov(anp.concatenate([v[None], y.T]), ddof=2)),
          anp.ravel(_cov(v[None], fw=FW)), anp.ravel(_cov(y.T, aw=AW)),
          anp.ravel(_cov(y.T, ddof=1, fw=FW, aw=AW))])))
def cov_vector_weights(v, y):
    return numpy.concatenate([numpy.cov(v, y, rowvar=False, ddof=2).ravel(),
                              numpy.ravel(numpy.cov(v, fweights=FW)),
                              numpy.cov(y, rowvar=False, aweights=AW).ravel(),
                              numpy.cov(y.T, None, True, False, 1, FW, AW).ravel()])


@case(numpy.corrcoef, args=args(distinct_arrays(shape=(3, 5)), distinct_arrays(shape=(5,))),
      vjp=_vjp(lambda x, y: anp.concatenate([anp.ravel(_corr(anp.concatenate([x, y[None]]))),
                                             anp.ravel(_corr(x.T))])))
def corrcoef(x, y):
    return numpy.concatenate([numpy.corrcoef(x, y).ravel(),
                              numpy.corrcoef(x, rowvar=False).ravel()])


@case(numpy.corrcoef, args=args(distinct_arrays(shape=(4,))), vjp=lambda u, x: (u,))
def corrcoef_of_one_variable(x):
    return numpy.corrcoef(x) * x               # the correlation of one variable is 1


@case(runtime_statistics.cov_place, runtime_statistics.cov_part,
      runtime_statistics.plus_transpose,
      args=args(arrays(REAL, shape=(5, 2)), arrays(REAL, shape=(3, 5))))
def cov_helpers(t, g):
    m, y = numpy.ones((3, 5)), numpy.ones((5, 2))
    return numpy.concatenate([
        runtime_statistics.cov_place(t, m, y, False, 1).ravel(),
        runtime_statistics.cov_part(g * g, numpy.ones((5, 2)), numpy.ones(5), False, 0).ravel(),
        runtime_statistics.plus_transpose(g[:2, :2] * t[:2], t[:2]).ravel()])
