"""Run-time helpers for the derivatives of array constructors whose values depend on their
arguments (templates/construction.py), called by generated code like those in `srcad.runtime`.

In: the adjoint `g` of `numpy.linspace(start, stop, num, endpoint, axis=axis)` (the result's
shape) and one endpoint. Out: that endpoint's adjoint, in its shape (`unlinspace`), and the
transpose of that map (`relinspace`), which second derivatives need; `logspace` and
`geomspace` reuse them, with `log_base` for logspace's base.
"""

import numpy

from .backend import array_module
from .errors import SrcadError
from .runtime import shape_of, unbroadcast


def linspace_weights(xp, num, endpoint, ndim, axis):
    """The weights `t` of `numpy.linspace` (sample i is `start + t[i] * (stop - start)`), an
    array of the library `xp` shaped to broadcast along `axis` of a result with `ndim`
    dimensions."""
    div = num - 1 if endpoint else num
    t = xp.arange(num) / div if div > 0 else xp.zeros(num)
    shape = [1] * ndim
    shape[axis] = num
    return t.reshape(shape)


def unlinspace(g, x, num, endpoint=True, axis=0, at_stop=False):
    """The adjoint of `linspace`'s `start` (or of `stop`, with `at_stop`), shaped like `x`."""
    t = linspace_weights(array_module(g), num, endpoint, numpy.ndim(g), axis)
    weights = t if at_stop else 1.0 - t
    return unbroadcast(numpy.sum(g * weights, axis=axis), x)


def relinspace(h, g, num, endpoint=True, axis=0, at_stop=False):
    """The transpose of `unlinspace` in `g`: `h` (shaped like an endpoint) spread along `axis`
    with linspace's weights, shaped like `g`."""
    xp = array_module(g)
    ndim = len(shape_of(g))
    t = linspace_weights(xp, num, endpoint, ndim, axis)
    weights = t if at_stop else 1.0 - t
    reduced = list(shape_of(g))
    del reduced[axis % ndim]
    return xp.expand_dims(xp.broadcast_to(h, tuple(reduced)), axis) * weights


def log_base(base):
    """The natural logarithm of `numpy.logspace`'s `base`, which srcad's rules take as a
    number: a SrcadError for an array of bases (NumPy then changes the result's axes)."""
    if numpy.ndim(base):
        raise SrcadError("srcad differentiates numpy.logspace with one base (a number), not "
                         f"an array of bases (shape {numpy.shape(base)}); write "
                         "base ** numpy.linspace(start, stop, ...) with the bases you mean")
    return numpy.log(base)


def vander_exponents(v, increasing=False):
    """The exponent of each column of the Vandermonde matrix `v` (its columns' powers), as
    floats: 0 .. N-1, or N-1 .. 0 without `increasing`."""
    count = numpy.shape(v)[1]
    powers = array_module(v).arange(count, dtype=float)
    return powers if increasing else powers[::-1]


def vander_shift(increasing=False):
    """The roll that brings each column of a Vandermonde matrix next to the column of one power
    less (1 for increasing powers, -1 for decreasing)."""
    return 1 if increasing else -1


def polyval_exponents(p):
    """The exponents N-1 .. 1 that the coefficients p[:-1] of numpy.polyval's `p` (1-D, N
    entries) get in the polynomial's derivative, as floats. NumPy documents a 1-D `p` only; a
    `p` of more dimensions is an error, not a derivative along the wrong axis."""
    if numpy.ndim(p) != 1:
        raise ValueError(f"srcad differentiates numpy.polyval with a 1-D p (the coefficients), "
                         f"not one of shape {numpy.shape(p)}")
    return array_module(p).arange(numpy.shape(p)[0] - 1, 0, -1, dtype=float)
