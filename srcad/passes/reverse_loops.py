"""Reverse mode's loops: a `for` or `while` loop of the primal as its primal loop (counting its
trips, pushing what its adjoint reads) and its adjoint loop (the reversed trips), for
`passes.reverse`, which calls `Loop(reverse, stmt, known).reverse(defined)` on each loop it meets.

In: the loop statement, the `passes.reverse` builder reversing the function (its namer, the
names' facts, the adjoint of each statement), the names known before the loop. Out: `(primal
statements, adjoint statements)` of the loop (see `Loop`); `Restore`, the placeholder after the
adjoint of an assignment in a loop where its value may be popped; `popped(value)` and
`substitute(node, constants)`, which the builder's branches use too. What `srcad.loop_plan`
decides (counters run backwards, entries recomputed) is applied here; the stacks of loops nested
in a loop are one flat stack per value for the whole nest where that is exact (`_shared_stacks`).
"""

import ast

from .. import annotations as anno
from .. import loop_plan, runtime
from ..ast_util import assign, call, copy_node, name, walk


class Restore(ast.stmt):
    """Placeholder after the adjoint of an assignment in a loop: where `var` may be popped."""
    _fields = ()

    def __init__(self, var, stmt):
        super().__init__()
        self.var = var
        self.stmt = stmt


