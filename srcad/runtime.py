"""What generated code calls at run time, besides the user's own functions and NumPy.

In: arrays of whatever array library the user passed (NumPy, CuPy, or any type implementing
NumPy's `__array_function__`), and Python scalars. Out: arrays of the same library: nothing here
creates an array with `numpy.zeros(shape)`; it follows its input. Every helper has a fast path
for the common case (matching shapes) so that generated code costs what hand-written code does.
"""

import numpy

from . import backend
from .errors import NonScalarOutputError

_SCALARS = (int, float, complex)


def _lazy(x):
    """True for a Dask array (a task graph), told by its protocol rather than by
    `backend.is_lazy`, so that helpers copied into an exported module need nothing of srcad;
    true too for a batch of tangents (`srcad.batching`), which helpers, like Dask arrays, never
    write into a NumPy array."""
    return hasattr(type(x), "__dask_graph__") or hasattr(type(x), "__srcad_batched__")


def shape_of(x):
    """The shape of an array or scalar (a Python scalar has shape ()); of a list or tuple of
    equal arrays, that of their stack (what NumPy makes of it: `numpy.mean(losses)`)."""
    if isinstance(x, _SCALARS):
        return ()
    if isinstance(x, (list, tuple)):         # (read from the items: no copy of the list)
        return (len(x),) + (shape_of(x[0]) if x else ())
    return x.shape


def unbroadcast(g, x):
    """Sum `g` over the axes that broadcasting added or stretched, giving `x`'s shape."""
    target = shape_of(x)
    if shape_of(g) == target:
        return g
    if not target:
        return g.sum()
    extra = g.ndim - len(target)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(target) if n == 1 and g.shape[extra + i] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g
    return g.reshape(target)


def broadcast_as(t, y):
    """The tangent `t` broadcast to the shape of the value `y` (a view when it must change)."""
    target = shape_of(y)
    if shape_of(t) == target:
        return t
    return numpy.broadcast_to(t, target)


def unreduce(g, x, axis=None, keepdims=False):
    """The adjoint of a reduction over `axis`: `g` spread back over the shape of `x`.

    Returns a new array like `x` (filling one costs less than NumPy's broadcast_to machinery
    for small arrays, and the result is writable), or `g` itself when nothing was reduced.
    """
    target = shape_of(x)
    if axis is not None and not keepdims:
        g = numpy.expand_dims(g, axis)
    if shape_of(g) == target:
        return g
    if _lazy(g):                              # Dask: a lazy broadcast, not a fill
        return numpy.broadcast_to(g, target)
    if _lazy(x):                              # (in x's chunks; nothing made on the driver)
        return numpy.zeros_like(x, dtype=_real_dtype(x)) + g
    if isinstance(x, (list, tuple)):         # a list of arrays: the adjoint of their stack,
        first = x[0] if x else 0.0            # in the array library of its items
        out = numpy.zeros_like(first, dtype=_real_dtype(first), shape=target)
    else:
        out = numpy.empty_like(x)
    out[...] = g
    return out


def reduce_like(t, y, axis=None, keepdims=False):
    """The tangent of a linear reduction already applied to `t`, shaped like the output `y`."""
    return numpy.reshape(t, shape_of(y)) if shape_of(t) != shape_of(y) else t


def extremum_adjoint(g, x, y, axis=None, keepdims=False):
    """Adjoint of max/min over `axis`: `g` shared equally among the entries that attain `y`."""
    y_full = unreduce(y, x, axis, keepdims)
    mask = x == y_full
    count = mask.sum(axis=axis, keepdims=True, dtype=_real_dtype(x))
    return unreduce(g, x, axis, keepdims) * mask / count


def extremum_tangent(t, x, y, axis=None, keepdims=False):
    """Tangent of max/min over `axis`: the mean of `t` over the entries that attain `y`."""
    mask = x == unreduce(y, x, axis, keepdims)
    total = (t * mask).sum(axis=axis, keepdims=keepdims)
    return total / mask.sum(axis=axis, keepdims=keepdims, dtype=_real_dtype(x))


def _real_dtype(x):
    """The floating dtype derivatives of `x` have (float64 for integers and scalars)."""
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None and dtype.kind in "fc" else numpy.float64


def zeros_like(x):
    """Zeros shaped and typed like `x` (0.0 for a Python scalar); float for integer input; a
    list (dict) of zeros for a list or tuple (dict) of arrays."""
    if isinstance(x, (list, tuple)):
        return [zeros_like(item) for item in x]
    if isinstance(x, dict):
        return {key: zeros_like(item) for key, item in x.items()}
    if isinstance(x, _SCALARS):
        return 0.0
    if x is None:             # a loop's placeholder for a value not yet computed (reverse
        return None           # mode); forward mode over that code gives it no tangent
    if x.dtype.kind in "biu":
        return numpy.zeros_like(x, dtype=float)
    return numpy.zeros_like(x)


