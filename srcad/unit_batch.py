"""A batch of unit vectors: the directions `srcad.hessian` and forward `srcad.jacobian` push
through generated forward-mode code, known to be unit vectors, so that what only picks entries
of an array needs no arithmetic and no identity matrix.

In: `UnitBatch(rows, length, offset, shape, scale, module)`. Out: a `srcad.batching.Batch`
whose stacked array would be `scale * eye(rows, length, k=offset).reshape((rows,) + shape)`:
direction i is `scale` times unit vector number `offset + i` of a flattened array of `shape`
(the zero vector where that number is not in 0..length-1, as a slice of the batch leaves it).

What it does without computing that array, giving the numbers the plain batch gives (an
einsum of three operands or more with a `scale` other than 1 or -1 may round its products in
another order):

- a product in which the batch is a factor whose axes are all summed over (`A @ units`,
  `units @ A`, `numpy.dot`, `numpy.tensordot`, `numpy.inner`, `numpy.einsum` with one other
  operand holding its letters) reads the rows or columns of the other operand: a slice, a view
  for NumPy and CuPy, a lazy one for Dask (`X @ units` with `X` a chunked Dask matrix is
  `X[:, start:stop].T`, no product over the data); scaled when `scale` is not 1;
- `-units`, `units * s`, `s * units`, `units / s` (`s` a finite number) change `scale`;
- reshapes in C order (`reshape`, `ravel`, `squeeze`, `expand_dims`), the transpose of a vector,
  a slice of a vector with step 1 keep the unit vectors, renumbered;
- `numpy.shape`, `numpy.ndim`, `numpy.size` read the shape.

Everything else computes the stacked array in `module` (NumPy, or the device library of the
argument, as `srcad.backend.array_module` tells) and goes on as `Batch` does for any batch, so
the numbers are always those of the plain batch of unit vectors. A pick equals the product with
a unit vector (which adds only zeros) for finite operands; where another column of the operand
holds inf or nan, the product has a nan (inf times 0) and the pick the column's own values.

A batch of unit vectors is read-only, as the input tangent it is (generated code never writes
into an argument: `srcad.passes.alias`): a write into it (`u[i] = v`, `out=u`,
`numpy.add.at(u, ...)`) raises `BatchUnsupported`, and `stacked` gives a new array each time
(a copy, `u.copy()`, `numpy.copy(u)`, `u.astype(...)`, is a plain batch of it, to write into).
"""

from collections.abc import Callable
from typing import Any

import numpy

from .batching import Batch, BatchUnsupported


