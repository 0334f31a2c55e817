"""Start with synthetic data whose parameters you know, and check that training finds them.

Before trusting a model on real data, generate data from the model itself with parameters you
chose, train, and compare. If the learned parameters are far from the true ones, the bug is in
the model, the loss, the gradient or the optimizer, not in the data. Two cases:

1. linear regression, y = X w + b + noise, trained as an `nn.Linear` with MSE loss and SGD;
   compared with the true parameters and with the least-squares solution;
2. logistic regression, y ~ Bernoulli(sigmoid(X w + b)), as a plain NumPy log-likelihood
   differentiated by `srcad.grad` and trained with Adam; with n samples the estimate is within
   a few 1/sqrt(n) of the truth.

Run: python examples/synthetic_recovery.py
"""

import argparse
import os

import numpy as np

import srcad
from srcad import nn, optim

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"


def linear_regression(rng, steps):
    n, features = 2000, 5
    w_true, b_true = rng.uniform(-2, 2, features), 0.7
    X = rng.standard_normal((n, features))
    y = (X @ w_true + b_true + 0.05 * rng.standard_normal(n))[:, None]

    srcad.manual_seed(0)
    model = nn.Linear(features, 1)
    criterion = nn.MSELoss()

    def loss_fn(model, X, y):
        return criterion(model(X), y)

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.backward(loss_fn, model, X, y)
        optimizer.step()
    w, b = model.weight.data[0], float(model.bias.data[0])
    w_ls = np.linalg.lstsq(np.hstack([X, np.ones((n, 1))]), y[:, 0], rcond=None)[0]
    print("1. linear regression, y = X w + b + noise:")
    print(f"   true w    {np.round(w_true, 4)}, b {b_true:.4f}")
    print(f"   learned w {np.round(w, 4)}, b {b:.4f}")
    print(f"   least squares w {np.round(w_ls[:-1], 4)}, b {w_ls[-1]:.4f}")
    error = max(np.max(np.abs(w - w_true)), abs(b - b_true))
    print(f"   largest difference from the truth: {error:.4f}")
    assert error < 0.01


def negative_log_likelihood(w, b, X, y):
    """Mean -log p(y | X) for y ~ Bernoulli(sigmoid(X w + b)), written stably."""
    z = X @ w + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def logistic_regression(rng, steps):
    n, features = 20000, 4
    w_true, b_true = np.array([1.5, -2.0, 0.5, 0.0]), -0.5
    X = rng.standard_normal((n, features))
    p = 1.0 / (1.0 + np.exp(-(X @ w_true + b_true)))
    y = (rng.random(n) < p).astype(float)

    step = srcad.value_and_grad(negative_log_likelihood, wrt=("w", "b"))
    w, b = nn.Parameter(np.zeros(features)), nn.Parameter(np.zeros(()))
    optimizer = optim.Adam([w, b], lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        loss, (w.grad, b.grad) = step(w.data, b.data, X, y)
        optimizer.step()
    w, b = w.data, float(b.data)
    print("\n2. logistic regression, y ~ Bernoulli(sigmoid(X w + b)), "
          f"{n} samples, {steps} Adam steps on srcad.grad of the log-likelihood:")
    print(f"   true w    {np.round(w_true, 3)}, b {b_true:.3f}")
    print(f"   learned w {np.round(w, 3)}, b {b:.3f}")
    error = max(np.max(np.abs(w - w_true)), abs(b - b_true))
    print(f"   largest difference from the truth: {error:.3f} "
          f"(1/sqrt(n) = {1 / np.sqrt(n):.3f})")
    assert error < 10 / np.sqrt(n)


def main():
    rng = np.random.default_rng(0)
    linear_regression(rng, steps=100 if QUICK else 300)
    logistic_regression(rng, steps=150 if QUICK else 400)


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
