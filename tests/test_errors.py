"""Every error names its cause and points at the user's file, line and source text.

First the common cases one test each (try/with/lambda/set comprehension/nested def/global/yield,
item writes into arguments, source unavailable, non-scalar grad, missing rules, bad wrt), then
a catalogue of the rest, one row per way to get it wrong, so a new kind of bad input is one
more row."""

import inspect
import math

import numpy as np
import pytest

import srcad


def line_of(func, text):
    """The file line number of the first line of `func` containing `text`."""
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def assert_points_at(error, func, text):
    message = str(error)
    assert __file__ in message
    assert f"line {line_of(func, text)}" in message
    assert text in message


def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as handle:
        y = x * len(handle.name)
    return y


def uses_lambda(x):
    return np.sum(sorted(x, key=lambda v: -v))


def uses_comprehension(x):
    return sum({v * 2 for v in x})


def uses_nested_def(x):
    def inner(v):
        if v[0] > 0:
            return v
        return -v
    return np.sum(inner(x))


def uses_global(x):
    global COUNTER
    COUNTER = x
    return x


def uses_yield(x):
    yield x * 2


def uses_item_assignment(x):
    x[0] = 3.0
    return np.sum(x)


def uses_dict(x):
    d = {x: 1.0}
    return d[x]


def uses_function_as_value(x):
    def inner(v):
        return v * 2.0
    return np.sum(list(map(inner, x)))


@pytest.mark.parametrize("func, text, construct", [
    (uses_try, "try:", "`try`"),
    (uses_with, "with open", "`with`"),
    (uses_lambda, "lambda v", "lambda"),
    (uses_comprehension, "{v * 2 for v in x}", "set comprehension"),
    (uses_nested_def, "def inner", "nested function"),
    (uses_global, "global COUNTER", "`global`"),
    (uses_yield, "yield x", "`yield`"),
    (uses_item_assignment, "x[0] = 3.0", "copy it first"),
    (uses_dict, "{x: 1.0}", "constant keys"),
    (uses_function_as_value, "map(inner, x)", "used other than by calling"),
])
def test_unsupported_syntax_is_rejected_before_any_transform(func, text, construct):
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(func)(np.ones(2))
    assert construct in str(info.value)
    assert_points_at(info.value, func, text)


def test_function_without_source_says_so_and_what_to_do():
    namespace = {"np": np}
    exec("def typed_in(x):\n    return np.sum(x * x)\n", namespace)
    with pytest.raises(srcad.SourceUnavailableError) as info:
        srcad.grad(namespace["typed_in"])(np.ones(2))
    message = str(info.value)
    assert "typed_in" in message and "exec" in message and ".py file" in message


def test_builtin_has_no_source():
    with pytest.raises(srcad.SourceUnavailableError) as info:
        srcad.grad(np.tanh)(np.ones(2))
    assert "register" in str(info.value).lower()


def vector_output(x):
    y = x * 2.0
    return y


def test_grad_of_non_scalar_output_says_use_vjp():
    with pytest.raises(srcad.NonScalarOutputError) as info:
        srcad.grad(vector_output)(np.ones(3))
    assert "vjp" in str(info.value) and "(3,)" in str(info.value)
    assert_points_at(info.value, vector_output, "return y")


def tuple_output(x):
    return x, x


def test_grad_of_tuple_output_says_use_vjp():
    with pytest.raises(srcad.NonScalarOutputError) as info:
        srcad.grad(tuple_output)(np.ones(3))
    assert "vjp" in str(info.value)
    assert_points_at(info.value, tuple_output, "return x, x")


def no_rule(x):
    return math.gamma(x) * 2.0


def test_missing_rule_names_the_function_and_how_to_register():
    with pytest.raises(srcad.MissingRuleError) as info:
        srcad.grad(no_rule)(0.5)
    message = str(info.value)
    assert "math.gamma" in message and "register_adjoint" in message
    assert_points_at(info.value, no_rule, "math.gamma(x)")
    with pytest.raises(srcad.MissingRuleError) as info:
        srcad.jvp(no_rule)(0.5, 1.0)
    assert "register_tangent" in str(info.value)


def two_args(x, W):
    return np.sum(W @ x)


@pytest.mark.parametrize("wrt, words", [
    (2, "out of range"), ("V", "names no parameter"), ((0, "x"), "twice"), (1.5, "names no")])
