"""Reverse mode: the primal statements, then their adjoints in reverse order.

In: a normal-form `FunctionDef` annotated by `activity` (and by `shapes` when the code is
specialized to shapes), and the job's `wrt` (the names to differentiate), `kind` (of function
wanted, `srcad.kinds`), `namer`, `free`, `derive`, `containers` and `modules`. Out: a new
`FunctionDef`:

* kind "grad":  `def grad_f(x, W): <primal>; d_out = grad_seed(out); <adjoint>; return dx`
* kind "value_and_grad": the same, returning `(out, dx)`
* kind "vjp": `def vjp_f(x, W): <primal>; def pullback(d_out): <adjoint>; return dx`, and
  `return out, pullback`
* kind "pullback": the same, returning the pullback alone (for a caller that does not read
  the value: what only the value needed is not computed)
* kind "backward": `def backward_f(d_out, x, W): <primal>; <adjoint>; return dx`: a vjp
  without a closure, which forward mode can differentiate again (see `GRAD_NESTED`)
* kind "grad_nested": "grad" whose calls of user functions keep the plain call in the primal
  and call the callee's "backward" in the adjoint (recomputing its primal) instead of keeping
  a pullback closure: code that `hvp`/`hessian` differentiate again in forward mode

Each adjoint statement comes from the template of its primal statement. A template's
`d[x] += e` becomes `dx = e` on the first write of `dx` and `dx = dx + e` after; statements
whose result carries no adjoint (it does not reach the output) produce nothing. Once a
statement `t = ...` is reversed, `dt` is spent: a later write starts afresh (this is what makes
loops right, where `t` is assigned again). After a branch, an adjoint that is live on one path
only is set to zero on the other.

Loops (`passes/reverse_loops`, `Loop`): the primal loop counts its trips and pushes onto stacks
the values the adjoint will need that the loop overwrites; the adjoint loop runs the trips
backwards, popping them. A range loop that runs every trip runs its counter backwards instead
of counting, and a value that is an entry of an array the loop does not write at integer
indices (`xs[t]`) is recomputed in the reversed trip, not pushed (`srcad.loop_plan`). In a loop
nest, the stacks of the inner loops are started once, before the outermost loop, and shared by
all the trips around them (one flat stack per value), not kept whole per outer trip.
Derivative statements carry annotation DERIVATIVE and the ORIGIN of their primal statement.
"""

import ast

from .. import annotations as anno
from .. import calls, rules, runtime
from ..ast_util import (
    NameIndex,
    always_assigned,
    assign,
    call,
    copy_node,
    loaded,
    name,
    read_before_assigned,
    stored,
    walk,
)
from ..errors import NonScalarOutputError
from ..job import Job
from ..kinds import BACKWARD, GRAD, GRAD_NESTED, PULLBACK, VALUE_AND_GRAD, VJP
from ..primitive import bind, check_covered, decompose, rule
from ..template import fill
from .activity import pushed
from .reverse_loops import Loop, Restore, popped, substitute
from .simplify import as_methods, product_of, simplify, spread_of

