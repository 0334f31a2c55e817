"""Loop nests whose inner loops' stacks are shared by the outer trips (`passes/reverse`: one
flat stack per value per nest): inner trip counts that differ from outer trip to outer trip
(none in some), `while` loops with data-dependent trips, break and continue, an inner loop in
a branch, a nest in a branch, values pushed at several levels, three levels. Written against
the module name `np` so that `tests/test_flat_stacks.py` runs them with NumPy through srcad and
with `autograd.numpy` through autograd. Arguments: `x` of shape (4,), `xs` of shape (n, 4)."""

import numpy as np


def triangle(x, xs):
    s = np.sum(x) * 0.5
    for i in range(xs.shape[0]):
        for j in range(i):
            s = np.sin(s * xs[i, 1]) + s * np.sum(xs[j] * x)
    return s


def nested_while(x, xs):
    h = x
    for i in range(xs.shape[0]):
        k = 0
        while k < i + 1 and np.sum(h) < 3.0:
            h = np.sin(h) * xs[i] + h * 0.5
            k = k + 1
    return np.sum(h * h)


def break_continue(x, xs):
    h = x * 1.0
    for i in range(xs.shape[0]):
        for j in range(xs.shape[0]):
            if j > i:
                break
            if (i + j) % 2 == 1:
                continue
            h = np.tanh(h * xs[j]) + h
    return np.sum(h)


def in_branch(x, xs):
    h = x
    for i in range(xs.shape[0]):
        if xs[i, 0] > 0:
            for j in range(i + 1):
                h = np.sin(h) * xs[j]
        else:
            h = h * xs[i] + 1.0
    return np.sum(h)


def several_levels(x, xs):
    h = x
    s = 0.0
    for i in range(xs.shape[0]):
        a = np.cos(h) * xs[i]
        for j in range(i):
            h = np.tanh(h * a) + xs[j]
        s = s + np.sum(a * h)
    return s


def triple(x, xs):
    h = x
    for i in range(xs.shape[0]):
        for j in range(i + 1):
            for k in range(j):
                h = np.sin(h * xs[k]) + h * xs[i]
            h = h * 0.9 + xs[j]
    return np.sum(h * h)


def rows_of_rows(x, xs):
    h = x
    for row in xs:
        t = 0
        while t < 2:
            for v in row:
                h = np.tanh(h * v) + x
            t = t + 1
    return np.sum(h)


def nest_in_branch(x, xs):
    h = x
    if x[0] > 0:
        for i in range(xs.shape[0]):
            for j in range(i + 1):
                h = np.sin(h) * xs[j] + h
    return np.sum(h * h)


FUNCTIONS = [triangle, nested_while, break_continue, in_branch, several_levels, triple,
             rows_of_rows, nest_in_branch]
