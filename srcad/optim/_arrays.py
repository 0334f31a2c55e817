"""Array helpers shared by the optimizers, clipping and checkpoints: nothing here names CuPy.

In: arrays of any library that follows NumPy's API (NumPy, CuPy). Out: arrays of the same
library. `array_module(x)` finds the library of an array from its type, so code can call
`xp.asarray` without importing CuPy; the arithmetic itself uses NumPy ufuncs, which hand CuPy
arrays to CuPy through `__array_ufunc__`.
"""

import importlib

import numpy


def array_module(x):
    """The module of `x`'s array library: `numpy` for NumPy arrays, `cupy` for CuPy ones.

        >>> array_module(numpy.zeros(2)).__name__
        'numpy'
    """
    name = type(x).__module__.split(".", 1)[0]
    if name in ("numpy", "builtins"):
        return numpy
    return importlib.import_module(name)


def to_host(x):
    """`x` as a NumPy array (copying a device array to the host; NumPy arrays pass through)."""
    if isinstance(x, numpy.ndarray):
        return x
    get = getattr(x, "get", None)
    return get() if callable(get) else numpy.asarray(x)


def effective_grad(param, grad, weight_decay, maximize):
    """The gradient an update follows: `-grad` when maximizing, plus `weight_decay * param`.

    Returns `grad` itself (never written to) when there is nothing to add, else a new array.

        >>> effective_grad(numpy.ones(2), numpy.ones(2), 0.5, True)
        array([-0.5, -0.5])
    """
    if weight_decay == 0:
        return numpy.negative(grad) if maximize else grad
    g = numpy.multiply(param, weight_decay)
    if maximize:
        g -= grad
    else:
        g += grad
    return g
