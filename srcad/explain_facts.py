"""The facts `srcad.explain` reports, gathered from the pipeline's stages.

In: the three trees `generation.generate` shows its `on_stage` hook (the normal form before
specializing, the derivative before optimizing, the optimized derivative), read through their
annotations (`srcad.annotations`): where each statement came from (ORIGIN), whether it is
differentiated (ACTIVE), whether it is derivative code (DERIVATIVE), what a call calls (FUNC),
what was denied (DENY). Out: `Facts`, one `Entry` per statement of the normal form, and the
values reverse mode stores per loop trip.
"""

import ast

from . import annotations as anno
from . import ast_util, codegen, generation, models
from .kinds import FORWARD


class Entry:
    """One statement of the normal form: its `node` (a copy), one-line `text`, `target` name
    (or None), whether it assigns a value (`value`) or is control flow (`control`); filled in
    by later stages: `active` (True, False, or None if not seen), `gone` (specialized away),
    `kept` (still assigned in the optimized code), `inlined` (the optimized line it was
    written into, or None)."""

    def __init__(self, node):
        self.node = node
        self.control = isinstance(node, (ast.If, ast.For, ast.While))
        self.text = _one_line(node)
        self.target = None if self.control else ast_util.assigned_name(node)
        self.value = isinstance(node, (ast.Assign, ast.AugAssign, ast.Return))
        self.active, self.gone, self.kept, self.inlined = None, False, True, None


class Facts:
    """What explain knows: the function, kind, `wrt`, example `args`; `lines` ({user line:
    [Entry]}), `info` (the SourceInfo), `active_names`, `stacks` ({loop line: [(stack, value
    text)]}), `recomputed` ({loop line: [statement text]}: what the reversed trips compute
    again instead of storing), `measured` ({stack: (items, bytes)}), `denied` ([(line, text,
    reason)]), `specialized` (code specialized to the shapes), `text` (the generated source)."""

    def __init__(self, func, kind, wrt, args):
        self.func, self.kind, self.wrt, self.args = func, kind, wrt, args
        self.lines, self.info, self.active_names = {}, None, set(wrt)
        self.stacks, self.measured, self.denied = {}, {}, []
        self.recomputed = {}
        self.specialized, self.text = False, None


def pipeline_options(func, kind, args):
    """(containers, statics, signature) for `generation.generate`, as a call of a derivative
    of `func` of `kind` with these arguments gets them: models are static, lists, tuples and
    dicts are containers, and reverse mode without containers is specialized to the shapes."""
    params = generation.parameters(func)
    statics = tuple((params[i], a) for i, a in enumerate(args) if models.is_model(a))
    containers = tuple(sorted(params[i] for i, a in enumerate(args)
                              if type(a) in (list, tuple, dict)))
    shaped = kind not in FORWARD and not containers
    return containers, statics, generation.signature(args) if shaped else None


def collect_stage(facts, stage, fdef, info):
    """The `on_stage` hook: read what `stage` ("normalize", "raw", "optimized") shows."""
    facts.info = info
    if stage == "normalize":
        for stmt, origin in _statements(fdef.body):
            facts.lines.setdefault(origin, []).append(Entry(ast_util.copy_node(stmt)))
    elif stage == "raw":
        facts.denied = _denied(fdef)
        _mark_raw(facts, fdef)
    elif stage == "optimized":
        _mark_optimized(facts, fdef)


def _statements(body, origin=None):
    """(statement, user line) of every statement in `body`, nested ones after their head."""
    for stmt in body:
        line = anno.get(stmt, anno.ORIGIN, origin)
        yield stmt, line
        for field in ("body", "orelse"):
            yield from _statements(getattr(stmt, field, []) if not isinstance(
                stmt, ast.FunctionDef) else [], line)


def _primal(fdef):
    """(statement, line) of the statements of `fdef` that are not derivative code."""
    return [(s, o) for s, o in _statements(fdef.body) if not anno.get(s, anno.DERIVATIVE)]


