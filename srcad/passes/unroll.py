"""Unroll the loops over the models of a model known while generating.

In: a fenced `FunctionDef` (before `resolve`) and the job's `names`, `statics` (a method's
`self`, a model) and `locals`. Out: the same tree, where each `for m in self.layers:` whose
iterable denotes, while generating, a model that holds a non-empty sequence of models (a
`Sequential`, a `ModuleList`; a plain name as target, no `else`) is replaced by one copy of its
body per model, in which `m` reads `self.layers[0]`, `self.layers[1]`, ... (the number of models
is part of the model's structure, hence of the code's cache key; a plain list's length is not).
`resolve` then finds each copy's own calls.
"""

import ast

from .. import models
from ..ast_util import copy_node
from ..job import Job
from .resolve import evaluate


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Unroll the loops over static models of `tree` (see the module docstring)."""
    _unroll_module_loops(tree, {**job.names, **job.statics}, job.locals - set(job.statics))
    return tree


def _unroll_module_loops(tree, names, locals_):
    """`for m in self.layers:` over a list of modules known while generating becomes one copy
    of the body per module, with `m` replaced by `self.layers[i]` (the length is structure)."""
    for node in list(ast.walk(tree)):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            out = []
            for stmt in stmts:
                items = _static_items(stmt, names, locals_)
                if items is None:
                    out.append(stmt)
                    continue
                for i in range(len(items)):
                    element = ast.Subscript(value=copy_node(stmt.iter), slice=ast.Constant(i),
                                            ctx=ast.Load())
                    out.extend(_substitute(copy_node(s), stmt.target.id, element)
                               for s in stmt.body)
            setattr(node, field, out)


def _static_items(stmt, names, locals_):
    """The models that `stmt`, a loop over a static container of models, walks; else None."""
    if not (isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name)
            and not stmt.orelse):
        return None
    try:
        obj, local_root = evaluate(stmt.iter, names, locals_)
    except (KeyError, AttributeError, IndexError, TypeError):
        return None
    if local_root or not models.is_model(obj):    # (a plain list's length is no structure)
        return None
    try:
        items = list(obj)
    except TypeError:
        return None
    if not items or not all(models.is_model(item) for item in items):
        return None
    return items


def _substitute(stmt, var, replacement):
    """`stmt` with each read of the name `var` replaced by a copy of `replacement`."""
    for node in ast.walk(stmt):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.Name) and value.id == var and isinstance(value.ctx,
                                                                               ast.Load):
                setattr(node, field, copy_node(replacement))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.Name) and item.id == var and isinstance(
                            item.ctx, ast.Load):
                        value[i] = copy_node(replacement)
    return stmt
