"""The command line: `srcad show | check | explain | export path/to/file.py:func` (or
`python -m srcad`).

In: command-line arguments naming a function in a Python file. Out: on stdout, the generated
source (`show`, syntax-highlighted on a terminal), a gradient check's comparisons and largest
error (`check`), the per-line report of `srcad.explain` (`explain`), or a standalone module
written to a file (`export`); the exit status is 0 on success, 1 when a check fails or srcad
rejects the function, 2 for bad arguments. Every command differentiates with respect to the
first argument unless `--wrt` says otherwise (as `srcad.grad` does)::

    srcad show model.py:loss --mode reverse --wrt W,b
    srcad check model.py:loss --shapes x=3,W=2x3 --wrt all
    srcad explain model.py:loss --shapes x=3,W=2x3,labels=5:int10
    srcad export model.py:loss -o grad_loss.py
"""

import argparse
import builtins
import importlib.util
import inspect
import io
import keyword
import os
import sys
import tokenize
from pathlib import Path

import numpy

from . import api, codegen, explaining, export, generation, testing
from .errors import SrcadError
from .kinds import GRAD, JVP

_KINDS = {"forward": JVP, "reverse": GRAD}


class UsageError(Exception):
    """A command-line argument that names no file, no function or no valid shape."""


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except UsageError as exc:
        print(f"srcad {args.name}: {exc}", file=sys.stderr)
        return 2
    except SrcadError as exc:
        print(exc, file=sys.stderr)
        return 1


