"""Deny by default (issue 12, classes 1 and 2): a differentiated value that reaches something
srcad cannot differentiate is a SrcadError naming the user's line, never a zero.

Every form runs in both modes (grad and jvp). A form srcad differentiates is checked against
central finite differences and an analytic formula; a form it rejects must raise a SrcadError
whose location is the line marked `# <- denied` in this file, before any number is returned.
The in-place writers are also taken from NumPy's own API (`srcad.inplace.derive`), and each is
rejected in a generated module.
"""

import importlib.util
import inspect
import math
import operator
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad
from srcad import inplace
from srcad.testing import check_grads

C = np.array([0.5, -1.0, 2.0])
C33 = np.arange(9.0).reshape(3, 3)
RNG = np.random.default_rng(0)
STATE = np.random.RandomState(0)
X = np.array([1.3, 2.6, 0.4])
V = np.array([0.7, -0.2, 1.1])


def _derivatives(f, x, v):
    """(gradient, directional derivative along v) from srcad."""
    return srcad.grad(f)(x), srcad.jvp(f)(x, v)[1]


def _finite_difference(f, x, v, eps=1e-6):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


# ---- class 1: values that are not constant ---------------------------------------------------

def linspace_scalars(x):
    return np.sum(np.linspace(x[0], x[1], 5) ** 2)


def linspace_keywords(x):
    return np.sum(np.linspace(start=x[0], stop=x[1], num=4, endpoint=False) ** 2)


def linspace_constant_start(x):
    return np.sum(np.linspace(0.5, x[1], 7) ** 2)


def linspace_default_num(x):
    return np.sum(np.linspace(x[0], x[2]) ** 2)


def linspace_arrays_along_axis(x):
    return np.sum(np.linspace(x[:2], x[1:], 3, axis=1) ** 2)


def _linspace_weights(num, endpoint=True):
    return np.arange(num) / (num - 1 if endpoint else num)


def _linspace_gradient(x, i, j, num, endpoint=True, start=None):
    """Analytic gradient of sum(linspace(a, b, num) ** 2) with a = x[i] (or `start`), b = x[j]."""
    t = _linspace_weights(num, endpoint)
    a = x[i] if start is None else start
    y = a + t * (x[j] - a)
    g = np.zeros_like(x)
    if start is None:
        g[i] += np.sum(2 * y * (1 - t))
    g[j] += np.sum(2 * y * t)
    return g


def _linspace_arrays_gradient(x):
    t = _linspace_weights(3)[None, :]
    a, b = x[:2, None], x[1:, None]
    y = a + t * (b - a)
    g = np.zeros_like(x)
    g[:2] += np.sum(2 * y * (1 - t), axis=1)
    g[1:] += np.sum(2 * y * t, axis=1)
    return g


LINSPACE = [
    (linspace_scalars, lambda x: _linspace_gradient(x, 0, 1, 5)),
    (linspace_keywords, lambda x: _linspace_gradient(x, 0, 1, 4, endpoint=False)),
    (linspace_constant_start, lambda x: _linspace_gradient(x, None, 1, 7, start=0.5)),
    (linspace_default_num, lambda x: _linspace_gradient(x, 0, 2, 50)),
    (linspace_arrays_along_axis, _linspace_arrays_gradient),
]


