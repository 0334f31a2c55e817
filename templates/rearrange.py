"""Rules for functions that move, copy or drop entries, beyond templates/shape.py: tril, triu,
flipud, fliplr, rot90, roll, rollaxis, atleast_1d/2d/3d (of one array), repeat and take
(functions and methods), take_along_axis, delete, compress, extract, diagflat, resize,
partition, fftshift, ifftshift, select (in the choices; the `default` a constant), trapezoid
(in `y`), pad (the modes that move entries, zeros for `constant`), diff (`n`, `axis`),
ediff1d, append, column_stack, dstack, unstack, hsplit, vsplit, dsplit.

All are linear in the array. Where the adjoint is one NumPy call (tril of the adjoint, the
opposite rotation or roll) the rule says so; otherwise the function is applied to
`positions(a)` to learn where each entry of its result comes from, and the adjoint adds the
result's adjoint back there (`placed`; see `srcad.runtime_arrange`). The tangent applies the
function to the tangent. The last section holds the rules of the helpers, so that generated
code can be differentiated again.
"""

import numpy

from srcad import runtime_arrange
from srcad.rules import (
    adjoint,
    d,
    linear,
    nondifferentiable,
    returns_sequence,
    shape,
    tangent,
    without_derivative,
)
from srcad.runtime import unbroadcast, zeros_like
from srcad.runtime_arrange import (
    gathered,
    negated,
    pad_mode,
    placed,
    positions,
    reverse_turns,
    select_pieces,
    trapezoid_weights,
    uncolumn_stack,
    undiff,
    undstack,
)
from srcad.shape_rules import same_shape

returns_sequence(numpy.hsplit, numpy.vsplit, numpy.dsplit, numpy.unstack,
                 runtime_arrange.uncolumn_stack, runtime_arrange.undstack)
nondifferentiable(runtime_arrange.positions, runtime_arrange.pad_mode, runtime_arrange.negated,
                  runtime_arrange.reverse_turns,
                  reason="it gives indices, not values")
nondifferentiable(runtime_arrange.trapezoid_weights, reason="it gives weights",
                  values=("x", "dx"))
returns_sequence(numpy.unstack, runtime_arrange.select_pieces)

# ---- moves whose adjoint is one NumPy call ------------------------------------------------


@linear(numpy.tril)                      # (a 1-D `m` is a row repeated: its rows summed back)
def tril(y, m, k=0):
    return unbroadcast(numpy.tril(d[y], k), m)


@linear(numpy.triu)
def triu(y, m, k=0):
    return unbroadcast(numpy.triu(d[y], k), m)


@linear(numpy.flipud)
def flipud(y, m):
    return numpy.flipud(d[y])


@linear(numpy.fliplr)
def fliplr(y, m):
    return numpy.fliplr(d[y])


@linear(numpy.rot90)
def rot90(y, m, k=1, axes=(0, 1)):
    return numpy.rot90(d[y], reverse_turns(k), axes)


@linear(numpy.roll)
def roll(y, a, shift, axis=None):
    return numpy.roll(d[y], negated(shift), axis)


shape(numpy.flipud, numpy.fliplr)(lambda shapes, m, /: same_shape(shapes, m))


@shape(numpy.tril, numpy.triu)
def triangle_shape(shapes, m, /, k=0):
    """That of `m`; a 1-D `m` of length n gives an n x n matrix (its row repeated)."""
    shape_ = shapes.shape(m)
    return shape_ * 2 if shape_ is not None and len(shape_) == 1 else shape_


@adjoint(numpy.atleast_1d)
@adjoint(numpy.atleast_2d)
@adjoint(numpy.atleast_3d)
def atleast(y, ary):
    d[ary] += numpy.reshape(d[y], numpy.shape(ary))


@tangent(numpy.atleast_1d)
def atleast_1d(y, ary):
    d[y] = numpy.atleast_1d(d[ary])


@tangent(numpy.atleast_2d)
def atleast_2d(y, ary):
    d[y] = numpy.atleast_2d(d[ary])


@tangent(numpy.atleast_3d)
def atleast_3d(y, ary):
    d[y] = numpy.atleast_3d(d[ary])


