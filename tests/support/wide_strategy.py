"""A hypothesis strategy for programs WIDER than the subset srcad supports, in call sequences.

In: `scenarios(families)`, a set of construct families (see `FAMILIES`). Out: `Scenario`s: the
text of a module in stages (stage 0 is imported; each later stage is code run in the module's
namespace, as a re-run notebook cell would: a redefined helper, `act = np.sin`, a changed
closure variable, `model.flag = False`) and the steps to take (`("call", k)`: check every
derivative at the k-th set of argument shapes; `("stage", i)`: run stage i). The derivatives
are made once, before the first step, and called again after each stage: they must follow the
CURRENT definition (tests/support/wide_check.py is the oracle).

Function programs start from the subset's grammar (tests/support/program_strategy.py) and add,
by family: every NumPy ufunc and public function of `numpy` and `numpy.linalg` with recipes
found by probing NumPy (tests/support/wide_catalogue.py), `out=` and other writes into arrays,
repeated-index writes, list/tuple/dict literals and keyword arguments given to the program's
own helpers, globals and closure variables that later stages rebind, and names that collide
with srcad's own. Model programs (tests/support/wide_models.py) use srcad.nn layers, custom
modules with settings, and shared parameters.
"""

import re

import numpy as np
from hypothesis import strategies as st

from tests.support import wide_catalogue
from tests.support.program_strategy import SHAPES, UNARY, _Var, _Writer

FAMILIES = frozenset({
    "ufunc",        # every ufunc, with .reduce/.accumulate/.outer
    "numpy",        # public functions of numpy, ndarray methods, np.r_/np.c_
    "linalg",       # numpy.linalg
    "out",          # out= arguments
    "inplace",      # copyto, ufunc.at, put*, place, fill_diagonal, sort, fill, ...
    "index_write",  # repeated-index, masked and view writes; fancy augmented assignment
    "literals",     # list/tuple/dict literals, keyword arguments, *args/**kwargs to helpers
    "shapes",       # the same derivative called at 2-3 argument shapes
    "rebind",       # later stages redefine a helper, rebind a global or a closure variable
    "models",       # srcad.nn models: Linear, Tanh, Sequential, ModuleList, custom Modules
    "shared",       # shared parameters: tying, one module used twice
    "settings",     # later stages change a model's flag, config, scale, list of layers
    "names",        # arguments, locals and helper parameters named after builtins, srcad's
                    # runtime helpers and the names srcad gives derivatives (`args`, `type`,
                    # `len`, `unbroadcast`, `dx0`, `_sin`)
})

INDEX_WRITES = ["{w}[np.array([0, 0, 1])] = {e}", "{w}[np.array([1, 0, 1])] += {e}",
                "{w}[[1, 1]] = {e}", "{w}[{w} > 0.3] = {e}", "{w}[::-1][:2] = {e}",
                "{w}[1:] *= {e}", "{w}[0] = {e}", "{w}[np.array([0, 1, 0])] *= {e}"]


class Scenario:
    """A module in `stages`, `steps` to take, the float argument `shape_sets` of `f` (or of
    `x` for a model), `kind` ("function" or "model") and the `constructs` it uses (names of
    NumPy entries and forms: what a failure is grouped by)."""

    def __init__(self, stages, steps, shape_sets, kind, constructs, scalars_as_floats=False):
        self.stages, self.steps, self.shape_sets = stages, steps, shape_sets
        self.kind, self.constructs = kind, sorted(set(constructs))
        self.scalars_as_floats = scalars_as_floats

    def parts(self):
        return [text if i == 0 else f"# --- stage {i} (run later) ---\n{text}"
                for i, text in enumerate(self.stages)]

    def source(self):
        """The whole file: every stage, each after a comment naming it."""
        return "\n".join(self.parts())

    def offsets(self):
        """For each stage, the number of lines of the file before its first line."""
        parts = self.parts()
        return [0] + [("\n".join(parts[:i]) + "\n# ---\n").count("\n")
                      for i in range(1, len(parts))]

    def __repr__(self):
        return (f"Scenario(kind={self.kind}, shape_sets={self.shape_sets}, steps={self.steps},"
                f" constructs={self.constructs})\n{self.source()}")


