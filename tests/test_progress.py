"""Long work shows progress on a terminal, and nothing when the output is not one."""

import io
import subprocess
import sys
import time

import pytest

from symdiff import progress

pytest.importorskip("tqdm")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_long_step_shows_a_bar_on_a_terminal(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.working("compiling f"):
        time.sleep(0.5)
    assert "compiling f" in screen.getvalue()


def test_a_short_step_shows_nothing(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with progress.working("compiling f"):
        pass
    assert "compiling f" not in screen.getvalue()


def test_nothing_when_the_output_is_not_a_terminal(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.working("compiling f"):
        time.sleep(0.3)
    assert screen.getvalue() == ""


def test_dask_progress_counts_tasks(monkeypatch):
    da = pytest.importorskip("dask.array")
    import dask
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    x = da.ones(1000, chunks=100)
    with progress.dask_progress("one pass"):
        assert dask.compute(x.sum())[0] == 1000
    assert "one pass" in screen.getvalue()


def test_the_cli_prints_no_bar_into_a_pipe(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symdiff", "grad", "x * y", "--at", "x=2",
                          "--at", "y=3"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
