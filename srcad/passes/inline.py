"""Inline the `forward` of the static models a function calls, as a person writing the
backward pass by hand would: one function, reading `self.V.weight` directly.

In: a fenced `FunctionDef` whose loops over static models are unrolled (`unroll`, before
`resolve`), and the job's `names`, `statics`, `locals` and `info`. Out: the same tree, where a
call `m(x)` whose target `m` is a model reached from a static model (`self.V(x)`,
`self.layers[0](h)`: the model's structure, hence the target, is part of the code's key) is
replaced by the body of its class's `forward` when that is simple: a plain function of the
user's, without a rule, not already being inlined (no recursion), with no `*args`, whose body,
once the branches on its settings are folded, is straight-line assignments and `if`s (loops
over its static submodels unrolled) ending in its one `return`, which desugaring leaves as it
is, and which writes into nothing it did not create. In the copy, `self` reads the call's
receiver (`self.V.weight`), a parameter reads the argument passed when that is a name, a
constant or a read of a static model, else a fresh local assigned the argument first, the
callee's locals are renamed to fresh names, its lines are numbered in the caller's
`SourceInfo` (`SourceInfo.inline`: errors and comments name the callee's own file and line),
and a global it reads that the caller does not see as the same object is renamed. Calls in the
copy are inlined in turn. A call is inlined only where hoisting the body before its statement
keeps the order of evaluation (no call left in place runs before it in that statement; not
inside a `while` test, an `if ... else` expression, `and`/`or`, a dict or a lambda).

The FunctionDef gets annotation INLINED: `Inlined` (the names to bind, the models whose forward
was inlined, the globals their code read), which the pipeline adds to the job's names and to
the guards. Anything else keeps its call (then its derivative is generated apart, `Callee`).
"""

import ast
import types

from .. import annotations as anno
from .. import calls, inplace, models, rules
from ..ast_util import copy_node, names_in, parse_function
from ..errors import SrcadError
from ..job import Job
from . import alias, desugar, fence
from .resolve import _fold_settings, evaluate, local_names, namespace
from .unroll import _unroll_module_loops

ENABLED = True
"""False keeps every call (each callee's derivative generated apart): the path inlining
replaces, which tests compare it with."""
_DEPTH = 16
_SETTINGS_ONLY = (str, bool, int, float, type(None))


class Inlined:
    """What inlining added: `names` ({fresh name: object} the inlined code reads), `models`
    (each model whose class's forward was inlined) and `reads` ((forward, name, object) for
    each global or closure name an inlined forward reads)."""

    def __init__(self):
        self.names, self.models, self.reads = {}, [], []


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Inline the calls of static models' forwards in `tree` (see the module docstring)."""
    inliner = _Inliner(tree, job)
    if ENABLED:
        tree.body = inliner.block(tree.body, ())
    anno.set_(tree, anno.INLINED, inliner.inlined)
    return tree


