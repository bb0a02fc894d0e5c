"""The docs are true: every Python block of README.md and docs/*.md runs, and where a page shows
what a block prints (a bare ``` block right after it, introduced by a line ending in ':'), the
block prints that.

A block the page means as a fragment, not a program, is marked with ``<!-- not run -->`` on the
line before its fence. The blocks of one page run in order in one namespace (later blocks use
earlier names), in a fresh folder, so a page reads as one session.
"""

import contextlib
import io
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = "<!-- not run -->"
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(text: str) -> list[dict]:
    """The fenced blocks of a page: language, code, first line, whether marked not run, and the
    output shown for it (a bare block introduced by a line ending in ':')."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = [line for line in lines[max(0, i - 3):i] if line.strip()]
        found.append({"lang": match[1], "code": "\n".join(lines[i + 1:end]), "line": i + 1,
                      "skip": bool(before) and before[-1].strip() == SKIP,
                      "intro": before[-1].strip() if before else "", "shown": None})
        i = end + 1
    for prev, block in zip(found, found[1:]):
        if prev["lang"] == "python" and block["lang"] == "" and block["intro"].endswith(":"):
            prev["shown"] = block["code"]
    return [b for b in found if b["lang"] == "python"]


def _normal(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.strip().splitlines() if line.strip()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for block in blocks(page.read_text(encoding="utf-8")):
        if block["skip"]:
            continue
        out = io.StringIO()
        where = f"{page.name}, the block at line {block['line']}"
        # A real file, so that symdiff can read the source of the functions a block defines.
        path = tmp_path / f"{page.stem}_{block['line']}.py"
        path.write_text(block["code"] + "\n", encoding="utf-8")
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block["code"] + "\n", str(path), "exec"), namespace)  # noqa: S102
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{where} raised {type(exc).__name__}: {exc}")
        if block["shown"] is not None:
            assert _normal(out.getvalue()) == _normal(block["shown"]), \
                f"{where} prints something other than the page shows"


def test_the_block_finder_sees_outputs_and_marks():
    page = "Run:\n\n```python\nprint(1)\n```\n\nprints:\n\n```\n1\n```\n\n" \
           f"{SKIP}\n```python\nundefined_name\n```\n"
    found = blocks(page)
    assert [b["shown"] for b in found] == ["1", None] and [b["skip"] for b in found] == [False, True]


def test_pages_exist():
    assert len(PAGES) >= 8 and all(p.exists() for p in PAGES) and os.sep
