"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay and AMSGrad.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `step` (int), `exp_avg`, `exp_avg_sq` and, with amsgrad, `max_exp_avg_sq`.
"""

import math

import numpy

from . import kernels
from .optimizer import Optimizer, check_nonnegative


def adam_rule(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, weight_decay, beta1,
              beta2, eps, step_size, bias2_sqrt, decay_factor, maximize, l2, decoupled,
              amsgrad):
    """The Adam update on arrays, written once: the NumPy in-place code and the CUDA kernel
    are generated from it (srcad.optim.kernels). `step_size` = lr / (1 - beta1**t),
    `bias2_sqrt` = sqrt(1 - beta2**t), `decay_factor` = 1 - lr * weight_decay."""
    if maximize:
        grad = -grad
    if decoupled:
        param = param * decay_factor
    if l2:
        grad = grad + param * weight_decay
    exp_avg = exp_avg * beta1 + grad * (1 - beta1)
    exp_avg_sq = exp_avg_sq * beta2 + grad * grad * (1 - beta2)
    if amsgrad:
        max_exp_avg_sq = numpy.maximum(max_exp_avg_sq, exp_avg_sq)
        denom = numpy.sqrt(max_exp_avg_sq) / bias2_sqrt + eps
    else:
        denom = numpy.sqrt(exp_avg_sq) / bias2_sqrt + eps
    param = param - exp_avg / denom * step_size
    return param, exp_avg, exp_avg_sq, max_exp_avg_sq


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False):
    """One Adam step on arrays, in place on `param` and the moment arrays; `step` counts from 1.

    `max_exp_avg_sq` is only read and written when `amsgrad` (pass None otherwise).

        >>> p, m, v = numpy.zeros(1), numpy.zeros(1), numpy.zeros(1)
        >>> adam_update(p, numpy.ones(1), m, v, None, 1, lr=0.1, beta1=0.9, beta2=0.999,
        ...             eps=0.0)
        >>> p
        array([-0.1])
    """
    kernels.apply(
        adam_rule,
        dict(param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
             max_exp_avg_sq=max_exp_avg_sq),
        dict(weight_decay=weight_decay, beta1=beta1, beta2=beta2, eps=eps,
             step_size=lr / (1 - beta1 ** step), bias2_sqrt=math.sqrt(1 - beta2 ** step),
             decay_factor=1 - lr * weight_decay),
        dict(maximize=maximize, l2=weight_decay != 0 and not decoupled_weight_decay,
             decoupled=decoupled_weight_decay, amsgrad=amsgrad))


class Adam(Optimizer):
    r"""Adam, as `torch.optim.Adam` (L2 weight decay; `decoupled_weight_decay=True` is AdamW).

    With gradient g_t, learning rate lr, betas (b1, b2), weight decay lambda:

        g_t <- -g_t                                   if maximize
        theta_{t-1} <- theta_{t-1} * (1 - lr*lambda)  if decoupled weight decay, else
        g_t <- g_t + lambda * theta_{t-1}             (L2 penalty)
        m_t = b1 * m_{t-1} + (1 - b1) * g_t
        v_t = b2 * v_{t-1} + (1 - b2) * g_t**2
        vmax_t = max(vmax_{t-1}, v_t)                 if amsgrad (then v_t <- vmax_t below)
        theta_t = theta_{t-1} - lr / (1 - b1**t) * m_t / (sqrt(v_t / (1 - b2**t)) + eps)

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(2)); w.grad = np.array([1.0, -2.0])
        >>> opt = Adam([w], lr=0.1)
        >>> opt.step(); np.round(w.data, 6)
        array([-0.1,  0.1])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative(group, "lr", "eps")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(group, "weight_decay")

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        for p, state in self._stepping(group, "exp_avg", "exp_avg_sq",
                                       max_exp_avg_sq=group["amsgrad"]):
            adam_update(p.data, p.grad, state["exp_avg"], state["exp_avg_sq"],
                        state.get("max_exp_avg_sq"), state["step"], lr=group["lr"],
                        beta1=beta1, beta2=beta2, eps=group["eps"],
                        weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                        maximize=group["maximize"],
                        decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    r"""AdamW, as `torch.optim.AdamW`: Adam with decoupled weight decay (default 1e-2).

        theta_{t-1} <- theta_{t-1} * (1 - lr * lambda)
        then the Adam update above without the L2 term.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.ones(1)); w.grad = np.zeros(1)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step(); w.data
        array([0.95])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
