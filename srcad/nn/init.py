"""Parameter initialization, as `torch.nn.init`: fill an array in place from a distribution.

In: a `Parameter` (its `.data` is filled) or a floating-point array (NumPy or CuPy), and the
distribution's settings. Out: the same object, filled in place. Random values come from
`srcad.seeding.generator()` (or the `generator` argument), so `srcad.manual_seed(0)` makes
initialization reproducible; values are drawn in float64 on the host and then cast, so the same
seed gives the same values (up to rounding) whatever the dtype or array library.

Fans follow PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel).
"""

import math
import warnings

import numpy

from .. import backend, seeding

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); selu: 3/4;
    leaky_relu: sqrt(2 / (1 + negative_slope**2)), negative_slope = param (default 0.01).

        >>> calculate_gain("tanh")
        1.6666666666666667
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _array_of(tensor):
    array = tensor.data if hasattr(tensor, "grad") else tensor
    if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        raise TypeError("init functions fill floating-point arrays or Parameters, but got "
                        f"{type(array).__name__} of dtype {getattr(array, 'dtype', None)}")
    return array


def _fill(array, values):
    """Copy host float64 `values` into `array` (any library, any float dtype)."""
    if backend.on_device(array):                    # e.g. CuPy: copy to the device first
        values = backend.array_module(array).asarray(values)
    array[...] = values


def _draw(tensor, kind, scale, shift, generator):
    """Fill with shift + scale * X, X ~ U[0, 1) ("uniform") or N(0, 1) ("normal")."""
    array = _array_of(tensor)
    gen = generator if generator is not None else seeding.generator()
    sample = gen.random if kind == "uniform" else gen.standard_normal
    direct = (isinstance(array, numpy.ndarray) and array.dtype == numpy.float64
              and array.flags.c_contiguous)
    values = array if direct else numpy.empty(array.shape)
    sample(out=values)
    values *= scale
    values += shift
    if not direct:
        _fill(array, values)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values from U(a, b).

        >>> import numpy as np
        >>> w = uniform_(np.empty(4), -1.0, 1.0)
        >>> bool(np.all((-1 <= w) & (w <= 1)))
        True
    """
    return _draw(tensor, "uniform", b - a, a, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values from N(mean, std**2).

        >>> import numpy as np
        >>> normal_(np.empty((2, 3)), std=0.1).shape
        (2, 3)
    """
    return _draw(tensor, "normal", std, mean, generator)


def constant_(tensor, val):
    """Fill with `val`.

        >>> import numpy as np
        >>> constant_(np.empty(2), 0.5)
        array([0.5, 0.5])
    """
    _array_of(tensor)[...] = val
    return tensor


def zeros_(tensor):
    """Fill with 0.

        >>> import numpy as np
        >>> zeros_(np.ones(2))
        array([0., 0.])
    """
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1.

        >>> import numpy as np
        >>> ones_(np.zeros(2))
        array([1., 1.])
    """
    return constant_(tensor, 1.0)


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel); at least 2 dimensions.

        >>> import numpy as np
        >>> calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5)))
        (75, 200)
    """
    shape = _array_of(tensor).shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (shape {tuple(shape)})")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

        >>> import numpy as np
        >>> xavier_uniform_(np.empty((3, 5))).shape
        (3, 5)
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)).

        >>> import numpy as np
        >>> xavier_normal_(np.empty((3, 5))).shape
        (3, 5)
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _is_empty(tensor):
    if 0 in _array_of(tensor).shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b), b = sqrt(3) * gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).

    `mode` picks fan_in (keeps the forward variance) or fan_out (the backward one).

        >>> import numpy as np
        >>> w = kaiming_uniform_(np.empty((4, 9)), a=math.sqrt(5))   # nn.Linear's default
        >>> bool(np.abs(w).max() <= 1 / 3 + 1e-12)
        True
    """
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std**2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).

        >>> import numpy as np
        >>> kaiming_normal_(np.empty((4, 9)), nonlinearity="relu").shape
        (4, 9)
    """
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