def scatter_add(g, x, index):
    """Adjoint of `x[index]`: zeros like `x` with `g` added at `index` (repeats accumulate).
    For a list or tuple `x` of equal arrays, the zeros are one stacked array."""
    dtype = g.dtype if hasattr(g, "dtype") else None
    if isinstance(x, (list, tuple)):
        out = numpy.zeros_like(g, shape=(len(x),) + shape_of(x[0]), dtype=dtype)
    elif hasattr(type(g), "__srcad_batched__"):     # zeros for every direction of a batch
        out = numpy.zeros_like(g, shape=shape_of(x), dtype=dtype)
    elif _lazy(g) and not _lazy(x):     # Dask g, NumPy x: zeros in Dask (x's would compute g)
        out = numpy.zeros_like(g, shape=shape_of(x), dtype=dtype)
    else:
        out = numpy.zeros_like(x, dtype=dtype)
    if _is_basic_index(index):
        if _lazy(out) and any(p is None for p in (
                index if isinstance(index, tuple) else (index,))):
            g, index = _without_new_axes(g, index)      # Dask assigns without None
        out[index] = g
    else:
        out = backend.add_at(out, index, g)
    return out


def _without_new_axes(g, index):
    """`(g, index)` with the axes that the Nones of a basic `index` add squeezed out of `g` and
    the Nones left out of `index` (`out[index] = g` then writes the same entries)."""
    parts = index if isinstance(index, tuple) else (index,)
    if Ellipsis in parts:
        return g, index
    axis, new = 0, []
    for part in parts:
        if part is None:
            new.append(axis)
        if not isinstance(part, int):
            axis += 1
    return numpy.squeeze(g, axis=tuple(new)), tuple(p for p in parts if p is not None)


def _is_basic_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice))
               or (hasattr(p, "dtype") and p.dtype == bool and len(parts) == 1)
               for p in parts)


def split_like(g, arrays, axis=0):
    """Adjoint of `concatenate(arrays, axis)`: `g` cut into pieces shaped like `arrays` (for
    `axis=None`, which joins the arrays flattened, each piece reshaped back)."""
    if axis is None:
        bounds = numpy.cumsum([numpy.size(a) for a in arrays])[:-1].tolist()
        return in_form_of([piece.reshape(shape_of(a))
                           for piece, a in zip(_split(g, bounds, 0), arrays)], arrays)
    sizes = [shape_of(a)[axis] for a in arrays]
    bounds = numpy.cumsum(sizes)[:-1].tolist()
    return in_form_of(_split(g, bounds, axis), arrays)


def in_form_of(pieces, arrays):
    """The adjoint `pieces` of the entries of `arrays`, a sequence NumPy joins: the list itself
    for a list or tuple, stacked back into one array for an array (whose rows NumPy joined:
    `numpy.concatenate(m)`)."""
    if arrays is None or isinstance(arrays, (list, tuple)):
        return pieces
    return numpy.stack(pieces) if len(pieces) else numpy.zeros(shape_of(arrays))


def _split(g, bounds, axis):
    """`numpy.split(g, bounds, axis)`; for a Dask array (which has no split), its slices."""
    if not _lazy(g):
        return numpy.split(g, bounds, axis=axis)
    edges = [0] + list(bounds) + [g.shape[axis]]
    return [g[(slice(None),) * (axis % g.ndim) + (slice(start, stop),)]
            for start, stop in zip(edges[:-1], edges[1:])]


def unstack(g, axis=0, arrays=None):
    """Adjoint of `stack(arrays, axis)`: the slices of `g` along `axis` (stacked back into one
    array when `arrays` is an array, see `in_form_of`)."""
    return in_form_of([numpy.take(g, i, axis=axis) for i in range(g.shape[axis])], arrays)


