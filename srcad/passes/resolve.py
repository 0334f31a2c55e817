"""Find the Python object behind every call and global attribute.

In: a fenced `FunctionDef` and the function's namespace (globals, closure cells, builtins).
Out: the same tree, where each `ast.Call` carries annotation FUNC (the object it calls:
`numpy.tanh`, a user function) or, when its receiver is a local array (`x.sum()`), METHOD (the
method's name) and FUNC the matching `numpy.ndarray` method. Attribute reads on globals
(`np.pi`) are left to run as written.
"""

import ast
import builtins

import numpy

from .. import annotations as anno
from ..errors import UnsupportedSyntaxError


def namespace(func):
    """The names visible in `func`: its globals, its closure cells, builtins (lowest first)."""
    names = dict(vars(builtins))
    names.update(func.__globals__)
    code = func.__code__
    for var, cell in zip(code.co_freevars, func.__closure__ or ()):
        try:
            names[var] = cell.cell_contents
        except ValueError:              # empty cell: defined later in the enclosing function
            pass
    return names


def local_names(tree):
    """Parameters and names assigned in the function body."""
    args = tree.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def run(tree, info, names):
    """Annotate the calls of `tree`; `names` is `namespace(func)`."""
    locals_ = local_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            _resolve_call(node, info, names, locals_)
    return tree


def evaluate(expr, names, locals_):
    """The object a dotted name (`np.linalg.norm`) denotes, or raises KeyError/AttributeError.

    Returns (object, is_local_root). A chain rooted at a local variable is not evaluated.
    """
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None, True
    if expr.id in locals_:
        return None, True
    obj = names[expr.id]
    for part in reversed(parts):
        obj = getattr(obj, part)
    return obj, False


def _resolve_call(node, info, names, locals_):
    func = node.func
    try:
        obj, local_root = evaluate(func, names, locals_)
    except (KeyError, AttributeError):
        raise UnsupportedSyntaxError(
            f"srcad cannot find what `{ast.unparse(func)}` refers to (an undefined name?)",
            info.location(node)) from None
    if not local_root:
        anno.set_(node, anno.FUNC, obj)
        return
    if isinstance(func, ast.Attribute):
        anno.set_(node, anno.METHOD, func.attr)
        anno.set_(node, anno.FUNC, getattr(numpy.ndarray, func.attr, None))
        return
    raise UnsupportedSyntaxError(
        f"srcad cannot differentiate a call of the local value `{ast.unparse(func)}`; call "
        "functions by their global name", info.location(node))
