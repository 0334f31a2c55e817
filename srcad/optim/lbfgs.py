"""L-BFGS: a quasi-Newton method driven by a closure, with an optional strong-Wolfe line search.

In: one group of parameters, and at each `step(closure)` a closure that recomputes the loss
and fills every `.grad`. Out: `.data` moved towards a minimum (up to `max_iter` iterations per
step); the closure's first loss is returned. State (kept on the first parameter, as in PyTorch):
`func_evals`, `n_iter`, the last direction `d` and step `t`, the curvature pairs `old_dirs`
(gradient differences y) and `old_stps` (steps s), `ro` (1 / y.s), `H_diag`, `prev_flat_grad`,
`prev_loss`. All parameters are seen as one flat vector.
"""

import functools

import numpy

from .. import backend
from .line_search import strong_wolfe
from .optimizer import Optimizer, check_nonnegative


def lbfgs_direction(flat_grad, old_dirs, old_stps, ro, h_diag):
    """The two-loop recursion: the quasi-Newton direction -H g from the stored (y, s) pairs.

        >>> lbfgs_direction(numpy.array([2.0]), [], [], [], 0.5)
        array([-1.])
    """
    q = numpy.negative(flat_grad)
    alphas = [0.0] * len(old_dirs)
    for i in reversed(range(len(old_dirs))):      # alphas and betas stay on q's device
        alphas[i] = old_stps[i].dot(q) * ro[i]
        q -= alphas[i] * old_dirs[i]
    q *= h_diag
    for i in range(len(old_dirs)):
        beta = old_dirs[i].dot(q) * ro[i]
        q += (alphas[i] - beta) * old_stps[i]
    return q


def lbfgs_remember(y, s, old_dirs, old_stps, ro, history_size):
    """Store the pair (y, s) when its curvature y.s is positive; return the new H_diag or None."""
    ys = backend.to_float(y.dot(s))
    if ys <= 1e-10:
        return None
    if len(old_dirs) == history_size:
        del old_dirs[0], old_stps[0], ro[0]
    old_dirs.append(y)
    old_stps.append(s)
    ro.append(1.0 / ys)
    return ys / backend.to_float(y.dot(y))


