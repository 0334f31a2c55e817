"""`srcad export` never runs anything taken from a path or a name, and writes global arrays
exactly (inf, nan, empty shapes): hostile file names, hostile function names, special values."""

import ast
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcad
from srcad import export
from tests.test_cli import load, run, run_isolated

MODEL = textwrap.dedent("""
    import numpy as np

    CAPS = np.array([np.inf, 2.0, -np.inf])
    HOLES = np.array([[np.nan, 1.0], [2.0, np.nan]])
    EMPTY = np.zeros((0, 3))
    SCALE = np.float64(1.5)

    def f(x):
        low = np.minimum(x, CAPS)
        kept = np.where(np.isnan(HOLES), 0.0, HOLES)
        rows = EMPTY @ x
        return SCALE * np.sum(np.tanh(low)) + np.sum(kept) * np.sum(x) + np.sum(rows)
""")

# File names a user (or an attacker handing a user a file) may choose: each would break the
# exported module, or run code when it is imported, if pasted into its source as it is.
_SENTINEL = "PWNED"
HOSTILE_NAMES = [
    'triple"""quote',
    f'doc"""\nopen("{_SENTINEL}", "w")\n"""',
    "back\\slash",
    "C:\\new\\x41",
    "trailing\\",
    "single'quote",
    "new\nline",
    "carriage\rreturn",
    "unicod\u00e9\u2028\U0001f600",
    f"'''\nopen('{_SENTINEL}', 'w')\n'''",
    "tab\tand\x0bvt",
]


def _top_level_is_inert(text):
    """True when the module's top level only defines things: a docstring, imports,
    assignments and definitions (no call runs on import but those assignments')."""
    tree = ast.parse(text)
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Expr):
            if i != 0 or not isinstance(node.value, ast.Constant):
                return False
        elif not isinstance(node, (ast.Import, ast.Assign, ast.FunctionDef, ast.ClassDef)):
            return False
    return True


@pytest.mark.parametrize("stem", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_export_with_a_hostile_file_name(tmp_path, capsys, stem):
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    path = source_dir / f"{stem}.py"
    path.write_text(MODEL)
    out_dir = tmp_path / "exported"
    out_dir.mkdir()
    target = out_dir / "grad_f.py"
    status, _, err = run(capsys, "export", f"{path}:f", "-o", target)
    assert status == 0, err
    text = target.read_text()
    assert text.isascii() and _top_level_is_inert(text)
    assert f"{path}:f" in ast.get_docstring(ast.parse(text), clean=False)
    x = np.array([0.3, -1.2, 4.0])
    np.save(tmp_path / "x.npy", x)
    code = textwrap.dedent("""
        import numpy as np
        import grad_f
        np.save("g.npy", grad_f.grad_f(np.load("x.npy")))
    """)
    run_isolated(tmp_path, out_dir, code)
    assert not (tmp_path / _SENTINEL).exists()
    expected = srcad.grad(load(path, "f"))(x)
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), expected, rtol=1e-12)


def test_exported_globals_keep_inf_nan_and_empty_shapes(tmp_path, capsys):
    path = tmp_path / "specials.py"
    path.write_text(MODEL)
    target = tmp_path / "grad_specials.py"
    assert run(capsys, "export", f"{path}:f", "-o", target)[0] == 0
    namespace = {}
    exec(compile(target.read_text(), str(target), "exec"), namespace)   # our own output
    module = load(path, "f").__globals__
    for name in ("CAPS", "HOLES", "EMPTY", "SCALE"):
        got, want = namespace[name], module[name]
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    x = np.array([5.0, -1.0, 0.25])
    g = namespace["grad_f"](x)
    # d/dx of 1.5 * sum(tanh(min(x, caps))) + 3 * sum(x): min passes x where x < cap
    caps = module["CAPS"]
    expected = np.where(x < caps, 1.5 * (1.0 - np.tanh(np.minimum(x, caps)) ** 2), 0.0) + 3.0
    np.testing.assert_allclose(g, expected, rtol=1e-12)


@pytest.mark.parametrize("hostile", [
    'f\nopen("PWNED", "w")\ndef g',
    'f(): pass\nimport os\ndef g',
    'f"""',
    "f\\",
    "1f",
    "",
    "f g",
    "\u00e9\u2028",
])
def test_a_hostile_function_name_never_reaches_the_code(tmp_path, monkeypatch, hostile):
    monkeypatch.chdir(tmp_path)

    def f(x):
        return np.sum(np.sin(x) * x)

    f.__name__ = f.__qualname__ = hostile
    x = np.array([0.5, -1.0, 2.0])
    for derivative in (srcad.grad(f), srcad.jvp(f), srcad.vjp(f)):
        args = (x, np.ones(3)) if derivative.kind == "jvp" else (x,)
        derivative(*args)
        name = derivative.generated.function.__name__
        source = srcad.source(derivative)
        assert name.isidentifier() and _top_level_is_inert(source)
        assert not set(hostile) & set("\n\"\\\u2028") or hostile not in source
        text = export.module_source(derivative, f"{tmp_path}/{hostile}.py:{hostile}")
        assert _top_level_is_inert(text)
        namespace = {}
        exec(compile(text, "<export>", "exec"), namespace)
        assert callable(namespace[name])
    assert not (tmp_path / "PWNED").exists()
    np.testing.assert_allclose(srcad.grad(f)(x), np.cos(x) * x + np.sin(x), rtol=1e-12)


