"""Optimizer update rules as kernels: each rule is written once, as a plain function of arrays,
and srcad generates from its source the code that applies it in place.

In: a rule, a plain function whose positional parameters are arrays and whose keyword-only
parameters are scalars (hyper-parameters) or flags (booleans known when generating), and whose
body has only these statement shapes::

    name = expression                 # + - * / and unary -, numpy.sqrt/maximum/minimum/abs
    if flag: ... else: ...            # on flags (and `not flag`), decided when generating
    return array, array, ...          # the array parameters the rule updates, last

Called with NumPy arrays, the rule is the reference: it returns the new values. Out:
`apply(rule, arrays, scalars, flags)` updates the returned arrays in place, with

- on NumPy (and any library NumPy's ufuncs dispatch to): a generated Python function of ufunc
  calls with `out=`, which writes into the arrays themselves and into one or two scratch
  buffers, never into a temporary per operation;
- on CuPy: one generated elementwise CUDA kernel (`cupy.ElementwiseKernel`, through
  `srcad.backend`), so the whole update reads and writes each array once.

Scalar subexpressions (`1 - beta1`) are computed once per call on the host, in both. The code
is generated once per rule, flags and library; `source(rule, flags, kind)` shows it.
"""

import ast
import inspect

import numpy

from .. import ast_util, backend, codegen, errors

_BINARY = {ast.Add: ("add", "+"), ast.Sub: ("subtract", "-"), ast.Mult: ("multiply", "*"),
           ast.Div: ("divide", "/")}
_CALLS = {"sqrt": ("sqrt", "sqrt"), "maximum": ("maximum", "max"),
          "minimum": ("minimum", "min"), "abs": ("absolute", "abs")}
_COMPILED = {}       # (rule, kind, *flags) -> generated step function
_FIRST = {}          # rule -> its first parameter (the parameter array)


def apply(rule, arrays, scalars, flags):
    """Update in place the arrays that `rule` returns, from `arrays` (name -> array) and
    `scalars` (name -> number), with the rule specialized to `flags` (name -> bool)."""
    first = _FIRST.get(rule) or _FIRST.setdefault(rule, _first(rule))
    kind = "cuda" if backend.fused_kernels(arrays[first]) else "numpy"
    key = (rule, kind, *flags.items())
    step = _COMPILED.get(key)
    if step is None:
        step = _COMPILED[key] = _compile(rule, dict(flags), kind)
    step(**arrays, **scalars)


def source(rule, flags, kind="numpy"):
    """The generated code of `rule` for `flags`: the in-place NumPy function (kind "numpy"),
    or the Python wrapper and the CUDA kernel body (kind "cuda")."""
    return _generate(_Plan(rule, dict(flags)), kind)[0]


def cuda_kernel(rule, flags):
    """`(in_params, out_params, operation)` of the `cupy.ElementwiseKernel` for `rule` and
    `flags`: arrays and scalars typed `T`, the updated arrays as outputs."""
    return _CudaWriter(_Plan(rule, dict(flags))).parts()[:3]


def _first(rule):
    return next(iter(inspect.signature(rule).parameters))


def _compile(rule, flags, kind):
    plan = _Plan(rule, flags)
    text, bound = _generate(plan, kind)
    return codegen.compile_function(text, plan.name, {}, bound)


def _generate(plan, kind):
    if kind == "cuda":
        return _CudaWriter(plan).write()
    return _NumpyWriter(plan).write()


