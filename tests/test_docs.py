"""The documentation site's sources (docs/, built by .ci/run with `mkdocs build --strict`):
every README section a page includes exists, repository links become paths, and the API
reference's doctest examples are fenced as code. The build itself runs in CI."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_page_marker_names_a_readme_section_or_a_file():
    hooks = _load("hooks")
    markers = [m for page in sorted((ROOT / "docs").glob("*.md"))
               for m in hooks.MARKER.finditer(page.read_text())]
    kinds = {m.group(1) for m in markers}
    assert {"readme", "rules", "gallery", "explain", "file-optional"} <= kinds
    for marker in markers:
        if marker.group(1) == "readme":
            assert hooks._expand("readme", marker.group(2)).strip(), marker.group(0)
    nav = re.findall(r"^  - .*: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert sorted(nav) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))


def test_repository_links_become_paths():
    hooks = _load("hooks")
    text = ("[`examples/tour.ipynb`](examples/tour.ipynb), [scaling](examples/scaling.py), "
            "[a site](https://example.org), [above](#a-tour), ![picture](images/x.png)")
    assert hooks._local_links(text) == (
        "`examples/tour.ipynb`, scaling (`examples/scaling.py`), [a site]"
        "(https://example.org), [above](#a-tour), ![picture](images/x.png)")


def test_doctest_examples_are_fenced():
    fence = _load("doctest_fences").fence
    text = "Add a group.\n\n    >>> opt.param_groups\n    [0.1, 0.01]\n\nMore text."
    assert fence(text) == ("Add a group.\n\n\n    ```pycon\n    >>> opt.param_groups\n"
                           "    [0.1, 0.01]\n    ```\n\nMore text.")
    assert fence("no examples") == "no examples"
