"""The effect of weight initialization (zeros, uniform, Xavier, Kaiming) and of dropout.

A ReLU network of six Linear layers on scikit-learn's digits. For each initialization it
prints the standard deviation of each layer's activations at the start (zeros: everything
dead; uniform(-1, 1): they grow layer after layer; Xavier: they shrink, for ReLU; Kaiming:
they keep their scale) and the dev accuracy while training with SGD. Then a wider network with
and without Dropout(0.5), trained on only 200 examples: without dropout the training loss goes
to almost zero while the dev loss stays far above it; with dropout the network fits the
training set more slowly (its training loss is measured on the noisy, dropped-out network).
On this small problem dropout does not raise dev accuracy within the epochs given here; the
example prints the numbers rather than claim it. Saves both experiments' curves to
initialization.png.

Run: pip install scikit-learn matplotlib && python examples/initialization.py
"""

import argparse
import os

import numpy as np

import srcad
from srcad import nn, optim

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"


def network(widths, dropout=0.0):
    layers = []
    for n_in, n_out in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


INITIALIZERS = {
    "zeros": nn.init.zeros_,
    "uniform(-1, 1)": lambda w: nn.init.uniform_(w, -1.0, 1.0),
    "Xavier": nn.init.xavier_uniform_,
    "Kaiming": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
}

criterion = nn.CrossEntropyLoss()


def loss_fn(model, X, y):
    return criterion(model(X), y)


def initialize(model, init):
    for module in model.modules() if hasattr(model, "modules") else model:
        if isinstance(module, nn.Linear):
            init(module.weight)
            nn.init.zeros_(module.bias)


def activation_scales(model, X):
    """The standard deviation of the output of each ReLU, first to last."""
    scales, h = [], X
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            scales.append(float(np.std(h)))
    return scales


def load(seed=0):
    from sklearn.datasets import load_digits
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    return (X[:1200], y[:1200]), (X[1200:], y[1200:])


def train(model, data, dev, epochs, lr):
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = nn.fit(model, loss_fn, optimizer, data, dev=dev, epochs=epochs, batch_size=32,
                     progress=False, log=None)
    model.train()
    history["train_accuracy"] = nn.accuracy(model.eval(), *data)
    return history


def main():
    train_data, dev = load()
    widths = [64, 64, 64, 64, 64, 64, 10]
    epochs = 2 if QUICK else 10
    if QUICK:
        train_data = (train_data[0][:600], train_data[1][:600])
    curves = {}
    print(f"{'init':15} std of each ReLU layer's output at the start")
    for name, init in INITIALIZERS.items():
        srcad.manual_seed(0)
        model = network(widths)
        initialize(model, init)
        scales = activation_scales(model, train_data[0])
        print(f"{name:15} " + "  ".join(f"{s:8.2e}" for s in scales))
        curves[name] = train(model, train_data, dev, epochs, lr=0.02)["dev_accuracy"]
    print(f"\ndev accuracy after {epochs} epochs of SGD:")
    for name, accuracy in curves.items():
        print(f"  {name:15} {accuracy[-1]:.3f}")

    small = (train_data[0][:200], train_data[1][:200])
    dropout_epochs = 8 if QUICK else 40
    gaps = {}
    print(f"\n200 training examples, {dropout_epochs} epochs, Kaiming init, a wider network:")
    for p in (0.0, 0.5):
        srcad.manual_seed(0)
        model = network([64, 128, 128, 10], dropout=p)
        initialize(model, INITIALIZERS["Kaiming"])
        history = train(model, small, dev, dropout_epochs, lr=0.01)
        gaps[p] = history
        print(f"  dropout p={p}: train accuracy {history['train_accuracy']:.3f}, "
              f"dev accuracy {history['dev_accuracy'][-1]:.3f}; train loss "
              f"{history['train_loss'][-1]:.3f}, dev loss {history['dev_loss'][-1]:.3f} "
              f"(lowest {min(history['dev_loss']):.3f})")
    plot(curves, gaps, "initialization.png")


def plot(curves, gaps, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, accuracy in curves.items():
        left.plot(range(1, len(accuracy) + 1), accuracy, marker="o", label=name)
    left.set(xlabel="epoch", ylabel="dev accuracy", title="initialization (6-layer ReLU net)")
    left.legend()
    for p, history in gaps.items():
        right.plot(history["train_loss"], label=f"p={p} train loss")
        right.plot(history["dev_loss"], "--", label=f"p={p} dev loss")
    right.set(xlabel="epoch", ylabel="cross-entropy", title="dropout, 200 training examples")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"\ncurves saved to {path}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
