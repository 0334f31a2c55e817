"""Normal form: one operation per statement, each name assigned once per path.

In: a fenced, resolved `FunctionDef` and the job's `namer` (every name of the tree taken). Out:
a `FunctionDef` whose body holds only these shapes, where an *atom* is a name, a literal (`2.0`,
`-1`, `None`, a tuple of literals) or an expression that is never differentiated and is left as
written (`x.shape[0]`, `np.pi`, `a > 0 and b`):

    t = atom                          copy (or constant)
    t = a OP b  /  t = OP a           arithmetic (BinOp / UnaryOp) on atoms
    t = f(a, b, k=c)                  call; a list argument is a list of atoms ([a, b]), except
                                      where NumPy takes an array: `t = numpy.asarray([a, b])`
                                      first (also for a name bound to a list or tuple;
                                      srcad/array_arguments.py)
    t = a.method(b, k=c)              method call on a local array
    t = a[index]                      indexing; the index parts are atoms or slices of atoms
    t = a.T                           attribute of a local array
    t = self.V.weight.data            a Parameter of a module (annotation PARAM)
    t = a < b                         comparison of atoms
    t = (a, b)                        tuple/list of atoms; {"k": a} with constant keys
    if a: <body> else: <body>         branches on an atom
    for i in range(a, b, c): <body>   loops: over a range, or over an index into an array/list
    while a: <body>                   (the test is recomputed at the end of the body)
    break                             last statement of a path in a loop body
    assert ... / raise ... / f(...)   kept for their effect on the primal only
    return a  /  return (a, b)        once, last

Tuple unpacking, augmented assignment and `a if c else b` are expanded; a re-assigned name gets
a fresh version (`y`, then `y_1`), and after a branch both paths assign the same version, so
every name has one meaning. In a loop, a name that already had a value before the loop and is
assigned in the body is *carried*: it keeps one name through the loop. `for x in xs` becomes
`for _k in range(len(xs)): x = xs[_k]` (also for enumerate and zip); statements after an `if`
that may `continue` or `break` move into the branches that do not jump, so `continue`
disappears and `break` ends its path. Each statement keeps annotation ORIGIN, the user's line
number.
"""

import ast

import numpy

from .. import annotations as anno
from .. import calls, rules, runtime
from ..array_arguments import takes_array
from ..ast_util import builtin_call, copy_node, name, walk
from ..errors import UnsupportedSyntaxError
from ..job import Job
from ..primitive import index_value
from .resolve import local_names

_OPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
        ast.MatMult: "matmul", ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.USub: "neg",
        ast.UAdd: "pos", ast.Not: "not", ast.Invert: "invert", ast.Gt: "gt", ast.Lt: "lt",
        ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne", ast.BitAnd: "and",
        ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift",
        ast.Is: "is", ast.IsNot: "isnot", ast.In: "in", ast.NotIn: "notin"}
_OPAQUE_ATTRS = {"shape", "ndim", "size", "dtype"}


_IN_PLACE = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
             "fill", "resize", "put", "itemset", "partition", "setflags", "update",
             "setdefault", "popitem"}


