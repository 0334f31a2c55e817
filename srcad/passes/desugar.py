"""Rewrite the Python people write into the forms the later passes transform.

In: a parsed user `FunctionDef` (and the job's `info`, for errors, and `names`, to tell a
builtin from a user's name). Out: the same function where

* list, dict and generator comprehensions (a generator expression becomes a list) are loops
  appending to (or assigning into) a new list or dict, computed just before their statement;
* a lambda or nested `def` bound once and only called is inlined at each call: its arguments
  bound to fresh names, its statements copied with its locals renamed, the call replaced by
  what it returns (closures read the enclosing function's variables at the call, as Python does);
* a `return` inside a loop sets a result and a flag and breaks out, and the code after the loop
  returns the result when the flag is set;
* `else` on a loop runs under a flag that each `break` of the loop clears;
* `a if c else b` whose sides hold one of these is an `if` statement choosing a fresh name;
* `dict(a=x)` is the literal `{"a": x}`; `max(items)` / `min(items)` of one sequence is a loop
  of two-argument calls (`max([a, b])` is `max(a, b)`);
* a `*rest` parameter is a plain parameter `rest` holding the tuple of the extra arguments
  (`srcad.api.Derivative` packs them);
* `for i, (a, b) in enumerate(zip(A, B))` is `for i, a, b in zip(range(len(A)), A, B)`;
* `for k, v in d.items()` (`.keys()`, `.values()`) loops over `runtime.keys_of(d)`, the keys
  (never differentiated; the call carries annotation FUNC, which `resolve` keeps), reading
  `v = d[k]`.

A function that uses none of these comes out unchanged (its generated code is too). What stays
unsupported (a local function used other than by calling it, a recursive one, one with more
than one `return`) is an `UnsupportedSyntaxError` at the user's line; `fence` reports the rest.
"""

import ast
import builtins
import copy

from .. import annotations as anno
from .. import runtime
from ..ast_util import builtin_call, names_in, walk
from ..errors import UnsupportedSyntaxError
from ..job import Job
from ..naming import Namer

_COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.DictComp)
_LOOPS = (ast.For, ast.While)
_DICT_VIEWS = ("items", "keys", "values")


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """`tree` desugared (see the module docstring); unchanged when nothing applies."""
    if tree.args.vararg is not None and tree.args.kwarg is None:
        tree.args.args.append(tree.args.vararg)         # `*rest` holds one tuple: `rest`
        tree.args.vararg = None
    if not _applies(tree, job):
        return tree
    args = tree.args
    params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    namer = Namer(names_in(tree) | params | {tree.name})
    desugar = _Desugar(job, namer, _local_functions(tree, job))
    tree.body = desugar.block(tree.body)
    return tree


def _applies(tree, job):
    """True when `tree` holds a construct this pass rewrites."""
    for node in walk(tree):
        if node is tree:
            continue
        if isinstance(node, _COMPREHENSIONS + (ast.Lambda, ast.FunctionDef)):
            return True
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and isinstance(
                node.iter.func, ast.Attribute) and node.iter.func.attr in _DICT_VIEWS:
            return True
        if isinstance(node, _LOOPS) and (node.orelse or any(
                isinstance(n, ast.Return) for n in walk(node))):
            return True
        if isinstance(node, ast.Call) and _builtin_call(node, job) in ("dict", "max", "min",
                                                                        "enumerate"):
            return True
    return False


def _builtin_call(node, job):
    """The name of the builtin `node` calls (`max`), or None (a user's name shadowing it)."""
    func = node.func
    if not (isinstance(func, ast.Name) and func.id not in job.locals):
        return None
    return func.id if job.names.get(func.id) is getattr(builtins, func.id, None) else None


class _Function:
    """A lambda or nested `def` to inline: its parameters, statements and returned value."""

    def __init__(self, name, params, body, value, node):
        self.name, self.params, self.body, self.value, self.node = name, params, body, value, node


