"""Primitives whose results carry no derivative: they are constants for srcad.

Comparisons, index finding and sorting orders, shapes and sizes, array constructors,
piecewise-constant rounding, tests of values, and random draws. Applied to differentiated
values they give no derivative and no error.
"""

import numpy

from srcad.rules import nondifferentiable

nondifferentiable(
    numpy.greater, numpy.greater_equal, numpy.less, numpy.less_equal, numpy.equal,
    numpy.not_equal, numpy.logical_and, numpy.logical_or, numpy.logical_not,
    numpy.logical_xor, numpy.isclose, numpy.allclose, numpy.array_equal,
    reason="comparisons and logic give booleans")
nondifferentiable(
    numpy.argmax, numpy.argmin, numpy.argsort, numpy.nonzero, numpy.flatnonzero,
    numpy.count_nonzero, numpy.searchsorted, numpy.digitize, numpy.unique, numpy.argwhere,
    numpy.ndarray.argmax, numpy.ndarray.argmin, numpy.ndarray.argsort, numpy.ndarray.nonzero,
    reason="they give positions, not values")
nondifferentiable(
    numpy.shape, numpy.ndim, numpy.size, len, numpy.ndarray.any, numpy.ndarray.all,
    numpy.any, numpy.all, numpy.isnan, numpy.isinf, numpy.isfinite,
    reason="they describe arrays or test values")
nondifferentiable(
    numpy.zeros, numpy.ones, numpy.empty, numpy.full, numpy.zeros_like, numpy.ones_like,
    numpy.empty_like, numpy.full_like, numpy.arange, numpy.linspace, numpy.eye,
    numpy.identity, numpy.tri, numpy.triu_indices, numpy.tril_indices, numpy.indices,
    reason="they build arrays from shapes")
nondifferentiable(
    numpy.floor, numpy.ceil, numpy.round, numpy.around, numpy.rint, numpy.trunc, numpy.fix,
    numpy.sign, numpy.floor_divide, numpy.ndarray.round,
    reason="its result is piecewise constant")
nondifferentiable(
    numpy.random.rand, numpy.random.randn, numpy.random.random, numpy.random.uniform,
    numpy.random.normal, numpy.random.choice, numpy.random.permutation,
    numpy.random.binomial, numpy.random.randint, numpy.random.shuffle,
    numpy.random.Generator.random, numpy.random.Generator.uniform,
    numpy.random.Generator.normal, numpy.random.Generator.standard_normal,
    numpy.random.Generator.choice, numpy.random.Generator.permutation,
    numpy.random.Generator.binomial, numpy.random.Generator.integers,
    reason="random draws are not differentiated")
