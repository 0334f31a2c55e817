"""Clean-ups on a generated function: constant folding, copy propagation, dead code.

In: a `FunctionDef` from `forward` or `reverse` (it may contain a nested pullback function).
Out: the same function, where in derivative statements numbers are folded (`2 - 1` -> `1`,
`x ** 1` -> `x`, `1.0 * e` -> `e`, `e - 0` -> `e`), a derivative copy `da = db` is replaced by
`db` where that is safe, and assignments whose value is never used and has no effect are
removed (repeatedly, so whole dead chains go). Primal statements are only ever removed, never
rewritten.
"""

import ast
import numbers

import numpy

from .. import annotations as anno
from .. import rules


def run(tree):
    _fold(tree)
    _propagate_copies(tree)
    while _remove_dead(tree):
        pass
    return tree


# constant folding --------------------------------------------------------------------------
def _fold(tree):
    for stmt in _statements(tree):
        if anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign):
            stmt.value = _Folder().visit(stmt.value)


def _number(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, numbers.Number) \
            and not isinstance(node.value, bool):
        return node.value
    return None


def _is(node, value):
    number = _number(node)
    return number is not None and number == value


class _Folder(ast.NodeTransformer):
    _ARITH = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b}

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = _number(node.left), _number(node.right)
        op = type(node.op)
        if left is not None and right is not None and op in self._ARITH:
            return ast.Constant(self._ARITH[op](left, right))
        if op is ast.Pow and _is(node.right, 1):
            return node.left
        if op in (ast.Add, ast.Sub) and _is(node.right, 0):
            return node.left
        if op is ast.Add and _is(node.left, 0):
            return node.right
        if op is ast.Mult and _is(node.left, 1):
            return node.right
        if op in (ast.Mult, ast.Div) and _is(node.right, 1):
            return node.left
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        inner = node.operand
        if isinstance(node.op, ast.USub) and isinstance(inner, ast.UnaryOp) \
                and isinstance(inner.op, ast.USub):
            return inner.operand
        return node


# copy propagation --------------------------------------------------------------------------
def _propagate_copies(tree):
    """Replace `da` by `db` after a top-level derivative copy `da = db` when both are single
    assignments and `da` is not returned."""
    for function in _functions(tree):
        stores = _store_counts(tree)
        returned = {n.id for s in function.body if isinstance(s, ast.Return)
                    for n in ast.walk(s) if isinstance(n, ast.Name)}
        params = {a.arg for a in function.args.args}
        kept = []
        renames = {}
        for stmt in function.body:
            _rename_loads(stmt, renames)
            if (anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign)
                    and isinstance(stmt.value, ast.Name)):
                target, source = stmt.targets[0].id, stmt.value.id
                if (stores.get(target) == 1 and stores.get(source, 0) + (source in params) <= 1
                        and target not in returned):
                    renames[target] = source
                    continue
            kept.append(stmt)
        function.body = kept


def _rename_loads(stmt, renames):
    if not renames:
        return
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in renames:
            node.id = renames[node.id]


# dead code ---------------------------------------------------------------------------------
def _remove_dead(tree):
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    return _prune(tree, used)


def _prune(node, used):
    changed = False
    for field in ("body", "orelse"):
        stmts = getattr(node, field, None)
        if not isinstance(stmts, list):
            continue
        kept = []
        for stmt in stmts:
            if isinstance(stmt, (ast.If, ast.FunctionDef, ast.For, ast.While)):
                changed |= _prune(stmt, used)   # (loop bodies too: dead work every trip)
                if isinstance(stmt, ast.If) and _empty(stmt.body) and _empty(stmt.orelse):
                    changed = True
                    continue
            elif _is_dead(stmt, used):
                changed = True
                continue
            kept.append(stmt)
        if field == "body" and not kept and isinstance(node, (ast.If, ast.For, ast.While)):
            kept = [ast.Pass()]
        setattr(node, field, kept)
    return changed


def _empty(stmts):
    return all(isinstance(s, ast.Pass) for s in stmts)


def _is_dead(stmt, used):
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return False
    target = stmt.targets[0]
    return isinstance(target, ast.Name) and target.id not in used and _pure(stmt.value)


def _pure(node):
    """True when evaluating `node` has no effect besides its value."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = anno.get(sub, anno.FUNC)
            if func is None and not anno.get(sub, anno.METHOD):
                continue                # a call srcad made: runtime helpers, numpy rules
            if not _pure_function(func):
                return False
    return True


def _pure_function(func):
    if func is None:
        return True
    module = getattr(func, "__module__", "") or ""
    if "random" in module:
        return False
    if rules.has_rule(func):
        return True
    return module.startswith("numpy") or isinstance(func, numpy.ufunc) or func in (len, float,
                                                                                  int, abs)


# walking -----------------------------------------------------------------------------------
def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _statements(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]


def _store_counts(tree):
    counts = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts
