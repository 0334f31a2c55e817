"""Generated code is built from srcad's own syntax trees: the user's source text enters it only
as one-line comments, the user's data (argument values) never, and its string constants are
the user's own literals or srcad's rules' (`order="C"`)."""

import ast
import importlib.util
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from tests.support.differential import Loaded
from tests.support.program_strategy import programs

# each of these ends a line for str.splitlines but not for Python's tokenizer
LINE_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def test_a_comment_with_unicode_line_breaks_stays_a_comment(tmp_path):
    body = "".join(f"    y = y * 1.0  # note{c}raise SystemExit('comment text ran')\n"
                   for c in LINE_BREAKS)
    path = tmp_path / "comment_breaks.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x):\n    y = x * 2.0\n{body}"
                    "    return np.sum(y)\n", encoding="utf-8")
    spec = importlib.util.spec_from_file_location("comment_breaks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["comment_breaks"] = module
    try:
        spec.loader.exec_module(module)
        for derivative in (srcad.grad(module.f), srcad.jvp(module.f)):
            text = srcad.source(derivative)
            assert not any(isinstance(node, ast.Raise) for node in ast.walk(ast.parse(text)))
            assert all(c not in text for c in LINE_BREAKS)
        np.testing.assert_array_equal(srcad.grad(module.f)(np.ones(2)), [2.0, 2.0])
    finally:
        del sys.modules["comment_breaks"]


ALLOWED = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.AugAssign,
           ast.Return,
           ast.If, ast.For, ast.While, ast.Expr, ast.Pass, ast.Break, ast.Call, ast.Name,
           ast.Attribute, ast.Subscript, ast.Slice, ast.Constant, ast.Tuple, ast.List,
           ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.keyword,
           ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def template_strings():
    """String literals of srcad's own rules (`order="C"`, ...)."""
    import pathlib
    import sys

    from srcad import rules
    rules.load()                          # installed, or from templates/ in a source checkout
    folder = pathlib.Path(sys.modules["srcad.templates"].__file__).parent
    return set().union(*(string_constants(ast.parse(path.read_text()))
                         for path in folder.glob("*.py")))


def string_constants(tree):
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, (str, bytes))}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(programs(), st.integers(0, 1000))
def test_generated_code_holds_only_plain_statements_and_the_users_literals(program, seed):
    user_strings = string_constants(ast.parse(program.source)) | template_strings()
    wrt = tuple(range(len(program.shapes)))
    with Loaded(program) as module:
        user_strings |= {module.__file__, module.f.__name__}    # where a run-time check points
        for make in (srcad.vjp, srcad.jvp):
            derivative = make(module.f, wrt=wrt)
            before = srcad.source(derivative)
            tree = ast.parse(before)
            for node in ast.walk(tree):
                assert isinstance(node, ALLOWED), f"{type(node).__name__} in\n{before}"
            assert string_constants(tree) <= user_strings
            for value in (0.3, -1.2 * seed):               # other values: the same code
                args = [np.full(shape, value) for shape in program.shapes]
                args += [seed % 3] if program.takes_n else []
                tangents = [np.ones(shape) for shape in program.shapes]
                with np.errstate(all="ignore"):
                    derivative(*args, *(tangents if make is srcad.jvp else ()))
            assert srcad.source(derivative) == before
