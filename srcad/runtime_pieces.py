"""Run-time helpers of the rules for functions that build arrays from pieces (numpy.insert,
block, meshgrid, broadcast_arrays, choose; `templates/pieces.py`) and of those for numpy.linalg's
vector_norm, multi_dot, tensorinv, tensorsolve, lstsq and cond (`templates/solvers.py`).

The adjoints (`unblock`, `unmeshgrid`, `unbroadcast_each`, `choose_pieces`) are linear in the
adjoint `g` they take and give one adjoint per piece, in the nesting of the pieces; their own
rules (in `templates/pieces.py`) apply the primal function again. The others compute indices,
subscripts or derivatives of primal values.

In: arrays of any library with NumPy's interface, nested lists of them (block), Python scalars.
Out: arrays, or lists of arrays; `kept_entries`, `inserted_values`, `chain_subscripts`,
`tensor_side` and `tensor_order` give indices, strings and ints; `kept_fraction` a factor;
`check_full_rank` None or an error.
"""

import math

import numpy

from .backend import array_module
from .runtime import _norm_axes, norm_derivative, unbroadcast
from .runtime_arrange import positions


def kept_entries(arr, obj, values, axis=None):
    """Where each entry of `numpy.insert(arr, obj, values, axis)` comes from in `arr` (its
    flat index, -1 for an inserted entry): insert applied to the positions of `arr`, with as
    many entries inserted as `values` makes."""
    return numpy.insert(positions(arr), obj,
                        array_module(arr).full(numpy.shape(values), -1, dtype=numpy.intp), axis)


def inserted_values(arr, obj, values, axis=None):
    """Where each entry of `numpy.insert(arr, obj, values, axis)` comes from in `values` (its
    flat index, -1 for an entry of `arr`): insert applied to the positions of `values`. All -1
    when `arr` holds integers: insert rounds the values then, and rounding has derivative 0."""
    xp = array_module(arr)
    source = xp.arange(numpy.size(values)).reshape(numpy.shape(values)) if kept_fraction(
        arr) else -1
    return numpy.insert(xp.full(numpy.shape(arr), -1, dtype=numpy.intp), obj, source, axis)


def kept_fraction(arr):
    """1.0 where `numpy.insert(arr, ...)` keeps the values it inserts as they are (`arr` holds
    floats), 0.0 where it rounds them to `arr`'s integers."""
    dtype = arr.dtype if hasattr(arr, "dtype") else numpy.asarray(arr).dtype    # (no copy)
    return 1.0 if numpy.issubdtype(dtype, numpy.inexact) else 0.0


def unblock(g, arrays):
    """The adjoint of `numpy.block(arrays)`: `g` cut into pieces shaped like the leaves of the
    nested lists `arrays`, in the same nesting."""
    leaves, xp = [], array_module(g)
    index = numpy.block(_block_positions(arrays, leaves, xp))
    flat = xp.zeros(sum(numpy.size(leaf) for leaf in leaves), dtype=numpy.result_type(g, 0.0))
    flat[numpy.ravel(index)] = numpy.ravel(numpy.broadcast_to(g, numpy.shape(index)))
    return _cut_leaves(arrays, flat, [0])


def _block_positions(arrays, leaves, xp):
    """The nested lists `arrays` with each leaf replaced by its entries' flat indices into the
    concatenation of all leaves (gathered in `leaves`, in order), arrays of the library `xp`."""
    if isinstance(arrays, list):
        return [_block_positions(item, leaves, xp) for item in arrays]
    start = sum(numpy.size(leaf) for leaf in leaves)
    leaves.append(arrays)
    return xp.arange(start, start + numpy.size(arrays)).reshape(numpy.shape(arrays))


def _cut_leaves(arrays, flat, start):
    """`flat` cut into pieces shaped like the leaves of `arrays` (`start[0]` the next offset)."""
    if isinstance(arrays, list):
        return [_cut_leaves(item, flat, start) for item in arrays]
    size = numpy.size(arrays)
    piece = numpy.reshape(flat[start[0]:start[0] + size], numpy.shape(arrays))
    start[0] += size
    return piece


def unmeshgrid(g, xi, sparse=False, indexing="xy"):
    """The adjoint of `numpy.meshgrid(*xi, sparse=, indexing=)`: for each input, its grid's
    adjoint summed over the other inputs' axes, shaped like the input (meshgrid flattens it).
    With `indexing="xy"` the first two inputs run along axes 1 and 0."""
    out = []
    for k, x in enumerate(xi):
        axis = 1 - k if indexing == "xy" and len(xi) > 1 and k < 2 else k
        grid = g[k]
        others = tuple(i for i in range(numpy.ndim(grid)) if i != axis)
        out.append(numpy.reshape(numpy.sum(grid, axis=others), numpy.shape(x)))
    return out


def unbroadcast_each(g, args):
    """The adjoint of `numpy.broadcast_arrays(*args)`: each adjoint summed back to the shape of
    its argument."""
    return [unbroadcast(piece, arg) for piece, arg in zip(g, args)]


