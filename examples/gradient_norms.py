"""Watching the gradient norm of every parameter during training.

After `nn.backward` fills each Parameter's `.grad`, its norm is one line of NumPy away. This
example trains two deep networks on scikit-learn's digits, one with sigmoid activations and one
with ReLU (Kaiming initialization), records ||grad|| of each layer's weight at every step, and
prints the mean per layer for the first and last epoch. With sigmoids the first layers get
gradients orders of magnitude smaller than the last (vanishing gradients: each sigmoid scales
the backward signal by at most 1/4), and that network hardly learns; with ReLU the norms stay
within a small factor of each other and it trains. Saves the
curves to gradient_norms.png (log scale).

Run: pip install scikit-learn matplotlib && python examples/gradient_norms.py
"""

import argparse
import os

import numpy as np

import srcad
from srcad import nn, optim

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"
DEPTH, WIDTH = 6, 32

criterion = nn.CrossEntropyLoss()


def loss_fn(model, X, y):
    return criterion(model(X), y)


def deep_network(activation):
    layers, n_in = [], 64
    for _ in range(DEPTH - 1):
        linear = nn.Linear(n_in, WIDTH)
        if activation is nn.ReLU:
            nn.init.kaiming_uniform_(linear.weight, nonlinearity="relu")
        layers += [linear, activation()]
        n_in = WIDTH
    layers.append(nn.Linear(n_in, 10))
    return nn.Sequential(*layers)


def load():
    from sklearn.datasets import load_digits
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(y))
    n = 600 if QUICK else 1500
    return X[order][:n], y[order][:n]


def train(model, X, y, epochs, batch_size=50):
    """SGD steps; returns ({weight name: [norm per step]}, steps per epoch)."""
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    norms = {name: [] for name, _ in model.named_parameters() if name.endswith("weight")}
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            nn.backward(loss_fn, model, X[batch], y[batch])
            for name, parameter in model.named_parameters():
                if name in norms:
                    norms[name].append(float(np.linalg.norm(parameter.grad)))
            optimizer.step()
    return norms, -(-len(y) // batch_size)


def main():
    X, y = load()
    epochs = 2 if QUICK else 15
    results = {}
    for activation in (nn.Sigmoid, nn.ReLU):
        srcad.manual_seed(0)
        model = deep_network(activation)
        norms, per_epoch = train(model, X, y, epochs)
        results[activation.__name__] = norms
        model.eval()
        print(f"{activation.__name__}: {DEPTH} layers, training accuracy after {epochs} "
              f"epochs {nn.accuracy(model, X, y):.3f}")
        print(f"  {'weight':12} {'mean |grad|, first epoch':>26} {'last epoch':>12}")
        for name, values in norms.items():
            print(f"  {name:12} {np.mean(values[:per_epoch]):26.2e} "
                  f"{np.mean(values[-per_epoch:]):12.2e}")
        first, last = list(norms.values())[0], list(norms.values())[-1]
        print(f"  first layer / last layer, first epoch: "
              f"{np.mean(first[:per_epoch]) / np.mean(last[:per_epoch]):.1e}\n")
    plot(results, "gradient_norms.png")


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(11, 4), sharey=True)
    for ax, (name, norms) in zip(axes, results.items()):
        for layer, values in norms.items():
            ax.semilogy(values, label=layer)
        ax.set(xlabel="step", title=f"{name} network", ylabel="||grad|| of the weight")
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    print(f"curves saved to {path}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
