"""A batch of tangents: k directions pushed through generated forward-mode code in one pass.

In: `Batch(stacked)`, an array (NumPy, Dask, or any library NumPy dispatches to) whose first
axis runs over the k directions; `stacked[i]` is the tangent of direction i. Out: a value that
generated code and srcad's run-time helpers treat as one tangent: `.shape`, `.ndim`, `.size`,
`numpy.shape` report the shape of one direction, and every operation NumPy dispatches to it
(`__array_ufunc__`, `__array_function__`, indexing, methods) is applied to every direction at
once, the batch axis kept first. Primal values in the same operation are the same for every
direction (they broadcast against one direction's shape: the batch axis never meets theirs).

What this module does not implement raises `BatchUnsupported`, never an approximation: a
NumPy function it does not know, `numpy.asarray` of a batch (`__array__` raises, so nothing
converts it silently), `float`/`bool` of one, indexing that would move the batch axis, an
`out=` argument that is not a batch. The callers (`srcad.higher_order`) then push the
directions one at a time. Dask arrays delegate to a batch (it has `__array_ufunc__` and is no
Dask chunk type), so the stacked array stays a Dask graph when the data are Dask arrays.
"""

from collections.abc import Callable
from typing import Any

import numpy
from numpy.lib.mixins import NDArrayOperatorsMixin

from . import backend

# `srcad.scaled_batch.fold`, set when that module is imported (`srcad.higher_order` imports
# it): a ufunc that only scales a batch, as a batch with a pending factor; None elsewhere
folding: Callable[[Any, tuple], Any] | None = None


class BatchUnsupported(TypeError):
    """An operation a batch of tangents does not implement: push the directions one by one."""


class _MissingAttribute(BatchUnsupported, AttributeError):
    """An array attribute or method a batch does not have (`hasattr` sees False)."""


class Batch(NDArrayOperatorsMixin):
    """k tangents of one shape, stacked along a first axis (see the module docstring)."""

    __slots__ = ("stacked",)
    __srcad_batched__ = True     # (runtime helpers write into it nothing in place)

    def __init__(self, stacked):
        self.stacked = stacked

    # ---- what one direction looks like ------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.stacked.shape[1:])

    @property
    def ndim(self):
        return self.stacked.ndim - 1

    @property
    def size(self):
        return int(numpy.prod(self.shape, dtype=int))

    @property
    def dtype(self):
        return self.stacked.dtype

    @property
    def directions(self):
        """k, the number of directions."""
        return self.stacked.shape[0]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tangent")
        return self.shape[0]

    def __getattr__(self, name):
        raise _MissingAttribute(f"the array attribute .{name} of a batch of tangents")

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Batch({self.directions} directions of shape {self.shape})"

    # ---- conversions that would lose the batch ----------------------------------------------
    def __array__(self, *args, **kwargs):
        raise BatchUnsupported("a batch of tangents converted to one array")

    def _no_scalar(self, *args):
        raise BatchUnsupported("a batch of tangents read as one number or truth value")

    __float__ = __int__ = __complex__ = __index__ = __bool__ = _no_scalar

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, index):
        return Batch(self.stacked[_batched_index(index)])

    def __setitem__(self, index, value):
        full = _batched_index(index)
        region = self.stacked[full].ndim - 1
        self.stacked[full] = _lift(value, region) if isinstance(value, Batch) else value

    # ---- the methods generated code and the helpers call ------------------------------------
    @property
    def T(self):
        return transpose(self)

    @property
    def real(self):
        return Batch(self.stacked.real)

    @property
    def imag(self):
        return Batch(self.stacked.imag)

    def astype(self, dtype, copy=True):
        return Batch(self.stacked.astype(dtype, copy=copy))

    def copy(self):
        return Batch(self.stacked.copy())

    def conj(self):
        return numpy.conjugate(self)

    conjugate = conj

    def reshape(self, *shape, order="C"):
        return reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def transpose(self, *axes):
        return transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    def ravel(self):
        return reshape(self, -1)

    flatten = ravel

    def squeeze(self, axis=None):
        return squeeze(self, axis)

    def swapaxes(self, a, b):
        return swapaxes(self, a, b)

    def sum(self, axis=None, dtype=None, keepdims=False):
        return _reduce(numpy.sum, self, axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False):
        return _reduce(numpy.mean, self, axis, dtype=dtype, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None):
        return cumsum(self, axis, dtype)

    def dot(self, other):
        return dot(self, other)

    # ---- NumPy's dispatch -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and folding is not None:
            folded = folding(ufunc, inputs)
            if folded is not None:
                return folded
        out = kwargs.pop("out", None)
        if kwargs.get("where", True) is not True or kwargs.get("axes") or kwargs.get("axis"):
            raise BatchUnsupported(f"numpy.{ufunc.__name__} with where=/axes=")
        if method == "outer" and ufunc.nin == 2:
            result = _outer(ufunc, *inputs, **kwargs)
        elif method == "at" and ufunc is numpy.add and out is None and not kwargs:
            return _add_at(*inputs)
        elif method != "__call__":
            raise BatchUnsupported(f"numpy.{ufunc.__name__}.{method}")
        elif ufunc is numpy.matmul:
            result = _matmul(*inputs, **kwargs)
        elif ufunc.signature is not None:
            raise BatchUnsupported(f"numpy.{ufunc.__name__} (a generalized ufunc)")
        else:
            result = _elementwise(ufunc, inputs, kwargs)
        return result if out is None else _into(out, result)

    def __array_function__(self, func, types, args, kwargs):
        implementation = _FUNCTIONS.get(func)
        if implementation is None:
            raise BatchUnsupported(f"{func.__module__}.{func.__name__}")
        return implementation(*args, **kwargs)