_COTANGENT_IN = (VJP, BACKWARD, PULLBACK)     # kinds whose output's adjoint is a parameter


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """The reverse-mode function of `tree` (see the module docstring). `job.derive` gives the
    name under which the derivative of a called user function is bound; `job.containers` are
    the parameters that hold lists, tuples or dicts of arrays; `job.modules` the parameters
    that are models, whose gradient is a dict keyed like `named_parameters()`; annotation
    SHAPES the static shapes of names, for code specialized to them."""
    wrt, kind, namer, free, info = job.wrt, job.kind, job.namer, job.free, job.info
    body = tree.body
    last = body[-1] if body else None
    returns = isinstance(last, ast.Return)
    output = last.value if isinstance(last, ast.Return) else ast.Constant(None)
    statements = body[:-1] if returns else body
    if kind not in _COTANGENT_IN and isinstance(output, ast.Tuple):
        raise NonScalarOutputError(
            "grad needs a function with a scalar output, but this one returns a tuple; use "
            "srcad.vjp for several outputs", info.location(body[-1]))
    params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
    builder = _builder(tree, job, statements, params)
    seeds, pullback_params = builder.seeds(output, kind)
    primal, adjoint = builder.block(statements, builder.defined)
    as_methods(primal, builder.shapes)             # (code specialized to shapes)
    unbound = builder.maybe_unbound - set(params) - always_assigned(primal)
    primal = [assign(v, ast.Constant(None)) for v in sorted(unbound)] + primal  # (None where
    #       the primal took no path that assigns v: a branch's zeros, a loop's saved value)
    dnames, end = [], []
    for param in wrt:
        dname = namer.derivative(param)
        if dname not in builder.defined:
            end.append(builder.derivative(assign(dname, builder.zeros(param)), None))
        dnames.append(name(dname))
    grads = dnames[0] if len(dnames) == 1 else ast.Tuple(elts=dnames, ctx=ast.Load())
    adjoint = seeds + adjoint + end
    fdef = ast.FunctionDef(name=namer.fresh(f"{kind}_{tree.name}"), args=tree.args, body=[],
                           decorator_list=[], returns=None, type_comment=None, lineno=1)
    if kind in (VJP, PULLBACK):
        captured, copies, starts = _captured(adjoint, primal, params, free)
        arguments = _arguments(pullback_params + captured)
        arguments.defaults = [name(v) for v in captured]
        pullback = ast.FunctionDef(
            name=namer.fresh("pullback"), args=arguments, decorator_list=[],
            body=copies + adjoint + [ast.Return(value=grads)], returns=None,
            type_comment=None, lineno=1)
        result = ast.Tuple(elts=[copy_node(output), name(pullback.name)], ctx=ast.Load()) \
            if kind == VJP else name(pullback.name)
        fdef.body = starts + primal + [pullback, ast.Return(value=result)]
    elif kind == BACKWARD:
        fdef.args = _with_first_parameter(tree.args, pullback_params[0])
        fdef.body = primal + adjoint + [ast.Return(value=grads)]
    else:
        value = copy_node(output)
        if kind == VALUE_AND_GRAD and isinstance(output, ast.Name) and output.id in stored(
                adjoint):                       # the adjoint restores it: keep the final value
            value = name(namer.fresh("value"))
            primal = primal + [assign(value.id, name(output.id))]
        result = grads if kind in (GRAD, GRAD_NESTED) else ast.Tuple(
            elts=[value, grads], ctx=ast.Load())
        fdef.body = primal + adjoint + [ast.Return(value=result)]
    return fdef


def _builder(tree, job, statements, params):
    """The `_Reverse` that reverses `statements` (the body of `tree` before its `return`) for
    the job, with what it knows of them and of the parameters `params`."""
    builder = _Reverse(anno.get(tree, anno.ACTIVE_NAMES), job.namer, job.free, job.info,
                       _sequences(statements, job.containers), params, job.derive)
    builder.modules = set(job.modules)
    builder.statics = job.statics
    builder.closures = job.kind not in (BACKWARD, GRAD_NESTED)
    builder.shapes = anno.get(tree, anno.SHAPES)
    builder.lazy = job.lazy
    builder.scalar_outputs = _full_reductions(statements)
    _read_by_kind(builder, statements)
    builder.read_by_active |= _read_by_reversed_loops(statements)
    return builder


def _read_by_reversed_loops(stmts):
    """Names a loop's adjoint may read without a stack (`loop_plan`): the bounds of a `for`,
    and what the entries and integer arithmetic at the top of a loop body read. A later loop
    that overwrites one of them gives it back after its own adjoint (`Loop._keep`)."""
    found = set()
    for loop in (n for s in stmts for n in walk(s) if isinstance(n, (ast.For, ast.While))):
        reads = loaded(loop.iter) if isinstance(loop, ast.For) else set()
        reads |= {n.id for s in loop.body if isinstance(s, ast.Assign) and isinstance(
                  s.value, (ast.Subscript, ast.BinOp, ast.UnaryOp))
                  for n in walk(s.value) if isinstance(n, ast.Name)}
        found |= reads - stored(loop.body)      # (what the loop writes: its own stacks')
    return found




