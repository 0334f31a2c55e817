"""Derivative templates: Python functions whose body is the derivative rule, filled at codegen.

A template is an ordinary function in `templates/`. Its first parameter names the result, the
others the primitive's arguments (with the primitive's defaults). In the body, `d[v]` is the
derivative of `v`: `d[x] += e` accumulates an adjoint (reverse mode), `d[y] = e` defines a tangent
(forward mode), and `d[v]` inside an expression reads one (`d.full[v]`: the same, but zeros
like `v` instead of dropping the term when `v` has no derivative)::

    @adjoint(numpy.tanh)
    def tanh(y, x):
        d[x] += d[y] * (1.0 - y * y)

In: a `Template`, the AST nodes bound to its parameters, and a function giving the derivative
name of a variable (None when the variable is not differentiated). Out: a list of statements in
which parameters are replaced by the bound nodes, template locals by fresh names, and `d[v]` by
derivative names; terms whose derivative is zero are removed. Names the body takes from its
module (numpy, runtime helpers) are returned with their objects, for codegen to bind.
"""

import ast
import builtins
import collections
import inspect
import textwrap

import numpy

from . import annotations as anno
from . import runtime
from .ast_util import child_fields, const, copy_node, name, walk
from .errors import TemplateError


class _Derivative:
    """The `d` of templates: `d[x]` (and `d.full[x]`) only have meaning inside a template
    body."""

    def __getitem__(self, item):
        raise TemplateError("d[...] is template syntax; templates are never called directly")


d = _Derivative()

ZERO = "__srcad_zero__"       # marker name for a derivative known to be zero


class Template:
    """One derivative rule: its key (the primitive object), mode, and parsed body.

    The body is the function's own, or, for a rule made by a shorthand (`srcad.shorthands`),
    the statements `build()` derives from it, with the parameters `signature` gives and the
    module's names seen through `names` (what the derived body calls)."""

    def __init__(self, func, key, mode, broadcasts=False, build=None, signature=None,
                 names=None):
        self.func = func
        self.key = key
        self.mode = mode                          # "adjoint" or "tangent"
        self.broadcasts = broadcasts              # a zero-folded sum is broadcast to the result
        self.signature = signature or inspect.signature(func)
        self.name = func.__name__
        self.globals = collections.ChainMap(names, func.__globals__) if names else \
            func.__globals__
        self._build = build
        self._body = None

    def __repr__(self):
        return f"<{self.mode} template {self.name} in {self.func.__module__}>"

    @property
    def body(self):
        """The template's statements, parsed (or derived) once."""
        if self._body is None:
            self._body = self._build() if self._build else definition(self.func).body
        return self._body

    def bind(self, result, args, keywords):
        """Map parameter names to AST nodes for a call `result = prim(*args, **keywords)`."""
        try:
            bound = self.signature.bind(result, *args, **keywords)
        except TypeError as exc:
            raise TemplateError(f"the call does not match the rule {self.name}{self.signature}: "
                                f"{exc}") from None
        binding = {}
        for param in self.signature.parameters.values():
            if param.name in bound.arguments:
                value = bound.arguments[param.name]
                if param.kind is param.VAR_POSITIONAL:
                    value = ast.Tuple(elts=list(value), ctx=ast.Load())
                binding[param.name] = value
            elif param.kind is param.VAR_POSITIONAL:
                binding[param.name] = ast.Tuple(elts=[], ctx=ast.Load())
            else:
                binding[param.name] = const(param.default)
        return binding


def definition(func):
    """The `FunctionDef` of `func`, parsed from its source."""
    return ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]


def fill(template, binding, derivative_of, namer, bind_free):
    """Instantiate `template` with `binding`; returns its statements.

    `derivative_of(name)` gives a variable's derivative name or None; `bind_free(ident, obj)`
    makes a template-module object (numpy, a runtime helper) visible to the generated code
    and returns the name to call it by.
    """
    filler = _Filler(template, binding, derivative_of, namer, bind_free)
    stmts = []
    for stmt in template.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue                                  # docstring
        stmts.extend(filler.statement(copy_node(stmt), _stored_names(stmt)))
    return stmts


