"""The table of supported functions comes from the registry, and the docs page is that table."""

import subprocess
import sys
from pathlib import Path

from symdiff.ops import OPS, SPELLINGS
from symdiff.optable import markdown, rows

DOCS = Path(__file__).resolve().parent.parent / "docs" / "ops.md"


def test_docs_page_is_the_generated_table():
    assert DOCS.read_text(encoding="utf-8") == markdown() + "\n", (
        "docs/ops.md is stale: regenerate it with `symdiff ops --markdown > docs/ops.md`")


def test_every_spelling_of_every_entry_is_listed():
    listed = {r.op for r in rows()}
    assert {op.name for op in SPELLINGS.values() if op.kind != "alias"} <= listed | {"positive",
                                                                                   "square"}
    sinh = [r for r in rows() if r.spelling == "np.sinh"]
    assert sinh and sinh[0].rule == "d/da = cosh(a)"
    assert any(r.kink == "relu'(0) = 0" for r in rows())
    assert all(OPS[r.op].kind for r in rows() if r.op in OPS)


def test_cli_prints_the_table():
    done = subprocess.run([sys.executable, "-m", "symdiff", "ops"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "np.arctan2" in done.stdout and "d/da = b/(a**2 + b**2)" in done.stdout
