"""AST helpers: parse a live function into a FunctionDef, build or copy small nodes, and read
the names a tree reads and assigns (`walk`, liveness, `NameIndex` for a pass that asks many
times about statements it does not change).

In: a Python function object. Out: `(ast.FunctionDef, SourceInfo)`, with line numbers that match
the user's file, so every later error can point at the user's line.
"""

import ast
import inspect
import linecache
import textwrap

from . import annotations as anno
from . import errors

_SPAN = 10_000_000
"""Line numbers of code inlined from another function (`passes/inline`) are offset by a
multiple of this, which names the source they came from (`SourceInfo.inline`)."""


class SourceInfo:
    """Where a parsed function came from: its file, its lines and its name; and the sources of
    the functions inlined into it (their lines numbered `k * _SPAN + line`)."""

    def __init__(self, filename, lines, name):
        self.filename = filename
        self.lines = lines          # the whole file's lines when known, else the function's
        self.name = name
        self.sources = []           # (filename, name) of inlined function k + 1

    def inline(self, other):
        """The offset to add to the line numbers of code parsed with `other` (a `SourceInfo`)
        inlined into this function."""
        key = (other.filename, other.name)
        if key not in self.sources:
            self.sources.append(key)
        return (self.sources.index(key) + 1) * _SPAN

    def where(self, lineno):
        """(file name, line number in it, function name) of a line number of this tree."""
        k, line = divmod(lineno or 0, _SPAN)
        if not k or k > len(self.sources):
            return self.filename, lineno, self.name
        filename, name = self.sources[k - 1]
        return filename, line, name

    def inlined(self, lineno):
        """True for a line number of code inlined from another function."""
        return bool(lineno) and lineno >= _SPAN

    def label(self, lineno):
        """How a comment of generated code names a line: `12`, or `56 of Linear.forward` for
        a line of an inlined function."""
        filename, line, name = self.where(lineno)
        return str(line) if line == lineno else f"{line} of {name}"

    def unlabel(self, text):
        """The line number that `label` wrote as `text` (`12`, `56 of Linear.forward`), or
        None."""
        number, _, name = text.partition(" of ")
        if not number.isdigit():
            return None
        if not name:
            return int(number)
        for k, (_, inlined) in enumerate(self.sources):
            if inlined == name:
                return (k + 1) * _SPAN + int(number)
        return None

    def location(self, node_or_lineno):
        """A `Location` for an AST node (or a line number) of this function."""
        filename, lineno, name = self.where(getattr(node_or_lineno, "lineno", node_or_lineno))
        text = linecache.getline(filename, lineno) if lineno else ""
        return errors.Location(filename, lineno, text, name)

    def at(self, lineno):
        """A `Location` for a line number of this function, its text stripped."""
        filename, line, name = self.where(lineno)
        return errors.Location(filename, line, self.text(lineno), name)

    def text(self, lineno):
        """The stripped source text of a line of the user's file."""
        filename, line, _ = self.where(lineno)
        return linecache.getline(filename, line).strip()


def parse_function(func):
    """Parse `func` into its `ast.FunctionDef` (decorators removed) and a `SourceInfo`."""
    name = getattr(func, "__name__", repr(func))
    code = getattr(func, "__code__", None)
    if code is None:
        raise errors.SourceUnavailableError(
            f"srcad cannot read the source of {name!r}: it is not a Python function "
            "(a builtin or C extension). Register a derivative rule for it instead "
            "(see srcad.register_adjoint / srcad.register_tangent).")
    filename = code.co_filename
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise errors.SourceUnavailableError(
            f"srcad cannot find the source of {name!r} (defined in {filename}): "
            "functions typed at the interactive prompt or built with exec() have no source "
            "file. Put the function in a .py file and import it, or define it in a "
            "Jupyter/IPython cell (IPython keeps the source of its cells).") from exc
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    node = tree.body[0]
    if isinstance(node, ast.AsyncFunctionDef):
        raise errors.UnsupportedSyntaxError(
            "srcad cannot differentiate an async function", _location(filename, node, name))
    if not isinstance(node, ast.FunctionDef):
        raise errors.UnsupportedSyntaxError(
            "srcad differentiates functions defined with `def`; define this lambda with def",
            _location(filename, node, name))
    node.decorator_list = []
    return node, SourceInfo(filename, lines, name)


