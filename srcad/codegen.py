"""Emit generated functions as commented Python source, compile them and keep them findable.

In: a `FunctionDef` built by the passes, the user's `SourceInfo`, the user's globals and the
extra objects the code refers to by name (`FreeNames.bound`). Out: the source text, and a live
function whose globals are the user's module (so globals stay live) and whose extra names are
closure cells. The text is registered with `linecache`, so `inspect.getsource`, tracebacks and
pdb show the generated lines. `expression` gives the source text of one expression node, for
the other modules that write code (optimizer kernels) or quote the user's code in an error.
This is srcad's one unparser, and the only module that imports astor. The statements most of
generated code is made of (names, numbers, calls, arithmetic, short enough for one line) are
written by `_Short`, which writes what astor writes for them at a fraction of its cost (the
unparser was a tenth of generating long functions); anything else goes to astor.
"""

import ast
import hashlib
import linecache

import astor
from astor.op_util import Precedence, precedence_data, symbol_data

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
                for line in _source(stmt).rstrip("\n").splitlines():
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
    return _source(node).strip()


def expression(node):
    """The source text of the expression `node` (`W @ x + b`), as the value of an assignment
    writes it: astor puts parentheses around an expression written alone (and writes a string
    alone as a docstring), and where it breaks a long line it keeps the parentheses that make
    the break valid."""
    text = _source(ast.Assign(targets=[ast.Name(id=_HOLE, ctx=ast.Store())], value=node))
    return text[len(_HOLE) + 3:].rstrip("\n")


_HOLE = "_"


def _source(stmt):
    """`astor.to_source(stmt)`: from `_Short` where it writes the statement, else from astor."""
    text = _Short.statement(stmt)
    return astor.to_source(stmt) if text is None else text + "\n"


class _Unwritten(Exception):
    """A node `_Short` leaves to astor."""


_WIDTH = 79     # astor breaks longer lines (`source_repr.split_lines`)
_CONSTANT = precedence_data[ast.Constant]


