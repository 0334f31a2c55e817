"""Loops whose adjoints `srcad.loop_plan` shortens (a counter run backwards, entries `xs[t]`
recomputed instead of pushed) and loops where it must not: break, continue, while, a reassigned
target, early return, shapes that change from trip to trip, a later loop overwriting what an
earlier one reads. Written against the module name `np`, so that `tests/test_loop_plan.py` runs
them with NumPy through srcad and with `autograd.numpy` through autograd. Arguments: `x` of
shape (4,), `xs` of shape (n, 4), `W` of shape (4, 4)."""

import numpy as np


def rnn_entries(x, xs, W):
    h = x
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t] * x)
    return np.sum(h * h)


def nested_entries(x, xs, W):
    s = 0.0
    for i in range(xs.shape[0] - 1):
        for j in range(xs.shape[1] - 1):
            s = s + np.sin(xs[i, j] * x[j]) + np.sum(xs[i + 1, j:j + 2] * x[j:j + 2]) * s
    return s


def rows(x, xs, W):
    s = 0.0
    for row in xs:
        s = s + np.sum(np.sin(row * x)) * np.tanh(s)
    return s


def shifted_range(x, xs, W):
    s = 0.0
    for t in range(1, xs.shape[0]):
        s = s + np.tanh(np.sum(xs[t] * xs[t - 1] * x) + s)
    return s


def with_break(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0]):
        if s > 1.0:
            break
        s = s + np.sum(np.tanh(xs[t] * x)) ** 2
    return s


def with_continue(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0]):
        if t % 2 == 1:
            continue
        s = s + np.sum(np.sin(xs[t] * x)) * s + 0.5
    return s


def while_loop(x, xs, W):
    s, t = 0.0, 0
    while t < xs.shape[0]:
        row = xs[t]
        s = np.tanh(s + np.sum(row * x))
        t = t + 1
    return s


def target_reassigned(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0] - 1):
        t = t + 1
        s = s + np.sum(xs[t] * x) * np.cos(s)
    return s


def early_return(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0]):
        s = s + np.sum(np.tanh(xs[t] * x))
        if s > 1.5:
            return s * s
    return s


def changing_shapes(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0]):
        s = s + np.sum(np.tanh(xs[:t + 1] @ x)) * np.cos(s)
    return s


def later_loop_overwrites(x, xs, W):
    n = xs.shape[0]
    s = 0.0
    for t in range(n):
        s = s + np.sum(np.tanh(xs[t] * x))
    for k in range(2):
        xs = xs * 0.5
        n = n + k
        s = s * np.sum(x * x) + np.sum(xs)
    return s + n


def inner_reads_outer_counter(x, xs, W):
    s = 0.0
    for i in range(2):
        for j in range(3):
            s = s + W[i, j] * np.sin(x[j] * s + W[i + 1, j + 1])
    return s


def loops_in_branches(x, xs, W):
    s = 0.0
    if x[0] > 0.1234:               # (thresholds no drawn value is likely to reach)
        for t in range(xs.shape[0]):
            s = s + np.sum(np.sin(xs[t] * x))
    else:
        s = np.sum(np.sin(x))
    for t in range(1, xs.shape[0]):
        if x[1] > -0.4321:
            for j in range(xs.shape[1]):
                s = s * np.cos(s) + xs[t, j] * x[j]
    return s * x[1]


def reversed_rows(x, xs, W):
    h = x
    for row in reversed(xs):
        h = np.tanh(W @ h + row * x)
    return np.sum(h)


def countdown(x, xs, W):
    s = 0.0
    for t in range(xs.shape[0] - 1, 0, -1):
        s = np.tanh(s + np.sum(xs[t] * xs[t - 1] * x))
    return s


FUNCTIONS = [rnn_entries, nested_entries, rows, shifted_range, with_break, with_continue,
             while_loop, target_reassigned, early_return, changing_shapes,
             later_loop_overwrites, inner_reads_outer_counter, loops_in_branches,
             reversed_rows, countdown]
