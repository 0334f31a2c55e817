"""Clean-ups on a generated function: constant folding, copy propagation, dead code.

In: a `FunctionDef` from `forward` or `reverse` (it may contain a nested pullback function)
and the job's `pullback_only` and `info`. Out: the same function, where in derivative statements
numbers are folded (`2 - 1` -> `1`, `x ** 1` -> `x`, `1.0 * e` -> `e`, `e - 0` -> `e`, `0 - e`
-> `-e`), a derivative copy `da = db` is replaced by `db` where that is safe (in a loop's body
too: `d_add = d_add_1; d_matmul = d_add` in a reversed trip), and assignments
whose value is never used and has no effect are removed (an adjoint's `dv += e` that nothing
else reads too, with the zeros it adds to; repeatedly, so whole dead chains go; a
size read annotated SIZE that alone would keep a value alive is written as its number), and so
are the pushes and pops of a loop's stack whose pops nothing reads (an outer loop's copy of what
its inner loop pops for itself). Primal statements are removed, and a temporary of normal form
that only the next statements of its user line read is put back into the expression that reads
it
(`h = np.tanh(X @ W + b)`, not `_matmul = X @ W; _add = _matmul + b; h = np.tanh(_add)`): the
line reads as the user wrote it, and the value is freed at once. A value of code inlined from a
model's forward (`passes/inline`; `job.info.inlined`) read once by a later primal statement is
put back into it whatever its line (named or not): as the callee's frame would have, the value
then goes when its reader is done, not at the end of the function. A model's gradient dict built
in pieces (`dself = {'bias': db}` ... `dself = merge_grads(dself, {'weight': dw})`) is written
as one literal.
"""

import ast
import numbers
from collections import Counter
from itertools import chain

import numpy