class _Filler(ast.NodeTransformer):
    def __init__(self, template, binding, derivative_of, namer, bind_free):
        self.template = template
        self.binding = binding
        self.derivative_of = derivative_of
        self.namer = namer
        self.bind_free = bind_free
        self.locals = {}

    # statements ---------------------------------------------------------------------------
    def visit(self, node):
        """`ast.NodeTransformer.visit`, its method found once per node class."""
        cls = node.__class__
        method = _VISITS.get(cls, _UNKNOWN)
        if method is _UNKNOWN:
            method = _VISITS[cls] = getattr(_Filler, f"visit_{cls.__name__}", None)
        return self.generic_visit(node) if method is None else method(self, node)

    def generic_visit(self, node):
        """`ast.NodeTransformer.generic_visit` over only the fields that can hold nodes other
        than the context and operator markers (no rule here changes those)."""
        ast_type = ast.AST
        for field in child_fields(node.__class__):
            old = getattr(node, field, None)
            if isinstance(old, list):
                new = []
                for value in old:
                    if isinstance(value, ast_type):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast_type):
                            new.extend(value)
                            continue
                    new.append(value)
                old[:] = new
            elif isinstance(old, ast_type):
                replaced = self.visit(old)
                if replaced is None:
                    delattr(node, field)
                else:
                    setattr(node, field, replaced)
        return node

    def statement(self, stmt, stored):
        """The filled statements of `stmt`, a copy of a statement of the body that assigns the
        names `stored` (template locals, comprehension targets too)."""
        for ident in stored:
            if ident not in self.locals:
                self.locals[ident] = self.namer.fresh(ident)
        if isinstance(stmt, ast.AugAssign) and _is_d(stmt.target):
            return self._accumulate(stmt.target.slice, stmt.value)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _is_d(stmt.targets[0]):
            return self._define(stmt.targets[0].slice, stmt.value)
        stmt = self.visit(stmt)
        if any(n.id == ZERO for n in walk(stmt) if isinstance(n, ast.Name)):
            raise TemplateError(f"{self.template!r}: a zero derivative reached a local statement")
        return [stmt]

    def _accumulate(self, var, value):
        bound = self._bound(var)
        if isinstance(bound, (ast.List, ast.Tuple)):
            return self._accumulate_each(bound.elts, self.visit(value))
        target = self._derivative_name(bound)
        if target is None:
            return []
        value = fold_zeros(self.visit(value))
        if value is None:
            return []
        return [anno.set_(ast.AugAssign(target=name(target, ast.Store()), op=ast.Add(),
                                        value=value), anno.ACCUMULATE, True)]

    def _accumulate_each(self, elements, value):
        """`d[e] += value[i]` for each item `e` of a list or tuple written in the call; an item
        that is itself a list or tuple (`np.broadcast_arrays([x, y])`, which NumPy reads as one
        array) takes its items' adjoints from `value[i]` in turn."""
        if not any(self._has_derivative(e) for e in elements):
            return []
        pieces = self.namer.fresh("_pieces")
        stmts = [ast.Assign(targets=[name(pieces, ast.Store())], value=value)]
        for i, element in enumerate(elements):
            item = ast.Subscript(value=name(pieces), slice=ast.Constant(i), ctx=ast.Load())
            if isinstance(element, (ast.List, ast.Tuple)):
                stmts += self._accumulate_each(element.elts, item)
                continue
            target = self._derivative_name(element)
            if target is not None:
                stmts.append(anno.set_(ast.AugAssign(target=name(target, ast.Store()),
                                                     op=ast.Add(), value=item),
                                       anno.ACCUMULATE, True))
        return stmts

    def _has_derivative(self, element):
        if isinstance(element, (ast.List, ast.Tuple)):
            return any(self._has_derivative(e) for e in element.elts)
        return self._derivative_name(element) is not None

    def _define(self, var, value):
        target = self._derivative_name(self._bound(var))
        value = fold_zeros(self.visit(value))
        if target is None or value is None:
            return []
        if self.template.broadcasts and not _contains_binop(value):
            value = ast.Call(func=self._runtime("broadcast_as"),
                             args=[value, copy_node(self._bound(var))], keywords=[])
        return [ast.Assign(targets=[name(target, ast.Store())], value=value)]

    # expressions --------------------------------------------------------------------------
    def visit_Subscript(self, node):
        if _is_full_d(node):                    # d.full[v]: the derivative, or zeros like v
            bound = self._bound(node.slice)
            if isinstance(bound, (ast.List, ast.Tuple)):          # item by item, as d[v]
                return self._each_derivative(bound)
            dname = self._derivative_name(bound)
            return name(dname) if dname else ast.Call(
                func=self._runtime("zeros_like"), args=[copy_node(bound)], keywords=[])
        if not _is_d(node):
            self.generic_visit(node)
            node.slice = _slice_syntax(node.slice)
            return node
        bound = self._bound(node.slice)
        if isinstance(bound, (ast.List, ast.Tuple)):
            return self._each_derivative(bound)
        dname = self._derivative_name(bound)
        return name(dname if dname else ZERO)

    def _each_derivative(self, bound):
        """The derivatives of the items of a list or tuple written in the call, as a list
        (zeros like an item without one; a list for an item that is itself a list)."""
        elts = []
        for e in bound.elts:
            if isinstance(e, (ast.List, ast.Tuple)):
                elts.append(self._each_derivative(e))
                continue
            dname = self._derivative_name(e)
            elts.append(name(dname) if dname else
                        ast.Call(func=self._runtime("zeros_like"), args=[copy_node(e)],
                                 keywords=[]))
        return ast.List(elts=elts, ctx=ast.Load())

    def visit_Name(self, node):
        if node.id in self.binding:
            return copy_node(self.binding[node.id])
        if node.id in self.locals:
            return name(self.locals[node.id], node.ctx)
        return self._global(node.id)

    def visit_Call(self, node):
        """Fill the call, then drop arguments equal to the callee's defaults, so
        `unreduce(g, x, None, False)` reads `unreduce(g, x)`."""
        func = self._callee(node.func)
        self.generic_visit(node)
        params = _parameters(func)
        defaults = {p.name: p.default for p in params if p.default is not p.empty}
        node.keywords = [k for k in node.keywords
                         if not (k.arg in defaults and _equals_constant(k.value, defaults[k.arg]))]
        while node.args and len(node.args) <= len(params) and not node.keywords:
            param = params[len(node.args) - 1]
            if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) or \
                    param.name not in defaults or \
                    not _equals_constant(node.args[-1], defaults[param.name]):
                break
            node.args.pop()
        return node

    def _callee(self, func):
        """The object a template's dotted call name refers to (None if not a module global)."""
        parts = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name) or func.id not in self.template.globals:
            return None
        obj = self.template.globals[func.id]
        for part in reversed(parts):
            obj = getattr(obj, part, None)
        return obj if callable(obj) else None

    def _runtime(self, ident):
        return name(self.bind_free(ident, getattr(runtime, ident)))

    def _global(self, ident):
        if ident in self.template.globals:
            return name(self.bind_free(ident, self.template.globals[ident]))
        if hasattr(builtins, ident):           # (under another name where a local hides it)
            return name(self.bind_free(ident, getattr(builtins, ident)))
        raise TemplateError(f"{self.template!r} uses an unknown name {ident!r}")

    def _bound(self, var):
        if not isinstance(var, ast.Name) or var.id not in self.binding:
            raise TemplateError(f"{self.template!r}: d[...] must name a parameter")
        return self.binding[var.id]

    def _derivative_name(self, bound):
        return self.derivative_of(bound.id) if isinstance(bound, ast.Name) else None


