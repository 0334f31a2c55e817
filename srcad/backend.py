"""The one place that knows about CuPy and Dask: which array library an array belongs to, moving
arrays between the host (NumPy) and a device (CuPy), the few operations NumPy's dispatch does
not carry to a device library (scatter-add, explicit reads of a scalar), and lazy (Dask) arrays:
which values are lazy, computing them all in one pass, and whether results stay lazy (`lazy()`).

In: arrays and device names ("cpu", "cuda", "cuda:0"). Out: arrays of the requested library,
or a clear error when CuPy is asked for but not installed.

Everything else in srcad calls NumPy's functions, which hand a CuPy array to CuPy through
`__array_ufunc__` / `__array_function__`; a library that creates an array from a shape asks
`array_module(x)` for the module of its input (`xp.zeros(...)`), never `numpy.zeros`. A device
library other than CuPy (the tests' host-leak double) joins with `register(array_type, module,
device)`: `module` offers `asarray`, `asnumpy` and NumPy's creation functions.

Dask is never imported here: a Dask array can only exist once the user has imported
`dask.array`, so `is_lazy` looks the type up in `sys.modules`, and srcad imports (and runs on
NumPy and CuPy) without Dask installed. NumPy's functions reach Dask arrays through
`__array_function__` as they reach CuPy's; what must not happen inside generated code is a
computation (`numpy.asarray`, `float`, `bool` of a Dask array): `add_at` is lazy on Dask
arrays, and results are computed by `compute_all`, once, when a call returns.
"""

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy

try:  # optional dependency
    import cupy
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None

Array = Any         # a NumPy array, a device library's array, or a number
_MODULES: dict[type, Any] = {}   # array type -> its library's module
_DEVICES: dict[str, Any] = {}    # device name ("cuda") -> that library's module
if cupy is not None:  # pragma: no cover - depends on the machine
    _MODULES[cupy.ndarray] = cupy
    _DEVICES["cuda"] = cupy


def register(array_type: type, module: Any, device: str) -> None:
    """Make `array_type` a device array of the library `module`, reached by `to(device)`."""
    _MODULES[array_type] = module
    _DEVICES[device] = module


def unregister(array_type: type, device: str) -> None:
    """Undo `register`."""
    _MODULES.pop(array_type, None)
    _DEVICES.pop(device, None)


def array_module(x: Array) -> Any:
    """The module of `x`'s array library: `numpy` for NumPy arrays and scalars, `cupy` for
    CuPy arrays.

        >>> array_module(numpy.zeros(2)).__name__
        'numpy'
    """
    return _MODULES.get(type(x), numpy) if _MODULES else numpy


def on_device(x: Array) -> bool:
    """True when `x` is an array of a device library (its values are not in host memory)."""
    return type(x) in _MODULES


def to_device(x: Array, device: object) -> Array:
    """`x` on `device`: "cpu" gives a NumPy array, "cuda" (or "cuda:N") a CuPy array."""
    device = str(device)
    if device == "cpu":
        return to_host(x)
    name, _, index = device.partition(":")
    module = _DEVICES.get(name)
    if module is None:
        if name == "cuda":
            raise RuntimeError(f"to({device!r}) needs CuPy, which is not installed: "
                               "pip install 'srcad[gpu]' (CuPy for CUDA 12)")
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    if module is cupy:  # pragma: no cover - needs a GPU
        with cupy.cuda.Device(int(index or 0)):
            return cupy.asarray(x)
    return module.asarray(x)


def to_host(x: Array) -> Array:
    """`x` as a NumPy array: the explicit copy of a device array to the host (NumPy arrays and
    anything else pass through)."""
    module = _MODULES.get(type(x)) if _MODULES else None
    return x if module is None else module.asnumpy(x)


def to_float(x: Array) -> float:
    """`x` (a 0-d or one-element array, or a number) as a Python float: an explicit read of one
    value from the device, for decisions that Python must take (line searches, stopping)."""
    return float(to_host(x))


def asarray_like(value: Array, like: Array) -> Array:
    """`value` as an array of the same library as `like` (a copy, in `like`'s dtype)."""
    xp = array_module(like)
    if xp is numpy:
        value = to_host(value)
    return xp.array(value, dtype=like.dtype)


def add_at(out: Array, index: Any, values: Array) -> Array:
    """`out[index] += values` with repeated indices accumulating (`numpy.add.at`): in place,
    returning `out`; with a Dask array among them, a new Dask array (Dask has no `add.at`)."""
    if is_lazy(out) or is_lazy(index) or is_lazy(values):
        return _lazy_add_at(out, index, values)
    if cupy is not None and type(out) is cupy.ndarray:  # pragma: no cover - needs a GPU
        import cupyx
        cupyx.scatter_add(out, index, values)
    else:
        numpy.add.at(out, index, values)
    return out


def fused_kernels(x: Array) -> bool:
    """True when `x` is a CuPy array, whose optimizer updates run as generated CUDA kernels."""
    return cupy is not None and type(x) is cupy.ndarray