# ---- the rule, specialized to its flags --------------------------------------------------------
class _Plan:
    """A rule as straight-line statements: `assigns` [(target, expression)], with every
    scalar subexpression replaced by a name computed once (`hoisted` [(name, expression)])."""

    def __init__(self, rule, flags):
        fdef, self.info = ast_util.parse_function(rule)
        self.name = f"{fdef.name}_step"
        self.arrays = [a.arg for a in fdef.args.args]
        keywords = [a.arg for a in fdef.args.kwonlyargs]
        self.flags = {k: bool(v) for k, v in flags.items() if k in keywords}
        self.scalars = [k for k in keywords if k not in flags]
        body = self._fold(fdef.body)
        if not body or not isinstance(body[-1], ast.Return):
            raise self._error(fdef, "a rule ends with `return` of the arrays it updates")
        returned = body[-1].value
        items = returned.elts if isinstance(returned, ast.Tuple) else [returned]
        self.outputs = [self._name(item) for item in items]
        self.assigns = []
        self.origins = []           # the rule's line of each assignment
        self.hoisted = []
        for stmt in body[:-1]:
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)):
                raise self._error(stmt, "a rule has only `name = expression` statements and "
                                        "`if` on flags")
            self.assigns.append((stmt.targets[0].id, self._hoist(stmt.value)))
            self.origins.append(stmt.lineno)
        assigned = {target for target, _ in self.assigns}
        self.outputs = [name for name in self.outputs if name in assigned]
        for name in self.outputs:
            if name not in self.arrays:
                raise self._error(returned, f"a rule returns array parameters; {name!r} is not one")

    def _fold(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                out.extend(self._fold(stmt.body if self._flag(stmt.test) else stmt.orelse))
            elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                out.append(stmt)
        return out

    def _flag(self, test):
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return not self._flag(test.operand)
        if isinstance(test, ast.Name) and test.id in self.flags:
            return self.flags[test.id]
        raise self._error(test, "a rule branches only on flags (`if flag:`, `if not flag:`), "
                                f"given when applying it; known flags: {sorted(self.flags)}")

    def _name(self, node):
        if not isinstance(node, ast.Name):
            raise self._error(node, "a rule returns names of its array parameters")
        return node.id

    def _is_scalar(self, node, arrays_now):
        return not any(isinstance(n, ast.Name) and n.id in arrays_now for n in ast.walk(node))

    def _hoist(self, node):
        """`node` with each largest scalar subexpression (not a plain scalar name) replaced by
        a hoisted name."""
        array_names = set(self.arrays) | {target for target, _ in self.assigns}
        return _Hoister(self, array_names).visit(node)

    def _error(self, node, message):
        return errors.UnsupportedSyntaxError(f"optimizer rule: {message}",
                                             self.info.location(node or 0))


class _Hoister(ast.NodeTransformer):
    def __init__(self, plan, array_names):
        self.plan = plan
        self.array_names = array_names

    def visit(self, node):
        if self.plan._is_scalar(node, self.array_names):
            if isinstance(node, ast.Name):
                return node
            name = f"k{len(self.plan.hoisted)}"
            self.plan.hoisted.append((name, node))
            return ast_util.name(name)
        if isinstance(node, ast.Call):
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr in _CALLS and not node.keywords):
                raise self.plan._error(node, "a rule calls only numpy.sqrt, numpy.maximum, "
                                             "numpy.minimum and numpy.abs")
            node.args = [self.visit(arg) for arg in node.args]
            return node
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            node.left, node.right = self.visit(node.left), self.visit(node.right)
            return node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            node.operand = self.visit(node.operand)
            return node
        if isinstance(node, ast.Name):
            return node
        raise self.plan._error(node, f"a rule does not support {codegen.expression(node)!r} "
                                     "(use + - * /, unary -, numpy.sqrt/maximum/minimum/abs)")