class UnitBatch(Batch):
    """Directions that are unit vectors, known as such (see the module docstring)."""

    __slots__ = ("rows", "length", "offset", "one_shape", "scale", "module")

    def __init__(self, rows, length, offset, shape, scale=None, module=numpy):
        self.rows, self.length, self.offset = int(rows), int(length), int(offset)
        self.one_shape = tuple(int(n) for n in shape)
        self.scale = numpy.float64(1.0) if scale is None else scale
        self.module = module

    def _like(self, **changes):
        """This batch with some of its numbers changed (`rows`, `length`, `offset`, `shape`,
        `scale`)."""
        fields = dict(rows=self.rows, length=self.length, offset=self.offset,
                      shape=self.one_shape, scale=self.scale, module=self.module)
        fields.update(changes)
        return UnitBatch(**fields)

    # ---- what one direction looks like, without the stacked array ----------------------------
    @property
    def shape(self):
        return self.one_shape

    @property
    def ndim(self):
        return len(self.one_shape)

    @property
    def size(self):
        return self.length

    @property
    def dtype(self):
        return self.scale.dtype

    @property
    def directions(self):
        return self.rows

    @property
    def stacked(self):
        """The stacked unit vectors as an array of `module` (a new one each time)."""
        eye = self.module.eye(self.rows, self.length, k=self.offset, dtype=self.dtype)
        if self.scale != 1:
            eye = eye * self.scale
        return eye.reshape((self.rows,) + self.one_shape)

    def __repr__(self):
        return (f"UnitBatch({self.rows} unit vectors from number {self.offset} of shape "
                f"{self.one_shape}, times {self.scale})")

    # ---- writes: refused ---------------------------------------------------------------------
    def __setitem__(self, index, value):
        raise BatchUnsupported("a write into a batch of unit vectors")

    # ---- indexing and the methods that keep the unit vectors ---------------------------------
    def __getitem__(self, index):
        kept = self._sliced(index)
        return kept if kept is not None else Batch.__getitem__(self, index)

    def _sliced(self, index):
        """`self[index]` for `()`, `...` and, of a vector, a slice with step 1; else None."""
        parts = index if isinstance(index, tuple) else (index,)
        if all(part is Ellipsis for part in parts) and len(parts) <= 1:
            return self._like()
        if self.ndim != 1 or len(parts) != 1 or not isinstance(parts[0], slice) \
                or parts[0].step not in (None, 1):
            return None
        start, stop, _ = parts[0].indices(self.length)
        length = max(0, stop - start)
        return self._like(length=length, offset=self.offset - start, shape=(length,))

    def reshape(self, *shape, order="C"):
        return numpy.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def ravel(self):
        return numpy.reshape(self, -1)

    flatten = ravel

    def squeeze(self, axis=None):
        return numpy.squeeze(self, axis)

    @property
    def T(self):
        return numpy.transpose(self)

    def transpose(self, *axes):
        return numpy.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def copy(self):
        """A plain batch of the computed unit vectors (a copy is for writing into)."""
        return Batch(self.stacked)

    def dot(self, other):
        return numpy.dot(self, other)

    # ---- NumPy's dispatch --------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        outs = out if isinstance(out, tuple) else (out,)
        if any(isinstance(o, UnitBatch) for o in outs) or (
                method == "at" and isinstance(inputs[0], UnitBatch)):
            raise BatchUnsupported("a write into a batch of unit vectors")
        if method == "__call__" and not kwargs and ufunc in _UFUNCS:
            result = _UFUNCS[ufunc](*inputs)
            if result is not None:
                return result
        return Batch.__array_ufunc__(self, ufunc, method, *_plain(inputs), **_plain(kwargs))

    def __array_function__(self, func, types, args, kwargs):
        fast = _FUNCTIONS.get(func)
        if fast is not None:
            result = fast(*args, **kwargs)
            if result is not None:
                return result
        return Batch.__array_function__(self, func, types, _plain(args), _plain(kwargs))

    # ---- picking entries of another array -----------------------------------------------------
    def pick(self, array, axes):
        """The stacked directions of the product of `array` with this batch summed over all of
        the batch's axes, paired in order with `array`'s axes `axes`: `array` read at each
        direction's unit vector along those axes (its other axes in order, the batch axis
        first), times `scale`, in the product's dtype. None where that does not apply (not a
        numeric array, lengths that differ, no direction inside the array)."""
        dtype = getattr(array, "dtype", None)
        if dtype is None or not hasattr(array, "ndim") or dtype.kind not in "biufc" \
                or len(axes) != self.ndim or len(set(axes)) != len(axes) \
                or tuple(array.shape[a] for a in axes) != self.one_shape:
            return None
        first, last = max(0, -self.offset), min(self.rows, self.length - self.offset)
        if first >= last:
            return None
        free = [a for a in range(array.ndim) if a not in axes]
        if free + list(axes) != list(range(array.ndim)):
            array = array.transpose(free + list(axes))
        if len(axes) != 1:
            array = array.reshape(tuple(array.shape[:len(free)]) + (self.length,))
        inside = first == 0 and last == self.rows
        picked = array[..., self.offset:self.offset + self.rows] if inside else \
            array[..., self.module.asarray(numpy.clip(
                numpy.arange(self.offset, self.offset + self.rows), 0, self.length - 1))]
        if free:
            picked = picked.transpose((len(free),) + tuple(range(len(free))))
        result_type = numpy.result_type(dtype, self.dtype)
        if picked.dtype != result_type:
            picked = picked.astype(result_type)
        if self.scale != 1:
            picked = picked * self.scale
        return picked if inside else picked * self._inside(first, last, picked.ndim)

    def _inside(self, first, last, ndim):
        """1 for the directions `first` to `last` (whose unit vector lies inside the array), 0
        for the others, shaped to multiply a picked array of `ndim` axes (in `module`)."""
        mask = numpy.zeros((self.rows,) + (1,) * (ndim - 1))
        mask[first:last] = 1.0
        return self.module.asarray(mask)