def elementwise_kernel(in_params: str, out_params: str, operation: str, name: str) -> Any:
    """A `cupy.ElementwiseKernel` (None without CuPy: the kernel is then only shown)."""
    if cupy is None:
        return None
    return cupy.ElementwiseKernel(in_params, out_params, operation, name)  # pragma: no cover


# ---- lazy (Dask) arrays ------------------------------------------------------------------------
_LAZY = threading.local()


def _dask_array_type() -> Any:
    """`dask.array.Array` when the user has imported Dask, else None (never imports it). The
    first time it is found, `numpy.size` is taught to Dask arrays (see `_teach_dask`)."""
    global _TAUGHT
    module = sys.modules.get("dask.array")
    array_type = getattr(module, "Array", None)
    if array_type is not None and not _TAUGHT:
        _TAUGHT = True
        _teach_dask()
    return array_type


_TAUGHT = False


def _teach_dask() -> None:
    """Register `numpy.size` for Dask arrays (rules read `numpy.size(y) / numpy.size(a)`): Dask
    does not implement it, and a NumPy function Dask does not implement computes its arguments
    (with a FutureWarning). The size comes from the shape, as NumPy's does; nothing is
    computed."""
    from dask.array.core import implements

    @implements(numpy.size)
    def size(a: Any, axis: Any = None) -> Any:
        return a.size if axis is None else a.shape[axis]


def is_lazy(x: Array) -> bool:
    """True when `x` is a Dask array (a task graph, whose values are computed on request)."""
    array_type = _dask_array_type()
    return array_type is not None and isinstance(x, array_type)


def any_lazy(values: Any) -> bool:
    """True when `values` (nested lists, tuples and dicts, models' parameters aside) holds a
    Dask array."""
    if isinstance(values, (list, tuple)):
        return any(any_lazy(v) for v in values)
    if isinstance(values, dict):
        return any(any_lazy(v) for v in values.values())
    return is_lazy(values)


@contextlib.contextmanager
def lazy() -> Iterator[None]:
    """Within `with srcad.lazy():`, derivatives of functions of Dask arrays return Dask arrays
    (task graphs, for `dask.compute` or `client.compute` later); outside it, the gradients
    of NumPy inputs come back computed, as NumPy arrays."""
    before = getattr(_LAZY, "on", False)
    _LAZY.on = True
    try:
        yield
    finally:
        _LAZY.on = before


def lazy_results() -> bool:
    """True inside `lazy()`."""
    return getattr(_LAZY, "on", False)


def compute_all(values: Any) -> Any:
    """`values` (nested lists, tuples and dicts) with every Dask array in it computed, all in
    one `dask.compute` (their shared graph runs once); values without one come back as they are.
    A 0-d result of a Python float's place stays a 0-d NumPy array, as NumPy returns."""
    leaves: list[Any] = []
    _collect(values, leaves)
    if not leaves:
        return values
    import dask
    computed = dict(zip(map(id, leaves), dask.compute(*leaves)))
    return _replace(values, computed)


def _collect(values: Any, leaves: list[Any]) -> None:
    if isinstance(values, (list, tuple)):
        for v in values:
            _collect(v, leaves)
    elif isinstance(values, dict):
        for v in values.values():
            _collect(v, leaves)
    elif is_lazy(values):
        leaves.append(values)


def _replace(values: Any, computed: dict[int, Any]) -> Any:
    if isinstance(values, (list, tuple)):
        items = [_replace(v, computed) for v in values]
        return items if isinstance(values, list) else tuple(items)
    if isinstance(values, dict):
        return type(values)((k, _replace(v, computed)) for k, v in values.items())
    return computed.get(id(values), values)


def rows_times(a: Array, b: Array) -> Array | None:
    """`a @ b` for a Dask matrix `a` whose columns lie in one chunk and an in-memory matrix
    `b`, as one task per chunk of rows (which Dask fuses with the element-wise steps after it;
    its own matmul adds reshapes and a sum per chunk); None for other operands."""
    if not is_lazy(a) or is_lazy(b) or a.ndim != 2 or numpy.ndim(b) != 2 \
            or a.numblocks[1] != 1:
        return None
    dtype = numpy.result_type(a.dtype, b.dtype)
    return a.map_blocks(numpy.matmul, b, chunks=(a.chunks[0], (b.shape[1],)), dtype=dtype)


