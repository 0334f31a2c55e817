"""Regressions found by the wide-grammar tester (tests/support/wide_*.py) after the first round
of fixes: each the right number in both modes, checked against central differences."""

import ast

import numpy as np
import pytest

import srcad
from srcad import rules
from tests.support.compare import central_gradient

act = np.tanh


def uses_act(x):
    return np.sum(act(x) * x)


def numeric(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])


X = np.array([0.3, -0.7, 1.1])


def test_second_derivatives_follow_a_rebound_global():
    global act
    hvp, hessian, v = srcad.hvp(uses_act), srcad.hessian(uses_act), np.array([1.0, 2.0, -1.0])
    try:
        for new in (np.tanh, np.cos, np.sin, np.tanh):
            act = new
            for _ in range(2):
                numeric_hessian = np.array([numeric(lambda y, j=j: numeric(uses_act, y)[j], X,
                                                    1e-4) for j in range(3)])
                np.testing.assert_allclose(hessian(X), numeric_hessian, rtol=1e-4, atol=1e-6)
                np.testing.assert_allclose(hvp(X, v), numeric_hessian @ v, rtol=1e-4,
                                           atol=1e-6)
    finally:
        act = np.tanh


def clip_crossing(x):
    return np.sum(np.sin(np.clip(x, x[::-1], 0.5)))


def clip_keywords(x):
    return np.sum(np.sin(np.clip(x, min=-0.5, max=x[::-1] * 0.3)))


def clip_method(x):
    return np.sum(np.sin(x.clip(x[::-1] - 0.2, x[::-1] * 0.5)))


def clip_array_bounds(x):
    return np.sum(np.cos(np.clip(x * 2.0, x - 0.1, 0.4 * x[::-1])))


@pytest.mark.parametrize("f", [clip_crossing, clip_keywords, clip_method, clip_array_bounds])
@pytest.mark.parametrize("x", [X, np.array([0.9, 0.1, -0.4]), np.array([-1.2, 0.6, 0.05])])
def test_clip_sends_the_derivative_where_numpy_takes_the_value_from(f, x):
    expected = numeric(f, x)
    np.testing.assert_allclose(srcad.grad(f)(x), expected, rtol=1e-6, atol=1e-8)
    for e in np.eye(3):
        assert srcad.jvp(f)(x, e)[1] == pytest.approx(expected @ e, rel=1e-6, abs=1e-8)


def _derivatives_in(node):
    return [n for n in ast.walk(node) if isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name) and n.value.id == "d"]


def test_no_template_passes_two_derivatives_to_one_call():
    """A call in a template is taken to be linear in its derivative argument, so a zero one
    makes it zero (`template.fold_zeros`): a call given two derivatives (`numpy.append(d[a],
    d[b])`) would silently lose the other's part when one is zero."""
    offending = []
    for mode in (rules.ADJOINT, rules.TANGENT):
        for key, template in rules.registered(mode).items():
            if not template.func.__module__.startswith("srcad.templates"):
                continue                    # (rules that tests register, malformed ones too)
            for node in ast.walk(ast.Module(body=template.body, type_ignores=[])):
                if isinstance(node, ast.Call) and sum(
                        bool(_derivatives_in(a)) for a in node.args
                        + [k.value for k in node.keywords]) > 1:
                    offending.append((rules.key_name(key), mode))
    assert offending == []


def appended(x, y):
    return np.sum(np.sin(np.append(x, 2.0 * y)) * np.append(y, x))


def test_append_in_both_modes_when_one_operand_is_constant():
    x, y = np.array([0.3, -0.2]), np.array([[0.5, 0.1], [0.7, -0.4]])
    for wrt in (0, 1, (0, 1)):
        grads = srcad.grad(appended, wrt=wrt)(x, y)
        grads = grads if isinstance(wrt, tuple) else (grads,)
        for g, i in zip(grads, wrt if isinstance(wrt, tuple) else (wrt,)):
            args = [x, y]

            def along(v, i=i, args=args):
                moved = list(args)
                moved[i] = v.reshape(args[i].shape)
                return appended(*moved)
            expected = numeric(along, args[i].ravel()).reshape(args[i].shape)
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-9)
            tangent = np.ones_like(args[i])
            jvp = srcad.jvp(appended, wrt=i)(x, y, tangent)[1]
            assert jvp == pytest.approx(np.sum(expected * tangent), rel=1e-6)


def svd_of(x):
    u, s, vt = np.linalg.svd(x)
    return np.sum(u) + np.sum(s)


def mismatched(x):
    return np.sum(x @ np.ones((5, 2)))


