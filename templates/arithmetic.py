"""Rules for Python's operators (`+ - * / ** @`, unary minus), copies and containers; the
ufuncs numpy.add, subtract, multiply, divide and negative share the operators' rules.
`items.append(item)` is normalized to `items = appended(items, item)`.

Parameters: the result first, then the operands. `unbroadcast(g, x)` sums an adjoint back to the
shape of `x` when broadcasting stretched it; it is free when the shapes already match.
"""

import ast

import numpy

from srcad import runtime
from srcad.rules import (
    adjoint,
    d,
    elementwise,
    nondifferentiable,
    returns_sequence,
    shape,
    tangent,
)
from srcad.runtime import appended, matmul_adjoint_left, matmul_adjoint_right, unbroadcast
from srcad.runtime_exact import power_slope, values_of
from srcad.shape_rules import broadcasting, matrix_product, same_shape

# ---- copies and containers -------------------------------------------------------------------


@elementwise(ast.Name)
def copy(g, y, x):
    return g


@elementwise(ast.Tuple)
def tuple_(g, y, elts):
    return g


@adjoint(runtime.appended)
def appended_(y, items, item):
    d[items] += d[y][:-1]
    d[item] += d[y][-1]


@tangent(runtime.appended)
def appended_(y, items, item):
    d[y] = appended(d.full[items], d.full[item])


returns_sequence(runtime.appended)


@adjoint(ast.Dict)
def dict_(y, keys, values):
    d[values] += values_of(d[y], keys)


@tangent(ast.Dict)
def dict_(y, keys, values):
    d[y] = dict(zip(keys, d[values]))


# ---- addition and subtraction ----------------------------------------------------------------


@adjoint(ast.Add)
@adjoint(numpy.add)                         # the ufunc forms share the operators' rules
def add(z, x, y):
    d[x] += unbroadcast(d[z], x)
    d[y] += unbroadcast(d[z], y)


@tangent(ast.Add, broadcasts=True)
@tangent(numpy.add, broadcasts=True)
def add(z, x, y):
    d[z] = d[x] + d[y]


@adjoint(ast.Sub)
@adjoint(numpy.subtract)
def sub(z, x, y):
    d[x] += unbroadcast(d[z], x)
    d[y] += -unbroadcast(d[z], y)


@tangent(ast.Sub, broadcasts=True)
@tangent(numpy.subtract, broadcasts=True)
def sub(z, x, y):
    d[z] = d[x] - d[y]


@elementwise(ast.UAdd)
def pos(g, y, x):
    return g


@elementwise(ast.USub, numpy.negative)
def neg(g, y, x):
    return -g


# ---- products and quotients ------------------------------------------------------------------


@adjoint(ast.Mult)
@adjoint(numpy.multiply)
def mul(z, x, y):
    d[x] += unbroadcast(d[z] * y, x)
    d[y] += unbroadcast(x * d[z], y)


@tangent(ast.Mult)
@tangent(numpy.multiply)
def mul(z, x, y):
    d[z] = d[x] * y + x * d[y]


@elementwise((ast.Mult, "same"))
def square(g, z, x, y):
    return 2 * x * g


@adjoint(ast.Div)
@adjoint(numpy.divide)                      # numpy.true_divide is the same ufunc
def div(z, x, y):
    d[x] += unbroadcast(d[z] / y, x)
    d[y] += -unbroadcast(d[z] * z / y, y)


@tangent(ast.Div)
@tangent(numpy.divide)
def div(z, x, y):
    d[z] = d[x] / y - z * d[y] / y


@adjoint((ast.Pow, "constant"))            # a number as exponent (`x ** 2`): never 0 here,
def pow(z, x, y):                           # as `x ** 0` is a constant (passes/activity)
    d[x] += unbroadcast(d[z] * y * x ** (y - 1), x)
    d[y] += unbroadcast(d[z] * z * numpy.log(numpy.where(x > 0, x, 1)), y)


@tangent((ast.Pow, "constant"))
def pow(z, x, y):
    d[z] = y * x ** (y - 1) * d[x] + z * numpy.log(numpy.where(x > 0, x, 1)) * d[y]


@adjoint(ast.Pow)                           # any exponent: exact where it is 0 (power_slope)
def pow_any(z, x, y):
    d[x] += unbroadcast(d[z] * power_slope(x, y), x)
    d[y] += unbroadcast(d[z] * z * numpy.log(numpy.where(x > 0, x, 1)), y)


@tangent(ast.Pow)
def pow_any(z, x, y):
    d[z] = power_slope(x, y) * d[x] + z * numpy.log(numpy.where(x > 0, x, 1)) * d[y]


@adjoint(ast.Mod)
def mod(z, x, y):
    d[x] += unbroadcast(d[z], x)
    d[y] += -unbroadcast(d[z] * numpy.floor_divide(x, y), y)


@tangent(ast.Mod, broadcasts=True)
def mod(z, x, y):
    d[z] = d[x] - numpy.floor_divide(x, y) * d[y]


# ---- matrix product --------------------------------------------------------------------------


@adjoint(ast.MatMult)
def matmul(z, x, y):
    d[x] += matmul_adjoint_left(d[z], x, y)
    d[y] += matmul_adjoint_right(d[z], x, y)


@tangent(ast.MatMult)
def matmul(z, x, y):
    d[z] = d[x] @ y + x @ d[y]


shape(ast.MatMult)(matrix_product)


nondifferentiable(ast.FloorDiv, ast.Not, ast.Invert, ast.BitAnd, ast.BitOr, ast.BitXor,
                  ast.LShift, ast.RShift, reason="its result is piecewise constant")

# ---- shapes: arithmetic and comparisons broadcast ------------------------------------------

shape(ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.Compare)(
    broadcasting)
shape(ast.USub, ast.UAdd)(same_shape)
