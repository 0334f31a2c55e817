"""DataLoader batching and seeded shuffling; checkpoints round trip without pickle."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from srcad import optim, seeding
from srcad.data import DataLoader, load_checkpoint, save_checkpoint
from srcad.nn import Parameter

# -- DataLoader ----------------------------------------------------------------------------------


def dataset(n=10):
    return np.arange(2.0 * n).reshape(n, 2), np.arange(n)


def test_batches_in_order():
    X, y = dataset(5)
    batches = list(DataLoader(X, y, batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    assert_array_equal(batches[1][0], X[2:4])
    assert np.shares_memory(batches[0][0], X)           # unshuffled batches are views


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_len_and_coverage(n, batch_size, drop_last, shuffle):
    X, y = dataset(n)
    loader = DataLoader(X, y, batch_size=batch_size, drop_last=drop_last, shuffle=shuffle,
                        generator=np.random.default_rng(0))
    batches = list(loader)
    assert len(batches) == len(loader)
    assert len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    sizes = [len(b[1]) for b in batches]
    assert all(s == batch_size for s in sizes[:-1])
    if drop_last:
        assert all(s == batch_size for s in sizes)
    seen = np.concatenate([b[1] for b in batches]) if batches else np.array([], dtype=int)
    assert len(set(seen.tolist())) == len(seen) == sum(sizes)
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))
    for xb, yb in batches:                              # rows stay aligned across arrays
        assert_array_equal(xb, X[yb])


def test_shuffle_is_seeded_and_changes_every_epoch():
    X, y = dataset(20)
    loader = DataLoader(X, y, batch_size=6, shuffle=True)
    seeding.manual_seed(0)
    first = [b[1].tolist() for b in loader]
    second = [b[1].tolist() for b in loader]
    assert first != second
    assert sorted(sum(first, [])) == list(range(20))
    seeding.manual_seed(0)
    assert [b[1].tolist() for b in loader] == first
    expected = np.random.default_rng(0).permutation(20)[:6]
    assert_array_equal(first[0], expected)


def test_shuffle_with_own_generator():
    X, y = dataset(9)
    a = [b[1].tolist() for b in DataLoader(X, y, shuffle=True, batch_size=4,
                                          generator=np.random.default_rng(3))]
    b = [b[1].tolist() for b in DataLoader(X, y, shuffle=True, batch_size=4,
                                          generator=np.random.default_rng(3))]
    assert a == b


def test_drop_last():
    X, y = dataset(7)
    loader = DataLoader(X, y, batch_size=3, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]


def test_single_array_gives_one_tuples():
    (batch,) = next(iter(DataLoader(np.arange(4), batch_size=3)))
    assert batch.tolist() == [0, 1, 2]


@pytest.mark.parametrize("arrays, kwargs, message", [
    ((), {}, "at least one array"),
    ((np.zeros(3), np.zeros(4)), {}, "same number of samples"),
    ((np.float64(1.0),), {}, "first .sample. dimension"),
    ((np.zeros(3),), {"batch_size": 0}, "batch_size=0"),
    ((np.zeros(3),), {"batch_size": 2.0}, "positive integer"),
])
def test_dataloader_validation(arrays, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(*arrays, **kwargs)


# -- checkpoints ---------------------------------------------------------------------------------
def trained_adam(steps, amsgrad=True):
    params = [Parameter(np.linspace(-1, 1, 6).reshape(2, 3)), Parameter(np.ones(3))]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1,
                     amsgrad=amsgrad)
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(steps)]
    return params, opt, grads


def train(params, opt, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g
        opt.step()


def assert_same_tree(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same_tree(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


def test_checkpoint_round_trip_keeps_nesting_and_types(tmp_path):
    params, opt, grads = trained_adam(3)
    train(params, opt, grads)
    model = {"W.weight": params[0].data, "W.bias": params[1].data.astype(np.float32),
             "buffers": {"count": np.int64(4), "mask": np.array([True, False])}}
    extra = dict(epoch=7, loss=0.125, name="run-1", done=False, best=None,
                 history=[1.5, float("nan")], shape=(2, 3))
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, opt.state_dict(), **extra)
    loaded = load_checkpoint(path)
    assert list(loaded) == ["model", "optim", *extra]
    assert_same_tree(loaded["model"], model)
    assert_same_tree(loaded["optim"], opt.state_dict())
    for key, value in extra.items():
        assert_same_tree(loaded[key], value)
    assert list(tmp_path.iterdir()) == [path]           # written in place, nothing left over


def test_checkpoint_keys_are_paths(tmp_path):
    params, opt, grads = trained_adam(1)
    train(params, opt, grads)
    path = tmp_path / "ckpt"
    save_checkpoint(path, {"W.weight": params[0].data}, opt.state_dict(), epoch=1)
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
        assert_array_equal(npz["optim/state/0/exp_avg"], opt.state[params[0]]["exp_avg"])
        assert float(npz["optim/param_groups/1/lr"]) == 0.01
    assert {"model/W.weight", "optim/state/1/max_exp_avg_sq", "optim/param_groups/0/betas/0",
            "epoch"} <= keys


@pytest.mark.parametrize("amsgrad", [False, True])
def test_resume_training_from_checkpoint(tmp_path, amsgrad):
    params, opt, grads = trained_adam(8, amsgrad)
    train(params, opt, grads)
    uninterrupted = [p.data.copy() for p in params]

    params, opt, grads = trained_adam(8, amsgrad)
    train(params, opt, grads[:5])
    save_checkpoint(tmp_path / "c.npz", {"w0": params[0].data, "w1": params[1].data},
                    opt.state_dict(), step=5)
    ckpt = load_checkpoint(tmp_path / "c.npz")
    fresh = [Parameter(ckpt["model"]["w0"].copy()), Parameter(ckpt["model"]["w1"].copy())]
    opt2 = optim.Adam([{"params": fresh[:1]}, {"params": fresh[1:]}])
    opt2.load_state_dict(ckpt["optim"])
    train(fresh, opt2, grads[ckpt["step"]:])
    for a, b in zip(uninterrupted, fresh):
        assert_array_equal(a, b.data)


def test_lbfgs_state_round_trips_through_a_checkpoint(tmp_path):
    x = Parameter(np.array([-1.2, 1.0]))

    def closure():
        x.grad = np.array([2 * (x.data[0] - 1) - 4 * x.data[0] * (x.data[1] - x.data[0] ** 2),
                           2 * (x.data[1] - x.data[0] ** 2)])
        return float((x.data[0] - 1) ** 2 + (x.data[1] - x.data[0] ** 2) ** 2)

    opt = optim.LBFGS([x], max_iter=3)
    opt.step(closure)
    saved = copy.deepcopy(opt.state_dict())
    save_checkpoint(tmp_path / "l.npz", {}, opt.state_dict())
    assert_same_tree(load_checkpoint(tmp_path / "l.npz")["optim"], saved)


def test_loading_uses_no_pickle(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "a.npz", {"w": np.ones(2)}, note="x")

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    assert load_checkpoint(tmp_path / "a.npz")["note"] == "x"
    monkeypatch.undo()
    with open(tmp_path / "evil.npz", "wb") as f:            # a file that holds a pickle
        np.savez(f, __structure__=np.array('{"model": {"array": "model"}}'),
                 model=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load_checkpoint(tmp_path / "evil.npz")


def test_checkpoint_errors(tmp_path):
    with pytest.raises(TypeError, match="object"):
        save_checkpoint(tmp_path / "a.npz", {"f": object()})
    with pytest.raises(TypeError, match="pickle"):
        save_checkpoint(tmp_path / "a.npz", {"big": 2 ** 80})
    with pytest.raises(ValueError, match="the model state is given twice"):
        save_checkpoint(tmp_path / "a.npz", {}, model=1)
    with pytest.raises(ValueError, match="overwrite the optimizer state"):
        save_checkpoint(tmp_path / "a.npz", {}, optim=1)
    with pytest.raises(TypeError, match="needs the model's state"):
        save_checkpoint(tmp_path / "a.npz", epoch=1)
    with pytest.raises(ValueError, match="both be stored as 'model/a/b'"):
        save_checkpoint(tmp_path / "a.npz", {"a/b": 1, "a": {"b": 2}})
    with pytest.raises(TypeError, match="keys must be str or int"):
        save_checkpoint(tmp_path / "a.npz", {1.5: 1})
    with open(tmp_path / "plain.npz", "wb") as f:
        np.savez(f, w=np.ones(1))
    with pytest.raises(ValueError, match="not a srcad checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    assert not (tmp_path / "a.npz").exists()


def test_checkpoint_of_a_model_and_optimizer_by_name(tmp_path):
    """The guessed call `save_checkpoint(path, model=model, optimizer=optimizer)` saves their
    states (as the positional form with their `state_dict()`s does)."""
    from srcad import nn, optim
    model = nn.Linear(3, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    save_checkpoint(tmp_path / "a.npz", model=model, optimizer=optimizer, epoch=2)
    save_checkpoint(tmp_path / "b.npz", model.state_dict(), optimizer.state_dict(), epoch=2)
    a, b = load_checkpoint(tmp_path / "a.npz"), load_checkpoint(tmp_path / "b.npz")
    assert_same_tree(a, b)
    assert_same_tree(a["model"], dict(model.state_dict()))
    assert a["epoch"] == 2
