"""Exact semantics (issue 12, classes 3, 4, 8, 9 and 10): what srcad differentiates is what
NumPy and Python run, or a SrcadError naming the user's line.

Each derivative is checked against central finite differences and an independent result:
autograd (through `autograd.numpy` twins of the functions), NumPy's own execution of a linear
map (repeated-index writes), or an analytic formula (cofactors, limits); in both modes, and to
second order (`hessian`, `hvp`) where the function is smooth there.
"""

import math
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from tests.support.compare import central_gradient

RNG = np.random.default_rng(12)


# ---- shared checks ---------------------------------------------------------------------------
def fd_grad(f, args, wrt=0, eps=1e-6):
    """Central-difference gradient of the scalar `f` in argument `wrt` (array or float)."""
    x = args[wrt]
    if isinstance(x, float):
        up = f(*args[:wrt], x + eps, *args[wrt + 1:])
        down = f(*args[:wrt], x - eps, *args[wrt + 1:])
        return (up - down) / (2 * eps)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        up = f(*args[:wrt], x + step, *args[wrt + 1:])
        down = f(*args[:wrt], x - step, *args[wrt + 1:])
        g[i] = (up - down) / (2 * eps)
    return g


def direction(x):
    return float(RNG.standard_normal()) if isinstance(x, float) else \
        RNG.standard_normal(np.shape(x))


def check_both_modes(f, args, expected, wrt=0, fd=True):
    """srcad's gradient of `f` equals `expected` (and finite differences), and its forward-mode
    derivative along a random direction equals `<expected, v>`."""
    g = srcad.grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12)
    if fd:
        np.testing.assert_allclose(g, fd_grad(f, args, wrt), rtol=1e-5, atol=1e-6)
    v = direction(args[wrt])
    value, tangent = srcad.jvp(f, wrt=wrt)(*args, v)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(tangent, np.sum(np.asarray(expected) * v), rtol=1e-9,
                               atol=1e-12)
    _, pullback = srcad.vjp(f, wrt=wrt)(*args)
    np.testing.assert_allclose(pullback(1.0), expected, rtol=1e-9, atol=1e-12)


def check_second_order(f, args, expected_hessian, wrt=0):
    """srcad's Hessian (forward over reverse) and Hessian-vector product equal the reference,
    and central differences of srcad's gradient."""
    x = args[wrt]
    size = int(np.size(x))
    H = np.reshape(srcad.hessian(f, wrt=wrt)(*args), (size, size))
    np.testing.assert_allclose(H, np.reshape(expected_hessian, (size, size)), rtol=1e-8,
                               atol=1e-10)
    grad = srcad.grad(f, wrt=wrt)
    numeric = np.reshape(fd_grad(lambda *a: np.ravel(grad(*a)), args, wrt), (size, size)) \
        if isinstance(x, float) else np.stack(
            [np.ravel(fd_grad(lambda *a, k=k: np.ravel(grad(*a))[k], args, wrt))
             for k in range(size)])
    np.testing.assert_allclose(H, numeric, rtol=1e-5, atol=1e-5)
    v = direction(x)
    hv = srcad.hvp(f, wrt=wrt)(*args, v)
    np.testing.assert_allclose(np.ravel(hv), H @ np.ravel(v), rtol=1e-8, atol=1e-10)


def check_against_autograd(f, twin, args, wrt=0, second_order=True):
    expected = autograd.grad(twin, wrt)(*args)
    check_both_modes(f, args, expected, wrt)
    if second_order:
        check_second_order(f, args, autograd.hessian(twin, wrt)(*args), wrt)


def error_at(exc_info, text):
    """The SrcadError names this file and quotes the user's line `text`."""
    message = str(exc_info.value)
    assert "test_exact_semantics.py" in message and text in message, message


# ---- class 3: writes through an index that names an entry twice ------------------------------
def write_rows(x, idx):
    out = np.zeros(4)
    out[idx] = x
    return np.sum(np.sin(out) * np.arange(1.0, 5.0))


def write_rows_literal(x):
    out = np.zeros(3)
    out[[0, 0, 1]] = x
    return np.sum(np.sin(out) * np.arange(1.0, 4.0))


def write_column(x, idx):
    out = np.ones((3, 2))
    out[idx, 1] = x
    return np.sum(np.sin(out) * out)


def add_through_repeats(x, idx):
    out = np.zeros(4)
    out[idx] += x                       # NumPy: one write per entry, the last one
    return np.sum(np.sin(out) * np.arange(1.0, 5.0))


