"""Rules for shape operations: reshape (function, and method with a tuple or the sizes one by
one), ravel and flatten, expand_dims, squeeze, broadcast_to, full and full_like (linear in
the fill value), tile; transpose (function, method with a tuple or varargs, the `.T`
attribute), swapaxes, moveaxis, flip; sort; concatenate, stack, hstack, vstack, split and
array_split (which return lists).

All are linear and only move entries around, so each adjoint undoes the move (reshape back,
inverse permutation, cut the pieces apart, sum the copies) and each tangent repeats it on the
tangent. sort moves entries in the order that sorts its input (locally constant), so its
rules gather and scatter in that order. The last section holds the rules of the runtime
helpers these adjoints call, so that generated code can be differentiated again.
"""

import numpy

from srcad import runtime
from srcad.rules import adjoint, d, linear, returns_sequence, shape, tangent, without_derivative
from srcad.runtime import (
    inverse_axes,
    sort_adjoint,
    sort_tangent,
    split_like,
    transpose_axes,
    unbroadcast,
    unhstack,
    unstack,
    untile,
    unvstack,
)

returns_sequence(numpy.split, numpy.array_split, runtime.unhstack, runtime.unvstack)

# ---- reshaping ----------------------------------------------------------------------------


@adjoint(numpy.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    d[a] += numpy.reshape(d[y], numpy.shape(a), order=order)


@tangent(numpy.reshape)
def reshape(y, a, shape=None, order="C", newshape=None, copy=None):
    d[y] = numpy.reshape(d[a], numpy.shape(y), order=order)


@adjoint(numpy.ndarray.reshape)
def reshape_method(y, a, *shape, order="C", copy=None):
    d[a] += d[y].reshape(numpy.shape(a), order=order)


@tangent(numpy.ndarray.reshape)
def reshape_method(y, a, *shape, order="C", copy=None):
    d[y] = d[a].reshape(numpy.shape(y), order=order)


@adjoint(numpy.ravel)
@adjoint(numpy.ndarray.ravel)
@adjoint(numpy.ndarray.flatten)
def ravel(y, a, order="C"):
    d[a] += numpy.reshape(d[y], numpy.shape(a), order=order)


@tangent(numpy.ravel)
@tangent(numpy.ndarray.ravel)
@tangent(numpy.ndarray.flatten)
def ravel(y, a, order="C"):
    d[y] = numpy.ravel(d[a], order=order)


@linear(numpy.expand_dims)
def expand_dims(y, a, axis):
    return numpy.reshape(d[y], numpy.shape(a))


@linear(numpy.squeeze, numpy.ndarray.squeeze)
def squeeze(y, a, axis=None):
    return numpy.reshape(d[y], numpy.shape(a))


@adjoint(numpy.broadcast_to)
def broadcast_to(y, array, shape, subok=False):
    d[array] += unbroadcast(d[y], array)


@tangent(numpy.broadcast_to)
def broadcast_to(y, array, shape, subok=False):
    d[y] = numpy.broadcast_to(d[array], shape)


without_derivative(numpy.full_like, "a")


@adjoint(numpy.full_like)
def full_like(y, a, fill_value):
    d[fill_value] += unbroadcast(d[y], fill_value)


@tangent(numpy.full_like)
def full_like(y, a, fill_value):
    d[y] = numpy.full_like(y, d[fill_value])


@adjoint(numpy.full)
def full(y, shape, fill_value):
    d[fill_value] += unbroadcast(d[y], fill_value)


@tangent(numpy.full)
def full(y, shape, fill_value):
    d[y] = numpy.full_like(y, d[fill_value])


@linear(numpy.tile)
def tile(y, A, reps):
    return untile(d[y], A, reps)


# ---- permuting axes -----------------------------------------------------------------------


@linear(numpy.transpose)
def transpose(y, a, axes=None):
    return numpy.transpose(d[y], inverse_axes(axes))


@adjoint(numpy.ndarray.transpose)
def transpose_method(y, a, *axes):
    d[a] += numpy.transpose(d[y], inverse_axes(axes))


@tangent(numpy.ndarray.transpose)
def transpose_method(y, a, *axes):
    d[y] = numpy.transpose(d[a], transpose_axes(axes))


@adjoint(numpy.ndarray.T)
def T(y, x):
    d[x] += d[y].T


@tangent(numpy.ndarray.T)
def T(y, x):
    d[y] = d[x].T


@shape(numpy.ndarray.T)
def T_shape(shapes, x, /):
    dims = shapes.shape(x)
    return dims[::-1] if dims is not None else None


@linear(numpy.swapaxes, numpy.ndarray.swapaxes)
def swapaxes(y, a, axis1, axis2):
    return numpy.swapaxes(d[y], axis1, axis2)


@linear(numpy.moveaxis)
def moveaxis(y, a, source, destination):
    return numpy.moveaxis(d[y], destination, source)


@linear(numpy.flip)
def flip(y, m, axis=None):
    return numpy.flip(d[y], axis)


# ---- sorting ------------------------------------------------------------------------------


@adjoint(numpy.sort)
def sort(y, a, axis=-1, kind=None, order=None, *, stable=None):
    d[a] += sort_adjoint(d[y], a, axis)


@tangent(numpy.sort)
def sort(y, a, axis=-1, kind=None, order=None, *, stable=None):
    d[y] = sort_tangent(d[a], a, axis)


# ---- joining and splitting ----------------------------------------------------------------


@adjoint(numpy.concatenate)
def concatenate(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] += split_like(d[y], arrays, axis)


@tangent(numpy.concatenate)
def concatenate(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = numpy.concatenate(d[arrays], axis)


@adjoint(numpy.stack)
def stack(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] += unstack(d[y], axis, arrays)


@tangent(numpy.stack)
def stack(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = numpy.stack(d[arrays], axis)


@adjoint(numpy.hstack)
def hstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] += unhstack(d[y], tup)


@tangent(numpy.hstack)
def hstack(y, tup, dtype=None, casting="same_kind"):
    d[y] = numpy.hstack(d[tup])


@adjoint(numpy.vstack)
def vstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] += unvstack(d[y], tup)


@tangent(numpy.vstack)
def vstack(y, tup, dtype=None, casting="same_kind"):
    d[y] = numpy.vstack(d[tup])


@adjoint(numpy.split)
@adjoint(numpy.array_split)
def split(y, ary, indices_or_sections, axis=0):
    d[ary] += numpy.concatenate(d[y], axis)


@tangent(numpy.split)
def split(y, ary, indices_or_sections, axis=0):
    d[y] = numpy.split(d[ary], indices_or_sections, axis)


@tangent(numpy.array_split)
def array_split(y, ary, indices_or_sections, axis=0):
    d[y] = numpy.array_split(d[ary], indices_or_sections, axis)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


without_derivative(runtime.unhstack, "arrays")


@linear(runtime.unhstack)
def unhstack_(out, g, arrays):
    return numpy.hstack(d[out])


without_derivative(runtime.unvstack, "arrays")


@linear(runtime.unvstack)
def unvstack_(out, g, arrays):
    return numpy.vstack(d[out])


without_derivative(runtime.untile, "a", "reps")


@linear(runtime.untile)
def untile_(out, g, a, reps):
    return numpy.tile(d[out], reps)


without_derivative(runtime.sort_tangent, "a", "axis")


@linear(runtime.sort_tangent)
def sort_tangent_(out, t, a, axis=-1):
    return sort_adjoint(d[out], a, axis)


without_derivative(runtime.sort_adjoint, "a", "axis")


@linear(runtime.sort_adjoint)
def sort_adjoint_(out, g, a, axis=-1):
    return sort_tangent(d[out], a, axis)
