"""Rules for nondiff primitives (being written)."""