def write_scalar(v, idx):
    out = np.zeros(4)
    out[idx] = v
    return np.sum(np.sin(out) * np.arange(1.0, 5.0))


def write_grid(x, idx):
    out = np.zeros((3, 3))
    out[idx] = x
    return np.sum(np.sin(out) * np.arange(9.0).reshape(3, 3))


def write_in_a_loop(x, idx):
    out = np.zeros(4)
    for k in range(2):
        out[idx] = x * (k + 1)
    return np.sum(np.sin(out) * np.arange(1.0, 5.0))


def linear_map(write, x_shape, *rest):
    """The matrix of `x -> out` for a function whose `out` is written from x (NumPy runs the
    write on each unit vector: its own semantics, independent of srcad)."""
    def out_of(x):
        captured = {}

        def sin(v):
            captured["out"] = v
            return saved(v)
        saved, np.sin = np.sin, sin
        try:
            write(x, *rest)
        finally:
            np.sin = saved
        return np.ravel(captured["out"])
    base = out_of(np.zeros(x_shape))
    size = int(np.prod(x_shape))
    columns = [out_of(np.eye(size)[k].reshape(x_shape)) - base for k in range(size)]
    return np.stack(columns, axis=1), base


REPEATED = [
    (write_rows, np.array([0.3, -0.7, 1.1, 0.4, 2.0]), np.array([0, 2, 0, 1, 2])),
    (write_rows, np.array([0.3, -0.7, 1.1]), np.array([1, -3, 3])),       # 1 and -3 alike
    (write_rows, np.array([0.3, -0.7, 1.1]), [2, 2, 2]),                  # a list index
    (write_column, np.array([0.5, 1.5, -0.5]), np.array([2, 2, 0])),
    (add_through_repeats, np.array([0.3, -0.7, 1.1, 0.4]), np.array([3, 3, 1, 3])),
    (write_grid, np.array([[0.2, 0.4], [0.6, 0.8]]), (np.array([[0, 0], [2, 0]]),
                                                      np.array([[1, 1], [2, 1]]))),
    (write_in_a_loop, np.array([0.3, -0.7, 1.1]), np.array([0, 0, 3])),
    (write_rows, np.array([0.3, -0.7]), np.array([True, False, False, True])),   # a mask
    (write_rows, np.array([0.3, -0.7]), slice(1, 3)),
]


@pytest.mark.parametrize("f, x, idx", REPEATED, ids=range(len(REPEATED)))
def test_repeated_index_writes_keep_the_last_value(f, x, idx):
    J, base = linear_map(f, x.shape, idx)
    out = J @ np.ravel(x) + base
    weights = (np.arange(9.0) if f is write_grid else np.arange(1.0, 5.0)) \
        if f is not write_column else None
    if f is write_column:        # sum(sin(out) * out): derivative sin + out * cos
        slope = np.sin(out) + out * np.cos(out)
        curvature = 2 * np.cos(out) - out * np.sin(out)
    else:
        weights = weights[:out.size]
        slope, curvature = weights * np.cos(out), -weights * np.sin(out)
    expected = (J.T @ slope).reshape(x.shape)
    check_both_modes(f, (x, idx), expected)
    check_second_order(f, (x, idx), J.T @ np.diag(curvature) @ J)


def test_repeated_index_with_a_literal_index():
    x = np.array([0.3, -0.7, 1.1])
    w = np.arange(1.0, 4.0)
    expected = np.array([0.0, w[0] * np.cos(x[1]), w[1] * np.cos(x[2])])
    check_both_modes(write_rows_literal, (x,), expected)
    check_second_order(write_rows_literal, (x,), np.diag([0.0, -w[0] * np.sin(x[1]),
                                                          -w[1] * np.sin(x[2])]))


@pytest.mark.parametrize("idx", [np.array([0, 0, 1]), np.array([3, 1, 3, 3]), [2, 2]])
def test_a_scalar_written_at_repeated_entries_counts_each_entry_once(idx):
    v = 0.4
    entries = np.unique(np.asarray(idx) % 4)
    expected = float(np.sum((entries + 1.0) * np.cos(v)))
    check_both_modes(write_scalar, (v, idx), expected)
    check_second_order(write_scalar, (v, idx), -np.sum((entries + 1.0) * np.sin(v)))


