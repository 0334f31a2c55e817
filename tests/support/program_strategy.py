"""A hypothesis strategy for random NumPy programs inside the subset srcad differentiates.

In: nothing (it is a strategy: `programs()`). Out: `Program`s, each the text of a Python module
(helper functions, then `def f(...)`) plus the shapes of `f`'s float arguments and whether `f`
also takes an integer trip count `n`. The programs use straight-line code, broadcasting,
elementwise functions, reductions, indexing (ints, slices, integer arrays, masks), matmul, dot,
einsum, concatenate and stack, `a if c else b`, calls to the module's helper functions,
`if`/`else` on data, `for` loops (over `range` of a constant or of the argument `n`, over the
rows of an array, with data-dependent `continue` and `break`) and `while` loops whose trip
count depends on the data.

Every program is valid Python by construction: the shape of each expression is known while
drawing (checked by evaluating it on placeholder arrays), operands are drawn among shapes that
broadcast, and denominators, logs and square roots stay away from 0. Points where a program is
not differentiable (a branch or trip count that flips, a tie in `max`) are rare and left to the
test to detect (`tests/test_random_programs.py` compares one-sided differences).
"""

import numpy as np
from hypothesis import strategies as st

SHAPES = [(), (3,), (2, 3), (2, 1), (1, 3), (3, 2)]

# elementwise forms, `{a}` an operand; all smooth and finite on finite inputs
UNARY = ["np.sin({a})", "np.cos({a})", "np.tanh({a})", "np.exp(-{a} * {a})",
         "np.log(1.0 + {a} * {a})", "np.sqrt(1.5 + {a} * {a})", "{a} ** 2", "-{a}",
         "np.arctan({a})", "1.0 / (1.0 + np.exp(-{a}))", "np.abs({a})", "np.square({a})",
         "{a} * 0.5 + 0.25", "2.0 - {a}", "np.log1p({a} * {a})", "np.sinh(0.5 * {a})",
         "np.clip({a}, -0.5, 0.8)", "np.exp(np.clip({a}, -3.0, 3.0))", "np.cosh(0.3 * {a})",
         "np.hypot({a}, 1.0)", "np.logaddexp({a}, 0.5)", "np.arctan2({a}, 2.0)",
         "float(np.sum({a}))", "np.var({a})", "np.expm1(0.2 * {a})", "abs({a})",
         "np.power({a} * {a} + 1.0, 1.5)", "np.tan(0.3 * np.tanh({a}))"]
# forms for arrays of at least one dimension
ARRAY_FORMS = ["np.cumsum({a}, axis=-1)", "np.flip({a}, axis=0)", "np.expand_dims({a}, 0)",
               "np.transpose({a})", "np.tile({a}, 2)", "{a}.ravel()", "{a}.copy()",
               "np.broadcast_to({a}, (2,) + {a}.shape)", "np.sum({a}, axis=0) / 3.0"]
BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (2.0 + np.cos({b}))",
          "np.maximum({a}, {b})", "np.minimum({a}, 0.5 * {b})",
          "np.where({a} > {b}, {a} * {b}, {b} - {a})", "{a} * np.tanh({b})"]
# updates of a carried value `{v}` by an operand `{e}` that broadcasts to its shape
UPDATES = ["{v} = np.tanh({v} + {e})", "{v} = {v} * np.cos({e})", "{v} = {v} + 0.5 * {e}",
           "{v} = {v} - 0.25 * {e} * {e}", "{v} = np.sin({v}) * {e}"]
# forms for two operands of the same (non-scalar) shape
SAME_SHAPE = ["np.concatenate([{a}, {b}])", "np.stack([{a}, {b}], axis=-1)",
              "({a} if np.sum({b}) > 0.0 else {b} * 2.0)", "np.vstack([{a}, {b}])"]
AUGMENTED = ["{v} += {e}", "{v} -= 0.5 * {e}", "{v} *= np.cos({e})"]


class Program:
    """A generated module: `source`, the float argument shapes `shapes` of `f` (a Python float
    for shape () when `scalars_as_floats`), and `takes_n` (a last integer argument `n`)."""

    def __init__(self, source, shapes, takes_n, scalars_as_floats):
        self.source = source
        self.shapes = shapes
        self.takes_n = takes_n
        self.scalars_as_floats = scalars_as_floats

    def __repr__(self):
        return (f"Program(shapes={self.shapes}, takes_n={self.takes_n}, "
                f"scalars_as_floats={self.scalars_as_floats})\n{self.source}")


class _Var:
    """A value in scope: its shape, and whether it is an array the program made itself (so
    that `v += e` changes no other name's value, as it would through a view)."""

    __slots__ = ("shape", "own", "fixed")

    def __init__(self, shape, own, fixed=False):
        self.shape, self.own, self.fixed = tuple(shape), own, fixed


