"""Task names: the API and the worker meet only through these strings, never by import."""

INDEX_IMAGES = "ingestworker.index_images"
# the same work, never gathered with other tasks: for batches that crashed a worker
INDEX_ISOLATED = "ingestworker.index_isolated"
RECONCILE = "ingestworker.reconcile"
FETCH_URLS = "ingestworker.fetch_urls"
# enrichment (text in the picture, place, tags) of indexed images, on its own queue
ENRICH_IMAGES = "ingestworker.enrich_images"
ENRICH_QUEUE = "enrich"
# a candidate model evaluated on a sample of the library (in the background, beside enrichment)
EVALUATE_MODEL = "ingestworker.evaluate_model"
