"""`python -m srcad show | check | export path/to/file.py:func`: see srcad.cli."""

from .cli import main

raise SystemExit(main())