from .. import annotations as anno
from .. import models, rules, runtime
from ..ast_util import NameIndex, always_assigned, loaded, read_before_assigned, stored, walk
from ..job import Job
from .simplify import sizes_as_numbers


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Clean up `tree` (see the module docstring). `job.pullback_only(name)` names the variant
    of the derivative `name` that returns its pullback alone, or None: a call `value, pullback
    = name(...)` whose value nothing reads calls that variant instead. The job's shapes say
    whether the code is specialized to shapes (then it may hold size reads)."""
    pullback_only = job.pullback_only
    _fold(tree)
    index = NameIndex()         # the names of each statement, read once for all the steps
    _propagate_copies(tree, index)
    _propagate_copies_in_loops(tree, index)
    _join_gradient_dicts(tree, _canonical_orders(job))
    _drop_unread_stacks(tree, index)
    sized = bool(job.argument_shapes or job.parameter_shapes)    # specialized: SIZE reads
    _remove_all_dead(tree, sized, index)
    if _drop_unread_values(tree, pullback_only, index):
        _remove_all_dead(tree, sized, index)
    _inline_temporaries(tree, index, job.info.inlined if job.info is not None else None)
    return tree


def _remove_all_dead(tree, sized, index):
    """Remove dead code until none is left; in code specialized to shapes (`sized`), a size
    read that alone keeps a value alive is written as its number first
    (`simplify.sizes_as_numbers`)."""
    while True:
        while _remove_dead(tree, index):
            pass
        if not (sized and sizes_as_numbers(tree)):
            return
        index.forget()                          # (numbers replaced names)


def _counts(statements, index, which):
    """How often each name is read (`which` "loads") or assigned ("stores") in `statements`,
    as `index` (a `NameIndex`) has them."""
    return Counter(chain.from_iterable(index.ids_of_each(statements, which)))



def _drop_unread_values(tree, pullback_only, index):
    """`value, pullback = vjp_f(...)` with `value` read nowhere becomes `pullback =
    pullback_f(...)`; True when something changed."""
    statements = _statements(tree)
    reads = set(_counts(statements, index, "loads"))
    changed = False
    for stmt in statements:                 # (no expression holds a statement)
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple)
                and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name)):
            continue
        targets = stmt.targets[0].elts
        if len(targets) != 2 or not all(isinstance(t, ast.Name) for t in targets) \
                or targets[0].id in reads:
            continue
        variant = pullback_only(stmt.value.func.id)
        if variant is not None:
            stmt.targets = [targets[1]]
            stmt.value.func.id = variant
            index.forget(stmt)
            changed = True
    return changed


# constant folding --------------------------------------------------------------------------
def _fold(tree):
    folder = _Folder()
    for stmt in _statements(tree):
        if anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign) and any(
                isinstance(n, (ast.Constant, ast.UnaryOp)) for n in walk(stmt.value)):
            stmt.value = folder.visit(stmt.value)     # (no number, no `--e`: nothing folds)


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
        if op is ast.Sub and _is(node.left, 0):
            return ast.UnaryOp(op=ast.USub(), operand=node.right)
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
def _propagate_copies(tree, index):
    """Replace `da` by `db` after a top-level derivative copy `da = db` when `da` is assigned
    once and not returned, and nothing assigns `db` after the copy."""
    stores = _counts(_statements(tree), index, "stores")
    for function in _functions(tree):
        under = [index.under(stmt) for stmt in function.body]
        returned = {n.id for s, names in zip(function.body, under) if isinstance(s, ast.Return)
                    for n in names}
        last_store = {}                 # name -> index of the last statement assigning it
        for i, names in enumerate(under):
            for n in names:
                if isinstance(n.ctx, ast.Store):
                    last_store[n.id] = i
        kept = []
        renames = {}
        for i, stmt in enumerate(function.body):
            _rename_loads(under[i], renames)
            if (anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign)
                    and isinstance(stmt.value, ast.Name)):
                target, source = stmt.targets[0].id, stmt.value.id
                if stores.get(target) == 1 and last_store.get(source, -1) <= i \
                        and target not in returned:
                    renames[target] = source
                    continue
            kept.append(stmt)
        function.body = kept
        if renames:
            index.forget_ids()                  # (names were renamed in place)


def _propagate_copies_in_loops(tree, index):
    """Replace `da` by `db` after a derivative copy `da = db` in a loop's body (or a branch in
    one) when `da` is assigned there alone and read only by the statements after the copy in
    the same block, none of which assigns `db`: `d_add = d_add_1; d_matmul = d_add` in a
    reversed trip are other names for `d_add_1`. (A name a trip reads before it assigns it
    holds the previous trip's value: not renamed.)"""
    statements = _statements(tree)
    stores, loads = _counts(statements, index, "stores"), _counts(statements, index, "loads")
    for loop in (n for n in statements if isinstance(n, (ast.For, ast.While))):
        for block in _blocks_in(loop):
            _propagate_in_block(block, stores, loads, index)
    index.forget_ids()                          # (names may have been renamed in place)


def _blocks_in(loop):
    """The statement lists of `loop`'s body and of the branches under it (not of nested
    loops: each is a loop of its own)."""
    blocks, todo = [], [loop.body]
    while todo:
        block = todo.pop()
        blocks.append(block)
        for stmt in block:
            if isinstance(stmt, ast.If):
                todo += [stmt.body, stmt.orelse]
    return blocks


def _propagate_in_block(block, stores, loads, index):
    _drop_copies_back(block, stores, loads, index)
    under = [index.under(stmt) for stmt in block]
    later_loads, later_stores = {}, {}         # name -> count in the statements after i
    for names in under:
        for n in names:
            table = later_loads if isinstance(n.ctx, ast.Load) else later_stores
            table[n.id] = table.get(n.id, 0) + 1
    renames, drop = {}, set()
    for i, stmt in enumerate(block):
        for n in under[i]:
            table = later_loads if isinstance(n.ctx, ast.Load) else later_stores
            table[n.id] -= 1
            if isinstance(n.ctx, ast.Load) and n.id in renames:    # (counts kept true)
                loads[n.id] -= 1
                loads[renames[n.id]] = loads.get(renames[n.id], 0) + 1
        _rename_loads(under[i], renames)
        if (anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign)
                and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Name)):
            target, source = stmt.targets[0].id, stmt.value.id
            if stores.get(target) == 1 and loads.get(target, 0) == later_loads.get(target, 0) \
                    and not later_stores.get(source) and target != source:
                renames[target] = source
                drop.add(id(stmt))
    if drop:
        block[:] = [stmt for stmt in block if id(stmt) not in drop]


def _copy_of(stmt):
    """(target, source) for a derivative copy `target = source`, else None."""
    if (anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Name)):
        return stmt.targets[0].id, stmt.value.id
    return None


