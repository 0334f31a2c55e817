"""Cases for Python's own functions: the `math` module on floats, and the builtins `sum` (of a
list or tuple), `max` and `min` of two values. Their rules are shared with NumPy's functions of
the same formula (templates/elementwise.py) or written for them (`math.erf`, `sum`).

References (`vjp=`) are the textbook derivatives written with `math` and plain NumPy.
"""

import math

import numpy
from hypothesis import strategies as st

from tests.support.cases import (
    POSITIVE,
    REAL,
    UNIT,
    args,
    arrays,
    broadcast_args,
    case,
    scalars,
    sum_to,
)
from tests.support.cases.elementwise import away_from_zero, grid

# ---- exponentials and logarithms -------------------------------------------------------------


@case(math.exp, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.exp(x),))
def exp(x):
    return math.exp(x)


@case(math.expm1, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.exp(x),))
def expm1(x):
    return math.expm1(x)


@case(math.log, args=args(scalars(POSITIVE)), vjp=lambda u, x: (u / x,))
def log(x):
    return math.log(x)


@case(math.log2, math.log10, args=args(scalars(POSITIVE)),
      vjp=lambda u, x: (u / (x * math.log(2.0)) + 3.0 * u / (x * math.log(10.0)),))
def log2_and_log10(x):
    return math.log2(x) + 3.0 * math.log10(x)


@case(math.log1p, args=args(scalars((-0.5, 2.0))), vjp=lambda u, x: (u / (1.0 + x),))
def log1p(x):
    return math.log1p(x)


@case(math.log, args=args(arrays(POSITIVE, shape=())), vjp=lambda u, x: (u / x,))
def log_of_0d_array(x):
    return math.log(x)


# ---- powers and roots ------------------------------------------------------------------------


@case(math.sqrt, args=args(scalars(POSITIVE)), vjp=lambda u, x: (u / (2.0 * math.sqrt(x)),))
def sqrt(x):
    return math.sqrt(x)


@case(math.pow, args=args(scalars(POSITIVE), scalars(REAL)),
      vjp=lambda u, x, y: (u * y * x ** (y - 1.0), u * x ** y * math.log(x)))
def pow_(x, y):
    return math.pow(x, y)


@case((math.pow, "constant"), args=args(scalars(REAL)), vjp=lambda u, x: (3.0 * u * x * x,))
def pow_integer_exponent(x):
    return math.pow(x, 3)


# ---- trigonometric and hyperbolic ------------------------------------------------------------


@case(math.sin, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.cos(x),))
def sin(x):
    return math.sin(x)


@case(math.cos, args=args(scalars(REAL)), vjp=lambda u, x: (-u * math.sin(x),))
def cos(x):
    return math.cos(x)


@case(math.tan, args=args(scalars((-1.2, 1.2))), vjp=lambda u, x: (u / math.cos(x) ** 2,))
def tan(x):
    return math.tan(x)


@case(math.asin, args=args(scalars(UNIT)), vjp=lambda u, x: (u / math.sqrt(1.0 - x * x),))
def asin(x):
    return math.asin(x)


@case(math.acos, args=args(scalars(UNIT)), vjp=lambda u, x: (-u / math.sqrt(1.0 - x * x),))
def acos(x):
    return math.acos(x)


@case(math.atan, args=args(scalars(REAL)), vjp=lambda u, x: (u / (1.0 + x * x),))
def atan(x):
    return math.atan(x)


@case(math.atan2, args=args(away_from_zero(), away_from_zero()),
      vjp=lambda u, y, x: (u * x / (x * x + y * y), -u * y / (x * x + y * y)))
def atan2(y, x):
    return math.atan2(y, x)


@case(math.hypot, args=args(away_from_zero(), away_from_zero()),
      vjp=lambda u, x, y: (u * x / math.sqrt(x * x + y * y), u * y / math.sqrt(x * x + y * y)))
def hypot(x, y):
    return math.hypot(x, y)


@case(math.sinh, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.cosh(x),))
def sinh(x):
    return math.sinh(x)


@case(math.cosh, args=args(scalars(REAL)), vjp=lambda u, x: (u * math.sinh(x),))
def cosh(x):
    return math.cosh(x)


@case(math.tanh, args=args(scalars(REAL)), vjp=lambda u, x: (u / math.cosh(x) ** 2,))
def tanh(x):
    return math.tanh(x)


# ---- absolute value and the error function ---------------------------------------------------


@case(math.fabs, args=args(away_from_zero()), vjp=lambda u, x: (u * math.copysign(1.0, x),))
def fabs(x):
    return math.fabs(x)


@case(math.erf, args=args(scalars(REAL)),
      vjp=lambda u, x: (u * 2.0 / math.sqrt(math.pi) * math.exp(-x * x),))
def erf(x):
    return math.erf(x)


# ---- builtins: sum of a list, max and min of two values --------------------------------------


@case(sum, args=broadcast_args(REAL, REAL, REAL),
      vjp=lambda u, x, y, s: (sum_to(u, x.shape), sum_to(u, y.shape), sum_to(u, s.shape)))
def sum_list_with_start(x, y, s):
    return sum([x, y], s)


@case(sum, args=args(scalars(REAL), scalars(REAL)), vjp=lambda u, a, b: (2.0 * u, u))
def sum_of_floats(a, b):
    return sum([a, b, a])


@case(sum, args=args(arrays(REAL, shape=(2, 3)), arrays(REAL, shape=(3,))),
      vjp=lambda u, x, y: (u, u.sum(axis=0)))
def sum_keyword_start(x, y):
    return sum((x,), start=y)


@case(sum, args=args(st.lists(arrays(REAL, shape=(2, 3)), min_size=1, max_size=3)), wrt=0,
      vjp=lambda u, xs: ([u * 2.0 for _ in xs],))
def sum_list_argument(xs):
    return sum(xs) * 2.0


@case(sum, args=args(arrays(REAL, shape=(3,)), scalars(REAL)),
      vjp=lambda u, x, s: (u, numpy.sum(u)))
def sum_start_only_active(x, s):
    return sum([numpy.ones(3), numpy.zeros(3)], s) + x


@case(max, args=args(grid(-2.0, 2.0, offset=0.1), grid(-2.0, 2.0)),
      vjp=lambda u, x, y: (u * (x > y), u * (x < y)))
def max_of_two(x, y):
    return max(x, y)


@case(min, args=args(grid(-2.0, 2.0, offset=0.1), grid(-2.0, 2.0)),
      vjp=lambda u, x, y: (u * (x < y), u * (x > y)))
def min_of_two(x, y):
    return min(x, y)


@case((max, "number"), args=args(away_from_zero()), vjp=lambda u, x: (u * (x > 0),))
def max_with_number(x):
    return max(x, 0.0)


@case((min, "number"), args=args(grid(-2.0, 2.0, offset=0.1)),
      vjp=lambda u, x: (u * (x < 1.0),))
def min_with_number(x):
    return min(1.0, x)
