"""RMSprop: gradients divided by a running root-mean-square, optionally centered, with momentum.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `step` (int), `square_avg`, plus `momentum_buffer` (momentum > 0) and `grad_avg`
(centered).
"""

import numpy

from . import kernels
from .optimizer import Optimizer, check_nonnegative


def rmsprop_rule(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                 weight_decay, momentum, maximize, decay, centered, has_momentum):
    """The RMSprop update on arrays, written once (srcad.optim.kernels generates the NumPy
    in-place code and the CUDA kernel from it)."""
    if maximize:
        grad = -grad
    if decay:
        grad = grad + param * weight_decay
    square_avg = square_avg * alpha + grad * grad * (1 - alpha)
    if centered:
        grad_avg = grad_avg * alpha + grad * (1 - alpha)
        avg = numpy.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = numpy.sqrt(square_avg) + eps
    if has_momentum:
        momentum_buffer = momentum_buffer * momentum + grad / avg
        param = param - momentum_buffer * lr
    else:
        param = param - grad / avg * lr
    return param, square_avg, grad_avg, momentum_buffer


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha=0.99, eps=1e-8,
                   weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    """One RMSprop step on arrays, in place on `param` and the state arrays.

    `grad_avg` is used only when `centered`, `momentum_buffer` only when `momentum > 0`
    (pass None otherwise).

        >>> p, v = numpy.zeros(1), numpy.zeros(1)
        >>> rmsprop_update(p, numpy.ones(1), v, None, None, lr=0.1, alpha=0.75, eps=0.0); p
        array([-0.2])
    """
    kernels.apply(
        rmsprop_rule,
        dict(param=param, grad=grad, square_avg=square_avg, grad_avg=grad_avg,
             momentum_buffer=momentum_buffer),
        dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum),
        dict(maximize=maximize, decay=weight_decay != 0, centered=centered,
             has_momentum=momentum > 0))


class RMSprop(Optimizer):
    r"""RMSprop, as `torch.optim.RMSprop`.

    With gradient g_t, learning rate lr, smoothing alpha, momentum mu, weight decay lambda
    (v_0 = b_0 = gavg_0 = 0):

        g_t <- -g_t                                  if maximize
        g_t <- g_t + lambda * theta_{t-1}            if lambda != 0
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t**2
        gavg_t = alpha * gavg_{t-1} + (1 - alpha) * g_t,  w_t = v_t - gavg_t**2   if centered
        w_t = v_t                                                                  otherwise
        b_t = mu * b_{t-1} + g_t / (sqrt(w_t) + eps),  theta_t = theta_{t-1} - lr * b_t  if mu > 0
        theta_t = theta_{t-1} - lr * g_t / (sqrt(w_t) + eps)                            otherwise

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(1)); w.grad = np.ones(1)
        >>> opt = RMSprop([w], lr=0.1, alpha=0.75, eps=0.0)
        >>> opt.step(); w.data
        array([-0.2])
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _update_group(self, group):
        for p, state in self._stepping(group, "square_avg",
                                       momentum_buffer=group["momentum"] > 0,
                                       grad_avg=group["centered"]):
            rmsprop_update(p.data, p.grad, state["square_avg"], state.get("grad_avg"),
                           state.get("momentum_buffer"), lr=group["lr"], alpha=group["alpha"],
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           momentum=group["momentum"], centered=group["centered"],
                           maximize=group["maximize"])