# ---- shapes and axes -------------------------------------------------------------------------
def _ndim(x):
    """The number of axes of one direction of `x` (a batch) or of `x` (a primal value)."""
    if isinstance(x, Batch):
        return x.ndim
    ndim = getattr(x, "ndim", None)
    return ndim if ndim is not None else numpy.ndim(x)


def _lift(x, ndim):
    """A batch's stacked array with axes of length 1 inserted after the batch axis so that one
    direction has `ndim` axes (NumPy's broadcasting then lines up the shapes of one direction
    with the primal operands, right-aligned, as it does for one tangent)."""
    missing = ndim - x.ndim
    if missing <= 0:
        return x.stacked
    return x.stacked[(slice(None),) + (None,) * missing]


def _axis(axis, ndim):
    """One direction's `axis` as an axis of the stacked array."""
    if not -ndim <= axis < ndim:
        raise getattr(numpy, "exceptions", numpy).AxisError(axis, ndim)
    return axis % ndim + 1


def _axes(axis, ndim):
    """One direction's `axis` (None: all, an int, a tuple) as axes of the stacked array."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(_axis(a, ndim) for a in axis)
    return _axis(axis, ndim)


def _batched_index(index):
    """`index` into one direction as an index into the stacked array; raises when NumPy would
    move the batch axis (advanced indices apart from each other go first) or when the index
    itself is a batch."""
    parts = index if isinstance(index, tuple) else (index,)
    advanced = []
    for position, part in enumerate(parts):
        if isinstance(part, Batch):
            raise BatchUnsupported("an index that depends on the direction")
        if part is None or part is Ellipsis or isinstance(part, slice):
            continue
        if isinstance(part, (int, numpy.integer)) and not isinstance(part, bool):
            advanced.append((position, True))
        else:
            advanced.append((position, False))
    if any(not scalar for _, scalar in advanced):
        positions = [p for p, _ in advanced]
        if positions != list(range(positions[0], positions[0] + len(positions))):
            raise BatchUnsupported("advanced indices apart from each other")
    return (slice(None),) + parts


# ---- elementwise ---------------------------------------------------------------------------
def _elementwise(func, inputs, kwargs):
    """`func` (a ufunc, `where`, `clip`) of batches and primal values, direction by direction."""
    ndim = max(_ndim(x) for x in inputs)
    lifted = [_lift(x, ndim) if isinstance(x, Batch) else x for x in inputs]
    result = func(*lifted, **kwargs)
    if isinstance(result, tuple):
        return tuple(Batch(r) for r in result)
    return Batch(result)


def _into(out, result):
    """`out=`: the result written into a batch that has the result's shape (in place)."""
    outs = out if isinstance(out, tuple) else (out,)
    results = result if isinstance(result, tuple) else (result,)
    for o, r in zip(outs, results):
        if not isinstance(o, Batch) or o.shape != r.shape or not numpy.can_cast(
                r.dtype, o.dtype, "same_kind"):
            raise BatchUnsupported("out= an array that is not a batch of the result's shape "
                                   "and kind")
        o.stacked[...] = r.stacked
    return out[0] if isinstance(out, tuple) and len(out) == 1 else out


