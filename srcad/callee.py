"""`Callee`: the derivative of a user function that generated code calls.

In: the function that generates code (`generation.cached`) and what to generate (the user
function, the kind of derivative, `wrt`, the values known while generating, the argument
shapes, which parameters hold containers). Out: a callable that generates that derivative on
its first call and then calls it.
It lives below the passes so that `resolve` can recognise generated code calling a derivative.
"""


class Callee:
    """The derivative of a user function called from generated code, generated on first call
    (so a function may call itself); specialized to the shapes of its arguments (`signature`)
    where the calling code knows them."""

    __slots__ = ("make", "func", "kind", "wrt", "statics", "signature", "containers",
                 "function", "current")

    def __init__(self, make, func, kind, wrt, statics=(), signature=None, containers=()):
        self.make = make
        self.func, self.kind, self.wrt, self.statics = func, kind, wrt, statics
        self.signature, self.containers = signature, containers
        self.function = None
        self.current = None     # the `Generated` this callee runs, once it was asked for

    def generated(self):
        """The generated derivative, made on the first request and kept (code that calls it
        is generated anew, with new callees, when what this code relied on changes)."""
        current = self.current
        if current is None:
            current = self.current = self.make(self.func, self.kind, self.wrt, self.containers,
                                               statics=self.statics, signature=self.signature)
        return current

    def generated_function(self):
        """The generated function itself (what a further derivative transforms)."""
        return self.generated().function

    def __call__(self, *args, **kwargs):
        function = self.function
        if function is None:
            function = self.function = self.generated().function
        return function(*args, **kwargs)