class _Writer:
    """Draws statements into lines of source, keeping track of the names in scope."""

    def __init__(self, draw, helpers, depth_limit=2, has_n=False):
        self.draw = draw
        self.has_n = has_n              # an integer argument `n` is in scope
        self.helpers = helpers          # [(name, param shapes, result shape, lines)], shared
        self.depth_limit = depth_limit
        self.count = 0
        self.namespace = {"np": np}     # where helpers are defined, to evaluate shapes

    # naming and shapes ------------------------------------------------------------------
    def fresh(self, prefix="v"):
        self.count += 1
        return f"{prefix}{self.count}"

    def shape_of(self, text, env):
        values = {name: (np.full(var.shape, 0.5) if var.shape else 0.5)
                  for name, var in env.items()}
        with np.errstate(all="ignore"):
            return np.shape(eval(text, self.namespace, values))

    def pick(self, env, label, condition=lambda var: True):
        names = [name for name, var in env.items() if condition(var)]
        return self.draw(st.sampled_from(names), label=label) if names else None

    # expressions ------------------------------------------------------------------------
    def expression(self, env):
        """(text, shape, own) of one operation on names in `env`."""
        kind = self.draw(st.sampled_from(
            ["unary", "binary", "binary", "reduce", "index", "matmul", "call", "constant"]),
            label="expression")
        made = getattr(self, "expr_" + kind)(env)
        if made is None:
            made = self.expr_unary(env)
        text, own = made
        try:
            return text, self.shape_of(text, env), own
        except (ValueError, TypeError, IndexError, np.exceptions.AxisError):
            text, own = self.expr_unary(env)          # a form that does not fit these shapes
            return text, self.shape_of(text, env), own

    def expr_unary(self, env):
        a = self.pick(env, "operand")
        forms = UNARY + (ARRAY_FORMS if env[a].shape else [])
        form = self.draw(st.sampled_from(forms), label="unary")
        if form in ARRAY_FORMS and "copy" not in form and "sum" not in form:
            env[a].own = False           # a view of `a`, or a copy we need not tell apart
            return form.format(a=a), False
        return form.format(a=a), True

    def expr_binary(self, env):
        a = self.pick(env, "left")
        b = self.pick(env, "right", lambda var: _broadcasts(var.shape, env[a].shape))
        forms = BINARY + (SAME_SHAPE if env[a].shape and env[a].shape == env[b].shape else [])
        form = self.draw(st.sampled_from(forms), label="binary")
        if " if " in form:
            env[a].own = False          # the result may be `a` itself
        return form.format(a=a, b=b), " if " not in form

    def expr_constant(self, env):
        a = self.pick(env, "operand")
        c = self.draw(st.sampled_from(["0.5", "1.5", "-2.0", "3"]), label="constant")
        form = self.draw(st.sampled_from(["{a} * {c}", "{c} - {a}", "{a} / {c}"]))
        return form.format(a=a, c=c), True

    def expr_reduce(self, env):
        a = self.pick(env, "reduced", lambda var: len(var.shape) >= 1)
        if a is None:
            return None
        ndim = len(env[a].shape)
        function = self.draw(st.sampled_from(["np.sum", "np.mean", "np.max", "np.min",
                                              "np.prod"]), label="reduction")
        axis = self.draw(st.sampled_from([None] + list(range(-ndim, ndim))), label="axis")
        if axis is None:
            return f"{function}({a})", True
        keepdims = self.draw(st.booleans(), label="keepdims")
        method = self.draw(st.booleans(), label="as method")
        options = f"axis={axis}" + (", keepdims=True" if keepdims else "")
        if method:
            return f"{a}.{function[3:]}({options})", True
        return f"{function}({a}, {options})", True

    def expr_index(self, env):
        a = self.pick(env, "indexed", lambda var: len(var.shape) >= 1 and var.shape[0] >= 2)
        if a is None:
            return None
        shape = env[a].shape
        forms = ["{a}[0]", "{a}[-1]", "{a}[1:]", "{a}[::-1]", "{a}[np.array([1, 0, 1])]",
                 "np.sum({a}[{a} > 0.1])", "{a}.T", "{a}.reshape(-1)", "{a}[None]"]
        if len(shape) == 2:
            forms += ["{a}[:, 0]", "{a}[1, :]", "{a}[:, ::-1]", "{a}[0, -1]"]
        text = self.draw(st.sampled_from(forms), label="index").format(a=a)
        own = "np.array" in text or "np.sum" in text
        if not own:
            env[a].own = False           # a view of `a`: writing into `a` would change it
        return text, own

    def expr_matmul(self, env):
        pairs = [(a, b) for a, va in env.items() for b, vb in env.items()
                 if va.shape and vb.shape and len(va.shape) + len(vb.shape) <= 4
                 and va.shape[-1] == vb.shape[0 if len(vb.shape) == 1 else -2]]
        if not pairs:
            return None
        a, b = self.draw(st.sampled_from(pairs), label="matmul")
        form = self.draw(st.sampled_from(["{a} @ {b}", "np.dot({a}, {b})", "{a}.dot({b})"]))
        if len(env[a].shape) == 2 and len(env[b].shape) == 1:
            form = self.draw(st.sampled_from([form, "np.einsum('ij,j->i', {a}, {b})"]))
        return form.format(a=a, b=b), True

    def expr_call(self, env):
        usable = [h for h in self.helpers
                  if all(any(v.shape == s for v in env.values()) for s in h[1])]
        if not usable or self.draw(st.booleans(), label="new helper"):
            if len(self.helpers) >= 3:
                return None
            usable = [self.new_helper(env)]
        helper_name, shapes, _, _ = self.draw(st.sampled_from(usable), label="helper")
        args = [self.pick(env, "argument", lambda var, s=s: var.shape == s) for s in shapes]
        for arg in args:
            env[arg].own = False         # the helper may return it, or a view of it
        if len(args) == 2 and self.draw(st.booleans(), label="keyword"):
            args[1] = f"p1={args[1]}"
        return f"{helper_name}({', '.join(args)})", False

    def new_helper(self, env):
        """A helper function taking one or two values in scope (of their shapes)."""
        count = self.draw(st.integers(1, min(2, len(env))), label="helper arity")
        chosen = self.draw(st.lists(st.sampled_from(sorted(env)), min_size=count,
                                    max_size=count, unique=True), label="helper params")
        params = [f"p{i}" for i in range(len(chosen))]
        local = {p: _Var(env[c].shape, False) for p, c in zip(params, chosen)}
        inner = _Writer(self.draw, self.helpers, depth_limit=1)
        inner.namespace = self.namespace
        inner.count = 100 * (len(self.helpers) + 1)
        body = inner.block(local, self.draw(st.integers(1, 3), label="helper length"), 0)
        result, shape, _ = inner.expression(local)
        if self.draw(st.booleans(), label="early return"):
            early, early_shape, _ = inner.expression(local)
            if early_shape == shape:
                body += [f"if {inner.condition(local)}:", f"    return {early}"]
        helper_name = f"helper{len(self.helpers)}"      # after any helper it calls
        lines = [f"def {helper_name}({', '.join(params)}):"]
        lines += ["    " + line for line in body] + [f"    return {result}"]
        helper = (helper_name, [env[c].shape for c in chosen], shape, lines)
        self.helpers.append(helper)
        exec("\n".join(lines), self.namespace)
        return helper

    # statements -------------------------------------------------------------------------
    def block(self, env, length, depth, in_loop=False):
        """`length` statements (lines without indentation); names they define are added to
        `env`."""
        lines = []
        for _ in range(length):
            kinds = ["assign", "assign", "assign", "update", "augmented", "unpack"]
            if depth < self.depth_limit:
                kinds += ["if", "for", "while"]
            kind = self.draw(st.sampled_from(kinds), label="statement")
            lines += getattr(self, "stmt_" + kind)(env, depth, in_loop)
        return lines

    def stmt_assign(self, env, depth, in_loop):
        text, shape, own = self.expression(env)
        target = self.fresh()
        env[target] = _Var(shape, own)
        return [f"{target} = {text}"]

    def stmt_unpack(self, env, depth, in_loop):
        """`p, q = a * 2.0, np.sin(b)` or `p, q = np.split(a, 2)` style unpacking."""
        a = self.pick(env, "first")
        b = self.pick(env, "second")
        first, second = self.fresh(), self.fresh()
        env[first], env[second] = _Var(env[a].shape, True), _Var(env[b].shape, True)
        return [f"{first}, {second} = {a} * 2.0, np.sin({b})"]

    def stmt_update(self, env, depth, in_loop, forms=UPDATES):
        v = self.pick(env, "updated", lambda var: not var.fixed and (
            forms is UPDATES or var.own))
        if v is None:
            return self.stmt_assign(env, depth, in_loop)
        e = self.pick(env, "by", lambda var: _broadcasts_to(var.shape, env[v].shape))
        form = self.draw(st.sampled_from(forms), label="update")
        line = form.format(v=v, e=e)
        env[v] = _Var(env[v].shape, True, env[v].fixed)
        return [line]

    def stmt_augmented(self, env, depth, in_loop):
        return self.stmt_update(env, depth, in_loop, AUGMENTED)

    def condition(self, env):
        a = self.pick(env, "tested")
        threshold = self.draw(st.sampled_from(["0.0", "0.3", "-0.2", "1.0"]), label="thr")
        form = self.draw(st.sampled_from(["np.sum({a}) > {t}", "np.mean({a}) < {t}",
                                          "np.max({a}) > {t}"]), label="test")
        return form.format(a=a, t=threshold)

    def sub_block(self, env, depth, in_loop):
        """A nested block: names it defines are dropped afterwards (they may be unset on
        other paths); updates of names in scope stay."""
        inner = dict(env)
        lines = self.block(inner, self.draw(st.integers(1, 3), label="length"), depth + 1,
                           in_loop)
        for name in env:
            env[name] = _Var(inner[name].shape, env[name].own and inner[name].own,
                             env[name].fixed)
        return ["    " + line for line in lines]

    def stmt_if(self, env, depth, in_loop):
        lines = [f"if {self.condition(env)}:"] + self.sub_block(env, depth, in_loop)
        if self.draw(st.booleans(), label="else"):
            lines += ["else:"] + self.sub_block(env, depth, in_loop)
        return lines

    def stmt_for(self, env, depth, in_loop):
        kind = self.draw(st.sampled_from(["range", "n", "rows"]), label="loop")
        rows = self.pick(env, "rows", lambda var: len(var.shape) == 2)
        inner = dict(env)
        if kind == "rows" and rows is not None:
            row = self.fresh("row")
            head = f"for {row} in {rows}:"
            inner[row] = _Var(env[rows].shape[1:], False, fixed=True)
            env[rows].own = False        # its rows are views: `rows += e` would change them
        elif kind == "n" and self.has_n:
            head = "for i in range(n):"
        else:
            head = f"for i in range({self.draw(st.integers(1, 3), label='trips')}):"
        body = self.block(inner, self.draw(st.integers(1, 3), label="length"), depth + 1,
                          True)
        if self.draw(st.booleans(), label="continue"):
            body += [f"if {self.condition(inner)}:", "    continue"]
        body += self.stmt_update(inner, depth + 1, True)   # something is carried
        if self.draw(st.booleans(), label="break"):
            body += [f"if {self.condition(inner)}:", "    break"]
        for name in env:
            env[name] = _Var(inner[name].shape, False, env[name].fixed)
        return [head] + ["    " + line for line in body]

    def stmt_while(self, env, depth, in_loop):
        v = self.pick(env, "shrunk", lambda var: not var.fixed)
        counter = self.fresh("k")
        limit = self.draw(st.integers(1, 4), label="limit")
        threshold = self.draw(st.sampled_from(["0.05", "0.2", "0.5"]), label="size")
        inner = dict(env)
        body = self.block(inner, self.draw(st.integers(0, 2), label="length"), depth + 1,
                          True)
        body += [f"{v} = {v} * 0.6", f"{counter} = {counter} + 1"]
        for name in env:
            env[name] = _Var(inner[name].shape, False, env[name].fixed)
        env[v] = _Var(env[v].shape, env[v].own)     # (the loop may not run)
        head = f"while np.sum({v} * {v}) > {threshold} and {counter} < {limit}:"
        return [f"{counter} = 0", head] + ["    " + line for line in body]


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _broadcasts_to(a, target):
    return _broadcasts(a, target) and np.broadcast_shapes(a, target) == tuple(target)