def _drop_copies_back(block, stores, loads, index):
    """Remove `b = a` after `a = b` when neither name was assigned in between: `b` holds that
    value already (`d_add = ds; ds = d_add` of an accumulation carried from trip to trip).
    `stores`, `loads` (the function's counts) are kept true."""
    pending, drop = {}, set()              # a -> b for a copy `a = b` still in force
    for stmt in block:
        copy = _copy_of(stmt)
        if copy is not None and pending.get(copy[1]) == copy[0]:
            drop.add(id(stmt))
            stores[copy[0]] -= 1
            loads[copy[1]] -= 1
            continue
        assigned = index.stored(stmt)
        pending = {a: b for a, b in pending.items() if a not in assigned and b not in assigned}
        if copy is not None:
            pending[copy[0]] = copy[1]
    if drop:
        block[:] = [stmt for stmt in block if id(stmt) not in drop]


def _rename_loads(names, renames):
    """Rename the reads among the `Name` nodes `names` as `renames` says."""
    if not renames:
        return
    for node in names:
        if isinstance(node.ctx, ast.Load) and node.id in renames:
            node.id = renames[node.id]


# gradient dicts ----------------------------------------------------------------------------
def _canonical_orders(job):
    """For each model whose parameters the code differentiates, its parameters' paths in
    `named_parameters()` order (as `{path: position}`)."""
    statics = job.statics or {}
    return [{path: i for i, (path, _) in enumerate(models.layout(statics[param]).named)}
            for param in job.modules if param in statics]


def _join_gradient_dicts(tree, orders=()):
    if not any(_merge_of_literal(stmt) for stmt in _statements(tree)):
        return                                  # (most code: no model gradients to join)
    for node in _statements(tree):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, _join_in_block(stmts, orders))


def _join_in_block(stmts, orders=()):
    """`d = {A}; ...; d = merge_grads(d, {B})` -> `...; d = {A, B}` (a key in both: the values
    added) when nothing in between reads `d` or changes a value of `A`; the keys in the order
    of the first of `orders` (a model's parameter paths) that has them all, as its
    `named_parameters()` gives them (the values are names and sums of names: their order
    changes nothing)."""
    out, pending = [], {}                  # name -> position in `out` of its dict literal
    for stmt in stmts:
        merge = _merge_of_literal(stmt)
        if merge is not None and merge[0] in pending:
            var, extra = merge
            first = out[pending[var]]
            entries = dict(zip((k.value for k in first.value.keys), first.value.values))
            for key, value in zip(extra.keys, extra.values):    # a shared key: values add
                entries[key.value] = (ast.BinOp(left=entries[key.value], op=ast.Add(),
                                                right=value) if key.value in entries else value)
            entries = _in_order(entries, orders)
            joined = ast.Dict(keys=[ast.Constant(k) for k in entries],
                              values=list(entries.values()))
            out[pending.pop(var)] = None
            out.append(anno.copy(stmt, ast.Assign(targets=stmt.targets, value=joined)))
            pending[var] = len(out) - 1
            continue
        touched = {n.id for n in walk(stmt) if isinstance(n, ast.Name)} if pending else ()
        for var in list(pending):
            values = {n.id for v in out[pending[var]].value.values for n in walk(v)
                      if isinstance(n, ast.Name)}
            if var in touched or values & stored(stmt):
                del pending[var]
        if _gradient_literal(stmt):
            pending[stmt.targets[0].id] = len(out)
        out.append(stmt)
    return [s for s in out if s is not None]


def _in_order(entries, orders):
    """`entries` ({path: value}) in the order of the first of `orders` that holds every
    path, when each value is a name or a sum of names; else as they are."""
    order = next((o for o in orders if all(k in o for k in entries)), None)
    if order is None or not all(isinstance(n, (ast.Name, ast.BinOp, ast.Add, ast.Load))
                                for v in entries.values() for n in ast.walk(v)):
        return entries
    return dict(sorted(entries.items(), key=lambda item: order[item[0]]))


def _gradient_literal(stmt):
    """True for a derivative statement `d = {"name": value, ...}` with string keys."""
    return (anno.get(stmt, anno.DERIVATIVE) and isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name) and _string_keyed(stmt.value))


def _merge_of_literal(stmt):
    """(d, the dict literal) for `d = merge_grads(d, {...})` with string keys, else None."""
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
        return None
    value = stmt.value
    if (isinstance(value, ast.Call) and anno.get(value, anno.FUNC) is runtime.merge_grads
            and len(value.args) == 2 and isinstance(value.args[0], ast.Name)
            and value.args[0].id == stmt.targets[0].id and _string_keyed(value.args[1])):
        return stmt.targets[0].id, value.args[1]
    return None