@given(hnp.arrays(np.int64, st.integers(1, 8), elements=st.integers(0, 3)),
       st.integers(0, 1000))
def test_repeated_index_writes_random(idx, seed):
    x = np.random.default_rng(seed).standard_normal(idx.shape)
    J, base = linear_map(write_rows, x.shape, idx)
    out = J @ x + base
    expected = J.T @ (np.arange(1.0, 5.0) * np.cos(out))
    np.testing.assert_allclose(srcad.grad(write_rows)(x, idx), expected, rtol=1e-12,
                               atol=1e-14)
    v = np.random.default_rng(seed + 1).standard_normal(idx.shape)
    np.testing.assert_allclose(srcad.jvp(write_rows)(x, idx, v)[1], expected @ v,
                               rtol=1e-9, atol=1e-12)


# ---- class 4: list, tuple and dict literals carried into helpers -----------------------------
def pair_product(items):
    return items[0] * items[1]


def scaled(a, b=None, scale=1.0):
    return a * b[0] * scale + b[1]


def weighted(params):
    return params["w"] * params["inner"]["v"] + params["inner"]["b"]


def affine(parts):
    return parts[0] @ parts[1] + parts[2]


def list_literal(x):
    return np.sum(np.tanh(pair_product([x, 2.0 * x])))


def list_literal_twin(x):
    return anp.sum(anp.tanh(pair_product([x, 2.0 * x])))


def tuple_literal(x):
    return np.sum(np.sin(pair_product((x, x * x))))


def tuple_literal_twin(x):
    return anp.sum(anp.sin(pair_product((x, x * x))))


def same_array_twice(x):
    return np.sum(pair_product([x, x]) ** 2)


def same_array_twice_twin(x):
    return anp.sum(pair_product([x, x]) ** 2)


def keyword_literal(x):
    return np.sum(np.tanh(scaled(x, b=[x * x, 3.0 * x], scale=0.5)))


def keyword_literal_twin(x):
    return anp.sum(anp.tanh(scaled(x, b=[x * x, 3.0 * x], scale=0.5)))


def keyword_in_any_order(x):
    return np.sum(np.tanh(scaled(scale=2.0, b=(x, 1.0), a=np.sin(x))))


def keyword_in_any_order_twin(x):
    return anp.sum(anp.tanh(scaled(scale=2.0, b=(x, 1.0), a=anp.sin(x))))


def dict_literal(x):
    return np.sum(np.tanh(weighted({"w": x, "inner": {"v": x * x, "b": 2.0 * x}})))


def dict_literal_twin(x):
    return anp.sum(anp.tanh(weighted({"w": x, "inner": {"v": x * x, "b": 2.0 * x}})))


def dict_through_a_name(x):
    inner = {"v": np.sin(x), "b": x}
    params = {"w": x, "inner": inner}
    return np.sum(weighted(params) ** 2)


def dict_through_a_name_twin(x):
    inner = {"v": anp.sin(x), "b": x}
    params = {"w": x, "inner": inner}
    return anp.sum(weighted(params) ** 2)


W23 = RNG.standard_normal((2, 3))


def mixed_shapes(x):
    return np.sum(np.tanh(affine([W23 * x[0], x, x[:2]])))


def mixed_shapes_twin(x):
    return anp.sum(anp.tanh(affine([W23 * x[0], x, x[:2]])))


LITERALS = [(list_literal, list_literal_twin), (tuple_literal, tuple_literal_twin),
            (same_array_twice, same_array_twice_twin),
            (keyword_literal, keyword_literal_twin),
            (keyword_in_any_order, keyword_in_any_order_twin),
            (dict_literal, dict_literal_twin), (dict_through_a_name, dict_through_a_name_twin),
            (mixed_shapes, mixed_shapes_twin)]


@pytest.mark.parametrize("f, twin", LITERALS, ids=[f.__name__ for f, _ in LITERALS])
def test_literals_carry_derivatives_into_helpers(f, twin):
    check_against_autograd(f, twin, (np.array([0.3, -0.8, 1.2]),))


def nested_dict_argument(params):
    return np.sum(np.tanh(weighted(params)))


def nested_dict_argument_twin(params):
    return anp.sum(anp.tanh(weighted(params)))


