"""A line search satisfying the strong Wolfe conditions, for L-BFGS (bracketing, then zoom).

In: `evaluate(t) -> (loss, flat_grad)` at x + t d, the trial step t, the direction d, and the
loss f, flat gradient g and slope gtd = g.d at t = 0. Out: `(loss, flat_grad, t, evaluations)`
at the accepted step. Trial steps come from the minimizer of the cubic that interpolates two
points' values and slopes (the scheme of Nocedal & Wright, Algorithms 3.5 and 3.6, as used by
minFunc and PyTorch), so the same inputs give the same steps as `torch.optim.LBFGS`.
"""

import math

import numpy

from .. import backend


def cubic_minimizer(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2), clipped to
    `bounds` (default: the interval between x1 and x2); the interval's middle if it has none.

        >>> cubic_minimizer(0.0, 1.0, -2.0, 2.0, 1.0, 2.0)   # the parabola (x - 1)**2
        1.0
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


class _Point:
    """A trial step with its loss, flat gradient and slope along d."""

    __slots__ = ("t", "f", "g", "gtd")

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Find t with f(t) <= f + c1 t gtd and |g(t).d| <= -c2 gtd; see the module docstring.

        >>> d = numpy.array([1.0])
        >>> ev = lambda t: ((t - 1.0) ** 2, numpy.array([2 * (t - 1.0)]))
        >>> loss, grad, t, n = strong_wolfe(ev, 3.0, d, 1.0, numpy.array([-2.0]), -2.0)
        >>> round(t, 6), n
        (1.0, 2)
    """
    d_norm = backend.to_float(numpy.abs(d).max())
    start = _Point(0.0, f, g, gtd)
    f_new, g_new = evaluate(t)
    new = _Point(t, f_new, g_new, backend.to_float(g_new.dot(d)))
    evals, ls_iter = 1, 0
    prev = start
    bracket = None
    while ls_iter < max_ls:
        if new.f > f + c1 * new.t * gtd or (ls_iter > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.gtd) <= -c2 * gtd:
            return new.f, new.g, new.t, evals
        if new.gtd >= 0:
            bracket = [prev, new]
            break
        lo, hi = new.t + 0.01 * (new.t - prev.t), new.t * 10
        t = cubic_minimizer(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd, bounds=(lo, hi))
        prev = new
        f_new, g_new = evaluate(t)
        new = _Point(t, f_new, g_new, backend.to_float(g_new.dot(d)))
        evals += 1
        ls_iter += 1
    if bracket is None:                     # no bracket within max_ls evaluations
        bracket = [_Point(0.0, f, g, gtd), new]
        best = 0 if bracket[0].f <= bracket[1].f else 1
        return bracket[best].f, bracket[best].g, bracket[best].t, evals
    return _zoom(evaluate, bracket, d, d_norm, f, gtd, c1, c2, tolerance_change, max_ls,
                 ls_iter, evals)


def _zoom(evaluate, bracket, d, d_norm, f, gtd, c1, c2, tolerance_change, max_ls, ls_iter,
          evals):
    """Shrink a bracket around an acceptable step; return the best point found."""
    low = 0 if bracket[0].f <= bracket[1].f else 1
    insufficient_progress = False
    while ls_iter < max_ls:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        t = cubic_minimizer(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        t, insufficient_progress = _keep_away_from_ends(t, a.t, b.t, insufficient_progress)
        f_new, g_new = evaluate(t)
        new = _Point(t, f_new, g_new, backend.to_float(g_new.dot(d)))
        evals += 1
        ls_iter += 1
        high = 1 - low
        if new.f > f + c1 * t * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low = 0 if bracket[0].f <= bracket[1].f else 1
            continue
        if abs(new.gtd) <= -c2 * gtd:
            bracket[low] = new
            break
        if new.gtd * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals


def _keep_away_from_ends(t, ta, tb, insufficient_progress):
    """Move a trial step that is within 10% of the bracket's ends (the second time, or when it
    is outside) to 10% inside; returns the step and the new insufficient-progress flag."""
    lo, hi = min(ta, tb), max(ta, tb)
    margin = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= margin:
        return t, False
    if not (insufficient_progress or t >= hi or t <= lo):
        return t, True
    t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
    return t, False
