"""Functions with loops whose gradients carry loop stacks, for reverse over reverse.

Written against the name `np` so that the same source runs through srcad (`np` = NumPy) and
through autograd (`np` = `autograd.numpy`, see tests/test_reverse_over_reverse.py). Each takes
a vector `x` of 3 and returns a scalar.
"""

import numpy as np

WEIGHTS = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.5], [0.3, 0.2, 0.1]])


def over_range(x):
    h = x
    for i in range(3):
        h = np.sin(h) * x + 0.1 * i
    return np.sum(h * h)


def over_rows(x):
    h = np.tanh(x)
    for row in WEIGHTS:
        h = np.tanh(row * h + x)
    return np.sum(h * x)


def over_entries(x):
    p = 1.0
    s = 0.0
    for v in x:
        p = p * (1.0 + v * v)
        s = s + np.sin(p) * v
    return s + p


def data_dependent_while(x):
    t = x
    while np.sum(t * t) < 6.0:
        t = t * 1.3 + 0.2 * np.sin(t) + 0.05
    return np.sum(t * np.cos(x))


def nested(x):
    s = 0.0
    for i in range(2):
        acc = x * (i + 1.0)
        for j in range(3):
            acc = np.tanh(acc) * x[j] + acc * 0.5
        s = s + np.sum(acc * acc)
    return s


def branches_inside(x):
    h = x
    for _ in range(4):
        if np.sum(h) > 0.2:
            h = np.sin(h) * x
        else:
            h = np.cos(h) + x * x
    return np.sum(h ** 3)


def step(h, x):
    for _ in range(2):
        h = np.tanh(h * x + 0.3)
    return h


def helper_in_loop(x):
    h = x
    for _ in range(2):
        h = step(h, x) + 0.1 * h
    return np.sum(h * np.exp(-x))


def array_in_loop(x):
    h = x
    for i in range(3):
        h = np.array([h[1] * h[2], np.sin(h[0]) + x[i], h[0] * x[2]])
    return np.sum(h * h)


def scalar_step(a, b):
    for _ in range(2):
        a = np.sin(a * b) + b
    return a


def array_of_helper_results(x):
    rows = []
    for i in range(2):
        rows.append(np.array([scalar_step(x[0], x[i + 1]), x[1] * x[2], scalar_step(x[2], 0.5)]))
    m = np.array(rows)
    return np.sum(np.tanh(m) * m) + np.sum(m[0] * m[1])


FUNCTIONS = [over_range, over_rows, over_entries, data_dependent_while, nested, branches_inside,
             helper_in_loop, array_in_loop, array_of_helper_results]
