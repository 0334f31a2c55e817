"""Reverse mode: the primal statements, then their adjoints in reverse order.

In: a normal-form `FunctionDef` annotated by `activity`, the names to differentiate (`wrt`) and
the kind of function wanted. Out: a new `FunctionDef`:

* kind "grad":  `def grad_f(x, W): <primal>; d_out = grad_seed(out); <adjoint>; return dx`
* kind "value_and_grad": the same, returning `(out, dx)`
* kind "vjp": `def vjp_f(x, W): <primal>; def pullback(d_out): <adjoint>; return dx`, and
  `return out, pullback`

Each adjoint statement comes from the template of its primal statement. A template's
`d[x] += e` becomes `dx = e` on the first write of `dx` and `dx = dx + e` after; statements
whose result carries no adjoint (it does not reach the output) produce nothing. After a branch,
an adjoint written on one path only is set to zero on the other. Derivative statements carry
annotation DERIVATIVE and the ORIGIN of their primal statement.
"""

import ast

from .. import annotations as anno
from .. import rules, runtime
from ..errors import NonScalarOutputError
from ..ast_util import assign, call, copy_node, name
from ..primitive import decompose, rule
from ..template import fill

GRAD, VALUE_AND_GRAD, VJP = "grad", "value_and_grad", "vjp"


def run(tree, wrt, active, namer, free, info, kind=GRAD):
    """The reverse-mode function of `tree` (see the module docstring)."""
    body = tree.body
    returns = bool(body) and isinstance(body[-1], ast.Return)
    output = body[-1].value if returns else ast.Constant(None)
    primal = body[:-1] if returns else body
    if kind != VJP and isinstance(output, ast.Tuple):
        raise NonScalarOutputError(
            "grad needs a function with a scalar output, but this one returns a tuple; use "
            "srcad.vjp for several outputs", info.location(body[-1]))
    builder = _Reverse(active, namer, free, info, _sequences(primal))
    seeds, params = builder.seeds(output, kind)
    adjoint = builder.block(primal, builder.defined)
    grads, end = [], []
    for param in wrt:
        dname = namer.derivative(param)
        if dname not in builder.defined:
            end.append(builder.derivative(assign(dname, builder.zeros(param)), None))
        grads.append(name(dname))
    grads = grads[0] if len(grads) == 1 else ast.Tuple(elts=grads, ctx=ast.Load())
    adjoint = seeds + adjoint + end
    fdef = ast.FunctionDef(name=namer.fresh(f"{kind}_{tree.name}"), args=tree.args, body=[],
                           decorator_list=[], returns=None, type_comment=None, lineno=1)
    if kind == VJP:
        pullback = ast.FunctionDef(
            name=namer.fresh("pullback"), args=_arguments(params), decorator_list=[],
            body=adjoint + [ast.Return(value=grads)], returns=None, type_comment=None,
            lineno=1)
        result = ast.Tuple(elts=[copy_node(output), name(pullback.name)], ctx=ast.Load())
        fdef.body = primal + [pullback, ast.Return(value=result)]
    else:
        result = grads if kind == GRAD else ast.Tuple(elts=[copy_node(output), grads],
                                                      ctx=ast.Load())
        fdef.body = primal + adjoint + [ast.Return(value=result)]
    return fdef


def _arguments(names):
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in names], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


def _sequences(stmts):
    """Names holding lists/tuples of arrays (tuple literals, results of numpy.split, ...)."""
    found = set()
    for node in stmts:
        for stmt in ast.walk(node):
            if isinstance(stmt, ast.Assign):
                value = stmt.value
                if isinstance(value, (ast.Tuple, ast.List)) or (
                        isinstance(value, ast.Call)
                        and rules.is_sequence(anno.get(value, anno.FUNC))):
                    found.add(stmt.targets[0].id)
    return found


class _Reverse:
    def __init__(self, active, namer, free, info, sequences):
        self.active = active
        self.namer = namer
        self.free = free
        self.info = info
        self.sequences = sequences
        self.defined = set()            # derivative names written so far (in adjoint order)
        self.primal_of = {}

    def derivative_of(self, var):
        if var not in self.active:
            return None
        dname = self.namer.derivative(var)
        self.primal_of[dname] = var
        return dname

    # seeds and ends ------------------------------------------------------------------------
    def seeds(self, output, kind):
        """Statements giving the output's adjoint, and the pullback's parameter names."""
        stmts, params = [], []
        if kind == VJP:
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
            if kind == VJP:
                value = ast.Subscript(value=name(params[0]), slice=ast.Constant(i),
                                      ctx=ast.Load())
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
        out = []
        for stmt in reversed(stmts):
            if isinstance(stmt, ast.If):
                out.extend(self.branch(stmt, defined))
            elif isinstance(stmt, ast.Assign) and anno.get(stmt, anno.ACTIVE):
                target = stmt.targets[0].id
                if self.namer.derivative(target) in defined:
                    out.extend(self.assignment(stmt, target, defined))
        return out

    def assignment(self, stmt, target, defined):
        primitive = decompose(stmt.value, self.sequences)
        template = rule(primitive, rules.ADJOINT, self.info, stmt)
        binding = template.bind(name(target), primitive.args, primitive.keywords)
        filled = fill(template, binding, self.derivative_of, self.namer, self.free.bind)
        origin = anno.get(stmt, anno.ORIGIN)
        out = []
        for new in filled:
            if anno.get(new, anno.ACCUMULATE):
                new = self.accumulate(new, defined)
            out.append(self.derivative(new, origin))
        return out

    def accumulate(self, stmt, defined):
        """`dx += e` as `dx = e` (first write) or `dx = dx + e`."""
        dname = stmt.target.id
        if dname not in defined:
            defined.add(dname)
            return assign(dname, stmt.value)
        if self.primal_of.get(dname) in self.sequences:
            value = call(self.free.bind("add_sequences", runtime.add_sequences),
                         name(dname), stmt.value)
        else:
            value = ast.BinOp(left=name(dname), op=ast.Add(), right=stmt.value)
        return assign(dname, value)

    def branch(self, stmt, defined):
        inside = {self.namer.derivative(n.id) for n in ast.walk(stmt)
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        in_body, in_else = set(defined), set(defined)
        body = self.block(stmt.body, in_body)
        orelse = self.block(stmt.orelse, in_else)
        for dname in sorted((in_body ^ in_else) - inside):
            zero = self.derivative(assign(dname, self.zeros(self.primal_of[dname])),
                                    anno.get(stmt, anno.ORIGIN))
            (orelse if dname in in_body else body).append(zero)
        defined |= (in_body | in_else) - inside
        if not body and not orelse:
            return []
        new = ast.If(test=copy_node(stmt.test), body=body or [ast.Pass()], orelse=orelse)
        return [self.derivative(new, anno.get(stmt, anno.ORIGIN))]

    def zeros(self, var):
        return call(self.free.bind("zeros_like", runtime.zeros_like), name(var))

    def derivative(self, stmt, origin):
        anno.set_(stmt, anno.DERIVATIVE, True)
        if origin is not None:
            anno.set_(stmt, anno.ORIGIN, origin)
        return stmt