def _wrap(wrapper, text):
    return "(" + wrapper.replace("{}", text) + ")" if wrapper != "{}" else text


class WideWriter(_Writer):
    """The subset's writer with the enabled wide families added to its expressions and
    statements; `constructs` collects what it used."""

    def __init__(self, draw, helpers, families, namespace, **options):
        super().__init__(draw, helpers, **options)
        self.families = families
        self.namespace = namespace
        self.constructs = []

    # expressions ------------------------------------------------------------------------
    def expression(self, env):
        """(text, shape, own) of an expression: the subset's kinds and the enabled families'."""
        kinds = ["unary", "binary", "reduce", "index", "matmul", "call", "constant"]
        kinds += [k for k in ("ufunc", "numpy", "linalg") if k in self.families] * 6
        kinds += ["literal_call"] * 4 if "literals" in self.families else []
        kinds += ["rebound"] * 2 if "rebind" in self.families else []
        kind = self.draw(st.sampled_from(kinds), label="expression")
        made = getattr(self, "expr_" + kind)(env)
        for _attempt in range(2):
            if made is not None:
                text, own = made
                try:
                    return (*self.typed(text, env), own)
                except Exception:            # a form that does not fit these operands
                    pass
            made = self.expr_unary(env)
        raise AssertionError("unreachable: the unary forms fit every operand")

    def typed(self, text, env):
        """(text, shape): a complex result taken as its real part, a bool or integer one
        multiplied by 1.0, so that any later form can use it."""
        values = {name: (np.full(var.shape, 0.5) if var.shape else 0.5)
                  for name, var in env.items()}
        with np.errstate(all="ignore"):
            value = eval(text, self.namespace, values)
        kind = np.asarray(value).dtype.kind
        if kind == "c":
            text = f"np.real({text})"
        elif kind in "biu":
            text = f"(1.0 * {text})"
        elif kind != "f":
            raise TypeError(f"not a number: {text}")
        if np.size(value) > 60:
            raise ValueError("too large")
        return text, np.shape(value)

    def expr_call(self, env):
        made = super().expr_call(env)
        if made is not None:
            self.constructs.append("helper call")
        return made

    def entry_call(self, env, entries):
        """One catalogue entry with operands from `env`, or None."""
        by_name = {}
        for entry in entries:
            by_name.setdefault(entry.name, []).append(entry)
        name = self.draw(st.sampled_from(sorted(by_name)), label="numpy name")
        entry = self.draw(st.sampled_from(by_name[name]), label="recipe")
        text = self.fill(entry, env)
        if text is not None:
            self.constructs.append(entry.text)
        return text

    def fill(self, entry, env, target=None):
        """`entry.text` with its placeholders replaced by names of `env` (A of a probed
        dimension, B of A's shape, S a scalar) or by texts built from them; None if none fit."""
        rows = 2 if "{I}" in entry.text else 1
        a = target or self.pick(env, "A", lambda var: len(var.shape) in entry.ndims
                                and var.shape[0] >= rows)
        if a is None:
            return None
        shape = env[a].shape
        b = self.pick(env, "B", lambda var: var.shape == shape)
        s = self.pick(env, "S", lambda var: var.shape == ())
        w = _wrap(entry.wrapper, "{}")
        square = f"np.outer({a}, {a})" if len(shape) == 1 else f"{a}.T @ {a}"
        values = {"A": a if target else w.replace("{}", a), "B": w.replace("{}", b),
                  "S": w.replace("{}", s or "0.7"), "I": "np.array([0, 0, 1])",
                  "K": f"({a} > 0.0)", "W": a,
                  "M": f"({square} + np.diag(np.arange(3.0, 3.0 + {a}.shape[-1])))",
                  "N": f"np.tanh({square})"}
        return entry.text.format(**values)

    def expr_ufunc(self, env):
        return self.entry_call(env, [e for e in wide_catalogue.expressions()
                                     if _is_ufunc(e.name)]), True

    def expr_numpy(self, env):
        return self.entry_call(env, [e for e in wide_catalogue.expressions()
                                     if not _is_ufunc(e.name)
                                     and not e.name.startswith("np.linalg.")]), True

    def expr_linalg(self, env):
        return self.entry_call(env, [e for e in wide_catalogue.expressions()
                                     if e.name.startswith("np.linalg.")]), True

    def expr_rebound(self, env):
        """A use of what a later stage rebinds: the global `act`, the global `SCALE`, or the
        closure's `c` and `c_act` (when `f` is made by a closure)."""
        a = self.pick(env, "operand")
        forms = ["act({a})", "{a} * SCALE"]
        if "c_act" in self.namespace:
            forms += ["c_act({a})", "{a} * c"]
        form = self.draw(st.sampled_from(forms), label="rebound")
        self.constructs.append("rebound " + form)
        return form.format(a=a), True

    def expr_literal_call(self, env):
        from tests.support.wide_literals import literal_call
        return literal_call(self, env)

    # statements -------------------------------------------------------------------------
    def block(self, env, length, depth, in_loop=False):
        """`length` statements: the subset's kinds and the enabled writing families'."""
        lines = []
        for _ in range(length):
            kinds = ["assign", "assign", "assign", "update", "augmented", "unpack"]
            if depth < self.depth_limit:
                kinds += ["if", "for", "while"]
            kinds += [k for k in ("out", "inplace", "index_write") if k in self.families] * 3
            kind = self.draw(st.sampled_from(kinds), label="statement")
            lines += getattr(self, "stmt_" + kind)(env, depth, in_loop)
        return lines

    def write_target(self, env, rows=1, fresh="copy"):
        """(lines, name) of the array to write into: a fresh copy of a value in scope, or
        that value itself (which may be an argument, or share memory with another name)."""
        a = self.pick(env, "written", lambda var: len(var.shape) >= 1 and var.shape[0] >= rows)
        if a is None or self.draw(st.booleans(), label="write in place"):
            return [], a
        w = self.fresh("w")
        env[w] = _Var(env[a].shape, True)
        made = f"{a}.copy()" if fresh == "copy" else f"np.zeros_like({a})"
        return [f"{w} = {made}"], w

    def stmt_writer(self, env, entries, fresh):
        """A call of a writing entry into a target (see `write_target`), if it runs."""
        lines, w = self.write_target(env, 2, fresh)
        if w is None:
            return self.stmt_assign(env, 0, False)
        usable = [e for e in entries if len(env[w].shape) in e.ndims]
        if not usable:                       # a target of three dimensions
            return self.stmt_assign(env, 0, False)
        entry = self.draw(st.sampled_from(usable), label="writer")
        line = self.fill(entry, env, target=w)
        if not self.runs(lines + [line], env):
            return self.stmt_assign(env, 0, False)
        self.constructs.append(entry.text)
        return lines + [line]

    def runs(self, lines, env):
        """Whether `lines` run on placeholder values of `env` (and keep every shape)."""
        values = {name: (np.full(var.shape, 0.5) if var.shape else 0.5)
                  for name, var in env.items()}
        try:
            with np.errstate(all="ignore"):
                exec("\n".join(lines), dict(self.namespace), values)
        except Exception:
            return False
        return all(np.shape(values[name]) == var.shape for name, var in env.items())

    def stmt_out(self, env, depth, in_loop):
        return self.stmt_writer(env, [e for e in wide_catalogue.writers()
                                      if "out=" in e.text], "zeros")

    def stmt_inplace(self, env, depth, in_loop):
        return self.stmt_writer(env, [e for e in wide_catalogue.writers()
                                      if "out=" not in e.text], "copy")

    def stmt_index_write(self, env, depth, in_loop):
        """An INDEX_WRITES form into a target (see `write_target`), if it runs."""
        lines, w = self.write_target(env, 2)
        if w is None:
            return self.stmt_assign(env, 0, False)
        form = self.draw(st.sampled_from(INDEX_WRITES), label="index write")
        e = self.pick(env, "written value", lambda var: var.shape == ())
        e = e or self.draw(st.sampled_from(["0.5", "np.sum({a})"]), label="value")
        e = e.format(a=self.pick(env, "summed"))
        line = form.format(w=w, e=e)
        if not self.runs(lines + [line], env):
            return self.stmt_assign(env, 0, False)
        self.constructs.append("index write " + form)
        return lines + [line]


