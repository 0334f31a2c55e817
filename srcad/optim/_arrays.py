"""Array helpers shared by the optimizers: nothing here names CuPy.

In: arrays of any library that follows NumPy's API (NumPy, CuPy). Out: arrays of the same
library; the arithmetic uses NumPy ufuncs, which hand CuPy arrays to CuPy through
`__array_ufunc__`.
"""

import numpy


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
