"""Neural-network building blocks in PyTorch's conventions, on srcad's generated gradients."""

from . import init
from .layers import (
    GELU,
    RNN,
    Bilinear,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    RNNCell,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleList, Sequential
from .parameter import Parameter
from .train import accuracy, backward, fit

__all__ = [
    "Module", "ModuleList", "Sequential", "Parameter",
    "Linear", "Bilinear", "Embedding", "Dropout", "LayerNorm", "RNNCell", "RNN",
    "Tanh", "ReLU", "LeakyReLU", "Sigmoid", "GELU", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "accuracy", "backward", "fit", "init",
]
