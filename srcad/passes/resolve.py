"""Find the Python object behind every call and global attribute.

In: a fenced `FunctionDef` whose loops over static models are unrolled (`unroll`), and the job's
`names` (the function's namespace: globals, closure cells, builtins), `statics` (values known
while generating: a method's `self`, a model) and `locals`. Out: the same tree, where

* each `if` whose test a static model's settings decide (`if self.bias is None:`) is replaced
  by the branch taken (the settings are part of the code's cache key);
* each `ast.Call` carries annotation FUNC (the object it calls: `numpy.tanh`, a user function)
  or, when its receiver is a local array (`x.sum()`), METHOD (the method's name) and FUNC the
  matching `numpy.ndarray` method; a call of a `functools.partial` calls its function;
* reads rooted at a static model carry PARAM (a Parameter: `("self", "V.weight")`) or MODULE
  (a model: `("self", "V")`).

Attribute reads on globals (`np.pi`) are left to run as written. A name that denotes nothing is
an error at the user's line.
"""

import ast
import builtins
import functools
import types

import numpy

from .. import annotations as anno
from .. import models
from ..ast_util import walk
from ..callee import Callee
from ..codegen import expression
from ..errors import UnsupportedSyntaxError
from ..job import Job


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
    for node in walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Annotate the calls of `tree` and fold the branches on settings (see the module
    docstring)."""
    statics = job.statics
    locals_ = job.locals - set(statics)
    names = {**job.names, **statics}
    tree.body = _fold_settings(tree.body, statics) or [
        ast.Pass(lineno=tree.body[0].lineno, col_offset=0)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and anno.get(node, anno.FUNC) is None:
            _resolve_call(node, job.info, names, locals_)   # (desugar's helpers are known)
    _mark_modules(tree, statics, job.info.filename.startswith("<srcad"))
    return tree


def _mark_modules(tree, statics, generated=False):
    """Annotate chains rooted at a static module: PARAM on reads of its Parameters (`self.V.weight`
    -> ("self", "V.weight")), MODULE on chains denoting a module (`self.V` -> ("self", "V")).
    In srcad's generated code (`generated`), `self.V.weight.data` is how a Parameter is read:
    it is made `self.V.weight` (normalize reads `.data` of it again); a user's `.data` stays."""
    for node in ast.walk(tree):
        if generated and _parameter_data(node, statics):    # `self.V.weight.data` is read
            node.value, node.attr = node.value.value, node.value.attr  # as `self.V.weight`
        found = _module_chain(node, statics)
        if found is None:
            continue
        root, path, obj = found
        if models.is_parameter(obj):
            anno.set_(node, anno.PARAM, (root, path))
        elif models.is_model(obj):
            anno.set_(node, anno.MODULE, (root, path))


def _parameter_data(node, statics):
    """True for `<chain>.data` where the attribute chain denotes a static module's Parameter."""
    if not (isinstance(node, ast.Attribute) and node.attr == "data"
            and isinstance(node.value, ast.Attribute)):
        return False
    found = _module_chain(node.value, statics)
    return found is not None and models.is_parameter(found[2])


def _module_chain(node, statics):
    """For a read like `self.V.weight` or `self.layers[0]` rooted at a static module, through
    models only (what their structure captures): (root name, dotted path, the object it
    denotes now); None for anything else (`self.cfg.flag` is read at run time)."""
    if not isinstance(node, (ast.Attribute, ast.Name, ast.Subscript)) or not isinstance(
            node.ctx, ast.Load):
        return None
    parts, root = [], node
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        if isinstance(root, ast.Subscript) and not isinstance(root.slice, ast.Constant):
            return None
        parts.append(root.attr if isinstance(root, ast.Attribute) else root.slice.value)
        root = root.value
    if not isinstance(root, ast.Name) or not models.is_model(statics.get(root.id)):
        return None
    obj = statics[root.id]
    try:
        for part in reversed(parts):
            if not models.is_model(obj):    # `self.cfg.flag`: read at run time, not folded
                return None
            obj = getattr(obj, part) if isinstance(part, str) else obj[part]
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return root.id, ".".join(str(p) for p in reversed(parts)), obj


# ---- branches on a module's settings ----------------------------------------------------------
_UNKNOWN = object()