def _read_by_kind(builder, statements):
    """Give `builder`, from one walk of `statements`, the loop stacks generated code pushes to
    (`stacks`), the names active assignments read (`read_by_active`) and the names assigned
    a model parameter's array (`parameter_reads`)."""
    builder.stacks, builder.read_by_active, builder.parameter_reads = set(), set(), set()
    for stmt in statements:
        for node in walk(stmt):
            if node.__class__ is ast.Expr:
                stack = pushed(node)
                if stack is not None:
                    builder.stacks.add(stack)
            elif node.__class__ is ast.Assign:
                if anno.get(node, anno.ACTIVE):
                    builder.read_by_active.update(n.id for n in walk(node.value)
                                                  if isinstance(n, ast.Name))
                if anno.get(node.value, anno.PARAM):
                    builder.parameter_reads.add(node.targets[0].id)


def _with_first_parameter(args, first):
    """`args` (an `ast.arguments`) with the parameter `first` put before all others."""
    new = ast.arguments(posonlyargs=list(args.posonlyargs), args=list(args.args),
                        vararg=None, kwonlyargs=list(args.kwonlyargs),
                        kw_defaults=list(args.kw_defaults), kwarg=None,
                        defaults=list(args.defaults))
    (new.posonlyargs if new.posonlyargs else new.args).insert(0, ast.arg(arg=first))
    return new


def _captured(adjoint, primal, params, free):
    """Primal values a pullback restores from loop stacks, passed in as defaults so each call
    starts from the primal's final state (and pops from its own copy of each stack); and the
    statements that give a start value (None, or an empty stack) to those the primal sets in a
    branch or a loop only, so that the defaults exist on every path."""
    always = set(params) | always_assigned(primal)
    maybe = always | _assigned_outside_loops(primal)
    read_first = read_before_assigned(adjoint)
    restored = (stored(adjoint) - (_counters(adjoint) - read_first)) & (
        maybe | (read_first & stored(primal)))
    stacks = sorted({n.func.value.id for s in adjoint for n in walk(s)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                     and n.func.attr == "pop" and isinstance(n.func.value, ast.Name)}
                    & maybe)
    copy = free.bind("copy_stack", runtime.copy_stack)
    copies = [anno.set_(assign(v, call(copy, name(v))), anno.DERIVATIVE, True)
              for v in stacks]
    starts = [assign(v, ast.List(elts=[], ctx=ast.Load()) if v in stacks else ast.Constant(None))
              for v in sorted((restored | set(stacks)) - always)]
    return sorted(set(restored) | set(stacks)), copies, starts


def _counters(adjoint):
    """The counters of the loops of the adjoint statements (`for i in range(n - 1, -1, -1)`):
    a loop binds its counter before each read in it, so where the pullback reads none before
    its loop (with no trip, none at all), it needs no start value of it, and the primal's
    copies of it may go (one that read a counter never bound, with no trip, failed)."""
    return {n.target.id for s in adjoint for n in walk(s)
            if isinstance(n, ast.For) and isinstance(n.target, ast.Name)}


def _assigned_outside_loops(stmts):
    """Names some path through `stmts` assigns outside loops (in a branch, perhaps)."""
    names = set()
    for stmt in stmts:
        if isinstance(stmt, ast.Assign):
            names |= stored(stmt)
        elif isinstance(stmt, ast.If):
            names |= _assigned_outside_loops(stmt.body) | _assigned_outside_loops(stmt.orelse)
    return names


