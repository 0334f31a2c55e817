"""Cases for the rules in templates/shape.py."""