_VISITS: dict = {}           # node class -> the `_Filler` method visiting it, or None
_UNKNOWN = object()
_STORED: dict = {}           # id of a body's statement -> (the statement, names it stores)


def _stored_names(stmt):
    """The names the statement `stmt` of a template body assigns, in walk order, read once
    per statement (a body is parsed once and never changed: it is copied to be filled)."""
    kept = _STORED.get(id(stmt))
    if kept is None or kept[0] is not stmt:
        names = [n.id for n in walk(stmt)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        kept = _STORED[id(stmt)] = (stmt, names)
    return kept[1]


_PARAMETERS: dict = {}       # id of a callee -> (the callee, its parameters)


def _parameters(func):
    """The parameters of `func` (a template's callee), read once per callee; [] when it has
    no signature (or `func` is None)."""
    kept = _PARAMETERS.get(id(func))
    if kept is None or kept[0] is not func:
        try:
            params = list(inspect.signature(func).parameters.values()) if func else []
        except (TypeError, ValueError):
            params = []
        kept = _PARAMETERS[id(func)] = (func, params)
    return kept[1]


def _slice_syntax(index):
    """`slice(1, 3, None)` inside brackets back to `1:3`, so filled indexing reads naturally."""
    if isinstance(index, ast.Tuple):
        index.elts = [_slice_syntax(e) for e in index.elts]
        return index
    if (isinstance(index, ast.Call) and isinstance(index.func, ast.Name)
            and index.func.id == "slice" and len(index.args) == 3 and not index.keywords):
        parts = [None if isinstance(a, ast.Constant) and a.value is None else a
                 for a in index.args]
        return ast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
    return index


def _equals_constant(node, value):
    """True when `node` is a literal equal to a parameter default `value` (NumPy's "no value"
    default of keepdims and friends equals passing False or None)."""
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)):              # -1, as `const` writes it
        node = ast.Constant(-node.operand.value)
    if not isinstance(node, ast.Constant):
        return False
    if value is getattr(numpy, "_NoValue", object()):
        return node.value is None or node.value is False
    return type(node.value) is type(value) and node.value == value


