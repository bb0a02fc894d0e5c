"""Compiling without the cyclic garbage collector.

Tracing and code generation allocate millions of small objects that stay reachable until the
compile ends. Each time the collector runs it walks every live object of the process, the
caller's too, so a compile would cost more the more the caller holds (after importing JAX or
PyTorch, say). Nothing a compile makes is garbage in a cycle before it ends, so the collector is
paused while it runs and resumed after.
"""

from __future__ import annotations

import functools
import gc


def without_collector(fn):
    @functools.wraps(fn)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
    return paused
