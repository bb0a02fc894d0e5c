"""Loading the scripts of examples/ (not a package) by path, for the example tests."""

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The examples import their shared helpers (digits.py) as a script would: from their folder.
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def load(name):
    """Import examples/<name>.py by path."""
    return import_path(EXAMPLES / f"{name}.py", f"symdiff_example_{name}")


def import_path(path, name):
    """Import the Python file at ``path`` (a written module, an example) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
