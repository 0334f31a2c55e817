"""Functions whose generated source is pinned by tests/test_golden.py (tests/golden/*.txt).

Editing this file moves line numbers, which appear in the generated comments: regenerate with
SRCAD_UPDATE_GOLDEN=1 pytest tests/test_golden.py and review the diff.
"""

import numpy as np


def square(x):
    y = x * x
    return y


def network(x, W):
    y = x * x
    return np.sum(np.tanh(W @ y))


def branch(x, c):
    if c > 0:
        y = x * c
    else:
        y = -x
    return np.sum(y)


def broadcast_rows(x, b):
    z = x * b + 1.0
    z += b
    return np.sum(z, axis=1)


def unpack_and_select(x, y):
    a, b = y, x
    s = a / b if np.sum(x) > 0 else a - b
    return np.exp(s)


def rnn(h, W, xs):
    for x in xs:
        h = np.tanh(W @ h + x)
    return np.sum(h)


def layer(W, x):
    return np.tanh(W @ x)


def two_layers(W1, W2, x):
    h = layer(W1, x)
    return np.sum(layer(W2, h))


def softmax_regression(W, b, X, Y):
    z = X @ W + b
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def relu_layer(W, x):
    h = np.maximum(W @ x, 0.0)
    return np.sum(h * h)


def clipped(x, y):
    return np.sum(np.maximum(x, y) * np.minimum(1.0, x))


def means(x):
    n = len(x)
    column_means = np.mean(x, axis=0)
    return np.sum(column_means * column_means) + np.mean(x) + np.var(x) + np.sum(x) / n


def batched(x, W):
    if np.ndim(x) == 1:
        x = x[None]
    return np.sum(np.tanh(x @ W))
