"""Deterministic fresh names for temporaries and derivatives.

In: the set of names a function already uses. Out: new names that never clash with them, made
from readable bases with counters (never random), so the same input gives the same source:
temporaries are named after their operation (`_tanh`, `_matmul`), derivatives after their
variable (`dy` for `y`, `d_tanh` for `_tanh`).
"""

import builtins
import keyword
from collections.abc import Iterable, Mapping

_RESERVED = set(dir(builtins)) | set(keyword.kwlist)
NamerState = tuple[set[str], dict[str, str], set[str]]     # what `Namer.snapshot` returns


def identifier(text: object) -> str:
    """`text` made a Python name: each character a name cannot hold becomes `_` (a function
    may carry any `__name__`; generated code must never read it as code)."""
    out = "".join(ch if ("_" + ch).isidentifier() else "_" for ch in str(text))
    return out if out.isidentifier() else "_" + out


class Namer:
    """Hands out names not in `taken`, and remembers what it gave."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken) | _RESERVED
        self._derivative: dict[str, str] = {}
        self.versions: set[str] = set()       # user names that already have an SSA version
        self._counters: dict[str, int] = {}   # base -> the counter of the last name it gave

    def fresh(self, base: str) -> str:
        """`base` if free, else `base_1`, `base_2`, ... (the first free one). Names are only
        ever added to `taken`, so the search for a base starts at its last counter: one step
        per name, not one per name given before (10,000 temporaries `_mul` would be
        quadratic)."""
        base = base if base.isidentifier() else "_t"
        k = self._counters.get(base, 0)
        candidate = f"{base}_{k}" if k else base
        while candidate in self.taken:
            k += 1
            candidate = f"{base}_{k}"
        self.taken.add(candidate)
        self._counters[base] = k
        return candidate

    def temp(self, op: str) -> str:
        """A temporary named after an operation: `_tanh`, `_mul`, `_item`."""
        return self.fresh("_" + op)

    def derivative(self, var: str) -> str:
        """The derivative (tangent or adjoint) name of `var`: `dx`, `d_tanh`; stable per var."""
        if var not in self._derivative:
            self._derivative[var] = self.fresh("d" + var)
        return self._derivative[var]

    def snapshot(self) -> NamerState:
        """The namer's state, to undo a trial transformation with `restore`."""
        return set(self.taken), dict(self._derivative), set(self.versions)

    def restore(self, state: NamerState) -> None:
        taken, derivative, versions = state
        self.taken, self._derivative, self.versions = set(taken), dict(derivative), set(versions)
        self._counters = {}                   # names given since the snapshot are free again


class FreeNames:
    """Objects the generated code refers to by name, and the names they go by.

    The generated function sees the user's module globals; anything else it needs (numpy under
    the name a template uses, runtime helpers, the user's closure values) is bound here. A name
    that would clash with a different object the user's code uses is renamed (`zeros_like_1`).
    """

    def __init__(self, namer: Namer, namespace: Mapping[str, object],
                 visible: Mapping[str, object] | None = None,
                 locals_: Iterable[str] = ()) -> None:
        self.namer = namer
        self.locals = frozenset(locals_)  # the user's local names: never a free name's
        self.namespace = namespace       # what the user's code sees (globals, closure, builtins)
        self.visible = namespace if visible is None else visible   # what generated code sees
        self.bound: dict[str, object] = {}   # name -> object, for the generated code
        self._names: dict[int, str] = {}     # id(object) -> name

    def bind(self, ident: str, obj: object) -> str:
        """The name generated code uses for `obj`, preferring `ident`."""
        known = self._names.get(id(obj))
        if known is not None:
            return known
        ident = identifier(ident)                # (made of a user's function name, perhaps)
        alias = self._user_alias(obj)
        if alias is not None:
            self._names[id(obj)] = alias
            return alias
        if ident in self.bound or ident in self.locals or (ident in self.namer.taken and
                                   self.namespace.get(ident, _MISSING) is not obj):
            ident = self.namer.fresh(ident)
        self.namer.taken.add(ident)
        self.bound[ident] = obj
        self._names[id(obj)] = ident
        return ident

    def bind_as(self, ident: str, obj: object) -> None:
        """Bind `obj` under the name `ident` exactly (a name the tree already uses for it:
        a global of an inlined function, see `passes/inline`)."""
        self.namer.taken.add(ident)
        self.bound[ident] = obj
        self._names.setdefault(id(obj), ident)

    def name_of(self, obj: object) -> str | None:
        """The name `obj` was bound under, or None."""
        return self._names.get(id(obj))

    def _user_alias(self, obj: object) -> str | None:
        """The name the user's code already gives a module (`np` for numpy), if any: a global
        name, which generated code sees too (not a closure value, which must be bound)."""
        if type(obj).__name__ != "module":
            return None
        for ident in sorted(self.namer.taken):
            if self.visible.get(ident, _MISSING) is obj:
                return ident
        return None


_MISSING = object()
