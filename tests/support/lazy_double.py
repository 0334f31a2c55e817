"""A materialization double for Dask: any computation of a Dask array fails while it is on.

Inside `refusing()`, Dask's scheduler is one that raises `Materialized`, so everything that
would compute a Dask array raises instead: `numpy.asarray(x)` (`__array__`), `float(x)`,
`bool(x)` (an `if` on data), `x.compute()`, a NumPy function that Dask does not implement (Dask
computes its arguments to call NumPy's), `numpy.add.at`. Warnings are errors meanwhile, so
Dask's "not implemented by Dask array" FutureWarning fails too. Building a task graph is
allowed: that is what generated code must do with Dask arrays.

    with srcad.lazy(), refusing():
        g = srcad.grad(f)(to_dask(x))    # a Dask array; any computation inside f fails
    computed(g)                          # the numbers, on the synchronous scheduler
"""

import contextlib
import warnings

import dask
import dask.array as da
import numpy


class Materialized(AssertionError):
    """A Dask array computed where only a task graph should have been built."""


def _refuse(dsk, keys, **kwargs):
    raise Materialized(f"a Dask array was computed inside generated code (keys {keys!r:.80})")


@contextlib.contextmanager
def refusing():
    """Every computation of a Dask array raises `Materialized`; warnings raise."""
    with dask.config.set(scheduler=_refuse), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def to_dask(value, parts=2):
    """NumPy arrays (nested in lists, tuples, dicts) as Dask arrays of `parts` chunks along
    their first axis (one chunk for 0-d arrays and single rows); other values as they are."""
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0 or value.shape[0] < 2:
            return da.from_array(value.copy(), chunks=-1)
        first = -(-value.shape[0] // parts)
        return da.from_array(value.copy(), chunks=(first,) + value.shape[1:])
    if isinstance(value, (tuple, list)):
        return type(value)(to_dask(v, parts) for v in value)
    if isinstance(value, dict):
        return {k: to_dask(v, parts) for k, v in value.items()}
    return value


def computed(value):
    """Every Dask array in `value` (nested) computed on the synchronous scheduler."""
    with dask.config.set(scheduler="synchronous"):
        return _computed(value)


def _computed(value):
    if isinstance(value, da.Array):
        return value.compute()
    if isinstance(value, (tuple, list)):
        return type(value)(_computed(v) for v in value)
    if isinstance(value, dict):
        return {k: _computed(v) for k, v in value.items()}
    return value
