"""Mini-batches and checkpoints: `DataLoader`, `save_checkpoint`, `load_checkpoint`.

`DataLoader(*arrays, batch_size, shuffle, drop_last, generator)`. In: arrays that share their
first dimension (samples). Out: an iterable of tuples, one slice of every array per batch, in
order or in a fresh seeded permutation each epoch.

`save_checkpoint(path, model_state, optimizer_state=None, **extra)`. In: nested dicts / lists /
tuples of arrays and Python scalars (a `Module.state_dict()`, an `Optimizer.state_dict()`,
an epoch number...). Out: one `.npz` file holding every leaf under its path ("model/W.weight",
"optim/state/0/exp_avg", "optim/param_groups/0/lr", "epoch") plus a JSON description of the
nesting; nothing is pickled. `load_checkpoint(path)` returns
`{"model": ..., "optim": ..., **extra}` with the same nesting and types, read with
`allow_pickle=False`.
"""

import json
import math
import os

import numpy

from . import backend, seeding

_STRUCTURE_KEY = "__structure__"


class DataLoader:
    """Iterate over mini-batches of aligned arrays.

        >>> import numpy as np
        >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> loader = DataLoader(X, y, batch_size=2)
        >>> len(loader), [yb.tolist() for _, yb in loader]
        (3, [[0, 1], [2, 3], [4]])

    `shuffle=True` draws a new permutation every epoch from `generator` (a
    `numpy.random.Generator`; default: `srcad.seeding.generator()`, so `srcad.manual_seed`
    fixes the order). `drop_last=True` leaves out a last, smaller batch. Unshuffled batches are
    views (slices); shuffled ones are copies.
    """

    def __init__(self, *arrays, batch_size=1, shuffle=False, drop_last=False, generator=None):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer, but got "
                             f"batch_size={batch_size!r}")
        lengths = []
        for a in arrays:
            if not getattr(a, "shape", ()):
                raise ValueError("DataLoader needs arrays with a first (sample) dimension, but "
                                 f"got {type(a).__name__} of shape {getattr(a, 'shape', None)}")
            lengths.append(a.shape[0])
        if len(set(lengths)) != 1:
            raise ValueError(f"arrays must have the same number of samples, but got {lengths}")
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.num_samples = lengths[0]

    def __len__(self):
        if any(backend.is_lazy(a) for a in self.arrays):
            return sum(self._count(n) for n in _chunk_lengths(self.arrays))
        return self._count(self.num_samples)

    def _count(self, n):
        """The number of batches of `n` samples."""
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if any(backend.is_lazy(a) for a in self.arrays):
            yield from self._chunked()
            return
        n, size = self.num_samples, self.batch_size
        stop = n - n % size if self.drop_last else n
        if not self.shuffle:
            for start in range(0, stop, size):
                yield tuple(a[start:start + size] for a in self.arrays)
            return
        gen = self.generator if self.generator is not None else seeding.generator()
        order = gen.permutation(n)
        orders = {}                               # the permutation in each array library
        for a in self.arrays:
            xp = backend.array_module(a)
            if xp not in orders:
                orders[xp] = order if xp is numpy else xp.asarray(order)
        for start in range(0, stop, size):
            yield tuple(a[orders[backend.array_module(a)][start:start + size]] for a in self.arrays)


    def _chunked(self):
        """Batches of Dask arrays, chunk-aligned: the samples of one chunk (of the first Dask
        array's first axis) computed at once, in one `dask.compute` (on the cluster when a
        `dask.distributed` client is active), while the batches of the chunk before are in
        use; each batch lies inside one chunk. Shuffled: the chunks in a fresh random order,
        and the samples inside each chunk. The batches are NumPy arrays."""
        from concurrent.futures import ThreadPoolExecutor
        size = self.batch_size
        lengths = _chunk_lengths(self.arrays)
        starts = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]]).astype(int)
        gen = None
        if self.shuffle:
            gen = self.generator if self.generator is not None else seeding.generator()
        order = gen.permutation(len(lengths)) if gen is not None else range(len(lengths))
        spans = [(int(starts[k]), int(starts[k] + lengths[k])) for k in order]
        with ThreadPoolExecutor(1, thread_name_prefix="srcad-loader") as pool:
            pending = pool.submit(_load, self.arrays, *spans[0]) if spans else None
            for k in range(len(spans)):
                parts = pending.result()
                if k + 1 < len(spans):                  # the next chunk, one step ahead
                    pending = pool.submit(_load, self.arrays, *spans[k + 1])
                n = len(parts[0])
                inside = gen.permutation(n) if gen is not None else None
                stop = n - n % size if self.drop_last else n
                for start in range(0, stop, size):
                    pick = slice(start, start + size) if inside is None else \
                        inside[start:start + size]
                    yield tuple(part[pick] for part in parts)


def _chunk_lengths(arrays):
    """The chunk lengths along the first axis of the first Dask array among `arrays`."""
    first = next(a for a in arrays if backend.is_lazy(a))
    return [int(n) for n in first.chunks[0]]