def _plain(value):
    """`value` (arguments: nested tuples, lists, dicts) with every batch of unit vectors in it
    as a plain batch of its stacked array."""
    if isinstance(value, UnitBatch):
        return Batch(value.stacked)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    return value


def _number(x):
    """`x` as a NumPy number when it is a finite real or complex number (a Python number, a
    NumPy scalar or 0-d NumPy array, not a bool); else None."""
    if isinstance(x, numpy.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, (bool, numpy.bool_)) or not isinstance(
            x, (int, float, complex, numpy.number)):
        return None
    try:
        finite = bool(numpy.isfinite(x))
    except (TypeError, OverflowError):
        return None
    return x if finite else None


# ---- ufuncs ----------------------------------------------------------------------------------
def _scaled(units, ufunc, factor):
    """`ufunc(units.scale, factor)` as the new scale, where it stays finite (and nonzero for a
    division); else None."""
    if factor is None or (ufunc is numpy.true_divide and factor == 0):
        return None
    with numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scale = ufunc(units.scale, factor)
    return units._like(scale=scale) if numpy.isfinite(scale) else None


def _multiply(a, b):
    if isinstance(a, UnitBatch) and not isinstance(b, Batch):
        return _scaled(a, numpy.multiply, _number(b))
    if isinstance(b, UnitBatch) and not isinstance(a, Batch):
        return _scaled(b, numpy.multiply, _number(a))
    return None


def _divide(a, b):
    if isinstance(a, UnitBatch) and not isinstance(b, Batch):
        return _scaled(a, numpy.true_divide, _number(b))
    return None


def _matmul(a, b):
    """`a @ b` with a vector of unit vectors on either side: the rows or columns picked."""
    if isinstance(a, Batch) and isinstance(b, Batch):
        return None
    if isinstance(b, UnitBatch) and b.ndim == 1 and getattr(a, "ndim", 0) >= 1:
        picked = b.pick(a, [a.ndim - 1])
    elif isinstance(a, UnitBatch) and a.ndim == 1 and getattr(b, "ndim", 0) >= 1:
        picked = a.pick(b, [0 if b.ndim == 1 else b.ndim - 2])
    else:
        return None
    return None if picked is None else Batch(picked)


_UFUNCS: dict[Any, Callable[..., Any]] = {
    numpy.negative: lambda a: a._like(scale=-a.scale),
    numpy.positive: lambda a: a._like(),
    numpy.multiply: _multiply,
    numpy.true_divide: _divide,
    numpy.matmul: _matmul,
}


# ---- NumPy's functions -----------------------------------------------------------------------
_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    numpy.shape: lambda a: a.shape,
    numpy.ndim: lambda a: a.ndim,
    numpy.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
}


def _implements(func):
    def register(implementation):
        _FUNCTIONS[func] = implementation
        return implementation
    return register


def _reshaped(units, func, *args, **kwargs):
    """`func(units, *args, **kwargs)` for a function that reshapes in C order: the same unit
    vectors in the shape `func` gives (its errors raised as NumPy raises them)."""
    shape = func(numpy.broadcast_to(numpy.False_, units.shape), *args, **kwargs).shape
    return units._like(shape=shape)


@_implements(numpy.reshape)
def _reshape(a, shape=None, order="C", **kwargs):
    shape = kwargs.pop("newshape", shape)
    if order != "C" or kwargs or not isinstance(a, UnitBatch):
        return None
    return _reshaped(a, numpy.reshape, shape)


@_implements(numpy.ravel)
def _ravel(a, order="C"):
    return _reshaped(a, numpy.ravel) if order == "C" and isinstance(a, UnitBatch) else None


@_implements(numpy.squeeze)
def _squeeze(a, axis=None):
    return _reshaped(a, numpy.squeeze, axis) if isinstance(a, UnitBatch) else None


