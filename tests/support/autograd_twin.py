"""Test functions run a second time with `np` bound to `autograd.numpy`: the independent
result that tests compare srcad's derivatives with. `autograd_twin(module)`: a module of
`tests/support` whose functions read `np` in, its twin out, a new module whose functions (its
`FUNCTIONS` list too) run on autograd. `on_autograd(func)`: one function in, the same code
reading `np` as autograd's out."""

import pathlib
import types

import autograd.numpy


def autograd_twin(module):
    path = pathlib.Path(module.__file__)
    twin = types.ModuleType(f"{module.__name__.rsplit('.', 1)[-1]}_autograd")
    twin.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), twin.__dict__)
    twin.np = autograd.numpy
    return twin


def on_autograd(func):
    return types.FunctionType(func.__code__, dict(func.__globals__, np=autograd.numpy),
                              func.__name__, func.__defaults__)