def _fold_settings(stmts, statics):
    """`stmts` with each `if` whose test a static module's settings decide (`if self.training:`,
    `if self.bias is None:`, `if self.reduction == "mean":`) replaced by the branch taken, and
    such tests inside `and`/`or` dropped; the settings are part of the code's cache key."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(
                    stmt, ast.FunctionDef):
                setattr(stmt, field, _fold_settings(getattr(stmt, field), statics))
        if isinstance(getattr(stmt, "body", None), list) and not stmt.body:
            stmt.body = [ast.Pass(lineno=stmt.lineno, col_offset=stmt.col_offset)]
        if isinstance(stmt, ast.If):
            test = _fold_test(stmt.test, statics)
            if isinstance(test, bool):
                out.extend(stmt.body if test else stmt.orelse)
                if out and isinstance(out[-1], ast.Return):
                    break                               # what follows cannot run
                continue
            stmt.test = test
        out.append(stmt)
        if isinstance(stmt, ast.Return):
            break
    return out


def _fold_test(test, statics):
    """`test` as True/False when the settings decide it, else with decided parts removed."""
    value = _setting(test, statics)
    if value is not _UNKNOWN:
        return bool(value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _fold_test(test.operand, statics)
        if isinstance(inner, bool):
            return not inner
        test.operand = inner
    elif isinstance(test, ast.BoolOp):
        deciding = isinstance(test.op, ast.Or)      # the value that decides an `or` is True
        rest = []
        for operand in test.values:
            folded = _fold_test(operand, statics)
            if folded is deciding:
                return deciding
            if not isinstance(folded, bool):
                rest.append(folded)
        if not rest:
            return not deciding
        test.values = rest
        return rest[0] if len(rest) == 1 else test
    return test


def _setting(node, statics):
    """The value of a test built from settings and constants (`self.bias is None`,
    `self.reduction == "sum"`, `self.training`), or _UNKNOWN."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        identity = isinstance(node.ops[0], (ast.Is, ast.IsNot))
        left, right = (_operand(n, statics, identity) for n in (node.left, node.comparators[0]))
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        compare = {ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
                   ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
        op = compare.get(type(node.ops[0]))
        return _UNKNOWN if op is None else op(left, right)
    found = _module_chain(node, statics)
    if found is not None and isinstance(found[2], models.SETTING_TYPES):
        return found[2]
    return _UNKNOWN


def _operand(node, statics, identity):
    """A constant, or a setting; for `is`/`is not` against None, any module attribute."""
    constants = models.SETTING_TYPES + (int, float)
    if isinstance(node, ast.Constant) and isinstance(node.value, constants):
        return node.value
    found = _module_chain(node, statics)
    if found is None:
        return _UNKNOWN
    value = found[2]
    if isinstance(value, models.SETTING_TYPES) or identity:
        return value
    return _UNKNOWN


def evaluate(expr, names, locals_):
    """The object a dotted name (`np.linalg.norm`, `self.layers[0]`) denotes, or raises
    KeyError/AttributeError/IndexError.

    Returns (object, is_local_root). A chain rooted at a local variable is not evaluated.
    """
    parts = []
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        if isinstance(expr, ast.Subscript):
            if not isinstance(expr.slice, ast.Constant):
                return None, True
            parts.append(("item", expr.slice.value))
        else:
            parts.append(("attr", expr.attr))
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None, True
    if expr.id in locals_:
        return None, True
    obj = names[expr.id]
    for kind, part in reversed(parts):
        obj = getattr(obj, part) if kind == "attr" else obj[part]
    return obj, False


def _resolve_call(node, info, names, locals_):
    func = node.func
    if anno.get(node, anno.BUILTIN) is not None:     # srcad's own `range(len(x))` of a loop
        anno.set_(node, anno.FUNC, getattr(builtins, anno.get(node, anno.BUILTIN)))
        return
    try:
        obj, local_root = evaluate(func, names, locals_)
    except (KeyError, AttributeError):
        raise UnsupportedSyntaxError(
            f"srcad cannot find what `{expression(func)}` refers to (an undefined name?)",
            info.location(node)) from None
    if isinstance(obj, Callee):                 # generated code calling a derivative: higher
        obj = obj.generated_function()          # orders transform that generated function
    if isinstance(obj, functools.partial) and isinstance(obj.func, types.FunctionType):
        _unwrap_partial(node, obj)
        obj = obj.func
    if not local_root:
        anno.set_(node, anno.FUNC, obj)
        return
    if isinstance(func, ast.Attribute):
        anno.set_(node, anno.METHOD, func.attr)
        anno.set_(node, anno.FUNC, getattr(numpy.ndarray, func.attr, None))
        return
    raise UnsupportedSyntaxError(
        f"srcad cannot differentiate a call of the local value `{expression(func)}`; call "
        "functions by their global name", info.location(node))


def _unwrap_partial(node, partial):
    """`p(x)` for `p = functools.partial(f, a, k=b)` becomes `p.func(p.args[0], x,
    k=p.keywords['k'])`, so `f` is differentiated like any user function."""
    owner = node.func
    node.func = ast.Attribute(value=owner, attr="func", ctx=ast.Load())
    bound = [ast.Subscript(value=ast.Attribute(value=owner, attr="args", ctx=ast.Load()),
                           slice=ast.Constant(i), ctx=ast.Load())
             for i in range(len(partial.args))]
    node.args = bound + node.args
    given = {k.arg for k in node.keywords}
    node.keywords = [ast.keyword(arg=key, value=ast.Subscript(
        value=ast.Attribute(value=owner, attr="keywords", ctx=ast.Load()),
        slice=ast.Constant(key), ctx=ast.Load())) for key in partial.keywords
        if key not in given] + node.keywords
