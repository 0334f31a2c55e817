"""Multiclass logistic regression (softmax + cross-entropy) on scikit-learn's wine data set.

The model and its loss are ten lines of NumPy; srcad generates the gradient, which is printed,
compared with the textbook formula dL/dlogits = (softmax - onehot) / n, and used for full-batch
gradient descent. Prints the training loss as it falls and the train and test accuracy.

Run: pip install scikit-learn && python examples/logistic_regression.py
"""

import argparse
import os

import numpy as np

import srcad

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"


def cross_entropy(W, b, X, Y):
    """Mean cross-entropy of softmax(X W + b) against one-hot targets Y."""
    logits = X @ W + b
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


def load(seed=0):
    from sklearn.datasets import load_wine
    data = load_wine()
    X, y = data.data, data.target
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    n_train = 120
    mean, std = X[:n_train].mean(axis=0), X[:n_train].std(axis=0)
    X = (X - mean) / std                    # standardize with the training statistics
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def accuracy(W, b, X, y):
    return float(np.mean(np.argmax(X @ W + b, axis=1) == y))


def main():
    (X, y), (X_test, y_test) = load()
    n_classes = 3
    Y = np.eye(n_classes)[y]
    W, b = np.zeros((X.shape[1], n_classes)), np.zeros(n_classes)

    step = srcad.value_and_grad(cross_entropy, wrt=("W", "b"))
    print("The generated gradient of the loss:\n")
    print(srcad.source(step))

    rng = np.random.default_rng(1)
    W_probe, b_probe = rng.standard_normal(W.shape), rng.standard_normal(b.shape)
    _, (dW, db) = step(W_probe, b_probe, X, Y)
    logits = X @ W_probe + b_probe
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    textbook = (probs - Y) / len(y)
    print("matches the textbook gradient X^T (softmax - Y) / n:",
          np.allclose(dW, X.T @ textbook) and np.allclose(db, textbook.sum(axis=0)))

    learning_rate, steps = 0.5, 50 if QUICK else 200
    for i in range(steps + 1):
        loss, (dW, db) = step(W, b, X, Y)
        if i % (steps // 5) == 0:
            print(f"step {i:4d}: loss {loss:.4f}, train accuracy {accuracy(W, b, X, y):.3f}")
        W, b = W - learning_rate * dW, b - learning_rate * db
    test = accuracy(W, b, X_test, y_test)
    print(f"test accuracy after {steps} steps of gradient descent: {test:.3f}")
    assert test > 0.9


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
