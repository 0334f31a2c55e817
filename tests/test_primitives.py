"""One home per primitive: the registry of a primitive's facts, the elementwise and linear
shorthands, and shape rules registered beside the templates.

Rules written with a shorthand are checked through srcad against central finite differences,
the inner-product identity and an analytic derivative; the derived template bodies read as the
hand-written ones would; shape rules agree with the shapes NumPy gives, for hypothesis-drawn
shapes and axes; `numpy.matmul` of vectors (once given the broadcasting rule of ufuncs) has
the right gradient in code specialized to shapes.
"""

import ast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad import rules, runtime, shape_rules
from srcad.errors import TemplateError
from srcad.passes import shapes as shape_pass
from srcad.rules import d
from srcad.testing import check_grads

# ---- primitives of this module, given rules by the shorthands -------------------------------


def softplus(x):
    """A primitive for srcad once it has a rule: its body is never transformed."""
    return np.logaddexp(0.0, x)


def shift(a, k):
    """Linear in `a`: its entries moved `k` places along the last axis, cyclically."""
    return np.roll(a, k, axis=-1)


@rules.elementwise(softplus)
def softplus_rule(g, y, x):
    return g / (1.0 + np.exp(-x))


@rules.linear(shift)
def shift_rule(y, a, k):
    return np.roll(d[y], -k, axis=-1)


def uses_softplus(x):
    return np.sum(softplus(x) * x)


def uses_shift(x):
    return np.sum(np.sin(shift(x, 1)) * x)


def matmul_then_add(x, y, b):
    t = np.matmul(x, y)
    return np.sum(t + b)


vectors = hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-2, 2, width=64))


@settings(deadline=None, max_examples=25)
@given(vectors)
def test_an_elementwise_rule_gives_both_modes(x):
    check_grads(uses_softplus, (x,), rtol=1e-6)
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(srcad.grad(uses_softplus)(x), sigmoid * x + softplus(x),
                               rtol=1e-12)
    np.testing.assert_allclose(srcad.jvp(uses_softplus)(x, np.ones_like(x))[1],
                               np.sum(sigmoid * x + softplus(x)), rtol=1e-12)


@settings(deadline=None, max_examples=25)
@given(vectors)
def test_a_linear_rule_gives_both_modes(x):
    check_grads(uses_shift, (x,), rtol=1e-6)
    expected = np.sin(np.roll(x, 1)) + np.roll(np.cos(np.roll(x, 1)) * x, -1)
    np.testing.assert_allclose(srcad.grad(uses_shift)(x), expected, rtol=1e-12)


def test_the_derived_templates_read_as_written_by_hand():
    body = {mode: ast.unparse(rules.lookup(softplus, mode).body[0]) for mode in ("adjoint",
                                                                                  "tangent")}
    assert body == {"adjoint": "d[x] += d[y] / (1.0 + np.exp(-x))",
                    "tangent": "d[y] = d[x] / (1.0 + np.exp(-x))"}
    body = {mode: ast.unparse(rules.lookup(shift, mode).body[0]) for mode in ("adjoint",
                                                                              "tangent")}
    assert body == {"adjoint": "d[a] += np.roll(d[y], -k, axis=-1)",
                    "tangent": "d[y] = shift(d[a], k)"}
    assert "shift(dx, 1)" in srcad.source(srcad.jvp(uses_shift))
    assert "np.roll(" in srcad.source(srcad.grad(uses_shift))


def test_bundled_shorthand_rules_are_the_hand_written_ones():
    tanh = {m: ast.unparse(rules.lookup(np.tanh, m).body[0]) for m in ("adjoint", "tangent")}
    assert tanh == {"adjoint": "d[x] += d[y] * (1.0 - y * y)",
                    "tangent": "d[y] = d[x] * (1.0 - y * y)"}
    swap = {m: ast.unparse(rules.lookup(np.ndarray.swapaxes, m).body[0])
            for m in ("adjoint", "tangent")}
    assert swap == {"adjoint": "d[a] += numpy.swapaxes(d[y], axis1, axis2)",
                    "tangent": "d[y] = numpy.swapaxes(d[a], axis1, axis2)"}
    unreduce = ast.unparse(rules.lookup(runtime.unreduce, "tangent").body[0])
    assert unreduce == "d[out] = unreduce(d[g], x, axis, keepdims)"


def not_a_formula(x):
    return x


def too_few(x):
    return x


@rules.elementwise(not_a_formula)
def not_a_formula_rule(g, y, x):
    g * x


def uses_not_a_formula(x):
    return np.sum(not_a_formula(x))


def test_malformed_shorthands_are_template_errors():
    with pytest.raises(TemplateError, match="needs the parameters"):
        rules.elementwise(too_few)(lambda g, y: g)
    with pytest.raises(TemplateError, match="without \\*args"):
        rules.linear(too_few)(lambda y, *a: a)
    with pytest.raises(TemplateError, match="must end by returning its formula"):
        srcad.grad(uses_not_a_formula)(np.ones(3))


# ---- the facts of one primitive -----------------------------------------------------------


