"""A derivative shown in a notebook: the user's function and the generated code side by side.

In: a `srcad.api.Derivative`. Out: `html(derivative)`, an HTML fragment (what `_repr_html_`
returns) with one table per generated function: each line of the user's function beside the
generated lines it produced (the values it computes, then the derivative lines, reverse mode's
below a "grad of" mark), both highlighted with Pygments; under it, the generated code in the
order it runs. Pygments is optional for srcad: without it `html` raises an ImportError that
says how to install it.
"""

import html as html_text
import inspect
import re

from .errors import SrcadError

_ORIGIN = re.compile(r"^\s*# (grad of line|line) (\d+): ")


def pygments():
    """The Pygments functions display uses: (highlight, PythonLexer, HtmlFormatter)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        raise ImportError("showing a derivative as HTML needs Pygments: "
                          "pip install pygments (or pip install \"srcad[test]\")") from None
    return highlight, PythonLexer, HtmlFormatter


def highlighted_lines(text):
    """The lines of the Python `text`, each as highlighted HTML (inline styles, so they show
    without a style sheet)."""
    highlight, lexer, formatter = pygments()
    out = highlight(text, lexer(), formatter(nowrap=True, noclasses=True, style="default"))
    lines = out.split("\n")
    return lines[:len(text.splitlines())]


def grouped(text):
    """The generated function `text` grouped by the user line each statement came from:
    (header lines, {line: (value lines, derivative lines)}, lines after the last group); the
    origin comments themselves are left out."""
    header, groups, current = [], {}, None
    for line in text.splitlines():
        match = _ORIGIN.match(line)
        if match:
            values, derivative = groups.setdefault(int(match.group(2)), ([], []))
            current = derivative if match.group(1) == "grad of line" else values
        elif current is None:
            header.append(line)
        elif line.strip():
            current.append(line)
    return header, groups


def pairs(derivative):
    """(user function, Generated) for the derivative and every derivative it calls, once."""
    top = derivative.generated
    out, seen, todo = [], set(), [(derivative.func, top)]
    while todo:
        func, generated = todo.pop(0)
        if id(generated) in seen:
            continue
        seen.add(id(generated))
        out.append((func, generated))
        todo.extend((c.func, c.generated()) for c in generated.callees)
    return out


def html(derivative):
    """The HTML of `derivative` (see the module docstring)."""
    pygments()
    parts = [f"<div class=\"srcad-derivative\"><p><b>{html_text.escape(repr(derivative))}"
             "</b></p>"]
    for func, generated in pairs(derivative):
        parts.append(_table(func, generated.text))
    parts.append("</div>")
    return "".join(parts)


_CELL = ("vertical-align:top;text-align:left;padding:2px 10px;font-family:monospace;"
         "white-space:pre")


def _table(func, text):
    """One table: the user's lines of `func` beside the lines of `text` they produced."""
    try:
        source, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise SrcadError(f"srcad cannot show {func.__name__}: its source is not available "
                         f"({exc})") from None
    user = highlighted_lines("".join(source))
    header, groups = grouped(text)
    rows = [_row("", user[0] if user else "", _block(header))]
    for offset, line in enumerate(user[1:], start=1):
        values, derivative = groups.get(first + offset, ([], []))
        right = _block(values)
        if derivative:
            right += "\n<span style=\"color:#888\">&#8630; grad</span>\n" + _block(derivative)
        rows.append(_row(str(first + offset), line, right))
    listing = "\n".join(highlighted_lines(text))
    return ("<table style=\"border-collapse:collapse;margin-bottom:8px\">"
            f"<tr><th style=\"{_CELL}\">line</th><th style=\"{_CELL}\">your code</th>"
            f"<th style=\"{_CELL}\">generated code it produced</th></tr>{''.join(rows)}"
            "</table><details><summary>generated code, in the order it runs</summary>"
            f"<div style=\"{_CELL}\">{listing}</div></details>")


def _block(lines):
    """Generated lines, dedented to the function body and highlighted, one per line."""
    if not lines:
        return ""
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    text = "\n".join(line[indent:] for line in lines) + "\n"
    return "\n".join(highlighted_lines(text))


def _row(number, left, right):
    return (f"<tr style=\"border-top:1px solid #ddd\"><td style=\"{_CELL};color:#888\">{number}"
            f"</td><td style=\"{_CELL}\">{left}</td><td style=\"{_CELL}\">{right}</td></tr>")