def cast_like(g, x):
    """`g` in the dtype of `x` (used by the adjoint of astype); a no-op when they agree."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or getattr(g, "dtype", None) == dtype:
        return g
    return g.astype(dtype)


def grad_seed(y):
    """The seed 1 for `grad`; raises when the output `y` is not a scalar."""
    if isinstance(y, _SCALARS):
        return 1.0
    if getattr(y, "size", 0) != 1:
        raise NonScalarOutputError(
            f"grad needs a function with a scalar output, but this one returns shape "
            f"{shape_of(y)}; use srcad.vjp for vector outputs (or reduce the output with sum)")
    return numpy.ones_like(y)


def distinct(grads, args):
    """`grads` (a tuple) with a copy in place of any array that is, or views the memory of, one
    of the arguments `args` or an earlier gradient: generated code may return an input itself
    (`dx = y` for `x * y`), a view of one (`dw = X.T`) or one array for two gradients
    (`x + y`), but each gradient must own its memory."""
    seen = set()
    for a in args:
        seen.add(id(a))
        base = getattr(a, "base", None)
        if base is not None:
            seen.add(id(base))
    return tuple(owned(g, seen) for g in grads)


def owned(g, seen):
    """`g`, or a copy of it when it is, or views, an array whose id is in `seen` (ids of the
    arrays and bases that gradients must not share); what it returns joins `seen`."""
    base = getattr(g, "base", None)
    if (id(g) in seen or (base is not None and id(base) in seen)) and hasattr(g, "copy"):
        g, base = g.copy(), None
    seen.add(id(g))
    if base is not None:
        seen.add(id(base))
    return g


def as_gradient(g, x):
    """Final form of a gradient: the shape and dtype of the input `x`, writable, own memory
    (a row-sparse gradient is made dense)."""
    if (type(g) is numpy.ndarray and type(x) is numpy.ndarray and g.shape == x.shape
            and g.dtype == x.dtype and g.base is None):
        return g                         # the common case: a fresh array of the right kind
    if hasattr(g, "apply_to"):                 # srcad.sparse.RowGrad
        g = g.dense()
    if isinstance(x, (list, tuple)):
        return type(x)(as_gradient(gi, xi) for gi, xi in zip(g, x))
    if isinstance(x, dict):
        return {key: as_gradient(g[key], item) for key, item in x.items()}
    if isinstance(x, (float, int, complex)):
        if backend.on_device(g) or _lazy(g):   # no implicit copy, no computation
            return g.reshape(()).astype(complex if isinstance(x, complex) else float)
        return complex(g) if isinstance(x, complex) else float(g)
    if isinstance(g, _SCALARS) or not hasattr(g, "shape"):
        return numpy.full_like(x, g) if hasattr(x, "shape") else g
    if g.shape != x.shape:
        g = numpy.broadcast_to(g, x.shape)
    if g.dtype != x.dtype and x.dtype.kind in "fc":
        return g.astype(x.dtype)
    flags = getattr(g, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        return g.copy()
    return g


def matmul_adjoint_left(g, x, y):
    """Adjoint of `x @ y` with respect to `x`, for vectors, matrices and stacks of matrices."""
    x_ndim, y_ndim = len(shape_of(x)), len(shape_of(y))
    if y_ndim == 1:
        return g * y if x_ndim == 1 else numpy.multiply.outer(g, y)
    if x_ndim == 1:                            # a vector times (a stack of) matrices
        return y @ g if y_ndim == 2 else unbroadcast((y @ g[..., None])[..., 0], x)
    return unbroadcast(g @ numpy.swapaxes(y, -1, -2), x)


def matmul_adjoint_right(g, x, y):
    """Adjoint of `x @ y` with respect to `y`, for vectors, matrices and stacks of matrices."""
    x_ndim, y_ndim = len(shape_of(x)), len(shape_of(y))
    if x_ndim == 1:
        if y_ndim == 1:
            return x * g
        return numpy.multiply.outer(x, g) if y_ndim == 2 else unbroadcast(
            x[:, None] * g[..., None, :], y)
    if x_ndim == 2 and _lazy(x) and y_ndim <= 2:    # Dask: one reduction over the rows, no
        return numpy.tensordot(x, g, axes=(0, 0))    # reshapes (its `@` adds steps)
    if y_ndim == 1:
        return unbroadcast(numpy.swapaxes(x, -1, -2) @ g[..., None], y[..., None])[..., 0] \
            if x_ndim > 2 else x.T @ g
    return unbroadcast(numpy.swapaxes(x, -1, -2) @ g, y)


def add_sequences(a, b):
    """Item by item sum of two adjoints of a list, tuple or dict of arrays (nested too); the
    plain sum of two arrays (a value that might have been a container was not)."""
    if isinstance(a, dict):
        return {key: _add(a[key], b[key]) for key in a}
    if not isinstance(a, (list, tuple)):
        return a + b
    return [_add(p, q) for p, q in zip(a, b)]


def _add(p, q):
    return add_sequences(p, q) if isinstance(p, (list, tuple, dict)) else p + q


def item_adjoint(g, sequence, index):
    """Adjoint of `sequence[index]` for a tuple/list (or dict) of arrays: zeros but for `g` at
    `index`; for an array (a value that might have been a container was not), the adjoint
    of indexing it (`scatter_add`)."""
    if not isinstance(sequence, (list, tuple, dict)):
        return scatter_add(g, sequence, index)
    if isinstance(sequence, dict):
        return {key: g if key == index else zeros_like(e) for key, e in sequence.items()}
    if isinstance(index, slice):                 # g: the adjoint of the sliced list
        out = [zeros_like(e) for e in sequence]
        for i, piece in zip(range(len(sequence))[index], g):
            out[i] = piece
        return out
    index = index % len(sequence)
    return [g if i == index else zeros_like(e) for i, e in enumerate(sequence)]


# ---- elementwise and reduction helpers (templates/elementwise.py, templates/reductions.py) ----


def where_tangent(t, condition, z):
    """The tangent that one branch of `z = numpy.where(condition, x, y)` contributes: `t` where
    `condition` holds and zero elsewhere, shaped like the result `z`."""
    return broadcast_as(numpy.where(condition, t, 0), z)


def array_adjoint(g, a):
    """Adjoint of `numpy.array(a)` / `numpy.asarray(a)`: `g` given back in the form of `a`.

    For a list or tuple `a` (of arrays or numbers), the list of the slices of `g` along its
    first axis, one per entry; for an array, `g` in the shape and dtype of `a` (undoing `ndmin`
    and `dtype`), which is `g` itself in the common case.
    """
    if isinstance(a, (list, tuple)):
        return [array_adjoint(piece, entry) for piece, entry in zip(g, a)]
    if shape_of(g) != shape_of(a):
        g = g.reshape(shape_of(a))
    return cast_like(g, a)


def sum_adjoint(g, items):
    """Adjoint of Python's `sum(items)` for a list or tuple of arrays and numbers: `g` summed
    back to the shape of each item, as a list."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"srcad differentiates sum() of a list or tuple of arrays, not of "
                        f"{type(items).__name__}; for the rows of an array, use "
                        f"numpy.sum(x, axis=0)")
    return [unbroadcast(g, item) for item in items]


