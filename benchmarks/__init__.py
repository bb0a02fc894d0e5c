"""Speed of symdiff's generated code against hand-written code and other differentiation systems.

Run ``python -m benchmarks`` (``--quick`` for a run under a minute). See docs/performance.md.
"""
