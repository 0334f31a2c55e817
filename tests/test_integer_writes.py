"""Writes of a differentiated float into an integer or boolean array (issue 12, never silently
wrong). NumPy stores the value truncated (`a = np.arange(4); a[1] = v` stores `int(v)`): the
function is piecewise constant in it, so the derivative through the write is zero, the answer
srcad gives where the target's dtype is known while generating. Where it is not (an argument
not differentiated), a run-time check raises a SrcadError at the user's line for an integer
array and lets a float array's derivative pass. `x[i] += v` raises where NumPy raises (a float
into a part of an integer array) and truncates where NumPy truncates (one element).

Every integer program returns `h(x) * x[1] + sum(x ** 3)` with `h` piecewise constant, so
(away from the jumps) its gradient is `3 x**2 + h e1` and its Hessian `diag(6 x)`, with `h`
read off NumPy's own primal; each is checked in grad, jvp, vjp and hvp against that and
against central finite differences. Float targets keep their derivative (analytic formulas and
finite differences); float-only programs get no check in their generated code.
"""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad.errors import IntegerWriteError, MissingRuleError, SrcadError
from tests.support.compare import central_gradient

X = np.array([1.3, 0.7, -0.4])


def _cube(x):
    return np.sum(x ** 3)


# ---- integer and boolean targets: the derivative through the write is zero -------------------

def arange_item(x):
    a = np.arange(4)
    a[1] = x[0] * 2.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def zeros_int_slice(x):
    a = np.zeros(5, dtype=int)
    a[1:3] = x[0] * 3.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def fancy_index(x):
    a = np.arange(6).reshape(2, 3)
    a[np.array([0, 1]), np.array([2, 0])] = x[:2] * 4.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def boolean_mask(x):
    a = np.arange(5)
    a[a > 2] = x[0] * 5.0
    return np.sum(a) * x[1] + np.sum(x ** 3)


def empty_like_int(x):
    a = np.empty_like(np.arange(3))
    a[:] = x * 3.0
    return np.sum(a) * x[1] + np.sum(x ** 3)


def astype_int(x):
    a = (x * 10.3).astype(int)
    a[0] = x[2] * 7.0
    return np.sum(a) * x[1] + np.sum(x ** 3)


def array_int32(x):
    a = np.array(x * 2.0, dtype=np.int32)
    a[2] = x[0] * 9.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def boolean_array(x):
    a = np.zeros(3, dtype=bool)
    a[0] = x[0]
    return np.sum(a) * x[1] + np.sum(x ** 3)


def list_literal_ints(x):
    a = np.array([1, 2, 3])
    a[1] = x[0] * 6.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def full_int(x):
    a = np.full(4, 2)
    a[...] = x[0] * 3.0
    return np.sum(a) * x[1] + np.sum(x ** 3)


def in_loop(x):
    a = np.zeros(3, dtype=np.int64)
    for i in range(3):
        a[i] = x[i] * (i + 2.5)
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def loop_carried(x):
    a = np.arange(3)
    t = x[0] * 4.0
    for i in range(2):
        a[i] = t
        t = t * 1.5
    return np.sum(a) * x[1] + np.sum(x ** 3)


def augmented_item(x):
    a = np.arange(4)
    a[1] += x[0] * 2.0
    a[2] -= x[2] * 3.0
    return np.sum(a * a) * x[1] + np.sum(x ** 3)


def through_copy(x):
    a = np.arange(3).copy()
    b = a
    b[2] = x[0] * 8.0
    return np.sum(b) * x[1] + np.sum(x ** 3)


def sizes(x):
    a = np.arange(len(x))
    a[0] = x[0] * 2.0
    b = np.zeros(x.shape[0] + 1, dtype=int)
    b[1] = x[2] * 5.3
    return (np.sum(a * a) + np.sum(b)) * x[1] + np.sum(x ** 3)


def _truncating_helper(v):
    a = np.arange(3)
    a[0] = v
    return a