def _add_at(target, index, values):
    """`numpy.add.at(target, index, values)` into a batch, for every direction at once."""
    if not isinstance(target, Batch):
        raise BatchUnsupported("numpy.add.at of a batch into an array that is not one")
    full = _batched_index(index)
    if isinstance(values, Batch):
        values = _lift(values, target.stacked[full].ndim - 1)
    numpy.add.at(target.stacked, full, values)


def _outer(ufunc, a, b, **kwargs):
    """`ufunc.outer(a, b)`, one direction's shape `a.shape + b.shape`."""
    na, nb = _ndim(a), _ndim(b)
    if isinstance(a, Batch):
        a = a.stacked[(Ellipsis,) + (None,) * nb]
    else:
        a = a if hasattr(a, "ndim") else numpy.asarray(a)
        a = a[(Ellipsis,) + (None,) * nb]
    if isinstance(b, Batch):
        b = b.stacked[(slice(None),) + (None,) * na]
    return Batch(ufunc(a, b, **kwargs))


def _matmul(a, b, **kwargs):
    """`a @ b` for one direction, for vectors, matrices and stacks of them (one operand a
    batch; two batches would be a product of tangents, which forward mode never forms)."""
    if isinstance(a, Batch) and isinstance(b, Batch):
        raise BatchUnsupported("a product of two batches of tangents")
    if kwargs:
        raise BatchUnsupported("numpy.matmul with keyword arguments")
    na, nb = _ndim(a), _ndim(b)
    if isinstance(b, Batch) and na == 2 and nb == 1:      # M @ v: one product with V.T
        if backend.is_lazy(a) and backend.is_lazy(b.stacked):     # (Dask's dot: no sum step
            return Batch(numpy.tensordot(b.stacked, a, axes=([1], [1])))    # of its own)
        columns = numpy.swapaxes(b.stacked, 0, 1)
        product = backend.rows_times(a, columns)
        return Batch(numpy.swapaxes(a @ columns if product is None else product, 0, 1))
    if isinstance(a, Batch) and na == 1 and nb == 2:      # v @ M
        return Batch(a.stacked @ b)
    ndim = max(na, nb, 2)
    left = _as_matrices(a, na, ndim, vector_as_row=True)
    right = _as_matrices(b, nb, ndim, vector_as_row=False)
    product = left @ right
    if nb == 1:
        product = product[..., 0]
    if na == 1:
        product = product[..., 0, :] if nb != 1 else product[..., 0]
    return Batch(product)


