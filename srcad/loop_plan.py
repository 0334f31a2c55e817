"""What the adjoint of a loop gets back without a stack: its counter, run backwards, and the
values of its body that are cheap functions of counters and of names the loop never writes.

`passes/reverse` asks two questions of a loop it reverses (normal form, see `_Loop`):

* `backwards(loop, body_stores)`: for `for t in range(a, b):` whose trips all run (no `break`
  of its own), whose bounds read nothing the body writes and whose target nothing else in the
  body assigns, the iterable `range(b - 1, a - 1, -1)` that gives the counter's values last to
  first (numba compiles it; it has no `reversed`; `range(b + 1, a + 1)` for `range(a, b, -1)`,
  the loop `for x in reversed(xs)` becomes), else None: the loop counts its trips and pushes
  the counter like any other value.
* `recomputable(stmts, needed, ...)`: the assignments `v = X[i, j:j + 2]` (an entry or slice of
  a name, at indices computed from integers) and `v = i + 1` (arithmetic on integers) at the top
  of the body, of values the adjoint reads, that read only names the loop does not write, the
  counters and values recomputed before them: the adjoint recomputes them at the start of each
  reversed trip instead of popping a copy.

Integers here are the counters of the loops being reversed (`counters`), names that code
specialized to shapes knows to be scalars, numbers, and values recomputed from those. Out:
plain facts (an expression, a list of statements); the module changes no tree.
"""

import ast

from . import annotations as anno
from .ast_util import const, copy_node, stored, walk

_INDEX_NODES = (ast.Name, ast.Constant, ast.Slice, ast.Tuple, ast.UnaryOp, ast.BinOp,
                ast.Load, ast.operator, ast.unaryop)
_INTEGER_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)
_BOUND_NODES = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.BinOp, ast.UnaryOp,
                ast.Call, ast.Load, ast.operator, ast.unaryop, ast.Slice, ast.Tuple)


def backwards(loop, body_stores):
    """The iterable of the reversed trips of `loop` (see the module docstring), or None.
    `body_stores`: the names the loop's body assigns (nested blocks included)."""
    if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name)
            and loop.target.id not in body_stores and not _breaks(loop.body)):
        return None
    bounds = loop.iter
    if not (is_range(bounds) and not bounds.keywords and 1 <= len(bounds.args) <= 3):
        return None
    args = bounds.args
    step = 1 if len(args) < 3 else _whole_number(args[2])
    if step not in (1, -1):
        return None
    if any(not isinstance(n, _BOUND_NODES) or (isinstance(n, ast.Call) and not _is_len(n))
           for a in args for n in walk(a)):
        return None
    if any(isinstance(n, ast.Name) and n.id in body_stores for a in args for n in walk(a)):
        return None
    start, stop = (ast.Constant(0), args[0]) if len(args) == 1 else (args[0], args[1])
    reverse = copy_node(bounds)
    if step == 1:
        reverse.args = [_plus(stop, -1), _plus(start, -1), const(-1)]
    else:                               # range(a, b, -1) backwards: range(b + 1, a + 1)
        first = _plus(stop, 1)
        reverse.args = [_plus(start, 1)] if _whole_number(first) == 0 else [
            first, _plus(start, 1)]
    return reverse


def recomputable(stmts, needed, once, body_stores, integers):
    """The statements among `stmts` (the primal body, top level) whose value the adjoint
    recomputes, in their order (see the module docstring). `needed`: names the adjoint reads;
    `once`: names the body assigns exactly once, at its top level, and not before the loop
    (its target among them: given at the start of each trip); `body_stores`: every name the
    body assigns; `integers`: names that hold integers when they hold a value (counters, names
    code specialized to shapes knows to be scalars). A recomputed value reads names the loop
    does not write, or values assigned once before it in the trip (recomputed, or popped at the
    start of the reversed trip): the caller adds those it reads to what the adjoint needs."""
    candidates = {}
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name) and stmt.targets[0].id in once:
            candidates[stmt.targets[0].id] = stmt
    able = _able(stmts, candidates, once, body_stores, integers)
    wanted, todo = set(), [v for v in needed if v in able]
    while todo:                     # (what a recomputed value reads is recomputed if it can)
        var = todo.pop()
        if var not in wanted:
            wanted.add(var)
            todo.extend(n.id for n in walk(able[var].value)
                        if isinstance(n, ast.Name) and n.id in able)
    return [stmt for var, stmt in able.items() if var in wanted]


def _able(stmts, candidates, once, body_stores, integers):
    """{name: statement} of the `candidates` the adjoint could recompute, in their order: each
    reads names the loop does not write, or values assigned once before it in the trip."""
    available, integers, able = set(), set(integers), {}

    def readable(ident):
        return ident not in body_stores or ident in available

    def number(ident):
        return ident in integers and readable(ident)

    for stmt in stmts:
        target = stmt.targets[0].id if isinstance(stmt, ast.Assign) and isinstance(
            stmt.targets[0], ast.Name) else None
        if candidates.get(target) is stmt and (_entry(stmt.value, readable, number)
                                               or _arithmetic(stmt.value, number)):
            able[target] = stmt
            if _arithmetic(stmt.value, number):
                integers.add(target)
        available |= stored(stmt) & once
    return able


def _entry(value, readable, number):
    """True for `X[index]`: X a name it may read (`readable(X)`), the index built of integers
    (`number(i)`), whole numbers and slices of them."""
    return (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
            and readable(value.value.id)
            and all(isinstance(n, _INDEX_NODES) for n in walk(value.slice))
            and all(isinstance(n.op, _INTEGER_OPS) for n in walk(value.slice)
                    if isinstance(n, ast.BinOp))
            and all(number(n.id) for n in walk(value.slice) if isinstance(n, ast.Name))
            and not any(isinstance(n, ast.Constant) and not isinstance(n.value, int)
                        and n.value is not None for n in walk(value.slice)))


def _arithmetic(value, number):
    """True for `i + 1`, `-i`, `2 * i`: integer arithmetic on integers (`number(i)`) and whole
    numbers."""
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.op, ast.USub) and _integer_atom(value.operand, number)
    return (isinstance(value, ast.BinOp) and isinstance(value.op, _INTEGER_OPS)
            and _integer_atom(value.left, number) and _integer_atom(value.right, number))


def _integer_atom(node, number):
    if isinstance(node, ast.Name):
        return number(node.id)
    return isinstance(node, ast.Constant) and type(node.value) is int


def _breaks(stmts):
    """True when `stmts` hold a `break` (or `return`) of their own loop, not of a nested one."""
    for stmt in stmts:
        if isinstance(stmt, (ast.Break, ast.Return)):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def is_range(node):
    """True for a call of `range` (the user's, which normal form keeps under its name only
    where it resolved to the builtin; or one srcad wrote)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
        node.func.id == "range" or anno.get(node, anno.BUILTIN) == "range")


def _is_len(node):
    return anno.get(node, anno.FUNC) is len or anno.get(node, anno.BUILTIN) == "len"


def _whole_number(node):
    """The int `node` writes (`3`, `-1`), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _whole_number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _plus(node, number):
    """`node + number` (`node - 1`), numbers folded (`n - 1 + 1` is `n`)."""
    value = _whole_number(node)
    if value is not None:
        return const(value + number)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and (
            _whole_number(node.right) is not None):
        inner = _whole_number(node.right) * (1 if isinstance(node.op, ast.Add) else -1)
        node, number = node.left, number + inner
    if number == 0:
        return copy_node(node)
    op = ast.Add() if number > 0 else ast.Sub()
    return ast.BinOp(left=copy_node(node), op=op, right=ast.Constant(abs(number)))