def _location(filename, node, name):
    return errors.Location(filename, node.lineno, linecache.getline(filename, node.lineno), name)


def name(id_, ctx=None):
    """An `ast.Name` loading (or storing, with ctx=ast.Store()) `id_`."""
    return ast.Name(id=id_, ctx=ctx or ast.Load())


def assign(target, value, lineno=None):
    """`target = value` where target is a name string."""
    node = ast.Assign(targets=[name(target, ast.Store())], value=value, lineno=lineno)
    return node


def call(func, *args, **keywords):
    """A call of `func` (a name string or an expression node) on argument nodes."""
    func = name(func) if isinstance(func, str) else func
    kws = [ast.keyword(arg=k, value=v) for k, v in keywords.items()]
    return ast.Call(func=func, args=list(args), keywords=kws)


def builtin_call(ident, *args):
    """`ident(*args)`, a call of the builtin `ident` that srcad itself writes (`range`, `len`,
    `zip`, `min`), marked so that generation names it where no user local hides it."""
    node = ast.Call(func=ast.Name(id=ident, ctx=ast.Load()), args=list(args), keywords=[])
    return anno.set_(node, anno.BUILTIN, ident)


def const(value):
    """An `ast.Constant`; negative numbers become `-x` so the source reads naturally."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value))
    return ast.Constant(value=value)


_MISSING = object()


def copy_node(node):
    """A deep copy of `node` (or a list of nodes), annotations included (a shallow copy of
    each annotation dict). Much faster than `copy.deepcopy` on ASTs."""
    if isinstance(node, list):
        return [copy_node(item) for item in node]
    if not isinstance(node, ast.AST):
        return node
    return _copy(node)


def _copy(node):
    """`copy_node` of one node (the recursion visits only the values that are nodes)."""
    missing = _MISSING
    cls = node.__class__
    new = cls.__new__(cls)
    for field in node._fields:
        value = getattr(node, field, missing)
        if value is missing:
            continue
        if isinstance(value, ast.AST):
            value = _copy(value)
        elif isinstance(value, list):
            value = [_copy(item) if isinstance(item, ast.AST) else copy_node(item)
                     for item in value]
        setattr(new, field, value)
    for attribute in node._attributes:
        value = getattr(node, attribute, missing)
        if value is not missing:
            setattr(new, attribute, value)
    extra = getattr(node, "_srcad", None)
    if extra is not None:
        new._srcad = dict(extra)
    return new


def walk(node):
    """Every node of the tree under `node`, `node` first, in the order of `ast.walk`
    (breadth first, fields in order), as a list, leaving out the context and operator markers
    (`Load`, `Add`, ...; read them as `n.ctx`, `n.op`): one pass without `ast.walk`'s
    generators, over only the fields that can hold nodes, the whole-tree walks of generation
    being most of its time. The tree is read once, up front."""
    out = []
    _walk_into(out, node)
    return out


def _walk_into(out, node):
    """Append `walk(node)` to the list `out`."""
    i, ast_type, fields_of = len(out), ast.AST, _CHILD_FIELDS
    out.append(node)
    while i < len(out):
        current = out[i]
        i += 1
        cls = current.__class__
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _child_fields(cls)
        for field in fields:
            value = getattr(current, field, None)
            if isinstance(value, ast_type):
                out.append(value)
            elif isinstance(value, list):
                out.extend([item for item in value if isinstance(item, ast_type)])


_CHILD_FIELDS: dict = {}
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "arg", "attr", "module", "level", "kind",
                          "type_comment", "conversion", "is_async", "simple"})


def child_fields(cls):
    """The fields of the node class `cls` that can hold nodes other than the context and
    operator markers, found once per class."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = _child_fields(cls)
    return fields


def _child_fields(cls):
    """The fields of the node class `cls` that can hold nodes other than markers."""
    if cls is ast.Constant:
        return ()
    return tuple(field for field in cls._fields if field not in _LEAF_FIELDS)