def test_a_rule_that_fails_at_run_time_is_an_error_at_the_users_line():
    x = np.random.default_rng(8).standard_normal((3, 4))   # SVD's full U of a wide matrix
    line = svd_of.__code__.co_firstlineno + 1
    calls = [lambda: srcad.grad(svd_of)(x), lambda: srcad.vjp(svd_of)(x)[1](1.0),
             lambda: srcad.jvp(svd_of)(x, np.ones_like(x))]
    for call in calls:
        with pytest.raises(srcad.RuleFailedError, match="derivative of this line failed") as error:
            call()
        assert error.value.location.lineno == line
        assert "np.linalg.svd(x)" in str(error.value)


def test_the_users_own_error_stays_as_it_is():
    for derivative in (srcad.grad(mismatched), srcad.jvp(mismatched)):
        with pytest.raises(ValueError, match="matmul") as error:
            derivative(np.ones((3, 4))) if derivative.kind == "grad" else derivative(
                np.ones((3, 4)), np.ones((3, 4)))
        assert not isinstance(error.value, srcad.SrcadError)


def rotated(x, k):
    return np.sum(np.sin(np.rot90(x, k)) * np.arange(12.0).reshape(np.rot90(x, k).shape))


@pytest.mark.parametrize("k", [1, 2, 3, -1, 5, 0.5, 2.5, 1.0])
def test_rot90_undoes_the_turns_numpy_makes_for_any_k(k):
    x = np.random.default_rng(9).standard_normal((3, 4))
    expected = numeric(lambda v: rotated(v.reshape(3, 4), k), x.ravel()).reshape(3, 4)
    np.testing.assert_allclose(srcad.grad(rotated)(x, k), expected, rtol=1e-6, atol=1e-8)
    tangent = srcad.jvp(rotated)(x, k, np.ones_like(x))[1]
    assert tangent == pytest.approx(expected.sum(), rel=1e-6)


# ---- the numpy family (issue 12's last sweep) ---------------------------------------------


