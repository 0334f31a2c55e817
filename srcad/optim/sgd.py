"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay.

In: parameters whose `.grad` a backward pass filled. Out: `.data` updated in place; state per
parameter: `momentum_buffer` (only when momentum is non-zero).
"""

import numpy

from ..sparse import RowGrad
from . import kernels
from .optimizer import Optimizer, check_nonnegative


def sgd_rule(param, grad, momentum_buffer, *, lr, momentum, weight_decay, dampening_factor,
             maximize, decay, has_momentum, first_step, dampened, nesterov):
    """The SGD update on arrays, written once: the NumPy in-place code and the CUDA kernel are
    generated from it (srcad.optim.kernels). `dampening_factor` = 1 - dampening."""
    if maximize:
        grad = -grad
    if decay:
        grad = grad + param * weight_decay
    if has_momentum:
        if first_step:
            momentum_buffer = grad
        elif dampened:
            momentum_buffer = momentum_buffer * momentum + grad * dampening_factor
        else:
            momentum_buffer = momentum_buffer * momentum + grad
        if nesterov:
            grad = grad + momentum_buffer * momentum
        else:
            grad = momentum_buffer
    param = param - grad * lr
    return param, momentum_buffer


def sgd_update(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
               weight_decay=0.0, nesterov=False, maximize=False):
    """One SGD step on arrays: updates `param` (and the buffer) in place; returns the buffer.

    `momentum_buffer` is None on the first step (it is then created as a copy of the gradient)
    and when momentum is 0 (it stays None).

        >>> p = numpy.ones(2)
        >>> sgd_update(p, numpy.ones(2), None, lr=0.5) is None, p
        (True, array([0.5, 0.5]))
    """
    first_step = momentum != 0 and momentum_buffer is None
    if first_step:
        momentum_buffer = numpy.empty_like(param)
    kernels.apply(
        sgd_rule, dict(param=param, grad=grad, momentum_buffer=momentum_buffer),
        dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
             dampening_factor=1 - dampening),
        dict(maximize=maximize, decay=weight_decay != 0, has_momentum=momentum != 0,
             first_step=first_step, dampened=dampening != 0, nesterov=nesterov))
    return momentum_buffer


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as `torch.optim.SGD`.

    With gradient g_t, learning rate lr, momentum mu, dampening tau, weight decay lambda:

        g_t <- -g_t                                 if maximize
        g_t <- g_t + lambda * theta_{t-1}           if lambda != 0
        b_t  = g_t                                  if t == 1, else
        b_t  = mu * b_{t-1} + (1 - tau) * g_t       (when mu != 0)
        g_t <- g_t + mu * b_t  if nesterov,  else  g_t <- b_t
        theta_t = theta_{t-1} - lr * g_t

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> w = Parameter(np.zeros(2)); w.grad = np.ones(2)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> opt.step(); opt.step(); w.data
        array([-0.29, -0.29])
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening, but got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _takes_rows(self, group):
        return group["momentum"] == 0 and group["weight_decay"] == 0

    def _update_group(self, group):
        for p in group["params"]:
            if p.grad is None:
                continue
            if isinstance(p.grad, RowGrad):          # plain SGD: touch only the rows used
                p.grad.apply_to(p.data, group["lr"] if group["maximize"] else -group["lr"])
                continue
            state = self.state[p]
            buf = sgd_update(p.data, p.grad, state.get("momentum_buffer"), lr=group["lr"],
                             momentum=group["momentum"], dampening=group["dampening"],
                             weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                             maximize=group["maximize"])
            if buf is not None:
                state["momentum_buffer"] = buf