def _is_ufunc(name):
    return isinstance(getattr(np, name[3:].split(".")[0], None), np.ufunc)


# ---- the module around f ----------------------------------------------------------------

PRELUDE = ["import numpy as np", "", "act = np.tanh", "SCALE = 0.5", ""]
CLOSURE = ["def make():", "    c = 0.5", "    c_act = np.tanh", ""]
SETTER = ["    def set_closure(value, function):", "        nonlocal c, c_act",
          "        c = value", "        c_act = function", "", "    return f, set_closure",
          "", "", "f, set_closure = make()"]
REBINDINGS = ["act = np.sin", "act = np.cos", "SCALE = -1.25",
              "def act(x):\n    return x * x - 0.5 * x", "set_closure(1.75, np.sin)",
              "set_closure(-0.5, np.arctan)"]


@st.composite
def function_scenarios(draw, families, max_statements=6):
    """A `Scenario` of kind "function" (see the module docstring)."""
    count = draw(st.integers(1, 3), label="arguments")
    shapes = [draw(st.sampled_from(SHAPES), label="shape") for _ in range(count)]
    names = [f"x{i}" for i in range(count)]
    env = {name: _Var(shape, False) for name, shape in zip(names, shapes)}
    closure = "rebind" in families and draw(st.booleans(), label="closure")
    namespace = {"np": np, "act": np.tanh, "SCALE": 0.5}
    if closure:
        namespace.update(c=0.5, c_act=np.tanh)
    writer = WideWriter(draw, [], families, namespace)
    body = writer.block(env, draw(st.integers(1, max_statements), label="length"), 0)
    body.append("return " + " + ".join(f"np.sum(np.sin({name}))" for name in list(env)[-8:]))
    lines = list(PRELUDE)
    for helper in writer.helpers + getattr(writer, "literal_helpers", []):
        lines += helper[-1] + ["", ""]
    head = f"def f({', '.join(names)}):"
    if closure:
        lines += CLOSURE + ["    " + head] + ["        " + line for line in body] + [""]
        lines += SETTER
    else:
        lines += [head] + ["    " + line for line in body]
    stage0 = "\n".join(lines) + "\n"
    shape_sets = _shape_sets(draw, stage0, shapes, "shapes" in families)
    stages, steps = [stage0], [("call", 0)]
    if "rebind" in families:
        for _ in range(draw(st.integers(1, 2), label="rebindings")):
            stages.append(_rebinding(draw, writer, closure))
            steps += [("stage", len(stages) - 1), ("call", 0)]
    for k in range(1, len(shape_sets)):
        steps.insert(draw(st.integers(1, len(steps)), label="where"), ("call", k))
    constructs = writer.constructs + (["closure"] if closure else [])
    if "names" in families:
        stages = _renamed(draw, stages, constructs)
    return Scenario(stages, steps, shape_sets, "function", constructs,
                    draw(st.booleans(), label="python floats"))


