"""A batch of tangents with a pending factor: the element-wise steps of forward-mode code that
only scale a batch (`-t`, `t * w`, `0.5 * t`, `t / s`, `t * a + t * b`) kept as a factor of
one direction's size and applied to the k directions once, where the batch is next needed.

In: `ScaledBatch(base, recipe, dtype, errors)`: `base` a `srcad.batching.Batch` (a plain batch,
the columns a batch of unit vectors picked, ...), `recipe` how the batch was made from it, a
nested tuple: `("mul", r, f)` (times the primal value `f`), `("div", r, f)`, `("neg", r)`,
`("add", r, s)`, `("sub", r, s)` with `r`, `s` recipes and None for `base` itself, `dtype` the
result's, `errors` the `numpy.geterr()` of its steps. Out: a `Batch` whose directions are
those the steps of `recipe` give, one after the other, applied to `base`.

`fold(ufunc, inputs)` (which `Batch.__array_ufunc__` calls first: importing this module sets
`srcad.batching.folding` to it, and `srcad.higher_order` imports it) makes one: a batch of two
directions or more of real floats (a Dask array, or `MIN_ELEMENTS` numbers or more) times or
divided by a primal real float number or array that broadcasts against one direction's shape
without changing it (not an integer: NumPy's result type would then depend on the order),
negated, or a sum or difference of two such batches of the same `base`. Anything else (a
product, a reduction, an index, a sum with another batch, `out=`) reads `stacked`, which
computes the batch once (kept) as

    factor * base.stacked,    factor = the steps of `recipe` applied to the number 1

one pass over the k directions instead of one per step (for Dask data, one task per chunk).
A product linear in the batch (`A @ t`, `numpy.dot`, `numpy.tensordot`, `numpy.inner`) whose
factor is one number (every step's factor a number, none an array) that every step kept
normal takes the base instead, and the number scales its k results (`2 * (X.T @ X)` for the
normal model's Hessian, not `X.T @ (2 * X)`): a power of two gives the same numbers, another
number the same to rounding (one product of the number with each result instead of with each
entry of the batch), overflow and underflow as for the folded steps below.

Exactness: the products are taken in another order, `b * (f1 * f2)` for `(b * f1) * f2`; each
is one rounding of the exact product, so the two differ by rounding (a relative 2u per step, a
sum by its usual absolute bound u(|b f1| + |b f2|)), as long as no product of factors leaves
the range of normal numbers. Each step of the factor is checked: where one gives inf, nan, or
a number below the smallest normal one (0 or subnormal; an exact 0 from a 0 operand is
exact), the whole batch is computed step by step in the original order (`sequential`), giving
the numbers the unfolded batch gives; so it is too where a recipe with a sum gives a value
that is not finite (where `b` is inf, `b * 2 - b` is nan and `b * (2 - 1)` inf). On Dask data
each chunk decides for itself. Where the original order overflows or underflows and the
folded one does not (`b` tiny, `f1` huge, `f2` small), the folded numbers are the exact
product's, rounded; where a 0 factor meets such an overflow, 0 (the original order: inf * 0,
nan); the sign of a 0 may differ. The factors are computed with floating-point warnings off
(the checks see what they signal); the batch is computed under the `numpy.errstate` settings
in force at its steps (a step under other settings computes the batch first), so warnings and
errors are NumPy's as they were.

Writes (`t[i] = v`, `out=`, `numpy.add.at`) go into the computed array, which the batch then
owns: later steps start from it (`base` and `recipe` dropped).
"""

import functools
from typing import Any

import numpy

from . import backend, batching
from .batching import Batch
from .unit_batch import UnitBatch

MIN_DIRECTIONS = 2        # (one direction: the factor's steps cost what the batch's would)
MIN_ELEMENTS = 2 ** 14    # (a smaller batch in memory: a step costs less than folding it)

_FOLDED = {numpy.multiply: "mul", numpy.true_divide: "div", numpy.negative: "neg",
           numpy.add: "add", numpy.subtract: "sub"}


