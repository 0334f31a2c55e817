"""Optimizers with PyTorch's names, defaults and update equations (being written)."""
