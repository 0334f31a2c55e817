"""Cases for the rules in templates/linalg.py."""
