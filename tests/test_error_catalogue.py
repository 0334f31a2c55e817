"""A catalogue of bad inputs and the error each gives: the error names the cause and points
at the user's file, line and source text. tests/test_errors.py covers the first cases
(try/with/lambda/comprehension/nested def/global/yield/item writes into arguments, source
unavailable, non-scalar grad, missing rules, bad wrt); this table adds the rest, one row per
way to get it wrong, so a new kind of bad input is one more row."""

import inspect
import math

import numpy as np
import pytest

import srcad


def line_of(func, text):
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


# ---- unsupported syntax beyond tests/test_errors.py ------------------------------------------
def uses_del(x):
    y = x * 2.0
    del y
    return np.sum(x)


def uses_walrus(x):
    return np.sum((y := x * 2.0) * y)


def uses_star_args(*xs):
    return np.sum(xs[0])


def uses_import(x):
    import math as m
    return m.pi * x


def uses_set(x):
    return len({1, 2}) * x


def uses_loop_else(x):
    for v in x:
        x = x * v
    else:
        x = x * 2.0
    return np.sum(x)


def uses_match(x):
    match 1:
        case 1:
            return x
    return x


def reads_before_the_loop_gives_it_a_value(x):
    for _ in range(3):
        y = t * x  # noqa: F821
        t = x  # noqa: F841
    return y


def helper_with_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def calls_a_helper_with_try(x):
    return np.sum(helper_with_try(x))


# ---- writes into arrays the function did not create ------------------------------------------
GLOBAL_W = np.ones(3)


def writes_into_a_global(x):
    GLOBAL_W[0] = x
    return np.sum(GLOBAL_W)


def writes_through_a_view_of_a_global(x):
    v = GLOBAL_W[1:]
    v *= x
    return np.sum(v)


def make_closure_writer():
    A = np.ones(3)

    def writes_through_a_view_of_a_closure_value(x):
        v = A.reshape(3)
        v += x
        return np.sum(v)
    return writes_through_a_view_of_a_closure_value


def writes_through_a_row_of_an_argument(X):
    for row in X:
        row += 1.0
    return np.sum(X)


def adds_into_its_argument(x):
    x += 1.0
    return np.sum(x * x)


# ---- no rule for a function srcad cannot see into --------------------------------------------
def calls_fft(x):
    return np.sum(np.abs(np.fft.fft(x)))


def calls_gamma(x):
    return math.gamma(x)


def calls_a_dict_method(x):
    d = {"a": x}
    return d.get("a")


def vector(x):
    return x * 2.0


def early_vector(x):
    if np.sum(x) > 0:
        return x * 2.0
    return np.sum(x)


SYNTAX = "srcad.UnsupportedSyntaxError"
x3 = np.ones(3)
CATALOGUE = [
    # (function, call, error, words naming the cause, text of the user's line)
    (uses_del, lambda f: srcad.grad(f)(x3), SYNTAX, ["`del`"], "del y"),
    (uses_walrus, lambda f: srcad.grad(f)(x3), SYNTAX, [":="], "y := x * 2.0"),
    (uses_star_args, lambda f: srcad.grad(f)(x3), SYNTAX, ["*args"], "def uses_star_args"),
    (uses_import, lambda f: srcad.grad(f)(1.0), SYNTAX, ["import"], "import math as m"),
    (uses_set, lambda f: srcad.grad(f)(1.0), SYNTAX, ["set"], "{1, 2}"),
    (uses_loop_else, lambda f: srcad.grad(f)(x3), SYNTAX, ["else"], "for v in x"),
    (uses_match, lambda f: srcad.grad(f)(1.0), SYNTAX, ["`match`"], "match 1:"),
    (reads_before_the_loop_gives_it_a_value, lambda f: srcad.grad(f)(1.0), SYNTAX,
     ["`t`", "before the loop"], "for _ in range(3)"),
    (helper_with_try, lambda f: srcad.grad(calls_a_helper_with_try)(x3), SYNTAX,
     ["`try`"], "try:"),
    (writes_into_a_global, lambda f: srcad.grad(f)(1.0), SYNTAX,
     ["`GLOBAL_W`", "did not create", ".copy()"], "GLOBAL_W[0] = x"),
    (writes_through_a_view_of_a_global, lambda f: srcad.grad(f)(1.0), SYNTAX,
     ["`v`", "`GLOBAL_W`", "share memory", ".copy()"], "v *= x"),
    (make_closure_writer(), lambda f: srcad.grad(f)(1.0), SYNTAX,
     ["`v`", "`A`", "share memory"], "v += x"),
    (writes_through_a_row_of_an_argument, lambda f: srcad.grad(f)(np.ones((2, 2))), SYNTAX,
     ["`row`", "`X`", "share memory"], "row += 1.0"),
    (adds_into_its_argument, lambda f: srcad.grad(f)(x3), SYNTAX,
     ["`x`", "caller's array", "x = x + ..."], "x += 1.0"),
    (calls_fft, lambda f: srcad.grad(f)(x3), "srcad.MissingRuleError",
     ["numpy.fft.fft", "register_adjoint(numpy.fft.fft)"], "np.fft.fft(x)"),
    (calls_gamma, lambda f: srcad.jvp(f)(1.5, 1.0), "srcad.MissingRuleError",
     ["math.gamma", "register_tangent(math.gamma)"], "math.gamma(x)"),
    (calls_a_dict_method, lambda f: srcad.grad(f)(1.0), "srcad.MissingRuleError",
     [".get", "register_adjoint(<its type>.get)"], 'd.get("a")'),
    (vector, lambda f: srcad.jvp(f)(x3, np.ones(4)), "srcad.ShapeMismatchError",
     ["tangent for `x`", "(4,)", "(3,)"], "def vector"),
    (vector, lambda f: srcad.vjp(f)(x3)[1](np.ones((2, 3))), "srcad.ShapeMismatchError",
     ["cotangent", "(3,)", "(2, 3)"], "return x * 2.0"),
    (vector, lambda f: srcad.grad(f)(x3), "srcad.NonScalarOutputError",
     ["scalar output", "(3,)", "srcad.vjp"], "return x * 2.0"),
    (early_vector, lambda f: srcad.grad(f)(x3), "srcad.NonScalarOutputError",
     ["scalar output", "(3,)"], "if np.sum(x) > 0"),
    (vector, lambda f: srcad.grad(f, wrt="y"), "srcad.WrtError",
     ["wrt='y'", "['x']"], "def vector"),
    (vector, lambda f: srcad.grad(f)(np.arange(3)), "srcad.WrtError",
     ["`x`", "int64", "float"], "def vector"),
]


@pytest.mark.parametrize("func, call, error, words, text", CATALOGUE,
                         ids=[f"{row[2].split('.')[-1]}-{row[0].__name__}" for row in CATALOGUE])
def test_error_names_the_cause_and_the_users_line(func, call, error, words, text):
    with pytest.raises(eval(error)) as info:
        call(func)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"
    assert f'File "{__file__}", line {line_of(func, text)}' in message, message
    assert text in message
    assert message.count("\n") <= 2            # one message, one location: no traceback


def test_jvp_without_its_tangents_says_what_it_takes():
    with pytest.raises(TypeError) as info:
        srcad.jvp(vector)(x3)
    assert "followed by 1 tangent" in str(info.value) and "for x" in str(info.value)
