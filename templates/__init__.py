"""srcad's derivative rules, written as templates (see `srcad.template`).

Importing this package registers every rule. Each module groups one family of primitives, and
keeps each primitive's reverse rule (`@adjoint`) next to its forward rule (`@tangent`).
Installed as the `srcad.templates` package.
"""

from . import (  # noqa: F401,E501
    arithmetic,
    construction,
    elementwise,
    generated_code,
    indexing,
    linalg,
    nondiff,
    reductions,
    shape,
)
