"""RMSprop: gradients divided by a running root-mean-square, optionally centered, with momentum.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `step` (int), `square_avg`, plus `momentum_buffer` (momentum > 0) and `grad_avg`
(centered).
"""

import numpy

from ._arrays import effective_grad
from .optimizer import Optimizer, check_nonnegative


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha=0.99, eps=1e-8,
                   weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    """One RMSprop step on arrays, in place on `param` and the state arrays.

    `grad_avg` is used only when `centered`, `momentum_buffer` only when `momentum > 0`
    (pass None otherwise).

        >>> p, v = numpy.zeros(1), numpy.zeros(1)
        >>> rmsprop_update(p, numpy.ones(1), v, None, None, lr=0.1, alpha=0.75, eps=0.0); p
        array([-0.2])
    """
    g = effective_grad(param, grad, weight_decay, maximize)
    avg = numpy.multiply(g, g, out=numpy.empty_like(param))
    avg *= 1 - alpha
    square_avg *= alpha
    square_avg += avg
    if centered:
        grad_avg *= alpha
        numpy.multiply(g, 1 - alpha, out=avg)
        grad_avg += avg
        numpy.multiply(grad_avg, grad_avg, out=avg)
        numpy.subtract(square_avg, avg, out=avg)
        numpy.sqrt(avg, out=avg)
    else:
        numpy.sqrt(square_avg, out=avg)
    avg += eps
    numpy.divide(g, avg, out=avg)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += avg
        numpy.multiply(momentum_buffer, lr, out=avg)
    else:
        avg *= lr
    param -= avg


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
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = numpy.zeros_like(p.data)
            if group["momentum"] > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = numpy.zeros_like(p.data)
            if group["centered"] and "grad_avg" not in state:
                state["grad_avg"] = numpy.zeros_like(p.data)
            state["step"] += 1
            rmsprop_update(p.data, p.grad, state["square_avg"], state.get("grad_avg"),
                           state.get("momentum_buffer"), lr=group["lr"], alpha=group["alpha"],
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           momentum=group["momentum"], centered=group["centered"],
                           maximize=group["maximize"])