def _as_matrices(x, ndim_x, ndim, vector_as_row):
    """An operand of `matmul` with vectors made matrices (a row on the left, a column on the
    right) and a batch's directions lifted to `ndim` axes each."""
    if isinstance(x, Batch):
        stacked = x.stacked
        if ndim_x == 1:
            stacked = stacked[:, None, :] if vector_as_row else stacked[:, :, None]
        missing = ndim - max(ndim_x, 2)
        return stacked[(slice(None),) + (None,) * missing] if missing > 0 else stacked
    if ndim_x == 1:
        return x[None, :] if vector_as_row else x[:, None]
    return x


# ---- NumPy's functions -----------------------------------------------------------------------
_FUNCTIONS: dict[Any, Callable[..., Any]] = {}     # NumPy function -> its batched form


def _implements(*funcs):
    def register(implementation):
        for func in funcs:
            _FUNCTIONS[func] = implementation
        return implementation
    return register


@_implements(numpy.shape)
def _shape(a):
    return a.shape


@_implements(numpy.ndim)
def _ndim_of(a):
    return a.ndim


@_implements(numpy.size)
def _size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


@_implements(numpy.iscomplexobj)
def _iscomplexobj(x):
    return numpy.iscomplexobj(x.stacked)


def _reduce(func, a, axis=None, **kwargs):
    """A reduction over one direction's `axis` (None: all its axes)."""
    if kwargs.get("out") is not None or kwargs.get("where", True) is not True:
        raise BatchUnsupported(f"numpy.{func.__name__} with out= or where=")
    if not isinstance(a, Batch):
        raise BatchUnsupported(f"numpy.{func.__name__} of a sequence holding batches")
    return Batch(func(a.stacked, axis=_axes(axis, a.ndim), **kwargs))


_func: Any
for _func in (numpy.sum, numpy.mean, numpy.prod, numpy.max, numpy.min, numpy.amax,
              numpy.amin, numpy.nansum, numpy.nanmean, numpy.any, numpy.all):
    _FUNCTIONS[_func] = (lambda f: lambda a, axis=None, **kw: _reduce(f, a, axis, **kw))(_func)


@_implements(numpy.cumsum)
def cumsum(a, axis=None, dtype=None):
    if axis is None:
        a, axis = reshape(a, -1), 0
    return Batch(numpy.cumsum(a.stacked, axis=_axis(axis, a.ndim), dtype=dtype))


@_implements(numpy.reshape)
def reshape(a, shape=None, order="C", **kwargs):
    shape = kwargs.pop("newshape", shape)
    if order != "C" or kwargs.get("copy") is not None:
        raise BatchUnsupported("numpy.reshape with order= or copy=")
    shape = (shape,) if isinstance(shape, (int, numpy.integer)) else tuple(shape)
    return Batch(a.stacked.reshape((a.directions,) + shape))


@_implements(numpy.ravel)
def _ravel(a, order="C"):
    return reshape(a, -1, order=order)


@_implements(numpy.transpose)
def transpose(a, axes=None):
    if axes is None:
        order = tuple(range(a.ndim, 0, -1))
    else:
        order = tuple(_axis(axis, a.ndim) for axis in axes)
    return Batch(a.stacked.transpose((0,) + order))


@_implements(numpy.swapaxes)
def swapaxes(a, axis1, axis2):
    return Batch(numpy.swapaxes(a.stacked, _axis(axis1, a.ndim), _axis(axis2, a.ndim)))


@_implements(numpy.moveaxis)
def _moveaxis(a, source, destination):
    return Batch(numpy.moveaxis(a.stacked, _axes(source, a.ndim), _axes(destination, a.ndim)))


@_implements(numpy.expand_dims)
def _expand_dims(a, axis):
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return Batch(numpy.expand_dims(a.stacked, _axes(tuple(axes), a.ndim + len(axes))))


@_implements(numpy.squeeze)
def squeeze(a, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return Batch(numpy.squeeze(a.stacked, axis=_axes(axis, a.ndim)))


@_implements(numpy.broadcast_to)
def _broadcast_to(a, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, numpy.integer)) else tuple(shape)
    return Batch(numpy.broadcast_to(_lift(a, len(shape)), (a.directions,) + shape))


