"""Rules for functions that build arrays from pieces: insert (the array and the inserted values,
any `obj` NumPy takes, `axis`), block (nested lists of any depth, numbers among the arrays),
meshgrid (any number of inputs, `indexing` 'xy' or 'ij', `sparse`, `copy`) and
broadcast_arrays, which return a tuple of arrays (unpacked or indexed like any sequence), and
choose, function and method (in the choices, a list or an array of them; the index array is
a constant; every `mode`).

All are linear in the arrays they take, jointly: each tangent applies the function to the
tangents (zeros for a constant piece), each adjoint hands every piece the adjoint of the
entries it became (`srcad.runtime_pieces`; insert's through `placed`, as the moves of
templates/rearrange.py). The last section holds the rules of the adjoints' helpers, so that
generated code can be differentiated again.
"""

import numpy

from srcad import runtime_pieces
from srcad.rules import (
    adjoint,
    d,
    linear,
    nondifferentiable,
    returns_sequence,
    tangent,
    without_derivative,
)
from srcad.runtime_arrange import placed
from srcad.runtime_pieces import (
    broadcast_each,
    choose_pieces,
    inserted_values,
    kept_entries,
    kept_fraction,
    unblock,
    unbroadcast_each,
    unmeshgrid,
)

returns_sequence(numpy.meshgrid, numpy.broadcast_arrays, runtime_pieces.unblock,
                 runtime_pieces.broadcast_each,
                 runtime_pieces.unmeshgrid, runtime_pieces.unbroadcast_each,
                 runtime_pieces.choose_pieces)
nondifferentiable(runtime_pieces.kept_entries, runtime_pieces.inserted_values,
                  reason="it gives indices, not values")
nondifferentiable(runtime_pieces.kept_fraction, reason="it gives a constant factor")

# ---- insert -------------------------------------------------------------------------------


@adjoint(numpy.insert)                   # the array's entries, then the values' (broadcast)
def insert(y, arr, obj, values, axis=None):
    d[arr] += placed(d[y], arr, kept_entries(arr, obj, values, axis))
    d[values] += placed(d[y], values, inserted_values(arr, obj, values, axis))


@tangent(numpy.insert)
def insert(y, arr, obj, values, axis=None):
    d[y] = numpy.insert(d.full[arr], obj, d.full[values], axis) * kept_fraction(arr)


# ---- block, meshgrid, broadcast_arrays ----------------------------------------------------


@adjoint(numpy.block)
def block(y, arrays):
    d[arrays] += unblock(d[y], arrays)


@tangent(numpy.block)
def block(y, arrays):
    d[y] = numpy.block(d[arrays])


@adjoint(numpy.meshgrid)
def meshgrid(y, *xi, copy=True, sparse=False, indexing="xy"):
    d[xi] += unmeshgrid(d[y], xi, sparse, indexing)


@tangent(numpy.meshgrid)
def meshgrid(y, *xi, copy=True, sparse=False, indexing="xy"):
    d[y] = numpy.meshgrid(*d[xi], copy=copy, sparse=sparse, indexing=indexing)


@adjoint(numpy.broadcast_arrays)
def broadcast_arrays(y, *args, subok=False):
    d[args] += unbroadcast_each(d[y], args)


@tangent(numpy.broadcast_arrays)
def broadcast_arrays(y, *args, subok=False):
    d[y] = broadcast_each(d[args])


# ---- choose -------------------------------------------------------------------------------


@adjoint(numpy.choose)                   # the index array `a` is a constant
@adjoint(numpy.ndarray.choose)
def choose(y, a, choices, out=None, mode="raise"):
    d[choices] += choose_pieces(d[y], a, choices, mode)


@tangent(numpy.choose)
@tangent(numpy.ndarray.choose)
def choose(y, a, choices, out=None, mode="raise"):
    d[y] = numpy.choose(a, d[choices], mode=mode)


# ---- the helpers' own rules (derivatives of generated code) -------------------------------


@linear(runtime_pieces.unblock)
def unblock_(out, g, arrays):
    return numpy.block(d[out])


@linear(runtime_pieces.unmeshgrid)
def unmeshgrid_(out, g, xi, sparse=False, indexing="xy"):
    return numpy.meshgrid(*d[out], sparse=sparse, indexing=indexing)


@linear(runtime_pieces.unbroadcast_each)
def unbroadcast_each_(out, g, args):
    return broadcast_each(d[out])


@linear(runtime_pieces.broadcast_each)
def broadcast_each_(out, arrays):
    return unbroadcast_each(d[out], arrays)


@linear(runtime_pieces.choose_pieces)
def choose_pieces_(out, g, a, choices, mode="raise"):
    return numpy.choose(a, d[out], mode=mode)


# the helpers' shape and setting parameters: the pieces' shapes, the index array `a` (constant:
# it changes the result only piecewise), `mode`, `sparse`, `indexing`
without_derivative(runtime_pieces.unblock, "arrays")
without_derivative(runtime_pieces.unbroadcast_each, "args")
without_derivative(runtime_pieces.unmeshgrid, "xi", "sparse", "indexing")
without_derivative(runtime_pieces.choose_pieces, "a", "choices", "mode")
