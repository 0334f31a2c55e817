"""The transformation passes, in pipeline order (the order itself lives in `srcad.api`).

fence -> resolve -> normalize -> activity -> forward | reverse -> optimize
"""
