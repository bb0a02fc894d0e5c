"""Code generation: statements, buffer reuse, blocks, the module, its verifier."""
