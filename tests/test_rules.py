"""Every registered derivative rule, checked through srcad's own pipeline.

For each case in `tests/support/cases`: forward mode against central finite differences,
reverse mode against the inner-product identity (with forward mode and with finite differences)
and against the finite-difference gradient, and, where the case gives one, against an independent
analytic vector-Jacobian product. Hypothesis draws shapes (broadcasting pairs included) and values.
"""

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srcad
from srcad import rules, runtime
from srcad.primitive import PARAMETER_ROWS
from srcad.testing import check_grads
from tests.support import cases

CASES = cases.load()
# rules that need a model, tested with one
COVERED_ELSEWHERE = {PARAMETER_ROWS: "tests/test_models.py::test_embedding_rows_are_sparse",
                     runtime.merge_grads: "tests/test_model_second_order.py",
                     runtime.prefix_grads: "tests/test_model_second_order.py"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_rule_case(case, data):
    args = data.draw(case.args, label="args")
    check_grads(case.function, args, wrt=case.wrt, rtol=case.rtol, atol=1e-6)
    if case.vjp is not None:
        wrt = case.wrt if case.wrt is not None else tuple(range(len(args)))
        wrt = (wrt,) if isinstance(wrt, int) else tuple(wrt)
        y, pullback = srcad.vjp(case.function, wrt=wrt)(*args)
        u = numpy.random.default_rng(1).standard_normal(numpy.shape(y))
        expected = case.vjp(u, *args)
        for got, want in zip(pullback(u), expected):
            numpy.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", [rules.ADJOINT, rules.TANGENT])
def test_every_rule_has_a_case(mode):
    covered = {key for case in CASES for key in case.keys} | set(COVERED_ELSEWHERE)
    bundled = {k: t for k, t in rules.registered(mode).items()
               if t.func.__module__.startswith("srcad.templates")}   # not users' rules
    missing = [rules.key_name(k) for k in bundled if k not in covered]
    assert not missing, f"{mode} rules without a test case: {missing}"
