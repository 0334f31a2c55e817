"""Learning-rate schedulers with PyTorch's semantics: they rewrite `group["lr"]` of an optimizer.

In: an `Optimizer`; then one `step()` per epoch (after `optimizer.step()`), or `step(metric)`
for `ReduceLROnPlateau`. Out: the optimizer's learning rates changed in place;
`get_last_lr()` gives the rates of the last step, one per parameter group.

Constructing a schedule (with `last_epoch=-1`) records each group's `initial_lr` and takes the
first step (epoch 0), as PyTorch does.
"""

import math

from .. import backend
from .optimizer import Optimizer


class LRScheduler:
    """Base class: `base_lrs`, `last_epoch`, `step()` applying `get_lr()`, state dicts.

    A subclass computes the next learning rates (one per group) in `get_lr()` from
    `self.last_epoch`, the current `group["lr"]` and `self.base_lrs` (`ReduceLROnPlateau`,
    driven by a metric, has its own `__init__` and `step` instead).
    """

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = _checked(optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                               "when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self):
        """The learning rates for epoch `self.last_epoch`, one per parameter group."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last `step()` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer, as a dict."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a `state_dict()`."""
        self.__dict__.update(state_dict)

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the learning rate by `gamma` every `step_size` epochs.

        lr_epoch = initial_lr * gamma ** (epoch // step_size)

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> from srcad.optim import SGD
        >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     sched.step(); lrs.append(sched.get_last_lr()[0])
        >>> lrs
        [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by `gamma` every epoch.

        lr_epoch = initial_lr * gamma ** epoch

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> from srcad.optim import SGD
        >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = ExponentialLR(opt, gamma=0.5); sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate along a cosine from `initial_lr` to `eta_min` over `T_max` epochs.

        lr_epoch = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    computed recursively from the current rate (as PyTorch does, so that changes made to the
    rate from outside are carried along); past `T_max` the rate rises again.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> from srcad.optim import SGD
        >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = CosineAnnealingLR(opt, T_max=2); sched.step(); sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if epoch == 0:
            return self._group_lrs()
        if self._step_count == 1 and epoch > 0:          # resumed: use the closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(epoch * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:        # at the bottom: the ratio is 0 / 0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for lr, base in zip(self._group_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / t_max)) / (
            1 + math.cos(math.pi * (epoch - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate by `factor` once a metric has stopped improving for `patience`
    epochs; then wait `cooldown` epochs before counting again. Unlike the other schedules, it
    takes no first step on construction and records no `initial_lr`: `step(metric)` decides.

    A metric value a is an improvement on the best so far when (mode, threshold_mode):
    min/rel: a < best * (1 - threshold); min/abs: a < best - threshold;
    max/rel: a > best * (1 + threshold); max/abs: a > best + threshold.
    A reduction sets lr = max(lr * factor, min_lr) unless that changes it by no more than eps.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> from srcad.optim import SGD
        >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for loss in [3.0, 2.0, 2.0, 2.0]:
        ...     sched.step(loss)
        >>> sched.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        self.optimizer = _checked(optimizer)
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, but got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"expected {n_groups} min_lrs, got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * n_groups
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = self._group_lrs()

    def is_better(self, a, best):
        """Whether the metric value `a` improves on `best` (see the class docstring)."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (best * (1 - self.threshold) if rel else best - self.threshold)
        return a > (best * (1 + self.threshold) if rel else best + self.threshold)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics):
        """Record one epoch's metric and reduce the learning rates if it has plateaued."""
        current = backend.to_float(metrics)      # one value, read from the device if there
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self):
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


def _checked(optimizer):
    """`optimizer`, once it is known to be an `Optimizer`."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer
