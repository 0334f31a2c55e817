"""`Parameter`: an array a model learns, with the gradient that training writes next to it.

In: an array (NumPy, or CuPy after `to("cuda")`). Out: an object with `.data` (the array,
replaced or updated in place by optimizers) and `.grad` (None until a backward pass fills it
with an array of the same shape and dtype).
"""


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

    def zero_grad(self):
        """Forget the gradient (PyTorch's `set_to_none=True` behaviour)."""
        self.grad = None

    def __repr__(self):
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype})"
