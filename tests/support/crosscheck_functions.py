"""Functions that tests/test_against_autograd.py differentiates with srcad and with HIPS
autograd (an independent AD system). Written against `np`; the test runs the same source with
`np` bound to `autograd.numpy`. Every function takes (x, W) with x of shape (4,) and W (3, 4)."""

import numpy as np


def elementwise_soup(x, W):
    a = np.exp(x * 0.3) + np.log1p(x * x) - np.sqrt(x * x + 1.0)
    b = np.sin(a) * np.cos(x) + np.tan(x * 0.2) + np.arctan(a)
    c = np.sinh(x * 0.5) * np.cosh(x * 0.1) / (1.0 + np.square(b))
    return np.sum(c + np.expm1(x * 0.1) + np.log10(x * x + 2.0) + np.log2(x * x + 3.0))


def broadcasting(x, W):
    Z = W * x + x[:3, None] - W / (2.0 + x)
    return np.sum(Z ** 2 * np.abs(W + 0.3))


def reductions(x, W):
    m = np.mean(W, axis=0)
    v = np.var(W, axis=1)
    s = np.std(W + x, axis=0, keepdims=True)
    return np.sum(m * x) + np.sum(v) + np.sum(s) + np.max(W * x) + np.prod(x * 0.5 + 1.5)


def linear_algebra(x, W):
    A = W @ W.T + np.eye(3)
    y = np.dot(A, W @ x)
    t = np.trace(A) + np.sum(np.outer(y, y[:2])) + np.inner(y, y)
    return t + np.sum(np.einsum("ij,j->i", W, x)) + np.sum(np.tensordot(W, W, axes=2))


def shapes(x, W):
    R = np.reshape(W, (2, 6)).T
    S = np.concatenate([R, R * 2.0], axis=1)
    T = np.stack([x, x * x], axis=0)
    U = np.expand_dims(x, 0) + np.swapaxes(T, 0, 1)[:, :1].T
    return np.sum(S * S) + np.sum(T[::-1]) + np.sum(np.squeeze(U)) + np.sum(W.ravel() * 0.5)


def indexing(x, W):
    rows = W[np.array([0, 2, 2])]
    picked = W[1, 1:3] * x[-1]
    masked = x[np.array([True, False, True, True])]
    return np.sum(rows * x) + np.sum(picked) + np.sum(masked ** 3) + W[0, 0] * x[0]


def softmax_cross_entropy(x, W):
    logits = W @ x
    z = logits - np.max(logits)
    log_p = z - np.log(np.sum(np.exp(z)))
    return -log_p[1]


def logistic_regression(x, W):
    logits = W @ x
    p = 1.0 / (1.0 + np.exp(-logits))
    target = np.array([1.0, 0.0, 1.0])
    return -np.mean(target * np.log(p) + (1.0 - target) * np.log(1.0 - p))


def mlp(x, W):
    h = np.tanh(W @ x)
    h2 = np.maximum(h * 3.0, h * 0.1)
    out = W.T @ h2
    return np.sum(np.where(out > 0, out, 0.01 * out) ** 2)


def branches(x, W):
    s = np.sum(x)
    if s > 0:
        y = W @ x
    elif s > -1:
        y = W @ (x * x)
    else:
        y = -(W @ x)
    z = y * 2.0 if np.max(y) > 0.5 else y * y
    return np.sum(z)


def rnn(x, W):
    h = np.zeros(3)
    for t in range(4):
        h = np.tanh(W @ (x * (t + 1.0)) * 0.1 + h * 0.5)
    return np.sum(h * h)


def while_loop(x, W):
    y = W @ x
    steps = 0
    while np.sum(y * y) > 0.1 and steps < 5:
        y = y * 0.5 + 0.01 * np.sin(y)
        steps = steps + 1
    return np.sum(y)


def embedding_rnn(x, W):
    tokens = [2, 0, 1, 1]
    h = x[:3] * 0.1
    for token in tokens:
        e = W[token]
        h = np.tanh(e[:3] * 0.5 + h)
    return np.sum(h)


def attention(x, W):
    Q = W * x
    K = W[::-1] * x
    scores = Q @ K.T / 2.0
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    return np.sum((weights @ W) ** 2)


def helper(a, scale=2.0):
    return np.tanh(a) * scale


def calls(x, W):
    return np.sum(helper(W @ x)) + np.sum(helper(x, scale=0.5))


def closure_maker(c):
    def inner(x, W):
        return np.sum((W @ x - c) ** 2)
    return inner


closure = closure_maker(np.array([0.5, -0.5, 1.0]))

FUNCTIONS = [elementwise_soup, broadcasting, reductions, linear_algebra, shapes, indexing,
             softmax_cross_entropy, logistic_regression, mlp, branches, rnn, while_loop,
             embedding_rnn, attention, calls, closure]
