"""Gradient clipping, as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`.

In: a Parameter or an iterable of Parameters whose `.grad` a backward pass filled (parameters
without a gradient are skipped). Out: the gradients rescaled or clamped in place;
`clip_grad_norm_` returns the total norm before clipping (a Python float for NumPy arrays).
"""

import math

import numpy

from .. import backend
from ..sparse import densify

_SCALARS = (int, float, numpy.generic)


def _with_grads(parameters):
    if hasattr(parameters, "grad"):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    for p in params:
        p.grad = densify(p.grad)                  # clipping needs the summed rows
    return params


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint `norm_type`-norm is at most `max_norm`.

    The norm is taken over all gradients as if concatenated into one vector (`inf` gives the
    largest absolute entry). Each gradient is multiplied by min(1, max_norm / (norm + 1e-6)).
    Returns the total norm before clipping: a float for NumPy gradients, a 0-d array for
    device (CuPy) gradients, which are clipped without reading anything back to the host.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(2)); w.grad = np.array([3.0, 4.0])
        >>> clip_grad_norm_([w], max_norm=1.0)
        5.0
        >>> np.round(w.grad, 4)
        array([0.6, 0.8])
    """
    params = _with_grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return 0.0
    norms = numpy.stack([numpy.linalg.norm(numpy.ravel(p.grad), ord=norm_type)
                         for p in params])
    if math.isinf(norm_type):
        total = norms.max() if norm_type > 0 else norms.min()
    else:
        total = numpy.linalg.norm(norms, ord=norm_type)
    if error_if_nonfinite and not math.isfinite(backend.to_float(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error, pass `error_if_nonfinite=False`")
    coef = numpy.minimum(max_norm / (total + 1e-6), 1.0)   # NaN stays NaN, and scales by it
    for p in params:
        if isinstance(p.grad, _SCALARS):          # immutable: replace it
            p.grad = p.grad * coef
        else:
            p.grad *= coef.astype(p.grad.dtype)
    return total if backend.on_device(total) else float(total)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry into [-clip_value, clip_value], in place.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(3)); w.grad = np.array([-5.0, 0.5, 5.0])
        >>> clip_grad_value_(w, 1.0); w.grad
        array([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        if isinstance(p.grad, _SCALARS):
            p.grad = min(max(p.grad, -clip_value), clip_value)
        else:
            numpy.clip(p.grad, -clip_value, clip_value, out=p.grad)
