"""The kinds of derivative code srcad generates: the one place they are defined.

In: nothing. Out: the names below, which `api` (the public entry points), `generation` (the
pipeline and its cache) and `passes.reverse` (the shape of the function it builds) import.

* `GRAD`: `grad_f(x, W) -> dx`; `VALUE_AND_GRAD`: `-> (out, dx)`
* `VJP`: `vjp_f(x, W) -> (out, pullback)`, `pullback(d_out) -> dx`; `JVP` (forward mode):
  `jvp_f(x, W, dx) -> (out, d_out)`
* `TANGENT`, the internal kind of forward mode that `hvp`, `hessian` and forward `jacobian`
  call: `tangent_f(x, W, dx) -> d_out`, the jvp without its value (what only the value needs
  is dead code, and goes)
* internal kinds of reverse mode: `PULLBACK`, the pullback alone (for a caller that does not
  read the value); `BACKWARD`, `backward_f(d_out, x, W) -> dx`, a vjp without a closure; and
  `GRAD_NESTED`, a grad whose calls of user functions call their `BACKWARD` code, which
  forward mode can differentiate again (`hvp`, `hessian`)
"""

GRAD = "grad"
VALUE_AND_GRAD = "value_and_grad"
VJP = "vjp"
JVP = "jvp"
TANGENT = "tangent"
FORWARD = (JVP, TANGENT)     # the kinds of forward mode, whose tangents follow the arguments
BACKWARD = "backward"
GRAD_NESTED = "grad_nested"
PULLBACK = "pullback"
