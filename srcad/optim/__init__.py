"""Optimizers, learning-rate schedulers and gradient clipping, in PyTorch's conventions.

In: Parameters (`srcad.nn.Parameter`: `.data` and `.grad`) or parameter-group dicts. Out:
optimizers whose `step()` updates `.data` in place with `torch.optim`'s names, defaults and
update equations. Each update rule is written once, as a plain function of arrays (`sgd_rule`,
`adam_rule`, ...); `srcad.optim.kernels` generates from it the in-place NumPy code and, for CuPy
arrays, one fused CUDA kernel, which `sgd_update`, `adam_update`, ... apply.

    >>> import numpy as np
    >>> from srcad.nn import Parameter
    >>> from srcad import optim
    >>> w = Parameter(np.ones(3))
    >>> opt = optim.Adam([w], lr=0.1)
    >>> w.grad = 2 * w.data; opt.step(); opt.zero_grad()
"""

from . import kernels, lr_scheduler
from .adadelta import Adadelta, adadelta_rule, adadelta_update
from .adagrad import Adagrad, adagrad_rule, adagrad_update
from .adam import Adam, AdamW, adam_rule, adam_update
from .clip import clip_grad_norm_, clip_grad_value_
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop_rule, rmsprop_update
from .sgd import SGD, sgd_rule, sgd_update

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop", "LBFGS",
           "sgd_update", "adam_update", "adagrad_update", "adadelta_update", "rmsprop_update",
           "sgd_rule", "adam_rule", "adagrad_rule", "adadelta_rule", "rmsprop_rule",
           "clip_grad_norm_", "clip_grad_value_", "lr_scheduler", "kernels"]
