"""A module of test functions loaded a second time with `np` bound to `autograd.numpy`: the
independent result that tests compare srcad's derivatives with. In: a module of
`tests/support` whose functions read `np`. Out: its twin, a new module whose functions (its
`FUNCTIONS` list too) run on autograd."""

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
