"""Primitives whose results carry no derivative: they are constants for srcad.

Applied to differentiated values they give no derivative and no error:

- comparisons and logic: greater, less, equal, ..., logical_and/or/not/xor, isclose, isin;
- positions: argmax, argmin, argsort, argpartition, nonzero, flatnonzero, argwhere,
  count_nonzero, searchsorted, digitize, lexsort (functions and ndarray methods); unique of an
  array that is not differentiated (the distinct values of a differentiated array: an error);
- descriptions and tests of values: shape, ndim, size, len, any, all, isnan, isinf, isfinite,
  signbit;
- constructors from shapes: zeros, ones, empty and their *_like, eye, identity, tri,
  indices, ix_ (of integer or boolean sequences; of a differentiated one, an error), and
  arange of a stop (`arange(start, stop, step)` with a differentiated start or step is an
  error; linspace has a rule, in construction.py);
- piecewise-constant functions: floor, ceil, round/around, rint, trunc, fix, sign,
  floor_divide;
- random draws (numpy.random, Generator and RandomState methods) from shapes or of integers;
  a draw whose values move with a differentiated parameter (`normal(loc=x)`) is an error.

A claim true only for some arguments is registered with `values=`: the parameters whose
values the result depends on; a differentiated value given for one of them is an error.

Not here on purpose: `permutation`, `shuffle` and `permuted` of an array move its entries, so
their derivative is not zero; they stay without a rule (srcad says so), and
`x[rng.permutation(len(x))]` differentiates. `sort` has a derivative (a permutation).
"""

import ast
import builtins

import numpy

from srcad.rules import nondifferentiable, shape

# ---- comparisons and logic -------------------------------------------------------------------

nondifferentiable(
    numpy.greater, numpy.greater_equal, numpy.less, numpy.less_equal, numpy.equal,
    numpy.not_equal, numpy.logical_and, numpy.logical_or, numpy.logical_not,
    numpy.logical_xor, numpy.isclose, numpy.allclose, numpy.array_equal, numpy.isin,
    reason="comparisons and logic give booleans")

# ---- positions -------------------------------------------------------------------------------

nondifferentiable(
    numpy.argmax, numpy.argmin, numpy.nanargmax, numpy.nanargmin, numpy.argsort,
    numpy.argpartition, numpy.lexsort, numpy.nonzero, numpy.flatnonzero, numpy.argwhere,
    numpy.count_nonzero, numpy.searchsorted, numpy.digitize,
    numpy.ndarray.argmax, numpy.ndarray.argmin, numpy.ndarray.argsort,
    numpy.ndarray.argpartition, numpy.ndarray.nonzero, numpy.ndarray.searchsorted,
    reason="they give positions, not values")

# `unique` gives the distinct values themselves: constant only for integer or boolean arrays
nondifferentiable(numpy.unique, reason="the distinct values of integers", values=("ar",))

# ---- descriptions and tests of values --------------------------------------------------------

nondifferentiable(
    numpy.shape, numpy.ndim, numpy.size, builtins.len, numpy.any, numpy.all,
    numpy.ndarray.any, numpy.ndarray.all, numpy.isnan, numpy.isinf, numpy.isfinite,
    numpy.isposinf, numpy.isneginf, numpy.signbit,
    reason="they describe arrays or test values")

# ---- constructors from shapes ----------------------------------------------------------------

nondifferentiable(
    numpy.zeros, numpy.ones, numpy.empty, numpy.zeros_like, numpy.ones_like,
    numpy.empty_like, numpy.eye,
    numpy.identity, numpy.tri, numpy.triu_indices, numpy.tril_indices, numpy.indices,
    reason="they build arrays from shapes")


def _arange_values(bound):
    """`arange(stop)` depends on `stop` only through its length; `arange(start, stop, step)`
    is `start + i * step`."""
    return ("start_or_stop", "step") if "stop" in bound else ("step",)


nondifferentiable(numpy.arange, reason="it builds arrays from shapes", values=_arange_values)


@shape(numpy.zeros, numpy.ones, numpy.empty)
def filled_shape(shapes, size, /, *, dtype=None):
    """A size known from shapes: a literal int or `x.shape[i]`."""
    if isinstance(size, ast.Constant) and type(size.value) is int:
        return (size.value,)
    if (isinstance(size, ast.Subscript) and isinstance(size.value, ast.Attribute)
            and size.value.attr == "shape" and isinstance(size.value.value, ast.Name)
            and isinstance(size.slice, ast.Constant) and type(size.slice.value) is int):
        dims = shapes.shape(size.value.value)
        if dims is not None and -len(dims) <= size.slice.value < len(dims):
            return (dims[size.slice.value],)
    return None