def test_bad_wrt(wrt, words):
    with pytest.raises(srcad.WrtError) as info:
        srcad.grad(two_args, wrt=wrt)
    assert words in str(info.value) and "['x', 'W']" in str(info.value) or "twice" in words


def undefined_name(x):
    return not_defined_anywhere(x)  # noqa: F821


def test_undefined_function_name():
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(undefined_name)(1.0)
    assert "not_defined_anywhere" in str(info.value)
    assert_points_at(info.value, undefined_name, "not_defined_anywhere(x)")


def test_source_of_something_else():
    with pytest.raises(TypeError):
        srcad.source(np.tanh)


def test_errors_are_srcad_errors():
    for cls in (srcad.UnsupportedSyntaxError, srcad.SourceUnavailableError,
                srcad.MissingRuleError, srcad.NonScalarOutputError, srcad.WrtError):
        assert issubclass(cls, srcad.SrcadError)


def rule_does_not_take_this_call(x):
    return np.sum(x, initial=1.0, where=x > 0)


def test_call_the_rule_does_not_take_points_at_the_line():
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(rule_does_not_take_this_call)(np.ones(3))
    assert "numpy.sum" in str(info.value)
    assert_points_at(info.value, rule_does_not_take_this_call, "np.sum(x, initial=1.0")


def scaled(x, n):
    return np.sum(x * n)


@pytest.mark.parametrize("bad, words", [
    (3, "an integer (3)"), (np.arange(3), "array of int64"), (None, "None"),
    (np.array([True, False, True]), "array of bool")])
def test_gradient_with_respect_to_a_non_float_argument(bad, words):
    with pytest.raises(srcad.WrtError) as info:
        srcad.grad(scaled, wrt="n")(np.ones(3), bad)
    assert words in str(info.value) and "`n`" in str(info.value)


def test_integer_arguments_outside_wrt_are_fine():
    np.testing.assert_allclose(srcad.grad(scaled)(np.ones(3), 2), [2.0, 2.0, 2.0])


def einsum_diagonal(a):
    return np.sum(np.einsum(a, [0, 0], [0]))


@pytest.mark.parametrize("kind", ["grad", "jvp"])
def test_unsupported_einsum_form_is_a_clear_error(kind):
    a = np.eye(3)
    with pytest.raises(srcad.MissingRuleError, match="sublist form"):
        if kind == "grad":
            srcad.grad(einsum_diagonal)(a)
        else:
            srcad.jvp(einsum_diagonal)(a, np.ones((3, 3)))


def fills_in_place(x):
    y = x * 2
    y.fill(0.0)
    return np.sum(y)


def appends_to_an_argument(items, x):
    items.append(x)
    return np.sum(np.stack(items))


@pytest.mark.parametrize("func, text, words", [
    (fills_in_place, "y.fill(0.0)", "changes `y` in place"),
    (appends_to_an_argument, "items.append(x)", "did not create"),
])
def test_changing_a_value_in_place_is_a_clear_error(func, text, words):
    """Never a silently wrong gradient: in-place methods other than append on a list the
    function made are rejected at the user's line."""
    for transform in (srcad.grad, srcad.jvp):
        with pytest.raises(srcad.SrcadError, match=words) as caught:
            args = (np.ones(3),) if func is fills_in_place else ([np.ones(3)], np.ones(3))
            wrt = 0 if func is fills_in_place else 1
            if transform is srcad.grad:
                transform(func, wrt=wrt)(*args)
            else:
                transform(func, wrt=wrt)(*args, np.ones(3))
        assert_points_at(caught.value, func, text)


# ---- the catalogue: unsupported syntax beyond the cases above --------------------------------
def uses_del(x):
    y = x * 2.0
    del y
    return np.sum(x)


def uses_walrus(x):
    return np.sum((y := x * 2.0) * y)


def uses_star_args(*xs, **options):
    return np.sum(xs[0])


def uses_import(x):
    import math as m
    return m.pi * x


def uses_set(x):
    return len({1, 2}) * x


def uses_comprehension_in_a_while_test(x):
    s = 0.0
    while s < sum([v for v in x]):
        s = s + 1.0
    return s * x[0]


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
    (uses_comprehension_in_a_while_test, lambda f: srcad.grad(f)(x3), SYNTAX,
     ["comprehension"], "while s < sum"),
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