def prod_others(a, y, axis=None, keepdims=False):
    """For `y = prod(a, axis, keepdims)`: the product of the other entries of each entry's
    slice (the derivative of `y` with respect to that entry), shaped like `a`.

    `y / a` when `a` has no zeros; otherwise exact: an entry that is the only zero of its slice
    gets the product of the rest, and every other entry of a slice with a zero gets 0.
    """
    if axis is not None and not keepdims:
        y = numpy.expand_dims(y, axis)
    zero = a == 0
    if not _lazy(zero) and not numpy.any(zero):     # (a Dask array: no early read)
        return y / a
    nonzero = numpy.where(zero, 1, a)
    single = numpy.sum(zero, axis=axis, keepdims=True) == 1
    return numpy.where(zero & single, numpy.prod(nonzero, axis=axis, keepdims=True),
                       y / nonzero)


def norm_derivative(x, y, ord=None, axis=None, keepdims=False):
    """For `y = numpy.linalg.norm(x, ord, axis, keepdims)`: the derivative of each slice's norm
    with respect to each entry of `x`, shaped like `x` (the adjoint is `g` spread over the
    reduced axes times this; the tangent is the sum of `t` times this over them).

    Vector norms (one axis, or all axes with ord None): 2, 1, inf, -inf, 0 and any other p.
    Matrix norms (two axes): 'fro', 'nuc', 2, -2 (largest and smallest singular value), 1, -1,
    inf, -inf. Ties (several entries or columns attaining an extremum) share equally; a zero
    vector gets derivative 0.
    """
    if isinstance(x, _SCALARS) or isinstance(x, (list, tuple)):    # a list of numbers too
        x = numpy.asarray(x)
    axes = _norm_axes(x.ndim, axis)
    if not keepdims:
        y = numpy.expand_dims(y, axes)
    if ord is None or ord == "fro" or (ord == 2 and len(axes) == 1):
        return x / numpy.where(y == 0, 1, y)
    if len(axes) == 2:
        return _matrix_norm_derivative(x, y, ord, axes)
    if ord == 1:
        return numpy.sign(x)
    if ord == 0:
        return zeros_like(x)
    magnitude = numpy.abs(x)
    if ord in (numpy.inf, -numpy.inf):
        return numpy.sign(x) * _share(magnitude == y, axes, x.dtype)
    return numpy.sign(x) * (magnitude / numpy.where(y == 0, 1, y)) ** (ord - 1)


