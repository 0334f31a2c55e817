"""Wide random programs in CI: the families of constructs srcad gets right today, checked
against finite differences of the current definition (tests/support/wide_check.py); the others are
generated (so the generator stays valid) but not yet checked. `python -m tests.fuzz --wide
--minutes 10` checks every family, for the nightly run.

A family moves from `PENDING` to `CI_FAMILIES` when the fix it waits for is merged and
`python -m tests.fuzz --wide --families NAME --minutes 2` reports no failure.
"""

import ast
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from srcad.errors import Location
from tests.support import wide_catalogue, wide_check
from tests.support.wide_check import check_scenario
from tests.support.wide_strategy import FAMILIES, Scenario, scenarios
from tests.support.wide_sweep import sweep

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
CI_FAMILIES = frozenset({"ufunc", "shapes", "models", "out", "inplace", "index_write",
                         "literals", "shared", "settings", "names", "rebind", "linalg",
                         "numpy"})
PENDING: dict[str, str] = {}  # family -> what still fails in it (none now: every family in CI)
_SETTINGS = dict(deadline=None, derandomize=not LONG, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                        HealthCheck.data_too_large])


def test_every_family_is_either_checked_or_pending():
    assert CI_FAMILIES | set(PENDING) == FAMILIES and not CI_FAMILIES & set(PENDING)


@settings(max_examples=2000 if LONG else 250, **_SETTINGS)
@given(scenarios(CI_FAMILIES), st.integers(0, 2**32 - 1))
def test_wide_programs_of_the_checked_families(scenario, seed):
    report = check_scenario(scenario, seed)
    assert not report.failures, f"{report.failures[0]!r}\n--- scenario ---\n{scenario!r}"


def test_every_ufunc_entry_in_its_smallest_program():
    entries = [e for e in wide_catalogue.expressions()
               if isinstance(getattr(np, e.name[3:].split(".")[0], None), np.ufunc)]
    checked = 0
    for _, scenario, report in sweep(entries):
        assert not report.failures, f"{report.failures[0]!r}\n{scenario!r}"
        checked += report.agreed > 0
    assert checked > 50


_USES = {      # family -> whether a scenario shows it
    "ufunc": lambda s: any(_is_ufunc_entry(c) for c in s.constructs),
    "numpy": lambda s: any(c.startswith(("np.", "{A}.")) and not _is_ufunc_entry(c)
                           and "linalg" not in c for c in s.constructs),
    "linalg": lambda s: any(c.startswith("np.linalg.") for c in s.constructs),
    "out": lambda s: any("out={W}" in c for c in s.constructs),
    "inplace": lambda s: any(c in _WRITERS and "out=" not in c for c in s.constructs),
    "index_write": lambda s: any(c.startswith("index write") for c in s.constructs),
    "literals": lambda s: any(c.startswith("literal") for c in s.constructs),
    "shapes": lambda s: len(s.shape_sets) > 1,
    "rebind": lambda s: len(s.stages) > 1,
    "models": lambda s: s.kind == "model",
    "shared": lambda s: s.kind == "model" and ("tied weight" in s.constructs
                                               or "= lin0" in s.stages[0].split("self.b")[1]
                                               or "ModuleList([lin" in s.stages[0]),
    "settings": lambda s: s.kind == "model" and len(s.stages) > 1,
    "names": lambda s: any(c.startswith("named ") for c in s.constructs),
}
_WRITERS = {e.text for e in wide_catalogue.writers()}


def _is_ufunc_entry(construct):
    head = construct[3:].split("(")[0].split(".")[0] if construct.startswith("np.") else ""
    return isinstance(getattr(np, head, None), np.ufunc)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_writes_valid_programs_that_use_it(family):
    """Generation only: every stage parses, and the family shows in several scenarios (not in
    most: hypothesis starts from the simplest draws)."""
    shown = []

    @settings(max_examples=20, **_SETTINGS)
    @given(scenarios({family}))
    def draw(scenario):
        for stage in scenario.stages:
            ast.parse(stage)
        shown.append(_USES[family](scenario))
    draw()
    assert sum(shown) >= 3, f"{sum(shown)} of {len(shown)} scenarios use {family}"


