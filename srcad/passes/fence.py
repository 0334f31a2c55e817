"""Reject unsupported syntax before any transform runs.

In: a parsed user `FunctionDef` (and the job's `info`, for errors). Out: the same tree,
unchanged, or an `UnsupportedSyntaxError` naming the construct and quoting the user's line.
Every node type is listed below, allowed or rejected with a reason, so nothing slips through
unnoticed.
"""

import ast

from ..errors import UnsupportedSyntaxError
from ..job import Job

ALLOWED = (
    # statements
    ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Pass, ast.If,
    ast.Assert, ast.Raise, ast.For, ast.While, ast.Break, ast.Continue,
    # expressions
    ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Attribute, ast.Subscript,
    ast.Slice, ast.Tuple, ast.List, ast.Dict, ast.Compare, ast.BoolOp, ast.IfExp, ast.keyword,
    ast.JoinedStr, ast.FormattedValue,
    # contexts, operators
    ast.Load, ast.Store, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
    ast.arguments, ast.arg,
)

REJECTED = {
    ast.Try: "a `try` statement",
    ast.With: "a `with` statement",
    ast.AsyncWith: "an `async with` statement",
    ast.AsyncFor: "an `async for` loop",
    ast.FunctionDef: "a nested function definition",
    ast.AsyncFunctionDef: "a nested async function",
    ast.ClassDef: "a class definition",
    ast.Lambda: "a lambda",
    ast.Global: "a `global` statement",
    ast.Nonlocal: "a `nonlocal` statement",
    ast.Delete: "a `del` statement",
    ast.Import: "an import inside the function",
    ast.ImportFrom: "an import inside the function",
    ast.Yield: "`yield` (generators)",
    ast.YieldFrom: "`yield from` (generators)",
    ast.Await: "`await`",
    ast.GeneratorExp: "a generator expression",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.Set: "a set literal",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Starred: "a starred expression (*args)",
    ast.Match: "a `match` statement",
}


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Check `tree`; raise UnsupportedSyntaxError at the first problem (at `job.info`)."""
    info = job.info
    args = tree.args
    if args.vararg or args.kwarg:
        _reject(info, tree, "a function with *args or **kwargs parameters")
    for stmt in tree.body:
        _check_statement(stmt, info)
    _check_returns(tree.body, info)
    _check_returns_a_value(tree, info)
    return tree


def _check_returns_a_value(tree, info):
    """A function that returns nothing (no `return`, or only `return` / `return None`) has
    nothing to differentiate: an error at its `def` line, not a zero derivative."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return
    raise UnsupportedSyntaxError(
        f"srcad differentiates what `{tree.name}` returns, but it returns nothing (no "
        "`return` with a value); return the value to differentiate", info.location(tree))


def _check_statement(stmt, info):
    for node in ast.walk(stmt):
        if isinstance(node, (ast.For, ast.While)) and node.orelse:
            _reject(info, node, f"`else` on a `{'for' if isinstance(node, ast.For) else 'while'}`"
                    " loop")
        if isinstance(node, ast.Dict) and not all(isinstance(k, ast.Constant)
                                                  for k in node.keys):
            _reject(info, node, "a dict literal without constant keys (or with **)")
        if isinstance(node, ast.For) and not _is_loop_target(node.target):
            _reject(info, node, "a loop target other than names (for a, b in ...)")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            _check_targets(node, info)
        if isinstance(node, ALLOWED):
            continue
        reason = REJECTED.get(type(node), f"`{type(node).__name__}` syntax")
        _reject(info, node if hasattr(node, "lineno") else stmt, reason)


def _check_targets(node, info):
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if isinstance(target, ast.Subscript):
            if len(targets) > 1 or not isinstance(target.value, ast.Name):
                _reject(info, node, "this assignment into an array element; write "
                        "`name[index] = value` with a single target")
            continue
        for sub in ast.walk(target):
            if isinstance(sub, ast.Subscript):
                _reject(info, node, "an assignment into an array element inside unpacking")
            if isinstance(sub, ast.Attribute):
                _reject(info, node, "an assignment to an attribute (obj.attr = ...)")
            if isinstance(sub, ast.Starred):
                _reject(info, node, "a starred assignment target (a, *rest = ...)")
    if isinstance(node, ast.AnnAssign) and node.value is None:
        _reject(info, node, "an annotation without a value")


def _is_loop_target(target):
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, ast.Tuple) and all(_is_loop_target(e) for e in target.elts)


def _check_returns(body, info):
    """Returns may end any path through branches, but not sit inside a loop."""
    for stmt in body:
        if isinstance(stmt, (ast.For, ast.While)):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Return):
                    _reject(info, node, "a `return` inside a loop; set a variable and `break`")
        if isinstance(stmt, ast.If):
            _check_returns(stmt.body, info)
            _check_returns(stmt.orelse, info)


def _reject(info, node, what):
    raise UnsupportedSyntaxError(f"srcad does not support {what}", info.location(node))
