"""Forward mode: each primal statement followed by the statement of its tangent.

In: a normal-form `FunctionDef` annotated by `activity`, and the job's `kind`, `wrt` (the
names to differentiate), `namer`, `free` and `derive`. Out: `def jvp_f(x, W, dx): ...; return
out, d_out` (for the kind `TANGENT`, `def tangent_f(x, W, dx): ...; return d_out`), where the
tangent parameters follow the primal ones (one per `wrt` name, named `d<name>`), every active
assignment `y = ...` is followed by the `dy = ...` of its template, and the output's tangent is
zero when it does not depend on `wrt`. After a branch, a tangent set on one path only is set to
zero on the other.
"""

import ast

from .. import annotations as anno
from .. import calls, rules, runtime
from ..ast_util import assign, call, copy_node, name, walk
from ..job import Job
from ..kinds import TANGENT
from ..primitive import bind, check_covered, decompose, rule
from ..template import fill
from . import activity, simplify


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """The forward-mode (JVP) function of `tree`; `job.derive(func, kind, wrt)` gives the name
    of the generated derivative of a called user function."""
    wrt, namer = job.wrt, job.namer
    body = tree.body
    last = body[-1] if body else None
    returns = isinstance(last, ast.Return)
    output = last.value if isinstance(last, ast.Return) else ast.Constant(None)
    params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
    builder = _Forward(namer, job.free, job.info, params, job.derive)
    builder.statics = job.statics
    builder.shapes = anno.get(tree, anno.SHAPES)    # (code specialized to shapes: `TANGENT`)
    known = set(wrt)
    stmts = builder.block(body[:-1] if returns else body, known)
    tangent = builder.tangent_of(output, known)
    args = copy_node(tree.args)
    args.defaults, args.kw_defaults = [], [None] * len(args.kwonlyargs)
    args.args = args.args + [ast.arg(arg=namer.derivative(p)) for p in wrt]
    result = tangent if job.kind == TANGENT else ast.Tuple(elts=[copy_node(output), tangent],
                                                           ctx=ast.Load())
    return ast.FunctionDef(name=namer.fresh(f"{job.kind}_{tree.name}"), args=args,
                           body=stmts + [ast.Return(value=result)], decorator_list=[],
                           returns=None, type_comment=None, lineno=1)


