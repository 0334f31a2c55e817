"""The one place that knows about CuPy: which array library an array belongs to, moving arrays
between the host (NumPy) and a device (CuPy), and the few operations NumPy's dispatch does not
carry to a device library (scatter-add, explicit reads of a scalar).

In: arrays and device names ("cpu", "cuda", "cuda:0"). Out: arrays of the requested library,
or a clear error when CuPy is asked for but not installed.

Everything else in srcad calls NumPy's functions, which hand a CuPy array to CuPy through
`__array_ufunc__` / `__array_function__`; a library that creates an array from a shape asks
`array_module(x)` for the module of its input (`xp.zeros(...)`), never `numpy.zeros`. A device
library other than CuPy (the tests' host-leak double) joins with `register(array_type, module,
device)`: `module` offers `asarray`, `asnumpy` and NumPy's creation functions.
"""

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


def add_at(out: Array, index: Any, values: Array) -> None:
    """`out[index] += values` with repeated indices accumulating (`numpy.add.at`), in place."""
    if cupy is not None and type(out) is cupy.ndarray:  # pragma: no cover - needs a GPU
        import cupyx
        cupyx.scatter_add(out, index, values)
    else:
        numpy.add.at(out, index, values)



def fused_kernels(x: Array) -> bool:
    """True when `x` is a CuPy array, whose optimizer updates run as generated CUDA kernels."""
    return cupy is not None and type(x) is cupy.ndarray


def elementwise_kernel(in_params: str, out_params: str, operation: str, name: str) -> Any:
    """A `cupy.ElementwiseKernel` (None without CuPy: the kernel is then only shown)."""
    if cupy is None:
        return None
    return cupy.ElementwiseKernel(in_params, out_params, operation, name)  # pragma: no cover
