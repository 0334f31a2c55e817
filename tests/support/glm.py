"""The three generalized linear models of dask-glm, as srcad differentiates them (a loss of
the coefficients `b` and the data `X`, `y`), with their gradients and Hessians written out by
hand (the formulas dask-glm's `families` module uses), and a small MLP; shared by the Dask
tests and the cluster tests."""

import types

import numpy as np

from srcad import nn


def logistic(b, X, y):
    z = X @ b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def normal(b, X, y):
    r = y - X @ b
    return np.sum(r * r)


def poisson(b, X, y):
    z = X @ b
    return np.sum(np.exp(z) - y * z)


def fresh(func):
    """A copy of the loss `func` with a cache of generated code of its own: other tests'
    calls of `func` may have used up its `srcad.dispatch.SPECIALIZATIONS` shape signatures
    (the generic code runs after them), which a test of the specialized code must not see."""
    return types.FunctionType(func.__code__, func.__globals__, func.__name__,
                              func.__defaults__, func.__closure__)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# (loss, hand-written gradient, hand-written Hessian of the loss in b)
MODELS = {
    "logistic": (logistic, lambda b, X, y: X.T @ (_sigmoid(X @ b) - y),
                 lambda b, X: (_sigmoid(X @ b) * (1 - _sigmoid(X @ b)) * X.T) @ X),
    "normal": (normal, lambda b, X, y: 2 * X.T @ (X @ b) - 2 * X.T @ y,
               lambda b, X: 2 * X.T @ X),
    "poisson": (poisson, lambda b, X, y: X.T @ (np.exp(X @ b) - y),
                lambda b, X: X.T @ (np.exp(X @ b)[:, None] * X)),
}


def data(model, n=400, p=5, seed=0):
    """Features and a response drawn from `model` with known coefficients."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * 0.5
    z = X @ np.linspace(-1.0, 1.0, p)
    if model == "logistic":
        y = (rng.random(n) < _sigmoid(z)).astype(float)
    elif model == "poisson":
        y = rng.poisson(np.exp(z)).astype(float)
    else:
        y = z + 0.1 * rng.standard_normal(n)
    return X, y


class MLP(nn.Module):
    """A two-layer perceptron for classification."""

    def __init__(self, features=5, hidden=8, classes=3):
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.out(np.tanh(self.hidden(x)))


CRITERION = nn.CrossEntropyLoss()


def mlp_loss(model, X, y):
    return CRITERION(model(X), y)


def fit_newton(loss, X, y, iterations=8):
    """Coefficients of the GLM `loss` by Newton's method: srcad's gradient and its
    Hessian-vector products with the unit vectors (the Hessian's columns), taken lazily and
    computed together, one pass over the data per iteration."""
    import dask

    import srcad
    grad, hvp = srcad.grad(loss), srcad.hvp(loss)
    b = np.zeros(X.shape[1])
    for _ in range(iterations):
        with srcad.lazy():
            parts = [grad(b, X, y)] + [hvp(b, X, y, e) for e in np.eye(len(b))]
        g, *columns = dask.compute(*parts)
        b = b - np.linalg.solve(np.stack(columns, axis=1), g)
    return b