def _arguments(names):
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in names], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _sequences(stmts, containers=()):
    """Names holding lists/tuples/dicts of arrays (tuple literals, results of numpy.split,
    the `containers` parameters, ...), and the names that may (copies of those, and their
    items: a dict of dicts, a list of lists); the rules for these look at the value at run
    time (`item_adjoint`, `add_sequences` take an array too)."""
    found = set(containers)
    assigns = [stmt for node in stmts for stmt in walk(node) if isinstance(stmt, ast.Assign)]
    for stmt in assigns:
        value = stmt.value
        func = anno.get(value, anno.FUNC) if isinstance(value, ast.Call) else None
        if isinstance(value, (ast.Tuple, ast.List, ast.Dict)) or rules.is_sequence(
                func) or (
                calls.is_user_function(func, rules.ADJOINT)
                and calls.returns_tuple(func)):
            found.add(stmt.targets[0].id)
    indexed = _indexed(stmts, assigns)
    size = -1
    while size != len(found):                   # to a fixed point: copies of items of ...
        size = len(found)
        for stmt in assigns:
            value, target = stmt.value, stmt.targets[0].id
            if target in found:
                continue
            if _is_item_write(value):           # `items[i] = v` on a list: still a list
                value = value.args[0]
            if isinstance(value, ast.Name) and value.id in found or (
                    isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
                    and value.value.id in found and target in indexed):
                found.add(target)
    return found


def _is_item_write(value):
    """True for `set_item(x, index, v)`, the normal form of `x[index] = v`."""
    return isinstance(value, ast.Call) and anno.get(value, anno.FUNC) is runtime.set_item


def _indexed(stmts, assigns):
    """Names that are indexed (`v[k]`) or passed to a user function, or copied (`w = v`)
    into one that is: an item of a container held there may be a container itself."""
    indexed = set()
    for node in stmts:
        for sub in walk(node):
            if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name):
                indexed.add(sub.value.id)
            elif isinstance(sub, ast.Call) and calls.is_user_function(
                    anno.get(sub, anno.FUNC), rules.ADJOINT):
                indexed.update(a.id for a in sub.args + [k.value for k in sub.keywords]
                               if isinstance(a, ast.Name))
    size = -1
    while size != len(indexed):
        size = len(indexed)
        indexed.update(stmt.value.id for stmt in assigns if isinstance(stmt.value, ast.Name)
                       and stmt.targets[0].id in indexed)
    return indexed


def _full_reductions(stmts):
    """Names assigned (at the top level) a reduction (`rules.reduces`) over all axes: always
    scalars."""
    found = set()
    for stmt in stmts:
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, ast.Assign) and isinstance(value, ast.Call)):
            continue
        full = (not value.keywords
                and len(value.args) == (0 if anno.get(value, anno.METHOD) else 1))
        if full and rules.reduces(anno.get(value, anno.FUNC)):
            found.add(stmt.targets[0].id)
    return found



