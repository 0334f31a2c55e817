"""Training: the PyTorch-style step `loss = backward(loss_fn, model, X, y)`, which fills
`.grad`, and `fit`, an epoch loop with a progress bar and per-epoch dev loss and accuracy.

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

import sys
import weakref

import numpy

from .. import api, backend

_steps = weakref.WeakKeyDictionary()


def backward(loss_fn, model, *args, jit=False, **kwargs):
    """Evaluate `loss_fn(model, *args, **kwargs)`, add its gradient to each Parameter's `.grad`
    and return the loss; `jit=True` compiles the gradient (see `srcad.grad`)."""
    steps = _steps.get(loss_fn)
    if steps is None:
        steps = _steps[loss_fn] = {}
    step = steps.get(bool(jit))
    if step is None:
        step = steps[bool(jit)] = api.value_and_grad(loss_fn, wrt=0, jit=jit)
        step.keep_rows = True                  # embedding rows stay sparse for the optimizer
    value, grads = step(model, *args, **kwargs)
    for name, param in model.named_parameters():
        grad = grads[name]
        param.grad = grad if param.grad is None else param.grad + grad
    return value


def accuracy(model, X, y):
    """The fraction of rows of `X` whose highest-scoring class is `y` (class indices)."""
    return backend.to_float(numpy.mean(numpy.argmax(model(X), axis=-1) == y))


def fit(model, loss_fn, optimizer, train, dev=None, epochs=10, batch_size=32, scheduler=None,
        progress=True, log=print, generator=None, jit=False):
    """Train `model` on `train = (X, y)` for `epochs`, in shuffled mini-batches.

    Each step: zero the gradients, `backward(loss_fn, model, X, y)`, `optimizer.step()`.
    After each epoch: the mean training loss, and on `dev = (X, y)` the loss and accuracy
    (in evaluation mode, so Dropout is off); `scheduler.step()` (with the dev loss for
    ReduceLROnPlateau). A progress bar shows when `progress` is true, tqdm is installed and
    standard error is a terminal (piped into a log, there is no bar, only the epoch lines).
    Returns the history: `{"train_loss": [...], "dev_loss": [...], "dev_accuracy": [...]}`.
    `jit=True` compiles the gradient with numba (see `srcad.grad`).
    """
    from ..data import DataLoader
    history = {"train_loss": [], "dev_loss": [], "dev_accuracy": []}
    loader = DataLoader(*train, batch_size=batch_size, shuffle=True, generator=generator)
    for epoch in range(1, epochs + 1):
        model.train()
        losses = [_step(loss_fn, model, optimizer, batch, jit)
                  for batch in _bar(loader, progress, epoch, epochs)]
        history["train_loss"].append(backend.to_float(numpy.mean(numpy.stack(losses))))
        line = f"epoch {epoch}/{epochs}: train loss {history['train_loss'][-1]:.4f}"
        if dev is not None:
            model.eval()
            history["dev_loss"].append(backend.to_float(loss_fn(model, *dev)))
            history["dev_accuracy"].append(accuracy(model, *dev))
            line += (f", dev loss {history['dev_loss'][-1]:.4f}, dev accuracy "
                     f"{history['dev_accuracy'][-1]:.3f}")
        if scheduler is not None:
            if type(scheduler).__name__ == "ReduceLROnPlateau" and dev is not None:
                scheduler.step(history["dev_loss"][-1])
            else:
                scheduler.step()
        if log is not None:
            log(line)
    return history


def _step(loss_fn, model, optimizer, batch, jit=False):
    optimizer.zero_grad()
    loss = backward(loss_fn, model, *batch, jit=jit)
    optimizer.step()
    return loss                        # on the device: read once per epoch, not per step


def _bar(loader, progress, epoch, epochs):
    """`loader`, wrapped in a tqdm bar (on standard error) when that is a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not progress or isatty is None or not isatty():
        return loader
    try:
        from tqdm import tqdm
    except ImportError:
        return loader
    return tqdm(loader, desc=f"epoch {epoch}/{epochs}", leave=False)