@_implements(numpy.expand_dims)
def _expand_dims(a, axis):
    return _reshaped(a, numpy.expand_dims, axis) if isinstance(a, UnitBatch) else None


@_implements(numpy.transpose)
def _transpose(a, axes=None):
    if not isinstance(a, UnitBatch) or a.ndim > 1:
        return None
    return _reshaped(a, numpy.transpose, axes)


@_implements(numpy.dot)
def _dot(a, b, out=None):
    if out is not None or (isinstance(a, Batch) and isinstance(b, Batch)):
        return None
    if numpy.ndim(a) == 0 or numpy.ndim(b) == 0:
        return numpy.multiply(a, b)
    return _matmul(a, b) if numpy.ndim(a) <= 2 and numpy.ndim(b) <= 2 else None


@_implements(numpy.inner)
def _inner(a, b):
    if numpy.ndim(a) == 0 or numpy.ndim(b) == 0:
        return numpy.multiply(a, b)
    return _tensordot(a, b, ([-1], [-1]))


@_implements(numpy.tensordot)
def _tensordot(a, b, axes=2):
    """`numpy.tensordot` summing over all the axes of a batch of unit vectors: a pick."""
    if isinstance(a, Batch) == isinstance(b, Batch) or not all(
            hasattr(x, "ndim") for x in (a, b)):
        return None
    if isinstance(axes, (int, numpy.integer)):
        axes = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    left, right = ([x] if isinstance(x, (int, numpy.integer)) else list(x) for x in axes)
    if len(left) != len(right) or not all(-a.ndim <= i < a.ndim for i in left) \
            or not all(-b.ndim <= i < b.ndim for i in right):
        return None
    left, right = [i % a.ndim for i in left], [i % b.ndim for i in right]
    units, other, own, theirs = (a, b, left, right) if isinstance(a, UnitBatch) else (
        b, a, right, left)
    if not isinstance(units, UnitBatch) or sorted(own) != list(range(units.ndim)):
        return None
    picked = units.pick(other, [theirs[own.index(axis)] for axis in range(units.ndim)])
    return None if picked is None else Batch(picked)


@_implements(numpy.einsum)
def _einsum(subscripts, *operands, **kwargs):
    """`numpy.einsum` where one operand is a batch of unit vectors whose letters are all
    summed over and held by exactly one other operand, once each: that operand picked, the
    batch's operand dropped."""
    plan = _einsum_plan(subscripts, operands, kwargs)
    if plan is None:
        return None
    terms, output, units, holder, letters = plan
    term = terms[holder]
    picked = operands[units].pick(operands[holder], [term.index(c) for c in letters])
    if picked is None:
        return None
    batch = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                 if c not in subscripts)
    rest = batch + "".join(c for c in term if c not in letters)
    kept = [j for j in range(len(terms)) if j != units]
    new_terms = [rest if j == holder else terms[j] for j in kept]
    arrays = [picked if j == holder else operands[j] for j in kept]
    if len(arrays) == 1 and new_terms[0] == batch + output:
        return Batch(picked)
    return Batch(numpy.einsum(f"{','.join(new_terms)}->{batch}{output}", *arrays, **kwargs))


def _einsum_plan(subscripts, operands, kwargs):
    """(terms, output, the unit batch's position, its letters' holder's, its letters) of an
    einsum `_einsum` picks for; None for any other."""
    if not isinstance(subscripts, str) or set(kwargs) - {"optimize"}:
        return None
    found = [j for j, x in enumerate(operands) if isinstance(x, Batch)]
    if len(found) != 1 or not isinstance(operands[found[0]], UnitBatch):
        return None
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if not arrow:
        alone = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(alone) if alone.count(c) == 1))
    units, letters = found[0], terms[found[0]]
    holders = {j for j, t in enumerate(terms) if j != units and set(t) & set(letters)}
    if len(terms) != len(operands) or "..." in letters or len(holders) != 1 \
            or len(set(letters)) != len(letters) or set(letters) & set(output):
        return None
    holder = holders.pop()
    if "..." in terms[holder] or any(terms[holder].count(c) != 1 for c in letters) \
            or getattr(operands[holder], "ndim", None) != len(terms[holder]):
        return None
    return terms, output, units, holder, letters