class LBFGS(Optimizer):
    r"""L-BFGS, as `torch.optim.LBFGS` (one parameter group; `step` needs a closure).

    Each iteration k, with flat gradient g_k and the last m pairs s_i = t_i d_i,
    y_i = g_{i+1} - g_i (kept only when y_i.s_i > 1e-10):

        d_k = -H_k g_k     (two-loop recursion, H_0 = (y.s / y.y) I of the newest pair)
        t_k = min(1, 1 / |g_0|_1) * lr   on the very first iteration, else lr
              (or the strong-Wolfe line search from there, c1 = 1e-4, c2 = 0.9)
        x_{k+1} = x_k + t_k d_k

    A step stops after `max_iter` iterations or `max_eval` closure calls, when
    max|g| <= tolerance_grad, when g.d > -tolerance_change, or when the step or the change of
    loss falls below tolerance_change.

        >>> import numpy as np
        >>> from srcad.nn import Parameter
        >>> x = Parameter(np.array([3.0, -1.0]))
        >>> def closure():
        ...     x.grad = 2 * (x.data - 1.0)
        ...     return float(np.sum((x.data - 1.0) ** 2))
        >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
        >>> loss = opt.step(closure); np.round(x.data, 6)
        array([1., 1.])
    """

    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group):
        check_nonnegative(group, "lr")
        if group["max_iter"] < 1:
            raise ValueError(f"Invalid max_iter value: {group['max_iter']}")
        if group["history_size"] < 1:
            raise ValueError(f"Invalid history_size value: {group['history_size']}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError("only 'strong_wolfe' is supported as line_search_fn, "
                             f"but got {group['line_search_fn']!r}")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- flat views of the parameters -----------------------------------------------------------
    def _flat_grad(self):
        self._compute_grads()              # (gradients that are Dask arrays, computed once)
        parts = [numpy.zeros_like(p.data).reshape(-1) if p.grad is None else numpy.ravel(p.grad)
                 for p in self._params]
        return numpy.concatenate(parts)

    def _add_to_params(self, t, d):
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += t * d[offset:offset + n].reshape(p.data.shape)
            offset += n

    def _evaluate_at(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_to_params(t, d)
        loss = backend.to_float(closure())
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.data[...] = saved
        return loss, flat_grad

    # -- the iteration ---------------------------------------------------------------------------
    def step(self, closure=None):
        """Run up to `max_iter` L-BFGS iterations; `closure()` must return the loss and fill
        the gradients. Returns the loss of the first closure call."""
        if closure is None:
            raise TypeError("LBFGS.step requires a closure that recomputes the loss and the "
                            "gradients")
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = backend.to_float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if backend.to_float(numpy.abs(flat_grad).max()) <= group["tolerance_grad"]:
            return orig_loss
        for key, empty in (("old_dirs", []), ("old_stps", []), ("ro", [])):
            state.setdefault(key, empty)
        n_iter = 0
        while n_iter < group["max_iter"]:
            n_iter += 1
            state["n_iter"] += 1
            self._new_direction(state, flat_grad, group["history_size"])
            state["prev_flat_grad"], state["prev_loss"] = flat_grad, loss
            if state["n_iter"] == 1:
                state["t"] = min(1.0, 1.0 / backend.to_float(numpy.abs(flat_grad).sum())) \
                    * group["lr"]
            else:
                state["t"] = group["lr"]
            gtd = backend.to_float(flat_grad.dot(state["d"]))
            if gtd > -group["tolerance_change"]:
                break
            loss, flat_grad, ls_evals = self._move(closure, state, loss, flat_grad, gtd,
                                                   last=n_iter == group["max_iter"])
            evals += ls_evals
            state["func_evals"] += ls_evals
            done = ls_evals > 0 and (backend.to_float(numpy.abs(flat_grad).max())
                                     <= group["tolerance_grad"])
            if n_iter == group["max_iter"] or evals >= group["max_eval"] or done:
                break
            if (backend.to_float(numpy.abs(state["d"]).max()) * abs(state["t"])
                    <= group["tolerance_change"]):
                break
            if abs(loss - state["prev_loss"]) < group["tolerance_change"]:
                break
        return orig_loss

    def _move(self, closure, state, loss, flat_grad, gtd, last):
        """Step along state["d"] by state["t"] (or by the line search's step, stored back);
        return the new loss, flat gradient and the number of closure calls made."""
        group = self.param_groups[0]
        d = state["d"]
        if group["line_search_fn"] == "strong_wolfe":
            x = [p.data.copy() for p in self._params]
            evaluate = functools.partial(self._evaluate_at, closure, x, d=d)
            loss, flat_grad, state["t"], evals = strong_wolfe(evaluate, state["t"], d, loss,
                                                              flat_grad, gtd)
            self._add_to_params(state["t"], d)
            return loss, flat_grad, evals
        self._add_to_params(state["t"], d)
        if last:                              # the next step() re-evaluates anyway
            return loss, flat_grad, 0
        return backend.to_float(closure()), self._flat_grad(), 1

    def _new_direction(self, state, flat_grad, history_size):
        """Set state["d"]: steepest descent on the first iteration, else the L-BFGS direction."""
        if state["n_iter"] == 1:
            state["d"] = numpy.negative(flat_grad)
            state["old_dirs"], state["old_stps"], state["ro"] = [], [], []
            state["H_diag"] = 1.0
            return
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        h_diag = lbfgs_remember(y, s, state["old_dirs"], state["old_stps"], state["ro"],
                                history_size)
        if h_diag is not None:
            state["H_diag"] = h_diag
        state["d"] = lbfgs_direction(flat_grad, state["old_dirs"], state["old_stps"],
                                     state["ro"], state["H_diag"])
