"""Reject in-place writes into an array that another name may see (a view, the same array).

In: a fenced user `FunctionDef` (before `resolve`). Out: the same tree, unchanged, or an
`UnsupportedSyntaxError` at the write. srcad gives every write a new value (`v += e` becomes
`v = v + e`, `v[i] = e` writes into a copy), which is what Python does unless the array is
shared: after `v = x[1:]` or `v = x`, NumPy's in-place `v += e` changes `x` as well, and a
derivative that ignored this would be silently wrong.

The check follows assignments in order and keeps the pairs of names that may share memory: a
plain copy `a = b`, a slice or index `a = b[...]` (not with an index array or a mask: those
copy), `a = b.T`, a view method or function (`b.reshape(...)`, `np.squeeze(b)`, `VIEW_CALLS`
and `VIEW_OF_ANY`: the NumPy functions that may return an argument itself or a view of it), a
loop target over `b`'s rows, tuple unpacking of `b`. Assigning a name anything else ends its
pairs. Branches merge their pairs; loop bodies are followed twice, so that pairs made late in
one trip are seen early in the next. Calls to other functions are taken to return new arrays.
A write matters when a partner is read afterwards, or holds an argument, a global or a
closure value (the caller would see it); `items[i] = v` on a list the function built (`[...]`,
`list(...)`) replaces an item and writes into no array; `x += ...` on a name that may still
hold an argument (`x` itself, not yet assigned anew) is rejected too.
"""

import ast

from ..ast_util import live_after_each, read_before_assigned, walk
from ..errors import UnsupportedSyntaxError
from ..job import Job

VIEW_ATTRIBUTES = {"T", "mT", "real", "imag"}
VIEW_CALLS = {"reshape", "ravel", "view", "transpose", "swapaxes", "moveaxis", "squeeze",
              "expand_dims", "asarray", "asanyarray", "broadcast_to", "atleast_1d",
              "atleast_2d", "atleast_3d", "diagonal", "flip", "fliplr", "flipud", "rot90",
              "stop_gradient",
              # (found by giving each function of NumPy's catalogue arrays and asking NumPy
              # whether the result shares their memory: some only for some arguments, as
              # `polyder(p, 0)`, which returns `p` itself)
              "asarray_chkfinite", "ascontiguousarray", "asfortranarray", "require", "conj",
              "conjugate", "diag", "permute_dims", "matrix_transpose", "polyder", "polyint",
              "real", "imag", "real_if_close", "rollaxis", "trim_zeros", "unstack", "split",
              "array_split", "hsplit", "vsplit", "dsplit", "getfield", "frombuffer",
              "from_dlpack"}
# calls whose result may share the memory of any of their arguments, not only the first
VIEW_OF_ANY = {"broadcast_arrays", "ix_", "atleast_1d", "atleast_2d", "atleast_3d",
               "mintypecode"}


def run(tree: ast.FunctionDef, job: Job) -> ast.FunctionDef:
    """Check `tree`; raise UnsupportedSyntaxError at a shared write (at `job.info`)."""
    info = job.info
    args = tree.args
    params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names = [n for n in walk(tree) if isinstance(n, ast.Name)]
    stored = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    outside = params | ({n.id for n in names} - stored)   # arguments, globals, closure values
    aliases = _Aliases(info, outside)
    aliases.modules = {n for n in outside - params
                       if type(job.names.get(n)).__name__ == "module"}   # (`np` in np.squeeze)
    aliases.arguments = set(params)
    aliases.block(tree.body, set())
    return tree


