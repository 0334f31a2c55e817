"""Layers in PyTorch's conventions: same names, parameter names, shapes and default init.

In: the sizes and options of a layer (as `torch.nn`). Out: a `Module` whose parameters are
`Parameter`s named as in PyTorch (`Linear.weight` is (out_features, in_features)), initialized
from `srcad.seeding.generator()` with PyTorch's default distributions, and whose `forward` is
plain NumPy code that srcad transforms to get gradients. Every layer follows
`__init__ -> reset_parameters -> forward -> extra_repr`.

Differences from PyTorch: `GELU` has only the tanh approximation (srcad has no rule for erf);
`RNN` is one layer, unidirectional; `Embedding` has no `padding_idx`/`max_norm`.
"""

import math

import numpy as np

from .. import seeding
from . import init
from .module import Module
from .parameter import Parameter


def _empty(*shape):
    return np.empty(shape)


# ---- affine maps -----------------------------------------------------------------------------

class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), bias (out_features,).

    Init (PyTorch's): weight and bias from U(-k, k), k = 1 / sqrt(in_features).

        >>> import numpy as np
        >>> Linear(3, 2)(np.ones((5, 3))).shape
        (5, 2)
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_empty(out_features, in_features))
        self.bias = Parameter(_empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))     # = U(-1/sqrt(in), 1/sqrt(in))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if self.bias is None:
            return x @ self.weight.T
        return x @ self.weight.T + self.bias

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y[..., o] = sum_ij x1[..., i] weight[o, i, j] x2[..., j] + bias[o].

    weight (out_features, in1_features, in2_features); init U(-k, k), k = 1 / sqrt(in1_features),
    for weight and bias.

        >>> import numpy as np
        >>> Bilinear(3, 4, 2)(np.ones((5, 3)), np.ones((5, 4))).shape
        (5, 2)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_empty(out_features, in1_features, in2_features))
        self.bias = Parameter(_empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        # srcad's einsum rule takes no '...': flatten the leading dimensions, then restore them
        flat1 = np.reshape(x1, (-1, self.in1_features))
        flat2 = np.reshape(x2, (-1, self.in2_features))
        flat = np.einsum("bi,oij,bj->bo", flat1, self.weight, flat2)
        y = np.reshape(flat, np.shape(x1)[:-1] + (self.out_features,))
        if self.bias is None:
            return y
        return y + self.bias

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: `forward(indices)` is `weight[indices]`, weight (num, dim) from N(0, 1).

    The gradient of `weight` is non-zero only on the rows used (repeated rows accumulate).

        >>> import numpy as np
        >>> Embedding(10, 3)(np.array([[1, 2], [3, 1]])).shape
        (2, 2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = Parameter(_empty(num_embeddings, embedding_dim))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return self.weight[indices]

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


# ---- regularization --------------------------------------------------------------------------

class Dropout(Module):
    """In training, zero each entry with probability p and scale the rest by 1 / (1 - p);
    in evaluation (`model.eval()`), the identity.

    The mask is drawn in the forward from `srcad.seeding.generator_like(x)` (the generator of
    `x`'s array library, seeded by `srcad.manual_seed`); the generated gradient
    reuses that mask (it is drawn once, in the primal part).

        >>> import numpy as np
        >>> Dropout(0.5).eval()(np.ones(3))
        array([1., 1., 1.])
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0

    def forward(self, x):
        if self.training:
            keep = seeding.generator_like(x).random(np.shape(x)) >= self.p
            return x * keep * self.scale
        return x

    def extra_repr(self):
        return f"p={self.p}"


# ---- activations -----------------------------------------------------------------------------

class Tanh(Module):
    """Elementwise tanh.

        >>> import numpy as np
        >>> Tanh()(np.zeros(2))
        array([0., 0.])
    """

    def forward(self, x):
        return np.tanh(x)


class ReLU(Module):
    """Elementwise max(x, 0); the derivative at 0 is 0, as in PyTorch.

        >>> import numpy as np
        >>> ReLU()(np.array([-1.0, 2.0]))
        array([0., 2.])
    """

    def forward(self, x):
        return np.where(x > 0, x, 0.0)


class LeakyReLU(Module):
    """Elementwise x if x > 0 else negative_slope * x.

        >>> import numpy as np
        >>> LeakyReLU(0.1)(np.array([-1.0, 2.0]))
        array([-0.1,  2. ])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """Elementwise 1 / (1 + exp(-x)), computed as (tanh(x / 2) + 1) / 2 (no overflow).

        >>> import numpy as np
        >>> Sigmoid()(np.zeros(1))
        array([0.5])
    """

    def forward(self, x):
        return 0.5 * (np.tanh(0.5 * x) + 1.0)


class GELU(Module):
    """x * Phi(x) with PyTorch's tanh approximation (`approximate="tanh"`):
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3))).

    Only the tanh form exists: srcad has no derivative rule for erf, which the exact form
    (PyTorch's default, `approximate="none"`) needs; asking for it raises ValueError.

        >>> import numpy as np
        >>> GELU()(np.zeros(1))
        array([0.])
    """

    def __init__(self, approximate="tanh"):
        super().__init__()
        if approximate != "tanh":
            raise ValueError(f"GELU supports only approximate='tanh' (srcad has no rule for "
                             f"erf), but got approximate={approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)    # sqrt(2 / pi) = 0.797...
        return 0.5 * x * (1.0 + np.tanh(inner))

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`, with the maximum subtracted first (no overflow).

        >>> import numpy as np
        >>> Softmax(dim=1)(np.zeros((1, 4)))
        array([[0.25, 0.25, 0.25, 0.25]])
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        shifted = x - np.max(x, axis=self.dim, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=self.dim, keepdims=True)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """x - log(sum(exp(x))) along `dim`, with the maximum subtracted first (no overflow).

        >>> import numpy as np
        >>> bool(np.allclose(np.exp(LogSoftmax(dim=0)(np.zeros(4))), 0.25))
        True
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        shifted = x - np.max(x, axis=self.dim, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=self.dim, keepdims=True))

    def extra_repr(self):
        return f"dim={self.dim}"


# ---- normalization ---------------------------------------------------------------------------

class LayerNorm(Module):
    """Normalize over the last len(normalized_shape) dimensions (biased variance), then
    scale by `weight` (init 1) and shift by `bias` (init 0) when `elementwise_affine`.

        >>> import numpy as np
        >>> y = LayerNorm(4)(np.arange(8.0).reshape(2, 4))
        >>> bool(np.allclose(y.mean(axis=-1), 0.0))
        True
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.axes = tuple(range(-len(self.normalized_shape), 0))
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_empty(*self.normalized_shape))
            self.bias = Parameter(_empty(*self.normalized_shape)) if bias else None
        else:
            self.weight = None
            self.bias = None
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        mean = np.mean(x, axis=self.axes, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=self.axes, keepdims=True)
        y = centered / np.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


# ---- recurrent -------------------------------------------------------------------------------

def _check_nonlinearity(nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    return nonlinearity


def _uniform_by_hidden_size(module):
    """PyTorch's recurrent init: every parameter from U(-k, k), k = 1 / sqrt(hidden_size)."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


class RNNCell(Module):
    """One step of an Elman RNN: h' = act(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh),
    act tanh or relu. weight_ih (hidden, input), weight_hh (hidden, hidden); all parameters
    from U(-k, k), k = 1 / sqrt(hidden_size). `hx` defaults to zeros.

        >>> import numpy as np
        >>> RNNCell(3, 5)(np.ones((2, 3))).shape
        (2, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = _check_nonlinearity(nonlinearity)
        self.weight_ih = Parameter(_empty(hidden_size, input_size))
        self.weight_hh = Parameter(_empty(hidden_size, hidden_size))
        self.bias_ih = Parameter(_empty(hidden_size)) if bias else None
        self.bias_hh = Parameter(_empty(hidden_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_by_hidden_size(self)

    def forward(self, input, hx=None):
        if hx is None:
            hx = np.zeros_like(input, shape=np.shape(input)[:-1] + (self.hidden_size,))
        z = input @ self.weight_ih.T + hx @ self.weight_hh.T
        if self.bias_ih is not None:
            z = z + self.bias_ih + self.bias_hh
        if self.nonlinearity == "tanh":
            return np.tanh(z)
        return np.where(z > 0, z, 0.0)

    def extra_repr(self):
        extra = f"{self.input_size}, {self.hidden_size}"
        if self.bias_ih is None:
            extra += ", bias=False"
        if self.nonlinearity != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        return extra


class RNN(Module):
    """A one-layer Elman RNN over a sequence of any length (a loop over the time steps).

    `forward(input, hx=None)`: input (T, N, input_size), or (N, T, input_size) with
    `batch_first`, or unbatched (T, input_size); hx (1, N, hidden_size) (or (1, hidden_size)),
    zeros by default. Returns `(output, h_n)` like PyTorch: output holds every step's hidden
    state (T, N, hidden_size) and h_n the last one, (1, N, hidden_size). Parameters
    `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, init U(-k, k),
    k = 1 / sqrt(hidden_size).

        >>> import numpy as np
        >>> output, h_n = RNN(3, 5)(np.ones((7, 2, 3)))
        >>> output.shape, h_n.shape
        ((7, 2, 5), (1, 2, 5))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False):
        super().__init__()
        if num_layers != 1:
            raise ValueError(f"RNN supports num_layers=1 only, but got num_layers={num_layers}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = _check_nonlinearity(nonlinearity)
        self.batch_first = batch_first
        self.weight_ih_l0 = Parameter(_empty(hidden_size, input_size))
        self.weight_hh_l0 = Parameter(_empty(hidden_size, hidden_size))
        self.bias_ih_l0 = Parameter(_empty(hidden_size)) if bias else None
        self.bias_hh_l0 = Parameter(_empty(hidden_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_by_hidden_size(self)

    def forward(self, input, hx=None):
        x = input
        if self.batch_first and np.ndim(input) == 3:
            x = np.swapaxes(input, 0, 1)
        if hx is None:
            h = np.zeros_like(x, shape=np.shape(x)[1:-1] + (self.hidden_size,))
        else:
            h = hx[0]
        output = np.zeros_like(x, shape=np.shape(x)[:-1] + (self.hidden_size,))
        for t in range(np.shape(x)[0]):
            z = x[t] @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T
            if self.bias_ih_l0 is not None:
                z = z + self.bias_ih_l0 + self.bias_hh_l0
            if self.nonlinearity == "tanh":
                h = np.tanh(z)
            else:
                h = np.where(z > 0, z, 0.0)
            output[t] = h
        if self.batch_first and np.ndim(input) == 3:
            output = np.swapaxes(output, 0, 1)
        return output, np.expand_dims(h, 0)

    def extra_repr(self):
        extra = f"{self.input_size}, {self.hidden_size}"
        if self.nonlinearity != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        if self.bias_ih_l0 is None:
            extra += ", bias=False"
        if self.batch_first:
            extra += ", batch_first=True"
        return extra
