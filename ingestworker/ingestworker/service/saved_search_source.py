"""The saved searches a worker matches new images against: those compiled for its model, as
one matcher, read from object storage again when they change (searchapi rewrites a marker
object with every change), looked at no more often than every ``refresh_s``."""

import time
from collections.abc import Callable

from shared.log import get_logger
from shared.saved_searches.matcher import SavedSearchMatcher
from shared.saved_searches.store import SavedSearchStore
from shared.storage.json_objects import ReloadOnChange

log = get_logger(__name__)


class SavedSearchSource:
    def __init__(
        self,
        store: SavedSearchStore,
        model: str,
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._model = model
        self._current = ReloadOnChange(
            store.version, self._load, SavedSearchMatcher([]), refresh_s, clock
        )

    def matcher(self) -> SavedSearchMatcher:
        """The current matcher; storage's outage raises Unavailable (the task retries)."""
        return self._current.get()

    def _load(self) -> SavedSearchMatcher:
        searches = list(self._store.all())
        mine = [s.match_criteria() for s in searches if s.model == self._model]
        # a search compiled for another model is matched once searchapi compiles it again
        log.info("saved_searches_loaded", matched=len(mine), other_models=len(searches) - len(mine))
        return SavedSearchMatcher(mine)
