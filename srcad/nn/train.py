"""The PyTorch-style training step: `loss = backward(loss_fn, model, X, y)` fills `.grad`.

In: a loss function whose first parameter is the model, the model, and the rest of the
arguments. Out: the loss value; every Parameter's `.grad` gains the generated gradient (added
to what is there, as PyTorch accumulates; call `optimizer.zero_grad()` between steps). The
gradient of an embedding lookup stays row-sparse (`srcad.sparse.RowGrad`): plain SGD updates
only the rows used, other optimizers make it dense. The
primal runs once, inside the generated `value_and_grad` code, which is cached per loss function
and model structure.

    for X, y in loader:
        optimizer.zero_grad()
        loss = srcad.nn.backward(loss_fn, model, X, y)
        optimizer.step()
"""

import weakref

from .. import api

_steps = weakref.WeakKeyDictionary()


def backward(loss_fn, model, *args, **kwargs):
    """Evaluate `loss_fn(model, *args, **kwargs)`, add its gradient to each Parameter's `.grad`
    and return the loss."""
    step = _steps.get(loss_fn)
    if step is None:
        step = _steps[loss_fn] = api.value_and_grad(loss_fn, wrt=0)
        step.keep_rows = True                  # embedding rows stay sparse for the optimizer
    value, grads = step(model, *args, **kwargs)
    for name, param in model.named_parameters():
        grad = grads[name]
        param.grad = grad if param.grad is None else param.grad + grad
    return value