class _Inliner:
    def __init__(self, tree, job):
        self.job = job
        self.statics = job.statics
        self.names = {**job.names, **job.statics}
        self.locals = set(job.locals) - set(job.statics)
        self.taken = names_in(tree) | set(job.locals) | set(job.names) | set(job.statics)
        self.inlined = Inlined()

    def fresh(self, base, avoid=frozenset()):
        """A name no code of the function uses (nor one in `avoid`), made of `base`."""
        ident, n = base, 0
        while ident in self.taken or ident in avoid:
            n += 1
            ident = f"{base}_{n}"
        self.taken.add(ident)
        return ident

    def block(self, stmts, stack):
        """`stmts` with the calls in each statement (and nested block) inlined."""
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(stmt, (ast.FunctionDef,
                                                                     ast.ClassDef)):
                    setattr(stmt, field, self.block(inner, stack))
            out.extend(self.statement(stmt, stack))
        return out

    def statement(self, stmt, stack):
        """The statements that replace `stmt`: the inlined bodies of its calls, then `stmt`."""
        head = _evaluated_first(stmt)
        if head is None:
            return [stmt]
        before, kept = [], []
        for call, parent, field, index in _calls_in_order(head, stmt):
            inside = {id(n) for arg in call.args + call.keywords for n in ast.walk(arg)}
            if any(id(k) not in inside for k in kept):
                break           # a call left in place runs before this one: keep the order
            body = self.expand(call, stack)
            if body is None:
                kept.append(call)
                continue
            prelude, result = body
            before.extend(prelude)
            if index is None:
                setattr(parent, field, result)
            else:
                getattr(parent, field)[index] = result
        return before + [stmt]

    def expand(self, call, stack):
        """(statements, result expression) of the inlined call, or None to keep it."""
        if len(stack) >= _DEPTH:
            return None
        try:
            obj, local_root = evaluate(call.func, self.names, self.locals)
        except (KeyError, AttributeError, IndexError, TypeError):
            return None
        if local_root or not models.is_model(obj) or models.own_forward(obj) \
                or not _static_root(call.func, self.statics):
            return None                 # (a forward of its own: the call's error, `calls`)
        forward = models.forward(obj)
        if (not isinstance(forward, types.FunctionType) or forward.__code__ in stack
                or "__class__" in forward.__code__.co_freevars     # (`super()` needs its frame)
                or not calls.is_user_function(obj, rules.ADJOINT)
                or not calls.is_user_function(obj, rules.TANGENT)):
            return None
        callee = self.parse(forward, obj, call)
        if callee is None:
            return None
        fdef, bound = callee
        return self.substitute(fdef, bound, forward, obj, stack + (forward.__code__,), call)

    def parse(self, forward, obj, call):
        """(the forward's FunctionDef, folded and checked, its lines renumbered; its parameters
        bound to the call's arguments), or None when it is not simple."""
        try:
            fdef, info = parse_function(forward)
            bound = calls.bind_arguments(forward, [call.func] + list(call.args),
                                         {k.arg: k.value for k in call.keywords})
        except (SrcadError, TypeError, ValueError):
            return None
        info.name = f"{type(obj).__name__}.{forward.__name__}"
        offset = self.job.info.inline(info)
        for node in ast.walk(fdef):
            for attr in ("lineno", "end_lineno"):
                if getattr(node, attr, None) is not None:
                    setattr(node, attr, getattr(node, attr) + offset)
        self_name = next(iter(bound))
        if not _checked(fdef, forward, self.job, obj, self_name):
            return None
        return fdef, bound

    def substitute(self, fdef, bound, forward, obj, stack, call):
        """(statements, result) of `fdef`'s body with its parameters bound, its locals and
        foreign globals renamed, and its own calls inlined, for `call`; None to keep it."""
        receiver, args, lineno = bound[next(iter(bound))], _arguments(call), call.lineno
        params = set(bound)
        stored = local_names(fdef) - params
        rebound = params & {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)
                            and isinstance(n.ctx, ast.Store)}
        if next(iter(bound)) in rebound:
            return None                             # (`self` rebound: keep the call)
        avoid = names_in(fdef)
        mapping, renames, prelude = {}, {}, []
        written = [id(a) for a in args]             # (arguments evaluated in written order)
        for param, node in sorted(bound.items(), key=lambda item: _position(item[1], written)):
            if isinstance(node, calls.Default):
                if not isinstance(node.value, _SETTINGS_ONLY):
                    return None
                node = ast.Constant(node.value)
            if param not in rebound and self.pure(node):
                mapping[param] = node
                continue
            renames[param] = self.fresh(param, avoid - {param})
            prelude.append(_assign(renames[param], node, lineno))
        foreign = self.foreign(fdef, forward, params | stored, avoid)
        if foreign is None:
            return None
        renames.update(foreign)
        renames.update({var: self.fresh(var, avoid - {var}) for var in sorted(stored)})
        body = [_rename(s, mapping, renames) for s in fdef.body]
        result_stmt = ast.Expr(value=body.pop().value, lineno=fdef.body[-1].lineno,
                               col_offset=0)
        body = self.block(body, stack)
        body.extend(self.statement(result_stmt, stack)[:-1])
        self.inlined.models.append(obj)
        result = result_stmt.value
        if not isinstance(result, (ast.Name, ast.Constant)):     # named, at the callee's line
            ident = self.fresh(_result_name(receiver, obj), avoid)
            body.append(_assign(ident, result, result_stmt.lineno))
            result = ast.Name(id=ident, ctx=ast.Load())
        return prelude + body, result

    def pure(self, node):
        """True for an argument the copy may read in place of its parameter: a name, a
        constant, or a chain of attributes and constant indices rooted at a static model."""
        if isinstance(node, (ast.Name, ast.Constant)):
            return True
        return _static_root(node, self.statics) and all(
            isinstance(n, (ast.Attribute, ast.Subscript, ast.Name, ast.Constant, ast.Load))
            for n in ast.walk(node))

    def foreign(self, fdef, forward, own, avoid):
        """{global name: name in the copy} for the names `fdef` reads from its module or
        closure that the caller does not see as the same object (bound in
        `self.inlined.names`: under their own name where the caller has none such, else
        renamed); None when one denotes nothing."""
        visible = namespace(forward)
        renames = {}
        for ident in sorted(names_in(fdef) - own):
            if ident not in visible:
                return None
            obj = visible[ident]
            self.inlined.reads.append((forward, ident, obj))
            if ident not in self.locals and self.names.get(ident, _MISSING) is obj:
                continue
            known = next((k for k, v in self.inlined.names.items() if v is obj), None)
            if known is None and ident not in self.taken:       # a name the caller lacks
                self.taken.add(ident)
                known = ident
            renames[ident] = known or self.fresh(f"{ident}_{forward.__name__}", avoid)
            self.inlined.names[renames[ident]] = obj
        return renames