def _check_every_mode(f, x, v, autograd_f=None):
    """grad, jvp, vjp and hvp of `f` at `x` (direction `v`) against central differences, and
    grad and hvp against autograd's where `autograd_f` is given."""
    expected = numeric(f, x.ravel()).reshape(x.shape) if x.ndim == 1 else central_gradient(f, x)
    np.testing.assert_allclose(srcad.grad(f)(x), expected, rtol=1e-5, atol=1e-7)
    assert srcad.jvp(f)(x, v)[1] == pytest.approx(np.sum(expected * v), rel=1e-5, abs=1e-7)
    np.testing.assert_allclose(srcad.vjp(f)(x)[1](1.5), 1.5 * expected, rtol=1e-5, atol=1e-7)
    hvp = central_gradient(lambda y: np.sum(srcad.grad(f)(y) * v), x)
    np.testing.assert_allclose(srcad.hvp(f)(x, v), hvp, rtol=1e-4, atol=1e-6)
    if autograd_f is not None:
        import autograd
        np.testing.assert_allclose(srcad.grad(f)(x), autograd.grad(autograd_f)(x), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(srcad.hvp(f)(x, v),
                                   autograd.hessian_vector_product(autograd_f)(x, v),
                                   rtol=1e-8, atol=1e-10)




def trapezoid_boolean_x(x):
    return np.sum(np.sin(np.trapezoid(x * x, x > 0.0)))


def trapezoid_short_x(x):
    return np.sum(np.sin(np.trapezoid(x * x, (1.0, 0.5))))


def trapezoid_reference(y, x):
    """numpy.trapezoid by its definition, NumPy's diff of booleans (`!=`) included."""
    x = np.asarray(x)
    widths = (x[1:] != x[:-1]).astype(float) if x.dtype == bool else np.diff(x)
    return np.sum(widths * (y[1:] + y[:-1]) / 2.0)


def test_trapezoid_with_boolean_and_short_sample_points():
    x = np.array([0.3, -0.7, 1.1, 0.4])
    assert trapezoid_reference(x * x, x > 0.0) == pytest.approx(np.trapezoid(x * x, x > 0.0))
    assert trapezoid_reference(x * x, (1.0, 0.5)) == pytest.approx(np.trapezoid(x * x, (1., .5)))
    exact = 2.0 * x * np.array([0.5, 1.0, 0.5, 0.0]) * np.cos(trapezoid_reference(x * x, x > 0))
    np.testing.assert_allclose(srcad.grad(trapezoid_boolean_x)(x), exact, rtol=1e-12)
    for f in (trapezoid_boolean_x, trapezoid_short_x):
        _check_every_mode(f, x, np.array([1.0, -0.5, 2.0, 0.3]))


def trapezoid_of_itself(x):
    return np.trapezoid(x, x)                   # differentiated sample points


def test_one_value_given_to_a_covered_and_an_uncovered_parameter_is_an_error():
    """`np.trapezoid(x, x)`: the rule's derivative in `y` does not stand in for the missing one
    in `x` (it did: a silently wrong gradient); only a rule for `x * x` covers both operands
    through one parameter."""
    x = np.array([0.3, -0.7, 1.1, 0.4])
    for make in (srcad.grad, srcad.jvp, srcad.vjp):
        with pytest.raises(srcad.MissingRuleError, match="trapezoid") as info:
            make(trapezoid_of_itself)(x, x) if make is srcad.jvp else make(trapezoid_of_itself)(x)
        assert "return np.trapezoid(x, x)" in str(info.value)
    np.testing.assert_allclose(srcad.grad(sine_of_square)(x), 2.0 * x * np.cos(x * x))


def sine_of_square(x):
    return np.sum(np.sin(x * x))


def cumprod_through_zeros(x):
    return np.sum(np.sin(np.cumprod(x))) + np.sum(np.cumprod(np.outer(x, x), axis=1) ** 2)


def cumprod_through_zeros_ag(x):
    import autograd.numpy as anp
    y = anp.array([x[0], x[0] * x[1], x[0] * x[1] * x[2], x[0] * x[1] * x[2] * x[3]])
    m = anp.outer(x, x)
    rows = anp.stack([m[:, 0], m[:, 0] * m[:, 1], m[:, 0] * m[:, 1] * m[:, 2],
                      m[:, 0] * m[:, 1] * m[:, 2] * m[:, 3]], axis=1)
    return anp.sum(anp.sin(y)) + anp.sum(rows ** 2)


@pytest.mark.parametrize("x", [np.array([0.3, 0.0, 1.1, -0.4]), np.array([0.0, 0.0, 0.7, 2.0]),
                               np.array([0.5, -1.2, 0.8, 0.0]), np.array([0.3, -0.7, 1.1, 0.4])])
def test_cumprod_has_its_derivative_at_zeros(x):
    _check_every_mode(cumprod_through_zeros, x, np.array([1.0, 2.0, -1.0, 0.5]),
                      cumprod_through_zeros_ag)


def triangle_of_a_vector(x):
    return np.sum(np.sin(np.triu(x, 1)) * x) + np.sum(np.tril(x * x, -1) ** 2)


def test_tril_and_triu_of_a_vector_make_a_matrix():
    x = np.array([0.3, -0.7, 1.1])
    assert srcad.grad(triangle_of_a_vector)(x).shape == (3,)
    _check_every_mode(triangle_of_a_vector, x, np.array([1.0, 2.0, -1.0]))


def sinc_through_zero(x):
    return np.sum(np.sinc(x) * np.array([1.0, 2.0, 3.0]))


def test_sinc_at_zero_in_second_order():
    x = np.array([0.0, -0.7, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    # sinc''(0) = -pi^2 / 3; elsewhere the Hessian of sinc is diagonal too
    h = srcad.hvp(sinc_through_zero)(x, v)
    assert h[0] == pytest.approx(-np.pi ** 2 / 3.0, rel=1e-12)
    _check_every_mode(sinc_through_zero, x, v)


def concatenate_rows(m):
    return np.sum(np.sin(np.concatenate(m.T @ m)) * np.arange(9.0))


def stacks_of_rows(m):
    g = m.T @ m
    return (np.sum(np.sin(np.stack(g, axis=1)) * np.arange(9.0).reshape(3, 3))
            + np.sum(np.cos(np.hstack(g))) + np.sum(np.vstack(g) ** 3)
            + np.sum(np.dstack(g) * np.column_stack(g)[None]))


def test_joins_of_a_two_dimensional_array():
    m = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    for f in (concatenate_rows, stacks_of_rows):
        _check_every_mode(f, m, np.array([[1.0, -1.0, 0.5], [0.2, 2.0, -0.3]]))


def conversions_of_lists(x):
    return (np.sum(np.sin(np.asanyarray([x, 2.0 * x]))) + np.sum(np.copy((x[0], x[1] * x[2])))
            + np.sum(np.ascontiguousarray([x * x]) ** 2) + np.sum(np.real([x[2], x[0]]) ** 3)
            + np.sum(np.unwrap([x, 3.0 * x]) ** 2))


def test_conversions_of_lists_in_second_order():
    _check_every_mode(conversions_of_lists, np.array([0.3, -0.7, 1.1]), np.array([1.0, 2., -1.]))


def closeness(x):
    near = np.isclose(x, x * x) | np.allclose(x, np.zeros(3))
    return np.sum(np.sin(x) * near) + np.sum(x * x)


def test_isclose_and_allclose_just_work():
    x = np.array([1.0, -0.7, 1.1])               # isclose at the first entry only
    _check_every_mode(closeness, x, np.array([1.0, 2.0, -1.0]))


def crosses_of_plane_vectors(m):
    return (np.sum(np.sin(np.cross(m, np.array([0, 0, 1]), axis=0)))
            + np.sum(np.cos(np.cross(m.T, m.T[::-1] * 2.0))) + np.sum(np.cross(m, m * m, axis=0)))


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors are deprecated")
def test_cross_of_vectors_of_two_entries():
    m = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    _check_every_mode(crosses_of_plane_vectors, m, np.array([[1.0, -1.0, 0.5], [0.2, 2.0, -0.3]]))


def polyder_of_order_zero(m):
    for row in m:
        v = np.polyder(row, 0.7)               # order int(0.7) == 0: NumPy returns `row` itself
        v -= 0.5 * row
    return np.sum(np.sin(m))


def conjugate_of_a_real_array(m):
    v = m.conjugate()                          # a real array's conjugate is the array itself
    v -= 0.5 * v
    return np.sum(np.sin(m))


def transpose_by_einsum(m):
    y = m * 1.0
    v = np.einsum("ij->ji", y)                 # a view of y
    v *= 2.0
    return np.sum(np.sin(y))


def views_made_fresh(m):
    y = np.einsum("ij->ji", m * 1.0)           # a view of a temporary nothing else reads
    y *= 2.0
    return np.sum(np.sin(y))


@pytest.mark.parametrize("f", [polyder_of_order_zero, conjugate_of_a_real_array,
                               transpose_by_einsum])
def test_writes_through_what_numpy_returns_as_a_view_are_refused(f):
    m = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    line = f.__code__.co_firstlineno + (2 if f is conjugate_of_a_real_array else 3)
    for derivative in (srcad.grad(f), srcad.jvp(f)):
        with pytest.raises(srcad.UnsupportedSyntaxError, match="may share memory") as error:
            derivative(m) if derivative.kind == "grad" else derivative(m, np.ones_like(m))
        assert error.value.location.lineno == line


def test_a_view_of_a_temporary_can_be_written():
    m = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    _check_every_mode(views_made_fresh, m, np.ones_like(m))


def transpose_by_einsum_sublists(m):
    y = m * 1.0
    v = np.einsum(y, [0, 1], [1, 0])           # a view of y
    v *= 2.0
    return np.sum(np.sin(y))


def einsum_product_written(m):
    v = np.einsum("ij,j->i", m, m[0])          # a product: a new array
    v += 1.0
    return np.sum(v * v)


def test_einsum_of_one_operand_is_a_view_of_several_a_new_array():
    m = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    with pytest.raises(srcad.UnsupportedSyntaxError, match="may share memory with `y`"):
        srcad.grad(transpose_by_einsum_sublists)(m)
    _check_every_mode(einsum_product_written, m, np.ones_like(m))


def nanstd_of_single_rows(m):
    return np.sum(np.sin(np.nanstd(m, axis=0))) + np.sum(np.sin(m))


def test_nanstd_of_one_element_has_derivative_zero():
    m = np.array([[0.3, -0.7, 1.1]])            # one element per column: nanstd is 0 for all m
    np.testing.assert_allclose(srcad.grad(nanstd_of_single_rows)(m), np.cos(m), rtol=1e-12)
    _check_every_mode(nanstd_of_single_rows, m, np.array([[1.0, 2.0, -1.0]]))


def broadcast_of_one_list(x0, x1, x2):
    v = np.broadcast_arrays([x0, x1])[0]         # NumPy reads the list as one array
    return np.sum(np.sin(v)) + np.sum(x1 * x2)


def test_a_list_written_inside_a_list_argument_carries_its_derivatives():
    """`np.broadcast_arrays([x0, x1])`: a list item of the call's `*args` is itself a list; its
    items' derivatives were silently zero (found by the nightly wide run)."""
    rng = np.random.default_rng(5)
    x0, x1 = rng.standard_normal((2, 3, 4))
    x2 = 0.5
    exact = (np.cos(x0), np.cos(x1) + x2)           # the analytic gradient
    got = srcad.grad(broadcast_of_one_list, wrt=(0, 1))(x0, x1, x2)
    for g, e, k in zip(got, exact, range(2)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
        numeric = central_gradient(
            lambda a, k=k: broadcast_of_one_list(*([a, x1] if k == 0 else [x0, a]), x2),
            (x0, x1)[k])
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    v = rng.standard_normal((3, 4))
    assert srcad.jvp(broadcast_of_one_list)(x0, x1, x2, v)[1] == pytest.approx(
        np.sum(exact[0] * v), rel=1e-12)
    np.testing.assert_allclose(srcad.hvp(broadcast_of_one_list)(x0, x1, x2, v),
                               -np.sin(x0) * v, rtol=1e-12, atol=1e-14)