@shape(builtins.len)
def length_shape(shapes, *args, **keywords):
    return ()


@shape(numpy.ndarray.size, numpy.ndarray.ndim)     # the attributes `x.size`, `x.ndim`
def count_shape(shapes, x, /):
    return ()


@shape(numpy.size, numpy.ndim)
def size_shape(shapes, a, axis=None):
    return ()

# ---- piecewise-constant functions ------------------------------------------------------------

nondifferentiable(
    numpy.floor, numpy.ceil, numpy.round, numpy.around, numpy.rint, numpy.trunc, numpy.fix,
    numpy.sign, numpy.floor_divide, numpy.ndarray.round,
    reason="its result is piecewise constant")

# ---- random draws ----------------------------------------------------------------------------

_RANDOM = numpy.random.RandomState, numpy.random.Generator


def _draws(*names):
    """`numpy.random.<name>` and the methods `<name>` of RandomState and Generator."""
    return [getattr(owner, n) for n in names for owner in (numpy.random,) + _RANDOM
            if hasattr(owner, n)]


# draws whose arguments are shapes, or whose results are integers
nondifferentiable(
    *_draws("rand", "randn", "random", "random_sample", "standard_normal", "binomial",
            "randint", "integers", "poisson"),
    reason="random draws from shapes, or of integers, are constants")

# draws whose values move with their parameters: constant only while those are not
# differentiated (srcad does not reparameterize; write `loc + scale * rng.standard_normal(n)`)
for _names, _values in ((("normal",), ("loc", "scale")), (("uniform",), ("low", "high")),
                        (("exponential",), ("scale",)), (("gamma",), ("shape", "scale")),
                        (("beta",), ("a", "b")), (("multivariate_normal",), ("mean", "cov")),
                        (("choice",), ("a",))):
    nondifferentiable(*_draws(*_names), reason="random draws are not differentiated",
                      values=_values)


# ---- integers, indices, predicates and descriptions (added for NumPy's whole namespace) ------

nondifferentiable(
    numpy.bitwise_and, numpy.bitwise_or, numpy.bitwise_xor, numpy.bitwise_not, numpy.invert,
    numpy.bitwise_count, numpy.left_shift, numpy.right_shift, numpy.gcd, numpy.lcm,
    reason="integer arithmetic has no derivative")
for _name in ("bitwise_invert", "bitwise_left_shift", "bitwise_right_shift"):
    if getattr(numpy, _name, None) is not None:          # array-API names (NumPy >= 2)
        nondifferentiable(getattr(numpy, _name), reason="integer arithmetic has no derivative")
nondifferentiable(numpy.heaviside, numpy.spacing,
                  reason="it is piecewise constant: its derivative is zero almost everywhere")
nondifferentiable(
    numpy.diag_indices, numpy.diag_indices_from, numpy.tril_indices_from,
    numpy.triu_indices_from, numpy.mask_indices, numpy.ravel_multi_index,
    numpy.unravel_index, numpy.einsum_path, numpy.broadcast_shapes,
    reason="it gives indices or shapes")
nondifferentiable(
    numpy.isnat, numpy.iscomplex, numpy.isreal, numpy.iscomplexobj, numpy.isrealobj,
    numpy.isscalar, numpy.isfortran, numpy.iterable, numpy.may_share_memory,
    numpy.shares_memory, numpy.array_equiv, numpy.can_cast, numpy.result_type,
    numpy.promote_types, numpy.min_scalar_type, numpy.common_type,
    numpy.issubdtype, numpy.isdtype,
    reason="it describes its arguments (a truth value, a type)")
nondifferentiable(numpy.mintypecode, reason="it describes its arguments (a type code)",
                  values=("default",))          # (which it returns when nothing else fits)
nondifferentiable(numpy.bartlett, numpy.blackman, numpy.hamming, numpy.hanning,
                  reason="a window of a given length is a constant")
nondifferentiable(numpy.kaiser, reason="a window of a given length is a constant",
                  values=("beta",))
nondifferentiable(numpy.bincount, reason="counts have no derivative", values=("weights",))
nondifferentiable(numpy.packbits, numpy.unpackbits, numpy.linalg.matrix_rank,
                  reason="it gives integers")
nondifferentiable(numpy.ix_, reason="it builds index arrays from integer or boolean sequences",
                  values=("args",))   # (a differentiated sequence is no index: an error)
nondifferentiable(numpy.fft.fftfreq, numpy.fft.rfftfreq,
                  reason="sample frequencies of a given length are constants")