_MISSING = object()


def _static_root(expr, statics):
    """True when the chain `expr` (attributes, constant indices) starts at a static model."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return isinstance(expr, ast.Name) and models.is_model(statics.get(expr.id))


def _checked(fdef, forward, job, obj, self_name):
    """True when `fdef` (the forward of `obj`) passes fence and alias on its own, desugaring
    leaves it unchanged, and once its settings' branches are folded and its loops over static
    submodels unrolled it is straight-line code ending in its one `return` (`fdef.body` is
    left folded and unrolled)."""
    own = Job(forward, job.kind, (), forward.__name__, job.info, namespace(forward),
              local_names(fdef), statics={self_name: obj})
    try:
        before = ast.dump(fdef)
        for pass_ in (desugar, fence, alias):
            pass_.run(fdef, own)
        if ast.dump(fdef) != before:
            return False
    except SrcadError:
        return False
    fdef.body = _fold_settings(fdef.body, {self_name: obj})
    _unroll_module_loops(fdef, {**own.names, self_name: obj}, own.locals - {self_name})
    if not fdef.body or not isinstance(fdef.body[-1], ast.Return) or fdef.body[-1].value is None:
        return False
    if sum(isinstance(n, ast.Return) for n in ast.walk(fdef)) != 1:
        return False
    return all(_simple(s) for s in fdef.body[:-1]) and _no_writes(fdef, forward)


def _simple(stmt):
    """True for an assignment to names, a docstring or `pass`, or an `if` of such."""
    if isinstance(stmt, ast.Assign):
        return all(isinstance(n, (ast.Name, ast.Tuple, ast.Store)) for t in stmt.targets
                   for n in ast.walk(t))
    if isinstance(stmt, ast.If):
        return all(_simple(s) for s in stmt.body + stmt.orelse)
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    return isinstance(stmt, ast.Pass)


_BARRED = (ast.Lambda, ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Starred,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Global, ast.Nonlocal)


def _no_writes(fdef, forward):
    """True when `fdef` has no construct inlining does not take, and no call that may write
    into an argument (`out=`, `x.fill(0)`, `np.copyto`)."""
    visible = namespace(forward)
    for node in ast.walk(fdef):
        if isinstance(node, _BARRED):
            return False
        if not isinstance(node, ast.Call):
            continue
        if any(k.arg in inplace.WRITING_PARAMETERS or k.arg is None for k in node.keywords):
            return False
        if isinstance(node.func, ast.Attribute) and node.func.attr in inplace.WRITING_METHODS:
            return False
        try:
            target, _ = evaluate(node.func, visible, set())
        except (KeyError, AttributeError, IndexError, TypeError):
            continue
        if _writing(target):
            return False
    return True


def _writing(target):
    """True for a function that writes into an argument (see `srcad.inplace`)."""
    try:
        return target in inplace.WRITING_FUNCTIONS
    except TypeError:
        return False


def _evaluated_first(stmt):
    """The expression of `stmt` evaluated before anything else it does, where inlining may
    hoist calls from (None for statements it leaves alone)."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)):
        return stmt.value
    if isinstance(stmt, ast.If):
        return stmt.test
    if isinstance(stmt, ast.For):
        return stmt.iter
    return None


