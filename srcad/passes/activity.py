"""Activity analysis: which values depend on the inputs being differentiated and reach the
output.

In: a normal-form `FunctionDef` and the names of the active parameters (`wrt`). Out: the same
tree where each assignment whose value depends differentiably on an active input *and* flows
differentiably into the returned value carries annotation ACTIVE=True, and `run` returns the
set of active names. Comparisons, shapes, `len`, integer casts and primitives registered as
non-differentiable cut the dependence, so a value computed only for a test (`while
np.max(np.abs(step)) > tol`) gets no derivative code and no stack.
"""

import ast

import numpy

from .. import annotations as anno
from .. import rules
from ..ast_util import stored

_DIFFERENTIABLE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.USub,
                       ast.UAdd, ast.Mod)
_VALUE_ATTRS = {"T", "real", "imag", "mT"}


def run(tree, wrt):
    """Annotate `tree`; returns the set of active names."""
    active = set(wrt)
    _block(tree.body, active)
    needed = set()
    if tree.body and isinstance(tree.body[-1], ast.Return) and tree.body[-1].value is not None:
        needed = _names(tree.body[-1].value)
    _needed(tree.body, needed)
    for stmt in ast.walk(tree):
        if anno.get(stmt, anno.ACTIVE) and not stored(stmt) & needed:
            anno.set_(stmt, anno.ACTIVE, False)
    return (active & needed) | set(wrt)


def _needed(stmts, needed):
    """Add to `needed` the names whose derivative the names in `needed` (after `stmts`) need:
    walking backwards, an active assignment to a needed name needs the names it reads."""
    for stmt in reversed(stmts):
        if isinstance(stmt, ast.If):
            _needed(stmt.body, needed)
            _needed(stmt.orelse, needed)
        elif isinstance(stmt, (ast.For, ast.While)):
            size = -1
            while size != len(needed):             # to a fixed point: values flow around
                size = len(needed)
                _needed(stmt.body, needed)
        elif anno.get(stmt, anno.ACTIVE) and stored(stmt) & needed:
            needed |= _names(stmt.value)
        elif pushed(stmt) and pushed(stmt) in needed:
            needed |= _names(stmt.value.args[0])


def _names(node):
    """Names read by `node`, counting the model a parameter read or a module call refers to."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            names.add(n.id)
        for key in (anno.PARAM, anno.MODULE):
            ref = anno.get(n, key)
            if ref:
                names.add(ref[0])
    return names


def _block(stmts, active):
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            _block(stmt.body, active)
            _block(stmt.orelse, active)
        elif isinstance(stmt, (ast.For, ast.While)):
            size = -1
            while size != len(active):             # to a fixed point: values flow around
                size = len(active)
                _block(stmt.body, active)
        elif isinstance(stmt, ast.Assign) and is_active_value(stmt.value, active):
            anno.set_(stmt, anno.ACTIVE, True)
            active.add(stmt.targets[0].id)
        elif pushed(stmt) and _uses(active, stmt.value.args[0]):
            active.add(pushed(stmt))


def pushed(stmt):
    """The list a statement `stack.append(value)` pushes onto (generated loop code), or None."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if (isinstance(func, ast.Attribute) and func.attr == "append"
            and isinstance(func.value, ast.Name) and len(stmt.value.args) == 1):
        return func.value.id
    return None


def is_active_value(node, active):
    """True when the normal-form expression `node` carries a derivative of `active` names."""
    if isinstance(node, ast.Name):
        return node.id in active
    if anno.get(node, anno.PARAM):
        return anno.get(node, anno.PARAM)[0] in active
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _DIFFERENTIABLE_OPS) and _uses(active, node.left, node.right)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, _DIFFERENTIABLE_OPS) and _uses(active, node.operand)
    if isinstance(node, ast.Subscript):
        return _uses(active, node.value)
    if isinstance(node, ast.Attribute):
        return node.attr in _VALUE_ATTRS and _uses(active, node.value)
    if isinstance(node, (ast.Tuple, ast.List)):
        return _uses(active, *node.elts)
    if isinstance(node, ast.Dict):
        return _uses(active, *node.values)
    if isinstance(node, ast.Call):
        return _is_active_call(node, active)
    return False


def _is_active_call(node, active):
    func = anno.get(node, anno.FUNC)
    if rules.is_nondifferentiable(func) or _is_integer_cast(node):
        return False
    parts = list(node.args) + [k.value for k in node.keywords]
    if anno.get(node, anno.METHOD):
        parts.append(node.func.value)
    module = anno.get(node.func, anno.MODULE)
    return _uses(active, *parts) or (module is not None and module[0] in active)


def _is_integer_cast(node):
    if anno.get(node, anno.METHOD) != "astype" or not node.args:
        return False
    dtype = node.args[0]
    label = ast.unparse(dtype).split(".")[-1].strip("'\"")
    try:
        return numpy.dtype(label).kind in "biu"
    except TypeError:
        return False


def _uses(active, *nodes):
    """True when an atom (or an element of a list atom) is an active name."""
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in active:
            return True
        if isinstance(node, (ast.Tuple, ast.List)) and _uses(active, *node.elts):
            return True
    return False