class _Aliases:
    def __init__(self, info, outside):
        self.info = info
        self.outside = outside      # names of values the caller or the module also holds
        self.pairs = set()          # frozenset({a, b}): a and b may share memory
        self.arguments = set()      # names that may hold (a view of) an argument's array
        self.lists = set()          # names that hold a list the function built
        self.reads = {}             # statement reads, kept (see ast_util.live_after_each)
        self.modules = set()        # global names of modules: a call's receiver holds no array

    def block(self, stmts, later):
        """Follow `stmts`; `later` holds the names read after them (a write only matters when
        a name that sees it is read afterwards)."""
        for stmt, live in zip(stmts, live_after_each(stmts, later, self.reads)):
            self.statement(stmt, live)

    def statement(self, stmt, later):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self.bind(target, stmt.value, stmt, later)
        elif isinstance(stmt, ast.AugAssign):
            self.write(stmt.target, stmt, later)
        elif isinstance(stmt, ast.If):
            before, arguments, lists = set(self.pairs), set(self.arguments), set(self.lists)
            self.block(stmt.body, later)
            after_body, self.pairs = self.pairs, before
            self.arguments, body_arguments = arguments, self.arguments
            self.lists, body_lists = lists, self.lists
            self.block(stmt.orelse, later)
            self.pairs |= after_body
            self.arguments |= body_arguments
            self.lists &= body_lists
        elif isinstance(stmt, (ast.For, ast.While)):
            later = later | read_before_assigned([stmt], self.reads)  # the next trip's
            arguments = set(self.arguments)                  # (it may run zero times)
            for _ in range(2):
                if isinstance(stmt, ast.For):
                    self.bind(stmt.target, _rows_of(stmt.iter), stmt, later)
                self.block(stmt.body, later)
                self.arguments |= arguments

    def bind(self, target, value, stmt, later):
        if isinstance(target, ast.Name):
            if _is_new_list(value):
                self.lists.add(target.id)
            else:
                self.lists.discard(target.id)
            sources = _shares(value) - self.modules
            if sources & self.arguments:
                self.arguments.add(target.id)
            else:
                self.arguments.discard(target.id)
            self.pairs = {p for p in self.pairs if target.id not in p}
            partners = set(sources)
            for pair in self.pairs:
                if pair & sources:
                    partners |= pair
            self.pairs |= {frozenset((target.id, p)) for p in partners - {target.id}}
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(
                value.elts) == len(target.elts) else [value] * len(target.elts)
            for item, item_value in zip(target.elts, values):
                self.bind(item, item_value, stmt, later)
        elif isinstance(target, ast.Subscript):
            self.write(target, stmt, later)

    def write(self, target, stmt, later):
        base = target
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if not isinstance(base, ast.Name):
            return
        if isinstance(stmt, ast.Assign) and isinstance(target, ast.Subscript) \
                and base is target.value and base.id in self.lists:
            return              # `items[i] = v` replaces an item: no array is written into
        others = sorted(p for pair in self.pairs if base.id in pair for p in pair
                        if p != base.id and (p in later or p in self.outside))
        if others:
            shared = ", ".join(f"`{o}`" for o in others)
            raise UnsupportedSyntaxError(
                f"srcad does not support writing into `{base.id}` in place here: it may share "
                f"memory with {shared} (a view or another name of the same array), which "
                f"NumPy would change too; assign a new value instead (`{base.id} = "
                f"{base.id} + ...`), or copy first (`{base.id} = ....copy()`)",
                self.info.location(stmt))
        if isinstance(stmt, ast.AugAssign) and base.id in self.arguments:
            raise UnsupportedSyntaxError(
                f"srcad does not support writing into `{base.id}` in place: it may hold the "
                f"caller's array (an argument), which NumPy would change too; assign a new "
                f"value instead: `{base.id} = {base.id} {_SYMBOLS.get(type(stmt.op), '+')} ...`",
                self.info.location(stmt))


_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%"}


def _shares(value):
    """The names whose memory the value of expression `value` may share."""
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, ast.Subscript):
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        if any(isinstance(p, (ast.List, ast.Call, ast.Compare)) for p in parts):
            return set()                  # an index array or mask: NumPy copies
        return _shares(value.value)
    if isinstance(value, ast.Attribute) and value.attr in VIEW_ATTRIBUTES:
        return _shares(value.value)
    if isinstance(value, ast.IfExp):
        return _shares(value.body) | _shares(value.orelse)
    if isinstance(value, (ast.Tuple, ast.List)):
        return set().union(*(_shares(e) for e in value.elts))
    if isinstance(value, ast.Call):
        func = value.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called == "einsum":
            return _einsum_view_of(value.args)
        if called in VIEW_CALLS | VIEW_OF_ANY:     # x.reshape(...) or np.reshape(x, ...)
            receiver = _shares(func.value) if isinstance(func, ast.Attribute) else set()
            shared = value.args if called in VIEW_OF_ANY else value.args[:1]
            return receiver.union(*(_shares(a) for a in shared))
    return set()


def _einsum_view_of(args):
    """What `einsum(*args)` may share: its operand when it has one (`'ij->ji'` and `'ii->i'`
    give views), nothing when it multiplies several (a new array)."""
    if args and isinstance(args[0], ast.Constant):             # einsum('ij->ji', a)
        return _shares(args[1]) if len(args) == 2 else set()
    return _shares(args[0]) if 0 < len(args) <= 3 else set()   # einsum(a, [0, 1], [1, 0])


def _is_new_list(value):
    """True for a list the expression builds anew: `[a, b]`, `list(...)`."""
    return isinstance(value, ast.List) or (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        and value.func.id == "list")


def _rows_of(iterable):
    """What a loop target over `iterable` shares: the rows of the sequence(s) it walks."""
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and \
            iterable.func.id in ("enumerate", "zip"):
        index = [ast.Constant(0)] if iterable.func.id == "enumerate" else []
        return ast.Tuple(elts=index + list(iterable.args), ctx=ast.Load())
    return iterable