def _parser():
    parser = argparse.ArgumentParser(
        prog="srcad", description="Read, check and export the derivative code srcad "
                                  "generates for a function in a Python file.")
    commands = parser.add_subparsers(required=True, metavar="command")

    show = commands.add_parser("show", help="print the generated derivative source")
    _common(show)
    show.add_argument("--stage", choices=("normalize", "raw", "optimized"), default="optimized",
                      help="normalize: your function in normal form; raw: the derivative "
                           "before optimization; optimized: what runs (default)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="syntax highlighting (auto: on a terminal, unless NO_COLOR is set)")
    show.set_defaults(command=_show, name="show")

    check = commands.add_parser("check", help="check the derivatives against finite "
                                              "differences at random inputs")
    check.add_argument("target", help="path/to/file.py:function")
    _shapes(check)
    check.add_argument("--wrt", help="comma-separated argument names or positions, or `all` "
                                     "for every float argument (default: the first argument)")
    check.add_argument("--modes", help="fwd, rev or fwd,rev (the default for --order 1; for "
                                       "--order 2 the default is fwd: forward over reverse)")
    check.add_argument("--order", type=int, choices=(1, 2), default=1)
    check.add_argument("--seed", type=int, default=0)
    check.set_defaults(command=_check, name="check")

    explainer = commands.add_parser("explain", help="report what srcad does to each line, "
                                                    "and why, at random inputs of these shapes")
    _common(explainer)
    _shapes(explainer)
    explainer.add_argument("--seed", type=int, default=0)
    explainer.set_defaults(command=_explain, name="explain")

    exporter = commands.add_parser("export", help="write the derivative as a module that "
                                                  "needs only numpy")
    _common(exporter)
    exporter.add_argument("-o", "--output", required=True, help="the .py file to write")
    exporter.set_defaults(command=_export, name="export")
    return parser


def _common(parser):
    parser.add_argument("target", help="path/to/file.py:function")
    parser.add_argument("--mode", choices=tuple(_KINDS), default="reverse",
                        help="forward (jvp) or reverse (grad, the default)")
    parser.add_argument("--wrt", help="comma-separated argument names or positions "
                                      "(default: the first argument)")


def _shapes(parser):
    parser.add_argument("--shapes", default="",
                        help="argument shapes, e.g. x=3,W=2x3; s=scalar for a float; "
                             "integers in [0, N) as labels=5:intN (k=scalar:intN for one)")


def load_function(target):
    """The function named by `path/to/file.py:name` (`name` may be dotted: `Class.method`).
    The file is imported as a module (its directory first on sys.path), not run as __main__."""
    path, colon, name = target.rpartition(":")
    if not colon or not path or not name:
        raise UsageError(f"{target!r}: name a function as path/to/file.py:function")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    obj = _import_file(file.resolve())
    for part in name.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{path} has no function {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{path}:{name} is a {type(obj).__name__}, not a function")
    return obj


def _import_file(path):
    """The module of the file at `path`, imported once (so rules registered on its functions
    apply to later calls in the same process)."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == str(path):
            return module
    name = path.stem if path.stem not in sys.modules else f"_srcad_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    sys.path.insert(0, folder)                  # its own imports, while it is imported
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _wrt(text):
    if not text:
        return 0
    items = [int(item) if item.strip().lstrip("-").isdigit() else item.strip()
             for item in text.split(",")]
    return items[0] if len(items) == 1 else tuple(items)


def _derivative(args):
    func = load_function(args.target)
    return api.Derivative(func, _KINDS[args.mode], _wrt(args.wrt))


def _show(args):
    derivative = _derivative(args)
    if args.stage == "optimized":
        text = derivative.source()
    else:
        text = stage_source(derivative, args.stage)
    use_color = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    sys.stdout.write(highlight(text) if use_color else text)
    return 0


def stage_source(derivative, stage):
    """The source of `derivative` (and of the derivatives it calls) as the pipeline has it
    after `stage`: "normalize", "raw" or "optimized"."""
    texts, seen = [], set()
    todo = [(derivative.func, derivative.kind, derivative.wrt, derivative.statics)]
    while todo:
        func, kind, wrt, statics = todo.pop(0)
        key = (func, kind, wrt)
        if key in seen:
            continue
        seen.add(key)
        captured = []

        def keep(name, fdef, info, kind=kind, captured=captured):
            if name == stage:
                label = None if kind == JVP else "grad of"
                captured.append(codegen.emit(fdef, info, label))

        generated = generation.generate(func, kind, wrt, statics=statics, on_stage=keep)
        texts.extend(captured)
        todo.extend((c.func, c.kind, c.wrt, c.statics) for c in generated.callees)
    return "\n\n".join(texts)


def _check(args):
    func = load_function(args.target)
    shapes = parse_shapes(args.shapes)
    values = random_arguments(func, shapes, numpy.random.default_rng(args.seed))
    modes = args.modes or ("fwd,rev" if args.order == 1 else "fwd")
    modes = tuple(m.strip() for m in modes.split(",") if m.strip())
    wrt = None if args.wrt == "all" else _wrt(args.wrt)
    print(f"checking {args.target} at random inputs: " + ", ".join(
        f"{name}{_describe(value)}" for name, value in zip(generation.parameters(func), values)))
    try:
        report = testing.check_grads(func, values, modes=modes, order=args.order, wrt=wrt,
                                     seed=args.seed)
    except AssertionError as exc:
        print(f"FAILED: {exc}")
        return 1
    except SrcadError:
        raise
    except Exception as exc:                     # raised by the user's code at these inputs
        raise UsageError(_failed_call(func, exc)) from None
    print(report)
    print(f"max error: {report.max_error:.3e}  (all checks passed)")
    return 0


def _failed_call(func, exc):
    return (f"calling {func.__name__} on random inputs of these shapes raised "
            f"{type(exc).__name__}: {exc}. Integer arguments (class labels, indices) are "
            "given as --shapes labels=5:intN (5 integers in [0, N))")


def _explain(args):
    func = load_function(args.target)
    values = random_arguments(func, parse_shapes(args.shapes),
                              numpy.random.default_rng(args.seed))
    try:
        report = explaining.explain(func, *values, wrt=_wrt(args.wrt), mode=args.mode)
    except SrcadError:
        raise
    except Exception as exc:                     # raised by the user's code at these inputs
        raise UsageError(_failed_call(func, exc)) from None
    print(report.text)
    return 1 if report.error is not None else 0


class Integers(tuple):
    """The shape of an integer argument (a tuple), with `high`: its values are in [0, high)."""

    high = 2


def parse_shapes(text):
    """`"x=3,W=2x3,s=scalar,y=4:int10"` as {"x": (3,), "W": (2, 3), "s": (), "y": (4,)}, the
    last an `Integers` shape with high 10; `s=()` is accepted as `s=scalar`."""
    shapes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, shape = item.partition("=")
        shape, colon, integers = shape.strip().partition(":")
        try:
            if not equals or not name.strip():
                raise ValueError
            dims = () if shape in ("", "()", "scalar") else tuple(
                int(n) for n in shape.lower().split("x"))
            if colon:
                if not integers.startswith("int"):
                    raise ValueError
                dims = Integers(dims)
                dims.high = int(integers[3:])
        except ValueError:
            raise UsageError(f"--shapes: {item!r} is not name=shape (like W=2x3, s=scalar, "
                             "or labels=5:int10 for 5 integers in [0, 10))") from None
        shapes[name.strip()] = dims
    return shapes


def random_arguments(func, shapes, rng):
    """Standard normal arguments of the given shapes (a float for shape ()), in `func`'s
    parameter order; parameters without a shape take their default value."""
    values = []
    unknown = set(shapes) - set(generation.parameters(func))
    if unknown:
        raise UsageError(f"--shapes names {sorted(unknown)}, which are not parameters of "
                         f"{func.__name__}{inspect.signature(func)}")
    for name, param in inspect.signature(func).parameters.items():
        if name in shapes:
            shape = shapes[name]
            if isinstance(shape, Integers):
                values.append(rng.integers(0, shape.high, size=shape) if shape
                              else int(rng.integers(0, shape.high)))
            else:
                values.append(float(rng.standard_normal()) if not shape
                              else rng.standard_normal(shape))
        elif param.default is not param.empty:
            values.append(param.default)
        else:
            raise UsageError(f"give the shape of `{name}` with --shapes, e.g. {name}=3 or "
                             f"{name}=2x3")
    return values


def _describe(value):
    shape = numpy.shape(value)
    return "=float" if isinstance(value, float) else (
        f"[{'x'.join(map(str, shape))}{' int' if value.dtype.kind == 'i' else ''}]"
        if isinstance(value, numpy.ndarray) else f"={value!r}")


def _export(args):
    derivative = _derivative(args)
    text = export.module_source(derivative, args.target)
    Path(args.output).write_text(text)
    print(f"wrote {args.output}: {derivative.generated.function.__name__}"
          f"{_signature(derivative)}, needs only "
          + ", ".join(sorted({line.split()[1] for line in text.splitlines()
                              if line.startswith("import ")})))
    return 0


def _signature(derivative):
    return str(inspect.signature(derivative.generated.function))


# Syntax highlighting: ANSI colors chosen per token, from the standard tokenize module.
_RESET = "\033[0m"
_COLORS = {
    "keyword": "\033[1;35m",     # bold magenta
    "builtin": "\033[36m",       # cyan
    "string": "\033[32m",        # green
    "number": "\033[33m",        # yellow
    "comment": "\033[2;37m",     # dim grey
    "definition": "\033[1;34m",  # bold blue: the name after def/class
}
_BUILTINS = set(dir(builtins))


def highlight(text):
    """`text` (Python source) with ANSI color codes around keywords, names of definitions,
    builtins, strings, numbers and comments; the text itself is unchanged."""
    lines = text.splitlines(True)
    out, row, col, previous = [], 1, 0, None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for token in tokens:
        (start_row, start_col), (end_row, end_col) = token.start, token.end
        out.append(_between(lines, (row, col), (start_row, start_col)))
        piece = _between(lines, token.start, token.end)
        color = _color(token, previous)
        out.append(f"{_COLORS[color]}{piece}{_RESET}" if color and piece else piece)
        row, col = end_row, end_col
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT):
            previous = token
    out.append(_between(lines, (row, col), (len(lines) + 1, 0)))
    return "".join(out)


def _between(lines, start, end):
    """The text of `lines` from (row, col) `start` up to `end` (rows count from 1)."""
    (r1, c1), (r2, c2) = start, end
    if (r1, c1) >= (r2, c2) or r1 > len(lines):
        return ""
    if r1 == r2:
        return lines[r1 - 1][c1:c2]
    middle = "".join(lines[r1:min(r2 - 1, len(lines))])
    tail = lines[r2 - 1][:c2] if r2 - 1 < len(lines) else ""
    return lines[r1 - 1][c1:] + middle + tail


def _color(token, previous):
    if token.type == tokenize.COMMENT:
        return "comment"
    if token.type == tokenize.STRING:
        return "string"
    if token.type == tokenize.NUMBER:
        return "number"
    if token.type != tokenize.NAME:
        return None
    if previous is not None and previous.string in ("def", "class"):
        return "definition"
    if keyword.iskeyword(token.string):
        return "keyword"
    if token.string in _BUILTINS and (previous is None or previous.string != "."):
        return "builtin"
    return None