# ---- gathers: the function applied to positions says where each entry comes from ---------


@linear(numpy.repeat, numpy.ndarray.repeat)
def repeat(y, a, repeats, axis=None):
    return placed(d[y], a, numpy.repeat(positions(a), repeats, axis))


@linear(numpy.take, numpy.ndarray.take)
def take(y, a, indices, axis=None, *, mode="raise"):
    return placed(d[y], a, numpy.take(positions(a), indices, axis, mode=mode))


@linear(numpy.take_along_axis)
def take_along_axis(y, arr, indices, axis=-1):
    return placed(d[y], arr, numpy.take_along_axis(positions(arr), indices, axis))


@linear(numpy.delete)
def delete(y, arr, obj, axis=None):
    return placed(d[y], arr, numpy.delete(positions(arr), obj, axis))


@linear(numpy.rollaxis)
def rollaxis(y, a, axis, start=0):
    return placed(d[y], a, numpy.rollaxis(positions(a), axis, start))


@linear(numpy.ediff1d)                   # the differences of the flattened array
def ediff1d(y, ary):
    return undiff(d[y], ary, 1, -1)


@adjoint(numpy.partition)                # entries in the order that argpartition gives
def partition(y, a, kth, axis=-1):
    d[a] += placed(d[y], a, numpy.take_along_axis(positions(a), numpy.argpartition(a, kth, axis),
                                                  axis))


@tangent(numpy.partition)
def partition(y, a, kth, axis=-1):
    d[y] = gathered(d[a], numpy.take_along_axis(positions(a), numpy.argpartition(a, kth, axis),
                                                axis))


@linear(numpy.resize)
def resize(y, a, new_shape):
    return placed(d[y], a, numpy.resize(positions(a), new_shape))


@linear(numpy.diagflat)
def diagflat(y, v, k=0):
    return placed(d[y], v, numpy.diagflat(positions(v) + 1, k) - 1)


@adjoint(numpy.compress)
def compress(y, condition, a, axis=None):
    d[a] += placed(d[y], a, numpy.compress(condition, positions(a), axis))


@tangent(numpy.compress)
def compress(y, condition, a, axis=None):
    d[y] = numpy.compress(condition, d[a], axis)


@adjoint(numpy.ndarray.compress)         # a.compress(condition, axis): numpy.compress's rule
def compress_method(y, a, condition, axis=None, out=None):
    d[a] += placed(d[y], a, numpy.compress(condition, positions(a), axis))


@tangent(numpy.ndarray.compress)
def compress_method(y, a, condition, axis=None, out=None):
    d[y] = numpy.compress(condition, d[a], axis)


@adjoint(numpy.extract)
def extract(y, condition, arr):
    d[arr] += placed(d[y], arr, numpy.extract(condition, positions(arr)))


@tangent(numpy.extract)
def extract(y, condition, arr):
    d[y] = numpy.extract(condition, d[arr])


@adjoint(numpy.pad)                      # zeros (constant mode) come from no entry
def pad(y, array, pad_width, mode="constant"):
    source = numpy.pad(positions(array) + 1, pad_width, pad_mode(mode)) - 1
    d[array] += placed(d[y], array, source)


@tangent(numpy.pad)
def pad(y, array, pad_width, mode="constant"):
    d[y] = numpy.pad(d[array], pad_width, pad_mode(mode))


@linear(numpy.fft.fftshift)
def fftshift(y, x, axes=None):
    return numpy.fft.ifftshift(d[y], axes)


@linear(numpy.fft.ifftshift)
def ifftshift(y, x, axes=None):
    return numpy.fft.fftshift(d[y], axes)


@adjoint(numpy.select)                   # each choice where its condition is the first to hold
def select(y, condlist, choicelist, default=0):
    d[choicelist] += select_pieces(d[y], condlist, choicelist)


@tangent(numpy.select)
def select(y, condlist, choicelist, default=0):
    d[y] = numpy.select(condlist, d[choicelist], 0.0)


