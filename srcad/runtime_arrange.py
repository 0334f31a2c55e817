"""Run-time helpers of the rules for functions that move, copy or drop entries (repeat, take,
pad, delete, diagflat, diff, column_stack, ...; `templates/rearrange.py`).

Such a function applied to `positions(a)` (each entry's flat index in `a`) says where each of
its result's entries comes from; the adjoint adds the result's adjoint into those places
(`placed`), and its transpose reads them back (`gathered`). An index below 0 marks an entry that
comes from no entry of `a` (a padding zero, diagflat's zeros).

In: NumPy arrays (the adjoint `g`, the argument `a`, integer index arrays). Out: NumPy arrays.
"""

import numpy

from .backend import array_module
from .errors import UnsupportedSyntaxError

INDEX_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def positions(a):
    """Each entry's flat index in `a`, an integer array of `a`'s shape."""
    return array_module(a).arange(numpy.size(a)).reshape(numpy.shape(a))


def placed(g, a, index):
    """`g` added into an array shaped like `a` at the flat places `index` (of `g`'s shape,
    entries below 0 dropped): the adjoint of gathering `a` at `index`."""
    keep = index >= 0
    values = numpy.broadcast_to(g, index.shape)[keep]
    out = numpy.bincount(index[keep], weights=values, minlength=numpy.size(a))
    return out.reshape(numpy.shape(a))


def gathered(t, index):
    """The entries of `t` at the flat places `index`, 0 where an index is below 0."""
    return numpy.where(index >= 0, numpy.ravel(t)[numpy.maximum(index, 0)], 0.0)


def negated(shift):
    """`-shift` for an int, or each entry negated for a tuple or list of ints (numpy.roll's
    shifts, kept Python numbers so that no NumPy array meets a device array)."""
    if isinstance(shift, (tuple, list)):
        return tuple(-s for s in shift)
    return -shift


def reverse_turns(k):
    """The quarter turns that undo `numpy.rot90(m, k)`, as NumPy takes `k` (its `k % 4` picks
    no turn, one, two, or else three, so a number that is not an integer turns three times)."""
    turns = k % 4
    return -int(turns) if turns in (0, 1, 2) else -3


def pad_mode(mode):
    """`mode` itself when numpy.pad moves entries in that mode (no `constant_values`), else an
    error: its other modes compute new values (mean, linear_ramp...)."""
    if mode not in INDEX_MODES:
        raise UnsupportedSyntaxError(f"srcad differentiates numpy.pad in the modes {INDEX_MODES}"
                                     f", not {mode!r}")
    return mode


def undiff(g, a, n=1, axis=-1):
    """The adjoint of `numpy.diff(a, n, axis)`: the transpose of the difference, n times."""
    for _ in range(n):
        g = -numpy.diff(g, axis=axis, prepend=0.0, append=0.0)
    return numpy.reshape(g, numpy.shape(a))


def uncolumn_stack(g, arrays):
    """The adjoint of `numpy.column_stack(arrays)`: `g` cut into pieces shaped like `arrays`
    (a vector is one column)."""
    return _cut(g, arrays, 1, lambda shape: 1 if len(shape) < 2 else shape[1])


def undstack(g, arrays):
    """The adjoint of `numpy.dstack(arrays)`: `g` cut along axis 2 into pieces shaped like
    `arrays`."""
    return _cut(g, arrays, 2, lambda shape: 1 if len(shape) < 3 else shape[2])


def _cut(g, arrays, axis, width):
    from .runtime import in_form_of
    shapes = [numpy.shape(a) for a in arrays]
    bounds = numpy.cumsum([width(s) for s in shapes])[:-1].tolist()
    return in_form_of([numpy.reshape(piece, shape)
                       for piece, shape in zip(numpy.split(g, bounds, axis=axis), shapes)],
                      arrays)


def select_pieces(g, condlist, choicelist):
    """The adjoints of the choices of `numpy.select(condlist, choicelist, default)`: `g` where
    a choice's condition is the first that holds, 0 elsewhere, summed to the choice's shape."""
    from .runtime import unbroadcast
    taken = array_module(g).zeros(numpy.shape(g), dtype=bool)
    pieces = []
    for condition, choice in zip(condlist, choicelist):
        mask = numpy.logical_and(condition, numpy.logical_not(taken))
        pieces.append(unbroadcast(numpy.where(mask, g, 0.0), choice))
        taken = numpy.logical_or(taken, condition)
    return pieces


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """The weight of each entry of `y` in `numpy.trapezoid(y, x, dx, axis)` (half the widths of
    its neighbouring intervals), shaped to broadcast against `y`."""
    xp = array_module(y)
    ndim, n = numpy.ndim(y), numpy.shape(y)[axis]
    along = [1] * ndim
    along[axis] = n
    if x is None:
        widths = xp.full(max(n - 1, 0), float(dx))
    else:
        x = xp.asarray(x)               # (NumPy's diff of booleans is `!=`, not a subtraction)
        widths = numpy.diff(x, axis=-1 if x.ndim == 1 else axis).astype(float)
    widths = numpy.reshape(widths, along[:axis % ndim] + [-1] + along[axis % ndim + 1:]) \
        if numpy.ndim(widths) == 1 else widths
    cut = list(numpy.shape(y))
    cut[axis] = max(n - 1, 0)           # NumPy broadcasts the widths against the intervals
    widths = numpy.broadcast_to(widths, numpy.broadcast_shapes(numpy.shape(widths), tuple(cut)))
    pad_after = [(0, 0)] * ndim
    pad_before = [(0, 0)] * ndim
    pad_after[axis] = (0, 1)
    pad_before[axis] = (1, 0)
    return 0.5 * (numpy.pad(widths, pad_after) + numpy.pad(widths, pad_before))