def stored(node):
    """Names assigned anywhere in `node` (or a list of nodes)."""
    nodes = node if isinstance(node, list) else [node]
    return {n.id for s in nodes for n in walk(s)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def loaded(node):
    """Names read anywhere in `node` (or a list of nodes)."""
    nodes = node if isinstance(node, list) else [node]
    return {n.id for s in nodes for n in walk(s)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def names_in(node):
    """The set of identifiers that `node` loads or stores."""
    return {n.id for n in walk(node) if isinstance(n, ast.Name)}


def is_constant(node):
    """True for a literal number/None/bool, `-literal`, or a tuple of those."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.Tuple):
        return all(is_constant(e) for e in node.elts)
    return False


def live_after_each(stmts, later=frozenset(), memo=None):
    """For each statement of `stmts`, the names that may be read after it before they are
    assigned again (`later`: those read after the whole list); one backward sweep. `memo`
    (a dict kept by the caller while the statements do not change) keeps each statement's
    reads, so that a loop nest's inner statements are not read again at each level."""
    after, live = [], set(later)
    for stmt in reversed(stmts):
        after.append(live)
        live = _reads_of(stmt, memo) | (live - always_assigned(stmt))
    return after[::-1]


def read_before_assigned(stmts, memo=None):
    """Names that some path through `stmts` reads while they still hold the value they had
    before `stmts` (a branch assigns a name only if both sides do; a loop may run zero times,
    and its body's reads count, since a later trip reads what an earlier one assigned);
    `memo` as for `live_after_each`."""
    early, assigned = set(), set()
    for stmt in stmts:
        early |= _reads_of(stmt, memo) - assigned
        assigned |= always_assigned(stmt)
    return early


def _reads_of(stmt, memo=None):
    if memo is None:
        return _reads_of_statement(stmt, None)
    kept = memo.get(id(stmt))
    if kept is None or kept[0] is not stmt:
        kept = memo[id(stmt)] = (stmt, _reads_of_statement(stmt, memo))
    return kept[1]


def _reads_of_statement(stmt, memo):
    if isinstance(stmt, ast.If):
        return (loaded(stmt.test) | read_before_assigned(stmt.body, memo)
                | read_before_assigned(stmt.orelse, memo))
    if isinstance(stmt, ast.For):
        return loaded(stmt.iter) | (read_before_assigned(stmt.body, memo) - stored(stmt.target))
    if isinstance(stmt, ast.While):
        return loaded(stmt.test) | read_before_assigned(stmt.body, memo)
    if isinstance(stmt, ast.AugAssign):
        return loaded(stmt) | stored(stmt.target)
    if isinstance(stmt, ast.FunctionDef):
        return set()
    return loaded(stmt)


def always_assigned(node):
    """Names every path through `node` (a statement, or a list of them) assigns outside loops:
    a branch assigns a name only if both sides do, a loop may run zero times."""
    if isinstance(node, list):
        return set().union(*map(always_assigned, node))
    if isinstance(node, ast.Assign):
        return stored([t for t in node.targets if not isinstance(t, ast.Subscript)])
    if isinstance(node, ast.If):
        return always_assigned(node.body) & always_assigned(node.orelse)
    return set()


def assigned_name(stmt):
    """The single target name of an `Assign`/`AugAssign`, or None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    elif isinstance(stmt, ast.AugAssign):
        target = stmt.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


class NameIndex:
    """The `Name` nodes of a function's statements, each statement read once and the lists
    kept while the statements live (a pass that removes statements and renames names but
    builds no new ones asks it instead of walking the whole tree again).

    `own(stmt)`: the nodes of `stmt` outside its `body` and `orelse` statement lists (a
    loop's target and iterable, a branch's test, a whole simple statement), in walk order.
    `names(stmt)`: the `Name` nodes among them; `loads(stmt)`, `stores(stmt)`: those that
    read, those that assign (`ids_of_each`: their identifiers, for many statements at once).
    `under(stmt)`: the `Name` nodes of the whole statement, nested blocks included. Over
    `statements(tree)` the own parts hold every node of the tree once. `forget(stmt)` drops
    what is kept of a statement that was changed; `forget_ids()` the identifiers of all (a
    pass renamed names in place)."""

    def __init__(self):
        self._own, self._kept_sets, self._ids = {}, {}, {}

    def own(self, stmt):
        """The nodes of `stmt` outside its nested blocks (a list: `stmt` first)."""
        kept = self._own.get(id(stmt))
        if kept is None or kept[0] is not stmt:
            nodes, cls, ast_type = [stmt], stmt.__class__, ast.AST
            fields = _CHILD_FIELDS.get(cls)
            if fields is None:
                fields = _CHILD_FIELDS[cls] = _child_fields(cls)
            for field in fields:
                value = getattr(stmt, field, None)
                if isinstance(value, ast_type):
                    _walk_into(nodes, value)
                elif isinstance(value, list) and value and not (
                        field in ("body", "orelse") and isinstance(value[0], ast.stmt)):
                    for item in value:
                        if isinstance(item, ast_type):
                            _walk_into(nodes, item)
            names = [n for n in nodes if n.__class__ is ast.Name]
            loads = [n for n in names if n.ctx.__class__ is ast.Load]
            stores = [n for n in names if n.ctx.__class__ is ast.Store]
            kept = self._own[id(stmt)] = (stmt, nodes, names, loads, stores)
        return kept[1]

    def names(self, stmt):
        """The `Name` nodes of `stmt` outside its nested blocks."""
        kept = self._own.get(id(stmt))
        if kept is None or kept[0] is not stmt:
            self.own(stmt)
            kept = self._own[id(stmt)]
        return kept[2]

    def loads(self, stmt):
        """The `Name` nodes of `stmt` outside its nested blocks that read."""
        kept = self._own.get(id(stmt))
        if kept is None or kept[0] is not stmt:
            self.own(stmt)
            kept = self._own[id(stmt)]
        return kept[3]

    def stores(self, stmt):
        """The `Name` nodes of `stmt` outside its nested blocks that assign."""
        kept = self._own.get(id(stmt))
        if kept is None or kept[0] is not stmt:
            self.own(stmt)
            kept = self._own[id(stmt)]
        return kept[4]

    def ids_of_each(self, statements, which):
        """The identifiers of `loads(stmt)` (`which` "loads") or `stores(stmt)` ("stores") of
        each of `statements`, as lists, read once per statement until `forget` or
        `forget_ids` (a pass that renames names in place says so)."""
        position = 1 if which == "loads" else 2
        kept_of, out = self._ids, []
        for stmt in statements:
            kept = kept_of.get(id(stmt))
            if kept is None or kept[0] is not stmt:
                kept = kept_of[id(stmt)] = (stmt, [n.id for n in self.loads(stmt)],
                                            [n.id for n in self.stores(stmt)])
            out.append(kept[position])
        return out

    def load_ids(self, stmt):
        """`ids_of_each([stmt], "loads")[0]`."""
        kept = self._ids.get(id(stmt))
        if kept is None or kept[0] is not stmt:
            return self.ids_of_each([stmt], "loads")[0]
        return kept[1]

    def forget_ids(self):
        """Read the identifiers of every statement afresh next time (names were renamed)."""
        self._ids.clear()

    def under(self, stmt):
        """The `Name` nodes of the whole of `stmt`."""
        out = list(self.names(stmt))
        for field in ("body", "orelse"):
            stmts = getattr(stmt, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                for inner in stmts:
                    out.extend(self.under(inner))
        return out

    def stored(self, node):
        """`stored(node)` (a node or a list of them), each statement's set made once from its
        own part and its blocks' sets: for statements that are not changed afterwards in ways
        that assign other names. The set is shared: do not change it."""
        if isinstance(node, list):
            return set().union(*map(self.stored, node)) if node else set()
        return self._sets(node)[0]

    def loaded(self, node):
        """`loaded(node)` as `stored` gives `stored(node)`; for statements that are not
        changed afterwards in ways that read other names."""
        if isinstance(node, list):
            return set().union(*map(self.loaded, node)) if node else set()
        return self._sets(node)[1]

    def _sets(self, node):
        kept = self._kept_sets.get(id(node))
        if kept is not None and kept[0] is node:
            return kept[1]
        written, read = set(), set()
        for n in self.names(node):
            if isinstance(n.ctx, ast.Store):
                written.add(n.id)
            elif isinstance(n.ctx, ast.Load):
                read.add(n.id)
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                for inner in stmts:
                    inner_written, inner_read = self._sets(inner)
                    written |= inner_written
                    read |= inner_read
        self._kept_sets[id(node)] = (node, (written, read))
        return written, read

    def forget(self, stmt=None):
        """Read `stmt` (every statement, when None) afresh next time: it was changed."""
        if stmt is None:
            self._own.clear()
            self._kept_sets.clear()
            self._ids.clear()
        else:
            self._own.pop(id(stmt), None)
            self._kept_sets.pop(id(stmt), None)
            self._ids.pop(id(stmt), None)