def test_nested_dict_arguments_in_both_modes():
    params = {"w": np.array([0.5, -1.0]), "inner": {"v": np.array([2.0, 0.3]),
                                                     "b": np.array([0.1, 0.2])}}
    g = srcad.grad(nested_dict_argument)(params)
    expected = autograd.grad(nested_dict_argument_twin)(params)
    for key in ("w",):
        np.testing.assert_allclose(g[key], expected[key], rtol=1e-12)
    for key in ("v", "b"):
        np.testing.assert_allclose(g["inner"][key], expected["inner"][key], rtol=1e-12)
    tangent = {"w": np.ones(2), "inner": {"v": np.array([1.0, -1.0]), "b": np.zeros(2)}}
    _, dy = srcad.jvp(nested_dict_argument)(params, tangent)
    flat = expected["w"] @ tangent["w"] + expected["inner"]["v"] @ tangent["inner"]["v"]
    np.testing.assert_allclose(dy, flat, rtol=1e-12)


def layers_energy(layers, x):
    total = 0.0
    for layer in layers:
        weights = layer
        x = np.tanh(weights[0] @ x + weights[1])
        total = total + np.sum(x * x)
    return total


def layers_energy_twin(layers, x):
    total = 0.0
    for layer in layers:
        weights = layer
        x = anp.tanh(anp.dot(weights[0], x) + weights[1])
        total = total + anp.sum(x * x)
    return total


def test_a_list_of_lists_of_arrays_of_different_shapes():
    layers = [[RNG.standard_normal((3, 2)), RNG.standard_normal(3)],
              [RNG.standard_normal((2, 3)), RNG.standard_normal(2)]]
    x = np.array([0.5, -0.4])
    g = srcad.grad(layers_energy)(layers, x)
    expected = autograd.grad(layers_energy_twin)(layers, x)
    for got, want in zip(g, expected):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-10)
    check_against_autograd(layers_energy, layers_energy_twin, (layers, x), wrt=1)


def literal_around_a_list(xs, x):
    return np.sum(np.sin(pair_product([xs[0] * xs[1], x])))


def literal_around_a_list_twin(xs, x):
    return anp.sum(anp.sin(pair_product([xs[0] * xs[1], x])))


