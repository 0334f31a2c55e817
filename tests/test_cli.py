"""The command line (`srcad show | check | export`) on a user file, and exported modules running
without srcad."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcad
from srcad import cli

MODEL = textwrap.dedent("""
    import numpy as np

    SCALE = 0.5

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def loss(x, W, b):
        h = sigmoid(W @ x + b)
        return SCALE * np.sum(h * h)

    def rows(x, W):
        total = 0.0
        for i in range(W.shape[0]):
            total = total + np.tanh(W[i] @ x) ** 2
        return total

    def unsupported(x):
        return {v for v in x}
""")
ANSI = re.compile(r"\033\[[0-9;]*m")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "cli_model.py"
    path.write_text(MODEL)
    return path


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def load(path, name):
    return cli.load_function(f"{path}:{name}")


def test_show_prints_the_generated_source(model_file, capsys):
    status, out, _ = run(capsys, "show", f"{model_file}:loss", "--wrt", "W,b")
    assert status == 0
    assert out == srcad.source(srcad.grad(load(model_file, "loss"), wrt=("W", "b")))
    assert "def grad_loss_wrt_W_b(x, W, b):" in out and "\033[" not in out   # plain when piped
    status, out, _ = run(capsys, "show", f"{model_file}:loss", "--mode", "forward")
    assert out == srcad.source(srcad.jvp(load(model_file, "loss")))


def test_show_stages(model_file, capsys):
    _, normal, _ = run(capsys, "show", f"{model_file}:loss", "--stage", "normalize")
    assert "def loss(x, W, b):" in normal and "_matmul = W @ x" in normal
    assert "def sigmoid(z):" in normal               # callees too, in their normal form
    _, raw, _ = run(capsys, "show", f"{model_file}:rows", "--stage", "raw")
    _, optimized, _ = run(capsys, "show", f"{model_file}:rows")
    assert raw.startswith("def grad_rows(x, W):") and raw != optimized
    assert optimized.rstrip() == srcad.source(srcad.grad(load(model_file, "rows"))).rstrip()


def test_highlighting_only_adds_colors(model_file, capsys):
    _, plain, _ = run(capsys, "show", f"{model_file}:rows")
    _, colored, _ = run(capsys, "show", f"{model_file}:rows", "--color", "always")
    assert ANSI.sub("", colored) == plain
    assert "\033[1;35mfor\033[0m" in colored                     # keywords
    assert "\033[1;34mgrad_rows\033[0m" in colored               # the defined name
    assert re.search(r"\033\[2;37m# line \d+: ", colored)       # comments
    assert cli.highlight("s = 'a' + \"\"\"b\nc\"\"\"  # x\n").count("\033[32m") == 2


def test_colors_follow_the_terminal(model_file, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _, on_terminal, _ = run(capsys, "show", f"{model_file}:loss")
    assert "\033[1;35mdef\033[0m" in on_terminal
    monkeypatch.setenv("NO_COLOR", "1")
    _, without, _ = run(capsys, "show", f"{model_file}:loss")
    assert without == ANSI.sub("", on_terminal)


def test_check_passes_and_reports_the_error(model_file, capsys):
    status, out, _ = run(capsys, "check", f"{model_file}:loss", "--shapes", "x=3,W=2x3,b=2",
                         "--wrt", "all")
    assert status == 0
    error = float(re.search(r"max error: (\S+)", out).group(1))
    assert 0 <= error < 1e-6
    assert "gradient of argument `W`" in out
    status, out, _ = run(capsys, "check", f"{model_file}:rows", "--shapes", "x=3,W=4x3",
                         "--order", "2")
    assert status == 0 and "Hessian-vector product" in out


def test_check_fails_on_a_wrong_rule(model_file, capsys):
    sigmoid = load(model_file, "sigmoid")
    from srcad import d

    @srcad.register_adjoint(sigmoid)
    def wrong(y, z):
        d[z] += d[y] * y                     # the right rule has y * (1 - y)

    status, out, _ = run(capsys, "check", f"{model_file}:loss", "--shapes", "x=3,W=2x3,b=2",
                         "--modes", "rev")
    assert status == 1
    assert re.search(r"FAILED: .*gradient of argument `x` at index \(\d+,\): srcad gives", out)


def test_bad_arguments_are_clear(model_file, capsys):
    status, _, err = run(capsys, "show", f"{model_file}:nope")
    assert status == 2 and "has no function 'nope'" in err
    status, _, err = run(capsys, "show", "missing.py:f")
    assert status == 2 and "no such file" in err
    status, _, err = run(capsys, "check", f"{model_file}:loss", "--shapes", "x=3")
    assert status == 2 and "give the shape of `W`" in err
    status, _, err = run(capsys, "check", f"{model_file}:loss", "--shapes", "x=three")
    assert status == 2 and "not name=shape" in err
    status, _, err = run(capsys, "show", f"{model_file}:unsupported")
    assert status == 1 and "comprehension" in err and "cli_model.py" in err


def test_parse_shapes():
    assert cli.parse_shapes("x=3, W=2x3,s=()") == {"x": (3,), "W": (2, 3), "s": ()}
    shapes = cli.parse_shapes("s=scalar,labels=5:int10,k=scalar:int3")
    assert shapes == {"s": (), "labels": (5,), "k": ()}
    assert shapes["labels"].high == 10 and shapes["k"].high == 3
    assert not isinstance(shapes["s"], cli.Integers)


def test_every_command_defaults_to_the_first_argument(model_file, capsys):
    status, out, _ = run(capsys, "check", f"{model_file}:loss", "--shapes", "x=3,W=2x3,b=2")
    assert status == 0 and "argument `x`" in out and "argument `W`" not in out
    status, out, _ = run(capsys, "show", f"{model_file}:loss")
    assert "def grad_loss(x, W, b):" in out
    status, out, _ = run(capsys, "explain", f"{model_file}:loss", "--shapes", "x=3,W=2x3,b=2")
    assert status == 0 and "with respect to x," in out


LABELS = textwrap.dedent("""
    import numpy as np

    def xent(W, X, labels):
        z = X @ W
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.sum(logp[np.arange(X.shape[0]), labels])
""")


def test_check_takes_integer_arguments(tmp_path, capsys):
    path = tmp_path / "labels_model.py"
    path.write_text(LABELS)
    status, out, _ = run(capsys, "check", f"{path}:xent", "--shapes",
                         "W=3x4,X=5x3,labels=5:int4")
    assert status == 0 and "labels[5 int]" in out and "all checks passed" in out
    status, out, err = run(capsys, "check", f"{path}:xent", "--shapes", "W=3x4,X=5x3,labels=5")
    assert status == 2 and "Traceback" not in err
    assert "raised IndexError" in err and "labels=5:intN" in err


def test_the_target_folder_leaves_sys_path(model_file):
    before = list(sys.path)
    load(model_file, "loss")
    assert sys.path == before


def numpy_only_path(tmp_path):
    """A directory holding only numpy (links), so a subprocess can import numpy but not srcad."""
    site = Path(np.__file__).resolve().parent.parent
    only = tmp_path / "numpy_only"
    only.mkdir()
    for entry in site.iterdir():
        if entry.name == "numpy" or entry.name.startswith("numpy.libs") or \
                entry.name == "numpy-libs":
            (only / entry.name).symlink_to(entry)
    return only


def run_isolated(tmp_path, export_dir, code):
    """Run `code` with `python -I -S` and a sys.path of the export dir and numpy alone."""
    prelude = (f"import sys; sys.path[:0] = [{str(export_dir)!r}, "
               f"{str(numpy_only_path(tmp_path))!r}]\n")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", prelude + code],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name, wrt, shapes", [
    ("loss", "W,b", {"x": (3,), "W": (2, 3), "b": (2,)}),
    ("rows", "x", {"x": (3,), "W": (4, 3)}),
])
def test_export_runs_without_srcad(model_file, tmp_path, capsys, name, wrt, shapes):
    out_dir = tmp_path / "exported"
    out_dir.mkdir()
    target = out_dir / f"grad_{name}.py"
    status, out, _ = run(capsys, "export", f"{model_file}:{name}", "--wrt", wrt, "-o", target)
    assert status == 0 and "needs only numpy" in out
    text = target.read_text()
    imports = {line for line in text.splitlines() if line.startswith(("import ", "from "))}
    assert len(imports) == 1 and imports <= {"import numpy", "import numpy as np"}, imports
    rng = np.random.default_rng(3)
    args = [rng.standard_normal(shape) for shape in shapes.values()]
    np.savez(tmp_path / "args.npz", *args)
    derivative = srcad.grad(load(model_file, name), wrt=tuple(wrt.split(",")))
    expected = derivative(*args)
    function = derivative.generated.function.__name__
    code = textwrap.dedent(f"""
        import numpy as np
        try:
            import srcad
            raise SystemExit("srcad is importable")
        except ImportError:
            pass
        import {target.stem} as exported
        saved = np.load({str(tmp_path / 'args.npz')!r})
        args = [saved[f"arr_{{i}}"] for i in range(len(saved.files))]
        result = exported.{function}(*args)
        result = result if isinstance(result, tuple) else (result,)
        np.savez({str(tmp_path / 'result.npz')!r}, *result)
    """)
    run_isolated(tmp_path, out_dir, code)
    got = np.load(tmp_path / "result.npz")
    got = [got[f"arr_{i}"] for i in range(len(got.files))]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_python_dash_m(model_file):
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run([sys.executable, "-m", "srcad", "show", f"{model_file}:loss"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("def grad_loss(x, W, b):")


def test_export_names_what_it_cannot_write(tmp_path, capsys):
    path = tmp_path / "uses_object.py"
    path.write_text(textwrap.dedent("""
        import numpy as np

        class Settings:
            scale = 2.0

        SETTINGS = Settings()
        TABLE = {"a": 1.0}

        def f(x):
            return np.sum(x * SETTINGS.scale)

        def g(x):
            return np.sum(x * TABLE["a"])
    """))
    for name in ("f", "g"):
        status, _, err = run(capsys, "export", f"{path}:{name}", "-o", tmp_path / "out.py")
        assert status == 1 and "cannot export" in err and "has no source form" in err
    assert not (tmp_path / "out.py").exists()


def test_exported_constants_rebuild_their_values():
    from srcad.export import _literal
    values = [1, 2.5, float("inf"), "s", None, (1,), [1.0, (2, 3)], np.float32(1.5),
              np.arange(6.0).reshape(2, 3), np.array([1, 2], dtype=np.int32)]
    for value in values:
        rebuilt = eval(_literal(value), {"numpy": np})
        assert type(rebuilt) is type(value)
        np.testing.assert_array_equal(np.asarray(rebuilt, dtype=object),
                                      np.asarray(value, dtype=object))
