"""ARCHITECTURE.md stays true: its code map names every module of the package and of
`templates/` (as a family), and every module it names exists; its pass table names every pass
of `srcad/passes/`."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEXT = (ROOT / "ARCHITECTURE.md").read_text()
NAMED = set(re.findall(r"`(srcad/[\w/]+\.py)`", TEXT)) | {
    f"srcad/passes/{name}.py" for name in re.findall(r"`passes/(\w+)`", TEXT)}


def test_the_code_map_names_every_module_and_only_real_ones():
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "srcad").rglob("*.py")}
    assert modules - NAMED == set(), "modules missing from ARCHITECTURE.md"
    assert NAMED - modules == set(), "ARCHITECTURE.md names modules that do not exist"


def test_the_pass_table_names_every_pass():
    passes = {p.stem for p in (ROOT / "srcad" / "passes").glob("*.py")} - {
        "__init__", "simplify", "reverse_loops"}
    table = set(re.findall(r"`passes/(\w+)`", TEXT))
    assert passes <= table
    assert "templates/*.py" in TEXT and (ROOT / "templates").is_dir()
