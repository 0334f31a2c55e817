"""Neural-network building blocks in PyTorch's conventions, on srcad's generated gradients."""

from . import init
from .module import Module, ModuleList, Sequential
from .parameter import Parameter
from .train import accuracy, backward, fit

__all__ = ["Module", "ModuleList", "Sequential", "Parameter", "accuracy", "backward", "fit", "init"]
