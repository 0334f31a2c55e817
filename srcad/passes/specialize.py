"""What the argument shapes decide: values computed from shapes, and the branches they choose.

In: a normal-form `FunctionDef` annotated with the static shapes of its names (SHAPES, from
`shapes`). Out: the same function (changed in place), for calls with arguments of those shapes,
where

* a name assigned once (outside loops) from what shapes determine (`np.ndim(x)`, `x.ndim`,
  `np.shape(x)`, `x.shape[i]`, `len(x)`, `np.size(x)`, and comparisons, `not`, `and`/`or`
  and integer arithmetic of those and of constants) is replaced by its value where it is read
  (an integer or a boolean, so `axis=dim` reads `axis=1`; a shape where it is indexed), and
  its assignment goes; where such a value is a size (`n = x.shape[0]`, `len(x)`, `x.size`)
  read as an operand of arithmetic that shapes do not decide (`1.0 / n`), the size read is
  put there instead (annotated SIZE with its number), so the code reads `1.0 / x.shape[0]`,
  not a number;
* an `if` whose test such a value decides is replaced by the branch taken, and a copy
  `a = b` it leaves (normal form's `input_1 = input`) goes where `a` and `b` hold one value
  throughout: `a` is read as `b`.

When it changed anything, the function's SHAPES is None: the shapes are worth inferring again
(a name assigned in two branches may now have one shape).
"""

import ast
import operator

import numpy

from .. import annotations as anno
from ..ast_util import copy_node
from ..job import Job
from .shapes import _UNKNOWN, _shape

