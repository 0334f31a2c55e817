"""Neural-network building blocks in PyTorch's conventions, on srcad's generated gradients."""

from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "init"]
