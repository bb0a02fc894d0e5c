"""Differentiation: the reverse sweep, partials as SymPy recipes, the interpreter."""
