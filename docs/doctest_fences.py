"""A griffe extension for the API reference: the interactive examples in srcad's docstrings
(`>>>` lines, their `...` continuations and their output) become fenced `pycon` blocks, so
they render as code, not as Markdown quotes.

In: each object griffe loads; out: its docstring with such runs wrapped in fences.
"""

import griffe


class DoctestFences(griffe.Extension):
    """Wrap doctest runs of every docstring in ```pycon fences."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence(obj.docstring.value)


def fence(text):
    """`text` with each run of doctest lines (from a `>>>` line to the next blank line) fenced,
    its indentation kept."""
    out, inside, indent = [], False, ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if not inside and stripped.startswith(">>>"):
            indent = line[:len(line) - len(stripped)]
            out += ["", f"{indent}```pycon"]
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)
