"""`Callee`: the derivative of a user function that generated code calls.

In: the function that generates code (`generation.cached`) and what to generate (the user
function, the kind of derivative, `wrt`, the values known while generating, the argument
shapes). Out: a callable that generates that derivative on its first call and then calls it.
It lives below the passes so that `resolve` can recognise generated code calling a derivative.
"""


class Callee:
    """The derivative of a user function called from generated code, generated on first call
    (so a function may call itself); specialized to the shapes of its arguments (`signature`)
    where the calling code knows them."""

    __slots__ = ("make", "func", "kind", "wrt", "statics", "signature", "function")

    def __init__(self, make, func, kind, wrt, statics=(), signature=None):
        self.make = make
        self.func, self.kind, self.wrt, self.statics = func, kind, wrt, statics
        self.signature = signature
        self.function = None

    def generated(self):
        return self.make(self.func, self.kind, self.wrt, statics=self.statics,
                         signature=self.signature)

    def generated_function(self):
        """The generated function itself (what a further derivative transforms)."""
        return self.generated().function

    def __call__(self, *args, **kwargs):
        function = self.function
        if function is None:
            function = self.function = self.generated().function
        return function(*args, **kwargs)
