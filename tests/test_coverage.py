"""The README's coverage table is what `srcad.coverage` generates from the registry, and the
coverage report classifies NumPy's functions by their rules."""

import re
from pathlib import Path

import numpy
import pytest

from srcad import coverage

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_is_generated():
    text = README.read_text()
    start, end = coverage.MARKERS
    shown = text.split(start + "\n", 1)[1].split(end, 1)[0]
    made_with = re.search(r"with NumPy (\S+) ", shown).group(1)
    if made_with.split(".")[:2] != numpy.__version__.split(".")[:2]:
        pytest.skip(f"the README's table was made with NumPy {made_with}, not "
                    f"{numpy.__version__}: NumPy's namespace differs between versions")
    assert shown == coverage.table(), "run: python -m srcad.coverage --write README.md"


def test_statuses():
    assert coverage.status("tanh", numpy.tanh) == "differentiated"
    assert coverage.status("linalg.svd", numpy.linalg.svd) == "differentiated"
    assert coverage.status("argmax", numpy.argmax) == "constant"
    assert coverage.status("save", numpy.save) == "left out"
    report = coverage.report()
    names = {n for by in report.values() for names in by.values() for n in names}
    assert "tril" in report["other numpy functions"]["differentiated"]
    for name in set(coverage.LEFT_OUT) - names:          # only names this NumPy lacks
        assert _resolve(name) is None, name


def _resolve(name):
    obj = numpy
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj


def test_every_left_out_name_is_a_numpy_function_without_a_rule():
    report = coverage.report()
    left = {n for by in report.values() for n in by["left out"]}
    ruled = {n for by in report.values() for n in by["differentiated"] + by["constant"]}
    assert not set(coverage.LEFT_OUT) & ruled
    assert left <= set(coverage.LEFT_OUT)