# the names most likely to collide: srcad's spellings and the builtins its code calls
LIKELY = ["args", "kwargs", "dx0", "dx1", "dv1", "d_sin", "_sin", "_mul", "_t", "g", "grads",
          "tangents", "cotangent", "result", "self", "numpy", "type", "len", "range",
          "isinstance", "float", "tuple", "list", "dict", "zip", "getattr", "sum", "abs"]


def _user_names():
    """Names a user may choose that srcad's generated code might also use: every builtin,
    every public name of srcad.runtime, and srcad's own spelling of derivatives and
    temporaries."""
    import builtins
    import keyword

    from srcad import runtime
    found = [n for n in dir(builtins) + dir(runtime) if not n.startswith("_")]
    return sorted({n for n in found + LIKELY if n.isidentifier() and not keyword.iskeyword(n)})


def _renamed(draw, stages, constructs):
    """`stages` with some of the program's own names (arguments `x0`, values `v1`, written
    copies `w2`, helper parameters `p0`) renamed to names of `_user_names()` that the program
    does not already use."""
    text = "\n".join(stages)
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
    ours = sorted(w for w in words if re.fullmatch(r"[xvwp][0-9]+", w))
    free = [n for n in _user_names() if n not in words]
    chosen = draw(st.lists(st.sampled_from(ours), min_size=min(1, len(ours)), max_size=3,
                           unique=True), label="renamed") if ours else []
    likely = [n for n in LIKELY if n in free]
    mapping = {}
    for old in chosen:
        pool = likely if likely and draw(st.booleans(), label="likely") else free
        new = draw(st.sampled_from([n for n in pool if n not in mapping.values()] or free),
                   label="new name")
        mapping[old] = new
        constructs.append("named " + new)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b") if mapping \
        else None
    return [pattern.sub(lambda m: mapping[m.group(1)], stage) if pattern else stage
            for stage in stages]


