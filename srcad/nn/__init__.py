"""Neural-network building blocks in PyTorch's conventions, on srcad's generated gradients."""

from .parameter import Parameter

__all__ = ["Parameter"]
