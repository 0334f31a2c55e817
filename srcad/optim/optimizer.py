"""`Optimizer`: the base class of every optimizer, holding parameter groups and per-parameter state.

In: an iterable of Parameters (objects with `.data` and `.grad`, see `srcad.nn.Parameter`), or of
dicts `{"params": [...], "lr": ...}` whose entries override the optimizer's defaults for that
group. Out: an object whose `step()` updates every `.data` in place from its `.grad`, and whose
`state_dict()` / `load_state_dict()` save and restore the hyper-parameters and the per-parameter
state (keyed by the parameter's index over all groups, as in PyTorch).

A subclass gives its defaults to `__init__`, checks hyper-parameters in `_check_group`, and
updates one group in `_update_group`; per-parameter state (`self.state[p]`, a dict) starts empty
and is filled lazily on the parameter's first update.
"""

import collections
import copy

import numpy

from .. import backend
from ..sparse import densify

_SKIP_CAST = ("step",)


class Optimizer:
    """Base class: parameter groups, lazily created state, `zero_grad`, `step`, state dicts.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> from srcad.optim import SGD
        >>> w = Parameter(np.ones(2)); w.grad = np.ones(2)
        >>> opt = SGD([w], lr=0.5)
        >>> opt.step(); w.data
        array([0.5, 0.5])
    """

    def __init__(self, params, defaults):
        self._check_group(defaults)
        self.defaults = dict(defaults)
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if _is_parameter(params) or isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered iterable of Parameters or dicts, "
                            f"but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- subclass hooks --------------------------------------------------------------------------
    def _check_group(self, group):
        """Raise ValueError for an invalid hyper-parameter of `group` (defaults or a group)."""

    def _update_group(self, group):
        """Update the parameters of one group from their gradients."""
        raise NotImplementedError

    # -- public API ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group `{"params": [...], **hyper_parameters}`; missing keys take the defaults.

            >>> import numpy as np
            >>> from srcad.nn import Parameter
            >>> from srcad.optim import SGD
            >>> opt = SGD([Parameter(np.ones(1))], lr=0.1)
            >>> opt.add_param_group({"params": [Parameter(np.ones(1))], "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if _is_parameter(params):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of a set changes between runs; use a list")
        else:
            params = list(params)
        for p in params:
            if not _is_parameter(p):
                raise TypeError("optimizer can only optimize Parameters (objects with .data and "
                                f".grad), but one of the params is {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group = dict(self.defaults)
        group.update(param_group)
        group["params"] = params
        self._check_group(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget every gradient (`grad = None`), or fill it with zeros if `set_to_none=False`."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif hasattr(p.grad, "__setitem__"):
                    p.grad[...] = 0
                elif p.grad is not None:            # a scalar gradient: replace it
                    p.grad = p.grad * 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; return `closure()`'s loss if given.

        `closure` (optional) recomputes the loss and fills the gradients before the update.
        """
        loss = None
        if closure is not None:
            loss = closure()
        self._compute_grads()
        for group in self.param_groups:
            if not self._takes_rows(group):
                for p in group["params"]:
                    p.grad = densify(p.grad)          # a row-sparse gradient, made dense
            self._update_group(group)
        return loss

    def _compute_grads(self):
        """Gradients that are Dask arrays (taken inside `srcad.lazy()`) computed, all in one
        pass over their graph, into the parameters' array type: updates are in place."""
        params = [p for group in self.param_groups for p in group["params"]
                  if backend.is_lazy(p.grad)]
        if params:
            for p, g in zip(params, backend.compute_all([p.grad for p in params])):
                p.grad = backend.asarray_like(g, p.data)

    def _stepping(self, group, *buffers, fill=0.0, **optional):
        """Each parameter of `group` that has a gradient, with its state, its step count
        advanced. A new state starts at step 0 with an array like the parameter, filled with
        `fill`, for each name in `buffers`; a name in `optional` gets zeros once its flag is
        true."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                for buffer in buffers:
                    state[buffer] = numpy.full_like(p.data, fill)
            for buffer, wanted in optional.items():
                if wanted and buffer not in state:
                    state[buffer] = numpy.zeros_like(p.data)
            state["step"] += 1
            yield p, state

    def _takes_rows(self, group):
        """True when this optimizer updates from a row-sparse gradient directly."""
        return False

    def to(self, device):
        """Move the per-parameter state (momentum buffers, running averages) to "cpu" or
        "cuda", as `Module.to` moves the parameters; returns the optimizer."""
        for state in self.state.values():
            for key, value in state.items():
                state[key] = _to_device(value, device)
        return self

    def state_dict(self):
        """`{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`.

        Parameters are numbered in order over all groups. The state arrays are the live ones (as
        in PyTorch): copy them, or save them to disk, before stepping again.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by `state_dict()` (copied, never shared).

        Floating-point state arrays are cast to their parameter's dtype and array library.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            by_index.update(zip(saved["params"], group["params"]))
        self.state = collections.defaultdict(dict)
        for key, saved in state_dict["state"].items():
            if int(key) in by_index:
                p = by_index[int(key)]
                self.state[p] = {k: _restore(v, p.data, k) for k, v in saved.items()}
        for i, saved in enumerate(saved_groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            group["params"] = self.param_groups[i]["params"]
            self.param_groups[i] = group

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines + [")"])


def _is_parameter(x):
    return hasattr(x, "data") and hasattr(x, "grad") and not isinstance(x, dict)


def _to_device(value, device):
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return backend.to_device(value, device) if hasattr(value, "shape") else value


def _restore(value, like, key):
    """A copy of a saved state value, its arrays moved to `like`'s library (and float dtype)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_restore(v, like, key) for v in value)
    if isinstance(value, dict):
        return {k: _restore(v, like, k) for k, v in value.items()}
    if not hasattr(value, "dtype") or not hasattr(value, "shape"):
        return copy.deepcopy(value)
    xp = backend.array_module(like)
    dtype = value.dtype
    if key not in _SKIP_CAST and dtype.kind == "f" and like.dtype.kind in "fc":
        dtype = like.dtype
    if xp is not backend.array_module(value):
        value = backend.to_host(value)          # then onto `like`'s device, if it has one
    return xp.array(value, dtype=dtype, copy=True)


def check_nonnegative(group, *keys):
    """Raise ValueError naming the first of `keys` whose value in `group` is negative, in
    torch's words ("Invalid learning rate: -1", "Invalid weight_decay value: -0.1")."""
    for key in keys:
        if group[key] < 0.0:
            label = {"lr": "learning rate", "eps": "epsilon value"}.get(key, f"{key} value")
            raise ValueError(f"Invalid {label}: {group[key]}")