class _Reverse:
    def __init__(self, active, namer, free, info, sequences, params, derive):
        self.active = active
        self.namer = namer
        self.free = free
        self.info = info
        self.sequences = sequences
        self.defined = set()            # derivative names live at this point (adjoint order)
        self.primal_of = {}
        self.depth = 0                  # loop nesting while reversing
        self.known = set(params)        # primal names defined so far (forward order)
        self.index = NameIndex()        # names assigned (read) by each primal statement
        self.facts = {}                 # the `_Facts` of each adjoint statement in a loop
        self.derive = derive
        self.modules = set()            # parameters that are models (gradients: dicts)
        self.scalar_outputs = set()     # names holding full reductions (always scalars)
        self.parameter_reads = set()    # names holding a model parameter's array
        self.shapes = None              # static shapes of primal names, when specialized
        self.lazy = False               # specialized to Dask arrays' shapes (`Job.lazy`)
        self.spread = {}                # adjoint name -> (g, x) for `dname = unreduce(g, x)`
        #                                 (see simplify.simplify), within one block
        self.constant_seeds = {}        # adjoint name -> the number it holds (the seed 1.0, ...)
        self.products = {}              # adjoint name -> `a @ b` it holds (simplify.simplify)
        self.stacks = set()             # loop stacks of generated code (reverse over reverse)
        self.loop_stacks = set()        # stacks this pass made for the loops it reversed
        self.statics = {}               # parameter -> value known while generating
        self.counters = set()           # counters of the loops being reversed (integers)
        self.maybe_unbound = set()      # primal names read by bookkeeping (a branch's zero
        #                                 adjoint, a loop's saved value) on paths that may not
        #                                 have assigned them: None at the start
        self.branches = 0               # branches around the statement being reversed

    def forget(self):
        """Drop what is known about adjoint values (around branches and loops: what holds on
        one path, or in one trip, need not hold on another)."""
        self.spread.clear()
        self.constant_seeds.clear()
        self.products.clear()

    def written(self, dname):
        """`dname` gets a new value: what was known about it, or built on it, no longer holds."""
        self.spread.pop(dname, None)
        self.constant_seeds.pop(dname, None)
        for key, (g, _) in list(self.spread.items()):
            if isinstance(g, ast.Name) and g.id == dname:
                del self.spread[key]
        for key, product in list(self.products.items()):
            if key == dname or any(isinstance(n, ast.Name) and n.id == dname
                                   for n in walk(product)):
                del self.products[key]

    def shape_of(self, ident):
        """The static shape of a primal name, or of an adjoint (that of its primal)."""
        return self.shapes.get(self.primal_of.get(ident, ident))

    def derivative_of(self, var):
        if var not in self.active:
            return None
        dname = self.namer.derivative(var)
        self.primal_of[dname] = var
        return dname

    # seeds ---------------------------------------------------------------------------------
    def seeds(self, output, kind):
        """Statements giving the output's adjoint, and the pullback's parameter names."""
        stmts, params = [], []
        if kind in _COTANGENT_IN:
            param = (self.namer.derivative(output.id) if isinstance(output, ast.Name)
                     else self.namer.fresh("d_out"))
            params.append(param)
            if isinstance(output, ast.Name):
                self.defined.add(param)
                self.primal_of[param] = output.id
                return stmts, params
        atoms = output.elts if isinstance(output, ast.Tuple) else [output]
        for i, atom in enumerate(atoms):
            if not (isinstance(atom, ast.Name) and atom.id in self.active):
                continue
            if kind in _COTANGENT_IN:
                value = ast.Subscript(value=name(params[0]), slice=ast.Constant(i),
                                      ctx=ast.Load())
            elif atom.id in self.scalar_outputs or (self.shapes is not None
                                                    and self.shapes.get(atom.id) == ()):
                value = ast.Constant(1.0)              # a scalar by construction or by shape
            else:
                value = call(self.free.bind("grad_seed", runtime.grad_seed), name(atom.id))
            accumulate = anno.set_(ast.AugAssign(target=name(self.derivative_of(atom.id),
                                                             ast.Store()),
                                                 op=ast.Add(), value=value),
                                   anno.ACCUMULATE, True)
            stmts.append(self.derivative(self.accumulate(accumulate, self.defined), None))
        return stmts, params

    # statements ---------------------------------------------------------------------------
    def block(self, stmts, defined):
        """(primal statements, adjoint statements) of a statement list."""
        known_before = []         # primal names defined before each branch or loop
        for stmt in stmts:
            compound = isinstance(stmt, (ast.If, ast.For, ast.While))
            known_before.append(set(self.known) if compound else None)
            self.known |= self.index.stored(stmt)
        primal, adjoint = [[s] for s in stmts], []
        for i in reversed(range(len(stmts))):
            stmt, known = stmts[i], known_before[i]
            if isinstance(stmt, ast.If):
                primal[i], new = self.branch(stmt, defined, known)
                self.forget()                     # adjoints the branch may have changed
            elif isinstance(stmt, (ast.For, ast.While)):
                primal[i], new = Loop(self, stmt, known).reverse(defined)
                self.forget()
            elif isinstance(stmt, ast.Assign):
                primal[i], new = self.assignment(stmt, defined)
            elif pushed(stmt):
                new = self.push_adjoint(stmt, defined)
            else:
                new = []
            if self.depth and isinstance(stmt, (ast.For, ast.While)):
                new += [Restore(var, primal[i][0])
                        for var in sorted(self.index.stored(primal[i]))]
            adjoint.extend(new)
        return [s for group in primal for s in group], adjoint

    def assignment(self, stmt, defined):
        """(primal statements, adjoint statements) of `target = ...`."""
        target = stmt.targets[0].id
        dname = self.namer.derivative(target)
        primal, out = [stmt], []
        if not anno.get(stmt, anno.ACTIVE):
            defined.discard(dname)          # `v = constant`: nothing flows to the old v
        elif popped(stmt.value) in self.stacks:
            out = self.pop_adjoint(stmt, target, dname, defined)
        elif dname in defined:
            func = anno.get(stmt.value, anno.FUNC) if isinstance(stmt.value, ast.Call) else None
            if anno.get(stmt.value, anno.PARAM):
                out = self.parameter_read(stmt, dname, defined)
            elif calls.is_user_function(func, rules.ADJOINT):
                primal, out = self.user_call(stmt, func, target, dname, defined)
            else:
                out = self.template(stmt, target, dname, defined)
        if self.depth:
            out += [Restore(var, primal[0]) for var in sorted(self.index.stored(primal))]
        return primal, out

    def pop_adjoint(self, stmt, target, dname, defined):
        """`v = S.pop()` of generated loop code (reverse over reverse): the adjoint pushes
        `dv` (zeros when nothing reached `v`) onto `dS`, which the adjoint of the matching
        `S.append(v)` pops; afterwards `dv` is spent."""
        dstack = self.derivative_of(popped(stmt.value))
        reached = dname in defined
        defined.discard(dname)
        self.written(dname)
        if dstack is None:          # (a stack of values without derivatives: `v` has one
            return []               # from another assignment, none from this one)
        value = name(dname) if reached else self.zeros(target)
        origin = anno.get(stmt, anno.ORIGIN)
        if dstack in defined:
            push = ast.Expr(value=call(ast.Attribute(value=name(dstack), attr="append",
                                                     ctx=ast.Load()), value))
            return [self.derivative(push, origin)]
        defined.add(dstack)
        return [self.derivative(assign(dstack, ast.List(elts=[value], ctx=ast.Load())), origin)]

    def push_adjoint(self, stmt, defined):
        """`S.append(v)` of generated loop code (reverse over reverse): the adjoint pops
        `dS` (what the adjoint of the matching `v = S.pop()` pushed) and adds it to `dv`; a
        stack pushed whole (an inner loop's) is given its adjoint stack back."""
        dstack = self.derivative_of(pushed(stmt))
        if dstack is None:
            return []
        origin = anno.get(stmt, anno.ORIGIN)
        pop = call(ast.Attribute(value=name(dstack), attr="pop", ctx=ast.Load()))
        value = stmt.value.args[0]
        dname = self.derivative_of(value.id) if isinstance(value, ast.Name) else None
        if dname is None:
            return [self.derivative(ast.Expr(value=pop), origin)]
        if value.id in self.stacks:             # (its adjoint is empty here: assigned)
            self.written(dname)
            defined.add(dname)
            return [self.derivative(assign(dname, pop), origin)]
        if dname in defined:                    # (None: a placeholder's adjoint, zero)
            add = self.free.bind("add_popped", runtime.add_popped)
            pop = call(add, name(dname), pop)
        self.written(dname)
        defined.add(dname)
        return [self.derivative(assign(dname, pop), origin)]

    def parameter_read(self, stmt, dname, defined):
        """`w = self.V.weight.data`: its adjoint joins the model's gradient dict as "V.weight"."""
        root, path = anno.get(stmt.value, anno.PARAM)
        entry = ast.Dict(keys=[ast.Constant(path)], values=[name(dname)])
        defined.discard(dname)
        accumulate = ast.AugAssign(target=name(self.derivative_of(root), ast.Store()),
                                   op=ast.Add(), value=entry)
        return [self.derivative(self.accumulate(accumulate, defined),
                                anno.get(stmt, anno.ORIGIN))]

    def user_call(self, stmt, func, target, dname, defined):
        """`y = f(a, b)` for a user function f: the primal calls f's generated vjp and keeps
        its pullback; the adjoint calls the pullback."""
        call_node = stmt.value
        func, args, statics, bound = calls.prepare(func, call_node, self.info,
                                                   anno.get(stmt, anno.ORIGIN), self.statics)
        static = dict(statics)
        params = [p for p, node in bound.items() if self._active_argument(node)
                  and not calls.without_parameters(static.get(p))]
        origin = anno.get(stmt, anno.ORIGIN)
        if not params:                          # a layer without parameters, of constants
            defined.discard(dname)
            return [stmt], []
        containers = tuple(p for p, node in bound.items()
                           if isinstance(node, ast.Name) and node.id in self.sequences)
        if self.closures:
            callee = self.derive(func, VJP, tuple(params), statics, self.argument_shapes(bound),
                                 containers)
            pullback = self.namer.fresh(f"{func.__name__}_pullback")
            targets = ast.Tuple(elts=[name(target, ast.Store()), name(pullback, ast.Store())],
                                ctx=ast.Store())
            primal = anno.copy(stmt, ast.Assign(
                targets=[targets], value=ast.Call(func=name(callee), args=args,
                                                  keywords=call_node.keywords)))
            grads = call(pullback, name(dname))
        else:                                   # no closure: recompute in the callee's backward
            callee = self.derive(func, BACKWARD, tuple(params), statics, None, containers)
            primal = stmt
            grads = ast.Call(func=name(callee), args=[name(dname)] + [
                copy_node(a) for a in args], keywords=[copy_node(k) for k in call_node.keywords])
        out = []
        if len(params) > 1:
            pieces = self.namer.fresh(f"d_{func.__name__}_args")
            out.append(self.derivative(assign(pieces, grads), origin))
        defined.discard(dname)
        for i, param in enumerate(params):
            value = grads if len(params) == 1 else ast.Subscript(
                value=name(pieces), slice=ast.Constant(i), ctx=ast.Load())
            node, module = bound[param], anno.get(bound[param], anno.MODULE)
            var = module[0] if module else node.id
            if module and module[1]:               # a submodule's gradients, keyed from here
                value = call(self.free.bind("prefix_grads", runtime.prefix_grads),
                             ast.Constant(module[1]), value)
            accumulate = ast.AugAssign(target=name(self.derivative_of(var), ast.Store()),
                                       op=ast.Add(), value=value)
            out.append(self.derivative(self.accumulate(accumulate, defined), origin))
        return [primal], out

    def argument_shapes(self, bound):
        """`{parameter: static shape or None}` of a call's arguments (None: not specialized)."""
        if self.shapes is None:
            return None
        return {param: self.shapes.get(node.id) if isinstance(node, ast.Name) else
                () if isinstance(node, ast.Constant) and type(node.value) in (int, float)
                else None for param, node in bound.items()}

    def template(self, stmt, target, dname, defined):
        """The filled adjoint template of `target = ...`; afterwards `d<target>` is spent."""
        primitive = decompose(stmt.value, self.sequences, self.parameter_reads)
        template = rule(primitive, rules.ADJOINT, self.info, stmt)
        origin = anno.get(stmt, anno.ORIGIN)
        out = []
        binding = bind(template, name(target), primitive, self.info, stmt)
        check_covered(template, binding, self.derivative_of, self.info, stmt)
        filled = fill(template, binding, self.derivative_of, self.namer, self.free.bind)
        defined.discard(dname)                    # spent: what follows is for the old value
        transpose = isinstance(stmt.value, ast.Attribute) and stmt.value.attr == "T"
        for new in filled:                        # (`d_x = d_t.T` reads `d_t` once: a product
            if self.shapes is not None:           # there is written transposed instead)
                new.value = substitute(new.value, self.constant_seeds)
                new.value = simplify(new.value, self.shape_of, self.free, self.spread,
                                     self.products if transpose else None, self.lazy)
            if anno.get(new, anno.ACCUMULATE):
                new = self.accumulate(new, defined)
            out.append(self.derivative(new, origin))
        return out

    def accumulate(self, stmt, defined):
        """`dx += e` as `dx = e` (first write) or `dx = dx + e`."""
        dname = stmt.target.id
        self.written(dname)
        if dname not in defined:
            defined.add(dname)
            if self.shapes is not None:
                value = substitute(stmt.value, self.constant_seeds)
                if isinstance(value, ast.Constant):
                    self.constant_seeds[dname] = value
                spread = spread_of(value, self.free, self.spread)
                if spread is not None:
                    self.spread[dname] = spread
                if product_of(value, self.shape_of, self.free) is not None:
                    self.products[dname] = value
            return assign(dname, stmt.value)
        if self.primal_of.get(dname) in self.modules:
            value = anno.set_(call(self.free.bind("merge_grads", runtime.merge_grads),
                                   name(dname), stmt.value), anno.FUNC, runtime.merge_grads)
        elif self.primal_of.get(dname) in self.sequences:
            value = call(self.free.bind("add_sequences", runtime.add_sequences),
                         name(dname), stmt.value)
        else:
            value = ast.BinOp(left=name(dname), op=ast.Add(), right=stmt.value)
        return assign(dname, value)

    def branch(self, stmt, defined, known):
        """Reverse an `if`: adjoints live after it (in adjoint order) agree on both paths."""
        self.forget()
        entry = set(defined)
        in_body, in_else = set(defined), set(defined)
        self.known = set(known)
        self.branches += 1
        body_primal, body = self.block(stmt.body, in_body)
        self.known = set(known)
        else_primal, orelse = self.block(stmt.orelse, in_else)
        self.branches -= 1
        self.known = known | self.index.stored(stmt)
        live = {d for d in (in_body | in_else | entry) if self.primal_of.get(d) in known}
        origin = anno.get(stmt, anno.ORIGIN)
        for dname in sorted(live):
            for path, names in ((body, in_body), (orelse, in_else)):
                if dname not in names:
                    self.maybe_unbound.add(self.primal_of[dname])
                    path.append(self.derivative(
                        assign(dname, self.zeros(self.primal_of[dname])), origin))
        defined.clear()
        defined.update(live | (entry - set(self.primal_of)))
        primal = ast.If(test=stmt.test, body=body_primal or [ast.Pass()], orelse=else_primal)
        anno.copy(stmt, primal)
        if not body and not orelse:
            return [primal], []
        new = ast.If(test=copy_node(stmt.test), body=body or [ast.Pass()], orelse=orelse)
        return [primal], [self.derivative(new, origin)]

    def zeros(self, var):
        if var in self.stacks:
            return ast.List(elts=[], ctx=ast.Load())   # a loop stack's adjoint: empty
        if var in self.modules:
            return ast.Dict(keys=[], values=[])    # a model's gradients: none yet
        return call(self.free.bind("zeros_like", runtime.zeros_like), name(var))

    def _active_argument(self, node):
        """A call argument that carries a derivative: an active name, or a model (or part of
        one) whose parameters are differentiated."""
        module = anno.get(node, anno.MODULE)
        if module is not None:
            return module[0] in self.active and module[0] in self.modules
        return isinstance(node, ast.Name) and node.id in self.active

    def derivative(self, stmt, origin):
        anno.set_(stmt, anno.DERIVATIVE, True)
        if origin is not None:
            anno.set_(stmt, anno.ORIGIN, origin)
        return stmt