def _load(arrays, start, stop):
    """Samples `start:stop` of every array, the Dask ones computed together (NumPy arrays)."""
    return backend.compute_all([a[start:stop] for a in arrays])


# -- checkpoints ----------------------------------------------------------------------------------
def save_checkpoint(path, model_state=None, optimizer_state=None, *, model=None,
                    optimizer=None, **extra):
    """Write a model's and an optimizer's states, and any named values, to one `.npz` file.

    - `path`: the file to write (a str or path-like; `.npz` by convention).
    - `model_state`: the model's `state_dict()` (a nested dict of arrays and scalars), or the
      model itself (its `state_dict()` is saved); `model=` is the same argument by name.
    - `optimizer_state`: the optimizer's `state_dict()`, or the optimizer itself (or None);
      `optimizer=` is the same argument by name.
    - `**extra`: any further values to keep (`epoch=3`, `note="..."`): arrays, numbers,
      strings, None, and lists, tuples and dicts of those.

    `load_checkpoint(path)` returns `{"model": ..., "optim": ..., **extra}`. Everything is
    stored exactly. The file is written next to `path` and then renamed over it, so an
    interrupted save leaves any previous checkpoint intact.

        >>> import numpy as np, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save_checkpoint(path, {"W.weight": np.ones(2)}, epoch=3)
        >>> load_checkpoint(path)
        {'model': {'W.weight': array([1., 1.])}, 'optim': None, 'epoch': 3}
    """
    model_state = _state("model", model_state, model)
    optimizer_state = _state("optimizer", optimizer_state, optimizer)
    if "optim" in extra:
        raise ValueError("extra entry 'optim' would overwrite the optimizer state")
    arrays = {}
    top = {"model": model_state, "optim": optimizer_state, **extra}
    structure = {name: _flatten(value, name, arrays) for name, value in top.items()}
    if _STRUCTURE_KEY in arrays:
        raise ValueError(f"the key {_STRUCTURE_KEY!r} is reserved")
    arrays[_STRUCTURE_KEY] = numpy.array(json.dumps(structure))
    path = os.fspath(path)
    partial = path + ".partial"
    try:
        with open(partial, "wb") as f:
            numpy.savez(f, **arrays)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _state(name, positional, keyword):
    """The state to save for `name` ("model" or "optimizer"), given positionally or by
    keyword (not both); an object with `state_dict()` gives its state."""
    if positional is not None and keyword is not None:
        raise ValueError(f"the {name} state is given twice: positionally and as {name}=")
    state = keyword if positional is None else positional
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    if name == "model" and state is None:
        raise TypeError("save_checkpoint needs the model's state: save_checkpoint(path, "
                        "model.state_dict()) or save_checkpoint(path, model=model)")
    return state


def load_checkpoint(path):
    """Read a file written by `save_checkpoint`: `{"model": ..., "optim": ..., **extra}`.

    Arrays come back as NumPy arrays; ints, floats, bools, strings and None as themselves;
    dict keys (str or int), lists and tuples as they were. No pickle is ever loaded.
    """
    with numpy.load(os.fspath(path), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if _STRUCTURE_KEY not in arrays:
        raise ValueError(f"{os.fspath(path)} is not a srcad checkpoint (no {_STRUCTURE_KEY})")
    structure = json.loads(str(arrays.pop(_STRUCTURE_KEY)))
    return {name: _unflatten(desc, arrays) for name, desc in structure.items()}


_SCALARS = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"))


def _flatten(value, key, arrays):
    """Store the leaves of `value` in `arrays` under paths below `key`; return the description."""
    if value is None:
        return {"none": None}
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"checkpoint dict keys must be str or int, but {key!r} has "
                                f"{k!r}")
            items.append([k, _flatten(v, f"{key}/{k}", arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_flatten(v, f"{key}/{i}", arrays) for i, v in enumerate(value)]}
    if key in arrays:
        raise ValueError(f"two entries of the checkpoint would both be stored as {key!r}")
    if isinstance(value, numpy.generic):
        kind, leaf = "scalar", numpy.asarray(value)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        kind, leaf = "array", numpy.asarray(backend.to_host(value))
    else:
        kind = next((k for t, k in _SCALARS if isinstance(value, t)), None)
        if kind is None:
            raise TypeError(f"cannot save {key!r} of type {type(value).__name__} in a "
                            "checkpoint")
        leaf = numpy.array(value)
    if leaf.dtype.hasobject:
        raise TypeError(f"cannot save {key!r}: it would need pickle (object dtype)")
    arrays[key] = leaf
    return {kind: key}


def _unflatten(desc, arrays):
    """Rebuild a value from its description and the stored leaves."""
    (kind, body), = desc.items()
    if kind == "none":
        return None
    if kind == "dict":
        return {k: _unflatten(v, arrays) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_unflatten(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    leaf = arrays[body]
    if kind == "array":
        return leaf
    if kind == "scalar":
        return leaf[()]
    return {"bool": bool, "int": int, "float": float, "str": str}[kind](leaf[()])