def _local_functions(tree, job):
    """{name: _Function} for each lambda or `def` bound in `tree`, checked inlinable."""
    found = {}
    for node in walk(tree):
        if node is tree:
            continue
        function = _definition(node, job)
        if function is None:
            continue
        if function.name in found or _stores(tree, function.name) > 1:
            _reject(job, node, f"a local function `{function.name}` bound more than once")
        found[function.name] = function
    for node in walk(tree):
        if isinstance(node, ast.Name) and node.id in found and isinstance(node.ctx, ast.Load):
            if not getattr(node, "_srcad_called", False):
                _reject(job, node, f"the local function `{node.id}` used other than by "
                        "calling it (passed or returned); call it, or define it at module level")
    return found


def _definition(node, job):
    """The `_Function` that `node` defines (`f = lambda x: ...` or `def f(x): ...`), or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        node.func._srcad_called = True
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            _reject(job, node, "a lambda bound other than to one name")
        lam = node.value
        _check_parameters(job, node, lam.args)
        if any(isinstance(n, ast.Name) and n.id == node.targets[0].id for n in ast.walk(lam)):
            _reject(job, node, "a recursive lambda")
        return _Function(node.targets[0].id, [a.arg for a in lam.args.args], [], lam.body, node)
    if not isinstance(node, ast.FunctionDef):
        return None
    _check_parameters(job, node, node.args)
    if node.decorator_list:
        _reject(job, node, "a decorated nested function")
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
    last = node.body[-1]
    if len(returns) != 1 or returns[0] is not last or last.value is None:
        _reject(job, node, "a nested function without exactly one `return value`, its last "
                "statement")
    if any(isinstance(n, ast.Name) and n.id == node.name for n in ast.walk(node)):
        _reject(job, node, "a recursive nested function")
    return _Function(node.name, [a.arg for a in node.args.args], node.body[:-1], last.value,
                     node)


def _check_parameters(job, node, args):
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
        _reject(job, node, "a local function with defaults, *args, **kwargs or keyword-only "
                "parameters")


def _stores(tree, ident):
    """How many times `tree` binds `ident` (assignments, loop targets, `def`s)."""
    count = sum(isinstance(n, ast.Name) and n.id == ident and isinstance(n.ctx, ast.Store)
                for n in ast.walk(tree))
    return count + sum(isinstance(n, ast.FunctionDef) and n.name == ident
                       for n in ast.walk(tree) if n is not tree)


def _reject(job, node, what):
    raise UnsupportedSyntaxError(f"srcad does not support {what}", job.info.location(node))


class _Desugar:
    """The rewriting of one function's statements (see the module docstring)."""

    def __init__(self, job, namer, functions):
        self.job, self.namer, self.functions = job, namer, functions

    def block(self, stmts):
        """`stmts` rewritten; a `return` inside a loop makes the rest of the block conditional."""
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        """The statements that replace `stmt`."""
        if any(stmt is f.node for f in self.functions.values()):
            return []                                   # a definition: inlined at its calls
        found = _hoistable(stmt, self)
        if found is not None:
            before = self.hoist(found, stmt)
            return self.block(before + [stmt])
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, self.block(getattr(stmt, field)))
        before = []
        if isinstance(stmt, ast.For):
            before, stmt = self.unzip(stmt)
            before += self.dict_loop(stmt)
        if isinstance(stmt, _LOOPS):
            return before + self.loop(stmt)
        return [stmt]

    # ---- hoisting values out of expressions -------------------------------------------------
    def hoist(self, found, stmt):
        """The statements computing `found` (a node of `stmt`) into a fresh name, which then
        replaces it in `stmt`."""
        parent, field, index, node = found
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in self.functions:
            before, value = self.inline(node)
        elif isinstance(node, ast.Call):
            before, value = self.builtin(node)
        elif isinstance(node, ast.IfExp):
            value = self.namer.fresh("chosen")
            before = [ast.If(test=node.test, body=[_assign(value, node.body)],
                             orelse=[_assign(value, node.orelse)])]
            value = _name(value)
        else:
            before, value = self.comprehension(node)
        _replace(parent, field, index, value)
        return [_located(s, stmt) for s in before]

    def comprehension(self, node):
        """`[elt for ...]` as (statements building a new list, its name)."""
        result = self.namer.fresh({ast.DictComp: "dict"}.get(type(node), "items"))
        node = _renamed_targets(node, self.namer)
        if isinstance(node, ast.DictComp):
            inner = ast.Assign(targets=[ast.Subscript(value=_name(result), slice=node.key,
                                                      ctx=ast.Store())], value=node.value)
            start = ast.Dict(keys=[], values=[])
        else:
            inner = ast.Expr(value=ast.Call(func=ast.Attribute(
                value=_name(result), attr="append", ctx=ast.Load()), args=[node.elt],
                keywords=[]))
            start = ast.List(elts=[], ctx=ast.Load())
        body = [inner]
        for generator in reversed(node.generators):
            for test in reversed(generator.ifs):
                body = [ast.If(test=test, body=body, orelse=[])]
            body = [ast.For(target=generator.target, iter=generator.iter, body=body, orelse=[])]
        return [_assign(result, start)] + body, _name(result)

    def builtin(self, call):
        """`dict(a=x)`, `max(items)`/`min(items)`: (statements before, the value)."""
        kind = _builtin_call(call, self.job)
        if kind == "dict":
            return [], ast.Dict(keys=[ast.Constant(k.arg) for k in call.keywords],
                                values=[k.value for k in call.keywords])
        items = call.args[0]
        if isinstance(items, (ast.List, ast.Tuple)):
            return [], ast.Call(func=call.func, args=items.elts, keywords=[])
        sequence, best, item = (self.namer.fresh(n) for n in ("items", kind + "imum", "item"))
        rest = ast.Subscript(value=_name(sequence), slice=ast.Slice(lower=ast.Constant(1)),
                             ctx=ast.Load())
        update = _assign(best, ast.Call(func=call.func, args=[_name(best), _name(item)],
                                        keywords=[]))
        return [_assign(sequence, items),
                _assign(best, ast.Subscript(value=_name(sequence), slice=ast.Constant(0),
                                            ctx=ast.Load())),
                ast.For(target=_name(item, ast.Store()), iter=rest, body=[update],
                        orelse=[])], _name(best)

    def inline(self, call):
        """A call of a local function: (its arguments bound and its statements, renamed; the
        value it returns)."""
        function = self.functions[call.func.id]
        if call.keywords or len(call.args) != len(function.params):
            _reject(self.job, call, f"this call of the local function `{function.name}`; "
                    "pass each parameter by position")
        renames, before = {}, []
        for param, arg in zip(function.params, call.args):
            renames[param] = self.namer.fresh(param)
            before.append(_assign(renames[param], arg))
        body = copy.deepcopy(function.body)
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                        and node.id not in renames:
                    renames[node.id] = self.namer.fresh(node.id)
        value = copy.deepcopy(function.value)
        for node in body + [value]:
            _rename(node, renames)
        return before + body, value

    # ---- loops --------------------------------------------------------------------------------
    def unzip(self, loop):
        """`for i, (a, b) in enumerate(zip(A, B)):` as `for i, a, b in zip(range(len(A)), A,
        B):` (each sequence named once), which normal form loops over."""
        it, target = loop.iter, loop.target
        if not (isinstance(it, ast.Call) and _builtin_call(it, self.job) == "enumerate"
                and len(it.args) == 1 and not it.keywords and isinstance(it.args[0], ast.Call)
                and _builtin_call(it.args[0], self.job) == "zip" and not it.args[0].keywords
                and isinstance(target, ast.Tuple) and len(target.elts) == 2
                and isinstance(target.elts[1], ast.Tuple)):
            return [], loop
        before, sequences = [], []
        for arg in it.args[0].args:
            if not isinstance(arg, ast.Name):
                sequences.append(self.namer.fresh("items"))
                before.append(_located(_assign(sequences[-1], arg), loop))
            else:
                sequences.append(arg.id)
        count = builtin_call("range", builtin_call("len", _name(sequences[0])))
        loop.iter = builtin_call("zip", count, *[_name(s) for s in sequences])
        loop.target = ast.Tuple(elts=[target.elts[0]] + target.elts[1].elts, ctx=ast.Store())
        return before, _located(loop, loop)

    def dict_loop(self, loop):
        """`for k, v in d.items():` as `for k in keys_of(d): v = d[k]` (likewise `.keys()`
        and `.values()`): the keys, never differentiated, come from `runtime.keys_of`. Returns
        the statements to run before the loop (the dict named once)."""
        it = loop.iter
        method = it.func.attr if isinstance(it, ast.Call) and isinstance(
            it.func, ast.Attribute) and not it.args and not it.keywords else None
        if method not in _DICT_VIEWS or (method == "items" and not (
                isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2)):
            return []
        before, mapping = [], it.func.value
        if not isinstance(mapping, ast.Name):
            before.append(_located(_assign(self.namer.fresh("mapping"), mapping), loop))
            mapping = _name(before[-1].targets[0].id)
        key, value = loop.target.elts if method == "items" else (
            (loop.target, None) if method == "keys" else (None, loop.target))
        if not isinstance(key, ast.Name):
            binds = [] if key is None else [(key, self.namer.fresh("key"))]
            key = _name(binds[0][1] if binds else self.namer.fresh("key"), ast.Store())
            loop.body = [_assign_to(t, _name(k)) for t, k in binds] + loop.body
        if value is not None:
            loop.body = [_assign_to(value, ast.Subscript(value=_name(mapping.id), slice=_name(
                key.id), ctx=ast.Load()))] + loop.body
        keys = ast.Call(func=_name("keys_of"), args=[_name(mapping.id)], keywords=[])
        loop.iter, loop.target = anno.set_(keys, anno.FUNC, runtime.keys_of), key
        _located(loop, loop)
        return before

    def loop(self, loop):
        """A loop with its `return`s turned into breaks and its `else` under a flag."""
        out, after = [], []
        if any(isinstance(n, ast.Return) for n in ast.walk(loop)):
            done, result = self.namer.fresh("returned"), self.namer.fresh("result")
            out.append(_located(_assign(done, ast.Constant(False)), loop))
            loop.body = _returns_to_breaks(loop.body, done, result)
            after.append(_located(ast.If(test=_name(done), body=[ast.Return(
                value=_name(result))], orelse=[]), loop))
        if loop.orelse:
            orelse, loop.orelse = loop.orelse, []
            if _breaks(loop.body):
                broke = self.namer.fresh("broke")
                out.append(_located(_assign(broke, ast.Constant(False)), loop))
                loop.body = _flag_breaks(loop.body, broke)
                orelse = [_located(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=_name(broke)),
                                          body=orelse, orelse=[]), loop)]
            after = orelse + after
        return out + [loop] + after


