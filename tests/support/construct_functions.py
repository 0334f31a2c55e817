"""Functions written the way people write Python (comprehensions, lambdas, nested functions,
`return` in a loop, `else` on loops, ...), for tests/test_constructs.py. `np` is NumPy here;
the test loads this file again with `np` = `autograd.numpy` for an independent result.
"""

import numpy as np


def list_comprehension(x):
    ys = [np.sin(x[i]) * x[i] for i in range(len(x)) if i != 1]
    return sum(ys)


def generator_in_sum(x):
    return sum(x[i] * x[j] for i in range(3) for j in range(i, 4))


def generator_in_np_sum(x):
    return np.sum([np.tanh(v) * v for v in x])


def nested_comprehension(x):
    rows = [[x[i] * x[j] for j in range(i + 1)] for i in range(3)]
    return sum(sum(row) for row in rows)


def dict_comprehension(x):
    d = {k: x[k] ** 2 for k in range(3)}
    return d[0] * d[2] + d[1]


def lambda_closure(x):
    scale = np.sum(x)
    f = lambda t: scale * np.sin(t)  # noqa: E731
    return np.sum(f(x) * f(x[0]))


def nested_def(x):
    a = np.cos(x[0])

    def g(t, u):
        s = t * u
        return a * s ** 2

    return g(x[1], x[2]) + np.sum(g(x, x))


def return_in_loop(x):
    s = 0.0
    for i in range(4):
        s = s + x[i] ** 2
        if s > 1.5:
            return s * x[0]
    return s


def return_in_nested_loop(x):
    s = 1.0
    for i in range(2):
        for j in range(2):
            s = s * x[i + 2 * j]
            if i == 1 and j == 0:
                return s + x[3]
    return s


def else_on_loop(x):
    s = 0.0
    for i in range(4):
        s = s + x[i] * x[i]
        if s > 100.0:
            break
    else:
        s = s * np.exp(x[0])
    return s


def else_on_while(x):
    s = x[0]
    k = 0
    while k < 3:
        s = s * x[k + 1]
        k = k + 1
    else:
        s = s + 1.0
    return s


def dict_call(x):
    d = dict(a=x[0] * x[1], b=np.sin(x[2]))
    return d["a"] * d["b"]


def sorted_indices(x):
    s = 0.0
    for i in sorted([3, 0, 2]):
        s = s * 0.5 + x[i] ** 2
    return s


def enumerate_zip(x):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, x * x)):
        s = s + a * b * (i + 1)
    return s


def reversed_loop(x):
    s = 0.0
    for v in reversed(x):
        s = s * 0.5 + np.sin(v)
    return s


def max_min_sum(x):
    ys = [x[0] * 2.0, x[1], x[2] + 1.0]
    return max(ys) + min([x[3], x[0]]) + sum([x[1], x[2]]) + max(x)


def print_and_fstring(x):
    y = np.sum(x ** 3)
    print(f"loss is {y}")
    return y


def array_of_values(x):
    v = np.array([x[0] * x[1], np.sin(x[2]), x[3]])
    return np.sum(v ** 2)


FUNCTIONS = [list_comprehension, generator_in_sum, generator_in_np_sum, nested_comprehension,
             dict_comprehension, lambda_closure, nested_def, return_in_loop,
             return_in_nested_loop, else_on_loop, else_on_while, dict_call, sorted_indices,
             enumerate_zip, reversed_loop, max_min_sum, print_and_fstring, array_of_values]


def dict_views(x):
    d = {"a": x[0] * x[1], "b": np.sin(x[2]), "c": x[3]}
    s = 0.0
    for k, v in d.items():
        s = s * 0.5 + v * v * (2.0 if k == "a" else 1.0)
    for v in d.values():
        s = s + v
    for k in d.keys():
        s = s + d[k] * x[0]
    return s


FUNCTIONS.append(dict_views)


def return_in_while_in_branch(x):
    s = 0.0
    if x[0] > 0:
        k = 0
        while k < 4:
            s = s + x[k] * s + x[k]
            if s > 1.0:
                return s * 2.0
            k = k + 1
        s = s + 1.0
    else:
        s = x[1]
    return s * x[2]


def return_in_nested_loops_with_else(x):
    total = 0.0
    for i in range(3):
        for j in range(3):
            if x[i] * x[j] > 0.5:
                return total + x[i] * x[j]
            total = total + x[i] - x[j] * 0.5
    else:
        total = total * 3.0
    return total


def lambda_calling_lambda(x):
    g = lambda t, u: t * u + np.sin(t)  # noqa: E731
    h = lambda t: g(t, t) * 2.0  # noqa: E731
    return h(x[0]) + sum(g(v, x[1]) for v in x if v > 0.1)


def flattening_comprehension(x):
    m = [[x[i] * j for j in range(2)] for i in range(3)]
    flat = [v for row in m for v in row]
    return max(flat) + min(flat) + sum(flat)


def nested_def_in_comprehension(x):
    def sq(t):
        u = t * t
        v = u + 1.0
        return v * u

    i = 3
    ys = [sq(x[i]) for i in range(2)]
    return ys[0] + ys[1] + i * x[2]


FUNCTIONS += [return_in_while_in_branch, return_in_nested_loops_with_else, lambda_calling_lambda,
              flattening_comprehension, nested_def_in_comprehension]


def comprehension_in_a_conditional(x):
    y = np.sum([v * v for v in x]) if x[0] > 0 else max(x) * 2.0
    return y * x[1] + (x[2] if x[3] > 0 else sum(t * x[0] for t in x))


FUNCTIONS.append(comprehension_in_a_conditional)