def _calls_in_order(expr, stmt):
    """(call, parent, field, index) of each call in `expr`, in the order Python evaluates them
    (arguments first), up to a construct that may skip or reorder evaluation."""
    out = []
    field = next(f for f, v in ast.iter_fields(stmt) if v is expr)
    try:
        _visit(expr, stmt, field, None, out)
    except _Stop:
        pass
    return out


_STOP = (ast.IfExp, ast.BoolOp, ast.Dict, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
         ast.GeneratorExp, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Starred)


class _Stop(Exception):
    """Raised by `_visit` at a construct that may skip or reorder evaluation."""


def _visit(node, parent, field, index, out):
    """Append the calls under `node` (at `parent.field[index]`) to `out`, arguments first."""
    if isinstance(node, _STOP):
        raise _Stop
    if not isinstance(node, ast.AST):
        return
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    _visit(item, node, name, i, out)
        elif isinstance(value, ast.AST):
            _visit(value, node, name, None, out)
    if isinstance(node, ast.Call):
        out.append((node, parent, field, index))


def _rename(stmt, mapping, renames):
    """A copy of `stmt` with each name in `renames` renamed, then each parameter read in
    `mapping` replaced by (a copy of) its argument."""
    stmt = copy_node(stmt)
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and node.id in renames:
            node.id = renames[node.id]
    for node in list(ast.walk(stmt)):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.Name) and value.id in mapping:
                setattr(node, field, _located(copy_node(mapping[value.id]), value))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.Name) and item.id in mapping:
                        value[i] = _located(copy_node(mapping[item.id]), item)
    return stmt


def _located(node, like):
    """`node` with every part at the place of `like`."""
    for sub in ast.walk(node):
        sub.lineno, sub.col_offset = like.lineno, like.col_offset
        sub.end_lineno, sub.end_col_offset = like.end_lineno, like.end_col_offset
    return node


def _arguments(call):
    """The argument nodes of `call` in the order Python evaluates them."""
    return [call.func] + list(call.args) + [k.value for k in call.keywords]


def _position(node, written):
    """Where `node` is among the arguments as written (a default: after them all)."""
    return written.index(id(node)) if id(node) in written else len(written)


def _result_name(receiver, obj):
    """The name of an inlined call's result: `_V` for `self.V(x)`, else after the class."""
    if isinstance(receiver, ast.Attribute):
        return f"_{receiver.attr}"
    return f"_{type(obj).__name__.lower()}"


def _assign(ident, value, lineno):
    """`ident = value` at `lineno`."""
    return ast.Assign(targets=[ast.Name(id=ident, ctx=ast.Store())], value=value,
                      lineno=lineno, col_offset=0)