def from_helper(x):
    return np.sum(_truncating_helper(x[0] * 2.0) ** 2) * x[1] + np.sum(x ** 3)


def full_like_int(x):
    a = np.arange(3)
    return np.sum(np.full_like(a, x[0] * 3.0) * a) * x[1] + np.sum(x ** 3)


INTEGER_PROGRAMS = [arange_item, zeros_int_slice, fancy_index, boolean_mask, empty_like_int,
                    full_like_int, sizes, from_helper, astype_int, array_int32, boolean_array,
                    list_literal_ints, full_int, in_loop, loop_carried, augmented_item,
                    through_copy]


def _integer_part(f, x):
    """h(x): the piecewise constant factor of `f(x) = h(x) x[1] + sum(x**3)`, from NumPy."""
    return (f(x) - _cube(x)) / x[1]


def _expected_gradient(f, x):
    out = 3 * x ** 2
    out[1] += _integer_part(f, x)
    return out




def _all_modes(f, x, v):
    """(gradient from grad, from vjp, directional derivative from jvp, H v from hvp)."""
    _, pullback = srcad.vjp(f)(x)
    return (srcad.grad(f)(x), pullback(1.0), srcad.jvp(f)(x, v)[1], srcad.hvp(f)(x, v))


@pytest.mark.parametrize("f", INTEGER_PROGRAMS, ids=lambda f: f.__name__)
def test_integer_target_cuts_the_derivative_in_every_mode(f):
    v = np.array([0.3, -1.1, 0.8])
    grad, pulled, tangent, hv = _all_modes(f, X, v)
    expected = _expected_gradient(f, X)
    np.testing.assert_allclose(central_gradient(f, X), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(pulled, expected, rtol=1e-12)
    np.testing.assert_allclose(tangent, expected @ v, rtol=1e-12)
    np.testing.assert_allclose(hv, 6 * X * v, rtol=1e-12)


@pytest.mark.parametrize("f", INTEGER_PROGRAMS, ids=lambda f: f.__name__)
def test_integer_target_generated_code_has_no_derivative_of_the_written_value(f):
    """The written value is cut while generating: no check, and the gradient's code never
    reads the derivative of the write (`last_writes` is the adjoint of the written value)."""
    text = srcad.source(srcad.grad(f), X)
    assert "float_target" not in text and "last_writes" not in text, text


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       st.sampled_from(INTEGER_PROGRAMS))
def test_integer_target_matches_finite_differences_anywhere(values, f):
    x = np.array(values)
    if abs(x[1]) < 1e-3 or _jumps_near(f, x):
        return
    expected = _expected_gradient(f, x)
    np.testing.assert_allclose(central_gradient(f, x), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(srcad.grad(f)(x), expected, rtol=1e-10, atol=1e-10)


def _jumps_near(f, x, eps=1e-4):
    """True when a truncation jumps within eps of x (finite differences cross it there)."""
    return any(_integer_part(f, x + d) != _integer_part(f, x)
               for d in (eps * e for e in np.vstack([np.eye(3), -np.eye(3)])))


# ---- float targets keep the derivative -----------------------------------------------------

def float_arange_item(x):
    a = np.arange(4.0)
    a[1] = x[0] * 2.0
    return np.sum(a * a) * x[1]


def float_zeros_slice(x):
    a = np.zeros(5)
    a[1:3] = x[0] * 3.0
    return np.sum(a * a) * x[1]


def float_dtype_mask(x):
    a = np.arange(5, dtype=float)
    a[a > 2] = x[0] * 5.0
    return np.sum(a) * x[1]


def float_literal_augmented(x):
    a = np.array([1.0, 2, 3])
    a[1:] += x[0] * 6.0
    return np.sum(a * a) * x[1]


def float_astype(x):
    a = np.arange(3).astype(np.float64)
    a[0] = x[2] * 7.0
    return np.sum(a * a) * x[1]


def float_full_like(x):
    return np.sum(np.full_like(np.arange(3.0), x[0] * 3.0) * np.arange(3.0)) * x[1]


FLOAT_PROGRAMS = {
    # f: (h(x), dh/dx0, dh/dx2) for f(x) = h(x) * x[1]
    float_arange_item: (lambda x: 4 * x[0] ** 2 + 13, lambda x: 8 * x[0], lambda x: 0.0),
    float_zeros_slice: (lambda x: 18 * x[0] ** 2, lambda x: 36 * x[0], lambda x: 0.0),
    float_dtype_mask: (lambda x: 3 + 10 * x[0], lambda x: 10.0, lambda x: 0.0),
    float_literal_augmented: (lambda x: 1 + (2 + 6 * x[0]) ** 2 + (3 + 6 * x[0]) ** 2,
                              lambda x: 12 * (2 + 6 * x[0]) + 12 * (3 + 6 * x[0]),
                              lambda x: 0.0),
    float_astype: (lambda x: 49 * x[2] ** 2 + 5, lambda x: 0.0, lambda x: 98 * x[2]),
    float_full_like: (lambda x: 9 * x[0], lambda x: 9.0, lambda x: 0.0),
}


@pytest.mark.parametrize("f", list(FLOAT_PROGRAMS), ids=lambda f: f.__name__)
def test_float_target_keeps_the_derivative(f):
    h, dh0, dh2 = FLOAT_PROGRAMS[f]
    expected = np.array([dh0(X) * X[1], h(X), dh2(X) * X[1]])
    v = np.array([0.3, -1.1, 0.8])
    grad, pulled, tangent, _ = _all_modes(f, X, v)
    np.testing.assert_allclose(central_gradient(f, X), expected, rtol=1e-6)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(pulled, expected, rtol=1e-12)
    np.testing.assert_allclose(tangent, expected @ v, rtol=1e-12)
    text = srcad.source(srcad.grad(f), X)
    assert "float_target" not in text and "augmented_write" not in text, text


# ---- dtype unknown while generating: a check at run time ------------------------------------

def write_into_argument_copy(x, a):
    b = a.copy()
    b[1] = x[0] * 2.0                    # <- checked
    return np.sum(b * b) * x[1]


@pytest.mark.parametrize("kind", ["grad", "jvp", "vjp", "hvp", "generic"])
def test_unknown_integer_target_is_an_error_at_the_users_line(kind):
    ints = np.arange(4)
    calls = {"grad": lambda: srcad.grad(write_into_argument_copy)(X, ints),
             "jvp": lambda: srcad.jvp(write_into_argument_copy)(X, ints, X),
             "vjp": lambda: srcad.vjp(write_into_argument_copy)(X, ints),
             "hvp": lambda: srcad.hvp(write_into_argument_copy)(X, ints, X),
             "generic": lambda: _generic_grad(ints)}
    with pytest.raises(MissingRuleError) as info:
        calls[kind]()
    location = info.value.location
    assert location.filename == __file__
    assert location.lineno == _marked_line(write_into_argument_copy)
    assert "int64" in str(info.value)


def _generic_grad(a):
    d = srcad.grad(write_into_argument_copy)
    for n in range(12):                  # beyond the specializations: generic code runs
        d(np.full(3, 0.5 + n), np.arange(4.0 + n))
    return d(X, a)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unknown_float_target_keeps_the_derivative(dtype):
    a = np.arange(4, dtype=dtype)
    h = 4 * X[0] ** 2 + 13
    expected = np.array([8 * X[0] * X[1], h, 0.0])
    got = srcad.grad(write_into_argument_copy)(X, a)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    v = np.array([0.3, -1.1, 0.8])
    tangent = srcad.jvp(write_into_argument_copy)(X, a, v)[1]
    np.testing.assert_allclose(tangent, expected @ v, rtol=1e-5)
    hessian = np.array([[8 * X[1], 8 * X[0], 0], [8 * X[0], 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(srcad.hvp(write_into_argument_copy)(X, a, v), hessian @ v,
                               rtol=1e-5, atol=1e-12)


def write_into_helper_result(x, n):
    a = make(n)
    a[0] = x[0] * 3.0                    # <- checked
    return np.sum(a * a) * x[1]


def make(n):
    return np.arange(n)


def full_like_argument(x, a):
    return np.sum(np.full_like(a, x[0] * 3.0)) * x[1]      # <- checked


def test_full_like_of_an_argument_is_checked():
    """An integer prototype: an error at the line; a float one: the derivative."""
    with pytest.raises(MissingRuleError) as info:
        srcad.grad(full_like_argument)(X, np.arange(4))
    assert info.value.location.lineno == _marked_line(full_like_argument)
    expected = np.array([12 * X[1], 12 * X[0], 0.0])
    np.testing.assert_allclose(srcad.grad(full_like_argument)(X, np.ones(4)), expected)
    np.testing.assert_allclose(srcad.jvp(full_like_argument)(X, np.ones(4), X)[1],
                               expected @ X)


def test_unknown_target_from_a_helper_is_checked():
    with pytest.raises(MissingRuleError) as info:
        srcad.grad(write_into_helper_result)(X, 3)
    assert info.value.location.lineno == _marked_line(write_into_helper_result)


def _marked_line(f):
    lines, start = inspect.getsourcelines(f)
    return start + next(i for i, line in enumerate(lines) if "# <- checked" in line)


# ---- augmented writes: NumPy's behaviour kept ------------------------------------------------

def augmented_slice(x):
    a = np.arange(4)
    a[1:3] += x[0]                       # <- checked
    return np.sum(a * a) * x[1]


def augmented_mask_constant(x):
    a = np.arange(4)
    a[a > 1] *= 1.5                      # <- checked
    return np.sum(a) * x[1]


def augmented_row(x):
    a = np.zeros((2, 3), dtype=int)
    a[0] += x                            # <- checked
    return np.sum(a) * x[1]


@pytest.mark.parametrize("f", [augmented_slice, augmented_mask_constant, augmented_row],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind", ["grad", "jvp", "vjp"])
def test_augmented_float_into_integer_part_raises_as_numpy_does(f, kind):
    with pytest.raises(TypeError):
        f(X)                             # NumPy's own behaviour
    calls = {"grad": lambda: srcad.grad(f)(X), "jvp": lambda: srcad.jvp(f)(X, X),
             "vjp": lambda: srcad.vjp(f)(X)}
    with pytest.raises(IntegerWriteError) as info:
        calls[kind]()
    assert isinstance(info.value, TypeError) and isinstance(info.value, SrcadError)
    assert info.value.location.lineno == _marked_line(f)


def augmented_int_value(x):
    a = np.arange(4)
    a[1:3] += 2
    return np.sum(a * a) * x[1]


def test_augmented_integer_value_into_integer_array_needs_no_check():
    text = srcad.source(srcad.grad(augmented_int_value), X)
    assert "augmented_write" not in text, text
    np.testing.assert_allclose(srcad.grad(augmented_int_value)(X),
                               [0.0, augmented_int_value(X) / X[1], 0.0])


def augmented_unknown(x, a):
    b = a.copy()
    b[1:3] += x[0]                       # <- checked
    return np.sum(b * b) * x[1]


def test_augmented_unknown_target():
    """An integer argument: NumPy's TypeError; a float one: the derivative passes."""
    with pytest.raises(IntegerWriteError):
        srcad.grad(augmented_unknown)(X, np.arange(4))
    got = srcad.grad(augmented_unknown)(X, np.arange(4.0))
    expected = np.array([2 * (1 + X[0]) + 2 * (2 + X[0]),
                         9 + (1 + X[0]) ** 2 + (2 + X[0]) ** 2, 0.0])
    expected[0] *= X[1]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(central_gradient(lambda x: augmented_unknown(x, np.arange(4.0)),
                                                X), expected, rtol=1e-6)


# ---- lists keep what is written ----------------------------------------------------------

def list_item(x):
    items = [0, 0]
    items[0] = x[0] * 2.0
    return items[0] * x[1]


def test_list_item_of_ints_keeps_a_float_written():
    expected = np.array([2 * X[1], 2 * X[0], 0.0])
    np.testing.assert_allclose(srcad.grad(list_item)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(srcad.jvp(list_item)(X, np.ones(3))[1], expected.sum())


def dtype_of_argument(x):
    a = np.zeros(3, dtype=x.dtype)
    a[1] = x[0] * 2.0
    m = x > 0
    b = np.zeros(2, dtype=m.dtype)
    b[0] = x[2] * 3.0
    return np.sum(a * a) * x[1] + np.sum(b) * x[1]


def test_dtype_read_off_a_local_array():
    """`dtype=x.dtype`: float for a differentiated x, boolean for a comparison's result."""
    text = srcad.source(srcad.grad(dtype_of_argument), X)
    assert "float_target" not in text, text
    expected = np.array([8 * X[0] * X[1], 4 * X[0] ** 2 + 1.0, 0.0])
    np.testing.assert_allclose(srcad.grad(dtype_of_argument)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(central_gradient(dtype_of_argument, X), expected, rtol=1e-6)
    v = np.array([0.3, -1.1, 0.8])
    np.testing.assert_allclose(srcad.jvp(dtype_of_argument)(X, v)[1], expected @ v)


def dtype_of_expression(x):
    b = np.zeros(2, dtype=(x > 0).dtype)
    b[0] = x[2] * 3.0                    # <- checked
    return np.sum(b) * x[1]


def test_dtype_generation_cannot_read_is_checked():
    with pytest.raises(MissingRuleError) as info:
        srcad.grad(dtype_of_expression)(X)
    assert info.value.location.lineno == _marked_line(dtype_of_expression)
    assert "bool" in str(info.value)


# ---- `x op= v` on a name: NumPy works in place on an array ---------------------------------

def augmented_name(x):
    a = np.arange(3)
    a += x                               # <- checked
    return np.sum(a)


def augmented_divide(x):
    a = np.arange(3)
    a //= 2
    a /= 2                               # <- checked
    return np.sum(a * x)


@pytest.mark.parametrize("f", [augmented_name, augmented_divide], ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind", ["grad", "jvp", "vjp"])
def test_augmented_name_of_integer_array_raises_as_numpy_does(f, kind):
    with pytest.raises(TypeError):
        f(X)
    calls = {"grad": lambda: srcad.grad(f)(X), "jvp": lambda: srcad.jvp(f)(X, X),
             "vjp": lambda: srcad.vjp(f)(X)}
    with pytest.raises(IntegerWriteError) as info:
        calls[kind]()
    assert info.value.location.lineno == _marked_line(f)


def augmented_numbers(x):
    n = 0
    n += 0.5
    s = np.int64(2)
    s += 0.5
    a = np.arange(3)
    a *= 3
    a //= 2
    return np.sum(x * n * s * a)


def test_augmented_numbers_rebind_and_integer_arrays_stay_integer():
    """`n += 0.5` on a number rebinds it (no error); integer into integer needs no check."""
    expected = 0.5 * 2.5 * (np.arange(3) * 3 // 2)
    np.testing.assert_allclose(srcad.grad(augmented_numbers)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(central_gradient(augmented_numbers, X), expected, rtol=1e-6)
    np.testing.assert_allclose(srcad.jvp(augmented_numbers)(X, X)[1], expected @ X)
    text = srcad.source(srcad.grad(augmented_numbers), X)
    assert text.count("augmented_assign") == 1, text      # only `s`, a NumPy number


def augmented_float(x, y):
    z = x * 2.0
    z += y
    z *= x
    return np.sum(z)


def test_augmented_float_name_has_no_check():
    y = np.array([0.5, 1.5, -2.0])
    text = srcad.source(srcad.grad(augmented_float, wrt=(0, 1)), X, y)
    assert "augmented_assign" not in text and "augmented_write" not in text, text
    gx, gy = srcad.grad(augmented_float, wrt=(0, 1))(X, y)
    np.testing.assert_allclose(gx, 4 * X + y, rtol=1e-12)
    np.testing.assert_allclose(gy, X, rtol=1e-12)


# ---- branches: the kinds of both sides joined --------------------------------------------

def branches(x, c):
    if c > 0:
        a = np.arange(3)
    else:
        a = np.arange(3) * 2
    b = a.copy()
    b[0] = x[0] * 3.0
    return np.sum(b) * x[1]


def mixed_branches(x, c):
    if c > 0:
        a = np.arange(3)
    else:
        a = np.arange(3.0)
    a[0] = x[0] * 3.0                    # <- checked
    return np.sum(a) * x[1]


def test_branches_of_one_kind_cut_and_of_two_kinds_check():
    assert "float_target" not in srcad.source(srcad.grad(branches), X, 1)
    for c, h in ((1, 6), (-1, 9)):
        np.testing.assert_allclose(srcad.grad(branches)(X, c), [0, h, 0])
        np.testing.assert_allclose(central_gradient(lambda x, c=c: branches(x, c), X), [0, h, 0],
                                   atol=1e-6)
    np.testing.assert_allclose(srcad.grad(mixed_branches)(X, -1), [3 * X[1], 3 * X[0] + 3, 0])
    with pytest.raises(MissingRuleError) as info:
        srcad.grad(mixed_branches)(X, 1)
    assert info.value.location.lineno == _marked_line(mixed_branches)


# ---- jacobian and hessian ------------------------------------------------------------------

def vector_out(x):
    a = np.arange(3)
    a[1] = x[0] * 2.0
    return a * x


def scalar_out(x):
    a = np.arange(3)
    a[1] = x[0] * 2.0
    return np.sum(a * x) * x[1]


def test_jacobian_and_hessian_through_an_integer_write():
    a = np.array([0.0, 2.0, 2.0])                     # np.arange(3) with a[1] = int(2.6)
    np.testing.assert_allclose(srcad.jacobian(vector_out)(X), np.diag(a))
    np.testing.assert_allclose(srcad.hessian(scalar_out)(X),
                               [[0, 0, 0], [0, 2 * a[1], a[2]], [0, a[2], 0]])
    columns = [(vector_out(X + e) - vector_out(X - e)) / 2e-6 for e in np.eye(3) * 1e-6]
    np.testing.assert_allclose(np.stack(columns, axis=1), np.diag(a), atol=1e-6)


# ---- a check whose statement the gradient does not need ----------------------------------

def unneeded_augmented(x0, x1):
    a = x0.copy()
    a += 0.5                             # <- checked
    return np.sum(np.sin(x1)) + np.sum(a)


@pytest.mark.parametrize("kind", ["grad", "vjp", "jvp"])
def test_check_of_a_statement_the_gradient_does_not_need(kind):
    """The statement stays for its check (it was dropped, leaving the check an undefined
    name); a float array passes, an integer one raises as NumPy does."""
    calls = {"grad": lambda a: srcad.grad(unneeded_augmented, wrt=1)(a, X),
             "vjp": lambda a: srcad.vjp(unneeded_augmented, wrt=1)(a, X)[1](1.0),
             "jvp": lambda a: srcad.jvp(unneeded_augmented, wrt=1)(a, X, np.ones(3))[1]}
    expected = np.cos(X) if kind != "jvp" else np.sum(np.cos(X))
    np.testing.assert_allclose(calls[kind](np.arange(3.0)), expected, rtol=1e-12)
    with pytest.raises(IntegerWriteError) as info:
        calls[kind](np.arange(3))
    assert info.value.location.lineno == _marked_line(unneeded_augmented)
