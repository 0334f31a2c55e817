"""A host-leak double: an array type that behaves like a GPU array on a machine without one.

`LeakyArray` wraps a NumPy array and computes with NumPy, but like a CuPy array it refuses every
implicit copy to the host: `numpy.asarray(x)` (`__array__`), `float(x)`, `int(x)`, `x.item()`,
`x.tolist()`, and it refuses to be mixed with NumPy arrays in one operation (CuPy raises
TypeError there too). NumPy functions and ufuncs reach it through `__array_function__` and
`__array_ufunc__`, exactly as they reach CuPy; their results come back wrapped (0-d results
included, as CuPy returns 0-d arrays, never NumPy scalars).

`xp` is its library module, as `cupy` is CuPy's: NumPy's namespace with wrapped results, plus
`asnumpy` (the explicit device-to-host copy) and `random.default_rng`. `installed()` registers
both with `srcad.backend` under the device name "leaky", so `model.to("leaky")` and
`backend.array_module(x)` treat it as a device library:

    with installed():
        x = to_leaky(numpy.ones(3))
        srcad.grad(f)(x)        # fails on any implicit host transfer

A truth test (`if x > 0:`) stays allowed: CuPy allows it too, and data-dependent control flow in
a user's function needs it.
"""

import contextlib
import types

import numpy

from srcad import backend


class HostTransferError(AssertionError):
    """An implicit copy of a device array to the host."""


class LeakyArray(numpy.lib.mixins.NDArrayOperatorsMixin):
    """A NumPy array posing as a device array (see the module docstring)."""

    __slots__ = ("_a",)

    def __init__(self, array):
        assert isinstance(array, numpy.ndarray), type(array)
        self._a = array

    # ---- what a device array does not allow -------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise HostTransferError("implicit device-to-host copy: numpy.asarray of a device array")

    def _refuse(self, *args, **kwargs):
        raise HostTransferError("implicit device-to-host copy: a device array read as a "
                                "Python number or list")

    __float__ = __int__ = __complex__ = __index__ = item = tolist = tobytes = _refuse

    # ---- array protocol ----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(_foreign(x) for x in inputs + tuple(kwargs.get("out", ()))):
            return NotImplemented           # NEP 13: let the other type's override run
        outs = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if outs is not None:
            return outs[0] if len(outs) == 1 else outs
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if any(t is not LeakyArray and not issubclass(t, numpy.ndarray) for t in types):
            return NotImplemented
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # ---- attributes and methods forward to the wrapped array ----------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: LeakyArray(self._a.T))
    real = property(lambda self: LeakyArray(self._a.real))
    imag = property(lambda self: LeakyArray(self._a.imag))

    @property
    def base(self):
        return None if self._a.base is None else object()

    def __getattr__(self, name):
        if name.startswith("__") or name in ("get", "tofile", "dump", "dumps", "ctypes", "data"):
            raise AttributeError(name)      # __array_interface__ would let NumPy read memory
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))
        return method

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (LeakyArray(numpy.asarray(row)) for row in self._a)

    def __bool__(self):
        return bool(self._a)

    def __repr__(self):
        return f"LeakyArray({self._a!r})"

    __hash__ = None


def _foreign(value):
    """True for an object of another array-like type that overrides NumPy's ufuncs."""
    return (not isinstance(value, (LeakyArray, numpy.ndarray, numpy.generic))
            and hasattr(type(value), "__array_ufunc__"))


def _check_no_host_array(value):
    if isinstance(value, numpy.ndarray):
        raise TypeError("a NumPy array mixed with a device array in one operation "
                        f"(shape {value.shape}): create it with the device library instead")


def _unwrap(value):
    """The NumPy arrays inside `value` (nested tuples, lists, dicts); refuses NumPy arrays."""
    if isinstance(value, LeakyArray):
        return value._a
    _check_no_host_array(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    """`value` with every NumPy array or NumPy scalar in it as a LeakyArray."""
    if isinstance(value, numpy.ndarray):
        return LeakyArray(value)
    if isinstance(value, numpy.generic):
        return LeakyArray(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


# ---- the library module ----------------------------------------------------------------------
class _Generator:
    """`numpy.random.Generator` whose draws are LeakyArrays."""

    def __init__(self, seed):
        self._gen = numpy.random.default_rng(seed)

    def __getattr__(self, name):
        draw = getattr(self._gen, name)
        return lambda *args, **kwargs: _wrap(draw(*_unwrap(args), **_unwrap(kwargs)))


def _asarray(value, dtype=None):
    """Host data (or a LeakyArray) on the "device": the explicit host-to-device copy."""
    if isinstance(value, LeakyArray):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    return LeakyArray(numpy.array(value, dtype=dtype))


def _array(value, dtype=None, copy=True):
    if isinstance(value, LeakyArray):
        return LeakyArray(numpy.array(value._a, dtype=dtype, copy=copy))
    return LeakyArray(numpy.array(value, dtype=dtype))


def _asnumpy(value):
    """The explicit device-to-host copy."""
    return value._a.copy() if isinstance(value, LeakyArray) else numpy.asarray(value)


class _Module(types.ModuleType):
    """NumPy's namespace with wrapped results, as `cupy` mirrors NumPy's."""

    def __getattr__(self, name):
        attr = getattr(numpy, name)
        if isinstance(attr, numpy.ufunc) or not callable(attr) or isinstance(attr, type):
            return attr
        return lambda *args, **kwargs: _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))


xp = _Module("leaky_xp")
xp.ndarray = LeakyArray
xp.asarray = _asarray
xp.array = _array
xp.asnumpy = _asnumpy
xp.random = types.SimpleNamespace(default_rng=_Generator)


def to_leaky(value):
    """A NumPy array (or a nest of them) as LeakyArrays; other values as they are."""
    if isinstance(value, numpy.ndarray):
        return LeakyArray(value.copy())
    if isinstance(value, (tuple, list)):
        return type(value)(to_leaky(v) for v in value)
    if isinstance(value, dict):
        return {k: to_leaky(v) for k, v in value.items()}
    return value


def to_numpy(value):
    """The explicit copy back: LeakyArrays (nested too) as NumPy arrays."""
    if isinstance(value, LeakyArray):
        return value._a.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    return value


@contextlib.contextmanager
def installed():
    """LeakyArray registered with srcad.backend as the device library "leaky"."""
    backend.register(LeakyArray, xp, "leaky")
    try:
        yield xp
    finally:
        backend.unregister(LeakyArray, "leaky")
