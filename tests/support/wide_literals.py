"""The "literals" family: structures built in the call and handed to the program's helpers.

In: a `WideWriter` (tests/support/wide_strategy.py) and the names in scope. Out: `(text, own)` of an
expression such as `helper3([v1, 2.0 * x0])`, `helper4({"u": v2, "v": x1})`,
`helper5(v1, scale=x0)`, `helper6(*[x0, v1])`, `helper7(v1, {"inner": {"w": x0}})` or
`np.mean([v1, x0], axis=0)`; a helper it calls is defined once (its lines are added to
`writer.literal_helpers`) with a body drawn from the subset's elementwise forms.
"""

from hypothesis import strategies as st

from tests.support.program_strategy import UNARY, _broadcasts

# (definition with {name} and {u}, an elementwise form of the marked element, call forms)
TEMPLATES = [
    ("def {name}(ps):\n    return {u} + ps[1]", "ps[0]",
     ["{name}([{a}, {b}])", "{name}(({a}, {b}))", "{name}([{a}, 2.0 * {b}])",
      "{name}(ps=[{a}, {b}])"]),
    ("def {name}(d):\n    return {u} * d[\"v\"]", "d[\"u\"]",
     ["{name}({{\"u\": {a}, \"v\": {b}}})", "{name}(d={{\"u\": {a}, \"v\": {b}}})"]),
    ("def {name}(p, *, scale):\n    return {u} * scale", "p",
     ["{name}({a}, scale={b})"]),
    ("def {name}(p, q=None):\n    if q is None:\n        return {u}\n    return {u} - q", "p",
     ["{name}({a}, q={b})", "{name}({a}, {b})", "{name}(q={b}, p={a})"]),
    ("def {name}(*ps):\n    total = 0.0\n    for p in ps:\n        total = total + p\n"
     "    return {u} + total", "ps[0]", ["{name}({a}, {b})", "{name}(*[{a}, {b}])",
                                         "{name}(*({a}, {b}))"]),
    ("def {name}(p, cfg):\n    return {u} * cfg[\"inner\"][\"w\"]", "p",
     ["{name}({a}, {{\"inner\": {{\"w\": {b}}}}})"]),
    ("def {name}(**kw):\n    return {u} - kw[\"b\"]", "kw[\"a\"]",
     ["{name}(a={a}, b={b})", "{name}(**{{\"a\": {a}, \"b\": {b}}})"]),
    ("def {name}(p, q):\n    pair = [p, q]\n    return {u} * pair[1]", "pair[0]",
     ["{name}({a}, {b})"]),
]
# forms without a helper: a literal list given to NumPy or to builtins
DIRECT = ["np.mean([{a}, {b}], axis=0)", "np.sum(np.stack([{a}, np.sin({b})]), axis=0)",
          "sum([{a}, {b}])", "np.array([{a}, {b}])[1]", "np.max([{a}, {b}], axis=0)",
          "np.concatenate([[{a}], [{b}]])[0]"]


def literal_call(writer, env):
    """(text, own) of one literal form on names of `env` whose shapes are `a`'s or
    broadcast with it (the other operand has the same shape for the DIRECT forms)."""
    a = writer.pick(env, "literal a")
    b = writer.pick(env, "literal b", lambda var: _broadcasts(var.shape, env[a].shape))
    if writer.draw(st.booleans(), label="direct"):
        same = writer.pick(env, "same", lambda var: var.shape == env[a].shape)
        form = writer.draw(st.sampled_from(DIRECT), label="direct form")
        writer.constructs.append("literal " + form)
        return form.format(a=a, b=same), True
    helpers = writer.__dict__.setdefault("literal_helpers", [])
    index = writer.draw(st.integers(0, len(TEMPLATES) - 1), label="template")
    definition, element, calls = TEMPLATES[index]
    made = [h for h in helpers if h[1] == index]
    if made:
        name = made[0][0]
    else:
        name = f"literal{len(helpers)}"
        u = writer.draw(st.sampled_from(UNARY), label="element form").format(a=element)
        text = definition.format(name=name, u=u)
        helpers.append((name, index, text.splitlines()))
        exec(text, writer.namespace)
    call = writer.draw(st.sampled_from(calls), label="call form")
    writer.constructs.append("literal " + call.format(name="h", a="a", b="b"))
    return call.format(name=name, a=a, b=b), False