def test_a_literal_holding_items_of_a_list_argument():
    xs = [np.array([0.3, 1.0]), np.array([-0.5, 2.0])]
    x = np.array([1.5, -0.2])
    g = srcad.grad(literal_around_a_list)(xs, x)
    expected = autograd.grad(literal_around_a_list_twin)(xs, x)
    for got, want in zip(g, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    check_against_autograd(literal_around_a_list, literal_around_a_list_twin, (xs, x), wrt=1)


def keyword_only_helper(a, *, scale, shift=0.0):
    return a * scale + shift


def calls_keyword_only(x):
    return np.sum(np.sin(keyword_only_helper(x, scale=x * x, shift=x)))


def calls_keyword_only_twin(x):
    return anp.sum(anp.sin(keyword_only_helper(x, scale=x * x, shift=x)))


def test_keyword_only_parameters_of_a_helper():
    check_against_autograd(calls_keyword_only, calls_keyword_only_twin,
                           (np.array([0.4, -1.1, 0.9]),))


# ---- class 8: a list the function builds, written item by item -------------------------------
def replace_item(x):
    items = [x, x]
    items[1] = x * x
    return np.sum(items[0] * items[1])


def replace_item_twin(x):
    items = [x, x]
    items[1] = x * x
    return anp.sum(items[0] * items[1])


def replace_appended(x):
    items = []
    items.append(x)
    items.append(np.sin(x))
    items[0] = items[1] * x
    return np.sum(items[0] + items[1] ** 2)


def replace_appended_twin(x):
    items = []
    items.append(x)
    items.append(anp.sin(x))
    items[0] = items[1] * x
    return anp.sum(items[0] + items[1] ** 2)


def replace_in_a_loop(x):
    items = [x, 2.0 * x, 3.0 * x]
    for i in range(3):
        items[i] = np.tanh(items[i]) * x
    return np.sum(items[0] * items[1] + items[2])


def replace_in_a_loop_twin(x):
    items = [x, 2.0 * x, 3.0 * x]
    for i in range(3):
        items[i] = anp.tanh(items[i]) * x
    return anp.sum(items[0] * items[1] + items[2])


def replace_with_another_shape(x):
    items = [x, 1.0]
    items[1] = np.sum(x * x)
    return np.sum(items[0]) * items[1]


def replace_with_another_shape_twin(x):
    items = [x, 1.0]
    items[1] = anp.sum(x * x)
    return anp.sum(items[0]) * items[1]


LIST_WRITES = [(replace_item, replace_item_twin), (replace_appended, replace_appended_twin),
               (replace_in_a_loop, replace_in_a_loop_twin),
               (replace_with_another_shape, replace_with_another_shape_twin)]


@pytest.mark.parametrize("f, twin", LIST_WRITES, ids=[f.__name__ for f, _ in LIST_WRITES])
def test_list_item_assignment_in_both_modes(f, twin):
    check_against_autograd(f, twin, (np.array([0.7, -0.2, 1.3]),))


def write_into_an_item(x):
    items = [x.copy(), x]
    items[1][0] = 5.0                   # writes into x itself
    return np.sum(items[0] * items[1])


def add_into_an_item(x):
    items = [x, x]
    items[0] += 1.0                     # NumPy adds into x in place
    return np.sum(items[0])


@pytest.mark.parametrize("f, line", [(write_into_an_item, "items[1][0] = 5.0"),
                                     (add_into_an_item, "items[0] += 1.0")])
def test_writes_into_the_arrays_of_a_list_are_still_rejected(f, line):
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(np.ones(3))
    error_at(caught, line)


# ---- class 9: limits, complex inputs, no return ----------------------------------------------
def power_zero_literal(x):
    return np.sum(x ** 0 + x ** 2 + np.power(x, 0) * x + x ** -0.0 + np.power(x, 2))


def power_zero_literal_twin(x):
    return anp.sum(x ** 0 + x ** 2 + anp.power(x, 0) * x + x ** -0.0 + anp.power(x, 2))


def polynomial(x, c):
    total = 0.0
    for k in range(c.shape[0]):
        total = total + c[k] * x ** k
    return np.sum(total)


def polynomial_twin(x, c):
    total = 0.0
    for k in range(c.shape[0]):
        total = total + c[k] * x ** k
    return anp.sum(total)


def power_function(x, n):
    return np.sum(np.power(x, n) * np.cos(x))


def power_function_twin(x, n):
    return anp.sum(anp.power(x, n) * anp.cos(x))


def python_power(x, n):
    return x ** n + math.pow(x, n) + math.pow(x, 0) * x + x ** 0


def python_power_twin(x, n):
    return x ** n + x ** n + x + 1.0


@pytest.mark.parametrize("x", [0.0, np.zeros(3), np.array([0.0, 1.5, -2.0])],
                         ids=["float", "zeros", "mixed"])
def test_power_zero_has_its_limit(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_against_autograd(polynomial, polynomial_twin, (x, np.array([1.0, 2.0, 3.0, 4.0])))
        if not isinstance(x, float):
            check_against_autograd(power_zero_literal, power_zero_literal_twin, (x,))
            for n in (0, 1, 2):
                check_against_autograd(power_function, power_function_twin, (x, n))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_power_of_a_python_zero(n):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_against_autograd(python_power, python_power_twin, (0.0, n))


def std_all(x):
    return np.std(x) + np.var(x)


def std_all_twin(x):
    return anp.std(x) + anp.var(x)


def std_rows(x):
    return np.sum(np.std(x, axis=0)) + np.sum(x.std(axis=0, keepdims=True) * x)


def std_rows_twin(x):
    return anp.sum(anp.std(x, axis=0)) + anp.sum(anp.std(x, axis=0, keepdims=True) * x)


@pytest.mark.parametrize("f, twin, x", [
    (std_all, std_all_twin, np.array([2.0])),
    (std_all, std_all_twin, np.array([[-1.5]])),
    (std_rows, std_rows_twin, np.array([[1.0, 2.0, -3.0]])),
    (std_all, std_all_twin, np.array([1.0, 2.0, -3.0])),      # the usual case, unchanged
], ids=["one", "one-2d", "rows-of-one", "three"])
def test_std_of_one_element_has_derivative_zero_as_autograd(f, twin, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_against_autograd(f, twin, (x,), second_order=x.size > 1)
        if x.size == 1:
            np.testing.assert_array_equal(srcad.grad(f)(x), np.zeros_like(x))
            np.testing.assert_array_equal(srcad.hessian(f)(x).ravel(), np.zeros(1))


def square_sum(x):
    return np.sum(x * x)


def square_items(items):
    return np.sum(items[0] * items[1])


@pytest.mark.parametrize("x", [np.array([1.0 + 1.0j, 2.0]), 1j, np.complex64(2.0),
                               np.array([1.0, 2.0], dtype=np.complex64)])
@pytest.mark.parametrize("how", ["grad", "jvp", "vjp", "hvp", "hessian"])
def test_complex_inputs_are_an_error(x, how):
    calls = {"grad": lambda: srcad.grad(square_sum)(x),
             "jvp": lambda: srcad.jvp(square_sum)(x, x),
             "vjp": lambda: srcad.vjp(square_sum)(x),
             "hvp": lambda: srcad.hvp(square_sum)(x, x),
             "hessian": lambda: srcad.hessian(square_sum)(x)}
    with pytest.raises(srcad.SrcadError, match="complex"):
        calls[how]()


@pytest.mark.parametrize("items", [[np.ones(2), np.array([1j, 0.0])],
                                   {"a": np.ones(2), "b": np.ones(2) * 1j}])
def test_complex_values_inside_containers_are_an_error(items):
    f = square_items if isinstance(items, list) else square_dict
    with pytest.raises(srcad.SrcadError, match="complex"):
        srcad.grad(f)(items)


def square_dict(items):
    return np.sum(items["a"] * items["b"])


def no_return(x):
    y = x * 2.0
    print(y)


def bare_return(x):
    if np.sum(x) > 0:
        return
    print(x)


def return_none(x):
    print(np.sin(x))
    return None


def helper_without_return(x):
    np.sin(x)


def calls_helper_without_return(x):
    y = helper_without_return(x)
    return np.sum(x) * y


@pytest.mark.parametrize("f, line", [(no_return, "def no_return(x):"),
                                     (bare_return, "def bare_return(x):"),
                                     (return_none, "def return_none(x):"),
                                     (calls_helper_without_return,
                                      "def helper_without_return(x):")])
@pytest.mark.parametrize("how", ["grad", "jvp"])
def test_a_function_that_returns_nothing_is_an_error_at_its_def(f, line, how):
    x = np.array([1.0, -2.0])
    with pytest.raises(srcad.SrcadError, match="returns nothing") as caught:
        if how == "grad":
            srcad.grad(f)(x)
        else:
            srcad.jvp(f)(x, x)
    error_at(caught, line)


# ---- class 10: what crashed inside srcad -----------------------------------------------------
def rnn_loss(h, W, xs):
    losses = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        losses.append(np.sum(h * h))
    return np.mean(losses)


def rnn_loss_twin(h, W, xs):
    losses = []
    for t in range(xs.shape[0]):
        h = anp.tanh(anp.dot(W, h) + xs[t])
        losses.append(anp.sum(h * h))
    return anp.mean(anp.array(losses))


def mean_of_arrays(x):
    pieces = []
    for k in range(3):
        pieces.append(np.sin(x * k))
    return np.sum(np.mean(pieces, axis=0) ** 2) + np.std(pieces)


def mean_of_arrays_twin(x):
    pieces = []
    for k in range(3):
        pieces.append(anp.sin(x * k))
    stacked = anp.array(pieces)
    return anp.sum(anp.mean(stacked, axis=0) ** 2) + anp.std(stacked)


@pytest.mark.parametrize("wrt", [0, 1])
def test_mean_over_a_list_of_losses(wrt):
    args = (np.array([0.1, -0.3]), RNG.standard_normal((2, 2)) * 0.5,
            RNG.standard_normal((4, 2)))
    check_against_autograd(rnn_loss, rnn_loss_twin, args, wrt=wrt)


def test_mean_and_std_over_a_list_of_arrays():
    check_against_autograd(mean_of_arrays, mean_of_arrays_twin, (np.array([0.4, -1.0, 2.0]),))


def dot_list(values, w):
    return np.dot(values, w) * values[0]


def array_of_list(values):
    return np.sum(np.array(values) ** 3)


def loop_over_list(values):
    total = 0.0
    for v in values:
        total = total + np.sin(v) * v
    return total


@pytest.mark.parametrize("f, expected", [
    (dot_list, lambda v: [3.0 * v[0] + (3.0 * v[0] + 4.0 * v[1]), 4.0 * v[0]]),
    (array_of_list, lambda v: [3.0 * v[0] ** 2, 3.0 * v[1] ** 2]),
    (loop_over_list, lambda v: [math.cos(a) * a + math.sin(a) for a in v]),
])
@pytest.mark.parametrize("kind", [list, tuple])
def test_a_list_of_floats_as_an_argument(f, expected, kind):
    values = kind([0.5, -1.5])
    args = (values, np.array([3.0, 4.0])) if f is dot_list else (values,)
    g = srcad.grad(f)(*args)
    assert isinstance(g, (list, tuple)) and len(g) == 2
    np.testing.assert_allclose(np.asarray(g, dtype=float), expected(values), rtol=1e-12)
    _, dy = srcad.jvp(f)(*args, kind([1.0, 0.0]))
    np.testing.assert_allclose(dy, expected(values)[0], rtol=1e-12)
    eps = 1e-6                           # second order: central differences of the gradient
    up = srcad.grad(f)(kind([values[0] + eps, values[1]]), *args[1:])
    down = srcad.grad(f)(kind([values[0] - eps, values[1]]), *args[1:])
    numeric = (np.asarray(up, dtype=float) - np.asarray(down, dtype=float)) / (2 * eps)
    hv = srcad.hvp(f)(*args, kind([1.0, 0.0]))
    np.testing.assert_allclose(np.asarray(hv, dtype=float), numeric, rtol=1e-5, atol=1e-6)


def backwards_range(x):
    total = 0.0
    for i in reversed(range(1, x.shape[0])):
        total = total * 0.5 + np.sin(x[i]) * i
    return total


def backwards_range_twin(x):
    total = 0.0
    for i in reversed(range(1, x.shape[0])):
        total = total * 0.5 + anp.sin(x[i]) * i
    return total


def backwards_rows(x):
    total = 0.0
    for row in reversed(x):
        total = np.tanh(total + row)
    return np.sum(total)


def backwards_rows_twin(x):
    total = 0.0
    for row in reversed(list(x)):
        total = anp.tanh(total + row)
    return anp.sum(total)


def counted_from_one(x):
    total = 0.0
    for i, v in enumerate(x, 1):
        total = total + np.sin(v) * i
    return total


def counted_from_one_twin(x):
    total = 0.0
    for i, v in enumerate(x, 1):
        total = total + anp.sin(v) * i
    return total


def counted_from_keyword(x):
    total = 0.0
    for i, v in enumerate(x, start=-2):
        total = total + v * v * i
    return total


def counted_from_keyword_twin(x):
    total = 0.0
    for i, v in enumerate(x, start=-2):
        total = total + v * v * i
    return total


LOOPS = [(backwards_range, backwards_range_twin), (counted_from_one, counted_from_one_twin),
         (counted_from_keyword, counted_from_keyword_twin)]


@pytest.mark.parametrize("f, twin", LOOPS, ids=[f.__name__ for f, _ in LOOPS])
def test_reversed_and_enumerate_with_a_start(f, twin):
    check_against_autograd(f, twin, (np.array([0.3, -1.2, 0.8, 2.0]),))


def test_reversed_rows():
    check_against_autograd(backwards_rows, backwards_rows_twin,
                           (np.array([[0.3, -1.2], [0.8, 2.0], [0.1, 0.0]]),))


def flat_concatenate(x, M):
    return np.sum(np.concatenate([x, M * x[0], x[::-1]], axis=None) ** 3)


def flat_concatenate_twin(x, M):
    return anp.sum(anp.concatenate([x, anp.ravel(M * x[0]), x[::-1]]) ** 3)


@pytest.mark.parametrize("wrt", [0, 1])
def test_concatenate_without_an_axis(wrt):
    check_against_autograd(flat_concatenate, flat_concatenate_twin,
                           (np.array([0.5, -1.0]), RNG.standard_normal((2, 3))), wrt=wrt)


def vector_times_stack(v, S):
    return np.sum(np.sin(v @ S))


def vector_times_stack_twin(v, S):
    return anp.sum(anp.sin(anp.matmul(v, S)))


def stack_times_vector(S, v):
    return np.sum(np.sin(S @ v))


def stack_times_vector_twin(S, v):
    return anp.sum(anp.sin(anp.matmul(S, v)))


@pytest.mark.parametrize("f, twin, shapes", [
    (vector_times_stack, vector_times_stack_twin, [(2,), (4, 2, 3)]),
    (vector_times_stack, vector_times_stack_twin, [(2,), (2, 3)]),
    (vector_times_stack, vector_times_stack_twin, [(3,), (2, 1, 3, 2)]),
    (stack_times_vector, stack_times_vector_twin, [(4, 2, 3), (3,)]),
])
@pytest.mark.parametrize("wrt", [0, 1])
def test_matmul_of_a_vector_and_a_stack(f, twin, shapes, wrt):
    args = tuple(RNG.standard_normal(shape) for shape in shapes)
    check_against_autograd(f, twin, args, wrt=wrt, second_order=np.size(args[wrt]) <= 12)


def determinant(A):
    return np.linalg.det(A)


def cofactors(A):
    n = A.shape[0]
    C = np.zeros_like(A)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(A, i, 0), j, 1)
            C[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return C


@pytest.mark.parametrize("A", [np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((3, 3)),
                               np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]),
                               np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),
                               np.array([[0.0]])])
