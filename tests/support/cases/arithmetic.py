"""Cases for the operator rules in templates/arithmetic.py."""

import ast

import numpy as np
from hypothesis import strategies as st

from srcad import runtime
from tests.support.cases import POSITIVE, REAL, args, arrays, broadcast_args, case, scalars, sum_to


@case(ast.Add, args=broadcast_args(REAL, REAL),
      vjp=lambda u, x, y: (sum_to(u, x.shape), sum_to(u, y.shape)))
def add(x, y):
    return x + y


@case(ast.Sub, args=broadcast_args(REAL, REAL))
def sub(x, y):
    return x - y


@case(ast.Mult, args=broadcast_args(REAL, REAL),
      vjp=lambda u, x, y: (sum_to(u * y, x.shape), sum_to(u * x, y.shape)))
def mul(x, y):
    return x * y


@case((ast.Mult, "same"), args=args(arrays(REAL)), vjp=lambda u, x: (2 * x * u,))
def square(x):
    return x * x


@case(ast.Div, args=broadcast_args(REAL, POSITIVE))
def div(x, y):
    return x / y


@case(ast.Pow, args=broadcast_args(POSITIVE, REAL))
def pow(x, y):
    return x ** y


@case((ast.Pow, "constant"), args=args(arrays(REAL)), vjp=lambda u, x: (3 * x ** 2 * u,))
def cube(x):
    return x ** 3


@case((ast.Pow, "constant"), args=args(arrays(POSITIVE)),
      vjp=lambda u, x: (-0.5 * x ** -1.5 * u,))
def inverse_root(x):
    return x ** -0.5


@case(ast.Pow, args=args(arrays(REAL), st.sampled_from([0, 1, 2, 3])), wrt=0,
      vjp=lambda u, x, n: (n * x ** max(n - 1, 0) * u,))
def integer_power(x, n):
    return x ** n


@case(ast.Mod, args=broadcast_args(POSITIVE, (3.1, 3.3)))
def mod(x, y):
    return x % y


@case(ast.USub, args=args(arrays(REAL)), vjp=lambda u, x: (-u,))
def neg(x):
    return -x


@case(ast.UAdd, args=args(arrays(REAL)))
def pos(x):
    return +x


@case(ast.Name, ast.Tuple, args=args(arrays(REAL), scalars(REAL)))
def copy_and_tuple(x, s):
    y = x
    t = (y, s)
    a, b = t
    return a * b


@case(ast.MatMult, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(3, 4))),
      vjp=lambda u, x, y: (u @ y.T, x.T @ u))
def matmul_matrices(x, y):
    return x @ y


@case(ast.MatMult, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3, 2))))
def matmul_vector_matrix(x, y):
    return x @ y


@case(ast.MatMult, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(3,))))
def matmul_matrix_vector(x, y):
    return x @ y


@case(ast.MatMult, args=args(arrays(REAL, shape=(3,)), arrays(REAL, shape=(3,))))
def matmul_vectors(x, y):
    return x @ y


@case(ast.MatMult, args=args(arrays(REAL, shape=(2, 2, 3)), arrays(REAL, shape=(3, 2))))
def matmul_batched(x, y):
    return x @ y


@case(ast.Dict, args=args(arrays(REAL), scalars(REAL)))
def dict_items(x, s):
    table = {"x": x, "s": s}
    return table["x"] * table["s"]


@case(runtime.appended, args=args(arrays(REAL), scalars(REAL)),
      vjp=lambda u, x, s: (u[1] * s + u[2] * np.cos(x), np.sum(u[1] * x)))
def append_items(x, s):
    items = [np.ones_like(x)]             # a first item with no derivative
    items.append(x * s)
    items.append(np.sin(x))
    return np.stack(items)
