"""The docs are true: every Python block of README.md and docs/*.md runs, and where a page shows
what a block prints (a bare ``` block right after it, introduced by a line ending in ':'), the
block prints that. Every ``symdiff ...`` shell command of a ```bash, ```sh or ```console block runs
too (as ``python -m symdiff ...``), exits 0, and prints what a console block shows after it.

A block the page means as a fragment, not a program, is marked with ``<!-- not run -->`` on the
line before its fence. The blocks of one page run in order in one namespace (later blocks use
earlier names), in a fresh folder, so a page reads as one session.

Shell commands run in a fresh folder too, in the page's order, holding the files the page creates:
a Python block whose first line names a file (``# model.py``) is that file, and ``$ cat FILE`` in a
console block shows FILE's text. In a bash or sh block only the ``symdiff`` commands run (the others
install packages or run benchmarks); in a console block every command runs (``symdiff``, ``python``,
``cat``), as a session. A command that exits with another status says so in its comment
(``# exits with status 2``). The folder's path and pytest's timings are the only things that may
differ from what a console block shows.
"""

import contextlib
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = "<!-- not run -->"
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(text: str) -> list[dict]:
    """The Python blocks of a page: language, code, first line, whether marked not run, and the
    output shown for it (a bare block introduced by a line ending in ':')."""
    return [b for b in fenced(text) if b["lang"] == "python"]


def fenced(text: str) -> list[dict]:
    """Every fenced block of a page, as ``blocks`` describes them."""
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
    return found


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


# ------------------------------------------------------------------------------- shell commands
SHELLS = ("bash", "sh", "console")
FILE_HEADER = re.compile(r"^#\s*([\w./-]+\.py)\s*$")
EXIT = re.compile(r"#.*\bexits? (?:with )?(?:status )?(\d+)")


def _complete(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return not command.endswith("\\")


def shell_commands(block: dict) -> list[tuple[str, str | None]]:
    """The commands of a shell block, each with the output a console block shows after it (None
    in a bash or sh block, which shows none)."""
    lines, found, i = block["code"].splitlines(), [], 0
    console = block["lang"] == "console"
    while i < len(lines):
        line = lines[i]
        if console and not line.startswith("$ ") or not line.strip():
            i += 1
            continue
        command = line[2:] if console else line
        while not _complete(command) and i + 1 < len(lines):
            i += 1
            command = command.removesuffix("\\") + "\n" + lines[i]
        i += 1
        shown = None
        if console:
            start = i
            while i < len(lines) and not lines[i].startswith("$ "):
                i += 1
            shown = "\n".join(lines[start:i])
        found.append((command, shown))
    return found


def page_files(page_blocks: list[dict]) -> dict[str, str]:
    """The files a page defines: Python blocks whose first line is ``# name.py``."""
    files = {}
    for block in page_blocks:
        first = block["code"].splitlines()[0] if block["code"] else ""
        match = FILE_HEADER.match(first)
        if block["lang"] == "python" and match:
            files[match[1]] = block["code"] + "\n"
    return files


def _shell_normal(text: str, folder: pathlib.Path) -> list[str]:
    text = text.replace(str(folder), "<folder>")
    text = re.sub(r"/tmp/tmp\.\w+", "<folder>", text)
    text = re.sub(r"\bin \d+(\.\d+)?s\b", "in <time>", text)
    return _normal(text)


def run_command(command: str, shown: str | None, console: bool, folder: pathlib.Path) -> list[str]:
    """Run one command line of a page in ``folder``; the problems found (none: it is true)."""
    expected = int(EXIT.search(command)[1]) if EXIT.search(command) else 0
    words = shlex.split(command, comments=True)
    parts, problems = [[]], []
    for word in words:
        if word == "&&":
            parts.append([])
        elif word in ("|", ">", ">>", "<", ";", "||"):
            return [f"`{command}`: the runner takes commands joined by && only ({word!r})"]
        else:
            parts[-1].append(word)
    for part in parts:
        if not part or not console and part[0] != "symdiff":
            continue
        if part[0] == "cat" and console and shown is not None and len(part) == 2:
            (folder / part[1]).write_text(shown.strip("\n") + "\n", encoding="utf-8")
            continue
        if part[0] == "symdiff":
            argv = [sys.executable, "-m", "symdiff", *part[1:]]
        elif part[0] in ("python", "python3"):
            argv = [sys.executable, *part[1:]]
        else:
            return [f"`{command}`: the runner does not run {part[0]!r}; mark the block {SKIP}"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(folder), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "80"}
        result = subprocess.run(argv, cwd=folder, capture_output=True, text=True, env=env,
                                timeout=300)
        if result.returncode != (expected if part is parts[-1] else 0):
            return [f"`{command}` exited with status {result.returncode}, not "
                    f"{expected if part is parts[-1] else 0}:\n{result.stdout}{result.stderr}"]
        if shown is not None and shown.strip() and part is parts[-1]:
            output = result.stdout + result.stderr  # as a terminal shows both
            if _shell_normal(output, folder) != _shell_normal(shown, folder):
                problems.append(f"`{command}` prints\n{output}\nnot what the page shows:\n{shown}")
    return problems


SHELL_PAGES = [p for p in PAGES if any(b["lang"] in SHELLS for b in fenced(p.read_text("utf-8")))]


@pytest.mark.parametrize("page", SHELL_PAGES, ids=lambda p: p.name)
def test_every_shell_command_runs_and_prints_what_the_page_shows(page, tmp_path):
    found = fenced(page.read_text(encoding="utf-8"))
    for name, text in page_files(found).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    problems = []
    for block in found:
        if block["lang"] not in SHELLS or block["skip"]:
            continue
        for command, shown in shell_commands(block):
            problems += [f"{page.name}, the block at line {block['line']}: {p}"
                         for p in run_command(command, shown, block["lang"] == "console", tmp_path)]
    assert not problems, "\n\n".join(problems)


def test_the_shell_reader_sees_commands_outputs_and_files():
    page = ("```python\n# m.py\ndef f(x):\n    return x\n```\n\n```console\n$ symdiff grad x\n"
            "f = x\n$ python -c \"\nprint(1)\n\"\n1\n```\n\n```bash\nsymdiff ops   # all\n"
            "pip install . && symdiff check x \\\n  --at x=1\n```\n")
    found = fenced(page)
    assert page_files(found) == {"m.py": "# m.py\ndef f(x):\n    return x\n"}
    assert shell_commands(found[1]) == [("symdiff grad x", "f = x"),
                                        ('python -c "\nprint(1)\n"', "1")]
    assert shell_commands(found[2]) == [("symdiff ops   # all", None),
                                        ("pip install . && symdiff check x \n  --at x=1", None)]
    assert EXIT.search("symdiff grad 'sqrt(' # exits with status 2")[1] == "2"