def _rebinding(draw, writer, closure):
    """The text of a later stage: a rebinding, or a helper defined again with another body."""
    options = [r for r in REBINDINGS if closure or "set_closure" not in r]
    redefinable = [h[-1] for h in writer.helpers + getattr(writer, "literal_helpers", [])]
    if redefinable and draw(st.booleans(), label="redefine helper"):
        lines = draw(st.sampled_from(redefinable), label="redefined")
        returned = lines[-1][len("    return "):]
        form = draw(st.sampled_from(UNARY), label="new body")
        writer.constructs.append("helper redefined")
        return "\n".join(lines[:-1] + ["    return " + form.format(a=f"({returned})")]) + "\n"
    text = draw(st.sampled_from(options), label="rebinding")
    writer.constructs.append("rebinding " + text.splitlines()[0])
    return text + "\n"


def _shape_sets(draw, source, shapes, several):
    """The drawn shapes, and with `several` up to two more sets made by renaming the sizes
    (2 -> 3, 3 -> 4, ...) for which `f` still runs."""
    sets = [tuple(shapes)]
    if not several:
        return sets
    for mapping in ({2: 3, 3: 4}, {2: 4, 3: 2}, {3: 5, 2: 1}):
        other = tuple(tuple(mapping.get(d, d) for d in shape) for shape in shapes)
        if other not in sets and _runs_at(source, other):
            sets.append(other)
        if len(sets) == 3:
            break
    count = draw(st.integers(1, len(sets)), label="shape sets")
    return sets[:max(count, min(2, len(sets)))]


def _runs_at(source, shapes):
    """Whether the module `source` runs and its `f` runs at random arguments of `shapes`."""
    namespace = {}
    rng = np.random.default_rng(0)
    try:
        with np.errstate(all="ignore"):
            exec(source, namespace)
            namespace["f"](*[rng.uniform(-1.5, 1.5, s) for s in shapes])
    except Exception:
        return False
    return True


@st.composite
def scenarios(draw, families=FAMILIES):
    """Function or model scenarios using only `families` (a set of names in `FAMILIES`)."""
    families = frozenset(families)
    model_families = families & {"models", "shared", "settings"}
    if model_families and draw(st.booleans(), label="model"):
        from tests.support.wide_models import model_scenarios
        return draw(model_scenarios(families))
    return draw(function_scenarios(families - {"models", "shared", "settings"}))
