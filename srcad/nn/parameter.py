"""`Parameter`: an array a model learns, with the gradient that training writes next to it.

In: an array (NumPy, or CuPy after `to("cuda")`). Out: an object with `.data` (the array,
replaced or updated in place by optimizers) and `.grad` (None until a backward pass fills it
with an array of the same shape and dtype).
"""

from .. import models


class Parameter:
    """A learnable array: `.data` holds the values, `.grad` the gradient (or None).

        >>> import numpy as np
        >>> w = Parameter(np.zeros(3))
        >>> w.shape, w.grad is None
        ((3,), True)
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    # ---- a Parameter reads like its array in plain (untransformed) code: model(x) works ----
    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(i.data if isinstance(i, Parameter) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*_unwrap(args), **_unwrap(kwargs))

    def __getattr__(self, name):            # .T, .reshape, .sum, ... of the array
        if name in Parameter.__slots__:
            raise AttributeError(name)
        return getattr(self.data, name)

    def __getitem__(self, index):
        return self.data[index]

    def __len__(self):
        return len(self.data)

    def zero_grad(self):
        """Forget the gradient (PyTorch's `set_to_none=True` behaviour)."""
        self.grad = None

    def __repr__(self):
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype})"


def _unwrap(value):
    if isinstance(value, Parameter):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _binary(name):
    def method(self, other):
        other = other.data if isinstance(other, Parameter) else other
        return getattr(self.data, name)(other)
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__matmul__", "__rmatmul__", "__pow__",
              "__rpow__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(Parameter, _name, _binary(_name))
Parameter.__neg__ = lambda self: -self.data
Parameter.__pos__ = lambda self: +self.data
models.register_parameter(Parameter)
