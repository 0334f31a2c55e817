"""The model families: srcad.nn programs with settings, shared parameters and later changes.

In: the enabled families ("models", "shared", "settings", "rebind", "shapes"). Out: a
`Scenario` of kind "model": a module defining `Config`, `Block` (a custom Module with a flag,
a config object, a number and a plain list of layers) and `Net`, a global `model = Net()`
built under a fixed seed, and `loss(model, x)`. Every layer maps width D to D, so any order
of uses fits. With "shared", one Linear is used in several places (twice in a Sequential, in a
ModuleList and as an attribute) and weights are tied (`lin1.weight = lin0.weight`); the right
gradient of a shared Parameter is the sum over its uses (PyTorch). With "settings", later
stages change what `forward` reads: `model.flag`, `model.cfg.flag`, `model.scale`, the length
of a plain list of layers, `model.block.use_act`.
"""

from hypothesis import strategies as st

from tests.support.wide_strategy import Scenario

# forward operations on `h` (width D), with the attributes they need
OPERATIONS = [
    ("h = self.a(h)", set()), ("h = self.b(h)", set()), ("h = np.tanh(h)", set()),
    ("h = self.seq(h)", {"seq"}), ("for layer in self.blocks:\n    h = layer(h)", {"blocks"}),
    ("for layer in self.plain:\n    h = h + 0.5 * layer(h)", {"plain"}),
    ("if self.flag:\n    h = h * 0.5 + np.sin(h)", set()),
    ("if self.cfg.flag:\n    h = self.b(h)", set()), ("h = h * self.scale", set()),
    ("h = self.block(h)", {"block"}), ("h = h @ self.a.weight", set()),
    ("h = self.act(h)", {"act"}),
]
REBOUND = [("h = act(h)", set())]
SETTINGS = ["model.flag = not model.flag", "model.cfg.flag = not model.cfg.flag",
            "model.scale = -1.5", "model.plain.append(model.b)", "model.plain.pop()",
            "model.block.use_act = False", "model.block.cfg.flag = False",
            "model.act = nn.Sigmoid()"]
REBINDINGS = ["act = np.sin", "def act(x):\n    return x * x - 0.25"]

HEAD = '''import numpy as np

import srcad
from srcad import nn

act = np.tanh


class Config:
    def __init__(self):
        self.flag = True


class Block(nn.Module):
    def __init__(self, lin):
        super().__init__()
        self.lin = lin
        self.use_act = True
        self.cfg = Config()

    def forward(self, x):
        y = self.lin(x)
        if self.use_act:
            y = np.tanh(y)
        if self.cfg.flag:
            y = y + x
        return y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
'''


@st.composite
def model_scenarios(draw, families):
    """A `Scenario` of kind "model" (see the module docstring)."""
    width = draw(st.sampled_from([2, 3]), label="width")
    constructs = []
    init = _init_lines(draw, width, "shared" in families, constructs)
    operations = OPERATIONS + (REBOUND if "rebind" in families else [])
    chosen = draw(st.lists(st.sampled_from(operations), min_size=1, max_size=5),
                  label="operations")
    forward = ["def forward(self, x):", "    h = x"]
    for text, _ in chosen:
        forward += ["    " + line for line in text.splitlines()]
        constructs.append(text.splitlines()[0])
    forward.append("    return h")
    loss = draw(st.sampled_from(["np.sum(np.tanh(model(x)) ** 2)",
                                 "np.mean((model(x) - 0.3) ** 2)",
                                 "np.sum(model(x) * x)"]), label="loss")
    seed = draw(st.integers(0, 1000), label="seed")
    stage0 = (HEAD + "".join(f"        {line}\n" for line in init) + "\n"
              + "".join(f"    {line}\n" if line else "\n" for line in forward)
              + f"\n\nsrcad.manual_seed({seed})\nmodel = Net()\n\n\n"
              + f"def loss(model, x):\n    return {loss}\n")
    stages, steps = _later_stages(draw, families, stage0, constructs)
    batches = [(2, width), (width,), (1, width), (3, width)]
    count = draw(st.integers(2, 3), label="shape sets") if "shapes" in families else 1
    shape_sets = [(batches[i],) for i in range(count)]
    for k in range(1, count):
        steps.insert(draw(st.integers(1, len(steps)), label="where"), ("call", k))
    return Scenario(stages, steps, shape_sets, "model", constructs)


def _init_lines(draw, width, shared, constructs):
    """The lines of `Net.__init__` after `super().__init__()`: with `shared`, the two Linear
    layers are used in several places and maybe tied; else each place has a layer of its own."""
    init = [f"lin0 = nn.Linear({width}, {width})",
            f"lin1 = nn.Linear({width}, {width}, bias={draw(st.booleans(), label='bias')})"]
    if shared and draw(st.booleans(), label="tie"):
        init.append("lin1.weight = lin0.weight")
        constructs.append("tied weight")
    pick = (lambda label: draw(st.sampled_from(["lin0", "lin1"]), label=label)) if shared \
        else (lambda label: None)
    lin2 = f"nn.Linear({width}, {width})"        # a layer of its own at each use
    return init + [
        f"self.a = {pick('a') or 'lin0'}", f"self.b = {pick('b') or 'lin1'}",
        f"self.seq = nn.Sequential({pick('s0') or lin2}, nn.Tanh(), {pick('s1') or lin2})",
        f"self.blocks = nn.ModuleList([{pick('m0') or lin2}, {pick('m1') or lin2}])",
        f"self.plain = [{pick('p') or lin2}]", f"self.block = Block({pick('k') or lin2})",
        "self.act = nn.Tanh()", "self.flag = True", "self.cfg = Config()", "self.scale = 0.5"]


def _later_stages(draw, families, stage0, constructs):
    """(stages, steps): stage 0, then with "settings" or "rebind" one or two changes, each
    followed by a call at the first shapes."""
    stages, steps = [stage0], [("call", 0)]
    later = (SETTINGS if "settings" in families else []) + \
        (REBINDINGS if "rebind" in families else [])
    if later:
        for _ in range(draw(st.integers(1, 2), label="changes")):
            text = draw(st.sampled_from(later), label="change")
            constructs.append("change " + text.splitlines()[0])
            stages.append(text + "\n")
            steps += [("stage", len(stages) - 1), ("call", 0)]
    return stages, steps