def test_det_at_a_singular_matrix_is_its_cofactor_matrix(A):
    check_both_modes(determinant, (A,), cofactors(A), fd=A.shape[0] > 1)


def test_det_of_a_stack_with_a_singular_matrix():
    A = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.5], [0.0, 3.0]]])
    _, pullback = srcad.vjp(determinant)(A)
    np.testing.assert_allclose(pullback(np.array([1.0, 2.0])),
                               np.stack([cofactors(A[0]), 2.0 * cofactors(A[1])]), rtol=1e-12,
                               atol=1e-14)


def test_second_derivative_of_det_at_a_singular_matrix_is_a_clear_error():
    with pytest.raises(srcad.SrcadError, match="singular"):
        srcad.hessian(determinant)(np.array([[1.0, 2.0], [2.0, 4.0]]))
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    check_second_order(determinant, (A,), autograd.hessian(anp.linalg.det)(A))


def inner_with_a_scalar(v):
    return np.sum(np.sin(np.inner(1.5, v)) + np.inner(v, -2.0) * v)


def inner_with_a_scalar_twin(v):
    return anp.sum(anp.sin(1.5 * v) + (v * -2.0) * v)


def test_inner_with_a_scalar():
    check_against_autograd(inner_with_a_scalar, inner_with_a_scalar_twin,
                           (np.array([0.3, -0.4, 2.0]),))


