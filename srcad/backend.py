"""The one place that knows about CuPy: which array library an array belongs to, and moving
arrays between the CPU (NumPy) and a GPU (CuPy).

In: arrays and device names ("cpu", "cuda", "cuda:0"). Out: arrays of the requested library,
or a clear error when CuPy is asked for but not installed.
"""

import numpy

try:  # optional dependency
    import cupy
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None


def array_module(x):
    """`numpy` or `cupy`, whichever `x` belongs to."""
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy
    return numpy


def to_device(x, device):
    """`x` on `device`: "cpu" gives a NumPy array, "cuda" (or "cuda:N") a CuPy array."""
    device = str(device)
    if device == "cpu":
        return cupy.asnumpy(x) if cupy is not None and isinstance(x, cupy.ndarray) else x
    if device.startswith("cuda"):
        if cupy is None:
            raise RuntimeError(f"to({device!r}) needs CuPy, which is not installed: "
                               "pip install 'srcad[gpu]' (CuPy for CUDA 12)")
        index = int(device.split(":")[1]) if ":" in device else 0
        with cupy.cuda.Device(index):
            return cupy.asarray(x)
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def asarray_like(value, like):
    """`value` as an array of the same library as `like` (a copy, in `like`'s dtype)."""
    xp = array_module(like)
    if xp is numpy and cupy is not None and isinstance(value, cupy.ndarray):
        value = cupy.asnumpy(value)
    return xp.array(value, dtype=like.dtype)
