"""`Module`: PyTorch's container of parameters and submodules, for models srcad differentiates.

In: attributes set in `__init__` (Parameters, Modules, plain values). Out: a tree that can list
its parameters (`named_parameters()`, keys like "V.weight"), save and load them (`state_dict`),
switch between training and evaluation (`train()` / `eval()`, which Dropout reads), forget
gradients (`zero_grad()`), and move to a device (`to("cuda")`). `forward` is ordinary NumPy code:
srcad transforms it (and the forward of every submodule it calls) like any other function.
"""

from collections import OrderedDict

from .. import backend, models
from ..models import SETTING_TYPES, Layout
from .parameter import Parameter

_changes = 0
"""Counts changes to any module's attributes (`__setattr__`, `__delattr__`, `train()`): a
module's cached `structure()` is good while this count is what it was when it was made."""


def _changed():
    global _changes
    _changes += 1


_STRUCTURES = {}
"""Each model structure met so far -> a small integer naming it (a cheap key for calls)."""


class Module:
    """Base class of models: subclasses set attributes in `__init__` and define `forward`.

        >>> import numpy as np
        >>> class Scale(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w = Parameter(np.ones(2))
        ...     def forward(self, x):
        ...         return self.w.data * x
        >>> [name for name, _ in Scale().named_parameters()]
        ['w']
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("call super().__init__() before setting attributes of a Module")
        _changed()
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        _changed()
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- the tree ----------------------------------------------------------------------------
    def children(self):
        """The direct submodules."""
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix=""):
        """This module and every submodule, with dotted names ("" for this one)."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix=""):
        """Every Parameter of the tree with its dotted name ("V.weight"), each once."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self):
        return (param for _, param in self.named_parameters())

    def structure(self):
        """What code generated for this model depends on, and not its numbers: each module's
        path, class and settings (attributes of `SETTING_TYPES`), whether it has a `forward`
        of its own (an instance attribute, which srcad refuses), the parameters' names, and
        which paths reach a parameter met before (weight tying, a module used twice)."""
        return self._layout().structure

    def _layout(self):
        """This model's `models.Layout`, made again only after a change to some module's
        attributes (see `_changes`)."""
        cached = self.__dict__.get("_cached_layout")
        if cached is not None and cached[0] == _changes:
            return cached[1]
        named_modules = tuple(self.named_modules())
        modules = tuple((path, type(module), tuple(sorted(
            (name, value) for name, value in vars(module).items()
            if isinstance(value, SETTING_TYPES) and not name.startswith("_"))))
            + (("own forward",) if "forward" in vars(module) else ())
            for path, module in named_modules)
        named, aliases, first = [], {}, {}
        for module_path, module in named_modules:
            for name, param in module._parameters.items():
                path = f"{module_path}.{name}" if module_path else name
                canonical = first.setdefault(id(param), path)
                if canonical == path:
                    named.append((path, param))
                else:
                    aliases[path] = canonical
        structure = modules, tuple(path for path, _ in named), tuple(sorted(aliases.items()))
        layout = Layout(structure, _STRUCTURES.setdefault(structure, len(_STRUCTURES)),
                        tuple(named), aliases)
        object.__setattr__(self, "_cached_layout", (_changes, layout))
        return layout

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self):
        """`{"V.weight": array, ...}`: the parameters' arrays (not copies)."""
        return OrderedDict((name, param.data) for name, param in self.named_parameters())

    def load_state_dict(self, state, strict=True):
        """Copy arrays from `state` into the parameters (shapes must match)."""
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}")
        for name, value in state.items():
            if name in params:
                param = params[name]
                if tuple(value.shape) != tuple(param.data.shape):
                    raise ValueError(f"load_state_dict: {name} has shape {tuple(value.shape)}, "
                                     f"the model expects {tuple(param.data.shape)}")
                param.data = backend.asarray_like(value, param.data)
        return self

    def train(self, mode=True):
        """Set training mode (Dropout active) on the whole tree."""
        _changed()
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for param in self.parameters():
            param.grad = None

    def to(self, device):
        """Move every parameter (and its gradient) to "cpu" or "cuda" (CuPy)."""
        for param in self.parameters():
            param.data = backend.to_device(param.data, device)
            if param.grad is not None:
                param.grad = backend.to_device(param.grad, device)
        return self

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + ("\n)" if self._modules else ")")


class ModuleList(Module):
    """A list of modules, registered as submodules "0", "1", ... A `for` loop over it in a
    forward is unrolled when srcad generates the gradient (the list's length is structure)."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __len__(self):
        return len(self._modules)


class Sequential(ModuleList):
    """Modules applied one after the other: `Sequential(Linear(4, 8), Tanh(), Linear(8, 2))`."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


models.register_model(Module, Module._layout)