def _changed_in_place(call):
    """The local name a statement `name.method(...)` changes in place, or None."""
    func = call.func if isinstance(call, ast.Call) else None
    if (isinstance(func, ast.Attribute) and func.attr in _IN_PLACE
            and isinstance(func.value, ast.Name)):
        return func.value.id
    return None


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Normalize `tree` in place; new names come from `job.namer`."""
    namer = job.namer
    normalizer = _Normalizer(namer, local_names(tree), job.info)
    params = tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs
    for param in params:
        normalizer.version[param.arg] = param.arg
    normalizer.params = {param.arg for param in params}
    tree.body = normalizer.block(lift_returns(tree.body, namer))
    return tree


def lift_returns(body, namer):
    """A body whose only `return` is its last statement: with a `return` inside a branch, each
    path assigns its value to `result` (statements after the `if` move into the branches that
    do not return, as for `break`), and the function ends with `return result`."""
    if not any(isinstance(n, ast.Return) for s in body if isinstance(s, ast.If)
               for n in walk(s)):
        return body
    result = namer.fresh("result")

    def lift(stmts):
        out = []
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return):
                value = stmt.value if stmt.value is not None else ast.Constant(None)
                return out + [ast.Assign(targets=[name(result, ast.Store())], value=value,
                                         lineno=stmt.lineno, col_offset=stmt.col_offset)]
            if isinstance(stmt, ast.If) and any(isinstance(n, ast.Return)
                                                for n in walk(stmt)):
                rest = [copy_node(s) for s in stmts[i + 1:]]
                return out + [ast.If(test=stmt.test, body=lift(stmt.body + rest),
                                     orelse=lift(stmt.orelse + rest), lineno=stmt.lineno,
                                     col_offset=stmt.col_offset)]
            out.append(stmt)
        end = out[-1].lineno if out else 1
        return out + [ast.Assign(targets=[name(result, ast.Store())], value=ast.Constant(None),
                                 lineno=end, col_offset=0)]

    lifted = lift(body)
    return lifted + [ast.Return(value=name(result), lineno=lifted[-1].lineno, col_offset=0)]


class _Normalizer:
    def __init__(self, namer, locals_, info):
        self.namer = namer
        self.locals = locals_
        self.info = info
        self.fixed = frozenset()    # names that keep their version (carried through a loop)
        self.version = {}           # user name -> current SSA name
        self.params = set()         # the function's parameters
        self.sequences = set()      # SSA names bound to a list or tuple this function built
        self.out = None             # statement list being written
        self.line = None            # user line of the statement being normalized
        self.names_of = {}          # id of a user statement -> (it, the names it assigns)

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
        if isinstance(node.targets[0], ast.Subscript):
            self.set_item(node.targets[0], node.value)
            return
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
        if isinstance(node.target, ast.Subscript):
            current = ast.Subscript(value=node.target.value, slice=node.target.slice,
                                    ctx=ast.Load())
            self.set_item(node.target, ast.BinOp(left=current, op=node.op, right=node.value),
                          augmented=True)
            return
        value = ast.BinOp(left=name(node.target.id), op=node.op, right=node.value)
        self.assign(node.target.id, value, augmented=True)

    def set_item(self, target, value, augmented=False):
        """`x[index] = value` becomes `x_1 = set_item(x, index, value)`: a new version of `x`
        (the write copies, so earlier versions keep their values for the adjoint); the call of
        `x[index] op= value` is annotated AUGMENTED."""
        base = target.value.id
        if base not in self.version or base in self.params:
            raise UnsupportedSyntaxError(
                f"srcad does not support writing into `{base}`, which the function did not "
                f"create (an argument, a global or a closure value); copy it first: "
                f"`{base} = {base}.copy()`",
                self.info.at(self.line))
        array = self.atom(name(base))
        index = self.index(target.slice)
        item = self.atom(value)
        call = ast.Call(func=name("set_item"), args=[array, index_value(index), item],
                        keywords=[])
        anno.set_(call, anno.FUNC, runtime.set_item)
        if augmented:
            anno.set_(call, anno.AUGMENTED, True)
        self.emit_assign(self.new_version(base), call)

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
        changed = _changed_in_place(node.value)
        if changed is not None and not self.info.filename.startswith("<srcad"):
            self.change_in_place(node.value, changed)         # (srcad's own loop stacks pass)
            return
        self.emit(ast.Expr(value=self.expr(node.value)))

    def change_in_place(self, call, base):
        """`items.append(item)` becomes `items_1 = appended(items, item)`, a new version of the
        list; other methods that change a value in place are rejected."""
        where = self.info.at(self.line)
        method = call.func.attr
        if method != "append" or len(call.args) != 1 or call.keywords:
            raise UnsupportedSyntaxError(
                f"srcad does not support `{base}.{method}(...)`, which changes `{base}` in "
                "place; build a new value instead (`items.append(item)` is supported)", where)
        if base not in self.version or base in self.params:
            raise UnsupportedSyntaxError(
                f"srcad does not support appending to `{base}`, which the function did not "
                f"create (an argument, a global or a closure value); copy it first: "
                f"`{base} = list({base})`", where)
        value = ast.Call(func=name("appended"), args=[self.atom(name(base)),
                                                      self.atom(call.args[0])], keywords=[])
        anno.set_(value, anno.FUNC, runtime.appended)
        self.emit_assign(self.new_version(base), value)

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
    def assign(self, var, value, augmented=False):
        """`var = value`; the operation of `var op= value` is annotated AUGMENTED."""
        if isinstance(value, ast.IfExp):
            test = self.atom(value.test)
            self.select(self.new_version(var), test, value)
            return
        value = self.expr(value)                   # before the new version: `z = z + b`
        if augmented:
            anno.set_(value, anno.AUGMENTED, True)
        self.emit_assign(self.new_version(var), value)

    def emit_assign(self, target, value):
        """`target = value`; when a carried name reads itself (`acc = acc * x` in a loop),
        through a temporary (`_mul = acc * x; acc = _mul`), so that reverse mode can give the
        adjoint both the old value and the new."""
        if not isinstance(value, ast.Name) and target in {
                n.id for n in walk(value) if isinstance(n, ast.Name)}:
            temp = self.namer.temp(_base_name(value))
            self.emit(ast.Assign(targets=[name(temp, ast.Store())], value=value))
            value = name(temp)
        if _makes_sequence(value) or (isinstance(value, ast.Name) and value.id in self.sequences):
            self.sequences.add(target)
        self.emit(ast.Assign(targets=[name(target, ast.Store())], value=value))

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

    # loops --------------------------------------------------------------------------------
    def stmt_For(self, node):
        line = self.line
        body = restructure(node.body)
        iterable = node.iter
        func = anno.get(iterable, anno.FUNC) if isinstance(iterable, ast.Call) else None
        if func is range and isinstance(node.target, ast.Name):
            loop_iter = ast.Call(func=iterable.func, args=[self.atom(a) for a in iterable.args],
                                 keywords=[])
            self.loop(node.target.id, loop_iter, [], body, line)
            return
        if func is enumerate and _enumerate_start(iterable) is not None:
            sequence = self.atom(iterable.args[0])
            index, item = node.target.elts if isinstance(node.target, ast.Tuple) else (None, None)
            if index is None or not isinstance(index, ast.Name):
                self._reject_loop(node, "enumerate() with a target other than `i, x`")
            start = _enumerate_start(iterable)
            if isinstance(start, ast.Constant) and start.value == 0:
                self.loop(index.id, _range_len(sequence), [(item, sequence)], body, line)
                return
            counts = self.atom(anno.set_(_range(self.atom(start), ast.BinOp(
                left=start, op=ast.Add(), right=_len(sequence))), anno.FUNC, range))
            self.loop(self.namer.temp("k"), _range_len(sequence), [(index, counts),
                                                                  (item, sequence)], body, line)
            return
        if func is reversed and not iterable.keywords and len(iterable.args) == 1:
            sequence = self.atom(iterable.args[0])          # (a range, a list, an array)
            index = self.namer.temp("k")
            backwards = builtin_call("range", ast.BinOp(
                left=_len(sequence), op=ast.Sub(), right=ast.Constant(1)),
                ast.Constant(-1), ast.Constant(-1))
            self.loop(index, backwards, [(node.target, sequence)], body, line)
            return
        if func is zip and not iterable.keywords and iterable.args:
            sequences = [self.atom(a) for a in iterable.args]
            targets = node.target.elts if isinstance(node.target, ast.Tuple) else None
            if targets is None or len(targets) != len(sequences):
                self._reject_loop(node, "zip() with a target that does not unpack each sequence")
            count = self.atom(builtin_call("min", *[_len(s) for s in sequences]))
            index = self.namer.temp("k")
            self.loop(index, _range(count), list(zip(targets, sequences)), body, line)
            return
        sequence = self.atom(iterable)
        index = self.namer.temp("k")
        self.loop(index, _range_len(sequence), [(node.target, sequence)], body, line)

    def loop(self, index, loop_iter, items, body, line):
        """Emit `for index in loop_iter:` whose body first binds `target = sequence[index]`."""
        carried = self.carried(body, [t for t, _ in items] + [name(index, ast.Store())])
        items = [(t, self._before_loop(s, carried)) for t, s in items]
        saved_fixed = self.fixed
        self.fixed = saved_fixed | carried
        target = self.new_version(index) if index in self.locals else index
        self.fixed = self.fixed | {index}
        self.version[index] = target
        saved_out, self.out = self.out, []
        self.line = line
        for item_target, sequence in items:
            item = ast.Subscript(value=copy_node(sequence), slice=name(target), ctx=ast.Load())
            self.bind(item_target, item)
        for stmt in body:
            self.line = stmt.lineno
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)
        loop_body, self.out = self.out, saved_out
        self.fixed = saved_fixed
        self.line = line
        self.emit(ast.For(target=name(target, ast.Store()), iter=loop_iter,
                          body=loop_body or [ast.Pass()], orelse=[]))

    def _before_loop(self, sequence, carried):
        """The sequence a `for` loop walks, as it was when the loop started: Python iterates
        over that object even when the body assigns the name again (`for row in X: X = ...`),
        so a carried name is first copied to a temporary."""
        if not (isinstance(sequence, ast.Name)
                and sequence.id in {self.version[v] for v in carried}):
            return sequence
        temp = self.namer.temp("items")
        self.emit(ast.Assign(targets=[name(temp, ast.Store())], value=copy_node(sequence)))
        return name(temp)

    def stmt_While(self, node):
        line = self.line
        body = restructure(node.body)
        carried = self.carried(body, [])
        saved_fixed = self.fixed
        self.fixed = saved_fixed | carried
        start = len(self.out)
        test = self.atom(node.test)
        test_stmts = self.out[start:]
        saved_out, self.out = self.out, []
        for stmt in body:
            self.line = stmt.lineno
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)
        self.line = line
        for stmt in test_stmts:
            self.emit(copy_node(stmt))              # the test, recomputed for the next round
        loop_body, self.out = self.out, saved_out
        self.fixed = saved_fixed
        self.emit(ast.While(test=test, body=loop_body, orelse=[]))

    def stmt_Break(self, node):
        self.emit(ast.Break())

    def stmt_Continue(self, node):
        pass                                        # only at the end of a path (restructure)

    def carried(self, body, targets):
        """Names assigned in the loop `body` that already have a value: they keep one name.

        A name read in the body before the body assigns it, with no value before the loop,
        would carry a value between iterations from nowhere: that is rejected.
        """
        assigned = set()
        for stmt in body:
            assigned |= _stored_names(stmt, self.names_of)
        carried = {v for v in assigned if v in self.version}
        bound = set().union(*(_stored_names(t) for t in targets))
        for var in sorted(_read_before_write(body, bound, self.names_of)
                          & (assigned - carried)):
            raise UnsupportedSyntaxError(
                f"`{var}` is read in the loop before the loop body assigns it, and has no "
                f"value before the loop; give `{var}` a value before the loop",
                self.info.at(self.line))
        return carried

    def _reject_loop(self, node, what):
        raise UnsupportedSyntaxError(f"srcad does not support {what}",
                                     self.info.location(node))

    def new_version(self, var):
        if var in self.fixed:
            return self.version[var]
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
        if anno.get(node, anno.PARAM):
            return False                       # a Parameter read is a statement of its own
        if anno.get(node, anno.MODULE):
            return True                        # a static module (`self.V`), passed as is
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
        argument = self.user_argument if _is_user_call(node) else self.argument
        target = None if anno.get(node, anno.METHOD) else anno.get(node, anno.FUNC)

        def convert(value, position=None, keyword=None):
            if self.may_be_sequence(value) and takes_array(target, position, keyword):
                return self.as_array(value)
            return argument(value)

        args = [convert(a, position=i) for i, a in enumerate(node.args)]
        keywords = [ast.keyword(arg=k.arg, value=convert(k.value, keyword=k.arg))
                    for k in node.keywords]
        return anno.copy(node, ast.Call(func=func, args=args, keywords=keywords))

    def may_be_sequence(self, node):
        """True for a list or tuple literal holding more than constants, or a name that this
        function bound to a list or tuple (`items = [x, y]`, `items.append(x)`)."""
        return _is_sequence(node) or (isinstance(node, ast.Name) and self.version.get(
            node.id, node.id) in self.sequences)

    def as_array(self, node):
        """A list or tuple given where NumPy takes an array, converted as NumPy does on entry,
        explicitly: `_asarray = numpy.asarray([a, b])` (`srcad.array_arguments`)."""
        items = (type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())
                 if isinstance(node, (ast.List, ast.Tuple)) else self.atom(node))
        call = ast.Call(func=ast.Attribute(value=name("numpy"), attr="asarray", ctx=ast.Load()),
                        args=[items], keywords=[])
        anno.set_(call, anno.FUNC, numpy.asarray)
        temp = self.namer.temp("asarray")
        self.emit(ast.Assign(targets=[name(temp, ast.Store())], value=call))
        return name(temp)

    def argument(self, node):
        if isinstance(node, (ast.List, ast.Tuple)) and not self.is_atom(node):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())
        return self.atom(node)

    def user_argument(self, node):
        """An argument of a call of the user's own function: a list or tuple literal becomes a
        name of its own (`_list = [x, _mul]; h(_list)`), which carries derivatives into the
        callee as any container does."""
        if not isinstance(node, (ast.List, ast.Tuple)):
            return self.atom(node)
        value = type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())
        temp = self.namer.temp(_base_name(node))
        self.emit(ast.Assign(targets=[name(temp, ast.Store())], value=value))
        return name(temp)

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
        if anno.get(node, anno.PARAM):         # `self.V.weight` reads `self.V.weight.data`
            value = ast.Attribute(value=copy_node(node), attr="data", ctx=ast.Load())
            return anno.set_(value, anno.PARAM, anno.get(node, anno.PARAM))
        return ast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=ast.Load())

    def expr_Tuple(self, node):
        return type(node)(elts=[self.atom(e) for e in node.elts], ctx=ast.Load())

    expr_List = expr_Tuple

    def expr_Dict(self, node):
        return ast.Dict(keys=node.keys, values=[self.atom(v) for v in node.values])

    def rename(self, node):
        """A copy of `node` whose names read the current SSA versions."""
        node = copy_node(node)
        for sub in walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                sub.id = self.version.get(sub.id, sub.id)
        return node


def _is_sequence(node):
    """True for a list or tuple literal holding something other than constants."""
    return isinstance(node, (ast.List, ast.Tuple)) and not all(
        isinstance(e, ast.Constant) for e in node.elts)


def _makes_sequence(value):
    """True for a normal-form value that is a list or tuple: a display, `appended(items, x)`,
    `list(...)` or `tuple(...)`."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return True
    return isinstance(value, ast.Call) and anno.get(value, anno.FUNC) in (
        runtime.appended, list, tuple)