def _norm_axes(ndim, axis):
    """`axis` of numpy.linalg.norm as a tuple of non-negative axes (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(int(a) % ndim for a in axis)
    return (int(axis) % ndim,)


def _share(mask, axes, dtype):
    """`mask` as weights of `dtype` that sum to 1 over `axes` (ties share equally)."""
    return mask / numpy.sum(mask, axis=axes, keepdims=True, dtype=dtype)


def _matrix_norm_derivative(x, y, ord, axes):
    row, col = axes
    if ord in ("nuc", 2, -2):
        u, _, vh = numpy.linalg.svd(numpy.moveaxis(x, axes, (-2, -1)), full_matrices=False)
        if ord == 2:
            u, vh = u[..., :, :1], vh[..., :1, :]
        elif ord == -2:
            u, vh = u[..., :, -1:], vh[..., -1:, :]
        return numpy.moveaxis(u @ vh, (-2, -1), axes)
    if ord in (1, -1):
        sums, across = numpy.sum(numpy.abs(x), axis=row, keepdims=True), col
    elif ord in (numpy.inf, -numpy.inf):
        sums, across = numpy.sum(numpy.abs(x), axis=col, keepdims=True), row
    else:
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    return numpy.sign(x) * _share(sums == y, (across,), x.dtype)

def copy_stack(stack):
    """A copy of a loop stack (and of the stacks of inner loops it holds), so that a pullback
    can pop from it without emptying the primal's record: pullbacks may be called again. None
    (the placeholder of an inner loop's stack that no trip made: the loop around it ran no
    trip, or a branch did not run it) stays None: nothing pops it."""
    if stack is None:
        return None
    return [copy_stack(item) if type(item) is list else item for item in stack]


def add_popped(a, b):
    """`a + b` for the adjoint of a value a loop stack held (reverse over reverse), where None,
    the adjoint of a loop's placeholder for a value not yet computed, counts as zero."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def shape_only(x):
    """A stand-in for `x` where only its shape and dtype are read (what a loop keeps for the
    `x` of `unbroadcast(g, x)`): one element broadcast to the shape, not a copy of the data."""
    if getattr(x, "ndim", 0) == 0 or isinstance(x, _SCALARS):
        return x
    return numpy.broadcast_to(numpy.zeros_like(x, shape=()), x.shape)


def set_item(x, index, value):
    """`x` with `x[index] = value` applied to a copy (the primal of an in-place write)."""
    out = x.copy()
    out[index] = value
    return out


def keys_of(mapping):
    """The keys of `mapping`, in order, as a list (what `for k, v in d.items()` loops over;
    desugared code calls it)."""
    return list(mapping)


def appended(items, item):
    """A new list: `items` then `item` (the primal of `items.append(item)`; earlier versions
    of the list keep their length, as the adjoint needs)."""
    return list(items) + [item]


def without_item(g, index):
    """`g` with zeros at `index`: the adjoint of the overwritten part of `set_item`. For a
    list (the derivative of a list the function writes an item of), `Pieces`, which adds item
    by item: its sum with the written item's derivative is a list of the same length (for a
    dict, `KeyedPieces`, which adds key by key)."""
    out = Pieces(g) if isinstance(g, list) else KeyedPieces(g) if isinstance(g, dict) \
        else g.copy()
    out[index] = 0
    return out


# ---- shape and linear-algebra helpers (templates/shape.py, templates/linalg.py) -------------


def transpose_axes(axes):
    """The `axes` of `x.transpose(*axes)` as one argument for numpy.transpose."""
    if axes == () or axes == (None,):
        return None
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return tuple(axes[0])
    return tuple(axes)


def dot_adjoint_left(g, a, b):
    """Adjoint of `numpy.dot(a, b)` in `a` (scalars and arrays of any number of dimensions; a
    list of numbers is read as the array NumPy makes of it)."""
    a, b = _as_array(a), _as_array(b)
    if not shape_of(a) or not shape_of(b):
        return unbroadcast(g * b, a)
    if _beyond_matrices(a, b):
        return tensordot_adjoint_left(g, a, b, _dot_axes(a, b))
    return matmul_adjoint_left(g, a, b)


def dot_adjoint_right(g, a, b):
    """Adjoint of `numpy.dot(a, b)` in `b`."""
    a, b = _as_array(a), _as_array(b)
    if not shape_of(a) or not shape_of(b):
        return unbroadcast(g * a, b)
    if _beyond_matrices(a, b):
        return tensordot_adjoint_right(g, a, b, _dot_axes(a, b))
    return matmul_adjoint_right(g, a, b)


def _as_array(x):
    """A list or tuple as the array NumPy reads it as; anything else as it is."""
    return numpy.asarray(x) if isinstance(x, (list, tuple)) else x


