"""Adadelta: step sizes from running averages of squared gradients and squared updates.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `step` (int), `square_avg` and `acc_delta`.
"""

import numpy

from . import kernels
from .optimizer import Optimizer, check_nonnegative


def adadelta_rule(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize,
                  decay):
    """The Adadelta update on arrays, written once (srcad.optim.kernels generates the NumPy
    in-place code and the CUDA kernel from it)."""
    if maximize:
        grad = -grad
    if decay:
        grad = grad + param * weight_decay
    square_avg = square_avg * rho + grad * grad * (1 - rho)
    delta = numpy.sqrt(acc_delta + eps) / numpy.sqrt(square_avg + eps) * grad
    acc_delta = acc_delta * rho + delta * delta * (1 - rho)
    param = param - delta * lr
    return param, square_avg, acc_delta


def adadelta_update(param, grad, square_avg, acc_delta, lr, rho=0.9, eps=1e-6, weight_decay=0.0,
                    maximize=False):
    """One Adadelta step on arrays, in place on `param`, `square_avg` and `acc_delta`.

        >>> p, v, u = numpy.zeros(1), numpy.zeros(1), numpy.zeros(1)
        >>> adadelta_update(p, numpy.ones(1), v, u, lr=1.0, rho=0.0, eps=1.0); p
        array([-0.70710678])
    """
    kernels.apply(adadelta_rule,
                  dict(param=param, grad=grad, square_avg=square_avg, acc_delta=acc_delta),
                  dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay),
                  dict(maximize=maximize, decay=weight_decay != 0))


class Adadelta(Optimizer):
    r"""Adadelta, as `torch.optim.Adadelta`.

    With gradient g_t, learning rate lr, decay rho, weight decay lambda (v_0 = u_0 = 0):

        g_t <- -g_t                                  if maximize
        g_t <- g_t + lambda * theta_{t-1}            if lambda != 0
        v_t = rho * v_{t-1} + (1 - rho) * g_t**2
        dx_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * dx_t**2
        theta_t = theta_{t-1} - lr * dx_t

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(1)); w.grad = np.ones(1)
        >>> opt = Adadelta([w], rho=0.0, eps=1.0)
        >>> opt.step(); np.round(w.data, 4)
        array([-0.7071])
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative(group, "lr")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        check_nonnegative(group, "eps", "weight_decay")

    def _update_group(self, group):
        for p, state in self._stepping(group, "square_avg", "acc_delta"):
            adadelta_update(p.data, p.grad, state["square_avg"], state["acc_delta"],
                            lr=group["lr"], rho=group["rho"], eps=group["eps"],
                            weight_decay=group["weight_decay"], maximize=group["maximize"])