def test_the_facts_of_a_primitive_are_gathered_on_its_object():
    facts = rules.facts(np.sum)
    assert facts.adjoint.key is np.sum and facts.tangent.key is np.sum
    assert facts.reduces and facts.shape is not None and facts.nondifferentiable is None
    assert facts.helpers == (runtime.unreduce,)
    tanh = rules.facts(np.tanh)
    assert tanh.adjoint.func is tanh.tangent.func          # one elementwise rule, both modes
    assert not tanh.reduces and tanh.shape is None and tanh.helpers == ()
    assert "positions" in rules.facts(np.argmax).nondifferentiable
    assert rules.facts(np.split).sequence
    assert rules.facts(np.matmul).shape is shape_rules.matrix_product


def test_reductions_are_one_list():
    for name in ("sum", "mean", "prod", "max", "min", "var", "std"):
        assert rules.reduces(getattr(np, name)) and rules.reduces(getattr(np.ndarray, name))
    assert rules.reduces(np.amax) and rules.reduces(np.amin)
    assert not rules.reduces(np.cumsum) and not rules.reduces(np.linalg.norm)
    assert not rules.reduces(None) and not rules.reduces([])


# Run-time helpers that bundled templates apply to a derivative, with no rule of their own: code
# calling them cannot be differentiated again (srcad says so: MissingRuleError).
HELPERS_WITHOUT_RULES = {"einsum_pullback_in_operands", "einsum_pushforward", "row_grad",
                         "where_tangent"}
# ... and helpers without a rule on purpose, which srcad differentiates from their source
# (tests/test_breadth_second_order.py)
HELPERS_FROM_SOURCE = {"power_tangent", "corr_tangent"}


def test_helpers_applied_to_derivatives_have_rules():
    without = set()
    for mode in ("adjoint", "tangent"):
        for template in rules.registered(mode).values():
            if not template.func.__module__.startswith("srcad.templates"):
                continue
            for node in ast.walk(ast.Module(body=template.body, type_ignores=[])):
                helper = _helper_applied_to_a_derivative(node, template)
                if helper is not None and not rules.has_rule(helper):
                    without.add(helper.__name__)
    assert without == HELPERS_WITHOUT_RULES | HELPERS_FROM_SOURCE


def _helper_applied_to_a_derivative(node, template):
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    helper = template.globals.get(node.func.id)
    if helper not in rules.facts(template.key).helpers:
        return None
    reads_d = any(isinstance(n, ast.Subscript) and isinstance(n.value, (ast.Name, ast.Attribute))
                  and (getattr(n.value, "id", None) == "d" or getattr(n.value, "attr", "") in
                       ("d", "full")) for a in node.args for n in ast.walk(a))
    return helper if reads_d else None


# ---- shape rules against NumPy ------------------------------------------------------------


class _Reader:
    """The reader a shape rule gets, over names with given shapes."""

    def __init__(self, shapes):
        self.shapes = shapes

    def shape(self, node):
        return self.shapes.get(node.id) if isinstance(node, ast.Name) else None

    def is_counter(self, ident):
        return False


rules.load()
REDUCTIONS = sorted(rules._REDUCTIONS, key=rules.key_name)       # every registered reduction


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_reduction_shapes_are_numpys(data):
    key = data.draw(st.sampled_from(REDUCTIONS))
    dims = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    axis = data.draw(st.none() | st.integers(-len(dims), len(dims) - 1) if dims else st.none())
    keepdims = data.draw(st.booleans())
    keywords = {"axis": ast.Constant(axis), "keepdims": ast.Constant(keepdims)}
    got = rules.shape_rule(key)(_Reader({"a": dims}), ast.Name("a"), **keywords)
    assert got == np.shape(key(np.ones(dims), axis=axis, keepdims=keepdims))


@settings(deadline=None, max_examples=40)
@given(st.sampled_from([(3,), (2, 3)]), st.sampled_from([(3,), (3, 4)]))
def test_matmul_shapes_are_numpys(left, right):
    rule = rules.shape_rule(np.matmul)
    got = rule(_Reader({"x": left, "y": right}), ast.Name("x"), ast.Name("y"))
    assert got == np.shape(np.matmul(np.ones(left), np.ones(right)))
    assert rules.shape_rule(ast.MatMult) is rule


def test_only_elementwise_ufuncs_broadcast():
    assert shape_pass._rule(np.add) is rules.shape_rule(np.ufunc)
    assert shape_pass._rule(np.matmul) is shape_rules.matrix_product
    vecdot = getattr(np, "vecdot", None)
    if vecdot is not None:                              # a gufunc: no elementwise rule
        assert shape_pass._rule(vecdot) is None


@settings(deadline=None, max_examples=20)
@given(st.data())
def test_matmul_of_vectors_specialized_to_shapes(data):
    """np.matmul of two vectors is a scalar: the ufunc rule once gave it the vectors' shape,
    and the specialized gradient dropped the sum over `t + b`."""
    n = data.draw(st.integers(1, 4))
    elements = st.floats(-2, 2, width=64)
    x, y, b = (data.draw(hnp.arrays(np.float64, (n,), elements=elements)) for _ in range(3))
    dx, db = srcad.grad(matmul_then_add, wrt=(0, 2))(x, y, b)
    np.testing.assert_allclose(dx, n * y, rtol=1e-12)
    np.testing.assert_allclose(db, np.ones(n), rtol=1e-12)
    check_grads(matmul_then_add, (x, y, b), wrt=(0, 2))