def broadcast_each(arrays):
    """`numpy.broadcast_arrays(*arrays)` as a list of read-only views made by broadcast_to (whose
    writeable flag NumPy does not warn about)."""
    shape = numpy.broadcast_shapes(*(numpy.shape(a) for a in arrays))
    xp = array_module(next((a for a in arrays if hasattr(a, "shape")), arrays[0]))
    return [xp.broadcast_to(a if hasattr(a, "shape") else xp.asarray(a), shape) for a in arrays]


def choose_pieces(g, a, choices, mode="raise"):
    """The adjoint of `numpy.choose(a, choices, mode=mode)` with respect to `choices`: `g` where
    each choice was chosen (after `mode` wraps or clips the indices), 0 elsewhere, summed back
    to the choice's shape. A list for a list of choices, an array for an array of them."""
    count = len(choices)
    index = a if hasattr(a, "shape") else numpy.asarray(a)        # (a list: on the host)
    if mode == "wrap":
        index = index % count
    elif mode == "clip":
        index = numpy.clip(index, 0, count - 1)
    pieces = [unbroadcast(numpy.where(index == k, g, 0.0), choices[k]) for k in range(count)]
    return numpy.stack(pieces) if hasattr(choices, "shape") else pieces


def chain_subscripts(arrays):
    """The `numpy.einsum` subscripts of `numpy.linalg.multi_dot(arrays)`: 'ab,bc,cd->ad', the
    first array a row vector when it has one axis, the last a column vector."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    count = len(arrays)
    if count + 1 > len(letters):
        raise ValueError(f"srcad differentiates multi_dot of at most {len(letters) - 1} arrays")
    terms = [letters[k:k + 2] for k in range(count)]
    out = letters[0] + letters[count]
    if numpy.ndim(arrays[0]) == 1:
        terms[0], out = terms[0][1], out[1]
    if numpy.ndim(arrays[-1]) == 1:
        terms[-1], out = terms[-1][0], out[:-1]
    return ",".join(terms) + "->" + out


def vector_norm_derivative(x, y, ord=2, axis=None, keepdims=False):
    """For `y = numpy.linalg.vector_norm(x, axis=, keepdims=, ord=)`: the derivative of each
    norm with respect to each entry of `x`, shaped like `x` (the axes of `axis`, all of them
    for None, are one vector: `norm_derivative` of `x` with them flattened)."""
    if not hasattr(x, "shape"):                    # a number or a list of numbers
        x = numpy.asarray(x)
    axes = _norm_axes(x.ndim, axis)
    kept = x.ndim - len(axes)
    moved = numpy.moveaxis(x, axes, tuple(range(kept, x.ndim)))
    flat = numpy.reshape(moved, numpy.shape(moved)[:kept] + (-1,))
    norms = numpy.reshape(y, numpy.shape(flat)[:-1])
    slope = norm_derivative(flat, norms, ord, -1)
    return numpy.moveaxis(numpy.reshape(slope, numpy.shape(moved)), tuple(range(kept, x.ndim)),
                          axes)


def cond_derivative(x, y, p=None):
    """For `y = numpy.linalg.cond(x, p)`: the derivative of each matrix's condition number with
    respect to its entries, shaped like `x`. For p None, 2 and -2 from the extreme singular
    values (cond = s_max / s_min, or its inverse); else cond = |x| |x^-1| in the norm `p`."""
    axes = (-2, -1)
    if p is None or p == 2 or p == -2:
        high = numpy.linalg.norm(x, 2, axes)
        low = numpy.linalg.norm(x, -2, axes)
        slope = (norm_derivative(x, high, 2, axes) / numpy.expand_dims(high, axes)
                 - norm_derivative(x, low, -2, axes) / numpy.expand_dims(low, axes))
        return numpy.expand_dims(y, axes) * (slope if p != -2 else -slope)
    inverse = numpy.linalg.inv(x)
    inverse_t = numpy.swapaxes(inverse, -1, -2)
    norm_x = numpy.linalg.norm(x, p, axes)
    norm_inverse = numpy.linalg.norm(inverse, p, axes)
    return (numpy.expand_dims(norm_inverse, axes) * norm_derivative(x, norm_x, p, axes)
            - numpy.expand_dims(norm_x, axes)
            * (inverse_t @ norm_derivative(inverse, norm_inverse, p, axes) @ inverse_t))


def check_full_rank(a, rank):
    """None where the `rank` of `a` (as numpy.linalg.lstsq found it) is full; else an error:
    least squares solutions jump where the rank drops, so they have no derivative there."""
    if rank < min(numpy.shape(a)[-2:]):
        raise ValueError(f"numpy.linalg.lstsq has a derivative only where `a` has full rank; "
                         f"this {numpy.shape(a)[0]}x{numpy.shape(a)[1]} matrix has rank {rank}")


def tensor_side(a, ind=2):
    """The side of the square matrix that `numpy.linalg.tensorinv(a, ind)` inverts."""
    return math.prod(numpy.shape(a)[:ind])


def tensor_order(a, axes=None):
    """The order of the axes of `a` that `numpy.linalg.tensorsolve(a, b, axes)` solves with:
    those in `axes` moved to the end, in that order."""
    order = list(range(numpy.ndim(a)))
    for k in axes or ():
        order.remove(k % numpy.ndim(a))
        order.append(k % numpy.ndim(a))
    return order