class ScaledBatch(Batch):
    """`recipe` applied to `base`, computed once when read (see the module docstring)."""

    __slots__ = ("base", "recipe", "result_dtype", "errors", "_made")

    def __init__(self, base, recipe, dtype, errors):
        self.base, self.recipe, self.result_dtype, self._made = base, recipe, dtype, None
        self.errors = errors

    @property
    def shape(self):
        return self.base.shape if self.base is not None else tuple(self._made.shape[1:])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return self.result_dtype

    @property
    def directions(self):
        return self.base.directions if self.base is not None else self._made.shape[0]

    @property
    def stacked(self):
        """The k directions, computed on first reading (`materialize`) and kept."""
        if self._made is None:
            with numpy.errstate(**self.errors):
                self._made = materialize(self.base.stacked, self.recipe, self.result_dtype)
        return self._made

    def __repr__(self):
        return f"ScaledBatch({self.directions} directions of shape {self.shape})"

    def _own(self):
        """Compute the batch and drop its recipe: what is written into it stays in it."""
        self._made = self.stacked
        self.base = self.recipe = None

    def __setitem__(self, index, value):
        self._own()
        Batch.__setitem__(self, index, value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        for o in out if isinstance(out, tuple) else (out,):
            if isinstance(o, ScaledBatch):
                o._own()
        if method == "at" and isinstance(inputs[0], ScaledBatch):
            inputs[0]._own()
        if ufunc is numpy.matmul and method == "__call__" and not kwargs:
            product = _scaled_product(ufunc, inputs, {})
            if product is not None:
                return product
        return Batch.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func in _PRODUCTS:
            product = _scaled_product(func, args, kwargs)
            if product is not None:
                return product
        return Batch.__array_function__(self, func, types, args, kwargs)

    def number(self):
        """The factor when it is one Python number (no array, nor NumPy scalar, among the
        recipe's factors) that every step kept normal, else None."""
        if self.base is None:
            return None
        leaves: list[Any] = []
        _template(self.recipe, leaves)
        if leaves:
            return None
        factor, kept = _factor(self.recipe, self.result_dtype)
        return factor if kept is True and factor is not _ONE else None


_PRODUCTS = (numpy.dot, numpy.tensordot, numpy.inner)     # (`numpy.matmul`, a ufunc: above)


def _scaled_product(func, args, kwargs):
    """`func(*args, **kwargs)`, a product linear in its one batch operand, a `ScaledBatch`
    whose factor is one number (`number`), as that number times the product with its base:
    the factor applied to the product's k results instead of the batch's k directions (as
    dask-glm writes `2 * X.T @ X`). None where that does not apply."""
    batches = [i for i, a in enumerate(args) if isinstance(a, Batch)]
    if len(batches) != 1 or not isinstance(args[batches[0]], ScaledBatch) \
            or kwargs.get("out") is not None:
        return None
    scaled = args[batches[0]]
    factor = scaled.number()
    if factor is None:
        return None
    args = list(args)
    args[batches[0]] = scaled.base
    product = func(*args, **kwargs)
    with numpy.errstate(**scaled.errors):           # (the steps' settings, as for `stacked`)
        return Batch(product.stacked * factor)


# ---- making one ------------------------------------------------------------------------------
def fold(ufunc, inputs):
    """`ufunc(*inputs)` as a `ScaledBatch` where it only scales a batch (the module
    docstring says which); else None."""
    step = _FOLDED.get(ufunc)
    if step is None or len(inputs) != ufunc.nin:
        return None
    if step == "neg":
        return _extended(inputs[0], lambda r: ("neg", r), ())
    if step in ("add", "sub"):
        a, b = inputs
        errors = numpy.geterr()
        if not (isinstance(a, ScaledBatch) and isinstance(b, ScaledBatch)
                and a.base is not None and a.base is b.base
                and a.errors == b.errors == errors):
            return None
        return ScaledBatch(a.base, (step, a.recipe, b.recipe),
                           numpy.result_type(a.dtype, b.dtype), errors)
    a, b = inputs
    if isinstance(a, Batch) and not isinstance(b, Batch):
        batch, factor = a, b
    elif step == "mul" and isinstance(b, Batch) and not isinstance(a, Batch):
        batch, factor = b, a
    else:
        return None
    if not _worth_folding(batch) or not _factor_fits(factor, batch):
        return None
    return _extended(batch, lambda r: (step, r, factor), (factor,))


def _extended(batch, step, factors):
    """`batch` with one more step (a function of its recipe); None for a batch that does not
    take one (a batch of unit vectors, one direction, not of real floats, one whose steps
    were taken under other `numpy.errstate` settings than those in force)."""
    if not isinstance(batch, Batch) or not _worth_folding(batch) or batch.dtype.kind != "f":
        return None
    dtype, errors = numpy.result_type(batch.dtype, *factors), numpy.geterr()
    if isinstance(batch, ScaledBatch) and batch.base is not None:
        if batch.errors != errors:
            return None
        return ScaledBatch(batch.base, step(batch.recipe), dtype, errors)
    return ScaledBatch(batch, step(None), dtype, errors)


def _worth_folding(batch):
    """True for a batch of `MIN_DIRECTIONS` directions or more whose stacked array is a Dask
    array or holds `MIN_ELEMENTS` numbers or more (measured on NumPy: below, the Python work
    of folding costs more than the passes it saves)."""
    if isinstance(batch, ScaledBatch) and batch.base is not None:
        batch = batch.base
    if isinstance(batch, UnitBatch):
        return False
    stacked = batch.stacked
    if stacked.shape[0] < MIN_DIRECTIONS:
        return False
    return stacked.size >= MIN_ELEMENTS or backend.is_lazy(stacked)


def _factor_fits(factor, batch):
    """True for a real float (a Python float, a Python int a float holds exactly, a float
    array or scalar of any array library) that broadcasts against one direction of `batch`
    keeping its shape."""
    if isinstance(factor, (bool, numpy.bool_)):
        return False
    if isinstance(factor, float):
        return True
    if isinstance(factor, int):
        return abs(factor) <= 2 ** 53         # (exactly a float, as NumPy takes it)
    dtype, shape = getattr(factor, "dtype", None), getattr(factor, "shape", None)
    if dtype is None or shape is None or dtype.kind != "f" or len(shape) > batch.ndim \
            or any(not isinstance(n, (int, numpy.integer)) for n in shape):
        return False
    return all(n in (1, m) for n, m in zip(shape[::-1], batch.shape[::-1]))


# ---- computing one ---------------------------------------------------------------------------
def materialize(base, recipe, dtype):
    """The stacked array `recipe` makes of the stacked array `base`: `factor * base` where
    every step of the factor kept its numbers normal, else `sequential(base, recipe)`; for
    Dask data, one task per chunk deciding for its chunk."""
    leaves: list[Any] = []
    template = _template(recipe, leaves)
    if backend.is_lazy(base) or any(backend.is_lazy(x) for x in leaves):
        from dask.array.core import elemwise
        return elemwise(functools.partial(_on_chunk, template, len(leaves), dtype),
                        base, *leaves, dtype=dtype)
    return _applied(base, recipe, dtype)


def _on_chunk(template, count, dtype, base, *leaves):
    """`materialize` on one chunk: the recipe's arrays given as the chunks that broadcast
    against it (right-aligned, as against one direction)."""
    return _applied(base, _filled(template, leaves[:count]), dtype)


def _applied(base, recipe, dtype):
    """`materialize` of arrays in memory (NumPy, CuPy, a Dask chunk)."""
    factor, kept = _factor(recipe, dtype)
    result = None
    if kept is True or (kept is not False and bool(kept.all())):
        result = base * factor
        if _has_sum(recipe) and not bool(numpy.isfinite(result).all()):
            result = None      # (inf - inf where the sum of factors is finite: step by step)
    if result is None:
        result = sequential(base, recipe)
    return result if result.dtype == dtype else result.astype(dtype)


def _has_sum(recipe):
    if recipe is None:
        return False
    if recipe[0] in ("add", "sub"):
        return True
    return _has_sum(recipe[1])


def sequential(base, recipe):
    """The steps of `recipe` applied to the stacked array `base` one after the other, in the
    order forward-mode code gave them (the unfolded batch's numbers)."""
    if recipe is None:
        return base
    step = recipe[0]
    if step == "neg":
        return -sequential(base, recipe[1])
    if step in ("add", "sub"):
        left, right = sequential(base, recipe[1]), sequential(base, recipe[2])
        return left + right if step == "add" else left - right
    inner = sequential(base, recipe[1])
    return inner * recipe[2] if step == "mul" else inner / recipe[2]


_ONE = None     # (the factor of `base` itself)


def _factor(recipe, dtype):
    """(the factor `recipe` applies, a Python float or an array of `dtype` (the result's: the
    factor is never rounded to a narrower float than the batch it scales); True, or a
    boolean array false where a step left the normal numbers). That of `base` is `_ONE`."""
    if recipe is None:
        return _ONE, True
    step = recipe[0]
    with numpy.errstate(all="ignore"):
        if step == "neg":
            factor, kept = _factor(recipe[1], dtype)
            return (-1.0 if factor is _ONE else -factor), kept
        if step in ("add", "sub"):
            (a, kept_a), (b, kept_b) = _factor(recipe[1], dtype), _factor(recipe[2], dtype)
            a, b = (1.0 if a is _ONE else a), (1.0 if b is _ONE else b)
            made = _op(numpy.add if step == "add" else numpy.subtract, a, b)
            return made, _and(_and(kept_a, kept_b), _normal(made, made == 0))
        inner, kept = _factor(recipe[1], dtype)
        f = recipe[2]
        if hasattr(f, "dtype") and f.dtype != dtype:
            f = f.astype(dtype)
        if inner is _ONE and step == "mul":
            return f, kept
        inner = 1.0 if inner is _ONE else inner
        if step == "mul":
            made = _op(numpy.multiply, inner, f)
            return made, _and(kept, _normal(made, (inner == 0) | (f == 0)))
        made = _op(numpy.true_divide, inner, f)
        return made, _and(kept, _normal(made, inner == 0))


def _op(ufunc, a, b):
    """`ufunc(a, b)` by NumPy's rules (inf for a division by 0); of two Python numbers, a
    Python float (which NumPy then takes as weakly typed, as it took the numbers)."""
    if type(a) in (int, float) and type(b) in (int, float):
        return float(ufunc(numpy.float64(a), b))
    return ufunc(a, b)


def _normal(x, exact_zero):
    """True where `x` is a finite number of at least the smallest normal magnitude, or 0 where
    `exact_zero` (a boolean or boolean array: the step's own 0) says it is exact."""
    magnitude = abs(x)
    tiny = numpy.finfo(getattr(x, "dtype", numpy.float64)).tiny
    huge = numpy.finfo(getattr(x, "dtype", numpy.float64)).max
    normal = (magnitude >= tiny) & (magnitude <= huge)
    if numpy.ndim(normal) == 0:
        return bool(normal) or bool((x == 0) & exact_zero)
    if bool(normal.all()):
        return True
    return normal | ((x == 0) & exact_zero)


def _and(a, b):
    if a is True:
        return b
    if b is True:
        return a
    if a is False or b is False:
        return False
    return a & b


# ---- the recipe's arrays, for Dask ----------------------------------------------------------
class _Leaf(int):
    """The place of an array of a recipe in the list of its arrays (`_template`)."""


def _template(recipe, leaves):
    """`recipe` with each array in it (`ndim` >= 0, not a Python number) replaced by a `_Leaf`
    numbering it in `leaves` (which it fills)."""
    if recipe is None:
        return None
    if recipe[0] in ("mul", "div"):
        f = recipe[2]
        if hasattr(f, "ndim"):
            leaves.append(f)
            f = _Leaf(len(leaves) - 1)
        return (recipe[0], _template(recipe[1], leaves), f)
    return (recipe[0],) + tuple(_template(r, leaves) for r in recipe[1:])


def _filled(template, leaves):
    """`_template` undone with the arrays (chunks) `leaves`."""
    if template is None:
        return None
    if template[0] in ("mul", "div"):
        f = template[2]
        return (template[0], _filled(template[1], leaves),
                leaves[f] if isinstance(f, _Leaf) else f)
    return (template[0],) + tuple(_filled(r, leaves) for r in template[1:])


batching.folding = fold