def _beyond_matrices(a, b):
    return len(shape_of(a)) > 2 or len(shape_of(b)) > 2


def _dot_axes(a, b):
    """numpy.dot of arrays with more than two dimensions as a tensordot: a's last axis with
    b's second to last (its only one for a vector)."""
    return [len(shape_of(a)) - 1], [max(len(shape_of(b)) - 2, 0)]


def _tensordot_axes(a, b, axes):
    """`axes` of numpy.tensordot as two lists of non-negative axes of `a` and of `b`."""
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, int):
        return list(range(na - axes, na)), list(range(axes))
    left, right = axes
    left = [left] if isinstance(left, int) else list(left)
    right = [right] if isinstance(right, int) else list(right)
    return [i % na for i in left], [i % nb for i in right]


def tensordot_adjoint_left(g, a, b, axes=2):
    """Adjoint of `numpy.tensordot(a, b, axes)` in `a` (with a scalar, as numpy.inner takes
    one: a product)."""
    a, b = _as_array(a), _as_array(b)
    if not shape_of(a) or not shape_of(b):
        return unbroadcast(g * b, a)
    ca, cb = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(len(shape_of(a))) if i not in ca]
    free_b = [i for i in range(len(shape_of(b))) if i not in cb]
    g_axes = list(range(len(free_a), len(free_a) + len(free_b)))
    out = numpy.tensordot(g, b, axes=(g_axes, free_b))     # free_a..., then b's cb in order
    order = free_a + [ca[cb.index(j)] for j in sorted(cb)]
    return numpy.transpose(out, _inverse_order(order)) if order else out


def _inverse_order(order):
    """The permutation (a tuple) that undoes `order`."""
    return tuple(sorted(range(len(order)), key=order.__getitem__))


def tensordot_adjoint_right(g, a, b, axes=2):
    """Adjoint of `numpy.tensordot(a, b, axes)` in `b`."""
    a, b = _as_array(a), _as_array(b)
    if not shape_of(a) or not shape_of(b):
        return unbroadcast(g * a, b)
    ca, cb = _tensordot_axes(a, b, axes)
    free_a = [i for i in range(len(shape_of(a))) if i not in ca]
    free_b = [i for i in range(len(shape_of(b))) if i not in cb]
    out = numpy.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))  # a's ca, free_b
    order = [cb[ca.index(i)] for i in sorted(ca)] + free_b
    return numpy.transpose(out, _inverse_order(order)) if order else out


def _einsum_parts(subscripts, operands):
    """(the inputs' subscripts, the output's) of `numpy.einsum(subscripts, *operands)`, written
    out in full: an ellipsis replaced by letters of its own (aligned to the right, as NumPy
    broadcasts it), an implicit output made explicit (the indices that appear once, in
    alphabetical order, after the ellipsis's). Indices may repeat within one operand."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    spare = [c for c in _LETTERS if c not in subscripts]
    widths = [len(shape_of(op)) - len(s.replace("...", "")) for s, op in zip(inputs, operands)]
    ellipsis = "".join(spare[:max([w for w, s in zip(widths, inputs) if "..." in s] or [0])])
    inputs = [s.replace("...", ellipsis[len(ellipsis) - w:] if w else "")
              for s, w in zip(inputs, widths)]
    if not arrow:
        letters = "".join(inputs)
        output = "..." + "".join(sorted(c for c in set(letters) - set(ellipsis)
                                        if letters.count(c) == 1))
    return inputs, output.replace("...", ellipsis)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_tangent(subscripts, operands, tangents):
    """The tangent of `numpy.einsum(subscripts, *operands)`: one einsum per operand with its
    tangent in its place, summed."""
    total = 0
    for i, tangent in enumerate(tangents):
        args = list(operands)
        args[i] = tangent
        total = total + numpy.einsum(subscripts, *args)
    return total


def merge_grads(a, b):
    """The sum of two dicts of parameter gradients (keys of either; shared keys added)."""
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key] + value if key in out else value
    return out


def prefix_grads(prefix, grads):
    """Gradients of a submodule's parameters, keyed from its parent: "weight" -> "V.weight"."""
    return {f"{prefix}.{key}": value for key, value in grads.items()}


def parameters_under(prefix, tangents):
    """The tangents of a submodule's parameters, keyed from it: "V.weight" -> "weight" for
    `prefix` "V" (forward mode's inverse of `prefix_grads`)."""
    start = prefix + "."
    return {key[len(start):]: value for key, value in tangents.items() if key.startswith(start)}