_NONE = object()           # no value known
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Is: operator.is_, ast.IsNot: operator.is_not}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Specialize `tree` to the shapes it is annotated with (see the module docstring)."""
    static = anno.get(tree, anno.SHAPES)
    changed = False
    parameters = _parameters(tree)
    while True:
        counts = _assignment_counts(tree)
        values: dict[str, object] = {}     # name -> its value, where shapes decide it
        specializer = _Specializer(static, counts, values, parameters)
        body, chose = specializer.block(tree.body)
        tree.body = body or [ast.Pass()]
        numbers = {k: v for k, v in values.items() if type(v) in (int, bool)}
        if numbers:
            _substitute(tree, numbers, specializer.sizes, specializer.shape_reads)
        shapes_read = _drop_unread(tree, {k for k, v in values.items() if type(v) is tuple})
        aliases = _drop_copies(tree, specializer.copies, parameters)
        if not (chose or numbers or shapes_read or aliases):
            return anno.set_(tree, anno.SHAPES, None) if changed else tree
        changed = True


class _Shapes:
    """The static shapes in the form `shapes._shape` reads."""

    counters: frozenset[str] = frozenset()

    def __init__(self, static):
        self.static = static

    def __getitem__(self, ident):
        return self.static.get(ident, _UNKNOWN)

    def callee(self, node):
        return None

    def parameter(self, read):
        return _UNKNOWN

    def call_result(self, node, func):
        return _UNKNOWN


class _Specializer:
    def __init__(self, static, counts, values, parameters):
        self.shapes = _Shapes(static)
        self.counts = counts
        self.values = values
        self.parameters = parameters
        self.sizes = {}             # name -> the size read it was assigned (`x.shape[0]`)
        self.shape_reads = {}       # name -> the shape read it was assigned (`np.shape(x)`)
        self.copies = []            # `a = b` of the branches taken

    def block(self, stmts):
        """(new statements, whether a branch was chosen); fills `values` on the way."""
        out, chose = [], False
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                test = self.value(stmt.test)
                if test is not _NONE:
                    taken, _ = self.block(stmt.body if test else stmt.orelse)
                    out.extend(taken)
                    self.copies += [t for t in taken if isinstance(t, ast.Assign)
                                    and isinstance(t.value, ast.Name)]
                    chose = True
                    continue
                stmt.body, inner = self.block(stmt.body)
                stmt.orelse, inner_else = self.block(stmt.orelse)
                stmt.body = stmt.body or [ast.Pass()]
                chose = chose or inner or inner_else
            elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                    and self.counts.get(stmt.targets[0].id) == 1):
                value = self.value(stmt.value)
                if type(value) in (int, bool, tuple):
                    self.values[stmt.targets[0].id] = value
                if type(value) is int and self.is_size(stmt.value):
                    self.sizes[stmt.targets[0].id] = anno.set_(stmt.value, anno.SIZE, value)
                if type(value) is tuple and self.is_shape(stmt.value):
                    self.shape_reads[stmt.targets[0].id] = stmt.value
                if type(value) in (int, bool):
                    continue
            out.append(stmt)
        return out, chose

    def value(self, node):
        """The value of `node` if the shapes decide it, else _NONE."""
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) in (int, bool, str, type(None)) else _NONE
        if isinstance(node, ast.Name):
            return self.values.get(node.id, _NONE)
        if isinstance(node, ast.Compare):
            operands = [self.value(n) for n in [node.left] + node.comparators]
            if _NONE in operands or not all(type(op) in _COMPARE for op in node.ops):
                return _NONE
            return all(_COMPARE[type(op)](a, b) for op, a, b in
                       zip(node.ops, operands, operands[1:]))
        if isinstance(node, ast.BoolOp):
            operands = [self.value(n) for n in node.values]
            if _NONE in operands:
                return _NONE
            return (all if isinstance(node.op, ast.And) else any)(operands)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            operand = self.value(node.operand)
            if operand is _NONE or (isinstance(node.op, ast.USub) and type(operand) is not int):
                return _NONE
            return not operand if isinstance(node.op, ast.Not) else -operand
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, right = self.value(node.left), self.value(node.right)
            if type(left) is not int or type(right) is not int or (
                    isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0):
                return _NONE
            return _ARITHMETIC[type(node.op)](left, right)
        if isinstance(node, ast.Subscript):
            shape = self.value(node.value)
            index = self.value(node.slice)
            if type(shape) is tuple and type(index) is int and -len(shape) <= index < len(shape):
                return shape[index]
            return _NONE
        return self.shape_fact(node)

    def shape_fact(self, node):
        """`np.ndim(x)`, `x.ndim`, `np.shape(x)`, `x.shape`, `np.size(x)`, `x.size`,
        `len(x)` for `x` of a known shape; else _NONE (a shape is a tuple here)."""
        if isinstance(node, ast.Attribute) and node.attr in ("ndim", "shape", "size"):
            fact, operand = node.attr, node.value
        elif (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
                and anno.get(node, anno.FUNC) in _FACTS):
            fact, operand = _FACTS[anno.get(node, anno.FUNC)], node.args[0]
        else:
            return _NONE
        if not isinstance(operand, ast.Name):
            return _NONE
        shape = _shape(operand, self.shapes)
        if shape is None or (fact == "len" and not shape):
            return _NONE
        return {"ndim": len(shape), "shape": shape, "len": shape[0] if shape else None,
                "size": int(numpy.prod(shape, dtype=int))}[fact]

    def is_size(self, node):
        """True for a read of a size (`x.shape[0]`, `np.shape(x)[dim]`, `len(x)`, `x.size`,
        `np.size(x)`) of a name that holds the same value wherever the function reads it
        (a parameter never assigned, or a name assigned once), a name holding one, and
        integer arithmetic of those and of numbers (`np.size(x) // np.shape(x)[1]`)."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, _SIZE_ARITHMETIC):
            parts = [self.is_size(n) for n in (node.left, node.right)]
            return any(parts) and all(
                part or type(self.value(n)) is int for part, n in zip(parts, (node.left,
                                                                           node.right)))
        if isinstance(node, ast.Name):
            return node.id in self.sizes
        if isinstance(node, ast.Subscript) and type(self.value(node.slice)) is int:
            return (isinstance(node.value, ast.Name) and node.value.id in self.shape_reads) \
                or self.is_shape(node.value)
        if isinstance(node, ast.Attribute):
            return node.attr == "size" and self.stable(node.value)
        return isinstance(node, ast.Call) and anno.get(node, anno.FUNC) in (len, numpy.size) \
            and len(node.args) == 1 and not node.keywords and self.stable(node.args[0])

    def is_shape(self, node):
        """True for `x.shape` or `np.shape(x)` of a name `stable` says holds one value."""
        if isinstance(node, ast.Attribute):
            return node.attr == "shape" and self.stable(node.value)
        return isinstance(node, ast.Call) and anno.get(node, anno.FUNC) is numpy.shape \
            and len(node.args) == 1 and not node.keywords and self.stable(node.args[0])

    def stable(self, node):
        """True for a name that holds the same value wherever the function reads it: a
        parameter never assigned, or a name assigned once."""
        if not isinstance(node, ast.Name):
            return False
        count = self.counts.get(node.id, 0)
        return count == 1 and node.id not in self.parameters or (
            count == 0 and node.id in self.parameters)


_SIZE_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)
_FACTS = {numpy.ndim: "ndim", numpy.shape: "shape", numpy.size: "size", len: "len"}


