"""Every entry of the NumPy catalogue, each in the smallest program that uses it.

In: the catalogue (tests/support/wide_catalogue.py). Out: `sweep()` yields `(entry, scenario,
report)` for each entry: the entry applied to the arguments of `f(x0, x1, x2)` (`{A}` is `x0`,
`{B}` is `x1` of the same shape, `{S}` the scalar `x2`; a writing entry writes into a new
array: zeros for `out=`, else a copy of `x0` in the entry's domain), checked by
tests/support/wide_check.py. A failure in this program is a failure of that one NumPy call, so
each is its own minimal reproducer.
"""

import numpy as np

from tests.support import wide_catalogue
from tests.support.wide_check import check_scenario
from tests.support.wide_strategy import Scenario

SHAPES = {1: (4,), 2: (3, 4)}


def program(entry, ndim):
    """The text of `f` using `entry` at operands of `ndim` dimensions, or None if it does not
    give a float, integer, boolean or complex value there."""
    def wrapped(name):
        return entry.wrapper.replace("{}", name) if entry.wrapper != "{}" else name
    square = "np.outer(x0, x0)" if ndim == 1 else "x0.T @ x0"
    values = {"A": wrapped("x0"), "B": wrapped("x1"), "S": wrapped("x2"),
              "I": "np.array([0, 0, 1])", "K": "(x0 > 0.0)", "W": "w",
              "M": f"({square} + np.diag(np.arange(3.0, 3.0 + x0.shape[-1])))",
              "N": f"np.tanh({square})"}
    if entry.writes:
        fresh = "np.zeros_like(x0)" if "out=" in entry.text else f"np.array({wrapped('x0')})"
        if "{W}" not in entry.text:
            values["A"] = "w"
        body = [f"w = {fresh}", entry.text.format(**values),
                "return np.sum(np.sin(w)) + np.sum(x1 * x2)"]
    else:
        text = entry.text.format(**values)
        kind = _kind(text, ndim)
        if kind is None:
            return None
        if kind == "c":
            text = f"np.real({text})"
        body = [f"v = {text}", "return np.sum(np.sin(v)) + np.sum(x1 * x2)"]
    return "import numpy as np\n\n\ndef f(x0, x1, x2):\n" + "".join(f"    {line}\n"
                                                                  for line in body)


def _kind(text, ndim):
    """The dtype kind of `text` at random operands, or None where it fails."""
    rng = np.random.default_rng(0)
    scope = {"np": np, "x0": rng.uniform(-1.5, 1.5, SHAPES[ndim]),
             "x1": rng.uniform(-1.5, 1.5, SHAPES[ndim]), "x2": 0.3}
    try:
        with np.errstate(all="ignore"):
            return np.asarray(eval(text, scope)).dtype.kind
    except Exception:
        return None


def sweep(entries=None, seed=0):
    """(entry, scenario, report) for every entry (see the module docstring)."""
    for entry in entries if entries is not None else wide_catalogue.catalogue():
        ndim = entry.ndims[-1]
        source = program(entry, ndim)
        if source is None:
            continue
        shapes = (SHAPES[ndim], SHAPES[ndim], ())
        scenario = Scenario([source], [("call", 0)], [shapes], "function", [entry.text])
        yield entry, scenario, check_scenario(scenario, seed)