@adjoint(numpy.trapezoid)                # linear in y, with constant sample points
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    d[y] += numpy.expand_dims(d[z], axis) * trapezoid_weights(y, x, dx, axis)


@tangent(numpy.trapezoid)
def trapezoid(z, y, x=None, dx=1.0, axis=-1):
    d[z] = numpy.trapezoid(d[y], x, dx, axis)


# ---- differences, appending, joining and splitting ----------------------------------------


@linear(numpy.diff)
def diff(y, a, n=1, axis=-1):
    return undiff(d[y], a, n, axis)


@adjoint(numpy.append)
def append(y, arr, values, axis=None):
    flat = not isinstance(axis, int)                 # axis None: both arrays flattened
    cut = numpy.size(arr) if flat else numpy.shape(arr)[axis]
    parts = numpy.split(numpy.ravel(d[y]) if flat else d[y], [cut], 0 if flat else axis)
    d[arr] += numpy.reshape(parts[0], numpy.shape(arr))
    d[values] += numpy.reshape(parts[1], numpy.shape(values))


@tangent(numpy.append)                     # one derivative per call: each term is linear in it
def append(y, arr, values, axis=None):
    d[y] = (numpy.append(d[arr], zeros_like(values), axis)
            + numpy.append(zeros_like(arr), d[values], axis))


@adjoint(numpy.column_stack)
def column_stack(y, tup):
    d[tup] += uncolumn_stack(d[y], tup)


@tangent(numpy.column_stack)
def column_stack(y, tup):
    d[y] = numpy.column_stack(d[tup])


@adjoint(numpy.dstack)
def dstack(y, tup):
    d[tup] += undstack(d[y], tup)


@tangent(numpy.dstack)
def dstack(y, tup):
    d[y] = numpy.dstack(d[tup])


@adjoint(numpy.unstack)
def unstack(y, x, *, axis=0):
    d[x] += numpy.stack(d[y], axis)


@tangent(numpy.unstack)
def unstack(y, x, *, axis=0):
    d[y] = numpy.unstack(d[x], axis=axis)


@adjoint(numpy.hsplit)
def hsplit(y, ary, indices_or_sections):
    d[ary] += numpy.hstack(d[y])


@tangent(numpy.hsplit)
def hsplit(y, ary, indices_or_sections):
    d[y] = numpy.hsplit(d[ary], indices_or_sections)


@adjoint(numpy.vsplit)
def vsplit(y, ary, indices_or_sections):
    d[ary] += numpy.vstack(d[y])


@tangent(numpy.vsplit)
def vsplit(y, ary, indices_or_sections):
    d[y] = numpy.vsplit(d[ary], indices_or_sections)


@adjoint(numpy.dsplit)
def dsplit(y, ary, indices_or_sections):
    d[ary] += numpy.dstack(d[y])


@tangent(numpy.dsplit)
def dsplit(y, ary, indices_or_sections):
    d[y] = numpy.dsplit(d[ary], indices_or_sections)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


without_derivative(runtime_arrange.placed, "a", "index")


@linear(runtime_arrange.placed)
def placed_(out, g, a, index):
    return gathered(d[out], index)


without_derivative(runtime_arrange.gathered, "index")


@linear(runtime_arrange.gathered)
def gathered_(out, t, index):
    return placed(d[out], t, index)


without_derivative(runtime_arrange.select_pieces, "condlist", "choicelist")


@linear(runtime_arrange.select_pieces)
def select_pieces_(out, g, condlist, choicelist):
    return numpy.select(condlist, d[out], 0.0)


without_derivative(runtime_arrange.undiff, "a", "n", "axis")


@linear(runtime_arrange.undiff)
def undiff_(out, g, a, n=1, axis=-1):
    return numpy.diff(d[out], n, axis)


without_derivative(runtime_arrange.uncolumn_stack, "arrays")


@linear(runtime_arrange.uncolumn_stack)
def uncolumn_stack_(out, g, arrays):
    return numpy.column_stack(d[out])


without_derivative(runtime_arrange.undstack, "arrays")


@linear(runtime_arrange.undstack)
def undstack_(out, g, arrays):
    return numpy.dstack(d[out])