def _parameters(tree):
    """The names of the parameters of the function `tree`."""
    arguments = tree.args
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [
        a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return {a.arg for a in every}


def _assignment_counts(tree):
    """How often each name is assigned; names assigned in loops count twice (not constant)."""
    counts = {}

    def visit(stmts, in_loop):
        for stmt in stmts:
            loop = in_loop or isinstance(stmt, (ast.For, ast.While))
            for node in ast.walk(stmt) if loop else [stmt]:
                for target in _targets(node):
                    counts[target] = counts.get(target, 0) + (2 if loop else 1)
            if not loop:
                for field in ("body", "orelse"):
                    visit(getattr(stmt, field, []), False)
    visit(tree.body, False)
    return counts


def _targets(node):
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _drop_unread(tree, names):
    """Remove the assignments of those `names` that nothing reads any more; True if any."""
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    unread = names - read
    if not unread:
        return False

    def keep(stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id in unread:
                continue
            if isinstance(stmt, ast.If):
                stmt.body = keep(stmt.body) or [ast.Pass()]
                stmt.orelse = keep(stmt.orelse)
            out.append(stmt)
        return out
    tree.body = keep(tree.body) or [ast.Pass()]
    return True


def _drop_copies(tree, copies, parameters):
    """A copy `a = b` from a branch taken (normal form's `input_1 = input` where the other
    branch assigned `input_1 = input[None]`) goes, and `a` is read as `b`, where both hold one
    value throughout (`a` is assigned there alone, `b` is a parameter never assigned or a
    name assigned once, before the copy): the code does not keep what a decided setting left.
    True if any."""
    counts = _assignment_counts(tree)
    renames = {}
    order = _statement_order(tree)
    for copy in copies:
        target, source = copy.targets[0], copy.value
        if not isinstance(target, ast.Name) or target.id in parameters \
                or counts.get(target.id) != 1 or source.id in renames or id(copy) not in order:
            continue
        if source.id in parameters:
            if counts.get(source.id, 0) == 0:
                renames[target.id] = source.id
        elif counts.get(source.id) == 1 and _assigned_before(tree, source.id, order[id(copy)],
                                                             order):
            renames[target.id] = source.id
    if not renames:
        return False

    def keep(stmts):
        out = []
        for stmt in stmts:
            if any(stmt is copy for copy in copies) and stmt.targets[0].id in renames:
                continue
            for field in ("body", "orelse"):
                if getattr(stmt, field, None):
                    setattr(stmt, field, keep(getattr(stmt, field)) or [ast.Pass()])
            out.append(stmt)
        return out
    tree.body = keep(tree.body) or [ast.Pass()]
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in renames:
            node.id = renames[node.id]
    return True


def _statement_order(tree):
    """`{id(statement): its position}` in the order the statements are written."""
    order = {}

    def visit(stmts):
        for stmt in stmts:
            order[id(stmt)] = len(order)
            for field in ("body", "orelse"):
                visit(getattr(stmt, field, []))
    visit(tree.body)
    return order


def _assigned_before(tree, ident, position, order):
    """True when the one assignment of `ident` is written before the statement at
    `position` (so a copy of it there copies that value)."""
    return any(order.get(id(stmt), position) < position for stmt in ast.walk(tree)
               if ident in _targets(stmt))


class _Substitute(ast.NodeTransformer):
    def __init__(self, values, sizes, shape_reads):
        self.values = values
        self.sizes = sizes
        self.shape_reads = shape_reads

    def visit_Subscript(self, node):
        """`shape[1]` of a name assigned a shape read reads that (`np.shape(x)[1]`)."""
        if isinstance(node.value, ast.Name) and node.value.id in self.shape_reads:
            node.value = ast.copy_location(copy_node(self.shape_reads[node.value.id]),
                                           node.value)
        self.generic_visit(node)
        return node

    def visit_BinOp(self, node):
        """An operand of arithmetic that shapes do not decide (`1.0 / n`, `total / n`) is the
        size read it was assigned, as the user wrote it (`1.0 / x.shape[0]`)."""
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Name) and operand.id in self.sizes \
                    and operand.id in self.values:
                setattr(node, side, ast.copy_location(copy_node(self.sizes[operand.id]),
                                                      operand))
        self.generic_visit(node)
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return ast.copy_location(ast.Constant(self.values[node.id]), node)
        return node


def _substitute(tree, values, sizes, shape_reads):
    """Reads of the names in `values` become their values (a returned name stays a name, with
    its assignment put back before the return); an operand of arithmetic in `sizes` becomes
    the size read it was assigned instead, and an item of a name in `shape_reads` an item of
    the shape read it was assigned."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) \
                and stmt.value.id in values:
            ident = stmt.value.id
            tree.body.insert(tree.body.index(stmt), ast.copy_location(ast.Assign(
                targets=[ast.Name(id=ident, ctx=ast.Store())],
                value=ast.Constant(values.pop(ident)), lineno=stmt.lineno), stmt))
            break
    _Substitute(values, sizes, shape_reads).visit(tree)