def is_derivative(node):
    """True for `d[...]` or `d.full[...]` in a template body."""
    return _is_d(node) or _is_full_d(node)


def _is_full_d(node):
    """True for `d.full[...]`: a derivative read where a zero must be explicit (an argument
    of a call that is not linear in it alone, like building a list)."""
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "full" and isinstance(node.value.value, (ast.Name,
                                                                            ast.Attribute))
            and _is_d(ast.Subscript(value=node.value.value, slice=node.slice)))


def _is_d(node):
    """True for `d[...]` (or `srcad.d[...]`)."""
    if not isinstance(node, ast.Subscript):
        return False
    value = node.value
    return ((isinstance(value, ast.Name) and value.id == "d")
            or (isinstance(value, ast.Attribute) and value.attr == "d"))


def _contains_binop(node):
    return any(isinstance(n, (ast.BinOp, ast.Call)) for n in walk(node))


def _is_zero(node):
    return isinstance(node, ast.Name) and node.id == ZERO


def fold_zeros(node):
    """Remove terms that are zero (the ZERO marker); None when the whole expression is zero.

    Products, quotients (numerator), negations, calls with a zero argument and methods and
    attributes of a zero are zero (a template only passes a derivative to a call that is
    linear in it); a zero term of a sum disappears. A zero anywhere else is a template bug
    and raises TemplateError.
    """
    if node is None or _is_zero(node):
        return None
    if isinstance(node, ast.BinOp):
        left, right = fold_zeros(node.left), fold_zeros(node.right)
        if isinstance(node.op, ast.Add):
            if left is None or right is None:
                return left if right is None else right
        elif isinstance(node.op, ast.Sub):
            if right is None:
                return left
            if left is None:
                return ast.UnaryOp(op=ast.USub(), operand=right)
        elif isinstance(node.op, (ast.Mult, ast.MatMult)):
            if left is None or right is None:
                return None
        elif isinstance(node.op, (ast.Div, ast.FloorDiv)):
            if left is None:
                return None
        node.left, node.right = _nonzero(left), _nonzero(right)
        return node
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = fold_zeros(node.operand)
        if operand is None:
            return None
        node.operand = operand
        return node
    if isinstance(node, ast.Attribute) and fold_zeros(node.value) is None:
        return None                           # `d[x].T` of a zero derivative
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and _has_zero(node.func.value):
            if fold_zeros(node.func.value) is None:
                return None                   # a method of a zero: `d[x].reshape(...)`
        args = [fold_zeros(a) if _has_zero(a) else a for a in node.args]
        if any(a is None for a in args):
            return None                       # a call is linear in its derivative arguments
        node.args = args
        return node
    if isinstance(node, ast.Subscript) and _is_zero(node.value):
        return None                           # an item of a zero derivative is zero
    if _has_zero(node):
        raise TemplateError(f"cannot simplify a zero derivative in {ast.dump(node)}")
    return node


def _has_zero(node):
    return any(_is_zero(n) for n in walk(node))


def _nonzero(node):
    if node is None:
        raise TemplateError("a zero derivative appears where it cannot be removed")
    return node