def from_scalars(a, b):
    v = np.array([a, b * a, np.sin(b)])
    return np.sum(v ** 3) * a


def from_scalars_twin(a, b):
    v = anp.array([a, b * a, anp.sin(b)])
    return anp.sum(v ** 3) * a


@pytest.mark.parametrize("wrt", [0, 1])
def test_hessian_through_an_array_of_scalars(wrt):
    check_against_autograd(from_scalars, from_scalars_twin, (0.7, -1.3), wrt=wrt)


def from_arrays(x):
    M = np.array([x, x * x])
    return np.sum(np.tanh(M) * M)


def from_arrays_twin(x):
    M = anp.array([x, x * x])
    return anp.sum(anp.tanh(M) * M)


def test_hessian_through_an_array_of_arrays():
    check_against_autograd(from_arrays, from_arrays_twin, (np.array([0.2, -0.9, 1.4]),))


def augmented_broadcast(x, y):
    a = x * 2.0
    a += y                                      # NumPy raises when y broadcasts `a` larger
    return np.sum(a * a)


def augmented_accumulators(x, y):
    s = 0.0
    s += x                                      # a Python number: `+=` rebinds it
    a = x * 1.5
    a += y                                      # y broadcasts into a's own shape
    return np.sum(s * a)


def test_augmented_assignment_keeps_numpys_in_place_shape_rule():
    """`a += y` writes into `a`: where NumPy raises (y broadcasts `a` to a larger shape) srcad
    raises at the user's line in every mode; where it does not, the derivative is exact."""
    x, wide = np.array([0.3, -0.7, 1.1]), np.ones((2, 3))
    with pytest.raises(ValueError):
        augmented_broadcast(x, wide)
    for call in (lambda: srcad.grad(augmented_broadcast)(x, wide),
                 lambda: srcad.vjp(augmented_broadcast)(x, wide),
                 lambda: srcad.jvp(augmented_broadcast)(x, wide, x),
                 lambda: srcad.hvp(augmented_broadcast)(x, wide, x)):
        with pytest.raises(srcad.ShapeMismatchError, match="in place") as info:
            call()
        assert "a += y" in str(info.value)
    for y in (np.array([0.5, 0.25, -1.0]), 0.5):
        got = srcad.grad(augmented_accumulators)(x, y)
        np.testing.assert_allclose(got, 3.0 * x + y, rtol=1e-12)   # d/dx sum(x (1.5 x + y))
        np.testing.assert_allclose(
            got, central_gradient(lambda v, y=y: augmented_accumulators(v, y), x), rtol=1e-7)
