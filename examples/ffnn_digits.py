"""The feed-forward classifier softmax(W g(V f(x))) on scikit-learn's handwritten digits.

Trains the same network with Adam and with SGD (momentum), logs each epoch's training loss,
dev loss and dev accuracy, reports test accuracy, prints the generated backward of the model,
and saves the training curves to ffnn_digits.png (needs scikit-learn; matplotlib for the plot).

Run: pip install scikit-learn matplotlib && python examples/ffnn_digits.py
"""

import argparse
import os
import sys

import numpy as np

import srcad
from srcad import nn, optim

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"      # a few epochs, for the smoke test


class FFNN(nn.Module):
    """softmax(W g(V x)): the softmax lives in the loss (cross-entropy on the logits)."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.V = nn.Linear(n_in, n_hidden)
        self.g = nn.Tanh()
        self.W = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.W(self.g(self.V(x)))


criterion = nn.CrossEntropyLoss()


def loss_fn(model, X, y):
    return criterion(model(X), y)


def load(seed=0):
    from sklearn.datasets import load_digits
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    return (X[:1200], y[:1200]), (X[1200:1500], y[1200:1500]), (X[1500:], y[1500:])


def train(make_optimizer, data, epochs, seed=0):
    srcad.manual_seed(seed)
    model = FFNN(64, 64, 10)
    optimizer = make_optimizer(model.parameters())
    history = nn.fit(model, loss_fn, optimizer, data[0], dev=data[1], epochs=epochs,
                     batch_size=32, progress=sys.stdout.isatty())
    model.eval()
    return model, history, nn.accuracy(model, *data[2])


def plot(histories, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, history in histories.items():
        left.plot(history["train_loss"], label=f"{name} train")
        left.plot(history["dev_loss"], "--", label=f"{name} dev")
        right.plot(history["dev_accuracy"], label=name)
    left.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    right.set(xlabel="epoch", ylabel="accuracy", title="dev accuracy")
    left.legend()
    right.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"training curves saved to {path}")


def main(epochs=5 if QUICK else 30):
    data = load()
    histories, models = {}, {}
    for name, make in (("Adam", lambda p: optim.Adam(p, lr=3e-3)),
                       ("SGD", lambda p: optim.SGD(p, lr=0.1, momentum=0.9))):
        print(f"--- {name}")
        models[name], histories[name], test = train(make, data, epochs)
        print(f"{name}: test accuracy {test:.3f}")
    print("\nThe generated backward of the model (srcad.source):\n")
    print(srcad.source(srcad.grad(loss_fn, wrt="model"), models["Adam"], *data[2]))
    plot(histories, "ffnn_digits.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5 if QUICK else 30)
    main(parser.parse_args().epochs)
