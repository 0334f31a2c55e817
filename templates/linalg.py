"""Rules for linalg primitives (being written)."""