class Loop:
    """Reverse a `for` or `while` loop.

    Primal: the loop counts its trips, and pushes what the adjoint reads that the loop
    overwrites, but for what `loop_plan` gives back without a stack (the counter of a range
    loop that runs every trip: the adjoint loop runs it backwards; entries like `xs[t]`:
    recomputed at the start of the reversed trip). A value assigned once per trip at the top of
    the body (and not before the loop) is pushed after its assignment and popped at the start
    of the reversed trip; any other (carried from trip to trip, or assigned on some paths
    only) is pushed before each assignment and popped right after that assignment's adjoint,
    so every adjoint statement sees the values its primal statement saw. The stacks of loops
    inside the body are shared by its trips (`_shared_stacks`). Adjoint: `for _ in
    range(trips)` (or the counter backwards) over the reversed body; adjoints that flow from
    trip to trip, or collect over all trips, start (at zero if nothing reached them yet)
    before the loop, and are set to zero at the end of a reversed
    trip when the trip spent them.
    """

    def __init__(self, reverse, stmt, known):
        self.rev = reverse
        self.stmt = stmt
        self.known = known
        self.origin = anno.get(stmt, anno.ORIGIN)
        self.namer = reverse.namer

    def reverse(self, defined):
        rev, stmt = self.rev, self.stmt
        rev.forget()
        targets = rev.index.stored(stmt.target) if isinstance(stmt, ast.For) else set()
        assigned = rev.index.stored(stmt.body) | targets
        live = {d for d in defined if rev.primal_of.get(d) in self.known | assigned}
        live |= {rev.derivative_of(v) for v in sorted(rev.index.loaded(stmt.body))
                 if v in rev.active and v in self.known}
        fresh = live - defined
        before = [rev.derivative(assign(d, rev.zeros(rev.primal_of[d])), self.origin)
                  for d in sorted(fresh)]
        defined |= live
        rev.depth += 1
        rev.known = set(self.known) | targets
        counters = rev.counters
        rev.counters = counters | self._counters(targets, assigned)
        in_body = set(defined)
        body_primal, body = rev.block(stmt.body, in_body)
        rev.depth -= 1
        body += [rev.derivative(assign(d, rev.zeros(rev.primal_of[d])), self.origin)
                 for d in sorted(live - in_body)]
        body, facts = self._drop_unread(body, live)
        needed = self._plan(body_primal, facts.reads, targets)
        rev.counters = counters
        known_targets = targets & self.known & needed
        saves, restores = self._keep((assigned & self.known & rev.read_by_active)
                                     | known_targets, needed - known_targets)
        if not any(not isinstance(s, Restore) for s in _flat(body)):
            return saves + [stmt], before + restores
        _accumulate_in_place(body, fresh, facts, rev.facts)
        primal, adjoint = self.assemble(body_primal, body, needed, targets, before, facts)
        return saves + primal, adjoint + restores

    def _counters(self, targets, assigned):
        """The target of a `for` over a range that the body does not assign again: an
        integer throughout the trip."""
        stmt = self.stmt
        if isinstance(stmt, ast.For) and loop_plan.is_range(stmt.iter) and isinstance(
                stmt.target, ast.Name) and stmt.target.id not in self.rev.index.stored(
                    stmt.body):
            return set(targets)
        return set()

    def _plan(self, body_primal, reads, targets):
        """What the adjoint needs of the values the body assigns (`reads` of them, and what
        recomputing reads), and how it gets each back: `self.backwards` (the reversed
        range, or None: trips counted), `self.recomputed` (statements the reversed trip runs
        again), `self.once` (values assigned once per trip, at the top of the body)."""
        rev = self.rev
        stores = rev.index.stored(body_primal)
        counts = {t: 1 for t in targets}
        for n in (n for s in body_primal for n in rev.index.under(s)):
            if isinstance(n.ctx, ast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
        top = rev.index.stored([s for s in body_primal if isinstance(s, ast.Assign)]) | targets
        self.once = {v for v in counts if (v not in self.known or v in targets)
                     and counts[v] == 1 and v in top}      # (a target known before the loop
        needed = reads & (stores | targets)                 # is kept by `_keep` too)
        self.backwards = loop_plan.backwards(self.stmt, stores)
        if self.backwards is not None and rev.branches:     # (a counter the primal loop of
            rev.maybe_unbound.add(self.stmt.target.id)      # one path only assigns: code
        #                        differentiated again joins its value after the branch)
        scalars = {v for v, shape in (rev.shapes or {}).items() if shape == ()}
        self.recomputed = loop_plan.recomputable(body_primal, needed, self.once, stores,
                                                 rev.counters | scalars)
        for again in self.recomputed:
            needed |= rev.index.loaded(again) & (stores | targets)
        return needed

    def _keep(self, names, needed):
        """Values the loop overwrites that an adjoint before the loop may read (`x` in
        `y = x @ w` followed by a loop that assigns `x`), and that the loop's stacks do not
        give back: kept before the loop, given back after its adjoint."""
        saves, restores = [], []
        for var in sorted(names - needed):
            self.rev.maybe_unbound.add(var)
            kept = self.namer.fresh(f"{var}_before_loop")
            saves.append(self._bookkeeping(assign(kept, name(var))))
            restores.append(self.rev.derivative(assign(var, name(kept)), self.origin))
        return saves, restores

    def _drop_unread(self, body, live):
        """The adjoint body without adjoints of values first assigned in the loop that nothing
        reads (a shape-specialized adjoint may no longer need them), so that the primal loop
        does not store what only they read."""
        def removable(stmt, reads):
            if not (isinstance(stmt, ast.Assign) and anno.get(stmt, anno.DERIVATIVE)
                    and isinstance(stmt.targets[0], ast.Name)):
                return False
            target = stmt.targets[0].id
            primal = self.rev.primal_of.get(target)
            return (target not in live and primal is not None and primal not in self.known
                    and target not in reads and not popped(stmt.value))

        while True:
            facts = _Facts(body, self.rev.free, self.rev.facts)
            kept = [s for s in body if not removable(s, facts.reads)]
            if len(kept) == len(body):
                return body, facts
            body = kept

    def assemble(self, body_primal, body, needed, targets, before, facts):
        rev, stmt = self.rev, self.stmt
        again = {s.targets[0].id for s in self.recomputed}
        counter = {stmt.target.id} if self.backwards is not None else set()
        kept = needed - again - counter                 # the values on stacks
        moved = {}                      # id of a start dropped -> the statement after it
        shared = _shared_stacks(body_primal, kept & rev.loop_stacks, moved)
        kept -= shared
        after_assign = kept & self.once
        stacks = {v: self.namer.fresh(f"{v}_stack") for v in sorted(kept)}
        rev.loop_stacks.update(stacks.values())
        self.shapes_only = facts.shape_only & (needed - self.known)
        setup = [self._bookkeeping(assign(stacks.get(v, v), ast.List(elts=[], ctx=ast.Load())))
                 for v in sorted(kept | shared, key=lambda v: stacks.get(v, v))]
        setup += [self._bookkeeping(assign(v, ast.Constant(None)))
                  for v in sorted(kept - after_assign - self.known)]
        new_body = [self._push(stacks[v], v) for v in sorted(after_assign & targets)]
        anchors = {}                    # id of a primal statement -> values pushed before it
        for r in _flat(body):
            if isinstance(r, Restore) and r.var in stacks and r.var not in after_assign:
                anchors.setdefault(moved.get(id(r.stmt), id(r.stmt)), set()).add(r.var)
        new_body += self._place_pushes(body_primal, stacks, after_assign, anchors)
        reassigned = targets & kept - after_assign      # a target the body assigns again: its
        new_body += [self._push(stacks[v], v) for v in sorted(reassigned)]  # value at trip end
        adjoint_body = [self._pop(stacks[v], v) for v in sorted(after_assign | reassigned)]
        adjoint_body += [rev.derivative(copy_node(s), anno.get(s, anno.ORIGIN))
                         for s in self.recomputed]
        adjoint_body += self._resolve(body, stacks, after_assign)
        primal_loop = copy_node(stmt) if isinstance(stmt, ast.While) else ast.For(
            target=stmt.target, iter=stmt.iter, body=[], orelse=[])
        primal_loop.body = new_body
        anno.copy(stmt, primal_loop)
        if self.backwards is not None:              # the counter runs backwards
            reversed_loop = ast.For(target=name(stmt.target.id, ast.Store()),
                                    iter=self.backwards, body=adjoint_body, orelse=[])
        else:                                       # the trips counted
            trips = self.namer.fresh("_trips")
            setup.insert(0, self._bookkeeping(assign(trips, ast.Constant(0))))
            primal_loop.body.insert(0, self._bookkeeping(assign(trips, ast.BinOp(
                left=name(trips), op=ast.Add(), right=ast.Constant(1)))))
            reversed_loop = ast.For(target=name(self.namer.fresh("_"), ast.Store()),
                                    iter=call(rev.free.bind("range", range), name(trips)),
                                    body=adjoint_body, orelse=[])
        return setup + [primal_loop], before + [rev.derivative(reversed_loop, self.origin)]

    def _place_pushes(self, stmts, stacks, after_assign, anchors):
        """The primal body with pushes: after the single assignment of an `after_assign`
        value; before each statement whose adjoint pops another value (`anchors`). An inner
        loop's stack (`x_stack = []`) is pushed after that loop has filled it, so that
        forward mode over this code (hvp) sees a stack of values and pushes its tangent."""
        out, pending = [], []
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                stmt.body = self._place_pushes(stmt.body, stacks, after_assign,
                                               anchors) or [ast.Pass()]
                stmt.orelse = self._place_pushes(stmt.orelse, stacks, after_assign, anchors)
            origin = anno.get(stmt, anno.ORIGIN)
            out += [self._push(stacks[v], v, origin) for v in sorted(anchors.get(id(stmt), ()))]
            out.append(stmt)
            if isinstance(stmt, (ast.For, ast.While)):
                out.extend(pending)
                pending = []
            if isinstance(stmt, ast.Assign):
                names = self.rev.index.stored(stmt) & after_assign
                pushes = [self._push(stacks[v], v, origin) for v in sorted(names)]
                empty_list = isinstance(stmt.value, ast.List) and not stmt.value.elts
                (pending if empty_list else out).extend(pushes)
        return out + pending

    def _resolve(self, stmts, stacks, after_assign):
        """Turn the restore placeholders into pops (for values pushed before assignment)."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, Restore):
                if stmt.var in stacks and stmt.var not in after_assign:
                    out.append(self._pop(stacks[stmt.var], stmt.var,
                                         anno.get(stmt.stmt, anno.ORIGIN)))
                continue
            if isinstance(stmt, ast.If):
                stmt.body = self._resolve(stmt.body, stacks, after_assign) or [ast.Pass()]
                stmt.orelse = self._resolve(stmt.orelse, stacks, after_assign)
                self.rev.facts.pop(id(stmt), None)          # (its blocks changed)
            out.append(stmt)
        return out

    def _push(self, stack, var, origin=None):
        value = name(var)
        if var in self.shapes_only:           # the adjoint reads only its shape and dtype
            value = call(self.rev.free.bind("shape_only", runtime.shape_only), value)
        push = ast.Expr(value=call(ast.Attribute(value=name(stack), attr="append",
                                                 ctx=ast.Load()), value))
        return self._bookkeeping(push, origin)

    def _pop(self, stack, var, origin=None):
        pop = call(ast.Attribute(value=name(stack), attr="pop", ctx=ast.Load()))
        return self.rev.derivative(assign(var, pop), origin or self.origin)

    def _bookkeeping(self, stmt, origin=None):
        anno.set_(stmt, anno.ORIGIN, origin or self.origin)
        return stmt


def popped(value):
    """S for `S.pop()` (a loop stack of generated code, popped), else None."""
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "pop" and isinstance(value.func.value, ast.Name)
            and not value.args and not value.keywords):
        return value.func.value.id
    return None


def substitute(node, constants):
    """`node` with names replaced by the constants `constants` maps them to (a copy)."""
    if not constants or not any(isinstance(n, ast.Name) and n.id in constants
                                for n in walk(node)):
        return node
    node = copy_node(node)
    for sub in walk(node):
        for field, value in ast.iter_fields(sub):
            if isinstance(value, ast.Name) and value.id in constants:
                setattr(sub, field, copy_node(constants[value.id]))
            elif isinstance(value, list):
                value[:] = [copy_node(constants[v.id]) if isinstance(v, ast.Name)
                            and v.id in constants else v for v in value]
    return node


def _accumulate_in_place(stmts, fresh, facts, kept):
    """`d = d + e` as `d += e` for the adjoints `fresh` (zeros made just before the loop) that
    the loop only ever accumulates (`facts`: the `_Facts` of `stmts`, whose statements' facts
    `kept` holds): their arrays are the loop's own, so no trip allocates."""
    def is_accumulation(node, d):
        return _sum_into(node) == d

    for d in sorted(fresh):
        writes = facts.stores.get(d, 0)
        if writes and writes == facts.sums.get(d, 0):
            _replace_statements(stmts, lambda n, d=d: anno.copy(n, ast.AugAssign(
                target=name(d, ast.Store()), op=ast.Add(), value=n.value.right))
                if is_accumulation(n, d) else n, kept)


def _replace_statements(stmts, replace, kept):
    """Each statement of `stmts` and of the blocks under them replaced by `replace(stmt)`;
    True when one was (the `_Facts` `kept` of the statements around it are forgotten)."""
    changed = False
    for i, stmt in enumerate(stmts):
        stmts[i] = replace(stmt)
        changed |= stmts[i] is not stmt
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and _replace_statements(inner, replace, kept):
                kept.pop(id(stmt), None)
                changed = True
    return changed


# runtime helpers that use only the shape and dtype of one argument: (helper, position)
_SHAPE_ARGUMENTS = ((runtime.unbroadcast, 1), (runtime.unreduce, 1), (runtime.zeros_like, 0),
                    (runtime.scatter_add, 1), (runtime.cast_like, 1))


class _Facts:
    """What a loop's adjoint body `stmts` reads and writes: `reads` (the names it reads),
    `shape_only` (those it reads only as the shape-and-dtype argument of a runtime helper, the
    `x` of `unbroadcast(g, x)`: a loop keeps a one-element stand-in for them, not the array),
    `stores` (how often it assigns each name) and `sums` (how many of its statements are
    `d = d + e`, by `d`). Each statement is read once (`kept`, id -> (statement, its facts),
    shared by the loops of one function: an outer loop's adjoint holds its inner loops'
    statements; a change to a block forgets the facts of the statements around it)."""

    def __init__(self, stmts, free, kept):
        shape_names, other, self.stores, self.sums = set(), set(), {}, {}
        for stmt in stmts:
            _add_facts((shape_names, other, self.stores, self.sums),
                       _statement_facts(stmt, free, kept))
        self.reads = shape_names | other
        self.shape_only = shape_names - other


_BLOCKS = (ast.For, ast.While, ast.If)


def _add_facts(into, facts):
    """Add the facts `facts` of a statement to `into` (both as `_statement_facts` gives)."""
    into[0].update(facts[0])
    into[1].update(facts[1])
    for counts, more in ((into[2], facts[2]), (into[3], facts[3])):
        for key, count in more.items():
            counts[key] = counts.get(key, 0) + count


def _statement_facts(stmt, free, kept):
    """(names read as shapes only, names read otherwise, stores, sums) of one statement,
    kept in `kept` (see `_Facts`); a loop's or branch's from its own part and its blocks'."""
    found = kept.get(id(stmt))
    if found is not None and found[0] is stmt:
        return found[1]
    shape_names, other, stores, sums = set(), set(), {}, {}
    blocks = isinstance(stmt, _BLOCKS)
    nodes = [n for field in ("target", "iter", "test") if getattr(stmt, field, None) is not None
             for n in walk(getattr(stmt, field))] if blocks else walk(stmt)
    shape_reads = set()
    for node in nodes:                      # (a call comes before its arguments)
        cls = node.__class__
        if cls is ast.Name:
            ctx = node.ctx.__class__
            if ctx is ast.Load:
                (shape_names if id(node) in shape_reads else other).add(node.id)
            elif ctx is ast.Store:
                stores[node.id] = stores.get(node.id, 0) + 1
        elif cls is ast.Call and node.func.__class__ is ast.Name:
            helper = free.bound.get(node.func.id)
            for function, position in _SHAPE_ARGUMENTS:
                if helper is function and position < len(node.args) and isinstance(
                        node.args[position], ast.Name):
                    shape_reads.add(id(node.args[position]))
        elif cls is ast.Assign and _sum_into(node) is not None:
            sums[node.targets[0].id] = sums.get(node.targets[0].id, 0) + 1
    facts = (shape_names, other, stores, sums)
    if blocks:
        for inner in stmt.body + stmt.orelse:
            _add_facts(facts, _statement_facts(inner, free, kept))
    kept[id(stmt)] = (stmt, facts)
    return facts


def _sum_into(node):
    """`d` for a statement `d = d + e`, else None."""
    if (isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp)
            and isinstance(node.value.op, ast.Add) and isinstance(node.value.left, ast.Name)
            and isinstance(node.targets[0], ast.Name)
            and node.value.left.id == node.targets[0].id):
        return node.value.left.id
    return None


