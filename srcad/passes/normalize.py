"""Normal form: one operation per statement, each name assigned once per path.

In: a fenced, resolved `FunctionDef`. Out: a `FunctionDef` whose body holds only these shapes,
where an *atom* is a name, a literal (`2.0`, `-1`, `None`, a tuple of literals) or an expression
that is never differentiated and is left as written (`x.shape[0]`, `np.pi`, `a > 0 and b`):

    t = atom                          copy (or constant)
    t = a OP b  /  t = OP a           arithmetic (BinOp / UnaryOp) on atoms
    t = f(a, b, k=c)                  call; a list argument is a list of atoms ([a, b])
    t = a.method(b, k=c)              method call on a local array
    t = a[index]                      indexing; the index parts are atoms or slices of atoms
    t = a.T                           attribute of a local array
    t = a < b                         comparison of atoms
    t = (a, b)                        tuple/list of atoms
    if a: <body> else: <body>         branches on an atom
    assert ... / raise ... / f(...)   kept for their effect on the primal only
    return a  /  return (a, b)        once, last

Tuple unpacking, augmented assignment and `a if c else b` are expanded; a re-assigned name gets
a fresh version (`y`, then `y_1`), and after a branch both paths assign the same version, so
every name has one meaning. Each statement keeps annotation ORIGIN, the user's line number.
"""

import ast

from .. import annotations as anno
from ..ast_util import copy_node, name

_OPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
        ast.MatMult: "matmul", ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.USub: "neg",
        ast.UAdd: "pos", ast.Not: "not", ast.Invert: "invert", ast.Gt: "gt", ast.Lt: "lt",
        ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne", ast.BitAnd: "and",
        ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift",
        ast.Is: "is", ast.IsNot: "isnot", ast.In: "in", ast.NotIn: "notin"}
_OPAQUE_ATTRS = {"shape", "ndim", "size", "dtype"}


def run(tree, namer, locals_):
    """Normalize `tree` in place; `locals_` are the function's local names."""
    normalizer = _Normalizer(namer, locals_)
    params = tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs
    for param in params:
        normalizer.version[param.arg] = param.arg
    tree.body = normalizer.block(tree.body)
    return tree