def _hoistable(stmt, desugar):
    """(parent, field, index, node): the first node of `stmt`, evaluated once when `stmt` runs,
    that must be computed before it (a comprehension, a local function's call, `dict(...)`,
    `max(items)`), or None."""
    fields = {ast.For: ("iter",), ast.While: (), ast.If: ("test",)}.get(
        type(stmt), tuple(f for f in stmt._fields if f not in ("body", "orelse")))
    for field in fields:
        found = _search(stmt, field, None, getattr(stmt, field, None), desugar)
        if found is not None:
            return found
    return None


def _search(parent, field, index, node, desugar):
    """Depth first, innermost first, outside conditionally evaluated parts (`and`/`or`; a
    conditional expression whose sides hold such a node is itself the node)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            found = _search(parent, field, i, item, desugar)
            if found is not None:
                return found
        return None
    if not isinstance(node, ast.AST) or isinstance(node, ast.Lambda):
        return None
    if isinstance(node, _COMPREHENSIONS):
        return parent, field, index, node
    if isinstance(node, ast.IfExp) and any(
            _search(node, branch, None, getattr(node, branch), desugar) is not None
            for branch in ("body", "orelse")):
        return parent, field, index, node           # an `if` statement, then each side
    skip = {ast.IfExp: ("body", "orelse"), ast.BoolOp: ()}.get(type(node))
    for sub in node._fields:
        if skip is not None and (sub in skip or isinstance(node, ast.BoolOp)):
            continue
        found = _search(node, sub, None, getattr(node, sub), desugar)
        if found is not None:
            return found
    if isinstance(node, ast.Call) and _rewritten_call(node, desugar):
        return parent, field, index, node
    return None


def _rewritten_call(call, desugar):
    if isinstance(call.func, ast.Name) and call.func.id in desugar.functions:
        return True
    kind = _builtin_call(call, desugar.job)
    if kind == "dict":
        return not call.args and all(k.arg is not None for k in call.keywords)
    return kind in ("max", "min") and len(call.args) == 1 and not call.keywords


def _replace(parent, field, index, value):
    if index is None:
        setattr(parent, field, value)
    else:
        getattr(parent, field)[index] = value


def _renamed_targets(node, namer):
    """A comprehension whose loop variables have fresh names (they are its own in Python)."""
    renames = {}
    for generator in node.generators:
        for sub in ast.walk(generator.target):
            if isinstance(sub, ast.Name) and sub.id not in renames:
                renames[sub.id] = namer.fresh(sub.id)
    first_iter = node.generators[0].iter
    for sub in ast.iter_child_nodes(node):
        if sub is not first_iter:
            _rename(sub, renames)
    for generator in node.generators:
        _rename(generator.target, renames)
        if generator is not node.generators[0]:
            _rename(generator.iter, renames)
        for test in generator.ifs:
            _rename(test, renames)
    return node


def _rename(node, renames):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in renames:
            sub.id = renames[sub.id]


def _returns_to_breaks(stmts, done, result):
    """`return v` -> `result = v; done = True; break`; after a nested loop, `if done: break`."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ast.Return):
            value = stmt.value or ast.Constant(None)
            out.extend(_located(s, stmt) for s in (
                _assign(result, value), _assign(done, ast.Constant(True)), ast.Break()))
            continue
        nested = isinstance(stmt, _LOOPS) and any(isinstance(n, ast.Return)
                                                   for n in ast.walk(stmt))
        if isinstance(stmt, ast.If):
            stmt.body = _returns_to_breaks(stmt.body, done, result)
            stmt.orelse = _returns_to_breaks(stmt.orelse, done, result)
        elif nested:
            stmt.body = _returns_to_breaks(stmt.body, done, result)
        out.append(stmt)
        if nested:
            out.append(_located(ast.If(test=_name(done), body=[ast.Break()], orelse=[]), stmt))
    return out


def _breaks(stmts):
    """True when `stmts` (a loop's body) break out of that loop."""
    for stmt in stmts:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def _flag_breaks(stmts, broke):
    """Each `break` of this loop (not of nested loops) preceded by `broke = True`."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ast.Break):
            out.append(_located(_assign(broke, ast.Constant(True)), stmt))
        elif isinstance(stmt, ast.If):
            stmt.body = _flag_breaks(stmt.body, broke)
            stmt.orelse = _flag_breaks(stmt.orelse, broke)
        out.append(stmt)
    return out


def _name(ident, ctx=None):
    return ast.Name(id=ident, ctx=ctx or ast.Load())


def _assign(target, value):
    return ast.Assign(targets=[_name(target, ast.Store())], value=value)


def _assign_to(target, value):
    """`target = value` for a target node (a name or a tuple of names)."""
    return ast.Assign(targets=[target], value=value)


def _located(node, where):
    """`node` and each node under it without a line given `where`'s line."""
    for sub in ast.walk(node):
        if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
            sub.lineno, sub.col_offset = where.lineno, getattr(where, "col_offset", 0)
            sub.end_lineno = getattr(where, "end_lineno", where.lineno)
            sub.end_col_offset = getattr(where, "end_col_offset", 0)
    return node