@pytest.mark.parametrize("f, analytic", LINSPACE, ids=lambda f: getattr(f, "__name__", ""))
@settings(max_examples=15, deadline=None)
@given(x=st.lists(st.floats(-3, 3), min_size=3, max_size=3).map(np.array))
def test_linspace_endpoints_are_differentiated(f, analytic, x):
    grad, tangent = _derivatives(f, x, V)
    np.testing.assert_allclose(grad, analytic(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tangent, analytic(x) @ V, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tangent, _finite_difference(f, x, V), rtol=1e-5, atol=1e-6)
    check_grads(f, (x,))


def linspace_cubed(x):
    return np.sum(np.linspace(x[0], x[1], 5, axis=0) ** 3)


def test_second_derivatives_of_linspace():
    x = np.array([1.0, 2.0])
    t = _linspace_weights(5)
    y = x[0] + t * (x[1] - x[0])
    w = np.stack([1 - t, t])
    expected = np.einsum("ik,jk->ij", w * 6 * y, w)
    np.testing.assert_allclose(srcad.hessian(linspace_cubed)(x), expected, rtol=1e-12)
    check_grads(linspace_cubed, (x,), order=2)


def cast_keyword_int(x):
    return np.sum(np.asarray(x, dtype=int) * x)


def cast_positional_int(x):
    return np.sum(np.asarray(x, int) * x)


def cast_numpy_int32(x):
    return np.sum(np.array(x, dtype=np.int32) * x)


def cast_string_int64(x):
    return np.sum(x.astype("int64") * x)


def cast_type_code(x):
    return np.sum(np.array(x, dtype="i4") * x)


def cast_bool(x):
    return np.sum(np.asarray(x - 1.0, dtype=bool) * x)


def cast_sum_dtype(x):
    return np.sum(x, dtype=int) * x[0]


def cast_dtype_object(x):
    return np.sum(np.asarray(x, dtype=np.dtype("int64")) * x)


def cast_scalar_types(x):
    return (np.int64(x[0]) + int(x[1]) + round(x[2]) + math.floor(x[0])) * x[2]


def _cast_gradient(cast):
    return lambda x: cast(x).astype(float)


def _scalar_casts_gradient(x):
    return np.array([0.0, 0.0, np.int64(x[0]) + int(x[1]) + round(x[2]) + math.floor(x[0])])


CASTS = [
    (cast_keyword_int, _cast_gradient(lambda x: x.astype(int))),
    (cast_positional_int, _cast_gradient(lambda x: x.astype(int))),
    (cast_numpy_int32, _cast_gradient(lambda x: x.astype(np.int32))),
    (cast_string_int64, _cast_gradient(lambda x: x.astype(np.int64))),
    (cast_type_code, _cast_gradient(lambda x: x.astype(np.int32))),
    (cast_bool, _cast_gradient(lambda x: (x - 1.0).astype(bool))),
    (cast_sum_dtype, lambda x: np.array([np.sum(x.astype(int)), 0.0, 0.0])),
    (cast_scalar_types, _scalar_casts_gradient),
    (cast_dtype_object, _cast_gradient(lambda x: x.astype(np.int64))),
]


@pytest.mark.parametrize("f, analytic", CASTS, ids=lambda f: getattr(f, "__name__", ""))
def test_a_cast_to_integers_cuts_the_derivative(f, analytic):
    grad, tangent = _derivatives(f, X, V)
    np.testing.assert_allclose(grad, analytic(X), rtol=1e-12)
    np.testing.assert_allclose(tangent, analytic(X) @ V, rtol=1e-12)
    np.testing.assert_allclose(tangent, _finite_difference(f, X, V), rtol=1e-6)


def where_on_a_float_condition(x):
    return np.sum(np.where(x - 1.0, x, 0.0) ** 2)


def test_where_on_a_differentiated_condition_is_piecewise_constant():
    grad, tangent = _derivatives(where_on_a_float_condition, X, V)
    np.testing.assert_allclose(grad, 2 * X)
    np.testing.assert_allclose(tangent, 2 * X @ V)


def truth_of_values(x):
    flag = x[0] > 0 and not x[1] < 0
    return np.sum(np.where(flag, x, 0.0) ** 2)


def test_and_of_comparisons_stays_a_constant():
    grad, tangent = _derivatives(truth_of_values, X, V)
    np.testing.assert_allclose(grad, 2 * X)
    np.testing.assert_allclose(tangent, 2 * X @ V)


def cast_to_a_float_dtype_read_at_run_time(x):
    kind = np.float64 if x.size > 1 else np.float32
    return np.sum(x.astype(kind) * x)


def cast_like_a_constant(x):
    return np.sum(np.asarray(x, dtype=C.dtype) * x)


def cast_keyword_float(x):
    return np.sum(np.asarray(x, dtype=float) * x)


def cast_numpy_float64(x):
    return np.sum(np.array(x, np.float64) * x)


def cast_like_itself(x):
    return np.sum(np.asarray(x, dtype=x.dtype) * x)


@pytest.mark.parametrize("f", [cast_keyword_float, cast_numpy_float64, cast_like_itself,
                               cast_to_a_float_dtype_read_at_run_time, cast_like_a_constant])
def test_a_cast_to_floats_keeps_the_derivative(f):
    grad, tangent = _derivatives(f, X, V)
    np.testing.assert_allclose(grad, 2 * X, rtol=1e-12)
    np.testing.assert_allclose(tangent, 2 * X @ V, rtol=1e-12)
    check_grads(f, (X,))


def arange_of_a_stop(x):
    return np.sum(np.arange(x[0] + 2.0) * x[1])


def test_arange_of_a_differentiated_stop_depends_on_its_length_only():
    grad, tangent = _derivatives(arange_of_a_stop, X, V)
    expected = np.array([0.0, np.sum(np.arange(X[0] + 2.0)), 0.0])
    np.testing.assert_allclose(grad, expected)
    np.testing.assert_allclose(tangent, expected @ V)
    np.testing.assert_allclose(tangent, _finite_difference(arange_of_a_stop, X, V), rtol=1e-6)


def index_builder_r(x):
    return np.sum(np.r_[x, x] ** 2)  # <- denied


def index_builder_r_constant(x):
    return np.sum(np.r_[1.0, x] ** 2)  # <- denied


def index_builder_r_directive(x):
    return np.sum(np.r_["0,2", x, x] ** 2)  # <- denied


def index_builder_c(x):
    return np.sum(np.c_[x, C] ** 2)  # <- denied


def index_builder_mgrid(x):
    return np.sum(np.mgrid[x[0]:x[1]:4j] ** 2)  # <- denied


def index_builder_ogrid(x):
    grid = np.ogrid[0.0:x[1]:3j]  # <- denied
    return np.sum(grid * x[0])


def index_builder_through_a_name(x):
    builder = np.r_
    return np.sum(builder[x, x] ** 2)  # <- denied


def einsum_sublist_transpose(x):
    m = x[:, None] * C
    return np.sum(np.einsum(m, (0, 1), (1, 0)) ** 2)  # <- denied


def einsum_sublist_lists(x):
    m = x[:, None] * C
    return np.sum(np.einsum(m, [0, 1], [1, 0]) * C33)  # <- denied


def einsum_sublist_two_operands(x):
    m = x[:, None] * C
    return np.sum(np.einsum(m, [0, 1], m, [1, 2], [0, 2]))  # <- denied


def einsum_sublist_second_operand(x):
    return np.sum(np.einsum(C33, [0, 1], x, [1], [0]))  # <- denied


def einsum_sublist_global_first(x):
    return np.sum(np.einsum(C33, [0, 1], x, [1], [0]) * x)  # <- denied


def unknown_dtype(x):
    kind = np.int64 if x.size > 10 else np.int32
    return np.sum(x.astype(kind) * x)  # <- denied


def unique_values(x):
    return np.sum(np.unique(x) ** 2)  # <- denied


def arange_start(x):
    return np.sum(np.arange(x[0], 5.0))  # <- denied


def arange_step(x):
    return np.sum(np.arange(0.0, 2.0, x[2]))  # <- denied


def draw_normal_loc(x):
    return np.sum(np.random.normal(x, 1.0))  # <- denied


def draw_uniform_keyword(x):
    return np.sum(RNG.uniform(low=x, high=x + 1.0))  # <- denied


def draw_choice_values(x):
    return np.sum(STATE.choice(x, size=2))  # <- denied


def draw_exponential_scale(x):
    return np.sum(RNG.exponential(x))  # <- denied


def flat_attribute(x):
    return x.flat[1] * 2.0  # <- denied


def max_initial(x):
    return np.max(C, initial=x[0] * 5.0)  # <- denied


def or_of_values(x):
    y = x[0] or 1.0  # <- denied
    return y * 2.0


def and_inside_a_call(x):
    return np.sin(x[1] and x[2]) * 2.0  # <- denied


def dtype_from_a_local_list(x):
    kinds = [np.int32]
    return np.sum(np.asarray(x, dtype=kinds[0]) * x)  # <- denied


CONSTANT_CLAIMS = [or_of_values, and_inside_a_call, dtype_from_a_local_list,
                   index_builder_r, index_builder_r_constant, index_builder_r_directive,
                   index_builder_c, index_builder_mgrid, index_builder_ogrid,
                   index_builder_through_a_name, einsum_sublist_transpose,
                   einsum_sublist_lists, einsum_sublist_two_operands,
                   einsum_sublist_second_operand, einsum_sublist_global_first, unknown_dtype,
                   unique_values, arange_start, arange_step, draw_normal_loc,
                   draw_uniform_keyword, draw_choice_values, draw_exponential_scale,
                   flat_attribute, max_initial]


def _denied_line(f):
    lines, first = inspect.getsourcelines(f)
    marked = [first + i for i, line in enumerate(lines) if "# <- denied" in line]
    assert len(marked) == 1, f"{f.__name__} marks {len(marked)} lines"
    return marked[0]


def _assert_denied(f, mode, x=X):
    """`f` under `mode` raises a SrcadError at its marked line, before returning anything."""
    with pytest.raises(srcad.SrcadError) as info:
        if mode == "grad":
            srcad.grad(f)(x)
        else:
            srcad.jvp(f)(x, np.ones_like(x))
    location = info.value.location
    assert location is not None, str(info.value)
    assert location.filename == __file__
    assert location.lineno == _denied_line(f), str(info.value)
    return info.value


@pytest.mark.parametrize("mode", ["grad", "jvp"])
@pytest.mark.parametrize("f", CONSTANT_CLAIMS, ids=lambda f: f.__name__)
def test_a_false_constant_is_an_error_at_the_users_line(f, mode):
    _assert_denied(f, mode)


def linspace_retstep(x):
    samples, step = np.linspace(x[0], x[1], 4, retstep=True)  # <- denied
    return np.sum(samples) * step


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_linspace_with_its_step_is_an_error(mode):
    _assert_denied(linspace_retstep, mode)


# ---- class 2: writes into an argument ---------------------------------------------------------

def out_keyword(x):
    y = np.zeros(3)
    np.add(x, 1.0, out=y)  # <- denied
    return np.sum(y * y)


def out_positional(x):
    y = np.zeros(3)
    np.multiply(x, 2.0, y)  # <- denied
    return np.sum(y * y)


def out_unary_into_itself(x):
    y = x * 1.0
    np.exp(y, out=y)  # <- denied
    return np.sum(y)


def out_assigned(x):
    y = np.zeros(3)
    z = np.sin(x, out=y)  # <- denied
    return np.sum(z * y)


def out_tuple(x):
    y = np.zeros(3)
    np.negative(x, out=(y,))  # <- denied
    return np.sum(y * y)


def out_of_a_reduction(x):
    y = np.zeros(())
    np.sum(x, out=y)  # <- denied
    return y * 2.0


def out_of_a_method(x):
    y = np.zeros(())
    x.sum(out=y)  # <- denied
    return y * 2.0


def out_of_clip(x):
    y = x * 1.0
    np.clip(y, 0.0, 1.0, out=y)  # <- denied
    return np.sum(y)


def out_of_ufunc_reduce(x):
    y = np.zeros(())
    np.add.reduce(x, out=y)  # <- denied
    return y * 1.0


def copyto(x):
    y = np.zeros(3)
    np.copyto(y, x)  # <- denied
    return np.sum(y * y)


def copyto_where(x):
    y = np.ones(3)
    np.copyto(y, x, where=C > 0)  # <- denied
    return np.sum(y * y)


def copyto_constant_into_a_copy(x):
    y = x * 2.0
    np.copyto(y, C)  # <- denied
    return np.sum(y * x)


def add_at(x):
    y = np.zeros(3)
    np.add.at(y, [0, 0, 1], x)  # <- denied
    return np.sum(y * y)


def maximum_at(x):
    y = x * 1.0
    np.maximum.at(y, [0, 1], 1.0)  # <- denied
    return np.sum(y)


def negative_at(x):
    y = x * 1.0
    np.negative.at(y, [0])  # <- denied
    return np.sum(y * y)


def fill_diagonal(x):
    y = np.zeros((3, 3))
    np.fill_diagonal(y, x)  # <- denied
    return np.sum(y * y)


def putmask(x):
    y = np.zeros(3)
    np.putmask(y, C > 0, x)  # <- denied
    return np.sum(y * y)


def put(x):
    y = np.zeros(3)
    np.put(y, [0, 2], x[:2])  # <- denied
    return np.sum(y * y)


def place(x):
    y = np.zeros(3)
    np.place(y, C > 0, x)  # <- denied
    return np.sum(y * y)


def put_along_axis(x):
    y = np.zeros((1, 3))
    np.put_along_axis(y, np.array([[2, 0, 1]]), x[None, :], axis=1)  # <- denied
    return np.sum(y * y)


def sort_through_a_reversed_view(x):
    y = x * 1.0
    y[::-1].sort()  # <- denied
    return np.sum(y * C)


def sort_through_a_reshaped_view(x):
    y = x * 1.0
    y.reshape(3).sort()  # <- denied
    return np.sum(y * C)


def fill_through_a_slice(x):
    y = x * 1.0
    y[:2].fill(0.0)  # <- denied
    return np.sum(y * y)


def fill_in_place(x):
    y = x * 1.0
    y.fill(0.0)  # <- denied
    return np.sum(y * y)


def partition_in_place(x):
    y = x * 1.0
    y.partition(1)  # <- denied
    return np.sum(y * C)


def put_method_on_a_view(x):
    y = np.zeros((2, 3))
    y[0].put([0], x[1])  # <- denied
    return np.sum(y * y)


def setfield_in_place(x):
    y = x * 1.0
    y.setfield(0.0, np.float64)  # <- denied
    return np.sum(y)


def byteswap_in_place(x):
    y = x * 1.0
    y.byteswap(True)  # <- denied
    return np.sum(y)


def in_place_dunder(x):
    y = np.zeros(3)
    y.__iadd__(x)  # <- denied
    return np.sum(y * y)


def shuffle_global_state(x):
    y = x * 1.0
    np.random.shuffle(y)  # <- denied
    return np.sum(y * C)


def shuffle_a_generator(x):
    y = x * 1.0
    RNG.shuffle(y)  # <- denied
    return np.sum(y * C)


def shuffle_a_local_generator(x):
    rng = np.random.default_rng(0)
    y = x * 1.0
    rng.shuffle(y)  # <- denied
    return np.sum(y * C)


def nan_to_num_in_place(x):
    y = x * 1.0
    np.nan_to_num(y, copy=False)  # <- denied
    return np.sum(y * y)


def median_overwriting(x):
    y = x * 1.0
    m = np.median(y, overwrite_input=True)  # <- denied
    return m + np.sum(y * C)


def operator_iadd(x):
    y = np.zeros(3)
    operator.iadd(y, x)  # <- denied
    return np.sum(y * y)


def operator_setitem(x):
    y = np.zeros(3)
    operator.setitem(y, 0, x[1])  # <- denied
    return np.sum(y * y)


WRITES = [operator_iadd, operator_setitem, out_keyword, out_positional, out_unary_into_itself,
          out_assigned, out_tuple,
          out_of_a_reduction, out_of_a_method, out_of_clip, out_of_ufunc_reduce, copyto,
          copyto_where, copyto_constant_into_a_copy, add_at, maximum_at, negative_at,
          fill_diagonal, putmask, put, place, put_along_axis, sort_through_a_reversed_view,
          sort_through_a_reshaped_view, fill_through_a_slice, fill_in_place,
          partition_in_place, put_method_on_a_view, setfield_in_place, byteswap_in_place,
          in_place_dunder, shuffle_global_state, shuffle_a_generator,
          shuffle_a_local_generator, nan_to_num_in_place, median_overwriting]


@pytest.mark.parametrize("mode", ["grad", "jvp"])
@pytest.mark.parametrize("f", WRITES, ids=lambda f: f.__name__)
def test_a_write_into_a_differentiated_value_is_an_error_at_the_users_line(f, mode):
    _assert_denied(f, mode)


def copyto_of_constants(x):
    y = np.zeros(3)
    np.copyto(y, C)
    np.add.at(y, [0, 0], 1.0)
    return np.sum(x * y)


def out_of_constants(x):
    y = np.zeros(3)
    np.multiply(C, 2.0, out=y)
    return np.sum(x * y)


def _scaled(v, out=True):
    return v * 2.0 if out else v


def a_helper_with_an_out_parameter(x):
    return np.sum(_scaled(x, out=True) * C) / 2.0


def effects_that_change_nothing(x):
    print(x[0])
    sys.stdout.write(str(x[1]) + " " + repr(x[2]) + "\n")
    np.sin(x)
    return np.sum(x * C)


@pytest.mark.parametrize("f, y", [(effects_that_change_nothing, C),
                                  (a_helper_with_an_out_parameter, C),
                                  (copyto_of_constants, C + np.array([2.0, 0.0, 0.0])),
                                  (out_of_constants, 2.0 * C)])
def test_writes_among_constants_stay_constants(f, y):
    grad, tangent = _derivatives(f, X, V)
    np.testing.assert_allclose(grad, y)
    np.testing.assert_allclose(tangent, y @ V)
    np.testing.assert_allclose(tangent, _finite_difference(f, X, V), rtol=1e-6)


# ---- the writers, from NumPy's own API --------------------------------------------------------

def _writer_line(where, name, how):
    """A statement applying the writer `name` to the differentiated `y` (or from `x` into it)."""
    space = {"numpy": "np", "numpy.linalg": "np.linalg", "numpy.fft": "np.fft",
             "RandomState": "STATE", "Generator": "RNG"}.get(where)
    if where == "ufunc":
        ufunc = getattr(np, name)
        inputs = ", ".join(["x"] * ufunc.nin)
        return [f"np.{name}({inputs}, out=y)", f"np.{name}.at(y, [0], " + ", ".join(
            ["x[:1]"] * (ufunc.nin - 1)) + ")" if ufunc.nin > 1 else f"np.{name}.at(y, [0])"]
    if where == "ndarray":
        if "out=" in how:
            return [f"x.{name}(out=y)"]
        argument = "True" if name == "byteswap" else "(0, 1)" if name == "resize" else "x"
        return [f"y.{name}({argument})"]
    lines = []
    if "out=" in how:
        lines.append(f"{space}.{name}(x, out=y)")
    if "overwrite_input=" in how:
        lines.append(f"{space}.{name}(y, overwrite_input=True)")
    if how.startswith("changes"):
        lines.append(f"{space}.{name}(y, copy=False)" if name == "nan_to_num" else
                     f"{space}.{name}(y)" if where in ("RandomState", "Generator") else
                     f"{space}.{name}(y, x)")
    return lines


def _writer_module(tmp_path):
    """A module with one function per writer form; returns (module, [(name, statement)])."""
    source = ["import numpy as np", "STATE = np.random.RandomState(0)",
              "RNG = np.random.default_rng(0)", ""]
    forms = []
    for (where, name), how in sorted(inplace.derive().items()):
        for statement in _writer_line(where, name, how):
            ident = f"f{len(forms)}"
            forms.append((ident, statement))
            source += [f"def {ident}(x):", "    y = x * 1.0", f"    {statement}",
                       "    return np.sum(y * y)", ""]
    path = tmp_path / "writers.py"
    path.write_text("\n".join(source))
    spec = importlib.util.spec_from_file_location("writers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, forms


def test_numpy_api_gives_the_known_writers():
    derived = inplace.derive()
    for function in ("copyto", "put", "putmask", "place", "put_along_axis", "fill_diagonal"):
        assert derived[("numpy", function)].startswith("changes")
    for method in ("sort", "fill", "put", "resize", "partition", "setfield", "byteswap"):
        assert derived[("ndarray", method)].startswith("changes")
    assert ("ufunc", "add") in derived and "out=" in derived[("numpy", "sum")]
    by_name = {(w, n) for w, n in derived if w in ("numpy", "RandomState", "Generator")}
    for func in inplace.WRITING_FUNCTIONS:
        owner = getattr(func, "__qualname__", "").split(".")[0]
        where = owner if owner in ("RandomState", "Generator") else "numpy"
        if where != "numpy" or func.__module__ != "numpy.random":
            assert (where, func.__name__) in by_name, func
    methods = {n for w, n in derived if w == "ndarray" and derived[(w, n)].startswith("chang")}
    assert methods <= inplace.WRITING_METHODS


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_every_writer_numpy_lists_is_rejected_at_the_users_line(tmp_path, mode):
    module, forms = _writer_module(tmp_path)
    assert len(forms) > 150
    for ident, statement in forms:
        f = getattr(module, ident)
        with pytest.raises(srcad.SrcadError) as info:
            if mode == "grad":
                srcad.grad(f)(X)
            else:
                srcad.jvp(f)(X, V)
        location = info.value.location
        assert location is not None and location.text.strip() == statement, (
            statement, str(info.value))
