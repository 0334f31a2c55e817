"""Adagrad: per-coordinate step sizes from the running sum of squared gradients.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `step` (int) and `sum` (starting at `initial_accumulator_value`).
"""

import numpy

from . import kernels
from .optimizer import Optimizer, check_nonnegative


def adagrad_rule(param, grad, state_sum, *, weight_decay, eps, clr, maximize, decay):
    """The Adagrad update on arrays, written once (srcad.optim.kernels generates the NumPy
    in-place code and the CUDA kernel from it). `clr` = lr / (1 + (t - 1) * lr_decay)."""
    if maximize:
        grad = -grad
    if decay:
        grad = grad + param * weight_decay
    state_sum = state_sum + grad * grad
    param = param - grad / (numpy.sqrt(state_sum) + eps) * clr
    return param, state_sum


def adagrad_update(param, grad, state_sum, step, lr, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                   maximize=False):
    """One Adagrad step on arrays, in place on `param` and `state_sum`; `step` counts from 1.

        >>> p, s = numpy.zeros(1), numpy.zeros(1)
        >>> adagrad_update(p, numpy.array([2.0]), s, 1, lr=0.1, eps=0.0); p, s
        (array([-0.1]), array([4.]))
    """
    kernels.apply(adagrad_rule, dict(param=param, grad=grad, state_sum=state_sum),
                  dict(weight_decay=weight_decay, eps=eps, clr=lr / (1 + (step - 1) * lr_decay)),
                  dict(maximize=maximize, decay=weight_decay != 0))


class Adagrad(Optimizer):
    r"""Adagrad, as `torch.optim.Adagrad`.

    With gradient g_t, learning rate lr, lr decay eta, weight decay lambda, and
    sum_0 = initial_accumulator_value:

        g_t <- -g_t                                  if maximize
        g_t <- g_t + lambda * theta_{t-1}            if lambda != 0
        lr_t = lr / (1 + (t - 1) * eta)
        sum_t = sum_{t-1} + g_t**2
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(sum_t) + eps)

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(1)); w.grad = np.array([3.0])
        >>> opt = Adagrad([w], lr=0.5, eps=0.0)
        >>> opt.step(); w.data
        array([-0.5])
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative(group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                          "eps")

    def _update_group(self, group):
        for p, state in self._stepping(group, "sum", fill=group["initial_accumulator_value"]):
            adagrad_update(p.data, p.grad, state["sum"], state["step"], lr=group["lr"],
                           lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                           eps=group["eps"], maximize=group["maximize"])