def _string_keyed(node):
    return isinstance(node, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys)


# stacks nothing reads ----------------------------------------------------------------------
def _drop_unread_stacks(tree, index):
    """Remove the pushes and pops of each stack whose every pop is an adjoint statement
    `v = S.pop()` that assigns a value nothing reads before `v` is assigned again (an inner
    loop's adjoint pops its own values before it reads them, so what an outer loop kept for it
    is never read): the primal loop no longer keeps a copy per trip. A stack saved into an outer
    stack that holds nothing else (`X.append(S)` ... `S = X.pop()`) goes with it.
    Only where liveness is exact: one function, no `break`, `continue`, `try` or `with`. True
    when something was removed."""
    statements = _statements(tree)
    if not any(_pop_of(stmt) for stmt in statements):
        return False
    if any(stmt.__class__ in _INEXACT or (isinstance(stmt, ast.FunctionDef) and stmt is not tree)
           for stmt in statements) or any(n.__class__ is ast.Lambda for stmt in statements
                                         for n in index.own(stmt)):
        return False
    stacks = _Stacks(statements, index)
    dead = set()
    _dead_pops(tree.body, set(), dead, (index, {}))
    params = {a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    drop = {s for s in stacks.pops if s not in params
            and all(id(p) in dead for p in stacks.pops[s]) and stacks.only_stacked(s)}
    todo = list(drop)
    while todo:                 # the stacks that saved only a dropped stack go with it
        s = todo.pop()
        for outer in sorted({p.value.func.value.id for p in stacks.saved.get(s, [])}):
            if outer not in drop and outer not in params and outer in stacks.pops \
                    and stacks.only_stacked(outer) and stacks.saves_only(outer, s):
                drop.add(outer)
                todo.append(outer)
    if not drop:
        return False
    gone = {id(stmt) for s in drop for stmt in stacks.pushes.get(s, []) + stacks.pops[s]}
    for node in _statements(tree):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and any(id(stmt) in gone for stmt in stmts):
                kept = [stmt for stmt in stmts if id(stmt) not in gone]
                setattr(node, field, kept or ([ast.Pass()] if field == "body" else []))
    return True


_INEXACT = frozenset({ast.Break, ast.Continue, ast.Try, ast.With})


def _push_of(stmt):
    """S for a statement `S.append(e)` with `e` free of effects, else None."""
    if isinstance(stmt, ast.Expr) and _method_call(stmt.value, "append", 1) \
            and _pure(stmt.value.args[0]):
        return stmt.value.func.value.id
    return None


def _pop_of(stmt):
    """S for an adjoint statement `v = S.pop()`, else None."""
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and _method_call(stmt.value, "pop", 0)
            and anno.get(stmt, anno.DERIVATIVE)):
        return stmt.value.func.value.id
    return None


def _method_call(node, method, n_args):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == method and isinstance(node.func.value, ast.Name)
            and len(node.args) == n_args and not node.keywords)


class _Stacks:
    """The pushes `S.append(e)`, adjoint pops `v = S.pop()` and `S = []` of a function by
    stack name, and how often each name is read and assigned."""

    def __init__(self, statements, index):
        self.pushes, self.pops, self.inits = {}, {}, {}
        self.loads = _counts(statements, index, "loads")
        self.stores = _counts(statements, index, "stores")
        for stmt in statements:
            if stmt.__class__ is ast.Expr:          # (only an expression pushes)
                found, table = _push_of(stmt), self.pushes
            elif stmt.__class__ is ast.Assign:      # (only an assignment pops or starts)
                found, table = _pop_of(stmt), self.pops
                if not found:
                    found, table = _init_of(stmt), self.inits
            else:
                continue
            if found:
                table.setdefault(found, []).append(stmt)
        self.saved, self.assigned = {}, {}      # s -> pushes `X.append(s)`, pops `s = X.pop()`
        for push in (p for stmts in self.pushes.values() for p in stmts):
            if isinstance(push.value.args[0], ast.Name):
                self.saved.setdefault(push.value.args[0].id, []).append(push)
        for pop in (p for stmts in self.pops.values() for p in stmts):
            self.assigned.setdefault(pop.targets[0].id, []).append(pop)

    def only_stacked(self, s):
        """True when `s` is read only as the list of its pushes and pops, or pushed whole
        into a stack that holds nothing else and gives back into `s` alone; and assigned only
        `[]` or such a pop: its contents are seen by nothing but its own pops."""
        saved, assigned = self.saved.get(s, []), self.assigned.get(s, [])
        outer = {p.value.func.value.id for p in saved + assigned}
        return (all(self.saves_only(x, s) for x in outer)
                and self.loads.get(s, 0) == len(self.pushes.get(s, [])) + len(self.pops[s])
                + len(saved)
                and self.stores.get(s, 0) == len(assigned) + len(self.inits.get(s, [])))

    def saves_only(self, x, s):
        """True when stack `x` is pushed only `s` and pops only into `s`."""
        return (all(isinstance(p.value.args[0], ast.Name) and p.value.args[0].id == s
                    for p in self.pushes.get(x, []))
                and all(p.targets[0].id == s for p in self.pops.get(x, [])))