# ---- shape and linear-algebra helpers, continued (templates/shape.py, templates/linalg.py) ---


def inverse_axes(axes):
    """The `axes` that undo `transpose(a, axes)`: None for None (reversing undoes itself),
    else the inverse permutation. Takes negative axes, and the method's `*axes` forms too:
    `()`, `(None,)`, `((2, 0, 1),)` and `(2, 0, 1)`.

    >>> inverse_axes((-1, 0, 1))
    (1, 2, 0)
    """
    if axes is not None:
        axes = transpose_axes(tuple(axes))
    if axes is None:
        return None
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis % len(axes)] = position
    return tuple(inverse)


def undiagonal(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of `numpy.diagonal(a, offset, axis1, axis2)`: zeros like `a` with `g` (the
    diagonals, along its last axis) written on them."""
    dtype = g.dtype if hasattr(g, "dtype") else _real_dtype(a)
    out = numpy.zeros_like(a, dtype=dtype)
    shape = shape_of(a)
    n, m = shape[axis1], shape[axis2]
    rows = range(max(0, -offset), max(0, min(n, m - offset)))
    cols = range(rows.start + offset, rows.stop + offset)
    if len(shape) == 2 and axis1 % 2 == 0 and axis2 % 2 == 1:     # a plain matrix
        out[list(rows), list(cols)] = g
    else:
        numpy.moveaxis(out, (axis1, axis2), (-2, -1))[..., list(rows), list(cols)] = g
    return out


def untrace(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of `numpy.trace(a, offset, axis1, axis2)`: zeros like `a` with `g` on every
    entry of that diagonal."""
    return undiagonal(numpy.expand_dims(g, -1), a, offset, axis1, axis2)


def undiag(g, v, k=0):
    """Adjoint of `numpy.diag(v, k)`: for a vector `v`, the k-th diagonal of `g`; for a
    matrix `v`, zeros like `v` with `g` on its k-th diagonal."""
    if len(shape_of(v)) == 1:
        return numpy.diagonal(g, k).copy()
    return undiagonal(g, v, k)


def untile(g, a, reps):
    """Adjoint of `numpy.tile(a, reps)`: the sum of the copies of `a` that `g` holds, shaped
    like `a`."""
    shape = tuple(shape_of(a))
    reps = (int(reps),) if numpy.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    sizes = (1,) * (ndim - len(shape)) + shape
    counts = (1,) * (ndim - len(reps)) + reps
    interleaved = [n for pair in zip(counts, sizes) for n in pair]
    copies = numpy.reshape(g, interleaved).sum(axis=tuple(range(0, 2 * ndim, 2)))
    return numpy.reshape(copies, shape)


def sort_tangent(t, a, axis=-1):
    """Tangent of `numpy.sort(a, axis)`: `t` gathered in the order that sorts `a` (flattened
    for axis None). The order is stable, so tied entries move the same way in both modes."""
    if axis is None:
        return numpy.ravel(t)[numpy.argsort(a, axis=None, kind="stable")]
    return numpy.take_along_axis(t, numpy.argsort(a, axis=axis, kind="stable"), axis=axis)


def sort_adjoint(g, a, axis=-1):
    """Adjoint of `numpy.sort(a, axis)`: each entry of `g` sent back to the position in `a`
    its value came from (the inverse of the order `sort_tangent` gathers in)."""
    order = numpy.argsort(a, axis=axis, kind="stable")
    if axis is None:
        return numpy.reshape(g[numpy.argsort(order)], shape_of(a))
    return numpy.take_along_axis(g, numpy.argsort(order, axis=axis), axis=axis)


def unhstack(g, arrays):
    """Adjoint of `numpy.hstack(arrays)`: `g` cut into pieces shaped like `arrays` (hstack
    joins along axis 1, or along axis 0 when the first array has one dimension or none)."""
    return _unjoin(g, arrays, 0 if len(shape_of(arrays[0])) <= 1 else 1, 1)


def unvstack(g, arrays):
    """Adjoint of `numpy.vstack(arrays)`: `g` cut into pieces shaped like `arrays` (vstack
    takes a vector or a scalar as one row)."""
    return _unjoin(g, arrays, 0, 2)


def _unjoin(g, arrays, axis, ndmin):
    """`g` cut along `axis` into pieces shaped like `arrays`, which were joined along it
    after taking at least `ndmin` dimensions (new axes in front)."""
    shapes = [tuple(shape_of(a)) for a in arrays]
    sizes = [((1,) * (ndmin - len(shape)) + shape)[axis] for shape in shapes]
    pieces = _split(g, numpy.cumsum(sizes)[:-1].tolist(), axis)
    return in_form_of([piece if piece.shape == shape else piece.reshape(shape)
                       for piece, shape in zip(pieces, shapes)], arrays)


def einsum_pullback(g, subscripts, operands):
    """The adjoints of the operands of `numpy.einsum(subscripts, *operands)`, as `Pieces`.

    Any string form: an explicit or implicit output, an ellipsis, indices repeated within one
    operand (see `_einsum_parts`).
    """
    _check_einsum(subscripts)
    return Pieces(_einsum_operand_adjoint(g, subscripts, operands, i)
                  for i in range(len(operands)))


def _einsum_operand_adjoint(g, subscripts, operands, i):
    """The adjoint of operand `i`: an einsum of `g` with the other operands, broadcast over
    the indices that only operand `i` has (the einsum summed them), and put on the diagonals
    where operand `i` repeats an index (the einsum read only those)."""
    inputs, output = _einsum_parts(subscripts, operands)
    others = [j for j in range(len(operands)) if j != i]
    known = set(output).union(*(inputs[j] for j in others))
    unique = "".join(dict.fromkeys(inputs[i]))
    kept = "".join(c for c in unique if c in known)
    terms = ",".join([output] + [inputs[j] for j in others])
    piece = numpy.einsum(f"{terms}->{kept}", g, *[operands[j] for j in others])
    sizes = dict(zip(inputs[i], shape_of(operands[i])))
    if kept != unique:
        for axis, c in enumerate(unique):
            if c not in known:
                piece = numpy.expand_dims(piece, axis)
        piece = numpy.broadcast_to(piece, tuple(sizes[c] for c in unique))
    if unique == inputs[i]:
        return piece
    return _on_diagonals(piece, unique, inputs[i], sizes)


def _on_diagonals(piece, unique, target, sizes):
    """`piece` (indices `unique`) written on the diagonals of an array with indices `target`
    (which repeats some of them), zeros elsewhere: one identity matrix per repetition."""
    spare = [c for c in _LETTERS if c not in target]
    renamed, eyes, seen = [], [], set()
    for c in target:
        if c in seen:
            fresh = spare.pop(0)
            eyes.append(f"{c}{fresh}")
            renamed.append(fresh)
        else:
            seen.add(c)
            renamed.append(c)
    identities = [numpy.eye(sizes[pair[0]], like=piece) for pair in eyes]
    return numpy.einsum(",".join([unique] + eyes) + "->" + "".join(renamed), piece, *identities)


def einsum_pullback_in_operands(g, subscripts, operands, directions):
    """The derivative of `einsum_pullback(g, subscripts, operands)` in the operands, along
    `directions` (one per operand): item i sums, over the other operands j, the adjoint of
    operand i with `directions[j]` in place of operand j. The map is its own transpose, so it
    is also the adjoint of that derivative."""
    pieces = Pieces()
    for i, operand in enumerate(operands):
        total = zeros_like(operand)
        for j, direction in enumerate(directions):
            if j != i:
                replaced = list(operands)
                replaced[j] = direction
                total = total + _einsum_operand_adjoint(g, subscripts, replaced, i)
        pieces.append(total)
    return pieces


class Pieces(list):
    """A list of arrays, one per operand, that adds item by item (`p + q`), as derivatives
    do: what `einsum_pullback` returns, so that a tangent rule can sum two of them."""

    def __add__(self, other):
        return Pieces(p + q for p, q in zip(self, other, strict=True))

    __radd__ = __add__


class KeyedPieces(dict):
    """A dict of derivatives that adds key by key (`p + q` has the keys of both), as the
    tangent of a dict the function writes an item of (`without_item`) needs."""

    def __add__(self, other):
        out = KeyedPieces(self)
        for key, value in other.items():
            out[key] = out[key] + value if key in out else value
        return out

    __radd__ = __add__


def einsum_pushforward(subscripts, operands, tangents):
    """The tangent of `numpy.einsum(subscripts, *operands)` (any string form): one einsum per
    operand with its tangent in its place, summed."""
    _check_einsum(subscripts)
    return einsum_tangent(subscripts, operands, tangents)


def _check_einsum(subscripts):
    """Raise UnsupportedSyntaxError for the einsum form srcad does not differentiate: operands
    and index lists interleaved (the primal has run, so the subscripts are valid for NumPy)."""
    if isinstance(subscripts, str):
        return
    from .errors import UnsupportedSyntaxError
    raise UnsupportedSyntaxError(
        "srcad cannot differentiate numpy.einsum(operand, [indices], ...): operands and index "
        "lists interleaved are not supported. Write the subscripts as a string, like "
        "'ij,jk->ik'.")
