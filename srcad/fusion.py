"""Fusion: a chain of elementwise statements over arrays of one shape, as one explicit loop.

In: the text of a generated function (`codegen`'s output: one `def`, `# line N:` comments),
what a traced run of it saw in each name (`{name: kind}`: `("array", shape, dtype)`,
`("scalar",)` or `("other",)`) and the namespace its names resolve in. Out: `Fused`: the text
with each chain (consecutive assignments of elementwise operations, `+ - * / **`, unary minus
`sqrt`, `abs`, `square`, on float64 arrays of one shape and numbers, two or more
operations in all) replaced by one call of its loop function, named after the names it gives
(`dx = fused_dx(x)`); the loop functions' texts (a Python loop over the flattened arrays,
which numba compiles; for arrays of other shapes than the traced ones, the chain's own
statements); and for each chain the parts of a `cupy.ElementwiseKernel` computing the same.
Only names read after the chain are written to arrays; the others are numbers in the loop.
"""

import ast
import copy

import numpy

from . import codegen

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: None}
_UNARY_UFUNCS = {numpy.sqrt: "sqrt", numpy.absolute: "fabs", numpy.square: None}
"""The ufuncs a loop computes as fast as NumPy: transcendental ones (`tanh`, `exp`) stay NumPy
calls between the loops, as NumPy's vectorized versions are several times faster than the
scalar ones numba calls (measured: `tanh` 29 ns against 7 ns an element)."""


class Kernel:
    """One fused chain: its loop function (`name`, `text`), inputs and outputs (names), and
    the `cupy.ElementwiseKernel` parts (`in_params`, `out_params`, `operation`)."""

    __slots__ = ("name", "text", "inputs", "outputs", "in_params", "out_params", "operation")

    def __init__(self, name, text, inputs, outputs, cuda):
        self.name, self.text, self.inputs, self.outputs = name, text, inputs, outputs
        self.in_params, self.out_params, self.operation = cuda


class Fused:
    """The function's text with its chains replaced by calls, and their `Kernel`s."""

    def __init__(self, text, kernels):
        self.text = text
        self.kernels = kernels


def fuse(text, seen, namespace):
    """`Fused` of the generated function `text` (see the module docstring)."""
    fdef = ast.parse(text).body[0]
    taken = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)}
    taken |= {a.arg for a in ast.walk(fdef) if isinstance(a, ast.arg)} | set(namespace)
    finder = _Chains(seen, namespace)
    chains = finder.blocks(fdef.body)
    lines = text.splitlines()
    kernels = []
    for chain in sorted(chains, key=lambda c: -c[0].lineno):
        kernel = _kernel(chain, fdef, finder, taken)
        if kernel is None:
            continue
        kernels.append(kernel)
        first, last = chain[0], chain[-1]
        indent = lines[first.lineno - 1][:first.col_offset]
        comments = [line for line in lines[first.lineno - 1:last.end_lineno]
                    if line.strip().startswith("#")]
        call = f"{indent}{', '.join(kernel.outputs)} = {kernel.name}({', '.join(kernel.inputs)})"
        lines[first.lineno - 1:last.end_lineno] = comments + [call]
    kernels.reverse()
    return Fused("\n".join(lines) + "\n", kernels)


class _Chains:
    """The chains of a function's blocks (each a list of `ast.Assign`)."""

    def __init__(self, seen, namespace):
        self.seen, self.namespace = seen, namespace

    def blocks(self, body):
        chains, current, shape = [], [], None
        for stmt in body:
            for field in ("body", "orelse"):
                if isinstance(stmt, (ast.For, ast.While, ast.If)):
                    chains += self.blocks(getattr(stmt, field))
            here = self.candidate(stmt)
            if here is not None and (not current or here == shape):
                current.append(stmt)
                shape = here
                continue
            chains += [current] if current else []
            current, shape = ([stmt], here) if here is not None else ([], None)
        chains += [current] if current else []
        return [c for c in chains if sum(_operations(s.value) for s in c) >= 2]

    def candidate(self, stmt):
        """The shape of an elementwise assignment over float64 arrays of one shape, or None."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)) or not self.elementwise(stmt.value):
            return None
        kind = self.seen.get(stmt.targets[0].id)
        if kind is None or kind[0] != "array" or kind[2] != "float64" or not kind[1]:
            return None
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.Name) and node.id not in self.namespace_names(stmt.value):
                other = self.seen.get(node.id, ("other",))
                if other[0] == "array" and other[1:] == kind[1:]:
                    continue
                if other[0] != "scalar":
                    return None
        return kind[1]

    def namespace_names(self, value):
        """The root names of the ufunc calls in `value` (`np` of `np.tanh`)."""
        return {_root(n.func) for n in ast.walk(value) if isinstance(n, ast.Call)}

    def elementwise(self, node):
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.Constant):
            return type(node.value) in (int, float)
        if isinstance(node, ast.BinOp):
            return type(node.op) in _BINARY and self.elementwise(node.left) \
                and self.elementwise(node.right)
        if isinstance(node, ast.UnaryOp):
            return isinstance(node.op, (ast.USub, ast.UAdd)) and self.elementwise(node.operand)
        if isinstance(node, ast.Call):
            return self.ufunc(node) is not None and len(node.args) == 1 and not node.keywords \
                and self.elementwise(node.args[0])
        return False

    def ufunc(self, call):
        """The NumPy ufunc a call applies, when it is one fusion knows, else None."""
        obj = _resolve(call.func, self.namespace)
        try:
            return obj if obj in _UNARY_UFUNCS else None
        except TypeError:               # an unhashable object
            return None


def _root(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _resolve(node, namespace):
    """The object an attribute chain (`np.tanh`) names in `namespace`, or None."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, namespace), node.attr, None)
    return None