def _init_of(stmt):
    """S for a statement `S = []`, else None."""
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.List)
            and not stmt.value.elts):
        return stmt.targets[0].id
    return None


def _dead_pops(stmts, live, dead, memo):
    """Add to `dead` the ids of the pops `v = S.pop()` in `stmts` (and the blocks under them)
    after which `v` is not live. `live`: the names read after `stmts`, made in place the names
    read before them (one backward sweep, one set: a set per statement would be quadratic);
    `memo`: the `NameIndex` and a dict, id of a statement -> the names it may read before
    assigning them."""
    for stmt in reversed(stmts):
        if _pop_of(stmt) and stmt.targets[0].id not in live:
            dead.add(id(stmt))
        if isinstance(stmt, (ast.For, ast.While)):        # the next trip reads too
            trip = _reads(stmt, memo)
            _dead_pops(stmt.body, live | trip, dead, memo)
            _dead_pops(stmt.orelse, set(live), dead, memo)
            live |= trip                                  # (it may run no trip)
        elif isinstance(stmt, ast.If):
            body, orelse = set(live), set(live)
            _dead_pops(stmt.body, body, dead, memo)
            _dead_pops(stmt.orelse, orelse, dead, memo)
            live.clear()
            live |= body | orelse | loaded(stmt.test)
        else:
            live.difference_update(_assigned(stmt))
            live |= _reads(stmt, memo)


def _assigned(stmt):
    """`always_assigned(stmt)`, at once for `v = e`."""
    targets = getattr(stmt, "targets", None)
    if stmt.__class__ is ast.Assign and len(targets) == 1 and targets[0].__class__ is ast.Name:
        return (targets[0].id,)
    return always_assigned(stmt)


def _reads(stmt, memo):
    """The names `stmt` may read before it assigns them (`ast_util.read_before_assigned` of
    one statement), each statement's computed once."""
    index, cache = memo
    if id(stmt) not in cache:
        if isinstance(stmt, (ast.Assign, ast.Expr, ast.Return)):
            reads = set(index.load_ids(stmt))
        elif isinstance(stmt, ast.If):
            reads = (loaded(stmt.test) | _reads_before(stmt.body, memo)
                     | _reads_before(stmt.orelse, memo))
        elif isinstance(stmt, ast.For):
            reads = loaded(stmt.iter) | (_reads_before(stmt.body, memo) - stored(stmt.target))
        elif isinstance(stmt, ast.While):
            reads = loaded(stmt.test) | _reads_before(stmt.body, memo)
        else:
            reads = read_before_assigned([stmt])
        cache[id(stmt)] = reads
    return cache[id(stmt)]


def _reads_before(stmts, memo):
    early, assigned = set(), set()
    for stmt in stmts:
        early |= _reads(stmt, memo) - assigned
        assigned.update(_assigned(stmt))
    return early


# dead code ---------------------------------------------------------------------------------
def _remove_dead(tree, index):
    """Remove dead assignments; one pass from the end, so that removing a statement frees the
    statements that only it read (a chain goes at once). True when something was removed."""
    return _prune(tree, _counts(_statements(tree), index, "loads"), index)


def _prune(node, reads, index):
    changed = False
    for field in ("body", "orelse"):
        stmts = getattr(node, field, None)
        if not isinstance(stmts, list):
            continue
        kept = []
        for stmt in reversed(stmts):
            if isinstance(stmt, (ast.If, ast.FunctionDef, ast.For, ast.While)):
                changed |= _prune(stmt, reads, index)   # (loop bodies too: dead work)
                if isinstance(stmt, ast.If) and _empty(stmt.body) and _empty(stmt.orelse):
                    changed = True
                    continue
            elif _is_dead(stmt, reads):
                for ident in index.load_ids(stmt):
                    reads[ident] -= 1
                changed = True
                continue
            kept.append(stmt)
        kept.reverse()
        if field == "body" and not kept and isinstance(node, (ast.If, ast.For, ast.While)):
            kept = [ast.Pass()]
        setattr(node, field, kept)
    return changed


