"""srcad's derivative rules, written as templates (see `srcad.template`).

Importing this package registers every rule. Each module groups one family of primitives, and
keeps all that srcad knows of a primitive together (see `srcad.rules`): its reverse rule
(`@adjoint`) next to its forward rule (`@tangent`), or one `@elementwise` or `@linear` rule that
gives both; its shape rule (`@shape`); whether it reduces or has no derivative. SciPy's rules
(`scipy_rules`) are registered only where SciPy imports.
Installed as the `srcad.templates` package.
"""

from . import (  # noqa: F401,E501
    arithmetic,
    casts,
    construction,
    decompositions,
    elementwise,
    generated_code,
    indexing,
    linalg,
    nan_reductions,
    nondiff,
    pieces,
    products,
    rearrange,
    reductions,
    sampled,
    shape,
    solvers,
    statistics,
)

try:                                    # SciPy's rules, only where SciPy is installed
    import scipy  # noqa: F401
except ImportError:
    pass
else:
    from . import scipy_rules  # noqa: F401