class _Normalizer:
    def __init__(self, namer, locals_):
        self.namer = namer
        self.locals = locals_
        self.version = {}           # user name -> current SSA name
        self.out = None             # statement list being written
        self.line = None            # user line of the statement being normalized

    # statements ---------------------------------------------------------------------------
    def block(self, stmts):
        saved, self.out = self.out, []
        for stmt in stmts:
            self.line = stmt.lineno
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)
        out, self.out = self.out, saved
        return out

    def emit(self, stmt):
        stmt.lineno = self.line
        anno.set_(stmt, anno.ORIGIN, self.line)
        self.out.append(stmt)
        return stmt

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.assign(node.targets[0].id, node.value)
            return
        if len(node.targets) == 1:
            self.unpack(node.targets[0], node.value)
            return
        value = self.atom(node.value)
        for target in node.targets:
            self.bind(target, value)

    def stmt_AnnAssign(self, node):
        self.stmt_Assign(ast.Assign(targets=[node.target], value=node.value))

    def stmt_AugAssign(self, node):
        value = ast.BinOp(left=name(node.target.id), op=node.op, right=node.value)
        self.assign(node.target.id, value)

    def stmt_Return(self, node):
        value = node.value if node.value is not None else ast.Constant(None)
        if isinstance(value, (ast.Tuple, ast.List)):
            value = ast.Tuple(elts=[self.atom(e) for e in value.elts], ctx=ast.Load())
        else:
            value = self.atom(value)
        self.emit(ast.Return(value=value))

    def stmt_Expr(self, node):
        if isinstance(node.value, ast.Constant):
            return                                            # docstring or bare literal
        self.emit(ast.Expr(value=self.expr(node.value)))

    def stmt_Pass(self, node):
        pass

    def stmt_Assert(self, node):
        self.emit(self.rename(node))

    def stmt_Raise(self, node):
        self.emit(self.rename(node))

    def stmt_If(self, node):
        test = self.atom(node.test)
        before = dict(self.version)
        body = self.block(node.body)
        after_body, self.version = self.version, dict(before)
        orelse = self.block(node.orelse)
        after_else = self.version
        self.line = node.lineno
        self.version = self.merge(before, after_body, body, after_else, orelse)
        self.emit(ast.If(test=test, body=body or [ast.Pass()], orelse=orelse))

    def merge(self, before, v1, body, v2, orelse):
        """Make both branches end with the same version of each name (phi by renaming)."""
        merged = {}
        for var in sorted(set(v1) | set(v2)):
            a, b = v1.get(var), v2.get(var)
            if a == b or a is None or b is None:
                merged[var] = a or b
            elif a != before.get(var):
                if b != before.get(var):
                    _rename(orelse, b, a)
                else:
                    orelse.append(self._copy(a, b))
                merged[var] = a
            else:
                body.append(self._copy(b, a))
                merged[var] = b
        return merged

    def _copy(self, target, source):
        stmt = ast.Assign(targets=[name(target, ast.Store())], value=name(source),
                          lineno=self.line)
        return anno.set_(stmt, anno.ORIGIN, self.line)

    # assignment ---------------------------------------------------------------------------
    def assign(self, var, value):
        if isinstance(value, ast.IfExp):
            test = self.atom(value.test)
            self.select(self.new_version(var), test, value)
            return
        value = self.expr(value)
        self.emit(ast.Assign(targets=[name(self.new_version(var), ast.Store())], value=value))

    def unpack(self, targets, value):
        """`a, b = value`: a tuple literal is assigned element by element, else by index."""
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(targets.elts):
            atoms = [self.atom(e) for e in value.elts]       # all evaluated before binding
            for target, atom in zip(targets.elts, atoms):
                self.bind(target, atom)
            return
        value = self.atom(value)
        for i, target in enumerate(targets.elts):
            self.bind(target, ast.Subscript(value=copy_node(value), slice=ast.Constant(i),
                                            ctx=ast.Load()))

    def bind(self, target, value):
        """Assign the normal-form expression `value` to a name or unpack it into a tuple."""
        if isinstance(target, ast.Name):
            self.emit(ast.Assign(targets=[name(self.new_version(target.id), ast.Store())],
                                 value=value))
        else:
            self.unpack(target, self.atom(value) if not self.is_atom(value) else value)

    def select(self, target, test, node):
        """`target = a if c else b` becomes an `if` statement: only one side is evaluated."""
        line = self.line
        branches = []
        for expr in (node.body, node.orelse):
            saved, self.out = self.out, []
            self.emit(ast.Assign(targets=[name(target, ast.Store())], value=self.expr(expr)))
            branches.append(self.out)
            self.out, self.line = saved, line
        self.emit(ast.If(test=test, body=branches[0], orelse=branches[1]))

    def new_version(self, var):
        ssa = var if var not in self.version and var not in self.namer.versions else None
        ssa = ssa or self.namer.fresh(var)
        self.namer.versions.add(var)
        self.version[var] = ssa
        return ssa

    # expressions --------------------------------------------------------------------------
    def atom(self, node):
        """`node` as an atom, emitting a temporary assignment when it is an operation."""
        if self.is_atom(node):
            return self.rename(node)
        if isinstance(node, ast.IfExp):
            test = self.atom(node.test)
            temp = self.namer.temp("select")
            self.select(temp, test, node)
            return name(temp)
        value = self.expr(node)
        temp = self.namer.temp(_base_name(node))
        self.emit(ast.Assign(targets=[name(temp, ast.Store())], value=value))
        return name(temp)

    def is_atom(self, node):
        if isinstance(node, (ast.Name, ast.Constant, ast.JoinedStr)):
            return True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return isinstance(node.operand, ast.Constant)
        if isinstance(node, ast.Tuple):
            return all(self.is_atom(e) for e in node.elts)
        if isinstance(node, ast.BoolOp):
            return True
        if isinstance(node, ast.Attribute):
            return node.attr in _OPAQUE_ATTRS or self.is_global_chain(node)
        if isinstance(node, ast.Subscript):
            return (isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
                    and self.is_atom(node.value) and self.is_index_atom(node.slice))
        if isinstance(node, ast.Call):
            func = node.func
            return (isinstance(func, ast.Name) and func.id == "len"
                    and func.id not in self.locals)
        return False

    def is_index_atom(self, node):
        return isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))

    def is_global_chain(self, node):
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id not in self.locals

    def expr(self, node):
        """`node` as a single operation on atoms (or an atom)."""
        if self.is_atom(node):
            return self.rename(node)
        method = getattr(self, "expr_" + type(node).__name__, None)
        return method(node)

    def expr_IfExp(self, node):
        return self.atom(node)

    def expr_BinOp(self, node):
        return ast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))

    def expr_UnaryOp(self, node):
        return ast.UnaryOp(op=node.op, operand=self.atom(node.operand))

    def expr_Compare(self, node):
        return ast.Compare(left=self.atom(node.left), ops=node.ops,
                           comparators=[self.atom(c) for c in node.comparators])

    def expr_Call(self, node):
        func = node.func
        if anno.get(node, anno.METHOD):
            func = ast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=ast.Load())
        args = [self.argument(a) for a in node.args]
        keywords = [ast.keyword(arg=k.arg, value=self.argument(k.value)) for k in node.keywords]
        return anno.copy(node, ast.Call(func=func, args=args, keywords=keywords))

    def argument(self, node):
        if isinstance(node, (ast.List, ast.Tuple)) and not self.is_atom(node):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())
        return self.atom(node)

    def expr_Subscript(self, node):
        return ast.Subscript(value=self.atom(node.value), slice=self.index(node.slice),
                             ctx=ast.Load())

    def index(self, node):
        if isinstance(node, ast.Slice):
            parts = [None if p is None else self.atom(p)
                     for p in (node.lower, node.upper, node.step)]
            return ast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, ast.Tuple):
            return ast.Tuple(elts=[self.index(e) for e in node.elts], ctx=ast.Load())
        return self.atom(node)

    def expr_Attribute(self, node):
        return ast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=ast.Load())

    def expr_Tuple(self, node):
        return type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())

    expr_List = expr_Tuple

    def rename(self, node):
        """A copy of `node` whose names read the current SSA versions."""
        node = copy_node(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                sub.id = self.version.get(sub.id, sub.id)
        return node


def _rename(stmts, old, new):
    for stmt in stmts:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name) and sub.id == old:
                sub.id = new


def _base_name(node):
    """A readable base for the temporary holding `node`'s value."""
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return _OPS.get(type(node.op), "op")
    if isinstance(node, ast.Compare):
        return _OPS.get(type(node.ops[0]), "cmp")
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "call")
    if isinstance(node, ast.Subscript):
        return "item"
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Tuple | ast.List):
        return "tuple"
    return "t"