def _empty(stmts):
    return all(isinstance(s, ast.Pass) for s in stmts)


def _is_dead(stmt, reads):
    """True for `v = e` whose `v` nothing reads, and for an adjoint's accumulation `dv += e`
    whose `dv` nothing else reads (its array is its own: `reverse` accumulates in place only
    into the zeros it makes before a loop; were it kept, the zeros it adds to could go as
    dead code, leaving `dv += e` without a `dv`), `e` free of effects."""
    if isinstance(stmt, ast.AugAssign) and anno.get(stmt, anno.DERIVATIVE):
        target = stmt.target
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    else:
        return False
    return isinstance(target, ast.Name) and not reads.get(target.id) and _pure(stmt.value)


def _pure(node):
    """True when evaluating `node` has no effect besides its value."""
    for sub in walk(node):
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


# temporaries read once ----------------------------------------------------------------------
def _inline_temporaries(tree, index, inlined=None):
    """Put each primal temporary `_t = e` that is stored and read once, by a later primal
    statement of the same block and user line, back into that statement (see the docstring);
    `inlined(line)`, when given, tells the lines of inlined code, whose values go into their
    reader on any line."""
    statements = _statements(tree)
    loads, stores = _counts(statements, index, "loads"), _counts(statements, index, "stores")
    for node in statements:
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, _inline_in_block(stmts, loads, stores, inlined))


def _inline_in_block(stmts, loads, stores, inlined):
    kept = []
    for i, stmt in enumerate(stmts):
        anywhere = inlined is not None and inlined(anno.get(stmt, anno.ORIGIN))
        target = _temporary(stmt, loads, stores, anywhere)
        user = _reader(stmts, i, target, anywhere) if target else None
        if user is None:
            kept.append(stmt)
            continue
        for node in walk(user):
            for field, value in ast.iter_fields(node):
                if isinstance(value, ast.Name) and value.id == target:
                    setattr(node, field, stmt.value)
                elif isinstance(value, list):
                    value[:] = [stmt.value if isinstance(v, ast.Name) and v.id == target
                                else v for v in value]
    return kept


def _temporary(stmt, loads, stores, named=False):
    """The name a primal temporary of normal form `_t = e` (any name when `named`) assigns,
    when it is stored and read once and `e` has no effects; else None."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and not anno.get(stmt, anno.DERIVATIVE)):
        return None
    target = stmt.targets[0].id
    if not (named or target.startswith("_")) or loads.get(target) != 1 \
            or stores.get(target) != 1:
        return None
    return target if _pure(stmt.value) else None


def _reader(stmts, i, target, any_line=False):
    """The statement after `stmts[i]`, from the same user line (any line when `any_line`),
    that reads `target`, when no statement between them has an effect or assigns what
    `stmts[i]` reads."""
    origin, reads = anno.get(stmts[i], anno.ORIGIN), _loads(stmts[i].value)
    for stmt in stmts[i + 1:]:
        if (anno.get(stmt, anno.ORIGIN) != origin and not any_line) \
                or anno.get(stmt, anno.DERIVATIVE) or not isinstance(stmt, (ast.Assign,
                                                                              ast.Return)):
            return None
        if target in _loads(stmt):
            return stmt
        if (isinstance(stmt, ast.Assign) and not _pure(stmt.value)) or \
                reads & {n.id for n in walk(stmt) if isinstance(n, ast.Name)
                         and isinstance(n.ctx, ast.Store)}:
            return None
    return None


def _loads(node):
    return {n.id for n in walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}


# walking -----------------------------------------------------------------------------------
def _functions(tree):
    return [n for n in _statements(tree) if isinstance(n, ast.FunctionDef)]


_SIMPLE = frozenset({ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.Pass})


def _statements(tree):
    """`tree` and the statements under it, without walking into expressions (the statements
    of normal form are in `body` and `orelse`; no expression holds a statement)."""
    out, i = [tree], 0
    while i < len(out):
        node = out[i]
        i += 1
        if node.__class__ in _SIMPLE:
            continue
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list):
                out.extend(stmts)
    return out