def _operations(node):
    """How many operations `node` computes (a negative number, `-0.5`, is none)."""
    return sum(isinstance(n, (ast.BinOp, ast.Call)) or (
        isinstance(n, ast.UnaryOp) and not isinstance(n.operand, ast.Constant))
        for n in ast.walk(node))


def _kernel(chain, fdef, finder, taken):
    """The `Kernel` of `chain`, or None when no name it gives is read after it."""
    inputs, written = [], []
    for stmt in chain:
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.Name) and node.id not in written and node.id not in inputs \
                    and node.id not in finder.namespace_names(stmt.value):
                inputs.append(node.id)
        target = stmt.targets[0].id
        written += [target] if target not in written else []
    inside = {id(n) for stmt in chain for n in ast.walk(stmt)}
    read = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load) and id(n) not in inside}
    read |= {n.target.id for n in ast.walk(fdef)            # `dx += g` reads `dx` too
             if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    outputs = [name for name in written if name in read]
    arrays = [name for name in inputs if finder.seen[name][0] == "array"]
    if not outputs or not arrays:
        return None
    name = _fresh("fused_" + "_".join(n.strip("_") or "t" for n in outputs), taken)
    stmts = [_numpy_calls(stmt, finder) for stmt in chain]
    text = _loop_text(name, stmts, inputs, arrays, outputs, set(taken))
    return Kernel(name, text, inputs, outputs, _cuda(stmts, inputs, outputs))


def _numpy_calls(stmt, finder):
    """A copy of `stmt` whose ufunc calls read `numpy.<name>` (the loop's only global)."""
    stmt = copy.deepcopy(stmt)
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            ufunc = finder.ufunc(node)
            node.func = ast.Attribute(value=ast.Name(id="numpy", ctx=ast.Load()),
                                      attr=ufunc.__name__, ctx=ast.Load())
    return stmt


def _fresh(name, taken):
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _loop_text(name, stmts, inputs, arrays, outputs, taken):
    """The loop function: the chain's statements on numbers, one element at a time."""
    i = _fresh("i", taken)
    scalar = {n: _fresh(f"{n}_{i}", taken) for n in dict.fromkeys(arrays + _targets(stmts))}
    result = {o: _fresh(f"{o}_out", taken) if o in inputs else o for o in outputs}
    flat = {n: _fresh(f"{n}_flat", taken) for n in arrays + [result[o] for o in outputs]}
    first = arrays[0]
    body = [f"def {name}({', '.join(inputs)}):",
            f'    """{"; ".join(codegen.statement(s) for s in stmts)}: one loop."""']
    if len(arrays) > 1:
        same = " and ".join(f"{a}.shape == {first}.shape" for a in arrays[1:])
        body += [f"    if not ({same}):"]
        body += [f"        {codegen.statement(s)}" for s in stmts]
        body += [f"        return {', '.join(outputs)}"]
    body += [f"    {result[o]} = numpy.empty({first}.shape)" for o in outputs]
    body += [f"    {flat[a]} = numpy.ascontiguousarray({a}).reshape(-1)" for a in arrays]
    body += [f"    {flat[result[o]]} = {result[o]}.reshape(-1)" for o in outputs]
    body += [f"    for {i} in range({flat[result[outputs[0]]]}.size):"]
    body += [f"        {scalar[a]} = {flat[a]}[{i}]" for a in arrays]
    body += [f"        {codegen.statement(_renamed(s, scalar))}" for s in stmts]
    body += [f"        {flat[result[o]]}[{i}] = {scalar[o]}" for o in outputs]
    body += [f"    return {', '.join(result[o] for o in outputs)}"]
    return "\n".join(body) + "\n"


def _targets(stmts):
    return [s.targets[0].id for s in stmts]


def _renamed(stmt, names):
    stmt = copy.deepcopy(stmt)
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
    return stmt


# ---- CuPy: the same chain as one elementwise kernel --------------------------------------------
def _cuda(stmts, inputs, outputs):
    """(in_params, out_params, operation) of a `cupy.ElementwiseKernel` for the chain: inputs
    (arrays and numbers) typed `T`, outputs `T <name>_out` where an input has the name, every
    other value a local variable."""
    out_names = {o: f"{o}_out" if o in inputs else o for o in outputs}
    current, count, body = {n: n for n in inputs}, {}, []
    for stmt in stmts:
        target = stmt.targets[0].id
        value = _c(stmt.value, current)
        count[target] = count.get(target, -1) + 1
        current[target] = f"{target}_{count[target]}"
        body.append(f"T {current[target]} = {value};")
    body += [f"{out_names[o]} = {current[o]};" for o in outputs]
    return (", ".join(f"T {n}" for n in inputs),
            ", ".join(f"T {out_names[o]}" for o in outputs), "\n".join(body))


def _c(node, current):
    """C text of an elementwise expression whose ufunc calls read `numpy.<name>`."""
    if isinstance(node, ast.Name):
        return current[node.id]
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    if isinstance(node, ast.UnaryOp):
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return f"({sign}{_c(node.operand, current)})"
    if isinstance(node, ast.BinOp):
        left, right = _c(node.left, current), _c(node.right, current)
        symbol = _BINARY[type(node.op)]
        return f"pow({left}, {right})" if symbol is None else f"({left} {symbol} {right})"
    arg = _c(node.args[0], current)
    c_name = _UNARY_UFUNCS[getattr(numpy, node.func.attr)]
    return f"({arg} * {arg})" if c_name is None else f"{c_name}({arg})"
