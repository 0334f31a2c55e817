"""srcad: automatic differentiation by source transformation, with readable generated code.

    >>> import numpy as np, srcad
    >>> def f(x):
    ...     return np.sum(np.tanh(x * x))
    >>> df = srcad.grad(f)          # a Python function you can read: print(srcad.source(df))
"""

from . import data, nn, optim, seeding
from .api import (
                  grad,
                  jvp,
                  nondifferentiable,
                  register_adjoint,
                  register_tangent,
                  source,
                  stop_gradient,
                  value_and_grad,
                  vjp,
)
from .backend import lazy, over_chunks
from .drawing import graph
from .errors import (
                  MissingRuleError,
                  NonScalarOutputError,
    RuleFailedError,
                  ShapeMismatchError,
                  SourceUnavailableError,
                  SrcadError,
                  TemplateError,
                  UnsupportedSyntaxError,
                  WrtError,
)
from .explaining import explain
from .higher_order import hessian, hvp, jacobian
from .libraries import transform_library
from .seeding import manual_seed
from .template import d

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "hvp", "jacobian", "hessian", "source",
           "explain", "graph", "lazy", "over_chunks",
           "register_adjoint", "manual_seed", "nn", "optim", "data", "seeding",
           "register_tangent", "transform_library", "nondifferentiable", "stop_gradient", "d",
           "SrcadError",
           "UnsupportedSyntaxError", "SourceUnavailableError", "MissingRuleError",
           "NonScalarOutputError", "RuleFailedError", "ShapeMismatchError", "WrtError",
           "TemplateError", "__version__"]
