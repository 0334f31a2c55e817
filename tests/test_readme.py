"""Every code block of README.md runs, so the README cannot go stale.

Conventions (for everyone editing the README):
- The first ```bash block is the set-up: exactly two commands, which CI (.ci/run) runs in a
  fresh virtual environment. This test only checks its form.
- Every ```python block runs as its own file `example.py` in an empty directory, in a fresh
  interpreter. A block whose first line is `# needs a GPU` is skipped unless CuPy and a GPU are
  present; a block whose first line is `# needs <module>` (e.g. `# needs scipy`) is skipped
  unless that module is installed.
- Every later ```bash block holds `srcad ...` command lines; each runs (as `python -m srcad`)
  in a directory where `examples/` is this repository's examples.
- A ```text block right after a code block (at most one line of prose between them) is that
  block's expected output, compared exactly (after removing the path of the directory it ran
  in, so an error shows `File "example.py"`), except that a line `...` matches any lines and
  `...` inside a line matches any text. Other ```text blocks are not checked.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


class Block:
    def __init__(self, lang, text, line, expected=None):
        self.lang, self.text, self.line, self.expected = lang, text, line, expected

    def __repr__(self):
        return f"{self.lang}@{self.line}"


def blocks():
    """The fenced blocks of the README, code blocks paired with their expected output."""
    lines = README.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        match = re.fullmatch(r"```(\w+)", lines[i])
        if not match:
            i += 1
            continue
        start = i + 1
        end = lines.index("```", start)
        found.append((match.group(1), "\n".join(lines[start:end]) + "\n", start, end))
        i = end + 1
    out = []
    for k, (lang, text, start, end) in enumerate(found):
        if lang == "text":
            continue
        expected = None
        if k + 1 < len(found) and found[k + 1][0] == "text":
            between = [line for line in lines[end + 1:found[k + 1][2] - 1] if line.strip()]
            if len(between) <= 1:
                expected = found[k + 1][1]
        out.append(Block(lang, text, start, expected))
    return out


def _needs(block):
    """Why a block must be skipped here, or None."""
    first = block.text.splitlines()[0].strip() if block.text.strip() else ""
    if first == "# needs a GPU":
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() > 0:
                return None
        except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "skip"
            pass
        return "needs CuPy and a GPU"
    match = re.fullmatch(r"# needs (\w+)", first)
    if match and importlib.util.find_spec(match.group(1)) is None:
        return f"needs {match.group(1)}"
    return None


def assert_output(got, expected, where):
    """`got` matches `expected`, where a line `...` matches any lines and `...` in a line any
    text."""
    pattern = ""
    for line in expected.rstrip("\n").splitlines():
        if line.strip() == "...":
            pattern += r"(?:.*\n)*?"
        else:
            pattern += ".*".join(map(re.escape, line.rstrip().split("..."))) + r"[ \t]*\n"
    normalized = "\n".join(line.rstrip() for line in got.rstrip("\n").splitlines()) + "\n"
    assert re.fullmatch(pattern, normalized), (
        f"README block at line {where}: the output differs from the README's\n--- expected\n"
        f"{expected}--- got\n{got}")


ALL = blocks()
PYTHON = [b for b in ALL if b.lang == "python"]
BASH = [b for b in ALL if b.lang == "bash"]


def test_setup_block_is_two_commands():
    setup = BASH[0].text.strip().splitlines()
    assert len(setup) == 2, setup
    assert setup[0].startswith("pip install \".[test,examples]\"")
    assert setup[1] == "python -m pytest -q"


def test_every_block_is_known():
    assert {b.lang for b in ALL} <= {"python", "bash"}, ALL
    assert len(PYTHON) >= 6


@pytest.mark.parametrize("block", PYTHON, ids=repr)
def test_python_block(block, tmp_path):
    reason = _needs(block)
    if reason:
        pytest.skip(reason)
    (tmp_path / "example.py").write_text(block.text)
    result = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"README block at line {block.line}:\n{result.stderr}"
    if block.expected is not None:
        assert_output(result.stdout.replace(f"{tmp_path}/", ""), block.expected, block.line)


@pytest.mark.parametrize("block", BASH[1:], ids=repr)
def test_command_line_block(block, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    output = ""
    for line in block.text.strip().splitlines():
        words = line.split()
        assert words[0] == "srcad", f"README line {block.line}: only srcad commands: {line}"
        result = subprocess.run([sys.executable, "-m", "srcad", *words[1:]], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"README: {line}\n{result.stdout}\n{result.stderr}"
        output += result.stdout
    if block.expected is not None:
        assert_output(output, block.expected, block.line)