def _mark_raw(facts, fdef):
    """Activity from the derivative before optimizing; what it lacks was specialized away."""
    seen = {}
    for stmt, origin in _primal(fdef):
        active = bool(anno.get(stmt, anno.ACTIVE))
        seen.setdefault((origin, _one_line(stmt)), active)
        if isinstance(stmt, ast.Assign):        # rewritten (a model's call): by its targets
            for name in _targets(stmt):
                seen.setdefault((origin, name), active)
        if active and isinstance(stmt, (ast.Assign, ast.AugAssign)):
            facts.active_names.update(_targets(stmt))
    texts = {text for _, text in seen}
    for origin, entries in facts.lines.items():
        for entry in entries:
            if entry.control:
                entry.gone = entry.text not in texts
            elif (origin, entry.text) in seen:
                entry.active = seen[(origin, entry.text)]
            elif entry.target is not None and (origin, entry.target) in seen:
                entry.active = seen[(origin, entry.target)]
            else:
                entry.gone = entry.target is not None
    for entries in facts.lines.values():
        for entry in entries:
            if entry.active is None and not entry.gone and entry.value:
                entry.active = bool(ast_util.names_in(entry.node) & facts.active_names)


def _mark_optimized(facts, fdef):
    """Which values the optimized code keeps, which it wrote into later lines, and what
    reverse mode pushes on stacks in each loop."""
    statements = list(_statements(fdef.body))
    assigned = {(o, name) for s, o in statements if isinstance(s, (ast.Assign, ast.AugAssign))
                for name in _targets(s)}
    texts = [_one_line(s) for s, _ in statements if not isinstance(s, (ast.For, ast.If))
             and not anno.get(s, anno.DERIVATIVE)]
    for origin, entries in facts.lines.items():
        for entry in entries:
            if entry.target is None or entry.gone or (origin, entry.target) in assigned:
                continue
            entry.kept = False
            value = codegen.expression(entry.node.value)
            entry.inlined = next((t for t in texts if value in t and value != t), None)
    for stmt, origin in statements:
        if isinstance(stmt, ast.For) and not anno.get(stmt, anno.DERIVATIVE):
            pushes = [_push(s) for s, _ in _statements(stmt.body)]
            pushes = [p for p in pushes if p is not None]
            if pushes:
                facts.stacks.setdefault(origin, []).extend(pushes)
        elif isinstance(stmt, ast.For):                 # a reversed loop: what it recomputes
            again = [_one_line(s) for s in stmt.body if isinstance(s, ast.Assign)
                     and anno.get(s, anno.DERIVATIVE) and _one_line(s) in texts]
            if again:
                facts.recomputed.setdefault(origin, []).extend(again)


def _targets(stmt):
    """The names a statement assigns as a whole (`a = ...`, `a, b = ...`), not into."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return [n.id for t in targets for n in ([t] if isinstance(t, ast.Name) else
                                            getattr(t, "elts", [])) if isinstance(n, ast.Name)]


def _push(stmt):
    """(stack, value text) for `stack.append(value)` on a `*_stack` list, else None."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if (isinstance(func, ast.Attribute) and func.attr == "append"
            and isinstance(func.value, ast.Name) and func.value.id.endswith("_stack")
            and len(stmt.value.args) == 1):
        return func.value.id, codegen.expression(stmt.value.args[0])
    return None


def _denied(fdef):
    """(line, expression text, reason) of what srcad would reject if it were differentiated."""
    out = []
    for stmt, origin in _statements(fdef.body):
        for node in ast.walk(stmt):
            denied = anno.get(node, anno.DENY)
            if denied is not None:
                out.append((origin, codegen.statement(node) if isinstance(node, ast.stmt)
                            else codegen.expression(node), denied[0]))
    return list(dict.fromkeys(out))


def _one_line(node):
    """The first line of `node`'s source (a loop or branch: its head)."""
    text = codegen.statement(node)
    return text.splitlines()[0].rstrip(":") if text else ""
