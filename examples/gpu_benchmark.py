"""srcad on a GPU (CuPy arrays) next to PyTorch on the same GPU: the time of one training step
(gradient of the loss by srcad's generated code, then Adam) for

- an MLP 784-1024-1024-10 (ReLU) at batch 4096, cross-entropy loss;
- an RNN (nn.RNN, 128 inputs, 256 hidden, tanh) over 32 steps at batch 512, a linear head on
  the last state, cross-entropy loss;

and one Adam step alone (srcad's fused kernel against the same update as plain CuPy
expressions, examples/optim_bench.py). float32 everywhere, times are medians after warm-up,
with the device synchronized around each step.

    pip install ".[gpu]" && python examples/gpu_benchmark.py        # needs an NVIDIA GPU
    python examples/gpu_benchmark.py --device cpu --quick            # smaller, on NumPy

PyTorch is timed when it is installed with CUDA (or on the CPU with --device cpu).
"""

import argparse
import time

import numpy as np

import srcad
from srcad import backend, nn, optim

# ---- the models, in srcad and in PyTorch -----------------------------------------------------


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                                    nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                                    nn.Linear(sizes[2], sizes[3]))

    def forward(self, x):
        return self.layers(x)


class SequenceClassifier(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        out, h = self.rnn(x)
        return self.head(h[0])


CRITERION = nn.CrossEntropyLoss()


def loss_fn(model, x, y):
    return CRITERION(model(x), y)


def torch_models(torch, sizes, rnn_sizes):
    mlp = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
                              torch.nn.Linear(sizes[1], sizes[2]), torch.nn.ReLU(),
                              torch.nn.Linear(sizes[2], sizes[3]))

    class TorchSequenceClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.RNN(rnn_sizes[0], rnn_sizes[1], batch_first=True)
            self.head = torch.nn.Linear(rnn_sizes[1], rnn_sizes[2])

        def forward(self, x):
            out, h = self.rnn(x)
            return self.head(h[0])

    return mlp, TorchSequenceClassifier()


# ---- timing ----------------------------------------------------------------------------------


def median_ms(step, sync, repeat, warmup=3):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def srcad_step_ms(model, x, y, device, repeat):
    model.to(device)
    model.train()
    x, y = backend.to_device(x, device), backend.to_device(y, device)
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        nn.backward(loss_fn, model, x, y)
        opt.step()
    grad_only = srcad.value_and_grad(loss_fn, wrt="model")
    train = median_ms(step, _sync(device), repeat)
    gradient = median_ms(lambda: grad_only(model, x, y), _sync(device), repeat)
    return train, gradient


def torch_step_ms(torch, model, x, y, device, repeat):
    dev = torch.device(device)
    model = model.to(dev)
    x = torch.from_numpy(x).to(dev)
    y = torch.from_numpy(y).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss(model(x), y).backward()
        opt.step()

    def gradient():
        model.zero_grad()
        loss(model(x), y).backward()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return median_ms(step, sync, repeat), median_ms(gradient, sync, repeat)


def _gpu_available():
    """True when CuPy imports and sees at least one device."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:                           # not installed, no driver, no device
        return False


def _sync(device):
    if device == "cpu":
        return lambda: None
    import cupy
    return cupy.cuda.Device().synchronize


def _torch(device):
    try:
        import torch
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    return torch


# ---- main ------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (CuPy) or cpu (NumPy)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.device == "cuda" and not _gpu_available():
        print("gpu_benchmark.py needs CuPy and an NVIDIA GPU (pip install \".[gpu]\"), and "
              "finds none here: nothing to time. On a CPU, run it with --device cpu.")
        return
    if args.quick:
        sizes, batch, rnn_sizes, steps, rnn_batch = (784, 64, 64, 10), 128, (16, 32, 10), 8, 32
    else:
        sizes, batch, rnn_sizes, steps, rnn_batch = (784, 1024, 1024, 10), 4096, \
            (128, 256, 10), 32, 512
    rng = np.random.default_rng(0)
    srcad.manual_seed(0)
    cases = [
        (f"MLP {'-'.join(map(str, sizes))} batch {batch}", MLP(sizes),
         rng.standard_normal((batch, sizes[0])).astype(np.float32),
         rng.integers(0, sizes[-1], batch)),
        (f"RNN {rnn_sizes[0]}-{rnn_sizes[1]} x {steps} steps batch {rnn_batch}",
         SequenceClassifier(*rnn_sizes),
         rng.standard_normal((rnn_batch, steps, rnn_sizes[0])).astype(np.float32),
         rng.integers(0, rnn_sizes[-1], rnn_batch)),
    ]
    torch = _torch(args.device)
    torch_mlp, torch_rnn = torch_models(torch, sizes, rnn_sizes) if torch else (None, None)
    print(f"one training step (Adam), float32, on {args.device}, median of {args.repeat}")
    print(f"{'case':<40}{'srcad step':>12}{'grad only':>11}{'torch step':>12}{'grad only':>11}")
    for (label, model, x, y), torch_model in zip(cases, (torch_mlp, torch_rnn)):
        for _, param in model.named_parameters():
            param.data = param.data.astype(np.float32)
        ours, ours_grad = srcad_step_ms(model, x, y, args.device, args.repeat)
        line = f"{label:<40}{ours:>10.2f}ms{ours_grad:>9.2f}ms"
        if torch_model is not None:
            theirs, theirs_grad = torch_step_ms(torch, torch_model, x, y, args.device,
                                                args.repeat)
            line += f"{theirs:>10.2f}ms{theirs_grad:>9.2f}ms"
        else:
            line += f"{'(no torch)':>23}"
        print(line)
    from optim_bench import table
    size = 100_000 if args.quick else 10_000_000
    print(f"\none optimizer step on {size:,} float32 parameters ({args.device})")
    print(f"{'optimizer':<18}{'srcad step us':>14}{'plain exprs us':>16}{'plain/srcad':>13}")
    for name, generated, plain in table(size, "float32", args.device, args.repeat):
        print(f"{name:<18}{generated:>14.1f}{plain:>16.1f}{plain / generated:>13.2f}")


if __name__ == "__main__":
    main()