def _is_user_call(node):
    """True for a call of a function srcad derives by transforming it (see `calls`)."""
    func = anno.get(node, anno.FUNC)
    return calls.is_user_function(func, rules.ADJOINT) or calls.is_user_function(
        func, rules.TANGENT)


def _rename(stmts, old, new):
    for stmt in stmts:
        for sub in walk(stmt):
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
    if isinstance(node, ast.Dict):
        return "dict"
    return "t"


# loops -------------------------------------------------------------------------------------
def _enumerate_start(call):
    """The `start` of `enumerate(xs)`, `enumerate(xs, 1)` or `enumerate(xs, start=1)` (a
    node), or None for another form."""
    keywords = {k.arg: k.value for k in call.keywords}
    if len(call.args) == 1 and set(keywords) <= {"start"}:
        return keywords.get("start", ast.Constant(0))
    if len(call.args) == 2 and not keywords:
        return call.args[1]
    return None


def _len(node):
    return builtin_call("len", copy_node(node))


def _range(*bounds):
    return builtin_call("range", *bounds)


def _range_len(sequence):
    return _range(_len(sequence))


def restructure(stmts):
    """Move the statements after an `if` that may `continue`/`break` into its branches, so a
    jump is always the last statement of its path; a final `continue` is dropped."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, ast.Continue):
            return out
        if isinstance(stmt, ast.Break):
            return out + [stmt]
        if isinstance(stmt, ast.If) and _may_jump(stmt):
            rest = stmts[i + 1:]
            body = restructure(stmt.body + [copy_node(s) for s in rest])
            orelse = restructure(stmt.orelse + [copy_node(s) for s in rest])
            return out + [ast.If(test=stmt.test, body=body, orelse=orelse,
                                 lineno=stmt.lineno, col_offset=stmt.col_offset)]
        out.append(stmt)
    return out


def _may_jump(node):
    """True when `node` contains a break/continue of the enclosing loop (not a nested one)."""
    if isinstance(node, (ast.Break, ast.Continue)):
        return True
    if isinstance(node, (ast.For, ast.While)):
        return False
    return any(_may_jump(child) for child in ast.iter_child_nodes(node))


def _stored_names(node, memo=None):
    """Names a (user) statement assigns, the array of `x[i] = v` and the list of
    `items.append(item)` included. `memo` (id -> (node, names), kept by the caller while the
    statements it reads do not change) reads each statement once: the loops of a nest ask
    about their inner loops' statements again."""
    if memo is not None:
        kept = memo.get(id(node))
        if kept is None or kept[0] is not node:
            kept = memo[id(node)] = (node, _stored_names(node))
        return kept[1]
    names = set()
    for n in walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.Expr) and _changed_in_place(n.value) is not None:
            names.add(_changed_in_place(n.value))
        elif (isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)
              and isinstance(n.value, ast.Name)):
            names.add(n.value.id)
    return names


def _read_before_write(stmts, written=None, memo=None):
    """Names a statement list may read before assigning them (branches and loops looked into;
    a name assigned on either side of a branch counts as assigned after it); `memo` as for
    `_stored_names`."""
    written = set() if written is None else set(written)
    early = set()
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            early |= _loads(stmt.test) - written
            early |= _read_before_write(stmt.body, written, memo)
            early |= _read_before_write(stmt.orelse, written, memo)
        elif isinstance(stmt, (ast.For, ast.While)):
            head = stmt.iter if isinstance(stmt, ast.For) else stmt.test
            early |= _loads(head) - written
            inner = written | (_stored_names(stmt.target) if isinstance(stmt, ast.For) else set())
            early |= _read_before_write(stmt.body, inner, memo)
        else:
            reads = _loads(stmt)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                reads = _loads(stmt.value) if stmt.value is not None else set()
            early |= reads - written
        written |= _stored_names(stmt, memo)
    return early


def _loads(node):
    return {n.id for n in walk(node) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
