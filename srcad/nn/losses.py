"""Loss modules in PyTorch's conventions: `loss(input, target)` with `reduction`.

In: predictions (`input`) and targets, and `reduction` in {"mean", "sum", "none"}. Out: a
`Module` whose `forward(input, target)` is plain NumPy code, so srcad differentiates it with the
model: keep the loss as a global or an attribute and call it inside the function that srcad
differentiates,

    >>> import numpy as np
    >>> criterion = CrossEntropyLoss()
    >>> float(round(criterion(np.zeros((2, 4)), np.array([0, 3])), 4))    # log(4)
    1.3863

Class-index targets pick the log-probability of the class by integer-array indexing
(`logp[np.arange(n), target]`), whose gradient is a scatter-add. Not supported (yet):
`weight`, `ignore_index`, `label_smoothing`, `pos_weight`.
"""

import numpy as np

from ..api import stop_gradient
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction; "
                             f"use one of {', '.join(_REDUCTIONS)}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


def _pick(values, target):
    """values[..., target] along the class dimension (1, or 0 when unbatched) -> target's
    shape: the class dimension moves last, everything flattens to (n, C), integer indexing."""
    if np.ndim(values) == 1:
        return values[target]
    rows = np.reshape(np.moveaxis(values, 1, -1), (-1, np.shape(values)[1]))
    flat = np.reshape(target, (-1,))
    picked = rows[np.arange(np.shape(flat)[0], like=flat), flat]
    return np.reshape(picked, np.shape(target))


class CrossEntropyLoss(_Loss):
    """-log softmax(input)[target] over the class dimension (1, or 0 for an unbatched input).

    input (N, C) or (C,) or (N, C, d1, ...) logits; target either class indices (an integer
    array of input's shape without the class dimension) or class probabilities / one-hot (a
    float array of input's shape). The log-softmax subtracts the maximum first (no overflow).
    "mean" averages over the N (* d1 * ...) items.

        >>> import numpy as np
        >>> float(CrossEntropyLoss(reduction="sum")(np.zeros((1, 2)), np.array([[0.5, 0.5]])))
        0.6931471805599453
    """

    def forward(self, input, target):
        dim = 1 if np.ndim(input) > 1 else 0
        # log-softmax does not change when a constant is subtracted: the maximum only keeps
        # exp from overflowing, and carries no gradient
        shifted = input - stop_gradient(input.max(axis=dim, keepdims=True))
        logp = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        # "mean" and "sum" take one sum over everything (no per-item losses to reduce again);
        # "mean" divides by the number of items, the size without the class dimension
        if np.ndim(target) == np.ndim(input):
            if self.reduction == "none":
                return -np.sum(logp * target, axis=dim)
            total = -np.sum(logp * target)
        else:
            if self.reduction == "none":
                return -_pick(logp, target)
            total = -np.sum(_pick(logp, target))
        if self.reduction == "mean":
            return total / (input.size // input.shape[dim])
        return total


class NLLLoss(_Loss):
    """-input[target]: input holds log-probabilities, (N, C) or (C,) or (N, C, d1, ...);
    target class indices.

        >>> import numpy as np
        >>> float(NLLLoss()(np.log(np.array([[0.5, 0.5]])), np.array([1])))
        0.6931471805599453
    """

    def forward(self, input, target):
        losses = -_pick(input, target)
        if self.reduction == "mean":
            return np.mean(losses)
        if self.reduction == "sum":
            return np.sum(losses)
        return losses


class MSELoss(_Loss):
    """(input - target)**2, averaged over every entry by default.

        >>> import numpy as np
        >>> float(MSELoss()(np.array([1.0, 3.0]), np.array([0.0, 0.0])))
        5.0
    """

    def forward(self, input, target):
        diff = input - target
        losses = diff * diff
        if self.reduction == "mean":
            return np.mean(losses)
        if self.reduction == "sum":
            return np.sum(losses)
        return losses


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(input) against target in [0, 1], in the stable form
    max(x, 0) - x * y + log(1 + exp(-|x|)) (no overflow for large |x|).

        >>> import numpy as np
        >>> float(BCEWithLogitsLoss()(np.zeros(3), np.ones(3)))
        0.6931471805599453
    """

    def forward(self, input, target):
        positive = np.where(input > 0, input, 0.0)
        losses = positive - input * target + np.log1p(np.exp(-np.abs(input)))
        if self.reduction == "mean":
            return np.mean(losses)
        if self.reduction == "sum":
            return np.sum(losses)
        return losses
