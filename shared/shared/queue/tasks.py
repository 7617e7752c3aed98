"""Task names: the API and the worker meet only through these strings, never by import."""

INDEX_IMAGES = "ingestworker.index_images"
RECONCILE = "ingestworker.reconcile"
FETCH_URLS = "ingestworker.fetch_urls"