@_implements(numpy.where)
def _where(condition, x, y):
    return _elementwise(numpy.where, (condition, x, y), {})


@_implements(numpy.clip)
def _clip(a, a_min=None, a_max=None, **kwargs):
    return _elementwise(numpy.clip, (a, a_min, a_max), kwargs)


def _made_like(func):
    """`func` (zeros_like, ones_like, empty_like) of a batch: the same array for every
    direction, kept as a batch so that a later write of a batch into it has room for all."""
    def like(a, dtype=None, order="K", subok=True, shape=None, **kwargs):
        if kwargs.get("device") not in (None, "cpu"):
            raise BatchUnsupported(f"numpy.{func.__name__} with device=")
        shape = a.shape if shape is None else (
            (shape,) if isinstance(shape, (int, numpy.integer)) else tuple(shape))
        return Batch(func(a.stacked, dtype=dtype, shape=(a.directions,) + shape))
    return like


for _func in (numpy.zeros_like, numpy.ones_like, numpy.empty_like):
    _FUNCTIONS[_func] = _made_like(_func)


@_implements(numpy.copy)
def _copy(a, **kwargs):
    return a.copy()


@_implements(numpy.real)
def _real(a):
    return a.real


@_implements(numpy.imag)
def _imag(a):
    return a.imag


@_implements(numpy.diagonal)
def _diagonal(a, offset=0, axis1=0, axis2=1):
    return Batch(numpy.diagonal(a.stacked, offset, _axis(axis1, a.ndim), _axis(axis2, a.ndim)))


@_implements(numpy.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if out is not None or not isinstance(a, Batch):
        raise BatchUnsupported("numpy.trace with out= or of a primal value")
    return Batch(numpy.trace(a.stacked, offset, _axis(axis1, a.ndim), _axis(axis2, a.ndim),
                             dtype))


@_implements(numpy.dot)
def dot(a, b, out=None):
    if out is not None or _ndim(a) > 2 or _ndim(b) > 2:
        raise BatchUnsupported("numpy.dot beyond matrices, or with out=")
    if _ndim(a) == 0 or _ndim(b) == 0:
        return numpy.multiply(a, b)
    return _matmul(a, b)


def _joined(arrays, axis, join):
    """`concatenate` / `stack` of batches and primal values (the primal ones repeated for
    every direction)."""
    batches = [x for x in arrays if isinstance(x, Batch)]
    if not batches:
        raise BatchUnsupported("a join of no batch")
    k = batches[0].directions
    stacked = [x.stacked if isinstance(x, Batch) else
               numpy.broadcast_to(x, (k,) + tuple(numpy.shape(x))) for x in arrays]
    return Batch(join(stacked, axis))


@_implements(numpy.concatenate)
def _concatenate(arrays, axis=0, **kwargs):
    if kwargs.get("out") is not None or kwargs.get("dtype") is not None:
        raise BatchUnsupported("numpy.concatenate with out= or dtype=")
    if axis is None:
        arrays = [reshape(x, -1) if isinstance(x, Batch) else numpy.ravel(x) for x in arrays]
        axis = 0
    ndim = _ndim(arrays[0])
    return _joined(arrays, _axis(axis, ndim), lambda xs, ax: numpy.concatenate(xs, axis=ax))


@_implements(numpy.stack)
def _stack(arrays, axis=0, **kwargs):
    if kwargs.get("out") is not None or kwargs.get("dtype") is not None:
        raise BatchUnsupported("numpy.stack with out= or dtype=")
    ndim = _ndim(arrays[0]) + 1
    return _joined(arrays, _axis(axis, ndim), lambda xs, ax: numpy.stack(xs, axis=ax))


@_implements(numpy.split)
def _split(a, indices_or_sections, axis=0):
    return [Batch(piece) for piece in numpy.split(a.stacked, indices_or_sections,
                                                  axis=_axis(axis, a.ndim))]


@_implements(numpy.array_split)
def _array_split(a, indices_or_sections, axis=0):
    return [Batch(piece) for piece in numpy.array_split(a.stacked, indices_or_sections,
                                                        axis=_axis(axis, a.ndim))]


def _triangle(lower):
    """numpy.tril (lower) or numpy.triu of a batch of matrices."""
    def triangle(m, k=0):
        if m.ndim < 2:
            raise BatchUnsupported("numpy.tril/triu of a vector")
        rows, columns = m.shape[-2:]
        kept = numpy.tri(rows, columns, k if lower else k - 1, dtype=bool)
        return numpy.where(kept, m, 0.0) if lower else numpy.where(kept, 0.0, m)
    return triangle


_FUNCTIONS[numpy.tril] = _triangle(True)
_FUNCTIONS[numpy.triu] = _triangle(False)


@_implements(numpy.diag)
def _diag(v, k=0):
    if v.ndim != 2:
        raise BatchUnsupported("numpy.diag of a vector")
    return _diagonal(v, k)


@_implements(numpy.outer)
def _outer_function(a, b, out=None):
    if out is not None:
        raise BatchUnsupported("numpy.outer with out=")
    flat = [reshape(x, -1) if isinstance(x, Batch) else numpy.ravel(x) for x in (a, b)]
    return _outer(numpy.multiply, *flat)


@_implements(numpy.tensordot)
def tensordot(a, b, axes=2):
    """`numpy.tensordot` with the batch's axes shifted past its batch axis."""
    if isinstance(a, Batch) and isinstance(b, Batch):
        raise BatchUnsupported("a product of two batches of tangents")
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, (int, numpy.integer)):
        axes = (list(range(na - axes, na)), list(range(axes)))
    left, right = ([x] if isinstance(x, (int, numpy.integer)) else list(x) for x in axes)
    if isinstance(a, Batch):
        return Batch(numpy.tensordot(a.stacked, b, ([_axis(i, na) for i in left], right)))
    product = numpy.tensordot(a, b.stacked, (left, [_axis(i, nb) for i in right]))
    return Batch(numpy.moveaxis(product, na - len(left), 0))