class _Forward:
    def __init__(self, namer, free, info, params, derive):
        self.derive = derive
        self.namer = namer
        self.free = free
        self.info = info
        self.defined = set(params)       # primal names assigned so far
        self.carried = {}                # (loop, tangents, defined) -> tangents it carries
        self.pushes = {}                 # id of a loop -> (it, the stacks its body pushes to)
        self.trials = 0                  # > 0 while a loop body is made on trial
        self.defines = {}                # (template, pattern) -> whether its fill defines dy
        self.bound = {}                  # id of an assignment -> (it, its rule, the binding)
        self.statics = {}                # parameter -> value known while generating
        self.shapes = None               # static shapes of primal names, when specialized
        self.primal_of = {}              # tangent name -> its primal's

    def block(self, stmts, known):
        """Primal and tangent statements; `known` holds the names that have a tangent."""
        out = []
        for stmt in stmts:
            assigned = _assigned([stmt])        # (before its tangents join a loop's body)
            if isinstance(stmt, ast.If):
                out.append(self.branch(stmt, known))
            elif isinstance(stmt, (ast.For, ast.While)):
                out.extend(self.loop(stmt, known, assigned))
            elif isinstance(stmt, ast.Assign) and anno.get(stmt, anno.ACTIVE):
                out.extend(self.assignment(stmt, known))
            elif isinstance(stmt, ast.Assign) and assigned & known:
                out.extend([stmt] + self.constant(stmt, known))
            elif activity.pushed(stmt) and (activity.pushed(stmt) in known or _has_tangent(
                    stmt.value.args[0], known)):
                known.add(activity.pushed(stmt))
                out.extend([stmt, self.push_tangent(stmt, known)])
            else:
                out.append(stmt)
            self.defined |= assigned
        return out

    def constant(self, stmt, known):
        """A value with a tangent (`v`, carried by a loop) assigned a constant (`v = sin(c)`):
        its tangent is zero from here on, not the one it had."""
        zeros = []
        for var in sorted(_assigned([stmt]) & known):
            zero = assign(self.namer.derivative(var), self.zeros(name(var)))
            zeros.append(anno.set_(zero, anno.DERIVATIVE, True))
        return zeros

    def push_tangent(self, stmt, known):
        """`stack.append(v)` of generated loop code is followed by `dstack.append(dv)`."""
        stack, value = activity.pushed(stmt), stmt.value.args[0]
        tangent = (name(self.namer.derivative(value.id)) if isinstance(value, ast.Name)
                   and value.id in known else self.zeros(copy_node(value)))
        push = ast.Expr(value=call(ast.Attribute(value=name(self.namer.derivative(stack)),
                                                 attr="append", ctx=ast.Load()), tangent))
        return anno.set_(push, anno.DERIVATIVE, True)

    def pop_tangent(self, stmt, target, known):
        """`v = stack.pop()` of generated loop code is followed by `dv = dstack.pop()`."""
        stack = stmt.value.func.value.id
        if stack not in known:
            return [stmt]
        pop = call(ast.Attribute(value=name(self.namer.derivative(stack)), attr="pop",
                                 ctx=ast.Load()))
        known.add(target)
        return [stmt, anno.set_(assign(self.namer.derivative(target), pop), anno.DERIVATIVE,
                                True)]

    def loop(self, stmt, known, assigned):
        """A loop whose body carries tangents along; a tangent that flows from one trip to the
        next starts at zero before the loop when the value had none. `assigned`: the names
        the loop assigns (its target's too)."""
        kept = self.pushes.get(id(stmt))
        if kept is None or kept[0] is not stmt:     # (the body is made anew only once, last)
            kept = self.pushes[id(stmt)] = (stmt, {activity.pushed(s) for s in walk(stmt)
                                                   if isinstance(s, ast.Expr)} - {None})
        assigned = assigned | kept[1]
        before = set(self.defined)
        key = (id(stmt), frozenset(known), frozenset(before))
        if key not in self.carried:
            self.carried[key] = self._carried(stmt, known, assigned, before)
        carried = set(self.carried[key])
        init = []
        for var in sorted(carried):
            zero = assign(self.namer.derivative(var), self.zeros(name(var)))
            anno.set_(zero, anno.DERIVATIVE, True)
            anno.set_(zero, anno.ORIGIN, anno.get(stmt, anno.ORIGIN))
            init.append(zero)
        known |= carried
        body = self.block(stmt.body, known)
        if not self.trials:                         # (a trial changes no statement)
            stmt.body = body
        return init + [stmt]

    def _carried(self, stmt, known, assigned, before):
        """The tangents the loop `stmt` carries from one trip to the next: its body made on
        trial (the results thrown away, no statement changed) until no new tangent appears. A
        nested loop's are kept in `self.carried` (the trials of a nest would otherwise grow
        as a power of its depth)."""
        carried = set()
        while True:                                # which tangents the body creates
            trial = set(known) | carried
            saved = self.namer.snapshot()
            self.trials += 1
            try:
                self.block(stmt.body, trial)
            finally:
                self.trials -= 1
            self.namer.restore(saved)
            self.defined = set(before)
            new = (trial - known - carried) & assigned & before
            if not new:
                return carried
            carried |= new

    def assignment(self, stmt, known):
        """The primal statement and the statements of its tangent."""
        target = stmt.targets[0].id
        func = anno.get(stmt.value, anno.FUNC) if isinstance(stmt.value, ast.Call) else None
        if calls.is_user_function(func, rules.TANGENT):
            return self.user_call(stmt, func, target, known)
        if anno.get(stmt.value, anno.METHOD) == "pop":
            return self.pop_tangent(stmt, target, known)
        if anno.get(stmt.value, anno.PARAM):
            return self.parameter_read(stmt, target, known)
        kept = self.bound.get(id(stmt))
        if kept is None or kept[0] is not stmt:     # (a loop's body is made on trial first)
            primitive = decompose(stmt.value)
            template = rule(primitive, rules.TANGENT, self.info, stmt)
            binding = bind(template, name(target), primitive, self.info, stmt)
            kept = self.bound[id(stmt)] = (stmt, template, binding)
        template, binding = kept[1], kept[2]

        def derivative_of(var):
            if var not in known and var != target:
                return None
            return self.tangent_name(var)

        check_covered(template, binding, derivative_of, self.info, stmt)
        key = (id(template), _pattern(binding, known, target)) if self.trials else None
        if key in self.defines:                 # a trial needs only whether dy is defined
            if self.defines[key][1]:
                known.add(target)
            return [stmt]
        filled = fill(template, binding, derivative_of, self.namer, self.free.bind)
        if self.shapes is not None:
            for new in filled:
                if isinstance(new, ast.Assign):
                    new.value = simplify.tangent(new.value, self.shape_of, self.free)
        dname = self.namer.derivative(target)
        defines = any(isinstance(s, ast.Assign) and s.targets[0].id == dname for s in filled)
        if key is not None:
            self.defines[key] = (template, defines)
        if defines:
            known.add(target)
        for new in filled:
            anno.set_(new, anno.DERIVATIVE, True)
            anno.set_(new, anno.ORIGIN, anno.get(stmt, anno.ORIGIN))
        return [stmt] + filled

    def tangent_name(self, var):
        """The tangent name of `var`, remembered as `var`'s (for `shape_of`)."""
        dname = self.namer.derivative(var)
        self.primal_of[dname] = var
        return dname

    def shape_of(self, ident):
        """The static shape of a primal name, or of a tangent (that of its primal)."""
        return self.shapes.get(self.primal_of.get(ident, ident))

    def parameter_read(self, stmt, target, known):
        """`w = self.V.weight`: its tangent is the entry "V.weight" of the model's tangents."""
        root, path = anno.get(stmt.value, anno.PARAM)
        if root not in known:
            return [stmt]
        read = ast.Subscript(value=name(self.namer.derivative(root)), slice=ast.Constant(path),
                             ctx=ast.Load())
        known.add(target)
        return [stmt, anno.set_(anno.set_(assign(self.namer.derivative(target), read),
                                          anno.DERIVATIVE, True),
                                anno.ORIGIN, anno.get(stmt, anno.ORIGIN))]

    def argument_tangent(self, node, known):
        """The tangent a call passes for `node`: a name's, or for a model (or a submodule)
        whose parameters have tangents, their dict keyed from it; None when it has none."""
        module = anno.get(node, anno.MODULE)
        if module is not None:
            root, path = module
            if root not in known:
                return None
            if not path:
                return name(self.namer.derivative(root))
            return call(self.free.bind("parameters_under", runtime.parameters_under),
                        ast.Constant(path), name(self.namer.derivative(root)))
        if isinstance(node, ast.Name) and node.id in known:
            return name(self.namer.derivative(node.id))
        return None

    def user_call(self, stmt, func, target, known):
        """`y = f(a, b)` for a user function f becomes `y, dy = jvp_f(a, b, da)`."""
        call_node = stmt.value
        func, args, statics, bound = calls.prepare(func, call_node, self.info,
                                                   anno.get(stmt, anno.ORIGIN), self.statics)
        static = dict(statics)
        params = [p for p, node in bound.items() if self.argument_tangent(node, known)
                  is not None and not calls.without_parameters(static.get(p))]
        if not params:
            return [stmt]
        primals, keywords = [], []
        keyword_only = calls.keyword_only(func)
        for param, node in bound.items():
            if isinstance(node, calls.Default):
                node = name(self.free.bind(f"{func.__name__}_{param}", node.value))
            if param in keyword_only:           # the jvp keeps them keyword-only
                keywords.append(ast.keyword(arg=param, value=node))
            else:
                primals.append(node)
        tangents = [self.argument_tangent(bound[p], known) for p in params]
        callee = self.derive(func, "jvp", tuple(params), statics)
        dname = self.namer.derivative(target)
        targets = ast.Tuple(elts=[name(target, ast.Store()), name(dname, ast.Store())],
                            ctx=ast.Store())
        value = ast.Call(func=name(callee), args=primals + tangents, keywords=keywords)
        new = anno.copy(stmt, ast.Assign(targets=[targets], value=value))
        anno.set_(new, anno.DERIVATIVE, True)
        known.add(target)
        return [new]

    def branch(self, stmt, known):
        """Both paths end with the same tangents: one that a path does not give (the value
        is assigned on both paths, or had a value before the branch) starts at zero there."""
        in_body, in_else = set(known), set(known)
        before = set(self.defined)
        body = self.block(stmt.body, in_body)
        orelse = self.block(stmt.orelse, in_else)
        both = _assigned(stmt.body) & _assigned(stmt.orelse)
        for var in sorted((in_body ^ in_else) & (both | before)):
            zero = assign(self.namer.derivative(var), self.zeros(name(var)))
            anno.set_(zero, anno.DERIVATIVE, True)
            (orelse if var in in_body else body).append(zero)
        known |= in_body | in_else
        return ast.If(test=stmt.test, body=body or [ast.Pass()], orelse=orelse)

    def tangent_of(self, output, known):
        """The output's tangent: a name, a zero, or a tuple of those."""
        if isinstance(output, ast.Tuple):
            return ast.Tuple(elts=[self.tangent_of(e, known) for e in output.elts],
                             ctx=ast.Load())
        if isinstance(output, ast.Name) and output.id in known:
            return name(self.namer.derivative(output.id))
        return self.zeros(copy_node(output))

    def zeros(self, node):
        return call(self.free.bind("zeros_like", runtime.zeros_like), node)


def _has_tangent(node, known):
    return isinstance(node, ast.Name) and node.id in known


def _pattern(binding, known, target):
    """What a tangent template's fill depends on besides its names: for each bound argument,
    whether it (or each item of a bound list) has a tangent or is the target. The same template
    with the same pattern defines the same derivatives and binds the same free names."""
    def mark(node):
        if isinstance(node, ast.Name):
            return 2 if node.id == target else node.id in known
        if isinstance(node, (ast.List, ast.Tuple)):
            return tuple(mark(e) for e in node.elts)
        return None
    return tuple((param, mark(node)) for param, node in binding.items())


def _assigned(stmts):
    """The names the statements `stmts` assign anywhere."""
    out = set()
    for s in stmts:
        if isinstance(s, ast.Assign) and all(isinstance(t, ast.Name) for t in s.targets):
            out.update(t.id for t in s.targets)     # (most statements: no walk)
            continue
        out.update(n.id for n in walk(s) if isinstance(n, ast.Name)
                   and isinstance(n.ctx, ast.Store))
    return out
