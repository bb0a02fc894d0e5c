"""Progress for long work, shown only where someone is watching.

``working(what)`` shows a tqdm bar on standard error while a step runs, once it has taken more
than a second, and only when standard error is a terminal and tqdm is installed
(``pip install "symdiff[progress]"``); otherwise it shows nothing. ``dask_progress()`` does the
same for a ``dask.compute``, one tick per task.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator

DELAY = 1.0  # seconds of silence before a bar appears


def _tqdm():
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


@contextlib.contextmanager
def working(what: str) -> Iterator[None]:
    """An elapsed-time bar for one step of unknown length (a compile, say)."""
    tqdm = _tqdm()
    if tqdm is None:
        yield
        return
    done = threading.Event()
    bar = tqdm(desc=what, total=None, delay=DELAY, leave=False, bar_format="{desc}: {elapsed}",
               file=sys.stderr)

    def tick() -> None:
        while not done.wait(0.2):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()


def dask_progress(what: str = "computing"):
    """A context manager that shows a bar over a ``dask.compute``'s tasks (or nothing)."""
    tqdm = _tqdm()
    if tqdm is None:
        return contextlib.nullcontext()
    from dask.callbacks import Callback

    class Bar(Callback):
        def _start_state(self, dsk, state):
            self.bar = tqdm(desc=what, total=len(state["ready"]) + len(state["waiting"]),
                            delay=DELAY, leave=False, file=sys.stderr)

        def _posttask(self, key, result, dsk, state, worker_id):
            self.bar.update(1)

        def _finish(self, dsk, state, errored):
            self.bar.close()

    return Bar()