def _operation(node):
    """(ufunc name, C operator or function, operands) of an array expression node."""
    if isinstance(node, ast.BinOp):
        ufunc, symbol = _BINARY[type(node.op)]
        return ufunc, symbol, [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return "negative", "-", [node.operand]
    ufunc, function = _CALLS[node.func.attr]
    return ufunc, function, list(node.args)


def _signature(plan):
    return ", ".join(plan.arrays + plan.scalars)


def _hoisted_lines(plan):
    return [f"    {name} = {codegen.expression(expr)}" for name, expr in plan.hoisted]


# ---- NumPy: ufuncs with out= -----------------------------------------------------------------
class _NumpyWriter:
    """Python source applying the plan in place with `numpy.<ufunc>(..., out=...)` calls.

    Each name lives somewhere: an array parameter in itself, a local in a scratch buffer
    (`b0`, `b1`, ...) that it owns, or, after `name = other`, wherever `other` lives. A
    statement writes its result straight into its target's place; inside an expression, one
    operand is computed into that place when no other operand reads it, and the others go to
    scratch buffers that are reused as soon as they are consumed.
    """

    def __init__(self, plan):
        self.plan = plan
        self.lines = []
        self.where = {name: name for name in plan.arrays + plan.scalars}
        self.where.update({name: name for name, _ in plan.hoisted})
        self.owned = set()
        self.dying = set()
        self.buffers = 0
        self.free = []

    def write(self):
        plan = self.plan
        last_read = {}
        for index, (_, expr) in enumerate(plan.assigns):
            for node in ast.walk(expr):
                if isinstance(node, ast.Name):
                    last_read[node.id] = index
        for index, (target, expr) in enumerate(plan.assigns):
            line = plan.origins[index]
            self.lines.append(f"    # line {line}: {plan.info.text(line)}")
            self.dying = {name for name in self.owned
                          if last_read.get(name) == index and _count(expr, name) == 1
                          and self.where[name] not in self._aliases(name)}
            self._assign(target, expr)
            for name in sorted(self.owned):
                if last_read.get(name, -1) <= index and name != target:
                    place, self.where[name] = self.where[name], None
                    self.owned.discard(name)
                    self._release(place)
        head = [f"def {plan.name}({_signature(plan)}):"] + _hoisted_lines(plan)
        head += [f"    b{i} = numpy.empty_like({plan.arrays[0]})" for i in range(self.buffers)]
        return "\n".join(head + self.lines) + "\n", {"numpy": numpy}

    def _assign(self, target, expr):
        if target in self.plan.outputs:
            dest = target
            for name, place in self.where.items():
                if place == dest and name != target:
                    self.where[name] = None         # it no longer holds its value
        elif target in self.owned and self.where[target] not in self._aliases(target):
            dest = self.where[target]
        else:
            dest = self._buffer()
        if isinstance(expr, ast.Name):
            if target in self.plan.outputs:
                self.lines.append(f"    numpy.copyto({dest}, {self._place(expr.id)})")
            else:
                self._release(dest)
                self.where[target] = self._place(expr.id)
                self.owned.discard(target)
                return
        else:
            self._into(expr, dest)
        self.where[target] = dest
        if target not in self.plan.outputs:
            self.owned.add(target)

    def _aliases(self, target):
        return {self.where[n] for n in self.where if n != target}

    def _buffer(self):
        if self.free:
            return self.free.pop()
        self.buffers += 1
        return f"b{self.buffers - 1}"

    def _release(self, place):
        if place.startswith("b") and place not in self.free and place not in self.where.values():
            self.free.append(place)

    def _dying_place(self, operand):
        """The buffer of a local that `operand` reads for the last time (and nothing else in
        the statement reads): the operand may be computed into it."""
        for name in sorted(self.dying):
            if _count(operand, name):
                self.dying.discard(name)
                return self.where[name]
        return None

    def _place(self, name):
        place = self.where[name]
        if place is None:
            raise self.plan._error(None, f"{name!r} is read after the array it was set from "
                                         "is updated; copy it first")
        return place

    def _reads(self, node, place):
        return any(isinstance(n, ast.Name) and self.where.get(n.id) == place
                   for n in ast.walk(node))

    def _into(self, node, dest):
        """Emit the calls that leave the value of `node` (an array operation) in `dest`."""
        ufunc, _, operands = _operation(node)
        places = [None] * len(operands)
        for i, operand in enumerate(operands):
            others = operands[:i] + operands[i + 1:]
            if not isinstance(operand, ast.Name) and not any(self._reads(o, dest)
                                                             for o in others):
                self._into(operand, dest)
                places[i] = dest
                break
        scratch = []
        for i, operand in enumerate(operands):
            if places[i] is not None:
                continue
            if isinstance(operand, ast.Name):
                places[i] = self._place(operand.id)
            else:
                places[i] = self._dying_place(operand) or self._buffer()
                scratch.append(places[i])
                self._into(operand, places[i])
        self.lines.append(f"    numpy.{ufunc}({', '.join(places)}, out={dest})")
        for place in scratch:
            self._release(place)


def _count(node, name):
    return sum(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


# ---- CuPy: one elementwise kernel ------------------------------------------------------------
class _CudaWriter:
    """A CUDA C body for `ElementwiseKernel` and the Python function that launches it: inputs
    and hoisted scalars are kernel inputs, the updated arrays are its outputs (read and written
    in place), every other assignment is a local variable of type T."""

    def __init__(self, plan):
        self.plan = plan
        self.current = {}
        self.count = {}

    def parts(self):
        """(in_params, out_params, operation, launch arguments) of the kernel."""
        plan = self.plan
        body = [self._statement(target, expr) for target, expr in plan.assigns]
        read = {n.id for _, expr in plan.assigns for n in ast.walk(expr)
                if isinstance(n, ast.Name)}
        inputs = [a for a in plan.arrays if a not in plan.outputs and a in read]
        scalars = [s for s in plan.scalars if s in read] + [n for n, _ in plan.hoisted]
        return (", ".join(f"T {name}" for name in inputs + scalars),
                ", ".join(f"T {name}" for name in plan.outputs), "\n".join(body),
                inputs + scalars + plan.outputs)

    def write(self):
        plan = self.plan
        in_params, out_params, operation, arguments = self.parts()
        text = "\n".join(
            [f"def {plan.name}({_signature(plan)}):"] + _hoisted_lines(plan)
            + [f"    kernel({', '.join(arguments)})"]) + "\n"
        kernel = backend.elementwise_kernel(in_params, out_params, operation,
                                            f"srcad_{plan.name}")
        comment = "".join(f"#   {line}\n" for line in operation.splitlines())
        return text + "\n# kernel body:\n" + comment, {"kernel": kernel, "numpy": numpy}

    def _statement(self, target, expr):
        value = self._c(expr)
        if target in self.plan.outputs:
            return f"{target} = {value};"
        n = self.count[target] = self.count.get(target, -1) + 1
        self.current[target] = f"{target}_{n}"
        return f"T {self.current[target]} = {value};"

    def _c(self, node):
        if isinstance(node, ast.Name):
            return self.current.get(node.id, node.id)
        _, symbol, operands = _operation(node)
        args = [self._c(o) for o in operands]
        if isinstance(node, ast.UnaryOp):
            return f"(-{args[0]})"
        if isinstance(node, ast.BinOp):
            return f"({args[0]} {symbol} {args[1]})"
        return f"{symbol}({', '.join(args)})"
