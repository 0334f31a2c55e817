"""Error types. Every srcad error names the user's file, line and source text when it knows them.

In: a message and, optionally, a `Location` (file, line, text, function name).
Out: exceptions deriving from `SrcadError`, whose `str()` reads like a Python traceback entry::

    srcad cannot differentiate a `try` statement (not supported)
      File "model.py", line 12, in loss
        try:
"""


class Location:
    """Where in the user's source something is: file name, line number, line text, function."""

    __slots__ = ("filename", "lineno", "text", "function")

    def __init__(self, filename: str, lineno: int, text: str | None, function: str) -> None:
        self.filename = filename
        self.lineno = lineno
        self.text = text
        self.function = function

    def __str__(self) -> str:
        where = f'  File "{self.filename}", line {self.lineno}, in {self.function}'
        return f"{where}\n    {self.text.strip()}" if self.text else where


class SrcadError(Exception):
    """Base class of every error srcad raises on purpose."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.message}\n{self.location}"


class UnsupportedSyntaxError(SrcadError):
    """The function uses a construct srcad does not transform."""


class SourceUnavailableError(SrcadError):
    """The source of the function cannot be found (REPL, exec, builtin, C extension)."""


class MissingRuleError(SrcadError):
    """A call on a differentiated value has no derivative rule."""


class RuleFailedError(SrcadError):
    """A derivative rule failed at run time on the values of this call (a limit of the rule,
    or a bug of srcad's): srcad gives no number rather than a wrong one."""


class NonScalarOutputError(SrcadError):
    """`grad` was asked of a function whose output is not a scalar."""


class WrtError(SrcadError):
    """`wrt` names an argument that does not exist or cannot be differentiated."""


class ShapeMismatchError(SrcadError, ValueError):
    """A tangent (jvp) or cotangent (a pullback's argument) has not the shape of its value."""


class TemplateError(SrcadError):
    """A derivative template is malformed (a bug in a rule, not in the user's code)."""


class JitFallbackWarning(UserWarning):
    """Compiled mode (`jit=True`) runs a function with NumPy: numba cannot compile the line
    the message names."""