class _Short:
    """The text astor writes for a statement of the usual kinds (an assignment, `x op= e`, an
    expression, `return`, `pass`) of names, numbers, attributes, calls, subscripts, slices,
    tuples, lists and unary and binary operations, on one line of at most 79 characters; None
    for anything else (strings, dicts, comparisons, lambdas, starred arguments, a long line:
    astor's string quoting and line breaking are its own). Parentheses follow astor's
    precedences, and each node is left with the `_pp` (the precedence its parent gives it)
    astor's own visit leaves, which a later astor call reads where a parent gives none (the
    value of an attribute, say)."""

    @classmethod
    def statement(cls, stmt):
        try:
            text = cls._statement(stmt)
        except _Unwritten:
            return None
        return text if len(text) <= _WIDTH else None

    @classmethod
    def _statement(cls, stmt):
        kind = stmt.__class__
        if kind is ast.Assign:
            own = precedence_data[ast.Assign]
            stmt.value._pp = own
            for target in stmt.targets:
                target._pp = own
            targets = "".join(cls.expr(t) + " = " for t in stmt.targets)
            return targets + cls.expr(stmt.value)
        if kind is ast.AugAssign:
            own = precedence_data[ast.AugAssign]
            stmt.value._pp = stmt.target._pp = own
            return f"{cls.expr(stmt.target)} {symbol_data[stmt.op.__class__]}= " \
                   f"{cls.expr(stmt.value)}"
        if kind is ast.Expr:
            stmt.value._pp = precedence_data[ast.Expr]
            return cls.expr(stmt.value)
        if kind is ast.Return:
            if stmt.value is None:
                return "return"
            stmt.value._pp = precedence_data[ast.Return]
            return "return " + cls.expr(stmt.value)
        if kind is ast.Pass:
            return "pass"
        raise _Unwritten

    @classmethod
    def expr(cls, node):
        kind = node.__class__
        if kind is ast.Name:
            return node.id
        writer = _WRITERS.get(kind)
        if writer is None:
            raise _Unwritten
        return writer(node)

    @classmethod
    def operand(cls, node):
        """A node astor writes without giving it a precedence (an attribute's value, what is
        called or subscripted): only those that never add parentheses of their own."""
        if node.__class__ not in _UNDELIMITED:
            raise _Unwritten
        return cls.expr(node)

    @classmethod
    def constant(cls, node):
        value = node.value
        if value is None or value is Ellipsis:
            return "..." if value is Ellipsis else "None"
        if value.__class__ not in (int, float, bool) or value != value \
                or value in (float("inf"), float("-inf")):
            raise _Unwritten                   # strings, bytes, complex, inf and nan
        return _delimited(repr(value), _CONSTANT, node)

    @classmethod
    def attribute(cls, node):
        return f"{cls.operand(node.value)}.{node.attr}"

    @classmethod
    def call(cls, node):
        args, keywords = node.args, node.keywords
        inner = Precedence.Comma if len(args) + len(keywords) > 1 else Precedence.call_one_arg
        parts = []
        for arg in args:
            arg._pp = inner
            parts.append(cls.expr(arg))
        for keyword in keywords:
            keyword.value._pp = Precedence.Comma
            prefix = f"{keyword.arg}=" if keyword.arg else "**"
            parts.append(prefix + cls.expr(keyword.value))
        return f"{cls.operand(node.func)}({', '.join(parts)})"

    @classmethod
    def subscript(cls, node):
        node.slice._pp = precedence_data[ast.Subscript]
        return f"{cls.operand(node.value)}[{cls.expr(node.slice)}]"

    @classmethod
    def slice(cls, node):
        own = precedence_data[ast.Slice]
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                part._pp = own
        text = (cls.expr(node.lower) if node.lower is not None else "") + ":"
        text += cls.expr(node.upper) if node.upper is not None else ""
        if node.step is not None:
            step = node.step
            text += ":" + ("" if step.__class__ is ast.Name and step.id == "None"
                           else cls.expr(step))
        return text

    @classmethod
    def sequence(cls, elts, trailing=False):
        for elt in elts:
            elt._pp = Precedence.Comma
        return ", ".join(cls.expr(elt) for elt in elts) + ("," if trailing else "")

    @classmethod
    def tuple(cls, node):
        text = cls.sequence(node.elts, len(node.elts) == 1)
        if node.elts and precedence_data[ast.Tuple] >= _given(node):
            return text
        return f"({text})"

    @classmethod
    def list(cls, node):
        return f"[{cls.sequence(node.elts)}]"

    @classmethod
    def binop(cls, node):
        op = node.op.__class__
        own = precedence_data[op]
        power = op is ast.Pow
        node.left._pp = Precedence.Pow + 1 if power else own
        node.right._pp = Precedence.PowRHS if power else own + 1
        text = f"{cls.expr(node.left)} {symbol_data[op]} {cls.expr(node.right)}"
        return _delimited(text, own, node)

    @classmethod
    def unaryop(cls, node):
        op = node.op.__class__
        own = precedence_data[op]
        node.operand._pp = own
        node.operand._p_op = node.op
        symbol = symbol_data[op]
        text = symbol + (" " if symbol.isalpha() else "") + cls.expr(node.operand)
        return _delimited(text, own, node)


def _given(node):
    """The precedence astor reads off `node` (the highest when no parent gave one)."""
    return getattr(node, "_pp", Precedence.highest)


def _delimited(text, own, node):
    """`text` in parentheses where astor puts them: the node binds less tightly than its
    parent's precedence asks."""
    return text if own >= _given(node) else f"({text})"


_WRITERS = {ast.Constant: _Short.constant, ast.Attribute: _Short.attribute,
            ast.Call: _Short.call, ast.Subscript: _Short.subscript, ast.Slice: _Short.slice,
            ast.Tuple: _Short.tuple, ast.List: _Short.list, ast.BinOp: _Short.binop,
            ast.UnaryOp: _Short.unaryop}
_UNDELIMITED = frozenset({ast.Name, ast.Attribute, ast.Call, ast.Subscript})


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