@st.composite
def programs(draw, max_statements=8):
    """Random `Program`s (see the module docstring)."""
    count = draw(st.integers(1, 3), label="arguments")
    shapes = [draw(st.sampled_from(SHAPES), label="shape") for _ in range(count)]
    takes_n = draw(st.booleans(), label="takes n")
    names = [f"x{i}" for i in range(count)]
    env = {name: _Var(shape, False) for name, shape in zip(names, shapes)}
    helpers = []
    writer = _Writer(draw, helpers, has_n=takes_n)
    body = writer.block(env, draw(st.integers(1, max_statements), label="length"), 0)
    output = draw(st.sampled_from(["sum", "sum", "array", "pair"]), label="output")
    last = list(env)[-1]
    if output != "array" and draw(st.booleans(), label="early return"):
        early = draw(st.sampled_from(list(env)), label="early")
        body += [f"if {writer.condition(env)}:", f"    return np.sum(np.tanh({early}))"]
    if output == "array" and env[last].shape:
        body.append(f"return {last}")
    elif output == "pair":
        other = draw(st.sampled_from(list(env)), label="second")
        body.append(f"return np.sum({last}) + np.sum(np.sin({other}))")
    else:
        body.append(f"return np.sum({last} * {last})")
    params = names + (["n"] if takes_n else [])
    lines = ["import numpy as np", ""]
    for helper in helpers:
        lines += helper[3] + ["", ""]
    lines += [f"def f({', '.join(params)}):"] + ["    " + line for line in body]
    scalars_as_floats = draw(st.booleans(), label="python floats")
    return Program("\n".join(lines) + "\n", shapes, takes_n, scalars_as_floats)
