"""Compiling without the cyclic garbage collector.

Tracing and code generation allocate millions of small objects that stay reachable until the
compile ends. Each time the collector runs it walks every live object of the process, the
caller's too, so a compile would cost more the more the caller holds (after importing JAX or
PyTorch, say). Nothing a compile makes is garbage in a cycle before it ends, so the collector is
paused while it runs and resumed after.

What the compile keeps (graphs, code) then goes straight to the oldest generation: left young, the
first collections after the compile would walk all of it on its way there (16 ms, and 110 ms when
it reached the middle generation, after a straight-line program of 1,000 statements). The caller's
young objects are aged with it (``gc.freeze(); gc.unfreeze()`` moves every tracked object), which
delays only their own collection; a process that froze objects itself (before forking, say) is
left as it is.
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
                if gc.get_freeze_count() == 0:  # (unfreeze would thaw the caller's own)
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
    return paused
