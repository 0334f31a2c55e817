"""The transformation passes: each a module whose `run(tree, job) -> tree` takes an
`ast.FunctionDef` and the generation's `srcad.job.Job`, and whose docstring states the form of
the tree it takes in and gives out. Passes share facts only through the tree and its annotations
(`srcad.annotations`).

`srcad.generation` runs them, in this order (the order lives there):

    desugar -> fence -> alias -> unroll -> inline -> resolve -> classify -> normalize (the
                                                        user's function in normal form)
    -> shapes -> specialize (-> shapes again)       code specialized to argument shapes only
    -> activity -> deny -> forward | reverse -> optimize            the derivative function

Not passes: the module simplify (`simplify.simplify(expr, ...)`), which `reverse` calls on each
filled template of code specialized to shapes, and the module reverse_loops (`Loop`), which
`reverse` calls on each loop.
"""