@_implements(numpy.inner)
def _inner(a, b):
    if _ndim(a) == 0 or _ndim(b) == 0:
        return numpy.multiply(a, b)
    return tensordot(a, b, ([-1], [-1]))


@_implements(numpy.einsum)
def _einsum(subscripts, *operands, **kwargs):
    """`numpy.einsum` with a free letter for the batch axis on every batch and the output."""
    if not isinstance(subscripts, str) or kwargs.get("out") is not None:
        raise BatchUnsupported("numpy.einsum in the sublist form or with out=")
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if not arrow:
        letters = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    batch = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                 if c not in subscripts)
    terms = [batch + t if isinstance(x, Batch) else t for t, x in zip(terms, operands)]
    arrays = [x.stacked if isinstance(x, Batch) else x for x in operands]
    return Batch(numpy.einsum(f"{','.join(terms)}->{batch}{output}", *arrays, **kwargs))


@_implements(numpy.linalg.solve)
def _solve(a, b):
    """`solve(a, b)` for a matrix `a` the same in every direction and a batch `b` (one vector
    or one matrix of right-hand sides per direction): one solve with all of them."""
    if isinstance(a, Batch) or _ndim(a) != 2 or b.ndim not in (1, 2):
        raise BatchUnsupported("numpy.linalg.solve beyond one matrix and a batch of b")
    k, n = b.directions, b.shape[0]
    columns = numpy.moveaxis(b.stacked.reshape((k, n, -1)), 0, 1).reshape((n, -1))
    solved = numpy.linalg.solve(a, columns).reshape((n, k, -1))
    return Batch(numpy.moveaxis(solved, 1, 0).reshape((k,) + b.shape))