def _flat(stmts):
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _flat(stmt.body)
            yield from _flat(stmt.orelse)


def _shared_stacks(body, candidates, moved):
    """The `candidates` (stacks of loops inside `body`) whose only assignments in `body` are
    `S = []` outside its loops (before each run of the inner loop): such a stack is started
    once before this loop instead (the `S = []` leave `body`, in place; `moved` maps the id of
    each to the statement after it, where what was pushed before it goes) and shared by all its
    trips, not kept whole on a stack of stacks. Exact, because the reversed loop runs the
    forward trips in reverse and each reversed trip pops what the matching forward trip pushed
    (the reversed inner loop replays that trip's inner trips, on the same paths), so the pops
    of one shared stack come in the reverse order of its pushes."""
    if not candidates:
        return set()
    starts, stores = {}, {}
    for stmt in _flat(body):
        if _is_start(stmt, candidates):
            starts[stmt.targets[0].id] = starts.get(stmt.targets[0].id, 0) + 1
    for n in (n for s in body for n in walk(s)):
        if isinstance(n, ast.Name) and n.id in candidates and isinstance(n.ctx, ast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
    shared = {v for v in starts if starts[v] == stores[v]}
    _drop_starts(body, shared, moved)
    return shared


def _is_start(stmt, stacks):
    """Whether `stmt` is `S = []` for one of `stacks`."""
    return (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id in stacks and isinstance(stmt.value, ast.List)
            and not stmt.value.elts)


def _drop_starts(stmts, shared, moved):
    """Remove, in place, the `S = []` of the `shared` stacks from `stmts` and its branches;
    `moved` maps the id of each to the next statement kept (an inner loop's start is always
    followed by that loop)."""
    kept, dropped = [], []
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            _drop_starts(stmt.body, shared, moved)
            stmt.body = stmt.body or [ast.Pass()]
            _drop_starts(stmt.orelse, shared, moved)
        elif _is_start(stmt, shared):
            dropped.append(id(stmt))
            continue
        moved.update(dict.fromkeys(dropped, id(stmt)))
        dropped = []
        kept.append(stmt)
    if dropped:
        raise AssertionError("a loop stack's start is not followed by its loop")
    stmts[:] = kept
