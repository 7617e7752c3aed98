from prometheus_client import Histogram

SEARCH_SECONDS = Histogram(
    "imagesearch_search_seconds",
    "time of a query's stages: encode (the model) and vector_search (Milvus)",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