def _lazy_add_at(out: Array, index: Any, values: Array) -> Array:
    """`numpy.add.at(out, index, values)` as a Dask graph, for an integer index array into the
    first axis (what gathers `W[rows]` make): each chunk of `values` is scattered into zeros
    like `out` where the chunk is (one partial sum per chunk), then the partial sums are
    added to `out`."""
    import dask
    import dask.array as da
    rows = index if is_lazy(index) else da.from_array(numpy.asarray(index), chunks=-1)
    if not is_lazy(values):
        values = da.from_array(numpy.asarray(values), chunks=-1)
    if rows.ndim != 1 or values.shape[:1] != rows.shape:
        raise TypeError("srcad scatters into a Dask array only along its first axis with one "
                        "integer index array (W[rows]); compute the index first for others")
    values = values.rechunk(values.chunks[:1] + tuple((n,) for n in values.shape[1:]))
    rows = rows.rechunk(values.chunks[:1])
    shape, dtype = tuple(out.shape), numpy.result_type(out.dtype, values.dtype)

    def scatter(v: Any, r: Any) -> Any:
        part = numpy.zeros(shape, dtype=dtype)
        numpy.add.at(part, r, v)
        return part

    parts = [da.from_delayed(dask.delayed(scatter)(v, r), shape, dtype=dtype)
             for v, r in zip(values.to_delayed().ravel(), rows.to_delayed().ravel())]
    return out + da.stack(parts).sum(axis=0)


# ---- derivatives of sums over rows, chunk by chunk ------------------------------------------
_CHUNK_DERIVATIVES: dict[Any, Any] = {}   # (factory, function's code, wrt) -> derivative


class ChunkSum:
    """`factory(func, wrt=wrt)` (`srcad.grad`, `srcad.hessian`, `srcad.value_and_grad`...)
    of a function that is a sum over the rows of its Dask arguments, called chunk by chunk: one
    task per chunk runs the NumPy derivative on that chunk's rows (the NumPy arguments whole),
    and the per-chunk results are added. The same numbers as `factory(func)(*args)` on the
    whole arrays, in as many tasks as chunks; for a function that is not such a sum, wrong
    numbers, so it is a separate, explicit call (see `srcad.over_chunks`). Picklable: the
    workers generate the derivative themselves (they need the function's source file)."""

    def __init__(self, factory: Any, func: Any, wrt: Any = 0) -> None:
        self.factory, self.func, self.wrt = factory, func, wrt

    def __call__(self, *args: Any) -> Any:
        import dask
        lazy = [a for a in args if is_lazy(a)]
        if not lazy:
            return self.derivative()(*args)
        chunks = lazy[0].chunks[0]
        if any(len(a.shape) == 0 or a.shape[0] != lazy[0].shape[0] for a in lazy):
            raise ValueError("over_chunks needs Dask arguments that share their first "
                             "(row) axis")
        blocks = [a.rechunk({0: chunks, **{i: -1 for i in range(1, a.ndim)}})
                  .to_delayed().ravel() if is_lazy(a) else None for a in args]
        parts = [dask.delayed(self.on_chunk)(*[b[k] if b is not None else a
                                               for a, b in zip(args, blocks)])
                 for k in range(len(chunks))]
        total = dask.delayed(_add_all)(parts)
        return total if lazy_results() else dask.compute(total)[0]

    def on_chunk(self, *args: Any) -> Any:
        """The derivative of the rows of one chunk (NumPy arrays), on a worker."""
        return self.derivative()(*args)

    def __getstate__(self) -> dict[str, Any]:
        """A function of the script being run (`__main__`) travels as its file and name: the
        worker loads it from the file (its own `__main__` is another program); so does one
        loaded that way (the scheduler may unpickle and pickle again)."""
        state = dict(self.__dict__)
        func = self.func
        module = getattr(func, "__module__", None) or ""
        if module == "__main__" or module.startswith("srcad_script_"):
            state["func"] = (func.__code__.co_filename, func.__qualname__)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(self.func, tuple):
            self.func = _from_script(*self.func)

    def derivative(self) -> Any:
        code = self.func.__code__
        key = (self.factory, code.co_filename, code.co_firstlineno, code.co_code, self.wrt)
        found = _CHUNK_DERIVATIVES.get(key)
        if found is None:
            found = _CHUNK_DERIVATIVES[key] = self.factory(self.func, wrt=self.wrt)
        return found


def over_chunks(factory: Any, func: Any, wrt: Any = 0) -> ChunkSum:
    """`factory(func, wrt=wrt)` for a function that is a sum over the rows of its Dask
    arguments (a GLM's loss, a summed, not averaged, training loss), computed chunk by chunk:
    `srcad.over_chunks(srcad.hessian, loss)(b, X, y)` runs the NumPy Hessian on each chunk's
    rows in one task and adds the results (see `ChunkSum`). A mean over rows is not such a sum:
    use `factory(func)` on the whole Dask arrays for it."""
    return ChunkSum(factory, func, wrt)


_SCRIPTS: dict[str, Any] = {}     # a script's path -> it, loaded as a module (not run)


def _from_script(path: str, qualname: str) -> Any:
    """The function `qualname` of the script at `path`, loaded as a module whose name is not
    "__main__" (so its `if __name__ == "__main__":` part does not run)."""
    import importlib.util
    module = _SCRIPTS.get(path)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"srcad_script_{len(_SCRIPTS)}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} on this worker")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SCRIPTS[path] = module
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _add_all(parts: list[Any]) -> Any:
    """The sum of per-chunk results (arrays, numbers, or tuples of them)."""
    total = parts[0]
    for part in parts[1:]:
        total = tuple(a + b for a, b in zip(total, part)) if isinstance(total, tuple) \
            else total + part
    return total
