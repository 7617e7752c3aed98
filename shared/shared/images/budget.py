"""How many decoded pixels one process holds at once: a decode waits until its pixels fit, so
forty uploads of the largest allowed PNG decode one after another, not all together (each is
about four bytes a pixel while it decodes)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PixelBudget:
    def __init__(self, pixels: int) -> None:
        self._total = pixels
        self._free = pixels
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(pixels, self._total)  # one larger than the budget still decodes, alone
        with self._changed:
            self._changed.wait_for(lambda: self._free >= pixels)
            self._free -= pixels
        try:
            yield
        finally:
            with self._changed:
                self._free += pixels
                self._changed.notify_all()
