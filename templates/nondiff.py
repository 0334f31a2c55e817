"""Primitives whose results carry no derivative: they are constants for srcad.

Applied to differentiated values they give no derivative and no error:

- comparisons and logic: greater, less, equal, ..., logical_and/or/not/xor, isclose, isin;
- positions: argmax, argmin, argsort, argpartition, nonzero, flatnonzero, argwhere,
  count_nonzero, searchsorted, digitize, unique, lexsort (functions and ndarray methods);
- descriptions and tests of values: shape, ndim, size, len, any, all, isnan, isinf, isfinite,
  signbit;
- constructors from shapes: zeros, ones, empty and their *_like, arange, linspace, eye,
  identity, tri, indices;
- piecewise-constant functions: floor, ceil, round/around, rint, trunc, fix, sign,
  floor_divide;
- random draws (numpy.random, Generator and RandomState methods): a draw's parameters (loc,
  scale, p) get no derivative, as in PyTorch's `normal`.

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
    numpy.count_nonzero, numpy.searchsorted, numpy.digitize, numpy.unique,
    numpy.ndarray.argmax, numpy.ndarray.argmin, numpy.ndarray.argsort,
    numpy.ndarray.argpartition, numpy.ndarray.nonzero, numpy.ndarray.searchsorted,
    reason="they give positions, not values")

# ---- descriptions and tests of values --------------------------------------------------------

nondifferentiable(
    numpy.shape, numpy.ndim, numpy.size, builtins.len, numpy.any, numpy.all,
    numpy.ndarray.any, numpy.ndarray.all, numpy.isnan, numpy.isinf, numpy.isfinite,
    numpy.isposinf, numpy.isneginf, numpy.signbit,
    reason="they describe arrays or test values")

# ---- constructors from shapes ----------------------------------------------------------------

nondifferentiable(
    numpy.zeros, numpy.ones, numpy.empty, numpy.zeros_like, numpy.ones_like,
    numpy.empty_like, numpy.arange, numpy.linspace, numpy.eye,
    numpy.identity, numpy.tri, numpy.triu_indices, numpy.tril_indices, numpy.indices,
    reason="they build arrays from shapes")


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

# ---- piecewise-constant functions ------------------------------------------------------------

nondifferentiable(
    numpy.floor, numpy.ceil, numpy.round, numpy.around, numpy.rint, numpy.trunc, numpy.fix,
    numpy.sign, numpy.floor_divide, numpy.ndarray.round,
    reason="its result is piecewise constant")

# ---- random draws ----------------------------------------------------------------------------

nondifferentiable(
    numpy.random.rand, numpy.random.randn, numpy.random.random, numpy.random.random_sample,
    numpy.random.uniform, numpy.random.normal, numpy.random.standard_normal,
    numpy.random.choice, numpy.random.binomial, numpy.random.randint, numpy.random.poisson,
    numpy.random.exponential, numpy.random.gamma, numpy.random.beta,
    numpy.random.multivariate_normal,
    numpy.random.Generator.random, numpy.random.Generator.uniform,
    numpy.random.Generator.normal, numpy.random.Generator.standard_normal,
    numpy.random.Generator.choice, numpy.random.Generator.binomial,
    numpy.random.Generator.integers, numpy.random.Generator.poisson,
    numpy.random.Generator.exponential, numpy.random.Generator.gamma,
    numpy.random.Generator.beta, numpy.random.Generator.multivariate_normal,
    numpy.random.RandomState.rand, numpy.random.RandomState.randn,
    numpy.random.RandomState.random, numpy.random.RandomState.random_sample,
    numpy.random.RandomState.uniform, numpy.random.RandomState.normal,
    numpy.random.RandomState.standard_normal, numpy.random.RandomState.choice,
    numpy.random.RandomState.binomial, numpy.random.RandomState.randint,
    numpy.random.RandomState.poisson, numpy.random.RandomState.exponential,
    numpy.random.RandomState.gamma, numpy.random.RandomState.beta,
    numpy.random.RandomState.multivariate_normal,
    reason="random draws are not differentiated")
