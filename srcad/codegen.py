"""Emit generated functions as commented Python source, compile them and keep them findable.

In: a `FunctionDef` built by the passes, the user's `SourceInfo`, the user's globals and the
extra objects the code refers to by name (`FreeNames.bound`). Out: the source text, and a live
function whose globals are the user's module (so globals stay live) and whose extra names are
closure cells. The text is registered with `linecache`, so `inspect.getsource`, tracebacks and
pdb show the generated lines. `expression` gives the source text of one expression node, for
the other modules that write code (optimizer kernels) or quote the user's code in an error.
This is srcad's one unparser, and the only module that imports astor.
"""

import ast
import hashlib
import linecache

import astor

from . import annotations as anno

_INDENT = "    "


def emit(fdef, info, derivative_label="grad of"):
    """The source text of `fdef`, with a comment naming the user line of each group."""
    lines = []
    emitter = _Emitter(info, derivative_label, lines)
    emitter.function(fdef, 0)
    text = "\n".join(lines) + "\n"
    if emitter.derivative:
        _EMITTED[text] = frozenset(emitter.derivative)
    return text


class _Emitter:
    def __init__(self, info, label, lines):
        self.info = info
        self.label = label
        self.lines = lines
        self.last = None
        self.derivative = set()     # the line numbers (from 1) of derivative statements

    def function(self, fdef, depth):
        signature = astor.to_source(ast.FunctionDef(
            name=fdef.name, args=fdef.args, body=[ast.Pass()], decorator_list=[],
            returns=None, type_comment=None)).rstrip("\n").splitlines()[:-1]
        self.lines.extend(_INDENT * depth + line for line in signature)
        self.last = None
        self.block(fdef.body, depth + 1)

    def block(self, stmts, depth):
        for stmt in stmts:
            self.comment(stmt, depth)
            if isinstance(stmt, ast.FunctionDef):
                self.function(stmt, depth)
            elif isinstance(stmt, ast.If):
                self.branch(stmt, depth)
            elif isinstance(stmt, ast.For):
                head = f"for {expression(stmt.target)} in {expression(stmt.iter)}:"
                self.lines.append(_INDENT * depth + head)
                self.block(stmt.body, depth + 1)
            elif isinstance(stmt, ast.While):
                self.lines.append(f"{_INDENT * depth}while {expression(stmt.test)}:")
                self.block(stmt.body, depth + 1)
            else:
                for line in astor.to_source(stmt).rstrip("\n").splitlines():
                    self.lines.append(_INDENT * depth + line)
                    if anno.get(stmt, anno.DERIVATIVE):
                        self.derivative.add(len(self.lines))

    def branch(self, stmt, depth):
        self.lines.append(f"{_INDENT * depth}if {expression(stmt.test)}:")
        self.block(stmt.body, depth + 1)
        if stmt.orelse:
            self.lines.append(f"{_INDENT * depth}else:")
            self.block(stmt.orelse, depth + 1)

    def comment(self, stmt, depth):
        origin = anno.get(stmt, anno.ORIGIN)
        if origin is None or self.info is None:
            return
        derivative = bool(anno.get(stmt, anno.DERIVATIVE)) and self.label is not None
        key = (origin, derivative)
        if key == self.last or (not derivative and self.last == (origin, False)):
            return
        if self.label is None and self.last is not None and self.last[0] == origin:
            return
        self.last = key
        prefix = f"{self.label} line" if derivative else "line"
        text = " ".join(self.info.text(origin).splitlines())   # \x0c, \u2028... end lines too
        self.lines.append(f"{_INDENT * depth}# {prefix} {self.info.label(origin)}: {text}")


def statement(node):
    """The source text of the statement `node` (a loop's whole text: its head first)."""
    return astor.to_source(node).strip()


def expression(node):
    """The source text of the expression `node` (`W @ x + b`), as the value of an assignment
    writes it: astor puts parentheses around an expression written alone (and writes a string
    alone as a docstring), and where it breaks a long line it keeps the parentheses that make
    the break valid."""
    text = astor.to_source(ast.Assign(targets=[ast.Name(id=_HOLE, ctx=ast.Store())],
                                      value=node))
    return text[len(_HOLE) + 3:].rstrip("\n")


_HOLE = "_"


ORIGINS: dict = {}
"""The file name of compiled generated code -> the `SourceInfo` of the user function it
derives from (for errors raised while it runs; see `dispatch.relocated`)."""
DERIVATIVE_LINES: dict = {}
"""The file name of compiled generated code -> the lines of its derivative statements."""
_EMITTED: dict = {}     # emitted text -> its derivative lines, until it is compiled


def compile_function(text, name, user_globals, bound, info=None):
    """Compile `text` (defining `name`) with `bound` objects visible; returns the function.
    `info`, the user function's `SourceInfo`, lets errors name the user's line."""
    params = ", ".join(sorted(bound))
    body = "".join(_INDENT + line + "\n" if line else "\n" for line in text.splitlines())
    module_text = f"def _srcad_make({params}):\n{body}{_INDENT}return {name}\n"
    digest = hashlib.sha1(module_text.encode()).hexdigest()[:10]
    filename = f"<srcad {name} {digest}>"
    linecache.cache[filename] = (len(module_text), None, module_text.splitlines(True), filename)
    if info is not None:
        ORIGINS[filename] = info
    derivative = _EMITTED.pop(text, ())
    if derivative:       # `text` is the body of `_srcad_make`: one line further down
        DERIVATIVE_LINES[filename] = frozenset(line + 1 for line in derivative)
    code = compile(module_text, filename, "exec")
    namespace = {}
    exec(code, user_globals, namespace)
    function = namespace["_srcad_make"](**{k: bound[k] for k in sorted(bound)})
    function.__qualname__ = name
    return function