def scaled_by_default(x, scale=2.0):
    return x * scale


def calls_a_hostile_helper(x):
    return np.sum(np.sin(scaled_by_default(x)))


def test_a_hostile_helper_name_never_reaches_the_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(scaled_by_default, "__name__", 'h(open("PWNED", "w")) or h')
    x = np.array([0.5, -1.0])
    for derivative, args in ((srcad.grad(calls_a_hostile_helper), (x,)),
                             (srcad.jvp(calls_a_hostile_helper), (x, np.ones(2)))):
        derivative(*args)
        text = export.module_source(derivative)
        assert _top_level_is_inert(text) and 'open("PWNED"' not in text
        namespace = {}
        exec(compile(text, "<export>", "exec"), namespace)
    assert not (tmp_path / "PWNED").exists()
    np.testing.assert_allclose(srcad.jvp(calls_a_hostile_helper)(x, np.ones(2))[1],
                               np.sum(2.0 * np.cos(2.0 * x)), rtol=1e-12)


_DTYPES = st.sampled_from([np.float64, np.float32, np.float16, np.complex128, np.int64,
                           np.int8, np.uint16, np.bool_])


@given(hnp.arrays(_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
def test_array_literal_round_trips(array):
    text = export._literal(array)
    assert text.isascii()
    back = eval(text, {"__builtins__": {"float": float, "complex": complex}, "numpy": np})
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)          # nan equals nan here


@pytest.mark.parametrize("value", [
    np.float64(np.nan), np.float32(-np.inf), np.float64(-0.0), np.int64(-7), np.bool_(True),
    np.complex128(complex(np.inf, np.nan)), float("nan"), float("-inf"), complex(1, np.inf),
    (np.inf, [np.nan, 1.0]), 3, "a\"\"\"b\\\n", None,
])
def test_scalar_literal_round_trips(value):
    text = export._literal(value)
    back = eval(text, {"__builtins__": {"float": float, "complex": complex}, "numpy": np})
    assert type(back) is type(value)
    assert repr(back) == repr(value) or np.array_equal(back, value, equal_nan=True)


class Sneaky(str):
    def __repr__(self):
        return "__import__('os').system('echo PWNED')"


class Number(float):
    def __repr__(self):
        return "print('PWNED') or 1.0"


@pytest.mark.parametrize("value", [Sneaky("a"), Number(2.0), (1.0, Sneaky("b"))])
def test_a_value_whose_repr_is_code_is_not_written(value):
    with pytest.raises(srcad.SrcadError, match="no source form"):
        export._literal(value, "GLOBAL")


def test_a_module_with_a_hostile_name_is_not_imported():
    import types

    module = types.ModuleType("numpy\nopen('PWNED', 'w')")
    written = export._Module()
    written.need("np_", module)
    with pytest.raises(srcad.SrcadError, match="no Python name"):
        written.imports()



LIBRARY_HELPERS = textwrap.dedent("""
    import numpy as np

    def f(x):
        twice = np.repeat(x, 2) ** 2
        picked = np.take(x, [0, 2, 2]) ** 3
        blocks = np.block([[x[:2], x[1:]], [x[1:], x[:2]]])
        widened = np.insert(x, 1, 0.5 * x[0])
        return np.sum(twice) + np.sum(picked) + np.sum(np.sin(blocks)) + np.sum(widened ** 2)
""")


def test_export_of_helpers_that_ask_for_the_array_library(tmp_path, capsys):
    """The run-time helpers of `repeat`, `take`, `block` and `insert` ask `srcad.backend` for
    the array's library: the exported module (numpy only) holds their NumPy forms and runs
    without srcad, giving srcad's gradient, finite differences' and the analytic one."""
    path = tmp_path / "helpers_model.py"
    path.write_text(LIBRARY_HELPERS)
    out_dir = tmp_path / "exported"
    out_dir.mkdir()
    target = out_dir / "grad_helpers.py"
    status, out, _ = run(capsys, "export", f"{path}:f", "-o", target)
    assert status == 0 and "needs only numpy" in out
    assert "_MODULES" not in target.read_text() and "cupy" not in target.read_text()
    x = np.array([0.3, -1.2, 0.7])
    np.save(tmp_path / "x.npy", x)
    run_isolated(tmp_path, out_dir, textwrap.dedent(f"""
        import numpy as np
        import grad_helpers
        x = np.load({str(tmp_path / 'x.npy')!r})
        np.save({str(tmp_path / 'g.npy')!r}, grad_helpers.grad_f(x))
    """))
    got = np.load(tmp_path / "g.npy")
    f = load(path, "f")
    np.testing.assert_allclose(got, srcad.grad(f)(x), rtol=1e-12)
    eps, eye = 1e-6, np.eye(3)
    numeric = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in eye]
    np.testing.assert_allclose(got, numeric, rtol=1e-6)
    c = np.cos
    analytic = 4 * x + 3 * x ** 2 * np.array([1.0, 0.0, 2.0]) + 2 * x * np.array([1, 1, 1])
    analytic[0] += 2 * (0.5 * x[0]) * 0.5
    analytic += np.array([c(x[0]) * 2, c(x[1]) * 4, c(x[2]) * 2])
    np.testing.assert_allclose(got, analytic, rtol=1e-12)


def test_an_annotation_alias_of_any_is_exported_as_typing_any():
    module = export._Module()
    module.need("Array", __import__("typing").Any)
    assert "typing" in module.imports() and "Array = typing.Any" in module.constants()
