from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

SEARCH_SECONDS = Histogram(
    "imagesearch_search_seconds",
    "time of a query's stages: encode (the model) and vector_search (Milvus)",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class QueryCacheLookups(Collector):
    """Lookups of the text query vector cache (an lru_cache), read from its own counts when
    scraped: imagesearch_search_query_cache_lookups_total{result="hit"|"miss"}."""

    def __init__(self) -> None:
        self.source: Callable[[], Any] | None = None  # the live service's cache_info

    def collect(self) -> Iterator[CounterMetricFamily]:
        counter = CounterMetricFamily(
            "imagesearch_search_query_cache_lookups",
            "text queries answered from the query vector cache (hit) or by the model (miss)",
            labels=["result"],
        )
        if self.source is not None:
            info = self.source()
            counter.add_metric(["hit"], info.hits)
            counter.add_metric(["miss"], info.misses)
        yield counter


QUERY_CACHE = QueryCacheLookups()
REGISTRY.register(QUERY_CACHE)
