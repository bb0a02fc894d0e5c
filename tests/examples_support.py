"""Loading the scripts of examples/ (not a package) by path, for the example tests."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    """Import examples/<name>.py by path."""
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"symdiff_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
