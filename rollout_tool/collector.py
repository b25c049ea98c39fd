"""CPython's cycle collector, kept out of the way of runs that build large values meant to be kept.

Every object a run keeps is walked again by each of the collector's passes,
and full passes come more often as the heap grows: loading 110,000 records
spent 10 to 25% of a validation there, and reading back 10,000 releases'
facts for the site two thirds of its time. Records and facts hold no cycles,
so pausing the collector while they are built loses nothing, and setting
them aside while the pages are rendered spares every later pass the walk.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collection within the block; the collector is left as it was found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def set_aside() -> Iterator[None]:
    """Within the block, the collector never walks what exists at its start.

    Refcounting still frees those values when they are let go; only cycles
    among them wait for the block's end, when they are handed back.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
