"""searchapi's SearchService over one side of search or both, for the benchmarks that
compare them (bench-relevance, bench-search)."""

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from searchapi.ranking import Ranker
from searchapi.service import SearchService
from searchapi.settings import SearchSettings
from shared.config import Limit
from shared.vectors import MilvusVectorIndex, SearchHit
from shared.web.signing import UrlSigner

DEFAULTS = SearchSettings()


class OneSide:
    """The index as one side of search sees it: meaning only (no keyword side), keywords
    only (no nearest vectors), or both."""

    def __init__(self, index: MilvusVectorIndex, side: str) -> None:
        self._index = index
        self._side = side

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    @property
    def has_keywords(self) -> bool:
        return self._side != "meaning" and self._index.has_keywords

    def search(self, *args: Any, **kwargs: Any) -> list[SearchHit]:
        return [] if self._side == "keywords" else self._index.search(*args, **kwargs)

    def keyword_search(
        self, tokens: Sequence[str], limit: int, where: Any = None, with_vectors: bool = False
    ) -> list[SearchHit]:
        # keywords only: no vectors either, which would rank the hits by meaning
        keep_vectors = with_vectors and self._side != "keywords"
        return self._index.keyword_search(tokens, limit, where, keep_vectors)


def search_service(
    index: MilvusVectorIndex,
    embedder: Any,
    side: str,
    *,
    fusion: str = DEFAULTS.fusion,
    candidates: int = DEFAULTS.fusion_candidates,
    inference: Executor,
    keywords: Executor,
    query_cache_size: int = DEFAULTS.query_cache_size,
) -> SearchService:
    """``side``: meaning, keywords or both; ``inference`` embeds, ``keywords`` runs the
    keyword side (searchapi gives each its own pool)."""
    view = OneSide(index, side)
    return SearchService(
        embedder=embedder,
        index=view,  # type: ignore[arg-type]
        ranker=Ranker(
            view,  # type: ignore[arg-type]
            fusion,  # type: ignore[arg-type]
            DEFAULTS.keyword_weight,
            DEFAULTS.rrf_k,
            candidates,
            keywords,
        ),
        executor=inference,
        image_executor=inference,
        url_prefix="/images",
        url_signer=UrlSigner(None, 3600),
        max_depth=DEFAULTS.max_depth,
        max_pixels=Limit(DEFAULTS.max_pixels, "search.max_pixels"),
        query_cache_size=query_cache_size,
    )
