"""Rules for shape primitives (being written)."""