def test_the_catalogue_is_found_in_numpy_not_listed():
    names = {e.name for e in wide_catalogue.catalogue()}
    assert sum(isinstance(getattr(np, n, None), np.ufunc) for n in dir(np)) > 60
    assert {"np.sin", "np.cumsum", "np.linalg.inv", "np.r_", "sort"} <= names
    writes = {e.text for e in wide_catalogue.writers()}
    assert {"np.copyto({A}, {B})", "np.add.at({W}, {I}, {S})", "np.sin({A}, out={W})",
            "{A}.sort()"} <= writes
    assert len(names) > 300


# ---- the oracle itself can fail ---------------------------------------------------------

_SOURCE = ("import numpy as np\n\nSCALE = 0.5\n\n\ndef f(x0):\n"
           "    return np.sum(np.sin(x0) * x0 * SCALE)\n")
_SCENARIO = Scenario([_SOURCE, "SCALE = -2.0\n"], [("call", 0), ("stage", 1), ("call", 0),
                                                  ("call", 1)],
                     [((3,),), ((2, 2),)], "function", [])


def test_the_oracle_accepts_right_derivatives_and_follows_the_current_definition():
    report = check_scenario(_SCENARIO, 0)
    assert report.agreed == 18 and not report.failures     # 6 checks at each of 3 calls


def test_the_oracle_differentiates_the_current_definition_not_the_first():
    """A derivative of `f` made before `f` is replaced follows the function object it was
    made of; a stage that redefines a helper `f` calls changes what `f` computes."""
    helper = "def g(x):\n    return np.sin(x)\n"
    source = "import numpy as np\n\n\n" + helper + "\n\ndef f(x0):\n    return np.sum(g(x0))\n"
    staged = wide_check.Staged(Scenario([source, helper.replace("sin", "cos")], [], [], "x", []))
    try:
        before = staged.module.f(np.array([0.5]))
        staged.run(1)
        assert staged.module.f(np.array([0.5])) == pytest.approx(np.cos(0.5))
        assert before == pytest.approx(np.sin(0.5))
        lines = open(staged.path).read().splitlines()
        assert lines[staged.module.g.__code__.co_firstlineno - 1] == "def g(x):"
    finally:
        staged.close()


@pytest.mark.parametrize("made, kind", [
    (lambda f, wrt: (lambda x: (np.zeros_like(x),)), "wrong grad x0"),
    (lambda f, wrt: (lambda x: (_ for _ in ()).throw(KeyError("k"))), "internal KeyError"),
])
def test_the_oracle_reports_wrong_numbers_and_internal_errors(monkeypatch, made, kind):
    monkeypatch.setattr(wide_check.srcad, "grad", made)
    report = check_scenario(_SCENARIO, 0)
    assert any(f.kind.startswith(kind) for f in report.failures), report.failures


def test_a_srcad_error_naming_the_line_is_an_acceptable_outcome(monkeypatch):
    def refuse(f, wrt):
        where = Location(f.__code__.co_filename, 7, "return ...", "f")
        raise srcad.UnsupportedSyntaxError("not this", where)
    monkeypatch.setattr(wide_check.srcad, "grad", refuse)
    report = check_scenario(_SCENARIO, 0)
    assert report.rejected == 1 and not report.failures


def test_a_srcad_error_naming_no_line_of_the_program_is_a_failure(monkeypatch):
    def refuse(f, wrt):
        raise srcad.UnsupportedSyntaxError("not this", Location("runtime.py", 1, "", "helper"))
    monkeypatch.setattr(wide_check.srcad, "grad", refuse)
    report = check_scenario(_SCENARIO, 0)
    assert [f.kind for f in report.failures] == [
        "SrcadError naming no line of the program (grad (made)): not this"]
