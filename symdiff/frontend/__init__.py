"""The frontend: user source -> checked syntax tree -> the traced graph."""
